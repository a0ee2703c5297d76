//! Widgets shared by every demo.

pub mod animation;
pub mod clicker;
pub mod colormap;
pub mod examples;
pub mod export;
pub mod file_dialog;
pub mod job_slot;
pub mod log_axis;
pub mod loss_plot;
pub mod metrics;
pub mod model_io;
pub mod panel_layout;
pub mod texture_cache;
pub mod timeline;
pub mod training_section;

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

/// A panel's error line, if it has one.
pub fn error_ui(ui: &mut egui::Ui, error: Option<&str>) {
    if let Some(err) = error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
}

/// The Train button, and Cancel while `training` runs. Returns whether Train was clicked.
pub fn train_buttons_ui(ui: &mut egui::Ui, training: Option<&crate::jobs::JobShared>) -> bool {
    let clicked = ui
        .add_enabled(training.is_none(), egui::Button::new("Train"))
        .on_hover_text("Train a new model as a background job; the window stays responsive")
        .clicked();
    if let Some(job) = training
        && ui
            .button("Cancel training")
            .on_hover_text(
                "Stop now; the model being trained is dropped (a time budget keeps the best one)",
            )
            .clicked()
    {
        job.cancel();
    }
    clicked
}

/// The width of `text` in body text on one line (egui caches the layout).
pub fn text_width(ui: &egui::Ui, text: &str) -> f32 {
    egui::WidgetText::from(text)
        .into_galley(
            ui,
            Some(egui::TextWrapMode::Extend),
            f32::INFINITY,
            egui::TextStyle::Body,
        )
        .size()
        .x
}

/// In a wrapped row, starts a new line unless `label` and a slider after it fit on this one:
/// egui lays out a slider's rail and value box as one unit that does not wrap, so a slider
/// starting near the right edge spills off the window.
pub fn wrap_before_slider(ui: &mut egui::Ui, label: &str) {
    let text = text_width(ui, label);
    let spacing = ui.spacing();
    let needed =
        text + spacing.slider_width + 2.0 * spacing.interact_size.x + 3.0 * spacing.item_spacing.x;
    // In a wrapped row `available_width` is the whole row's; what is left is up to the cursor.
    let left = ui.max_rect().right() - ui.cursor().left();
    let at_line_start = ui.cursor().left() <= ui.max_rect().left() + 1.0;
    if left < needed && !at_line_start {
        ui.end_row();
    }
}

/// A slider's label in a wrapped row, on a new line when the label and its slider would not
/// fit on this one.
pub fn slider_label(ui: &mut egui::Ui, label: &str) -> egui::Response {
    wrap_before_slider(ui, label);
    ui.label(label)
}

/// A plot's legend as a row of colored labels above or below it, never over the data
/// (egui_plot's own legend floats over the curves).
pub fn legend_ui<'a>(
    ui: &mut egui::Ui,
    entries: impl IntoIterator<Item = (&'a str, egui::Color32)>,
) {
    ui.horizontal_wrapped(|ui| {
        for (label, color) in entries {
            ui.label(egui::RichText::new(label).color(color));
        }
    });
}

/// "show" and a button per method, in its kind's color, with its tooltip: the row above a
/// panel's figure that picks whose steps the timeline plays. `short`: buttons carry the
/// methods' names (their labels then lead the tooltips), else their labels. Returns the method
/// clicked.
pub fn method_buttons_ui<M: crate::demos::DemoMethod>(
    ui: &mut egui::Ui,
    what_is_shown: &str,
    methods: &[M],
    shown: M,
    short: bool,
) -> Option<M> {
    use metrics::KindColor;
    ui.label("show").on_hover_text(what_is_shown);
    let mut clicked = None;
    for &method in methods {
        let (text, tooltip) = if short {
            (
                method.name(),
                format!("{}: {}", method.label(), method.hint()),
            )
        } else {
            (method.label(), method.hint().to_owned())
        };
        let button = egui::RichText::new(text).color(method.kind().color());
        if ui
            .selectable_label(shown == method, button)
            .on_hover_text(tooltip)
            .clicked()
        {
            clicked = Some(method);
        }
    }
    clicked
}
