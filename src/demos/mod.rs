//! The demos: one folder each, registered in [`registry`]. A demo's folder holds its forward
//! model, inverses, networks, training, panel and command line; this file names the folders.

pub mod causal;
pub mod cli;
pub mod flows;
pub mod ldpc;
pub mod lorenz;
mod method_kind;
pub mod mimo;
pub mod mri;
mod not_built;
pub mod tsp;
pub mod vae;

use crate::backend::ComputeChoice;
use crate::jobs::JobRegistry;
use crate::render::PaintMode;

pub use method_kind::{DemoMethod, MethodKind};
pub use not_built::NotBuilt;

/// What a panel gets from the app each frame.
pub struct DemoCtx<'a> {
    /// burn's device for training and inference jobs.
    pub compute: &'a ComputeChoice,
    /// Register every job here so the status bar lists it.
    pub jobs: &'a mut JobRegistry,
    /// How 3-D views are drawn in this window.
    pub paint_mode: PaintMode,
    /// Where the panel drew its main figure (what "Export figure" and animations write): last
    /// frame's on the way in; `figures_ui` sets this frame's.
    pub figure_rect: egui::Rect,
}

/// What a panel says about itself.
#[derive(Clone, Copy, Debug)]
pub struct About {
    /// The command-line name, e.g. `lorenz` (`--demo lorenz`).
    pub name: &'static str,
    /// The side bar's entry.
    pub title: &'static str,
    /// One line under the title in the side bar.
    pub summary: &'static str,
    /// A paragraph on the forward model and the inverses shown (one line in the header, all of
    /// it at the top of the controls).
    pub explanation: &'static str,
}

/// A panel of the app. Each demo owns its state; the app only routes frames to it. What a
/// prepared example keeps of it is its `view/example.rs` (`Prepared`).
pub trait Demo: Prepared {
    fn about(&self) -> &About;
    fn name(&self) -> &'static str {
        self.about().name
    }
    fn title(&self) -> &'static str {
        self.about().title
    }
    fn summary(&self) -> &'static str {
        self.about().summary
    }
    fn explanation(&self) -> &'static str {
        self.about().explanation
    }
    /// Whether the panel does what its explanation says (unbuilt panels say so plainly).
    fn is_built(&self) -> bool {
        true
    }
    /// Follows the panel's jobs: called every frame, before the figures.
    fn poll(&mut self, ui: &egui::Ui, ctx: &mut DemoCtx<'_>);
    /// What last went wrong, shown above the figures.
    fn error(&self) -> Option<&str>;
    /// The numbers behind the figures, for the shared *Export figure* section's CSV.
    fn figure_data(&self) -> crate::ui::export::FigureData;
    /// The controls, in the collapsible side panel (not drawn while it is closed).
    fn controls_ui(&mut self, ui: &mut egui::Ui, ctx: &mut DemoCtx<'_>);
    /// The figures, in the rest of the window, every frame: size them to `ui.available_size()`
    /// (the visible area; a scroll bar appears only for what does not fit).
    fn figures_ui(&mut self, ui: &mut egui::Ui, ctx: &mut DemoCtx<'_>);
}

/// What a panel keeps in a prepared example (`crate::example_file`).
pub trait Prepared {
    /// The panel's problem, settings and the method shown (the timeline's step is kept by the
    /// app), or why it cannot be saved.
    fn example_state(&self) -> Result<serde_json::Value, String>;
    /// Shows a saved example (its methods run again); a state that does not fit is refused
    /// with the reason.
    fn open_example(&mut self, file: &crate::example_file::ExampleFile) -> Result<(), String>;
}

/// One registered demo: its name, its command line and how to build its panel. The panel is
/// built only when a window opens, so the command line starts without simulating anything.
pub struct DemoEntry {
    /// `inference-lab NAME ...`, `--demo NAME`, `bench --demo NAME`; the panel's `name()`.
    pub name: &'static str,
    pub cli: &'static dyn cli::DemoCommand,
    pub panel: fn() -> Box<dyn Demo>,
}

/// Every demo, in side-bar and `--help` order. Adding a demo is its folder and one line here
/// (with its `mod` line above).
pub fn registry() -> Vec<DemoEntry> {
    vec![
        lorenz::entry(),
        mri::entry(),
        ldpc::entry(),
        tsp::entry(),
        causal::entry(),
        vae::entry(),
        mimo::entry(),
        flows::entry(),
    ]
}

/// Every demo's panel, in side-bar order.
pub fn panels() -> Vec<Box<dyn Demo>> {
    registry().iter().map(|entry| (entry.panel)()).collect()
}

/// The command-line names of every demo.
pub fn names() -> Vec<&'static str> {
    registry().iter().map(|entry| entry.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_names_its_panel_and_its_subcommand_alike() {
        for entry in registry() {
            assert_eq!((entry.panel)().name(), entry.name);
            assert_eq!(entry.cli.command(entry.name).get_name(), entry.name);
        }
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), registry().len(), "two demos share a name");
    }
}
