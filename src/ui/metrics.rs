//! The metrics table: every method of a demo on the same problem, side by side, the best value
//! of each column in bold.

use egui::{Color32, RichText, Ui};

pub use crate::demos::MethodKind;

/// The color of each family of inverse, the same everywhere in the app.
pub trait KindColor {
    fn color(self) -> Color32;
}

impl KindColor for MethodKind {
    fn color(self) -> Color32 {
        match self {
            Self::Classical => Color32::from_rgb(66, 133, 244),
            Self::Amortized => Color32::from_rgb(244, 160, 0),
            Self::Augmented => Color32::from_rgb(15, 170, 90),
            Self::Oracle => Color32::from_rgb(150, 150, 150),
        }
    }
}

/// A metric column.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// As in the command line's JSON: `mse`, `psnr`, ...
    pub name: String,
    pub higher_is_better: bool,
    pub decimals: usize,
    /// What it measures, with its formula: the column header's tooltip.
    pub hint: String,
}

impl Metric {
    pub fn new(name: &str, higher_is_better: bool, decimals: usize) -> Self {
        Self {
            name: name.to_owned(),
            higher_is_better,
            decimals,
            hint: String::new(),
        }
    }

    pub fn with_hint(mut self, hint: &str) -> Self {
        self.hint = hint.to_owned();
        self
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MethodRow {
    pub method: String,
    pub kind: MethodKind,
    /// One per metric; `None` while not computed.
    pub values: Vec<Option<f64>>,
    pub seconds: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsTable {
    pub metrics: Vec<Metric>,
    pub rows: Vec<MethodRow>,
}

impl MetricsTable {
    pub fn new(metrics: Vec<Metric>) -> Self {
        Self {
            metrics,
            rows: Vec::new(),
        }
    }

    /// Adds or replaces the row of `method`.
    pub fn set_row(&mut self, row: MethodRow) {
        match self.rows.iter_mut().find(|r| r.method == row.method) {
            Some(existing) => *existing = row,
            None => self.rows.push(row),
        }
    }

    /// The row with the best finite value of metric `column`, oracles excluded.
    pub fn best_row(&self, column: usize) -> Option<usize> {
        let higher = self.metrics.get(column)?.higher_is_better;
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind != MethodKind::Oracle)
            .filter_map(|(i, r)| r.values.get(column).copied().flatten().map(|v| (i, v)))
            .filter(|(_, v)| v.is_finite())
            .max_by(|(_, a), (_, b)| {
                let ord = a.total_cmp(b);
                if higher { ord } else { ord.reverse() }
            })
            .map(|(i, _)| i)
    }

    /// The table as CSV rows (method, kind, metrics..., seconds), for export.
    pub fn to_figure_data(&self) -> crate::ui::export::FigureData {
        let mut headers = vec!["method_index".to_owned()];
        headers.extend(self.metrics.iter().map(|m| m.name.clone()));
        headers.push("seconds".to_owned());
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut row = vec![i as f64];
                row.extend(r.values.iter().map(|v| v.unwrap_or(f64::NAN)));
                row.push(r.seconds.unwrap_or(f64::NAN));
                row
            })
            .collect();
        crate::ui::export::FigureData { headers, rows }
    }
}

fn format_value(value: Option<f64>, decimals: usize) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) if !v.is_finite() => format!("{v}"),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.2e}"),
        Some(v) => format!("{v:.decimals$}"),
    }
}

const KIND_HINT: &str = "classical: iterates with the forward model; amortized: one pass of a \
                         trained network; augmented: the classical iteration unrolled with a \
                         learned correction; oracle: knows what no real method knows (a reference)";

fn kind_hint(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::Classical => {
            "classical: a hand-made inverse that iterates with the forward model"
        }
        MethodKind::Amortized => {
            "amortized: a network trained on simulated problems answers at once"
        }
        MethodKind::Augmented => {
            "augmented: the classical iteration unrolled, a learned part correcting every step"
        }
        MethodKind::Oracle => "oracle: uses what no real method knows, a reference line only",
    }
}

