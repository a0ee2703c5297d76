//! UI tests: the real app driven through egui_kittest, as a user clicks and types.

use std::time::{Duration, Instant};

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use inference_lab::app::{InferenceLab, Settings, Startup};
use inference_lab::backend::ComputeChoice;
use inference_lab::demos;
use inference_lab::jobs::{JobError, JobPhase, spawn};
use inference_lab::render::PaintMode;

fn app(demo: Option<&str>) -> InferenceLab {
    app_opening(demo, None)
}

/// The app as `inference-lab [--demo NAME] [FILE]` opens it.
fn app_opening(demo: Option<&str>, example: Option<&std::path::Path>) -> InferenceLab {
    InferenceLab::new(
        Startup {
            compute: ComputeChoice::cpu("UI tests run on the CPU"),
            renderer_label: "kittest".to_owned(),
            paint_mode: PaintMode::Egui,
            demo: demo.map(str::to_owned),
            bench: None,
            animate: None,
            example: example.map(std::path::Path::to_owned),
        },
        Settings::default(),
    )
}

/// Held by the tests whose pictures depend on timing (the panels' snapshots: a table's
/// `seconds` column moves the layout) and by the one that trains, so that they never share
/// the two cores.
static TIMING_SENSITIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    TIMING_SENSITIVE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn harness(app: InferenceLab) -> Harness<'static, InferenceLab> {
    let mut harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(|ui, app: &mut InferenceLab| app.frame_ui(ui), app);
    harness.run_steps(3);
    harness
}

#[test]
fn welcome_page_explains_the_idea_and_lists_every_demo() {
    let harness = harness(app(None));
    harness.get_by_label("Inference, three ways");
    harness.get_by_label_contains("A forward model says how data arise");
    harness.get_by_label("compute: CPU");
    for demo in demos::panels() {
        harness.get_by_label(demo.title());
    }
    assert_eq!(harness.state().selected_demo(), None);
}

#[test]
fn the_welcome_page_opens_a_demo_when_the_demo_list_is_closed() {
    let mut harness = harness(app(None));
    harness.get_by_label("🖵 Presentation").click();
    harness.run_steps(20);
    assert!(!harness.state().settings.layout().side_bar);
    harness.get_by_label("▶ MRI reconstruction").click();
    harness.run_steps(3);
    assert_eq!(harness.state().selected_demo(), Some("mri"));
}

#[test]
fn every_side_bar_entry_opens_its_panel() {
    let mut harness = harness(app(None));
    for demo in demos::panels() {
        // The last entries may sit below a short side bar's fold.
        harness.get_by_label(demo.title()).scroll_to_me();
        // Let the scroll settle (egui animates it).
        harness.run_steps(20);
        harness.get_by_label(demo.title()).click();
        harness.run_steps(3);
        assert_eq!(harness.state().selected_demo(), Some(demo.name()));
        harness.get_by_label_contains(&demo.explanation()[..30]);
        let not_built = harness
            .query_by_label("This panel is not built yet.")
            .is_some();
        assert_eq!(not_built, !demo.is_built(), "{}", demo.name());
    }
    // The list scrolled down to the last demos: Welcome is above the fold now.
    harness.get_by_label("Welcome").scroll_to_me();
    harness.run_steps(20);
    harness.get_by_label("Welcome").click();
    harness.run_steps(2);
    assert_eq!(harness.state().selected_demo(), None);
}

#[test]
fn theme_switch_and_presentation_mode() {
    let mut harness = harness(app(None));
    assert!(harness.state().settings.dark);
    harness.get_by_label("☀ Light").click();
    harness.run_steps(2);
    assert!(!harness.state().settings.dark);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
    harness.get_by_label("🌙 Dark").click();
    harness.run_steps(2);
    assert!(harness.state().settings.dark);

    harness.get_by_label("🖵 Presentation").click();
    harness.run_steps(2);
    assert!(harness.state().settings.presentation);
    assert!((harness.ctx.zoom_factor() - 1.5).abs() < 1e-4);

    harness.key_press_modifiers(Modifiers::COMMAND, Key::Plus);
    harness.run_steps(2);
    assert!((harness.ctx.zoom_factor() - 1.75).abs() < 1e-4);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Minus);
    harness.run_steps(2);
    assert!((harness.ctx.zoom_factor() - 1.5).abs() < 1e-4);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num0);
    harness.run_steps(2);
    assert!(!harness.state().settings.presentation);
    assert!((harness.ctx.zoom_factor() - 1.0).abs() < 1e-4);
}

#[test]
fn settings_survive_a_restart() {
    let mut settings = Settings::default();
    settings.zoom_in();
    settings.dark = false;
    settings.last_demo = Some("lorenz".into());
    let json = serde_json::to_string(&settings).expect("serialize");
    let restored: Settings = serde_json::from_str(&json).expect("deserialize");
    let app = InferenceLab::new(
        Startup {
            compute: ComputeChoice::cpu("test"),
            renderer_label: "kittest".into(),
            paint_mode: PaintMode::Egui,
            demo: None,
            bench: None,
            animate: None,
            example: None,
        },
        restored,
    );
    let harness = harness(app);
    assert_eq!(harness.state().selected_demo(), Some("lorenz"));
    assert!((harness.ctx.zoom_factor() - 1.25).abs() < 1e-4);
}

#[test]
fn lorenz_timeline_follows_the_keyboard() {
    let mut harness = harness(app(Some("lorenz")));
    harness.get_by_label_contains("time step 0 /");
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 2 /");
    harness.key_press(Key::ArrowLeft);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 1 /");
    // When the learned inverse's job finishes, its iteration timeline shows a second play
    // button: count the buttons rather than expect exactly one.
    harness.key_press(Key::Space);
    harness.run_steps(2);
    assert!(harness.query_all_by_label("⏸").count() >= 1);
    harness.key_press(Key::Space);
    harness.run_steps(2);
    assert_eq!(harness.query_all_by_label("⏸").count(), 0);
    assert!(harness.query_all_by_label("▶").count() >= 1);
    harness.key_press(Key::Home);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 0 /");
    harness.key_press(Key::End);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 399 / 399");
}

