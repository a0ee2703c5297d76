//! A logarithmic step axis for per-iteration plots, so that a method of 8 steps and one of 200
//! iterations are both readable on one plot.

use egui_plot::{GridInput, GridMark, HoverPosition};

/// Where step `step` (counted from 1) sits on the axis.
pub fn log_position(step: f64) -> f64 {
    step.max(1.0).log10()
}

/// The step at an axis position.
pub fn step_at(position: f64) -> f64 {
    10f64.powf(position)
}

/// Grid lines at 1, 2, 5, 10, 20, 50, …: decades thick, the rest thin.
pub fn log_step_marks(input: GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    if !(low.is_finite() && high.is_finite()) || high - low > 12.0 {
        return Vec::new();
    }
    let mut marks = Vec::new();
    for decade in (low.floor() as i32)..=(high.ceil() as i32) {
        for (multiple, step_size) in [(1.0, 1.0), (2.0, 0.3), (5.0, 0.3)] {
            let value = (multiple * 10f64.powi(decade)).log10();
            if (low..=high).contains(&value) {
                marks.push(GridMark { value, step_size });
            }
        }
    }
    marks
}

/// The axis's tick label: the step number.
pub fn step_label(mark: GridMark) -> String {
    format!("{}", step_at(mark.value).round())
}

/// The hover label in steps rather than axis units.
pub fn step_hover_label(position: &HoverPosition<'_>) -> Option<String> {
    let (name, point) = match position {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (*plot_name, position),
        HoverPosition::Elsewhere { position } => ("", position),
    };
    Some(format!(
        "{name}\nstep {:.0}\n{:.4}",
        step_at(point.x),
        point.y
    ))
}

/// The hover label in dB and error rate (the axis holds log10 of it).
pub fn error_rate_hover_label(position: &egui_plot::HoverPosition<'_>) -> Option<String> {
    let (name, point) = match position {
        egui_plot::HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (*plot_name, position),
        egui_plot::HoverPosition::Elsewhere { position } => ("", position),
    };
    Some(format!(
        "{name}\n{:.1} dB: {:.2e}",
        point.x,
        10f64.powf(point.y)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_fall_on_1_2_5_of_every_decade_in_view() {
        let marks = log_step_marks(GridInput {
            bounds: (log_position(1.0), log_position(120.0)),
            base_step_size: 0.01,
        });
        let steps: Vec<String> = marks.into_iter().map(step_label).collect();
        assert_eq!(steps, ["1", "2", "5", "10", "20", "50", "100"]);
        assert!((step_at(log_position(37.0)) - 37.0).abs() < 1e-9);
        assert_eq!(log_position(0.0), 0.0);
    }

    #[test]
    fn no_marks_for_a_degenerate_view() {
        let input = |bounds| GridInput {
            bounds,
            base_step_size: 0.01,
        };
        assert!(log_step_marks(input((f64::NAN, 1.0))).is_empty());
        assert!(log_step_marks(input((-100.0, 100.0))).is_empty());
    }
}
