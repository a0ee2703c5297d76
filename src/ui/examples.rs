//! The side bar's "Prepared examples": save what the open panel shows to a file and open one
//! again (dialog, a file dropped on the window, or `inference-lab FILE`). The panel restores its
//! problem and settings and runs its methods; the timeline's saved step is shown once those
//! runs are done.

use std::path::{Path, PathBuf};

use egui::{Context, Ui};

use super::animation;
use super::file_dialog::{DialogKind, PathField};
use crate::demos::Demo;
use crate::example_file::{EXTENSION, ExampleFile};

/// Idle frames (no job running) before the saved step is shown: a panel may start its next job
/// a frame after one ends.
const IDLE_FRAMES_BEFORE_THE_STEP: u32 = 5;

pub struct Examples {
    save_field: PathField,
    open_field: PathField,
    pub note: Option<Result<String, String>>,
    /// The step to show and the idle frames seen since the example was opened.
    pending_step: Option<(usize, u32)>,
}

impl Default for Examples {
    fn default() -> Self {
        let filter = "inference-lab example";
        Self {
            save_field: PathField::new(
                DialogKind::Save,
                filter,
                &[EXTENSION],
                &format!("example.{EXTENSION}"),
            ),
            open_field: PathField::new(DialogKind::Open, filter, &[EXTENSION], ""),
            note: None,
            pending_step: None,
        }
    }
}

impl Examples {
    /// The side bar section. Returns the panel to show when an example was opened.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        demos: &mut [Box<dyn Demo>],
        selected: Option<usize>,
    ) -> Option<usize> {
        let mut opened = None;
        ui.collapsing("Prepared examples", |ui| {
            ui.label(
                "Save what this panel shows (its problem, settings, method and step) and open \
                 it again in class; a file dropped on the window opens too.",
            );
            if let Some(path) = self.save_field.ui(ui, "Save example") {
                self.save(ui.ctx(), &path, demos, selected);
            }
            if let Some(path) = self.open_field.ui(ui, "Open example") {
                opened = self.open(&path, demos);
            }
            super::outcome_ui(ui, self.note.as_ref());
        });
        opened
    }

    /// Saves the open panel's example to `path`.
    pub fn save(
        &mut self,
        ctx: &Context,
        path: &Path,
        demos: &mut [Box<dyn Demo>],
        selected: Option<usize>,
    ) {
        let outcome = match selected {
            None => Err("open a panel first: an example is what a panel shows".to_owned()),
            Some(i) => {
                let name = demos[i].name();
                demos[i].example_state().and_then(|state| {
                    ExampleFile::new(name, animation::shown_step(ctx), state)
                        .save(path)
                        .map(|()| format!("saved {}", path.display()))
                        .map_err(|e| format!("{e:#}"))
                })
            }
        };
        self.note = Some(outcome);
    }

    /// Opens the example at `path`; returns its panel.
    pub fn open(&mut self, path: &Path, demos: &mut [Box<dyn Demo>]) -> Option<usize> {
        let opened = ExampleFile::open(path)
            .map_err(|e| format!("{e:#}"))
            .and_then(|file| {
                let i = demos
                    .iter()
                    .position(|d| d.name() == file.demo)
                    .ok_or_else(|| {
                        format!(
                            "{}: an example of the demo \"{}\", which this release does not have",
                            path.display(),
                            file.demo
                        )
                    })?;
                demos[i].open_example(&file)?;
                Ok((i, file.step))
            });
        match opened {
            Ok((i, step)) => {
                self.pending_step = step.map(|s| (s, 0));
                self.note = Some(Ok(format!("opened {}", path.display())));
                Some(i)
            }
            Err(e) => {
                log::warn!("{e}");
                self.note = Some(Err(e));
                None
            }
        }
    }

    /// Each frame, after the panel: a file dropped on the window is opened, and a saved step
    /// is shown once the panel's runs are done (`jobs_running` false for a few frames).
    pub fn frame(
        &mut self,
        ctx: &Context,
        demos: &mut [Box<dyn Demo>],
        jobs_running: bool,
    ) -> Option<usize> {
        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            drop_hint_ui(ctx);
        }
        let dropped: Option<PathBuf> =
            ctx.input(|i| i.raw.dropped_files.first().map(|f| f.path().to_path_buf()));
        let opened = dropped.and_then(|path| self.open(&path, demos));
        if let Some((step, idle)) = &mut self.pending_step {
            *idle = if jobs_running { 0 } else { *idle + 1 };
            if *idle > IDLE_FRAMES_BEFORE_THE_STEP {
                animation::show_step(ctx, *step);
                self.pending_step = None;
            }
            ctx.request_repaint();
        }
        opened
    }
}

/// Over the window while a file is dragged onto it.
fn drop_hint_ui(ctx: &Context) {
    let rect = ctx.content_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-hint"),
    ));
    painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(180));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop a prepared example (.ilab) to open it",
        egui::FontId::proportional(28.0),
        egui::Color32::WHITE,
    );
}