/// A presenter's remote: PageDown steps the timeline and, at its end, opens the next panel;
/// PageUp steps back; B blanks the screen and Escape brings it back; B typed into a text field
/// does nothing of the kind.
#[test]
fn clicker_keys_step_the_timeline_change_panels_and_blank_the_screen() {
    let mut harness = harness(app(Some("lorenz")));
    harness.key_press(Key::End);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 399 / 399");
    harness.key_press(Key::PageUp);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 398 / 399");
    harness.key_press(Key::PageDown);
    harness.run_steps(2);
    harness.get_by_label_contains("time step 399 / 399");
    assert_eq!(harness.state().selected_demo(), Some("lorenz"));
    harness.key_press(Key::PageDown);
    harness.run_steps(3);
    assert_eq!(
        harness.state().selected_demo(),
        Some("mri"),
        "at the timeline's end PageDown opens the next panel"
    );
    harness.key_press(Key::B);
    harness.run_steps(2);
    assert!(harness.state().is_blank());
    harness.key_press(Key::Escape);
    harness.run_steps(2);
    assert!(!harness.state().is_blank());
    // Into a text field, B is a letter.
    harness
        .get_by_label("Load an image or a measured k-space")
        .click();
    harness.run_steps(3);
    let field = harness
        .query_all_by_role(egui::accesskit::Role::TextInput)
        .next()
        .expect("a path field");
    field.focus();
    harness.run_steps(1);
    harness.key_press(Key::B);
    harness.run_steps(2);
    assert!(!harness.state().is_blank());
}

/// "Export animation": ten steps of the timeline written as a GIF that decodes to ten frames of
/// the figure's size, the timeline left where the recorder put it, and a bad request refused
/// with a message.
#[test]
fn an_animation_of_ten_steps_decodes_to_ten_frames_of_the_figure() {
    use image::AnimationDecoder;
    use inference_lab::ui::animation::{AnimationSettings, request};
    let mut harness = harness(app(Some("lorenz")));
    settle_jobs(&mut harness);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("lorenz.gif");
    request(
        &harness.ctx,
        AnimationSettings {
            first: 5,
            last: Some(14),
            ..AnimationSettings::new(path.clone())
        },
    );
    step_until(&mut harness, "the animation", |h| {
        h.state().animation_note().is_some()
    });
    let note = harness.state().animation_note().cloned();
    assert!(
        note.as_ref()
            .is_some_and(|n| n.as_ref().is_ok_and(|m| m.contains("10 frames"))),
        "{note:?}"
    );
    harness.get_by_label_contains("time step 14 / 399");
    let rect = harness.state().figure_rect().expect("a panel");
    let ppp = harness.ctx.pixels_per_point();
    let file = std::io::BufReader::new(std::fs::File::open(&path).expect("written"));
    let frames = image::codecs::gif::GifDecoder::new(file)
        .expect("a GIF")
        .into_frames()
        .collect_frames()
        .expect("frames");
    assert_eq!(frames.len(), 10);
    let (w, h) = frames[0].buffer().dimensions();
    assert!(
        (w as f32 - rect.width() * ppp).abs() <= 1.0
            && (h as f32 - rect.height() * ppp).abs() <= 1.0,
        "frame {w}×{h} px, figure {rect:?} at {ppp} px/pt"
    );
    assert_ne!(
        frames[0].buffer().as_raw(),
        frames[9].buffer().as_raw(),
        "the frames follow the timeline"
    );
    // Past the timeline's end: refused with a message, nothing written.
    let late = dir.path().join("late.gif");
    request(
        &harness.ctx,
        AnimationSettings {
            first: 5000,
            ..AnimationSettings::new(late.clone())
        },
    );
    harness.run_steps(6);
    let note = harness.state().animation_note().cloned();
    assert!(
        note.as_ref()
            .is_some_and(|n| n.as_ref().is_err_and(|e| e.contains("past the timeline"))),
        "{note:?}"
    );
    assert!(!late.exists());
}

/// A prepared example: a TSP panel on other cities at another step, saved, then opened as
/// `inference-lab FILE` in a fresh window, shows the same picture (up to the seconds column)
/// and the same step; a file of another kind is refused with a message.
#[test]
fn a_saved_example_reopens_to_the_same_pixels() {
    let _serial = serial();
    let mut before = harness(app(Some("tsp")));
    settle_jobs(&mut before);
    before.get_by_label("New instance").click();
    settle_jobs(&mut before);
    before.key_press(Key::Home);
    for _ in 0..7 {
        before.key_press(Key::ArrowRight);
    }
    before.run_steps(4);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tsp-class.ilab");
    let ctx = before.ctx.clone();
    before.state_mut().save_example(&ctx, &path);
    before.run_steps(2);
    let saved = before.state().example_note().cloned();
    assert!(saved.as_ref().is_some_and(Result::is_ok), "{saved:?}");
    let step_label = "step 8 / ";
    before.get_by_label_contains(step_label);
    let pixels_before = before.render().expect("rendered");

    let mut after = harness(app_opening(None, Some(&path)));
    settle_jobs(&mut after);
    after.get_by_label_contains(step_label);
    let pixels_after = after.render().expect("rendered");
    assert_eq!(pixels_before.dimensions(), pixels_after.dimensions());
    let differing = pixels_before
        .pixels()
        .zip(pixels_after.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0).any(|(x, y)| x.abs_diff(y) > 8))
        .count();
    let share = differing as f64 / f64::from(pixels_before.width() * pixels_before.height());
    assert!(share < 0.005, "{:.2}% of the pixels differ", share * 100.0);

    // Dropped on a window showing another panel, the file opens there too.
    #[derive(Debug)]
    struct Dropped(std::path::PathBuf);
    impl egui::DroppedFile for Dropped {
        fn path(&self) -> &std::path::Path {
            &self.0
        }
        fn bytes(&self) -> Result<Vec<u8>, String> {
            std::fs::read(&self.0).map_err(|e| e.to_string())
        }
    }
    let mut dropped_on = harness(app(Some("lorenz")));
    dropped_on
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.clone())));
    dropped_on.run_steps(2);
    assert_eq!(dropped_on.state().selected_demo(), Some("tsp"));

    // An example of a demo this release lacks, and a file that is no example: refused, said.
    let foreign = dir.path().join("foreign.ilab");
    std::fs::write(
        &foreign,
        r#"{"format": "inference-lab example", "version": 1, "demo": "quantum", "state": {}}"#,
    )
    .expect("write");
    let mut refused = harness(app_opening(Some("tsp"), Some(&foreign)));
    refused.run_steps(2);
    let note = refused.state().example_note().cloned();
    assert!(
        note.as_ref()
            .is_some_and(|n| n.as_ref().is_err_and(|e| e.contains("quantum"))),
        "{note:?}"
    );
    assert_eq!(refused.state().selected_demo(), Some("tsp"));
}

