//! The panel's painting: its controls, the latent plane, the digits, the table and the
//! manifold, drawn from the state and results `view/mod.rs` keeps.

use egui::{Sense, Shape, Stroke, TextureOptions};

use crate::ui::texture_cache::TextureCache;

use super::*;
use crate::ui::colormap::{Colormap, ValueRange, colorize};
use crate::ui::metrics::{KindColor, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::timeline_ui;

/// Thumbnails in the strip of test digits.
const STRIP: usize = 10;

impl VaeDemo {
    pub(super) fn data_controls_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "test digit");
            let mut index = self.picked + 1;
            if ui
                .add(egui::Slider::new(&mut index, 1..=self.test.len().max(1)))
                .on_hover_text("One of the 500 test digits (50 of each class, never trained on)")
                .changed()
            {
                self.pick(index.clamp(1, self.test.len().max(1)) - 1);
            }
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "k steps");
            if ui
                .add(egui::Slider::new(&mut self.steps, 1..=MAX_STEPS))
                .on_hover_text(
                    "Steps of the augmented methods from the encoder's answer (the refiner was \
                     trained for 5)",
                )
                .changed()
            {
                self.steps = self.steps.clamp(1, MAX_STEPS);
                self.inferring.mark_stale();
            }
        });
        ui.horizontal_wrapped(|ui| {
            let label = if self.drawing {
                "Done drawing"
            } else {
                "Draw a digit"
            };
            if ui
                .selectable_label(self.drawing, label)
                .on_hover_text("Paint on the input image with the mouse; inference runs when done")
                .clicked()
            {
                self.drawing = !self.drawing;
                if self.drawing {
                    self.set_canvas(vec![0.0; PIXELS], "drawn digit".to_owned());
                }
            }
            if ui
                .button("Clear")
                .on_hover_text("A blank canvas to draw on")
                .clicked()
            {
                self.drawing = true;
                self.set_canvas(vec![0.0; PIXELS], "drawn digit".to_owned());
            }
        });
        ui.collapsing("Load a digit (PNG)", |ui| {
            ui.label("Any size, turned grey and scaled to 28×28; dark-on-light is inverted.");
            if let Some(path) = self.png_field.ui(ui, "Load PNG") {
                match super::super::io::read_png(&path) {
                    Ok(pixels) => self.set_canvas(pixels, path.display().to_string()),
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
        });
    }

    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            if self.training.buttons_ui(ui) {
                self.start_training(ui, ctx);
            }
        });
        ui.label(
            "Trains a 2-D VAE on the 4,000 training digits (¾ of the budget), then the refiner \
             on its frozen decoder (¼).",
        );
        let terms = [
            (
                "−ELBO (warmed-up KL)",
                "VAE −ELBO",
                Method::Encoder.kind().color(),
            ),
            (
                "−mean ELBO over the steps",
                "refiner −ELBO",
                Method::Iterative.kind().color(),
            ),
        ];
        self.training
            .curves_ui(ui, "vae", &terms, Method::Svi.kind().color());
        if let Some(model) = self.training.files_ui(ui, KIND, &ctx.compute.device) {
            self.set_model(model);
        }
    }

    /// The view switch and the method buttons in one row (on a projector every row above the
    /// figure costs it), then the timeline.
    pub(super) fn header_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.view, View::Posterior, "Posterior")
                .on_hover_text("The latent plane of this digit: exact p(z|x) and every q");
            ui.selectable_value(&mut self.view, View::Manifold, "Manifold")
                .on_hover_text("Decoded digits over z, and the encoder's means of the test set");
            if self.view == View::Posterior {
                ui.separator();
                if let Some(method) = crate::ui::method_buttons_ui(
                    ui,
                    "Whose steps the timeline plays",
                    &Method::ALL,
                    self.shown,
                    true,
                ) {
                    self.shown = method;
                    self.reset_timeline();
                }
            }
        });
        if self.view == View::Posterior {
            timeline_ui(ui, &mut self.step, "step", false);
        }
    }

    /// The figure's first line: which digit, log p(x), which method at which step.
    pub(super) fn status_ui(&self, ui: &mut Ui) {
        let status = match (&self.inspection, self.inferring.is_running(), &self.model) {
            (_, _, None) => "no model yet: train one or load a file".to_owned(),
            (None, true, _) => "inferring…".to_owned(),
            (Some(i), _, _) if self.view == View::Posterior => format!(
                "{}: log p(x) = {:.2} nats (quadrature); {} at step {}",
                self.source,
                i.log_px(),
                self.shown.label(),
                self.step.position()
            ),
            _ => "the decoder's manifold and the encoder's means of the 500 test digits".to_owned(),
        };
        ui.label(RichText::new(status).strong());
    }

    pub(super) fn posterior_view_ui(&mut self, ui: &mut Ui) -> Rect {
        let available = ui.available_size();
        let side = available.y.min(available.x * 0.6).max(200.0);
        let right = (available.x - side - 12.0).max(200.0);
        ui.horizontal_top(|ui| {
            let plane = self.plane_ui(ui, side);
            let panel = ui
                .vertical(|ui| {
                    ui.set_width(right);
                    self.digits_ui(ui, right);
                    metrics_table_ui(ui, "vae-metrics", &self.table);
                    self.elbo_plot_ui(ui);
                })
                .response
                .rect;
            plane.union(panel)
        })
        .inner
    }

    /// The latent plane: the exact posterior's density and each method's ellipses.
    fn plane_ui(&mut self, ui: &mut Ui, side: f32) -> Rect {
        let (rect, response) = ui.allocate_exact_size(vec2(side, side), Sense::hover());
        response.on_hover_text(
            "The exact posterior p(z|x) (magma, brighter is more probable) and each method's q \
             as its 1σ and 2σ ellipses, in its kind's color; the white path is the shown \
             method's mean step by step",
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let Some(inspection) = &self.inspection else {
            return rect;
        };
        let n = (inspection.density.len() as f64).sqrt() as usize;
        // Made once per inspection, not every frame.
        let texture = self.textures.get(
            ui,
            "vae-posterior",
            self.generation,
            TextureOptions::LINEAR,
            || {
                // Rows of the image run top to bottom, z₂ bottom to top.
                let flipped: Vec<f32> = (0..n * n)
                    .map(|i| inspection.density[(n - 1 - i / n) * n + i % n])
                    .collect();
                colorize(&flipped, n, n, ValueRange::of(&flipped), Colormap::Magma)
            },
        );
        painter.image(
            texture,
            rect,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
        let (centre, half) = (inspection.centre, inspection.window.half_width);
        let at = |z: [f64; 2]| to_screen(rect, centre, half, z);
        for run in &inspection.comparison.runs {
            let shown = run.method == self.shown;
            let index = if shown {
                self.step.position().min(run.trace.len().saturating_sub(1))
            } else {
                run.trace.len().saturating_sub(1)
            };
            let Some(q) = run.trace.get(index) else {
                continue;
            };
            let mu = [f64::from(q.mu[0][0]), f64::from(q.mu[0][1])];
            let sigma = [
                f64::from(q.log_sigma[0][0]).exp(),
                f64::from(q.log_sigma[0][1]).exp(),
            ];
            let color = run.method.kind().color();
            let width = if shown { 3.0 } else { 1.5 };
            for (k, alpha) in [(1.0, 255), (2.0, 140)] {
                let points: Vec<Pos2> = (0..=72)
                    .map(|i| {
                        let t = i as f64 / 72.0 * std::f64::consts::TAU;
                        at([
                            mu[0] + k * sigma[0] * t.cos(),
                            mu[1] + k * sigma[1] * t.sin(),
                        ])
                    })
                    .collect();
                let c = Color32::from_rgba_unmultiplied(color.r(), color.g(), color.b(), alpha);
                painter.add(Shape::line(points, Stroke::new(width, c)));
            }
            painter.circle_filled(at(mu), width + 1.0, color);
            if shown && run.trace.len() > 1 {
                let path: Vec<Pos2> = run.trace[..=index]
                    .iter()
                    .map(|q| at([f64::from(q.mu[0][0]), f64::from(q.mu[0][1])]))
                    .collect();
                painter.add(Shape::line(path, Stroke::new(1.5, Color32::WHITE)));
            }
        }
        painter.text(
            rect.left_bottom() + vec2(6.0, -6.0),
            egui::Align2::LEFT_BOTTOM,
            format!(
                "z₁ {:.2} … {:.2}, z₂ {:.2} … {:.2}",
                centre[0] - half,
                centre[0] + half,
                centre[1] - half,
                centre[1] + half
            ),
            egui::FontId::proportional(14.0),
            Color32::WHITE,
        );
        rect
    }

    /// The input digit (a canvas while drawing) and the digits decoded at each method's mean.
    fn digits_ui(&mut self, ui: &mut Ui, width: f32) {
        let count = 1 + self.inspection.as_ref().map_or(0, |i| i.decoded.len());
        let size = ((width - 8.0 * count as f32) / count as f32)
            .min(ui.available_height() / 5.0)
            .clamp(36.0, 112.0);
        ui.horizontal_wrapped(|ui| {
            ui.vertical(|ui| {
                let input = self.canvas.clone();
                let response = digit_ui(
                    ui,
                    &mut self.textures,
                    &input,
                    size,
                    "vae-input",
                    Sense::drag(),
                );
                if self.drawing {
                    self.paint_stroke(&response);
                }
                ui.label("input");
            });
            if let Some(inspection) = &self.inspection {
                for (run, decoded) in inspection.comparison.runs.iter().zip(&inspection.decoded) {
                    ui.vertical(|ui| {
                        let id = format!("vae-decoded-{}", run.method.name());
                        digit_ui(ui, &mut self.textures, decoded, size, &id, Sense::hover())
                            .on_hover_text(format!("decoded at {}'s mean", run.method.label()));
                        ui.label(RichText::new(run.method.name()).color(run.method.kind().color()));
                    });
                }
            }
        });
        self.strip_ui(ui, width);
    }

    /// Paints with the mouse on the 28×28 input (a soft round brush).
    fn paint_stroke(&mut self, response: &egui::Response) {
        let Some(pos) = response.interact_pointer_pos() else {
            return;
        };
        if !response.dragged() && !response.clicked() {
            return;
        }
        let rect = response.rect;
        let x = (pos.x - rect.left()) / rect.width() * sim::SIDE as f32;
        let y = (pos.y - rect.top()) / rect.height() * sim::SIDE as f32;
        for py in 0..sim::SIDE {
            for px in 0..sim::SIDE {
                let d2 = (px as f32 + 0.5 - x).powi(2) + (py as f32 + 0.5 - y).powi(2);
                let ink = (1.6 - d2.sqrt()).clamp(0.0, 1.0);
                let p = &mut self.canvas[py * sim::SIDE + px];
                *p = p.max(ink);
            }
        }
        self.inferring.mark_stale();
    }

    /// A strip of test digits around the picked one; a click picks.
    fn strip_ui(&mut self, ui: &mut Ui, width: f32) {
        let size = (width / STRIP as f32 - 6.0)
            .min(ui.available_height() / 6.0)
            .clamp(20.0, 48.0);
        let start = self
            .picked
            .saturating_sub(STRIP / 2)
            .min(self.test.len().saturating_sub(STRIP));
        let mut clicked = None;
        ui.horizontal(|ui| {
            for index in start..(start + STRIP).min(self.test.len()) {
                let id = format!("vae-strip-{index}");
                let response = digit_ui(
                    ui,
                    &mut self.textures,
                    &self.test[index].pixels,
                    size,
                    &id,
                    Sense::click(),
                );
                if index == self.picked {
                    ui.painter().rect_stroke(
                        response.rect,
                        2.0,
                        Stroke::new(2.0, Color32::YELLOW),
                        egui::StrokeKind::Outside,
                    );
                }
                if response
                    .on_hover_text(format!("test digit {}", index + 1))
                    .clicked()
                {
                    clicked = Some(index);
                }
            }
        });
        if let Some(index) = clicked {
            self.drawing = false;
            self.pick(index);
        }
    }

    /// Each method's ELBO along its steps (the shown method's bold).
    fn elbo_plot_ui(&self, ui: &mut Ui) {
        let Some(inspection) = &self.inspection else {
            return;
        };
        // On a small screen the plot gives way: the plane and the table come first.
        let height = ui.available_height().min(260.0);
        if height < 90.0 {
            return;
        }
        let log_px = inspection.log_px();
        let lines: Vec<_> = inspection
            .comparison
            .runs
            .iter()
            .zip(&inspection.step_elbos)
            .filter(|(run, e)| run.method == self.shown && e.len() > 1)
            .collect();
        egui_plot::Plot::new("vae-elbo-steps")
            .height(height)
            .x_axis_label("step")
            .y_axis_label("ELBO (nats)")
            .legend(egui_plot::Legend::default())
            .show(ui, |plot| {
                for (run, elbos) in lines {
                    let points: Vec<[f64; 2]> = elbos
                        .iter()
                        .enumerate()
                        .map(|(i, e)| [i as f64, *e])
                        .collect();
                    plot.line(
                        egui_plot::Line::new(run.method.label(), points)
                            .color(run.method.kind().color())
                            .width(2.5),
                    );
                    let n = elbos.len().max(2) as f64 - 1.0;
                    plot.line(
                        egui_plot::Line::new("log p(x)", vec![[0.0, log_px], [n, log_px]])
                            .color(Method::Exact.kind().color()),
                    );
                }
            });
    }

    pub(super) fn manifold_view_ui(&mut self, ui: &mut Ui) -> Rect {
        let available = ui.available_size();
        let side = available.y.min(available.x * 0.5).max(200.0);
        let Some(data) = &self.manifold else {
            ui.label("decoding the manifold…");
            return ui.min_rect();
        };
        ui.horizontal_top(|ui| {
            let (s, m) = (sim::SIDE, MANIFOLD_SIDE);
            // The decoded digits, tiled as one image, made once per manifold.
            let texture =
                self.textures
                    .get(ui, "vae-manifold", self.generation, TextureOptions::LINEAR, || {
                        let mut pixels = vec![0.0f32; m * s * m * s];
                        for (k, digit) in data.digits.iter().enumerate() {
                            let (row, col) = (k / m, k % m);
                            for (p, v) in digit.iter().enumerate() {
                                pixels[(row * s + p / s) * m * s + col * s + p % s] = *v;
                            }
                        }
                        colorize(&pixels, m * s, m * s, ValueRange::new(0.0, 1.0), Colormap::Gray)
                    });
            let left = ui
                .add(egui::Image::new((texture, vec2(side, side))))
                .on_hover_text(format!(
                    "p(x|z)'s mean on a {m}×{m} grid over z ∈ [−{MANIFOLD_EXTENT}, {MANIFOLD_EXTENT}]²"
                ))
                .rect;
            let (rect, _) = ui.allocate_exact_size(vec2(side, side), Sense::hover());
            let painter = ui.painter_at(rect);
            painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
            for (mu, label) in &data.means {
                let z = [f64::from(mu[0]), f64::from(mu[1])];
                let p = to_screen(rect, [0.0, 0.0], MANIFOLD_EXTENT, z);
                painter.circle_filled(p, 3.0, CLASS_COLORS[usize::from(*label) % 10]);
            }
            // The legend on its own dark strip, so that no point hides a label.
            painter.rect_filled(
                Rect::from_min_size(rect.right_top() + vec2(-34.0, 4.0), vec2(30.0, 206.0)),
                4.0,
                Color32::from_black_alpha(220),
            );
            for (class, color) in CLASS_COLORS.iter().enumerate() {
                painter.text(
                    rect.right_top() + vec2(-18.0, 8.0 + 20.0 * class as f32),
                    egui::Align2::RIGHT_TOP,
                    class.to_string(),
                    egui::FontId::proportional(18.0),
                    *color,
                );
            }
            painter.text(
                rect.left_bottom() + vec2(6.0, -6.0),
                egui::Align2::LEFT_BOTTOM,
                "the encoder's means of the 500 test digits, by class",
                egui::FontId::proportional(14.0),
                Color32::WHITE,
            );
            left.union(rect)
        })
        .inner
    }
}

/// A 28×28 digit (values in [0, 1]) as a square of `size` points.
fn digit_ui(
    ui: &mut Ui,
    textures: &mut TextureCache,
    pixels: &[f32],
    size: f32,
    id: &str,
    sense: Sense,
) -> egui::Response {
    let texture = textures.get(ui, id, key_of(pixels), TextureOptions::NEAREST, || {
        colorize(
            pixels,
            sim::SIDE,
            sim::SIDE,
            ValueRange::new(0.0, 1.0),
            Colormap::Gray,
        )
    });
    ui.add(egui::Image::new((texture, vec2(size, size))).sense(sense))
}

/// A digit's key: a hash of its 784 values (the input changes as it is drawn).
fn key_of(values: &[f32]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for v in values {
        v.to_bits().hash(&mut hasher);
    }
    hasher.finish()
}
