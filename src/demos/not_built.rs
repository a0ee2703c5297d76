//! The panel of a registered demo that is not built yet: it says so in one plain sentence
//! (every demo of the brief is built now; a later one starts from this).

use super::{Demo, DemoCtx};

pub struct NotBuilt {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub explanation: &'static str,
}

/// The sentence an unbuilt panel shows.
pub const NOT_BUILT_SENTENCE: &str = "This panel is not built yet.";

impl Demo for NotBuilt {
    fn name(&self) -> &'static str {
        self.name
    }
    fn title(&self) -> &'static str {
        self.title
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn explanation(&self) -> &'static str {
        self.explanation
    }
    fn is_built(&self) -> bool {
        false
    }
    fn controls_ui(&mut self, _ui: &mut egui::Ui, _ctx: &mut DemoCtx<'_>) {}
    fn figures_ui(&mut self, ui: &mut egui::Ui, _ctx: &mut DemoCtx<'_>) {
        ui.add_space(12.0);
        ui.heading(NOT_BUILT_SENTENCE);
    }
}