/// At a projector's 1280×720 (×1.5) LDPC's table and BER curves are below the fold: the Down key
/// (or "More below") brings them into view without scrolling by hand, Up goes back.
#[test]
fn the_down_key_brings_what_is_below_the_fold_into_view() {
    let _serial = serial();
    let mut harness = screen_harness("ldpc", [1280.0, 720.0], true);
    settle_jobs(&mut harness);
    let table_visible = |h: &Harness<'static, InferenceLab>| {
        let (viewport, _) = h.state().figure_areas();
        let header = h
            .query_all_by_label_contains("UNSATISFIED CHECKS")
            .next()
            .map(|n| n.rect());
        header.is_some_and(|r| viewport.contains_rect(r))
    };
    let curves_visible = |h: &Harness<'static, InferenceLab>| {
        let (viewport, _) = h.state().figure_areas();
        h.query_all_by_label_contains("BER (solid)")
            .next()
            .is_some_and(|n| viewport.contains_rect(n.rect()))
    };
    assert!(!curves_visible(&harness), "the curves start below the fold");
    harness.get_by_label("More below");
    harness.key_press(Key::ArrowDown);
    harness.run_steps(4);
    assert!(table_visible(&harness) && curves_visible(&harness));
    harness.key_press(Key::ArrowUp);
    harness.run_steps(4);
    assert!(!curves_visible(&harness));
}

/// The teaching defaults: on the first frame a panel opens on, the methods' pictures differ
/// (TSP's 50 cities, LDPC's small code with bursts, MRI's MR slice), so the first screen has
/// something to teach.
#[test]
fn defaults_differ_per_method_on_the_first_frame() {
    let _serial = serial();
    for (demo, methods) in [
        ("tsp", &["2opt", "am", "am+2opt"][..]),
        ("ldpc", &["BP (sum-product)", "neural-enhanced BP"][..]),
        (
            "mri",
            &["TV (MFISTA)", "RIM from TV", "RIM from zero filling"][..],
        ),
    ] {
        let mut harness = harness(app(Some(demo)));
        settle_jobs(&mut harness);
        let mut figures = Vec::new();
        for method in methods {
            // The button row above the figure (a table below may list the same names).
            harness
                .query_all_by_label(method)
                .min_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
                .unwrap_or_else(|| panic!("{demo}: no {method} button"))
                .click();
            harness.run_steps(4);
            let rect = harness.state().figure_rect().expect("a panel");
            let ppp = harness.ctx.pixels_per_point();
            let image = harness.render().expect("rendered");
            let figure = image::imageops::crop_imm(
                &image,
                (rect.left() * ppp) as u32,
                (rect.top() * ppp) as u32,
                (rect.width() * ppp) as u32,
                (rect.height() * ppp) as u32,
            )
            .to_image();
            if let Ok(dir) = std::env::var("UI_SCREENSHOT_DIR") {
                let _ = figure.save(format!("{dir}/{demo}-{}.png", figures.len()));
            }
            figures.push((method, figure));
        }
        for (i, (a, fa)) in figures.iter().enumerate() {
            for (b, fb) in &figures[i + 1..] {
                let differing = fa
                    .pixels()
                    .zip(fb.pixels())
                    .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > 16))
                    .count();
                let share = differing as f64 / f64::from(fa.width() * fa.height());
                assert!(
                    share > 0.002,
                    "{demo}: {a} and {b} look the same ({:.3}% of the figure differs)",
                    100.0 * share
                );
            }
        }
    }
}

/// Every panel saves what it shows as an example, and a fresh window opens it on that panel.
#[test]
fn every_panel_keeps_a_prepared_example() {
    let dir = tempfile::tempdir().expect("dir");
    for name in inference_lab::demos::names() {
        let mut before = harness(app(Some(name)));
        let path = dir.path().join(format!("{name}.ilab"));
        let ctx = before.ctx.clone();
        before.state_mut().save_example(&ctx, &path);
        let saved = before.state().example_note().cloned();
        assert!(
            saved.as_ref().is_some_and(Result::is_ok),
            "{name}: {saved:?}"
        );
        let after = harness(app_opening(None, Some(&path)));
        let opened = after.state().example_note().cloned();
        assert!(
            opened.as_ref().is_some_and(Result::is_ok),
            "{name}: {opened:?}"
        );
        assert_eq!(after.state().selected_demo(), Some(name));
    }
}

/// The app draws every panel's *Export figure* section below its controls (no panel keeps its
/// own), and opening it offers the PNG, animation and CSV exports.
#[test]
fn every_panel_offers_the_shared_export_section() {
    for name in inference_lab::demos::names() {
        let mut harness = harness(app(Some(name)));
        let header = harness.get_by_label("Export figure");
        header.scroll_to_me();
        harness.run_steps(2);
        harness.get_by_label("Export figure").click();
        harness.run_steps(3);
        for button in ["Export PNG", "Export animation", "Export CSV"] {
            assert!(
                harness.query_all_by_label_contains(button).next().is_some(),
                "{name}: no {button}"
            );
        }
    }
}

#[test]
fn lorenz_resimulate_changes_the_trajectory() {
    let mut harness = harness(app(Some("lorenz")));
    let before = format!("{:?}", harness.get_by_label_contains("truth ("));
    harness.get_by_label("Re-simulate (new seed)").click();
    harness.run_steps(3);
    let after = format!("{:?}", harness.get_by_label_contains("truth ("));
    assert!(before.contains("truth ("), "{before}");
    assert_ne!(before, after);
}

