//! The panel's painting: its controls, the users' constellations, the channel's heat map, the
//! table and the SER curves, drawn from the state and results `view/mod.rs` keeps.

use egui::{Color32, Pos2, Sense, Shape, Stroke, Vec2, vec2};
use egui_plot::{Line, Plot, PlotPoints, Points};

use super::*;
use crate::demos::mimo::sim::complex_matrix;
use crate::ui::colormap::{Colormap, ValueRange};
use crate::ui::metrics::{KindColor, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::timeline_ui;

/// The most users whose constellations are drawn (the rest are counted in the table).
const DRAWN_USERS: usize = 16;

/// Sizes a lecturer picks from: (N_r, N_t, modulation).
const PRESETS: [(usize, usize, Modulation); 4] = [
    (8, 8, Modulation::Qpsk),
    (32, 16, Modulation::Qpsk),
    (64, 32, Modulation::Qam16),
    (4, 4, Modulation::Qam16),
];

impl MimoDemo {
    pub(super) fn setup_controls_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("size");
            for (nr, nt, modulation) in PRESETS {
                let on = (self.setup.antennas, self.setup.users, self.setup.modulation)
                    == (nr, nt, modulation);
                if ui
                    .selectable_label(on, format!("{nr}×{nt} {}", modulation.name()))
                    .on_hover_text("N_r receive antennas × N_t users, and the constellation")
                    .clicked()
                {
                    self.setup.antennas = nr;
                    self.setup.users = nt;
                    self.setup.modulation = modulation;
                    self.changed();
                }
            }
        });
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "users N_t");
            changed |= ui
                .add(egui::Slider::new(&mut self.setup.users, 1..=64))
                .changed();
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "antennas N_r");
            changed |= ui
                .add(egui::Slider::new(&mut self.setup.antennas, 1..=128))
                .changed();
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("modulation");
            for m in Modulation::ALL {
                changed |= ui
                    .selectable_value(&mut self.setup.modulation, m, m.name())
                    .changed();
            }
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "SNR");
            changed |= ui
                .add(egui::Slider::new(&mut self.setup.snr_db, -10.0..=40.0).suffix(" dB"))
                .on_hover_text("E‖Hx‖² / E‖n‖²: σ² = N_t / (N_r · 10^(SNR/10))")
                .changed();
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "correlation ρ");
            changed |= ui
                .add(egui::Slider::new(&mut self.setup.rho, 0.0..=0.95))
                .on_hover_text("Exponential correlation ρ^|i−j| between antennas and between users")
                .changed();
            if ui
                .button("New channel")
                .on_hover_text("Draw a fresh batch of channels, symbols and noise")
                .clicked()
            {
                self.seed = self.seed.wrapping_add(1);
                self.changed();
            }
        });
        if changed {
            self.setup.users = self.setup.users.clamp(1, 64);
            self.setup.antennas = self.setup.antennas.clamp(1, 128);
            self.setup.snr_db = self.setup.snr_db.clamp(-10.0, 40.0);
            self.setup.rho = self.setup.rho.clamp(0.0, 0.95);
            self.changed();
        }
    }

    pub(super) fn curve_controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            let hint = format!(
                "Every method's SER from 6 dB below to 6 dB above this SNR, {} fresh vectors a \
                 point",
                vectors_for(&self.setup, CURVE_VECTORS)
            );
            if self
                .curve_job
                .start_button_ui(ui, "Compute SER curves", &hint)
            {
                self.start_curves(ui, ctx);
            }
        });
    }

    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            ui.label("model");
            ui.selectable_value(&mut self.train_kind, NetKind::OampNet, "OAMP-Net2")
                .on_hover_text(Method::Oampnet.hint());
            ui.selectable_value(&mut self.train_kind, NetKind::DetNet, "DetNet")
                .on_hover_text(Method::Detnet.hint());
            ui.selectable_value(&mut self.train_kind, NetKind::ReMimo, "RE-MIMO")
                .on_hover_text(Method::Remimo.hint());
            if self.training.buttons_ui(ui) {
                self.start_training(ui, ctx);
            }
        });
        ui.label("Trains for the size, modulation and ρ set above, on fresh channels every step.");
        let method = Method::trained_as(self.train_kind);
        let terms = [("MSE", "training MSE", method.kind().color())];
        self.training
            .curves_ui(ui, "mimo", &terms, Method::Oamp.kind().color());
        let kind = self.train_kind.file_kind();
        if let Some(model) = self.training.files_ui(ui, kind, &ctx.compute.device) {
            self.add_model(model);
        }
        if !self.models.is_empty() {
            ui.label("models:");
            for m in &self.models {
                ui.label(format!("  {}", m.config.describe()));
            }
        }
    }

    /// The method buttons, then the timeline over the shown method's iterations.
    pub(super) fn header_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Whose soft estimates the constellations follow over its iterations",
                &Method::ALL,
                self.shown,
                true,
            ) {
                self.shown = method;
                self.reset_timeline();
            }
        });
        timeline_ui(ui, &mut self.step, "iteration", true);
    }

    pub(super) fn status_ui(&self, ui: &mut Ui) {
        let s = &self.setup;
        let mut line = format!(
            "{}×{} {}, SNR {:.1} dB, {}",
            s.antennas,
            s.users,
            s.modulation.name(),
            s.snr_db,
            s.channel_name()
        );
        match &self.inspection {
            _ if self.inferring.is_running() => line += ": detecting…",
            None => {}
            Some(inspection) => match inspection.run(self.shown) {
                Some((run, _)) => {
                    line += &format!(
                        "; {} at iteration {} of {}",
                        self.shown.label(),
                        self.step.position() + 1,
                        run.trace.len()
                    );
                }
                None => {
                    if let Some((_, why)) =
                        inspection.skipped.iter().find(|(m, _)| *m == self.shown)
                    {
                        line += &format!("; {}: {why}", self.shown.label());
                    }
                }
            },
        }
        ui.label(line);
    }

    /// Constellations on the left; the table, |H| and the SER curves on the right.
    pub(super) fn figure_ui(&mut self, ui: &mut Ui) -> Rect {
        let size = ui.available_size();
        let width = size.x;
        let height = size.y.max(260.0);
        let left = (width * 0.4).max(200.0);
        let top = ui.cursor().min;
        ui.horizontal_top(|ui| {
            ui.allocate_ui(vec2(left, height), |ui| {
                self.constellations_ui(ui, vec2(left, height))
            });
            ui.vertical(|ui| {
                ui.set_width(width - left - 12.0);
                metrics_table_ui(ui, "mimo-table", &self.table);
                let rest = (top.y + height - ui.cursor().min.y).max(140.0);
                ui.horizontal_top(|ui| {
                    let side = rest.min(ui.available_width() * 0.38);
                    self.channel_ui(ui, side);
                    self.curves_ui(ui, rest);
                });
            });
        });
        Rect::from_min_size(top, vec2(width, height))
    }

    fn constellations_ui(&self, ui: &mut Ui, size: Vec2) {
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        let Some(inspection) = &self.inspection else {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "detecting…",
                egui::FontId::proportional(18.0),
                ui.visuals().weak_text_color(),
            );
            return;
        };
        let Some(vector) = inspection.batch.vectors.first() else {
            return;
        };
        let users = inspection.batch.setup.users;
        let modulation = inspection.batch.setup.modulation;
        let drawn = users.min(DRAWN_USERS);
        // The grid whose square cells come out largest.
        let columns = (1..=drawn.max(1))
            .max_by(|&a, &b| {
                let side = |c: usize| {
                    (rect.width() / c as f32).min(rect.height() / drawn.div_ceil(c) as f32)
                };
                side(a).total_cmp(&side(b))
            })
            .unwrap_or(1);
        let rows = drawn.div_ceil(columns);
        let side = (rect.width() / columns as f32).min(rect.height() / rows as f32);
        let cell = vec2(side, side);
        let levels = modulation.levels();
        let extent = levels[levels.len() - 1] * 1.6;
        let text = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        for user in 0..drawn {
            let origin = rect.min
                + vec2(
                    (user % columns) as f32 * cell.x,
                    (user / columns) as f32 * cell.y,
                );
            let inner = side - 6.0;
            let square = Rect::from_min_size(origin + vec2(3.0, 3.0), vec2(inner, inner));
            painter.rect_filled(square, 3.0, ui.visuals().extreme_bg_color);
            let at = |re: f64, im: f64| -> Pos2 {
                let u = ((re / extent) * 0.5 + 0.5).clamp(0.0, 1.0) as f32;
                let v = ((im / extent) * 0.5 + 0.5).clamp(0.0, 1.0) as f32;
                Pos2::new(square.left() + u * inner, square.bottom() - v * inner)
            };
            // Decision boundaries: midway between neighbouring levels.
            for pair in levels.windows(2) {
                let b = 0.5 * (pair[0] + pair[1]);
                let stroke = Stroke::new(1.0, weak.gamma_multiply(0.5));
                painter.line_segment([at(b, -extent), at(b, extent)], stroke);
                painter.line_segment([at(-extent, b), at(extent, b)], stroke);
            }
            for &re in levels {
                for &im in levels {
                    painter.circle_filled(at(re, im), 2.0, weak);
                }
            }
            if let Some(sent) = &vector.sent {
                let (re, im) = (
                    levels[usize::from(sent[user])],
                    levels[usize::from(sent[user + users])],
                );
                painter.circle_stroke(at(re, im), 7.0, Stroke::new(2.0, text));
            }
            for run in &inspection.runs {
                let color = run.method.kind().color();
                if run.method == self.shown {
                    let upto = self.step.position().min(run.trace.len().saturating_sub(1));
                    let trail: Vec<Pos2> = run.trace[..=upto]
                        .iter()
                        .filter_map(|t| t.first())
                        .map(|x| at(x[user], x[user + users]))
                        .collect();
                    if trail.len() > 1 {
                        painter.add(Shape::line(trail.clone(), Stroke::new(1.5, color)));
                    }
                    if let Some(&last) = trail.last() {
                        painter.circle_filled(last, 5.5, color);
                    }
                } else if let Some(x) = run.trace.last().and_then(|t| t.first()) {
                    // A method drawn dashed in the SER plot is a ring here, so that two
                    // methods of one kind (one color) are told apart.
                    let at = at(x[user], x[user + users]);
                    let faded = color.gamma_multiply(0.7);
                    if matches!(line_style(run.method), egui_plot::LineStyle::Solid) {
                        painter.circle_filled(at, 3.0, faded);
                    } else {
                        painter.circle_stroke(at, 3.0, Stroke::new(1.5, faded));
                    }
                }
            }
            painter.text(
                square.left_top() + vec2(4.0, 2.0),
                egui::Align2::LEFT_TOP,
                format!("user {}", user + 1),
                egui::FontId::proportional(12.0),
                weak,
            );
        }
        if users > drawn {
            painter.text(
                rect.right_bottom() - vec2(4.0, 4.0),
                egui::Align2::RIGHT_BOTTOM,
                format!("users 1–{drawn} of {users}"),
                egui::FontId::proportional(12.0),
                weak,
            );
        }
    }

    /// |H| of the vector drawn, antennas down, users across.
    fn channel_ui(&self, ui: &mut Ui, side: f32) {
        let (rect, response) = ui.allocate_exact_size(vec2(side, side), Sense::hover());
        let painter = ui.painter_at(rect);
        let Some(vector) = self
            .inspection
            .as_ref()
            .and_then(|i| i.batch.vectors.first())
        else {
            return;
        };
        let h = complex_matrix(&vector.channel);
        let magnitudes: Vec<f32> = h.iter().map(|v| v.norm() as f32).collect();
        let range = ValueRange::of(&magnitudes);
        let (rows, cols) = h.shape();
        let cell = vec2(rect.width() / cols as f32, rect.height() / rows as f32);
        for i in 0..rows {
            for j in 0..cols {
                let v = h[(i, j)].norm() as f32;
                let color = Colormap::Viridis.map(range.normalize(v));
                let min = rect.min + vec2(j as f32 * cell.x, i as f32 * cell.y);
                painter.rect_filled(Rect::from_min_size(min, cell + vec2(0.5, 0.5)), 0.0, color);
            }
        }
        painter.rect_stroke(
            rect,
            0.0,
            Stroke::new(1.0, Color32::GRAY),
            egui::StrokeKind::Inside,
        );
        response.on_hover_text(format!(
            "|H|: {rows} antennas (down) × {cols} users (across), from {:.2} to {:.2}",
            range.low, range.high
        ));
    }

    fn curves_ui(&self, ui: &mut Ui, height: f32) {
        if self.curves.is_empty() {
            ui.label(if self.curve_job.is_running() {
                "computing SER curves…"
            } else {
                "SER over SNR: “Compute SER curves” in the controls"
            });
            return;
        }
        let mut plot = Plot::new("mimo-curves")
            .height(height)
            .x_axis_label("SNR (dB)")
            .y_axis_label("SER")
            .y_axis_formatter(|mark, _| format!("1e{:.0}", mark.value))
            .label_formatter(crate::ui::log_axis::error_rate_hover_label)
            .allow_scroll(false);
        // A legend on a short plot covers its curves: the hover label names them instead.
        if height >= 260.0 {
            plot =
                plot.legend(egui_plot::Legend::default().position(egui_plot::Corner::LeftBottom));
        }
        plot.show(ui, |plot| {
            for (method, points) in &self.curves {
                let series: Vec<[f64; 2]> = points
                    .iter()
                    .filter(|p| p.ser > 0.0)
                    .map(|p| [p.snr_db, p.ser.log10()])
                    .collect();
                let color = method.kind().color();
                plot.line(
                    Line::new(method.label(), PlotPoints::from(series.clone()))
                        .color(color)
                        .style(line_style(*method))
                        .width(2.0),
                );
                plot.points(
                    Points::new(method.label(), PlotPoints::from(series))
                        .color(color)
                        .radius(3.0),
                );
            }
        });
    }
}

/// Methods of one kind share a color; their curves differ by line style (and their markers:
/// solid lines, filled dots; others, rings).
fn line_style(method: Method) -> egui_plot::LineStyle {
    use egui_plot::LineStyle;
    match method {
        Method::Zf => LineStyle::dotted_dense(),
        Method::Mmse | Method::Oampnet => LineStyle::dashed_loose(),
        Method::Vblast => LineStyle::dashed_dense(),
        _ => LineStyle::Solid,
    }
}
