//! The layout ARCHITECTURE.md promises, checked on the source tree: training and inference run
//! headless (no demo file but its panel imports the UI), and a demo's command line does not
//! import the top-level one (no cycle between `src/cli.rs` and a demo).

use std::path::{Path, PathBuf};

fn demo_files() -> Vec<PathBuf> {
    let demos = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demos");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&demos).expect("src/demos") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("demo folder") {
            let path = file.expect("file").path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("readable source")
}

#[test]
fn only_a_demos_panel_and_registration_touch_the_ui() {
    let files = demo_files();
    assert!(
        files.iter().any(|p| p.ends_with("lorenz/sim.rs")),
        "the demo folders were not found"
    );
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // view.rs is the panel; mod.rs registers it.
        if name == "view.rs" || name == "mod.rs" {
            continue;
        }
        let source = read(&path);
        for ui_module in ["crate::ui", "crate::app", "crate::render", "egui"] {
            assert!(
                !source.contains(ui_module),
                "{} mentions `{ui_module}`: training, inference and the command line run \
                 headless",
                path.display()
            );
        }
    }
}

#[test]
fn no_demo_imports_the_top_level_command_line() {
    for path in demo_files() {
        assert!(
            !read(&path).contains("crate::cli"),
            "{} imports crate::cli: a demo's command line uses crate::demos::cli only",
            path.display()
        );
    }
}