fn step_until(
    harness: &mut Harness<'static, InferenceLab>,
    what: &str,
    done: impl Fn(&Harness<'static, InferenceLab>) -> bool,
) {
    // Generous: a failure is slow, a pass is as fast as the job (the causal batch takes ~10 s;
    // CI's two cores, shared with the other tests, have taken over a minute for a first step).
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(harness) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
}

#[test]
fn status_bar_shows_progress_and_cancels_a_job() {
    let mut harness = harness(app(None));
    harness.get_by_label("No jobs running.");
    let handle = spawn(
        "training test",
        || {},
        |ctx| -> Result<(), JobError> {
            let mut step = 0;
            loop {
                ctx.check_cancelled()?;
                step += 1;
                ctx.report_step(step, Some(1_000_000), Some(1.0 / step as f64));
                std::thread::sleep(Duration::from_millis(2));
            }
        },
    )
    .expect("spawn");
    harness.state_mut().jobs_mut().register(handle.shared());
    step_until(&mut harness, "progress", |h| {
        h.query_by_label_contains("loss").is_some()
    });
    harness.get_by_label("training test");
    harness.get_by_label("Cancel").click();
    harness.step();
    let shared = std::sync::Arc::clone(handle.shared());
    assert_eq!(handle.wait(), Err(JobError::Cancelled));
    assert_eq!(shared.state().phase, JobPhase::Cancelled);
    step_until(&mut harness, "the cancelled label", |h| {
        h.query_by_label("cancelled").is_some()
    });
}

#[test]
fn a_crashing_job_is_reported_and_the_window_lives_on() {
    let mut harness = harness(app(None));
    let handle = spawn(
        "crashing job",
        || {},
        |_| -> Result<(), JobError> { panic!("tensor shape mismatch") },
    )
    .expect("spawn");
    harness.state_mut().jobs_mut().register(handle.shared());
    let _ = handle.wait();
    step_until(&mut harness, "the failure", |h| {
        h.query_by_label_contains("tensor shape mismatch").is_some()
    });
    harness.get_by_label("Dismiss").click();
    harness.run_steps(2);
    harness.get_by_label("No jobs running.");
}

/// A pixel snapshot of the welcome page (rendered with wgpu on Mesa's lavapipe in CI).
#[test]
fn welcome_page_snapshot() {
    let mut harness = harness(app(None));
    harness.run_steps(2);
    harness.snapshot("welcome");
}

/// The model-file controls: a typed path, Load, and a corrupt file refused with a message.
#[test]
fn loading_a_corrupt_model_shows_why() {
    use inference_lab::ui::model_io::{ModelAction, ModelFilesUi};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.mpk");
    std::fs::write(&path, b"definitely not a model").expect("write");
    let widget = ModelFilesUi::new(&path.display().to_string());
    let mut harness = Harness::new_ui_state(
        |ui, widget: &mut ModelFilesUi| {
            if let Some(ModelAction::Load(p)) = widget.ui(ui, false) {
                widget.status = Some(
                    inference_lab::model_file::read(&p, "lorenz", "hybrid")
                        .map(|_| "loaded".to_owned())
                        .map_err(|e| format!("{e:#}")),
                );
            }
        },
        widget,
    );
    harness.run_steps(2);
    harness.get_by_label("Load model").click();
    harness.run_steps(3);
    harness.get_by_label_contains("not an inference-lab model file");
}

/// The Lorenz panel runs the classical inverses and shows their scores beside the oracle.
#[test]
fn lorenz_panel_scores_the_classical_inverses() {
    let harness = harness(app(Some("lorenz")));
    for method in [
        "EKF (Taylor J=3)",
        "EKS (Taylor J=3)",
        "UKS (Taylor J=3)",
        "EKS (exact RK4 dynamics)",
    ] {
        harness.get_by_label(method);
    }
    harness.get_by_label("oracle");
}

/// The MRI panel reconstructs with every method, shows each one's steps and scrubs them.
/// The MRI panel's caption "TV (MFISTA) step N of M" as (N, M).
fn tv_step(harness: &Harness<'static, InferenceLab>) -> (usize, usize) {
    let caption = harness
        .query_by_label_contains("TV (MFISTA) step")
        .and_then(|node| node.value().or_else(|| node.accesskit_node().label()))
        .expect("the TV caption");
    let numbers: Vec<usize> = caption
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    match numbers[..] {
        [step, count] => (step, count),
        _ => panic!("unexpected caption {caption:?}"),
    }
}

/// Each method's label is on screen at least `at_least` times (its table row, its button).
fn assert_methods_listed(
    harness: &Harness<'static, InferenceLab>,
    methods: &[&str],
    at_least: usize,
) {
    for method in methods {
        assert!(
            harness.query_all_by_label(method).count() >= at_least,
            "{method} missing"
        );
    }
}

#[test]
fn mri_panel_reconstructs_and_scrubs_the_steps() {
    let mut harness = harness(app(Some("mri")));
    step_until(&mut harness, "the reconstructions", |h| {
        h.query_by_label_contains("this step: PSNR").is_some()
    });
    // Every method has a row in the metrics table (and a button to show it).
    assert_methods_listed(
        &harness,
        &[
            "zero-filled",
            "gradient ascent",
            "TV (MFISTA)",
            "U-Net",
            "RIM from TV",
            "RIM from zero filling",
        ],
        2,
    );
    harness.get_by_label("RIM from zero filling step 8 of 8");
    // The learned optimizer's 8 steps, counted in TV iterations.
    assert!(
        harness.query_by_label_contains("rim-zf: 8 steps").is_some(),
        "no comparison of rim-zf's steps with TV's iterations"
    );
    let show_tv = harness
        .query_all_by_label("TV (MFISTA)")
        .next()
        .expect("TV button");
    show_tv.click();
    harness.run_steps(3);
    // TV runs until its objective settles: its length depends on the image.
    let (last, count) = tv_step(&harness);
    assert!(
        count > 10 && last == count,
        "TV shown at step {last} of {count}"
    );
    harness.key_press(Key::Home);
    harness.run_steps(2);
    assert_eq!(tv_step(&harness), (1, count));
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    assert_eq!(tv_step(&harness), (2, count));
    // A new mask re-measures and reconstructs again.
    harness.get_by_label("radial spokes").click();
    harness.run_steps(2);
    step_until(&mut harness, "the radial reconstructions", |h| {
        h.query_by_label_contains("this step: PSNR").is_some()
    });
}

#[test]
fn nothing_runs_past_a_1000_px_window() {
    for demo in ["mri", "lorenz"] {
        let width = 1000.0;
        let mut harness = Harness::builder().with_size([width, 800.0]).build_ui_state(
            |ui, app: &mut InferenceLab| app.frame_ui(ui),
            app(Some(demo)),
        );
        settle_jobs(&mut harness);
        assert_nothing_past_the_right_edge(&harness, &format!("{demo} at {width} px"));
        assert_figures_stay_in_their_area(&harness, &format!("{demo} at {width} px"));
        let sliders: Vec<egui::Rect> = harness
            .query_all_by_role(egui::accesskit::Role::Slider)
            .map(|node| node.rect())
            .collect();
        assert!(sliders.len() >= 3, "{demo}: {} sliders", sliders.len());
        for rect in sliders {
            assert!(
                rect.max.x <= width,
                "{demo}: a slider reaches x = {}",
                rect.max.x
            );
        }
    }
}

/// No widget reaches past the window's right edge (clipped controls, columns, labels).
fn assert_nothing_past_the_right_edge(harness: &Harness<'static, InferenceLab>, what: &str) {
    let right_edge = harness.ctx.content_rect().max.x;
    for node in harness.root().children_recursive() {
        if node.accesskit_node().bounding_box().is_none() {
            continue;
        }
        let right = node.rect().max.x;
        assert!(
            right <= right_edge + 1.0,
            "{what}: {:?} reaches x = {right} of {right_edge}",
            node.accesskit_node().label(),
        );
    }
}

/// No widget that starts in the figure area runs under the controls panel beside it.
fn assert_figures_stay_in_their_area(harness: &Harness<'static, InferenceLab>, what: &str) {
    let (area, _) = harness.state().figure_areas();
    for node in harness.root().children_recursive() {
        if node.accesskit_node().bounding_box().is_none() {
            continue;
        }
        let rect = node.rect();
        let starts_inside =
            area.x_range().contains(rect.min.x) && area.y_range().contains(rect.min.y);
        // The controls panel's resize handle straddles the edge by a few points.
        assert!(
            !starts_inside || rect.max.x <= area.max.x + 4.0,
            "{what}: {:?} {:?} at {rect:?} reaches x = {} past the figure area's {}",
            node.accesskit_node().role(),
            node.accesskit_node().label(),
            rect.max.x,
            area.max.x
        );
    }
}

/// Steps until every job the panel started has ended, then dismisses them, so the status bar
/// reads the same in every run.
/// The app on `demo` in a window of `pixels` (presentation mode: ×1.5).
fn screen_harness(
    demo: &str,
    pixels: [f32; 2],
    presentation: bool,
) -> Harness<'static, InferenceLab> {
    let mut app = app(Some(demo));
    app.settings = Settings {
        presentation,
        ..Settings::default()
    };
    let zoom = app.settings.zoom();
    // The window in points: kittest does not shrink its screen by egui's zoom, so presentation
    // mode's ×1.5 is the window's size divided by it (drawn at ×1.5).
    Harness::builder()
        .with_size([pixels[0] / zoom, pixels[1] / zoom])
        .build_ui_state(|ui, app: &mut InferenceLab| app.frame_ui(ui), app)
}