/// The table; where its full width (measured when last drawn whole) does not fit, the `kind`
/// column is left out (the method's color still tells its kind), so no column is cut.
pub fn metrics_table_ui(ui: &mut Ui, id: &str, table: &MetricsTable) {
    let best: Vec<Option<usize>> = (0..table.metrics.len())
        .map(|c| table.best_row(c))
        .collect();
    let width_id = ui.scope_id().with(id).with("full-width");
    let full_width: Option<f32> = ui.data(|d| d.get_temp(width_id));
    let with_kind = full_width.is_none_or(|w| w <= ui.available_width());
    let grid = egui::Grid::new(id)
        .striped(true)
        .num_columns(table.metrics.len() + 2 + usize::from(with_kind))
        .spacing([18.0, 6.0])
        .show(ui, |ui| {
            ui.strong("method").on_hover_text(
                "Every method runs on the same problem; the best of each column is underlined",
            );
            if with_kind {
                ui.strong("kind").on_hover_text(KIND_HINT);
            }
            for m in &table.metrics {
                let arrow = if m.higher_is_better { "⬆" } else { "⬇" };
                let better = if m.higher_is_better {
                    "higher"
                } else {
                    "lower"
                };
                let header = ui.strong(format!("{} {arrow}", m.name.to_uppercase()));
                if m.hint.is_empty() {
                    header.on_hover_text(format!("{better} is better"));
                } else {
                    header.on_hover_text(&m.hint);
                }
            }
            ui.strong("seconds")
                .on_hover_text("Wall-clock time of the method on this problem, on this machine");
            ui.end_row();
            for (i, row) in table.rows.iter().enumerate() {
                ui.label(RichText::new(&row.method).color(row.kind.color()).strong())
                    .on_hover_text(kind_hint(row.kind));
                if with_kind {
                    ui.label(row.kind.label())
                        .on_hover_text(kind_hint(row.kind));
                }
                for (c, m) in table.metrics.iter().enumerate() {
                    let text = format_value(row.values.get(c).copied().flatten(), m.decimals);
                    if best[c] == Some(i) {
                        ui.label(RichText::new(text).strong().underline());
                    } else {
                        ui.label(text);
                    }
                }
                ui.label(format_value(row.seconds, 3));
                ui.end_row();
            }
        });
    if with_kind {
        let width = grid.response.rect.width();
        ui.data_mut(|d| d.insert_temp(width_id, width));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: &str, kind: MethodKind, values: &[Option<f64>]) -> MethodRow {
        MethodRow {
            method: method.to_owned(),
            kind,
            values: values.to_vec(),
            seconds: Some(0.1),
        }
    }

    #[test]
    fn best_respects_direction_and_skips_oracles_and_gaps() {
        let mut t = MetricsTable::new(vec![
            Metric::new("mse", false, 4),
            Metric::new("psnr", true, 2),
        ]);
        t.set_row(row("eks", MethodKind::Classical, &[Some(0.3), Some(20.0)]));
        t.set_row(row("hybrid", MethodKind::Augmented, &[Some(0.1), None]));
        t.set_row(row("exact", MethodKind::Oracle, &[Some(0.001), Some(50.0)]));
        t.set_row(row(
            "gnn",
            MethodKind::Amortized,
            &[Some(f64::NAN), Some(25.0)],
        ));
        assert_eq!(t.best_row(0), Some(1));
        assert_eq!(t.best_row(1), Some(3));
        assert_eq!(t.best_row(9), None);
    }

    #[test]
    fn set_row_replaces_by_method() {
        let mut t = MetricsTable::new(vec![Metric::new("mse", false, 4)]);
        t.set_row(row("eks", MethodKind::Classical, &[Some(0.3)]));
        t.set_row(row("eks", MethodKind::Classical, &[Some(0.2)]));
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].values[0], Some(0.2));
    }

    #[test]
    fn values_format_readably() {
        assert_eq!(format_value(None, 3), "—");
        assert_eq!(format_value(Some(0.12345), 3), "0.123");
        assert_eq!(format_value(Some(0.00001234), 3), "1.23e-5");
    }
}
