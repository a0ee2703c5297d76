//! The live training curve.

use egui::{Color32, Ui};
use egui_plot::{Line, Plot, PlotPoints};

/// One curve: (step, loss) points.
pub struct LossSeries<'a> {
    pub name: &'a str,
    pub points: &'a [[f64; 2]],
    pub color: Color32,
}

/// Points for the plot: log10 of the loss on a log scale (non-positive losses dropped there).
pub fn plotted_points(points: &[[f64; 2]], log_scale: bool) -> Vec<[f64; 2]> {
    points
        .iter()
        .filter(|[_, y]| y.is_finite() && (!log_scale || *y > 0.0))
        .map(|&[x, y]| [x, if log_scale { y.log10() } else { y }])
        .collect()
}

/// A curve plot over training steps, under `title`; with `log_scale`, a toggle for a
/// logarithmic axis.
pub fn loss_plot_ui(
    ui: &mut Ui,
    id: &str,
    title: &str,
    series: &[LossSeries<'_>],
    log_scale: Option<&mut bool>,
    height: f32,
) {
    let mut log = false;
    ui.horizontal(|ui| {
        ui.strong(title);
        if let Some(log_scale) = log_scale {
            ui.checkbox(log_scale, "log scale")
                .on_hover_text("Plot the curves on a logarithmic axis");
            log = *log_scale;
        }
    });
    let names: Vec<String> = series.iter().map(|s| format!("— {}", s.name)).collect();
    crate::ui::legend_ui(
        ui,
        names
            .iter()
            .map(String::as_str)
            .zip(series.iter().map(|s| s.color)),
    );
    let mut plot = Plot::new(id)
        .height(height)
        .x_axis_label("step")
        .allow_scroll(false);
    if log {
        plot = plot.y_axis_formatter(|mark, _| format!("{:.2e}", 10f64.powf(mark.value)));
    }
    plot.show(ui, |plot_ui| {
        for s in series {
            let points = plotted_points(s.points, log);
            plot_ui.line(
                Line::new(s.name, PlotPoints::from(points))
                    .color(s.color)
                    .width(2.0),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_scale_takes_log10_and_drops_what_it_cannot_show() {
        let pts = [[0.0, 100.0], [1.0, 0.0], [2.0, f64::NAN], [3.0, 0.01]];
        assert_eq!(plotted_points(&pts, true), vec![[0.0, 2.0], [3.0, -2.0]]);
        assert_eq!(plotted_points(&pts, false).len(), 3);
    }
}
