//! The window: side bar of demos, top bar (device, theme, presentation mode), status bar of jobs.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use egui::{Align2, Color32, FontId, Key, KeyboardShortcut, Modifiers, RichText, Stroke, Ui, vec2};

use crate::backend::ComputeChoice;
use crate::bench::frames::FrameBench;
use crate::demos::{Demo, DemoCtx, MethodKind, panels};
use crate::jobs::{JobHandle, JobPhase, JobRegistry, format_duration};
use crate::render::PaintMode;
use crate::ui::animation::{self, AnimationSettings, Recorder, Recording};
use crate::ui::clicker;
use crate::ui::examples::Examples;
use crate::ui::metrics::KindColor;
use crate::ui::panel_layout::{
    PanelAreas, PanelLayout, TOGGLE_FULL_SCREEN, TOGGLE_SIDE_BAR, demo_panel_ui,
    handle_layout_shortcuts, toggle_full_screen,
};

/// What is remembered between runs (eframe storage).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub dark: bool,
    pub presentation: bool,
    /// The presentation-mode scale, within [`PRESENTATION_SCALES`].
    pub presentation_scale: f32,
    /// The panel open at exit (`None` = the welcome page).
    pub last_demo: Option<String>,
    /// What is open at ×1, and in presentation mode.
    pub desk_layout: PanelLayout,
    pub presentation_layout: PanelLayout,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dark: true,
            presentation: false,
            presentation_scale: 1.5,
            last_demo: None,
            desk_layout: PanelLayout::DESK,
            presentation_layout: PanelLayout::PRESENTATION,
        }
    }
}

pub const PRESENTATION_SCALES: std::ops::RangeInclusive<f32> = 1.25..=2.0;
const SCALE_STEP: f32 = 0.25;
const SETTINGS_KEY: &str = "inference-lab-settings";
/// The demo list's starting width (points).
const SIDE_BAR_WIDTH: f32 = 190.0;

impl Settings {
    /// What is open in the current mode.
    pub fn layout(&self) -> PanelLayout {
        if self.presentation {
            self.presentation_layout
        } else {
            self.desk_layout
        }
    }

    pub fn layout_mut(&mut self) -> &mut PanelLayout {
        if self.presentation {
            &mut self.presentation_layout
        } else {
            &mut self.desk_layout
        }
    }

    pub fn zoom(&self) -> f32 {
        if self.presentation {
            self.presentation_scale
                .clamp(*PRESENTATION_SCALES.start(), *PRESENTATION_SCALES.end())
        } else {
            1.0
        }
    }

    /// Ctrl + : larger (turning presentation mode on from ×1).
    pub fn zoom_in(&mut self) {
        if self.presentation {
            self.presentation_scale =
                (self.presentation_scale + SCALE_STEP).min(*PRESENTATION_SCALES.end());
        } else {
            self.presentation = true;
            self.presentation_scale = *PRESENTATION_SCALES.start();
        }
    }

    /// Ctrl − : smaller (back to ×1 below the smallest presentation scale).
    pub fn zoom_out(&mut self) {
        if self.presentation {
            if self.presentation_scale - SCALE_STEP < *PRESENTATION_SCALES.start() - 1e-3 {
                self.presentation = false;
            } else {
                self.presentation_scale -= SCALE_STEP;
            }
        }
    }

    /// Ctrl 0 : back to ×1.
    pub fn zoom_reset(&mut self) {
        self.presentation = false;
    }
}

/// How the app was started, decided in `main` before the window exists.
pub struct Startup {
    pub compute: ComputeChoice,
    /// e.g. `wgpu · NVIDIA RTX 4070 (Vulkan)` or `glow (software adapter: llvmpipe)`.
    pub renderer_label: String,
    pub paint_mode: PaintMode,
    /// `--demo NAME`: overrides the remembered panel.
    pub demo: Option<String>,
    pub bench: Option<FrameBench>,
    /// `--animate OUT.gif`: record the panel once its first run is done, then close.
    pub animate: Option<AnimateAtStart>,
    /// `inference-lab FILE`: a prepared example to open.
    pub example: Option<std::path::PathBuf>,
}

