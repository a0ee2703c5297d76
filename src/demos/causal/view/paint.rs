//! The panel's painting: its controls, figures, plots and figure export, drawn from the
//! state and results `view/mod.rs` keeps.

use super::*;

impl CausalDemo {
    pub(super) fn data_controls_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "samples");
            let mut changed = ui
                .add(egui::Slider::new(&mut self.batch, 1..=MAX_SAMPLES).logarithmic(true))
                .on_hover_text(
                    "Samples in the batch, each with its own random graph; the AUROC pools them",
                )
                .changed();
            slider_label(ui, "noise σ");
            changed |= ui
                .add(egui::Slider::new(&mut self.noise, 0.0..=0.5))
                .on_hover_text("Gaussian noise added to every observed position and velocity")
                .changed();
            changed |= ui
                .checkbox(&mut self.hidden, "hidden particle")
                .on_hover_text(
                    "Simulate a sixth particle that pulls and is pulled but is never observed",
                )
                .changed();
            if ui
                .button("Re-simulate")
                .on_hover_text("Draw new samples: new graphs, new starts")
                .clicked()
            {
                self.seed += 1;
                changed = true;
            }
            if changed {
                self.simulate();
            }
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "adaptation steps");
            if ui
                .add(egui::Slider::new(
                    &mut self.adaptation.steps,
                    0..=MAX_TTA_STEPS,
                ))
                .on_hover_text(
                    "Test-time adaptation: Adam steps on each sample's edge logits (ACD: 100)",
                )
                .changed()
            {
                self.adaptation.steps = self.adaptation.steps.min(MAX_TTA_STEPS);
                self.inferring.mark_stale();
            }
            slider_label(ui, "rate");
            if ui
                .add(
                    egui::Slider::new(&mut self.adaptation.learning_rate, 1e-4..=0.1)
                        .logarithmic(true),
                )
                .on_hover_text("Adam's learning rate in the adaptation (ACD: 0.01)")
                .changed()
            {
                self.adaptation.learning_rate = self.adaptation.learning_rate.clamp(1e-4, 0.1);
                self.inferring.mark_stale();
            }
        });
        ui.collapsing("Load a series CSV", |ui| {
            ui.label("sample,t,node,x,y,vx,vy — every sample's frames, one row per particle");
            if let Some(path) = self.series_field.ui(ui, "Load series") {
                match sim::load_series(&path) {
                    Ok(samples) if samples.len() > 10_000 => {
                        self.error = Some(format!(
                            "{}: {} samples; the panel takes at most 10000 (the command line more)",
                            path.display(),
                            samples.len()
                        ));
                    }
                    Ok(samples) => self.set_samples(samples, path.display().to_string()),
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
        });
        ui.collapsing("Export the shown method's edges (CSV)", |ui| {
            if let Some(path) = self.edges_field.ui(ui, "Save edges") {
                self.status = Some(
                    match self.inference.runs.iter().find(|r| r.method == self.shown) {
                        Some(run) => crate::files::write_atomic(
                            &path,
                            sim::edges_csv(&self.samples, &run.probabilities).as_bytes(),
                        )
                        .map(|()| format!("saved {}", path.display()))
                        .map_err(|e| format!("{e:#}")),
                        None => Err("no edges yet".to_owned()),
                    },
                );
            }
            crate::ui::outcome_ui(ui, self.status.as_ref());
        });
    }

    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            if self.training.buttons_ui(ui) {
                self.start_training(ui, ctx);
            }
        });
        ui.label("Trains on fresh simulated samples at the noise set above.");
        let terms = [
            ("nll", "decoder NLL", Method::Acd.kind().color()),
            ("kl", "KL to the prior", Method::Granger.kind().color()),
        ];
        let validation = Method::AcdTta.kind().color();
        self.training.curves_ui(ui, "causal", &terms, validation);
        if let Some(model) = self.training.files_ui(ui, KIND, &ctx.compute.device) {
            self.set_model(model);
        }
    }

    /// The particles of the shown sample at the shown frame, their trails, and the shown
    /// method's graph as arrows over them.
    pub(super) fn particles_ui(&self, ui: &mut Ui, size: egui::Vec2) -> Rect {
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let Some(series) = self.samples.get(self.shown_sample) else {
            return rect;
        };
        let n = series.nodes();
        // The sample's whole motion fitted into the square, aspect kept, y up.
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for t in 0..series.frames {
            for i in 0..n {
                let s = series.state(t, i);
                for d in 0..2 {
                    lo[d] = lo[d].min(s[d]);
                    hi[d] = hi[d].max(s[d]);
                }
            }
        }
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-9);
        let inner = rect.shrink(28.0);
        let side = inner.width().min(inner.height()).max(1.0);
        let scale = f64::from(side) / span;
        let origin = inner.center() - vec2(side, side) * 0.5;
        let pad = [
            (span - (hi[0] - lo[0])) / 2.0,
            (span - (hi[1] - lo[1])) / 2.0,
        ];
        let map = |x: f64, y: f64| {
            Pos2::new(
                origin.x + ((x - lo[0] + pad[0]) * scale) as f32,
                origin.y + side - ((y - lo[1] + pad[1]) * scale) as f32,
            )
        };
        let frame = self.frame.position().min(series.frames.saturating_sub(1));
        let radius = (side / 28.0).clamp(6.0, 16.0);
        // A probability-1 arrow is as wide as a third of a disc: thin enough on a small
        // drawing to tell the two directions of a pair apart.
        let arrow_width = radius * 0.4;
        for i in 0..n {
            let color = PARTICLE_COLORS[i % PARTICLE_COLORS.len()];
            let points: Vec<Pos2> = (0..=frame)
                .map(|t| {
                    let s = series.state(t, i);
                    map(s[0], s[1])
                })
                .collect();
            painter.add(egui::Shape::line(
                points,
                Stroke::new(2.0, color.gamma_multiply(0.55)),
            ));
        }
        let position = |i: usize| {
            let s = series.state(frame, i);
            map(s[0], s[1])
        };
        let truth = series.edge_labels();
        if let Some(probabilities) = self.shown_probabilities() {
            for (k, (target, source)) in sim::pairs(n).enumerate() {
                let p = probabilities.get(k).copied().unwrap_or(0.0).clamp(0.0, 1.0) as f32;
                let is_edge = truth.as_ref().map(|t| t[k]);
                let color = match is_edge {
                    Some(true) if p >= 0.5 => TRUE_POSITIVE,
                    Some(true) => MISSED,
                    Some(false) => FALSE_POSITIVE,
                    None => self.shown.kind().color(),
                };
                // Missed springs stay visible, thin; other arrows fade with their probability.
                let (width, alpha) = if is_edge == Some(true) && p < 0.5 {
                    (1.5, 0.8)
                } else {
                    (1.0 + arrow_width * p, p)
                };
                if alpha < 0.05 {
                    continue;
                }
                arrow(
                    &painter,
                    position(source),
                    position(target),
                    radius,
                    Stroke::new(width, color.gamma_multiply(alpha)),
                );
            }
        }
        if truth.is_some() && self.shown_probabilities().is_some() {
            let font = egui::TextStyle::Small.resolve(ui.style());
            let mut at = rect.left_bottom() + vec2(8.0, -6.0);
            for (text, color) in [
                ("spring found", TRUE_POSITIVE),
                ("false alarm", FALSE_POSITIVE),
                ("spring missed", MISSED),
            ] {
                let drawn = painter.text(at, egui::Align2::LEFT_BOTTOM, text, font.clone(), color);
                at.x = drawn.right() + 12.0;
            }
        }
        for i in 0..n {
            let at = position(i);
            painter.circle_filled(at, radius, PARTICLE_COLORS[i % PARTICLE_COLORS.len()]);
            painter.text(
                at,
                egui::Align2::CENTER_CENTER,
                &series.node_ids[i],
                egui::FontId::proportional(radius * 1.2),
                Color32::BLACK,
            );
        }
        rect
    }

    /// The table, the ROC curves and the AUROC per adaptation step, in `width`: the two plots
    /// stacked where there is height for them, side by side where there is not (a projector).
    pub(super) fn side_ui(&mut self, ui: &mut Ui, width: f32, height: f32) -> Rect {
        ui.vertical(|ui| {
            ui.set_width(width);
            let table = ui
                .vertical(|ui| metrics_table_ui(ui, "causal-metrics", &self.table))
                .response
                .rect;
            self.table_height = table.height();
            let left = (height - table.height() - 12.0).max(120.0);
            let with_steps = !self.inference.adaptation_auroc.is_empty();
            if !with_steps {
                self.roc_ui(ui, width, left - 24.0);
            } else if left >= 1.2 * width {
                self.roc_ui(ui, width, left * 0.6 - 24.0);
                self.adaptation_ui(ui, width, left * 0.4 - 24.0);
            } else {
                ui.horizontal_top(|ui| {
                    let half = (width - 8.0) / 2.0;
                    self.roc_ui(ui, half, left - 24.0);
                    self.adaptation_ui(ui, half, left - 24.0);
                });
            }
        })
        .response
        .rect
    }

    pub(super) fn roc_ui(&self, ui: &mut Ui, width: f32, height: f32) {
        let Some(labels) = self.labels() else {
            ui.label("No true graph in this file: no ROC curve.");
            return;
        };
        let truth: Vec<bool> = labels.iter().flatten().copied().collect();
        Plot::new("causal-roc")
            .height(height)
            .width(width)
            .x_axis_label("false-positive rate")
            .y_axis_label("true-positive rate")
            .data_aspect(1.0)
            .include_x(0.0)
            .include_x(1.0)
            .include_y(0.0)
            .include_y(1.0)
            .allow_scroll(false)
            .show(ui, |plot| {
                for run in &self.inference.runs {
                    let scores: Vec<f64> = run.probabilities.iter().flatten().copied().collect();
                    let curve = roc_curve(&scores, &truth);
                    plot.line(
                        Line::new(run.method.name(), PlotPoints::from(curve))
                            .color(run.method.kind().color())
                            .width(if run.method == self.shown { 3.5 } else { 2.0 }),
                    );
                }
                plot.line(
                    Line::new("chance", PlotPoints::from(vec![[0.0, 0.0], [1.0, 1.0]]))
                        .color(MISSED)
                        .style(egui_plot::LineStyle::dashed_dense()),
                );
            });
    }

    pub(super) fn adaptation_ui(&self, ui: &mut Ui, width: f32, height: f32) {
        let step = self.step.position() as f64;
        Plot::new("causal-tta")
            .height(height)
            .width(width)
            .x_axis_label("adaptation step")
            .y_axis_label("AUROC")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new(
                        "acd+tta",
                        PlotPoints::from(self.inference.adaptation_auroc.clone()),
                    )
                    .color(Method::AcdTta.kind().color())
                    .width(2.5),
                );
                plot.vline(egui_plot::VLine::new("step", step).color(MISSED));
            });
    }

    /// The motion's own play button and frame slider, and the sample slider, in the row `ui`.
    pub(super) fn motion_ui(&mut self, ui: &mut Ui) {
        let dt = ui.input(|i| i.stable_dt).min(0.1);
        if self.frame.advance(dt) || self.frame.is_playing() {
            ui.ctx().request_repaint();
        }
        let (icon, tip) = if self.frame.is_playing() {
            ("⏸", "Pause the motion")
        } else {
            ("▶", "Play the particles' motion")
        };
        if ui.button(icon).on_hover_text(tip).clicked() {
            if !self.frame.is_playing() && self.frame.position() + 1 >= self.frame.len() {
                self.frame.reset();
            }
            self.frame.toggle();
        }
        slider_label(ui, "frame");
        let mut position = self.frame.position();
        if ui
            .add(egui::Slider::new(
                &mut position,
                0..=self.frame.len().saturating_sub(1),
            ))
            .on_hover_text("The frame drawn: the particles with their trails so far")
            .changed()
        {
            self.frame.scrub(position);
        }
        if self.samples.len() > 1 {
            slider_label(ui, "sample");
            let mut k = self.shown_sample;
            if ui
                .add(egui::Slider::new(&mut k, 0..=self.samples.len() - 1))
                .on_hover_text("Which sample of the batch is drawn")
                .changed()
            {
                self.shown_sample = k.min(self.samples.len() - 1);
                self.update_table();
            }
        }
    }
}

