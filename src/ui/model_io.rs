//! Save and load controls for a demo's trained model. The demo does the typed work (building its
//! module, `model_file::save` / `read`); this widget gathers the paths and shows the outcome.

use std::path::PathBuf;

use egui::Ui;

use super::file_dialog::{DialogKind, PathField};

pub enum ModelAction {
    Save(PathBuf),
    Load(PathBuf),
}

pub struct ModelFilesUi {
    save: PathField,
    load: PathField,
    /// The last outcome: `Ok("saved ...")` or `Err(reason)`.
    pub status: Option<Result<String, String>>,
}

impl ModelFilesUi {
    pub fn new(default_name: &str) -> Self {
        Self {
            save: PathField::new(
                DialogKind::Save,
                "inference-lab model",
                &["mpk"],
                default_name,
            ),
            load: PathField::new(
                DialogKind::Open,
                "inference-lab model",
                &["mpk"],
                default_name,
            ),
            status: None,
        }
    }

    /// `can_save`: whether there is a trained model to save.
    pub fn ui(&mut self, ui: &mut Ui, can_save: bool) -> Option<ModelAction> {
        let mut action = None;
        ui.add_enabled_ui(can_save, |ui| {
            if let Some(path) = self.save.ui(ui, "Save model") {
                action = Some(ModelAction::Save(path));
            }
        });
        if let Some(path) = self.load.ui(ui, "Load model") {
            action = Some(ModelAction::Load(path));
        }
        super::outcome_ui(ui, self.status.as_ref());
        action
    }
}