/// An animation the command line asked for, and where its outcome goes for `main` to report.
pub struct AnimateAtStart {
    pub settings: AnimationSettings,
    pub outcome: AnimationOutcome,
    /// Frames drawn so far (the recording starts once the panel's jobs are done).
    frames_seen: u32,
}

/// Where `--animate` reports what it wrote, or why it could not.
pub type AnimationOutcome = Arc<Mutex<Option<Result<String, String>>>>;

impl AnimateAtStart {
    pub fn new(settings: AnimationSettings, outcome: AnimationOutcome) -> Self {
        Self {
            settings,
            outcome,
            frames_seen: 0,
        }
    }
}

pub struct InferenceLab {
    demos: Vec<Box<dyn Demo>>,
    /// `None` = the welcome page.
    selected: Option<usize>,
    pub settings: Settings,
    compute: ComputeChoice,
    renderer_label: String,
    paint_mode: PaintMode,
    jobs: JobRegistry,
    bench: Option<FrameBench>,
    style_set: bool,
    /// What the storage holds, to save only on change.
    saved_settings: Option<Settings>,
    /// Where the open panel drew its figures last frame.
    areas: PanelAreas,
    /// Where each panel drew its main figure when last shown.
    figure_rects: Vec<egui::Rect>,
    /// Each panel's *Export figure* section (its paths, scale and animation settings).
    exporters: Vec<crate::ui::export::FigureExporter>,
    /// The screen blanked (B or .), as a slide deck does.
    blank: bool,
    /// An animation being recorded, then encoded; what the last one came to.
    recorder: Option<Recorder>,
    encoding: Option<JobHandle<String>>,
    animation_note: Option<Result<String, String>>,
    animate_at_start: Option<AnimateAtStart>,
    examples: Examples,
}

impl InferenceLab {
    /// The app without a window (tests) or before eframe hands over its context.
    pub fn new(startup: Startup, settings: Settings) -> Self {
        let demos = panels();
        let wanted = startup.demo.clone().or_else(|| settings.last_demo.clone());
        let selected = wanted.and_then(|name| demos.iter().position(|d| d.name() == name));
        let figure_rects = vec![egui::Rect::NOTHING; demos.len()];
        let exporters = demos
            .iter()
            .map(|d| crate::ui::export::FigureExporter::new(d.name()))
            .collect();
        let mut app = Self {
            demos,
            selected,
            settings,
            compute: startup.compute,
            renderer_label: startup.renderer_label,
            paint_mode: startup.paint_mode,
            jobs: JobRegistry::default(),
            bench: startup.bench,
            style_set: false,
            saved_settings: None,
            areas: PanelAreas::default(),
            figure_rects,
            exporters,
            blank: false,
            recorder: None,
            encoding: None,
            animation_note: None,
            animate_at_start: startup.animate,
            examples: Examples::default(),
        };
        if let Some(path) = &startup.example
            && let Some(i) = app.examples.open(path, &mut app.demos)
        {
            app.selected = Some(i);
        }
        app
    }

