//! Widgets shared by every demo.

pub mod colormap;
pub mod export;
pub mod file_dialog;
pub mod loss_plot;
pub mod metrics;
pub mod model_io;
pub mod timeline;

/// The outcome of the last save, load or export: a plain line, or an error in the error color.
pub fn outcome_ui(ui: &mut egui::Ui, outcome: Option<&Result<String, String>>) {
    match outcome {
        Some(Ok(msg)) => {
            ui.label(msg);
        }
        Some(Err(msg)) => {
            ui.colored_label(ui.visuals().error_fg_color, msg);
        }
        None => {}
    }
}

/// The Train button, and Cancel while `training` runs. Returns whether Train was clicked.
pub fn train_buttons_ui(ui: &mut egui::Ui, training: Option<&crate::jobs::JobShared>) -> bool {
    let clicked = ui
        .add_enabled(training.is_none(), egui::Button::new("Train"))
        .clicked();
    if let Some(job) = training
        && ui.button("Cancel training").clicked()
    {
        job.cancel();
    }
    clicked
}
