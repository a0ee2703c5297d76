//! The panel's painting: the side panel's data, stack and training controls, and the figure —
//! data | samples over density | walk, with the ledger and the table beside them — drawn from
//! the state and results `view/mod.rs` keeps.

use egui::{Color32, RichText, Sense, Shape, Stroke, TextureOptions, vec2};

use super::*;
use crate::ui::colormap::{Colormap, ValueRange, colorize};
use crate::ui::metrics::{KindColor, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::timeline_ui;

/// The data's colour (the samples take the shown method's kind colour).
const DATA_COLOR: Color32 = Color32::from_rgb(120, 160, 220);
const CLICK_COLOR: Color32 = Color32::from_rgb(255, 220, 60);

impl FlowsDemo {
    pub(super) fn data_controls_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "data");
            let mut chosen = self.data;
            egui::ComboBox::from_id_salt("flows-data")
                .selected_text(self.data.label())
                .show_ui(ui, |ui| {
                    for dataset in Dataset::ALL {
                        ui.selectable_value(&mut chosen, Data::Set(dataset), dataset.label());
                    }
                    ui.selectable_value(&mut chosen, Data::Drawn, Data::Drawn.label());
                })
                .response
                .on_hover_text(
                    "2-D densities of the SurVAE code's experiments, two moons and three rings, \
                     each with its exact density; or points you draw",
                );
            if chosen != self.data {
                self.set_data(chosen);
            }
            if ui
                .button("New draw")
                .on_hover_text("Other training and test points of the same data (a new seed)")
                .clicked()
            {
                self.seed += 1;
                self.draw_points();
            }
        });
        ui.horizontal_wrapped(|ui| {
            let label = if self.brush { "Done drawing" } else { "Brush" };
            if ui
                .selectable_label(self.brush, label)
                .on_hover_text(
                    "Click or drag on the data figure to add points (at least 20); the fits run \
                     when done",
                )
                .clicked()
            {
                if self.brush {
                    self.finish_drawing();
                } else {
                    self.set_data(Data::Drawn);
                    self.brush = true;
                }
            }
            if ui.button("Clear drawn").clicked() {
                self.drawn.clear();
                self.set_data(Data::Drawn);
                self.brush = true;
            }
        });
        if let Data::Set(_) = self.data {
            ui.horizontal_wrapped(|ui| {
                slider_label(ui, "points");
                let slider = egui::Slider::new(&mut self.points, POINTS_RANGE).logarithmic(true);
                let response = ui.add(slider).on_hover_text(
                    "Training points drawn from the data set (as many fresh test points score \
                     the models); fewer show a flow overfitting",
                );
                // Redrawn when the drag ends, not at every step of it.
                if response.drag_stopped() || (response.changed() && !response.dragged()) {
                    self.points = self
                        .points
                        .clamp(*POINTS_RANGE.start(), *POINTS_RANGE.end());
                    self.draw_points();
                }
            });
        }
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "mixture K");
            if ui
                .add(egui::Slider::new(&mut self.components, 1..=32))
                .on_hover_text(
                    "Components of the Gaussian mixture, fitted by EM from k-means++ starts \
                     (the best of 3)",
                )
                .changed()
            {
                self.components = self.components.clamp(1, 32);
                self.mixture_job.mark_stale();
            }
        });
    }

    /// The editable stack: presets, then each layer with up, down and remove.
    pub(super) fn stack_ui(&mut self, ui: &mut Ui) {
        ui.label(RichText::new("Layer stack, from the data to the base").strong())
            .on_hover_text("The stack Train fits; sampling runs it from the bottom up");
        ui.horizontal_wrapped(|ui| {
            let settings = FitSettings::default();
            for method in [Method::Flow, Method::Survae, Method::Vae] {
                if ui
                    .button(method.name())
                    .on_hover_text(method.hint())
                    .clicked()
                {
                    self.stack = settings.flow(method).layers;
                }
            }
        });
        let mut action = None;
        // A long stack scrolls in its own box, so that Train stays in reach.
        egui::ScrollArea::vertical()
            .id_salt("flows-stack")
            .stick_to_bottom(true)
            .max_height(ui.text_style_height(&egui::TextStyle::Body) * 9.0)
            .show(ui, |ui| {
                for (k, kind) in self.stack.iter().enumerate() {
                    ui.horizontal(|ui| {
                        if ui.small_button("⏶").on_hover_text("Move up").clicked() {
                            action = Some((k, -1));
                        }
                        if ui.small_button("⏷").on_hover_text("Move down").clicked() {
                            action = Some((k, 1));
                        }
                        if ui.small_button("✖").on_hover_text("Remove").clicked() {
                            action = Some((k, 0));
                        }
                        ui.label(format!("{}. {}", k + 1, kind.label()))
                            .on_hover_text(format!("its term: {}", kind.term_kind()));
                    });
                }
            });
        if let Some((k, step)) = action {
            match step {
                0 => {
                    self.stack.remove(k);
                }
                _ => {
                    let to = k as isize + step;
                    if (0..self.stack.len() as isize).contains(&to) {
                        self.stack.swap(k, to as usize);
                    }
                }
            }
        }
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::from_id_salt("flows-add-layer")
                .selected_text(self.adding.name())
                .show_ui(ui, |ui| {
                    for kind in LayerKind::ALL {
                        ui.selectable_value(&mut self.adding, kind, kind.label());
                    }
                });
            let full = self.stack.len() >= 64;
            if ui
                .add_enabled(!full, egui::Button::new("Add layer"))
                .on_hover_text("Adds it at the base end of the stack (64 at most)")
                .clicked()
            {
                self.stack.push(self.adding);
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
            "Fits the stack above to the training points by maximum likelihood (Adam 1e-3, \
             128 points a step); a tenth of them validates.",
        );
        let terms = [(
            "nats",
            "training log-likelihood (nats)",
            Method::Flow.kind().color(),
        )];
        self.training
            .curves_ui(ui, "flows", &terms, Method::Survae.kind().color());
        if let Some(model) =
            self.training
                .files_ui(ui, super::super::model::KIND, &ctx.compute.device)
        {
            self.show_flow(model, None);
        }
    }

    /// The models to show, in one row, then the timeline.
    pub(super) fn header_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("show")
                .on_hover_text("Whose samples, density and walk the figures draw");
            let shown = self.shown_index();
            let mut clicked = None;
            for (k, entry) in self.entries.iter().enumerate() {
                let text = RichText::new(&entry.label).color(entry.kind.color());
                if ui.selectable_label(k == shown, text).clicked() {
                    clicked = Some(entry.label.clone());
                }
            }
            if let Some(label) = clicked {
                self.shown = label;
                self.inspection = None;
                self.inspecting.mark_stale();
            }
        });
        let label = match self.shown_entry() {
            Some(Entry { em: Some(_), .. }) => "EM iteration",
            _ => "layer",
        };
        timeline_ui(ui, &mut self.step, label, false);
    }

    /// The figure: four squares on the left, the ledger and the table on the right.
    pub(super) fn figure_ui(&mut self, ui: &mut Ui) -> Rect {
        let available = ui.available_size();
        // The table and the ledger keep about 440 points beside the squares.
        let side = ((available.y - 40.0) / 2.0)
            .min((available.x - 460.0) / 2.0)
            .max(120.0);
        let right = (available.x - 2.0 * side - 20.0).max(220.0);
        ui.horizontal_top(|ui| {
            let squares = ui
                .vertical(|ui| {
                    let top = ui
                        .horizontal(|ui| {
                            let a = self.data_square_ui(ui, side);
                            a.union(self.samples_square_ui(ui, side))
                        })
                        .inner;
                    let bottom = ui
                        .horizontal(|ui| {
                            let a = self.density_square_ui(ui, side);
                            a.union(self.walk_square_ui(ui, side))
                        })
                        .inner;
                    top.union(bottom)
                })
                .inner;
            let column = ui
                .vertical(|ui| {
                    ui.set_width(right);
                    self.status_ui(ui);
                    metrics_table_ui(ui, "flows-metrics", &self.table);
                    ui.add_space(6.0);
                    egui::ScrollArea::vertical()
                        .id_salt("flows-ledger-scroll")
                        .show(ui, |ui| self.ledger_ui(ui));
                })
                .response
                .rect;
            squares.union(column)
        })
        .inner
    }

    /// A square; a click (or a brush drag) on it reports its data coordinates. Its title is
    /// painted last (`title`), over what it shows.
    fn square(&mut self, ui: &mut Ui, side: f32, hint: &str) -> (Rect, egui::Painter) {
        let (rect, response) = ui.allocate_exact_size(vec2(side, side), Sense::click_and_drag());
        let response = response.on_hover_text(hint);
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let pressed = response.clicked() || (self.brush && response.dragged());
        if pressed && let Some(pos) = response.interact_pointer_pos() {
            self.clicked_at(from_screen(rect, self.view(), pos));
        }
        (rect, painter)
    }

    fn data_square_ui(&mut self, ui: &mut Ui, side: f32) -> Rect {
        let title = if self.brush {
            format!("brush: {} points", self.drawn.len())
        } else {
            "data".to_owned()
        };
        let (rect, painter) = self.square(
            ui,
            side,
            "The training points; click a point to see its ledger (Algorithm 1)",
        );
        let points = if self.brush {
            &self.drawn
        } else {
            &self.training_points
        };
        points_shape(&painter, rect, self.view(), points, DATA_COLOR);
        self.click_marker(&painter, rect);
        paint_title(ui, &painter, rect, &title);
        rect
    }

    fn samples_square_ui(&mut self, ui: &mut Ui, side: f32) -> Rect {
        let color = self.shown_entry().map_or(DATA_COLOR, |e| e.kind.color());
        let (rect, painter) = self.square(
            ui,
            side,
            "Draws from the shown model: base points run back through the stack (each \
             surjection draws what it forgot), or the mixture's components",
        );
        if let Some(inspection) = &self.inspection {
            points_shape(&painter, rect, self.view(), &inspection.samples, color);
        }
        paint_title(ui, &painter, rect, "samples");
        rect
    }

    fn density_square_ui(&mut self, ui: &mut Ui, side: f32) -> Rect {
        let (rect, painter) = self.square(
            ui,
            side,
            "The shown model's density (magma, brighter is more probable); with a VAE layer, \
             the exponentiated bound averaged over 4 draws",
        );
        if let Some(inspection) = &self.inspection {
            let n = inspection.side;
            let texture = self.textures.get(
                ui,
                "flows-density",
                self.generation,
                TextureOptions::LINEAR,
                || {
                    // Rows of the image run top to bottom, the grid's bottom to top.
                    let density: Vec<f32> = (0..n * n)
                        .map(|i| inspection.log_p[(n - 1 - i / n) * n + i % n].exp())
                        .collect();
                    colorize(&density, n, n, ValueRange::of(&density), Colormap::Magma)
                },
            );
            painter.image(
                texture,
                rect.shrink(1.0),
                Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        self.click_marker(&painter, rect);
        paint_title(ui, &painter, rect, "density p(x)");
        rect
    }

    /// The walk: at timeline position k, the data cloud and the grid after k layers (a flow),
    /// or the mixture's ellipses after k EM iterations.
    fn walk_square_ui(&mut self, ui: &mut Ui, side: f32) -> Rect {
        let k = self.step.position();
        let title = match self.shown_entry() {
            Some(Entry { em: Some(_), .. }) => format!("EM iteration {k}"),
            Some(Entry {
                fitted: Fitted::Flow(model),
                ..
            }) if k > 0 => match model.config.layers.get(k - 1) {
                Some(_) if k == model.config.layers.len() => format!("z = the base (layer {k})"),
                Some(layer) => format!("after {k}: {}", layer.name()),
                None => String::new(),
            },
            _ => "x: the data (layer 0)".to_owned(),
        };
        let (rect, painter) = self.square(
            ui,
            side,
            "The timeline pushes the data and a grid through the layers, from x to the base \
             N(0, I) (its 1σ and 2σ circles dashed); for the mixture it steps through EM",
        );
        self.walk_ui(ui, &painter, rect, k);
        paint_title(ui, &painter, rect, &title);
        rect
    }

    fn walk_ui(&self, ui: &Ui, painter: &egui::Painter, rect: Rect, k: usize) {
        let Some(entry) = self.shown_entry() else {
            return;
        };
        let view = match &entry.em {
            Some(_) => self.view(),
            // The base's scale at the end, the data's at the start.
            None if k > 0 => View {
                centre: [0.0, 0.0],
                half_width: 4.0,
            },
            None => self.view(),
        };
        if let Some(em) = &entry.em {
            points_shape(painter, rect, view, &self.training_points, DATA_COLOR);
            if let Some(mixture) = em.mixtures.get(k.min(em.mixtures.len().saturating_sub(1))) {
                for c in &mixture.components {
                    for scale in [1.0, 2.0] {
                        let ring = ellipse(c.mean, c.covariance, scale);
                        let line: Vec<Pos2> =
                            ring.iter().map(|&p| to_screen(rect, view, p)).collect();
                        painter.add(Shape::closed_line(
                            line,
                            Stroke::new(1.5, entry.kind.color()),
                        ));
                    }
                }
            }
        } else if let Some(inspection) = &self.inspection {
            let grid_stroke = Stroke::new(0.8, ui.visuals().weak_text_color());
            if let Some(lines) = inspection.grid.get(k) {
                for line in lines {
                    let pts: Vec<Pos2> = line
                        .iter()
                        .filter(|p| p.iter().all(|v| v.is_finite()))
                        .map(|&p| to_screen(rect, view, p))
                        .collect();
                    painter.add(Shape::line(pts, grid_stroke));
                }
            }
            if let Some(cloud) = inspection.cloud.get(k) {
                points_shape(painter, rect, view, cloud, DATA_COLOR);
            }
            if k > 0 {
                let centre = to_screen(rect, view, [0.0, 0.0]);
                for r in [1.0, 2.0] {
                    let radius = r as f32 * rect.width() / (2.0 * view.half_width as f32);
                    painter.add(Shape::dashed_line(
                        &circle(centre, radius),
                        Stroke::new(1.0, CLICK_COLOR.gamma_multiply(0.6)),
                        6.0,
                        4.0,
                    ));
                }
            }
        }
    }

    fn click_marker(&self, painter: &egui::Painter, rect: Rect) {
        if let (Some(p), false) = (self.clicked, self.brush) {
            let at = to_screen(rect, self.view(), p);
            painter.circle_stroke(at, 6.0, Stroke::new(2.0, CLICK_COLOR));
        }
    }

    fn status_ui(&self, ui: &mut Ui) {
        let text = match (self.shown_entry(), self.inspecting.is_running()) {
            _ if self.brush => "drawing: the fits run when you click Done drawing".to_owned(),
            (None, _) => "fitting…".to_owned(),
            (Some(e), true) if self.inspection.is_none() => format!("{}: computing…", e.label),
            (Some(e), _) => {
                let k = self.step.position();
                let last = self.step.len().saturating_sub(1);
                let at = match &e.em {
                    Some(_) => format!("EM iteration {k} of {last}"),
                    None => format!("x after {k} of {last} layers"),
                };
                let exact = if e.fitted.is_exact() {
                    "exact log-likelihood"
                } else {
                    "a bound: the ELBO"
                };
                format!("{} on {} ({exact}); {at}", e.label, self.data.label())
            }
        };
        ui.label(RichText::new(text).strong());
    }

    /// Algorithm 1 for the clicked point: each layer's terms and the running sum.
    fn ledger_ui(&self, ui: &mut Ui) {
        let Some(ledger) = self.inspection.as_ref().and_then(|i| i.ledger.as_ref()) else {
            ui.label("Click a point on a figure for its ledger.");
            return;
        };
        let header = format!(
            "Algorithm 1 at ({:.2}, {:.2})",
            ledger.point[0], ledger.point[1]
        );
        egui::Grid::new("flows-ledger")
            .striped(true)
            .num_columns(5)
            .show(ui, |ui| {
                ui.label(RichText::new(header).strong()).on_hover_text(
                    "log p(x) = Σ layers' terms + ln N(z; 0, I): a bijection adds log|det ∂z/∂x|, \
                     a surjection log p(forgotten | z), a VAE layer ln p(x|z) − ln q(z|x) (one \
                     draw); swaps add 0 and are not listed",
                );
                for head in ["log|det|", "surj.", "stoch.", "sum"] {
                    ui.label(RichText::new(head).strong());
                }
                ui.end_row();
                let mut sum = 0.0;
                for row in &ledger.rows {
                    sum += row.total();
                    if row.is_permutation() {
                        continue;
                    }
                    ui.label(&row.label);
                    for v in [row.log_det, row.surjection, row.stochastic, sum] {
                        ui.label(format!("{v:+.3}"));
                    }
                    ui.end_row();
                }
                let base = if ledger.rows.is_empty() {
                    "ln Σ w_k N(x; μ_k, Σ_k)"
                } else {
                    "+ ln N(z; 0, I), the base"
                };
                ui.label(base);
                ui.label(format!("{:+.3}", ledger.base));
                ui.label("");
                ui.label("");
                ui.label(RichText::new(format!("{:+.3}", ledger.log_p())).strong());
                ui.end_row();
            });
        let total = if ledger.exact {
            "log p(x)"
        } else {
            "ELBO ≤ log p(x)"
        };
        let truth = match self.data {
            Data::Set(dataset) => format!(" (true {:+.3})", dataset.log_density(ledger.point)),
            Data::Drawn => String::new(),
        };
        ui.label(RichText::new(format!("{total} = {:+.3}{truth}", ledger.log_p())).strong());
    }
}

/// A square's title, over what it shows.
fn paint_title(ui: &Ui, painter: &egui::Painter, rect: Rect, text: &str) {
    let galley = painter.layout_no_wrap(
        text.to_owned(),
        egui::FontId::proportional(14.0),
        ui.visuals().strong_text_color(),
    );
    let at = rect.left_top() + vec2(6.0, 4.0);
    painter.rect_filled(
        Rect::from_min_size(at, galley.size()).expand(2.0),
        2.0,
        ui.visuals().extreme_bg_color.gamma_multiply(0.8),
    );
    painter.galley(at, galley, Color32::WHITE);
}

/// Points as small dots (one shape, so that thousands stay cheap).
fn points_shape(painter: &egui::Painter, rect: Rect, view: View, points: &[Point], color: Color32) {
    let shapes: Vec<Shape> = points
        .iter()
        .map(|&p| to_screen(rect, view, p))
        .filter(|p| rect.contains(*p))
        .map(|p| Shape::circle_filled(p, 1.6, color.gamma_multiply(0.8)))
        .collect();
    painter.add(Shape::Vec(shapes));
}

/// The ellipse of `scale` standard deviations of N(mean, [[a, b], [b, c]]).
fn ellipse(mean: Point, covariance: [f64; 3], scale: f64) -> Vec<Point> {
    let [a, b, c] = covariance;
    let l11 = a.max(0.0).sqrt();
    let l21 = if l11 > 0.0 { b / l11 } else { 0.0 };
    let l22 = (c - l21 * l21).max(0.0).sqrt();
    (0..48)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / 48.0;
            let (u, v) = (scale * t.cos(), scale * t.sin());
            [mean[0] + l11 * u, mean[1] + l21 * u + l22 * v]
        })
        .collect()
}

fn circle(centre: Pos2, radius: f32) -> Vec<Pos2> {
    (0..=64)
        .map(|i| {
            let t = std::f32::consts::TAU * i as f32 / 64.0;
            centre + vec2(radius * t.cos(), radius * t.sin())
        })
        .collect()
}