    /// Called by eframe once the window exists: installs our wgpu pipeline and reads settings.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>, mut startup: Startup) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        match cc.wgpu_render_state.as_ref() {
            Some(render_state) => crate::render::curves::install(render_state),
            None => startup.paint_mode = PaintMode::Egui,
        }
        let load_job = startup
            .bench
            .as_mut()
            .and_then(|bench| bench.start_load(&cc.egui_ctx, &startup.compute));
        let mut app = Self::new(startup, settings);
        if let Some(job) = &load_job {
            app.jobs.register(job);
        }
        app
    }

    pub fn jobs_mut(&mut self) -> &mut JobRegistry {
        &mut self.jobs
    }

    /// Where the open panel may draw its figures (the visible part of its figure area), and
    /// where it drew its main figure, last frame.
    pub fn figure_areas(&self) -> (egui::Rect, egui::Rect) {
        let figure = self.figure_rect().unwrap_or(egui::Rect::NOTHING);
        (self.areas.figures_viewport, figure)
    }

    pub fn selected_demo(&self) -> Option<&str> {
        self.selected.map(|i| self.demos[i].name())
    }

    /// Larger text than egui's defaults: the app is read from the back of a lecture hall.
    fn set_text_sizes(ctx: &egui::Context) {
        use egui::TextStyle;
        ctx.all_styles_mut(|style| {
            style.text_styles = [
                (TextStyle::Small, FontId::proportional(12.0)),
                (TextStyle::Body, FontId::proportional(15.0)),
                (TextStyle::Button, FontId::proportional(15.0)),
                (TextStyle::Monospace, FontId::monospace(14.0)),
                (TextStyle::Heading, FontId::proportional(24.0)),
            ]
            .into();
        });
    }

    fn apply_style(&self, ctx: &egui::Context) {
        ctx.set_theme(if self.settings.dark {
            egui::ThemePreference::Dark
        } else {
            egui::ThemePreference::Light
        });
        let zoom = self.settings.zoom();
        if (ctx.zoom_factor() - zoom).abs() > 1e-4 {
            ctx.set_zoom_factor(zoom);
        }
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        let shortcut = |key| KeyboardShortcut::new(Modifiers::COMMAND, key);
        ctx.input_mut(|input| {
            if input.consume_shortcut(&shortcut(Key::Plus))
                || input.consume_shortcut(&shortcut(Key::Equals))
            {
                self.settings.zoom_in();
            }
            if input.consume_shortcut(&shortcut(Key::Minus)) {
                self.settings.zoom_out();
            }
            if input.consume_shortcut(&shortcut(Key::Num0)) {
                self.settings.zoom_reset();
            }
        });
        handle_layout_shortcuts(ctx, self.settings.layout_mut());
    }

    /// The whole window, one frame. eframe's `App::ui` and the UI tests both call this.
    pub fn frame_ui(&mut self, ui: &mut Ui) {
        let frame_started = Instant::now();
        let ctx = ui.ctx().clone();
        if !self.style_set {
            Self::set_text_sizes(&ctx);
            ctx.options_mut(|o| o.zoom_with_keyboard = false);
            self.style_set = true;
        }
        self.handle_shortcuts(&ctx);
        self.jobs.prune();

        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status-bar").show(ui, |ui| self.status_bar_ui(ui));
        let mut side_bar = self.settings.layout().side_bar;
        egui::Panel::left("side-bar")
            .resizable(true)
            .default_size(SIDE_BAR_WIDTH)
            .show_collapsible(ui, &mut side_bar, |ui| self.side_bar_ui(ui));
        self.settings.layout_mut().side_bar = side_bar;
        egui::CentralPanel::default().show(ui, |ui| match self.selected {
            None => {
                let width = ui.available_width();
                egui::ScrollArea::vertical()
                    .auto_shrink(false)
                    .show(ui, |ui| {
                        ui.set_max_width(width);
                        if let Some(i) = welcome_ui(ui, &self.demos) {
                            self.selected = Some(i);
                        }
                    });
            }
            Some(i) => {
                let mut demo_ctx = DemoCtx {
                    compute: &self.compute,
                    jobs: &mut self.jobs,
                    paint_mode: self.paint_mode,
                    figure_rect: self.figure_rects[i],
                };
                let layout = if self.settings.presentation {
                    &mut self.settings.presentation_layout
                } else {
                    &mut self.settings.desk_layout
                };
                self.areas = demo_panel_ui(
                    ui,
                    self.demos[i].as_mut(),
                    &mut demo_ctx,
                    layout,
                    &mut self.exporters[i],
                );
                self.figure_rects[i] = demo_ctx.figure_rect;
            }
        });
        self.handle_clicker(&ctx);
        self.handle_animation(&ctx);
        let jobs_running = self.jobs.any_running();
        if let Some(i) = self.examples.frame(&ctx, &mut self.demos, jobs_running) {
            self.selected = Some(i);
        }
        self.settings.last_demo = self.selected_demo().map(str::to_owned);
        // After the panels, so a click this frame takes effect at the start of the next one.
        self.apply_style(&ctx);
        if self.jobs.any_running() {
            // Progress arrives from other threads; they also wake us, this keeps bars moving.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if let Some(bench) = self.bench.as_mut()
            && bench.record_frame(frame_started, &ctx)
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// PageDown/PageUp the panel's timeline left over move between panels; B or . blanks.
    fn handle_clicker(&mut self, ctx: &egui::Context) {
        let (panel_move, blank) = clicker::leftover_keys(ctx);
        if let Some(to) = panel_move {
            self.selected = clicker::moved(self.selected, self.demos.len(), to);
        }
        if blank {
            self.blank = !self.blank;
        }
        if self.blank && clicker::blank_ui(ctx) {
            self.blank = false;
        }
    }

    /// Starts an animation asked for (by the export section or `--animate`), steps the one
    /// being recorded after the panel has drawn, and hands its frames to an encoding job.
    fn handle_animation(&mut self, ctx: &egui::Context) {
        let busy = self.recorder.is_some() || self.encoding.is_some();
        let mut wanted = animation::take_request(ctx).filter(|_| !busy);
        if let Some(start) = &mut self.animate_at_start
            && !busy
            && start.outcome.lock().is_ok_and(|o| o.is_none())
        {
            start.frames_seen += 1;
            // The panel's first run is done when no job is left (after a few frames to start it).
            if start.frames_seen > 5 && !self.jobs.any_running() && wanted.is_none() {
                wanted = Some(start.settings.clone());
            }
        }
        if let Some(settings) = wanted {
            match (self.selected, Recorder::start(ctx, settings)) {
                (Some(_), Ok(recorder)) => self.recorder = Some(recorder),
                (None, Ok(recorder)) => {
                    recorder.cancel(ctx);
                    self.finish_animation(ctx, Err("open a panel to animate".into()));
                }
                (_, Err(e)) => self.finish_animation(ctx, Err(e)),
            }
        }
        let figure = self.figure_rect().unwrap_or(egui::Rect::NOTHING);
        if let Some(recorder) = &mut self.recorder {
            match recorder.frame(ctx, figure) {
                Recording::Capturing { .. } => {}
                Recording::Failed(e) => {
                    self.recorder = None;
                    self.finish_animation(ctx, Err(e));
                }
                Recording::Captured(frames) => {
                    let settings = recorder.settings.clone();
                    self.recorder = None;
                    let waker = ctx.clone();
                    match crate::jobs::spawn(
                        "encode animation",
                        move || waker.request_repaint(),
                        move |job| animation::encode(job, &frames, &settings),
                    ) {
                        Ok(handle) => {
                            self.jobs.register(handle.shared());
                            self.encoding = Some(handle);
                        }
                        Err(e) => self.finish_animation(ctx, Err(e.to_string())),
                    }
                }
            }
        }
        if let Some(handle) = &mut self.encoding
            && let Some(result) = handle.try_take()
        {
            self.encoding = None;
            self.finish_animation(ctx, result.map_err(|e| e.to_string()));
        }
    }

    fn finish_animation(&mut self, ctx: &egui::Context, outcome: Result<String, String>) {
        match &outcome {
            Ok(message) => log::info!("{message}"),
            Err(e) => log::warn!("animation: {e}"),
        }
        if let Some(start) = &self.animate_at_start
            && let Ok(mut slot) = start.outcome.lock()
            && slot.is_none()
        {
            *slot = Some(outcome.clone());
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        self.animation_note = Some(outcome);
    }

    /// The animation being recorded (with Cancel) or what the last one came to.
    fn animation_status_ui(&mut self, ui: &mut Ui) {
        if let Some(recorder) = &self.recorder {
            let mut cancel = false;
            ui.group(|ui| {
                ui.label(RichText::new("recording animation").strong());
                ui.label(format!("{} s", recorder.started.elapsed().as_secs()));
                cancel = ui
                    .button("Cancel")
                    .on_hover_text("Stop recording; nothing is written")
                    .clicked();
            });
            if cancel && let Some(recorder) = self.recorder.take() {
                recorder.cancel(ui.ctx());
                self.animation_note = Some(Err("animation cancelled".into()));
            }
        } else if let Some(note) = &self.animation_note {
            let mut dismiss = false;
            ui.group(|ui| {
                crate::ui::outcome_ui(ui, Some(note));
                dismiss = ui.small_button("Dismiss").clicked();
            });
            if dismiss {
                self.animation_note = None;
            }
        }
    }

    /// Where the open panel drew its main figure last frame (what exports write).
    pub fn figure_rect(&self) -> Option<egui::Rect> {
        self.selected.map(|i| self.figure_rects[i])
    }

    /// What the last animation came to (written, or why not), while it is shown.
    pub fn animation_note(&self) -> Option<&Result<String, String>> {
        self.animation_note.as_ref()
    }

    /// Saves what the open panel shows as a prepared example (the side bar's "Save example").
    pub fn save_example(&mut self, ctx: &egui::Context, path: &std::path::Path) {
        self.examples
            .save(ctx, path, &mut self.demos, self.selected);
    }

    /// What the last example saved or opened came to.
    pub fn example_note(&self) -> Option<&Result<String, String>> {
        self.examples.note.as_ref()
    }

    /// Whether the screen is blanked.
    pub fn is_blank(&self) -> bool {
        self.blank
    }

    fn top_bar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let shortcut = ui.ctx().format_shortcut(&TOGGLE_SIDE_BAR);
            let layout = self.settings.layout_mut();
            ui.toggle_value(&mut layout.side_bar, "☰")
                .on_hover_text(format!("Show or hide the list of demos ({shortcut})"));
            ui.label(RichText::new("inference-lab").strong().size(18.0));
            ui.separator();
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let shortcut = ui.ctx().format_shortcut(&TOGGLE_FULL_SCREEN);
                if ui
                    .button("⛶ Full screen")
                    .on_hover_text(format!("Full screen on or off ({shortcut})"))
                    .clicked()
                {
                    toggle_full_screen(ui.ctx());
                }
                let mut presentation = self.settings.presentation;
                if ui
                    .toggle_value(&mut presentation, "🖵 Presentation")
                    .on_hover_text(
                        "Scale the whole window for a projector (Ctrl +, Ctrl −, Ctrl 0); the \
                         demo list, the controls and the explanation start closed there",
                    )
                    .clicked()
                {
                    self.settings.presentation = presentation;
                }
                if self.settings.presentation {
                    let combo = egui::ComboBox::from_id_salt("presentation-scale")
                        .selected_text(format!("×{:.2}", self.settings.presentation_scale))
                        .width(70.0)
                        .show_ui(ui, |ui| {
                            for i in 0..=4 {
                                let s = PRESENTATION_SCALES.start() + SCALE_STEP * i as f32;
                                ui.selectable_value(
                                    &mut self.settings.presentation_scale,
                                    s,
                                    format!("×{s:.2}"),
                                );
                            }
                        });
                    let label = ui.label("scale");
                    let _ = combo.response.labelled_by(label.id);
                }
                let theme = if self.settings.dark {
                    "☀ Light"
                } else {
                    "🌙 Dark"
                };
                if ui
                    .button(theme)
                    .on_hover_text("Switch light / dark theme")
                    .clicked()
                {
                    self.settings.dark = !self.settings.dark;
                }
                // What is left of the bar, left to right: the device and the renderer, cut
                // short rather than under the buttons on a narrow window.
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("compute: {}", self.compute.label)).monospace(),
                        )
                        .truncate(),
                    )
                    .on_hover_text(format!(
                        "burn computes here because: {}",
                        self.compute.reason
                    ));
                    let renderer = self.renderer_label.split(' ').next().unwrap_or_default();
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("window: {renderer}"))
                                .monospace()
                                .weak(),
                        )
                        .truncate(),
                    )
                    .on_hover_text(format!("The window renders with {}", self.renderer_label));
                });
            });
        });
    }

    fn side_bar_ui(&mut self, ui: &mut Ui) {
        // Scrolls when the window is short (a projector's 480 points, a tall status bar).
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.add_space(6.0);
            if ui
                .selectable_label(self.selected.is_none(), RichText::new("Welcome").strong())
                .clicked()
            {
                self.selected = None;
            }
            ui.separator();
            ui.label(RichText::new("Demos").weak());
            for (i, demo) in self.demos.iter().enumerate() {
                let mut title = RichText::new(demo.title()).strong();
                if !demo.is_built() {
                    title = title.weak();
                }
                let response = ui.selectable_label(self.selected == Some(i), title);
                if response.clicked() {
                    self.selected = Some(i);
                }
                let summary = if demo.is_built() {
                    RichText::new(demo.summary())
                } else {
                    RichText::new(format!("{} (not built yet)", demo.summary())).weak()
                };
                ui.label(summary.size(13.0));
                ui.add_space(6.0);
            }
            ui.separator();
            if let Some(i) = self.examples.ui(ui, &mut self.demos, self.selected) {
                self.selected = Some(i);
            }
        });
    }

    fn status_bar_ui(&mut self, ui: &mut Ui) {
        let mut dismissed = None;
        ui.horizontal_wrapped(|ui| {
            self.animation_status_ui(ui);
            if self.jobs.jobs().is_empty() {
                ui.label(RichText::new("No jobs running.").weak());
            }
            for job in self.jobs.jobs() {
                let (phase, progress) = job.with_state(|s| (s.phase.clone(), s.progress.clone()));
                ui.group(|ui| {
                    ui.label(RichText::new(&job.name).strong());
                    match &phase {
                        JobPhase::Running => {
                            let mut text = match progress.total_steps {
                                Some(total) => format!("{}/{}", progress.step, total),
                                None if progress.step > 0 => format!("step {}", progress.step),
                                None => format!("{:.0}%", progress.fraction * 100.0),
                            };
                            if let Some(loss) = progress.loss {
                                text.push_str(&format!("  loss {loss:.4}"));
                            }
                            if let Some(rate) = progress.steps_per_sec {
                                text.push_str(&format!("  {rate:.1} steps/s"));
                            }
                            if let Some(eta) = progress.eta_secs {
                                text.push_str(&format!("  ETA {}", format_duration(eta)));
                            }
                            if !progress.message.is_empty() {
                                text = format!("{}  {text}", progress.message);
                            }
                            ui.add(
                                egui::ProgressBar::new(progress.fraction)
                                    .desired_width(160.0)
                                    .animate(true),
                            );
                            ui.label(text);
                            if job.cancel_requested() {
                                ui.label("cancelling…");
                            } else if ui
                                .button("Cancel")
                                .on_hover_text("Stop this job at its next step")
                                .clicked()
                            {
                                job.cancel();
                            }
                        }
                        JobPhase::Finished => {
                            ui.label("done");
                        }
                        JobPhase::Cancelled => {
                            ui.label("cancelled");
                        }
                        JobPhase::Failed(msg) => {
                            ui.colored_label(ui.visuals().error_fg_color, format!("failed: {msg}"));
                            if ui
                                .button("Dismiss")
                                .on_hover_text("Remove this failed job from the status bar")
                                .clicked()
                            {
                                dismissed = Some(job.id);
                            }
                        }
                    }
                });
            }
        });
        if let Some(id) = dismissed {
            self.jobs.dismiss(id);
        }
    }
}