fn settle_jobs(harness: &mut Harness<'static, InferenceLab>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    harness.run_steps(4);
    // Idle for several frames in a row: a panel may start its next job (e.g. its curves) a
    // frame after the first one ends, and a loaded machine shows that gap.
    let mut idle_frames = 0;
    while idle_frames < 10 {
        assert!(Instant::now() < deadline, "the panel's jobs did not end");
        if harness.state_mut().jobs_mut().any_running() {
            idle_frames = 0;
            std::thread::sleep(Duration::from_millis(20));
        } else {
            idle_frames += 1;
        }
        harness.step();
    }
    let ids: Vec<u64> = harness
        .state_mut()
        .jobs_mut()
        .jobs()
        .iter()
        .map(|j| j.id)
        .collect();
    for id in ids {
        harness.state_mut().jobs_mut().dismiss(id);
    }
    // Let the results land and the side panels finish sliding.
    harness.run_steps(20);
}

/// Every built panel, driven by the registry, at a projector's 1280×720 in presentation mode
/// (×1.5) and at 1920×1080 (×1): the figures are visible without scrolling and take the window,
/// nothing runs past its edges, body text is large, and a pixel snapshot catches the rest.
/// The snapshots allow 0.5% of the pixels to differ: the `seconds` column is measured each run.
#[test]
fn panels_fill_a_projector_and_a_desk_screen() {
    let _serial = serial();
    let mut snapshots = egui_kittest::SnapshotResults::new();
    for demo in demos::panels().into_iter().filter(|d| d.is_built()) {
        for (pixels, presentation, name) in [
            ([1280.0, 720.0], true, "1280x720-presentation"),
            ([1920.0, 1080.0], false, "1920x1080"),
        ] {
            let mut harness = screen_harness(demo.name(), pixels, presentation);
            let zoom = harness.state().settings.zoom();
            settle_jobs(&mut harness);
            let screen = harness.ctx.content_rect();
            let what = format!("{} at {name}", demo.name());
            let (viewport, figure) = harness.state().figure_areas();
            let visible = figure.intersect(viewport);
            let share = visible.area() / screen.area();
            let least = if presentation { 0.6 } else { 0.55 };
            eprintln!(
                "{what}: figure {figure:?}, {:.0}% of the window",
                100.0 * share
            );
            assert!(
                share >= least,
                "{what}: the figure takes {:.0}%",
                100.0 * share
            );
            assert_nothing_past_the_right_edge(&harness, &what);
            let body = harness
                .ctx
                .global_style()
                .text_styles
                .get(&egui::TextStyle::Body)
                .map_or(0.0, |f| f.size);
            if presentation {
                assert!(body * zoom >= 18.0, "{what}: body text {} px", body * zoom);
            }
            harness.snapshot_options(
                format!("{}-{name}", demo.name()),
                &egui_kittest::SnapshotOptions::new()
                    .max_failed_pixels((screen.area() * 0.005) as usize),
            );
            snapshots.extend_harness(&mut harness);
        }
    }
    if let Err(failed) = snapshots.into_result() {
        panic!("{failed}");
    }
}

