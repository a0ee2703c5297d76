//! The layout ARCHITECTURE.md promises, checked on the source tree: every demo has the same
//! file set; training and inference run headless (no demo file but its panel imports the UI);
//! a demo's command line does not import the top-level one, and no demo imports `bench` (the
//! benchmarks call into the demos and `training`, never the reverse).

use std::path::{Path, PathBuf};

fn demo_dirs() -> Vec<PathBuf> {
    let demos = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demos");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&demos)
        .expect("src/demos")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn demo_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in demo_dirs() {
        rust_files(&dir, &mut files);
    }
    files.sort();
    files
}

/// What every demo writes: the forward model, the classical inverse, the networks, every method
/// behind one call, the training it hands the shared runner, the comparison table, the command
/// line, the panel and the registration.
const DEMO_FILES: [&str; 9] = [
    "mod.rs",
    "sim.rs",
    "classical.rs",
    "model.rs",
    "methods.rs",
    "train.rs",
    "bench.rs",
    "cli.rs",
    "view",
];

/// What a demo may add, where it has one: its file formats, metrics of its own, the structure
/// its forward model runs on (ldpc's code), a reader of training images (mri), what its panel
/// draws of a fitted model where that is more than the methods' results (flows' walk).
const OPTIONAL_DEMO_FILES: [&str; 5] =
    ["io.rs", "metrics.rs", "code.rs", "images.rs", "inspect.rs"];

/// The folders `demos::registry()` registers (`NAME::entry(),` lines of src/demos/mod.rs).
fn registered() -> Vec<String> {
    let source = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demos/mod.rs"));
    source
        .lines()
        .filter_map(|line| line.trim().strip_suffix("::entry(),"))
        .map(str::to_owned)
        .collect()
}

/// A registered demo has every file of the contract; a folder being built (not registered
/// yet) may have fewer, but nothing outside the contract.
#[test]
fn every_demo_has_the_same_file_set() {
    let dirs = demo_dirs();
    let registered = registered();
    assert!(
        registered.len() >= 5,
        "{} registered demos",
        registered.len()
    );
    for dir in dirs {
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let required: &[&str] = if registered.iter().any(|r| r == folder) {
            &DEMO_FILES
        } else {
            &["mod.rs"]
        };
        for &name in required {
            let present = if name == "view" {
                dir.join("view.rs").is_file() || dir.join("view").is_dir()
            } else {
                dir.join(name).is_file()
            };
            assert!(present, "{} has no {name}", dir.display());
        }
        for entry in std::fs::read_dir(&dir).expect("demo folder") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            assert!(
                DEMO_FILES.contains(&name)
                    || name == "view.rs"
                    || OPTIONAL_DEMO_FILES.contains(&name),
                "{}: not a file of the demo contract (ARCHITECTURE.md)",
                path.display()
            );
        }
    }
}

#[test]
fn no_demo_imports_the_benchmarks() {
    for path in demo_files() {
        let source = read(&path);
        assert!(
            !source.contains("crate::bench") && !source.contains("inference_lab::bench"),
            "{} imports crate::bench: the benchmarks call into the demos, never the reverse",
            path.display()
        );
    }
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
        // view.rs (or view/) is the panel; a demo's mod.rs registers it.
        let in_view = path.components().any(|c| c.as_os_str() == "view");
        if name == "view.rs" || name == "mod.rs" || in_view {
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