impl eframe::App for InferenceLab {
    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        self.frame_ui(ui);
        // Save a changed setting at once, not only at exit: a crash must not lose it.
        if self.saved_settings.as_ref() != Some(&self.settings)
            && let Some(storage) = frame.storage_mut()
        {
            eframe::set_value(storage, SETTINGS_KEY, &self.settings);
            storage.flush();
            self.saved_settings = Some(self.settings.clone());
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

/// The welcome page: the idea in a few sentences and a diagram.
/// The welcome page; returns the demo whose button was clicked (the way in when the demo list
/// is closed, as in presentation mode).
fn welcome_ui(ui: &mut Ui, demos: &[Box<dyn Demo>]) -> Option<usize> {
    ui.heading(RichText::new("Inference, three ways").strong());
    ui.label(
        "A forward model says how data arise: y = g(x) + noise. Inference runs it backwards, \
         from the data y to the hidden x. A classical inverse (a Kalman smoother, belief \
         propagation, gradient ascent on log p(y|x) + log p(x)) iterates with the forward model: \
         slow but reliable, and it generalizes. An amortized inverse is a network trained on many \
         simulated problems to answer at once. An augmented inverse unrolls the classical \
         iteration and lets a learned part correct it at every step, while the forward model \
         keeps checking the estimate.",
    );
    // The demos first: at a projector the diagram fills the rest of the screen.
    let mut chosen = None;
    ui.horizontal_wrapped(|ui| {
        for (i, demo) in demos.iter().enumerate().filter(|(_, d)| d.is_built()) {
            if ui
                .button(format!("▶ {}", demo.title()))
                .on_hover_text(demo.summary())
                .clicked()
            {
                chosen = Some(i);
            }
        }
    });
    ui.add_space(8.0);
    diagram_ui(ui);
    ui.add_space(8.0);
    ui.label(
        "Each demo in the side bar shows one forward model inverted all three ways, side by side, \
         with its metric; the timeline steps through the iterations as inference runs.",
    );
    ui.label(RichText::new(clicker::KEYS_HELP).weak());
    chosen
}

/// A polyline ending in a filled arrowhead of fixed size.
fn arrow_path(painter: &egui::Painter, points: &[egui::Pos2], color: Color32) {
    let stroke = Stroke::new(2.5, color);
    painter.add(egui::Shape::line(points.to_vec(), stroke));
    if let [.., from, tip] = points {
        let dir = (*tip - *from).normalized();
        let normal = vec2(-dir.y, dir.x);
        let base = *tip - dir * 12.0;
        painter.add(egui::Shape::convex_polygon(
            vec![*tip, base + normal * 6.0, base - normal * 6.0],
            color,
            Stroke::NONE,
        ));
    }
}

/// Forward model vs the three kinds of inverse, drawn with egui.
fn diagram_ui(ui: &mut Ui) {
    let width = ui.available_width().min(820.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, 300.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let text_color = visuals.strong_text_color();
    let box_size = vec2(190.0, 64.0);
    let top = rect.top() + 40.0;
    let x_box = egui::Rect::from_min_size(egui::pos2(rect.left() + 10.0, top), box_size);
    let y_box =
        egui::Rect::from_min_size(egui::pos2(rect.right() - 10.0 - box_size.x, top), box_size);
    for (r, title, sub) in [
        (x_box, "x", "hidden state, image, code"),
        (y_box, "y", "observed data"),
    ] {
        painter.rect(
            r,
            8.0,
            visuals.faint_bg_color,
            Stroke::new(2.0, text_color),
            egui::StrokeKind::Inside,
        );
        painter.text(
            r.center() - vec2(0.0, 10.0),
            Align2::CENTER_CENTER,
            title,
            FontId::proportional(24.0),
            text_color,
        );
        painter.text(
            r.center() + vec2(0.0, 17.0),
            Align2::CENTER_CENTER,
            sub,
            FontId::proportional(13.0),
            text_color,
        );
    }
    let forward_y = x_box.center().y;
    arrow_path(
        &painter,
        &[
            egui::pos2(x_box.right() + 4.0, forward_y),
            egui::pos2(y_box.left() - 4.0, forward_y),
        ],
        text_color,
    );
    painter.text(
        egui::pos2((x_box.right() + y_box.left()) / 2.0, forward_y - 10.0),
        Align2::CENTER_BOTTOM,
        "forward model  p(y | x):  decoder, simulator, physics",
        FontId::proportional(15.0),
        text_color,
    );
    let rows = [
        (
            MethodKind::Classical,
            "classical inverse: iterate with the forward model (\"logic\")",
        ),
        (
            MethodKind::Amortized,
            "amortized inverse: one pass of a trained network (\"intuition\")",
        ),
        (
            MethodKind::Augmented,
            "augmented inverse: unrolled iterations + learned correction (both)",
        ),
    ];
    for (i, (kind, label)) in rows.into_iter().enumerate() {
        // Deeper rows start and end further out, so no line crosses another.
        let spread = (i as f32 - 1.0) * 36.0;
        let row_y = x_box.bottom() + 48.0 + 58.0 * i as f32;
        let start_x = y_box.center().x + spread;
        let end_x = x_box.center().x - spread;
        arrow_path(
            &painter,
            &[
                egui::pos2(start_x, y_box.bottom() + 4.0),
                egui::pos2(start_x, row_y),
                egui::pos2(end_x, row_y),
                egui::pos2(end_x, x_box.bottom() + 4.0),
            ],
            kind.color(),
        );
        painter.text(
            egui::pos2((start_x + end_x) / 2.0, row_y - 6.0),
            Align2::CENTER_BOTTOM,
            label,
            FontId::proportional(15.0),
            kind.color(),
        );
    }
}
