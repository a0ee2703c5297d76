//! The panel of a registered demo that is not built yet: it says so in one plain sentence
//! (every demo of the brief is built now; a later one starts from this).

use super::{About, Demo, DemoCtx, Prepared};
use crate::example_file::ExampleFile;

pub struct NotBuilt {
    pub about: About,
}

/// The sentence an unbuilt panel shows.
pub const NOT_BUILT_SENTENCE: &str = "This panel is not built yet.";

impl Demo for NotBuilt {
    fn about(&self) -> &About {
        &self.about
    }
    fn is_built(&self) -> bool {
        false
    }
    fn poll(&mut self, _ui: &egui::Ui, _ctx: &mut DemoCtx<'_>) {}
    fn error(&self) -> Option<&str> {
        None
    }
    fn figure_data(&self) -> crate::ui::export::FigureData {
        crate::ui::export::FigureData::default()
    }
    fn controls_ui(&mut self, _ui: &mut egui::Ui, _ctx: &mut DemoCtx<'_>) {}
    fn figures_ui(&mut self, ui: &mut egui::Ui, _ctx: &mut DemoCtx<'_>) {
        ui.add_space(12.0);
        ui.heading(NOT_BUILT_SENTENCE);
    }
}

/// Nothing to keep: an unbuilt panel shows no problem.
impl Prepared for NotBuilt {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        Err(format!("the {} panel is not built yet", self.about.title))
    }

    fn open_example(&mut self, _file: &ExampleFile) -> Result<(), String> {
        Err(format!("the {} panel is not built yet", self.about.title))
    }
}