/// An arrow from `from` to `to`, stopping at the target's disc, shifted sideways so that the
/// two directions of a pair do not overlap.
pub(super) fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, radius: f32, stroke: Stroke) {
    let d = to - from;
    let length = d.length();
    if length < 2.0 * radius + 2.0 {
        return;
    }
    let dir = d / length;
    let side = vec2(-dir.y, dir.x) * radius * 0.45;
    let start = from + dir * radius + side;
    let tip = to - dir * (radius + 1.0) + side;
    let head = (stroke.width * 2.5).max(8.0);
    let base = tip - dir * head;
    painter.line_segment([start, base], stroke);
    let wing = vec2(-dir.y, dir.x) * head * 0.5;
    painter.add(egui::Shape::convex_polygon(
        vec![tip, base + wing, base - wing],
        stroke.color,
        Stroke::NONE,
    ));
}

pub(super) fn figure_data(samples: &[Series], runs: &[Run]) -> FigureData {
    let mut rows = Vec::new();
    for (m, run) in runs.iter().enumerate() {
        for (s, (series, probabilities)) in samples.iter().zip(&run.probabilities).enumerate() {
            let truth = series.edge_labels();
            for (k, (target, source)) in sim::pairs(series.nodes()).enumerate() {
                rows.push(vec![
                    m as f64,
                    s as f64,
                    source as f64,
                    target as f64,
                    probabilities.get(k).copied().unwrap_or(f64::NAN),
                    truth
                        .as_ref()
                        .map_or(f64::NAN, |t| f64::from(u8::from(t[k]))),
                ]);
            }
        }
    }
    FigureData {
        headers: [
            "method_index",
            "sample_index",
            "source",
            "target",
            "probability",
            "true_edge",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}