/// Presentation mode opens on the figures alone; Ctrl+J and Ctrl+B bring back the controls and
/// the demo list, each mode remembering its own choice.
#[test]
fn presentation_mode_shows_the_figures_and_shortcuts_toggle_the_panels() {
    let mut harness = harness(app(Some("lorenz")));
    harness.run_steps(10);
    assert!(harness.query_by_label("Re-simulate (new seed)").is_some());
    harness.get_by_label("🖵 Presentation").click();
    harness.run_steps(20);
    let layout = harness.state().settings.layout();
    assert!(!layout.side_bar && !layout.controls && !layout.explanation);
    assert!(harness.query_by_label("Re-simulate (new seed)").is_none());
    assert!(
        harness.query_by_label("MRI reconstruction").is_none(),
        "the demo list is shut"
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::J);
    harness.run_steps(20);
    assert!(harness.query_by_label("Re-simulate (new seed)").is_some());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::B);
    harness.run_steps(20);
    harness.get_by_label("MRI reconstruction");
    harness.get_by_label("⚙ Controls").click();
    harness.run_steps(20);
    assert!(harness.query_by_label("Re-simulate (new seed)").is_none());
    // Back at ×1 the desk layout is as it was.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num0);
    harness.run_steps(20);
    assert_eq!(
        harness.state().settings.layout(),
        inference_lab::ui::panel_layout::PanelLayout::DESK
    );
}

/// Every character the app's strings use has a glyph in the bundled fonts (kittest would panic
/// on a missing one, the window would draw a box): checked over the panels' and widgets' source,
/// comments aside.
#[test]
fn every_character_in_the_ui_has_a_glyph() {
    let ctx = egui::Context::default();
    let _ = ctx.run_ui(Default::default(), |_| {});
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("app.rs")];
    // The widgets and every demo's folder.
    let mut dirs = vec![root.join("ui")];
    for entry in std::fs::read_dir(root.join("demos")).expect("src/demos") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    for dir in dirs {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            files.push(entry.expect("entry").path());
        }
    }
    let mut missing = Vec::new();
    for path in files
        .iter()
        .filter(|p| p.ends_with("view.rs") || !p.starts_with(root.join("demos")))
    {
        let source = std::fs::read_to_string(path).expect("source");
        for line in source.lines() {
            let code = line.split("//").next().unwrap_or("");
            for c in code.chars().filter(|c| !c.is_ascii()) {
                let font = egui::FontId::proportional(15.0);
                if !ctx.fonts_mut(|f| f.has_glyph(&font, c)) {
                    missing.push(format!("{c:?} (U+{:04X}) in {}", c as u32, path.display()));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "no glyph for: {missing:#?}");
}

/// Waits for the panel's jobs; none may have crashed (a failure with a message is an answer).
fn assert_jobs_end_without_a_crash(harness: &mut Harness<'static, InferenceLab>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(240);
    while harness.state_mut().jobs_mut().any_running() {
        assert!(Instant::now() < deadline, "{what}: jobs did not end");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    for job in harness.state_mut().jobs_mut().jobs() {
        if let JobPhase::Failed(why) = job.state().phase {
            assert!(!why.contains("crashed"), "{what}: {why}");
        }
    }
    settle_jobs(harness);
}

/// Every slider of every built panel set to far below and far above its range (as assistive
/// technology or a typed value can): the panel clamps it and computes, and no job crashes.
#[test]
fn every_slider_at_its_extremes_gives_a_result_not_a_crash() {
    for entry in demos::registry() {
        if !(entry.panel)().is_built() {
            continue;
        }
        let mut harness = harness(app(Some(entry.name)));
        settle_jobs(&mut harness);
        for extreme in [-1e12, 1e12] {
            let sliders = harness
                .query_all_by_role(egui::accesskit::Role::Slider)
                .count();
            assert!(sliders >= 3, "{}: {sliders} sliders", entry.name);
            let values = |harness: &Harness<'static, InferenceLab>| -> Vec<Option<f64>> {
                harness
                    .query_all_by_role(egui::accesskit::Role::Slider)
                    .map(|node| node.accesskit_node().numeric_value())
                    .collect()
            };
            let before = values(&harness);
            for i in 0..sliders {
                if let Some(slider) = harness
                    .query_all_by_role(egui::accesskit::Role::Slider)
                    .nth(i)
                {
                    slider.set_value_accesskit(extreme);
                }
                harness.run_steps(2);
            }
            let after = values(&harness);
            assert_ne!(before, after, "{}: the sliders did not move", entry.name);
            assert_jobs_end_without_a_crash(&mut harness, &format!("{} at {extreme}", entry.name));
        }
    }
}

/// The MRI panel given degenerate files by a user: an image too small for the readers (a
/// message), and a 9×9 measurement whose mask samples nothing, then everything (every method
/// computes; none crashes).
#[test]
fn the_mri_panel_takes_tiny_odd_and_empty_measurements() {
    use inference_lab::demos::mri::images::phantom;
    use inference_lab::demos::mri::io::{write_image, write_kspace, write_mask};
    use inference_lab::demos::mri::sim::{Fourier, Mask};
    let dir = tempfile::tempdir().expect("tempdir");
    let tiny = dir.path().join("tiny.png");
    write_image(&tiny, &phantom(4, 1)).expect("image");
    let truth = phantom(9, 2);
    let fourier = Fourier::new(9);
    let mut harness = harness(app(Some("mri")));
    settle_jobs(&mut harness);
    harness
        .get_by_label("Load an image or a measured k-space")
        .click();
    harness.run_steps(3);
    let type_into = |harness: &mut Harness<'static, InferenceLab>, field: usize, text: &str| {
        let node = harness
            .query_all_by_role(egui::accesskit::Role::TextInput)
            .nth(field)
            .expect("path field");
        node.focus();
        harness.run_steps(1);
        // Clear what an earlier round typed.
        for _ in 0..200 {
            harness.key_press(Key::Backspace);
        }
        harness
            .query_all_by_role(egui::accesskit::Role::TextInput)
            .nth(field)
            .expect("path field")
            .type_text(text);
        harness.run_steps(2);
    };
    type_into(&mut harness, 0, &tiny.display().to_string());
    harness.get_by_label("Load image").click();
    harness.run_steps(3);
    harness.get_by_label_contains("outside 8..=1024");
    for sampled in [false, true] {
        let mask = Mask {
            side: 9,
            sampled: vec![sampled; 81],
        };
        let kspace = dir.path().join(format!("k{sampled}.npy"));
        let mask_path = dir.path().join(format!("m{sampled}.png"));
        write_kspace(&kspace, 9, &fourier.measure(&truth, &mask)).expect("kspace");
        write_mask(&mask_path, &mask).expect("mask");
        for (field, path) in [(1, &kspace), (2, &mask_path)] {
            type_into(&mut harness, field, &path.display().to_string());
        }
        harness.get_by_label("Use k-space").click();
        harness.run_steps(4);
        assert_jobs_end_without_a_crash(&mut harness, &format!("9×9, sampled {sampled}"));
        harness.get_by_label_contains(&format!("k{sampled}.npy"));
    }
}

/// The LDPC panel decodes a bursty frame with every method, and the timeline scrubs the
/// iterations of the decoder shown (the status line names the iteration).
#[test]
fn ldpc_panel_decodes_and_scrubs_the_iterations() {
    let mut harness = harness(app(Some("ldpc")));
    step_until(&mut harness, "the decodings", |h| {
        h.query_by_label_contains("unsatisfied checks (yellow)")
            .is_some()
    });
    assert_methods_listed(
        &harness,
        &[
            "BP (sum-product)",
            "min-sum",
            "neural BP",
            "neural-enhanced BP",
        ],
        2,
    );
    harness
        .query_all_by_label("BP (sum-product)")
        .next()
        .expect("BP button")
        .click();
    harness.run_steps(3);
    harness.key_press(Key::Home);
    harness.run_steps(2);
    // The status line is the only label that names the decoder, the code and the iteration.
    assert!(
        harness
            .query_by_label_contains("BP (sum-product): peg-48-24 on")
            .is_some()
            && harness.query_by_label_contains("iteration 0 of").is_some(),
        "the timeline did not go to BP's iteration 0"
    );
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("iteration 1 of").is_some());
    // Another code decodes again.
    harness.get_by_label("ccsds-128-64").click();
    harness.run_steps(2);
    step_until(&mut harness, "the CCSDS decodings", |h| {
        h.query_by_label_contains(": ccsds-128-64 on").is_some()
    });
    assert_jobs_end_without_a_crash(&mut harness, "ldpc");
}

#[test]
fn tsp_panel_solves_and_scrubs_the_timeline() {
    let mut harness = harness(app(Some("tsp")));
    step_until(&mut harness, "the tours", |h| {
        h.query_by_label_contains("final length").is_some()
    });
    assert_methods_listed(
        &harness,
        &["nearest neighbour", "farthest insertion", "2-opt"],
        1,
    );
    // It opens on 50 cities, beyond the exact solver, and says so.
    harness.get_by_label_contains("Held–Karp (exact) runs up to 20 cities");
    harness
        .query_all_by_label("nn")
        .next()
        .expect("the method's button")
        .click();
    harness.run_steps(3);
    harness.key_press(Key::Home);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("1 of 50 cities placed")
            .is_some(),
        "the timeline did not go to the first step"
    );
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("2 of 50 cities placed")
            .is_some()
    );
    harness
        .query_all_by_label("2opt")
        .next()
        .expect("2-opt's button")
        .click();
    harness.run_steps(3);
    assert!(
        harness.query_by_label_contains("2-opt move").is_some(),
        "2-opt's last step is its last move"
    );
    // A TSPLIB instance solves again, with its proven optimum.
    harness.get_by_label("eil51").click();
    step_until(&mut harness, "the eil51 tours", |h| {
        h.query_by_label_contains("on eil51 (51 cities)").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("over the optimum")
            .is_some()
    );
    assert_jobs_end_without_a_crash(&mut harness, "tsp");
}

#[test]
fn causal_panel_infers_and_scrubs_the_adaptation() {
    let mut harness = harness(app(Some("causal")));
    step_until(&mut harness, "the inferred graphs", |h| {
        h.query_by_label_contains("adaptation steps, pooled AUROC")
            .is_some()
    });
    assert_methods_listed(
        &harness,
        &[
            "Granger (F-test)",
            "ACD encoder",
            "ACD + test-time adaptation",
        ],
        1,
    );
    harness.key_press(Key::Home);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("after 0 adaptation steps")
            .is_some(),
        "the timeline did not go to the encoder's answer"
    );
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("after 1 adaptation steps")
            .is_some()
    );
    harness
        .query_all_by_label("granger")
        .next()
        .expect("Granger's button")
        .click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("particles: Granger")
            .is_some(),
        "the drawing did not switch to Granger's graph"
    );
    harness.get_by_label("Re-simulate").click();
    harness.run_steps(2);
    assert_jobs_end_without_a_crash(&mut harness, "causal");
    assert!(
        harness
            .query_by_label_contains("particles: Granger")
            .is_some(),
        "the new samples have no graph drawn"
    );
}

#[test]
fn flows_panel_shows_the_ledger_scrubs_the_layers_and_trains_an_edited_stack() {
    let _serial = serial();
    let mut harness = harness(app(Some("flows")));
    step_until(&mut harness, "the ledger", |h| {
        h.query_by_label_contains("Algorithm 1 at (").is_some()
            && h.query_by_label_contains("x after").is_some()
    });
    assert_methods_listed(
        &harness,
        &[
            "Gaussian mixture (EM)",
            "RealNVP flow",
            "abs surjection + flow",
            "VAE layer + flow (ELBO) — a bound",
            "+ ln N(z; 0, I), the base",
        ],
        1,
    );
    // The timeline walks the shown flow's layers from x to the base.
    harness.key_press(Key::Home);
    harness.run_steps(2);
    harness.get_by_label_contains("x after 0 of");
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    harness.get_by_label_contains("x after 1 of");
    harness.key_press(Key::End);
    harness.run_steps(2);
    let base = harness
        .query_by_label_contains("x after")
        .map(|n| format!("{n:?}"))
        .unwrap_or_default();
    assert!(base.contains("x after 16 of 16"), "{base}");
    if let Ok(dir) = std::env::var("UI_SCREENSHOT_DIR")
        && let Ok(image) = harness.render()
    {
        image
            .save(std::path::Path::new(&dir).join("flows-at-the-base.png"))
            .expect("save the picture");
    }
    // The mixture's timeline is EM's iterations.
    harness
        .query_all_by_label("Gaussian mixture (EM)")
        .next()
        .expect("the mixture's button")
        .click();
    step_until(&mut harness, "EM's timeline", |h| {
        h.query_all_by_label_contains("; EM iteration ")
            .next()
            .is_some()
    });
    // Edit the stack (a preset, then one more layer) and train it briefly.
    harness.get_by_label("vae").click();
    harness.run_steps(2);
    harness.get_by_label("Add layer").click();
    harness.run_steps(2);
    harness.get_by_label("17. affine coupling");
    harness.get_by_label("Train the stack, save, load").click();
    harness.run_steps(3);
    harness.get_by_label("Train").click();
    step_until(&mut harness, "the trained stack", |h| {
        h.query_by_label_contains("trained the flow model")
            .is_some()
    });
    step_until(&mut harness, "its row", |h| {
        h.query_all_by_label_contains("9 affine couplings")
            .next()
            .is_some()
    });
}

#[test]
fn vae_panel_infers_scrubs_and_takes_a_drawn_digit() {
    let mut harness = harness(app(Some("vae")));
    step_until(&mut harness, "the posterior", |h| {
        h.query_by_label_contains("log p(x) =").is_some()
    });
    assert_methods_listed(
        &harness,
        &[
            "Exact Bayes (grid)",
            "Per-image VI",
            "Encoder",
            "Encoder + gradient steps",
            "Iterative amortized",
        ],
        1,
    );
    harness.key_press(Key::Home);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("Per-image VI at step 0")
            .is_some(),
        "the timeline did not go to the fit's start"
    );
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("Per-image VI at step 1")
            .is_some()
    );
    harness
        .query_all_by_label("iterative")
        .next()
        .expect("the refiner's button")
        .click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("Iterative amortized at step 5")
            .is_some(),
        "the refiner's last step is its fifth"
    );
    // Draw a stroke on a blank canvas: the drawn digit is inferred when drawing is done.
    harness.get_by_label("Clear").click();
    harness.run_steps(2);
    let input = harness.get_by_label("input").rect();
    let canvas = egui::pos2(input.center().x, input.top() - 30.0);
    harness.hover_at(canvas);
    harness.drag_at(canvas);
    harness.hover_at(canvas + egui::vec2(0.0, 20.0));
    harness.drop_at(canvas + egui::vec2(0.0, 20.0));
    harness.run_steps(2);
    harness.get_by_label("Done drawing").click();
    step_until(&mut harness, "the drawn digit's posterior", |h| {
        h.query_by_label_contains("drawn digit: log p(x) =")
            .is_some()
    });
    assert_jobs_end_without_a_crash(&mut harness, "vae");
}

/// The learned-model section every panel shares: Train starts a job whose loss and validation
/// curves are drawn as it runs, and Cancel stops it and says so. (`UI_SCREENSHOT_DIR=DIR` keeps
/// a picture of the running section, to look at.)
#[test]
fn the_shared_training_section_plots_live_curves_and_cancels() {
    let _serial = serial();
    let mut harness = harness(app(Some("ldpc")));
    // The panel's decode and BER curves first: on two loaded cores they would share the CPU
    // with the training's first steps.
    settle_jobs(&mut harness);
    harness
        .get_by_label("Learned decoders: train, save, load")
        .click();
    harness.run_steps(3);
    harness.get_by_label("Train").click();
    step_until(&mut harness, "the training curves", |h| {
        h.query_by_label_contains("loss (cross-entropy summed over iterations)")
            .is_some()
    });
    harness.run_steps(3);
    if let Ok(dir) = std::env::var("UI_SCREENSHOT_DIR")
        && let Ok(image) = harness.render()
    {
        image
            .save(std::path::Path::new(&dir).join("training-section.png"))
            .expect("save the picture");
    }
    harness.get_by_label("Cancel training").click();
    step_until(&mut harness, "the cancelled run", |h| {
        h.query_by_label_contains("training cancelled").is_some()
    });
}

#[test]
fn mimo_panel_detects_and_scrubs_the_iterations() {
    let mut harness = harness(app(Some("mimo")));
    step_until(&mut harness, "the detection", |h| {
        h.query_by_label_contains("at iteration").is_some()
    });
    assert_methods_listed(
        &harness,
        &[
            "Zero forcing",
            "LMMSE",
            "MMSE-SIC (V-BLAST)",
            "OAMP",
            "ML (sphere decoder)",
            "DetNet",
            "OAMP-Net2",
            "RE-MIMO",
        ],
        1,
    );
    harness
        .query_all_by_label("oamp")
        .next()
        .expect("OAMP's button")
        .click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("OAMP at iteration 10 of 10")
            .is_some(),
        "the timeline starts at OAMP's last iteration"
    );
    harness.key_press(Key::Home);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("OAMP at iteration 1 of 10")
            .is_some(),
        "Home goes to the first iteration"
    );
    harness.key_press(Key::ArrowRight);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("OAMP at iteration 2 of 10")
            .is_some()
    );
    assert_jobs_end_without_a_crash(&mut harness, "mimo");
}
