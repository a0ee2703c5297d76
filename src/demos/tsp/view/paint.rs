//! The panel's painting: its controls, figures, plots and figure export, drawn from the
//! state and results `view/mod.rs` keeps.

use super::*;

impl TspDemo {
    pub(super) fn instance_controls_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "cities");
            let changed = ui
                .add(egui::Slider::new(&mut self.n, 3..=MAX_CITIES).logarithmic(true))
                .on_hover_text("Cities of a new random instance, uniform in the unit square")
                .changed();
            if ui
                .button("New instance")
                .on_hover_text("Draw other random cities")
                .clicked()
            {
                self.seed += 1;
                self.new_random();
            } else if changed {
                self.new_random();
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("TSPLIB");
            for name in sim::SHIPPED {
                if ui
                    .selectable_label(self.instance.name == name, name)
                    .on_hover_text("A shipped TSPLIB instance, with its proven optimum")
                    .clicked()
                    && let Some((instance, optimum)) = sim::shipped(name)
                {
                    self.set_instance(instance, Some(optimum));
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "model samples");
            if ui
                .add(egui::Slider::new(&mut self.samples, 0..=MAX_SAMPLES))
                .on_hover_text(
                    "0: the attention model decodes greedily from each start city; N: it samples N \
                     tours from each start city and symmetry and keeps the shortest",
                )
                .changed()
            {
                self.samples = self.samples.min(MAX_SAMPLES);
                self.runs.clear();
                self.solving.mark_stale();
            }
        });
        ui.checkbox(&mut self.edit, "Edit cities: click to add, drag to move")
            .on_hover_text("Every method solves the edited instance again");
        ui.collapsing("Load a TSPLIB file", |ui| {
            if let Some(path) = self.instance_field.ui(ui, "Load instance") {
                match sim::read_tsp(&path) {
                    Ok(instance) if instance.len() > MAX_CITIES => {
                        self.error = Some(format!(
                            "{}: {} cities; the panel shows at most {MAX_CITIES} (the command \
                             line takes more)",
                            path.display(),
                            instance.len()
                        ));
                    }
                    Ok(instance) => self.set_instance(instance, None),
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
        });
        ui.collapsing("Export the shown tour (.tour)", |ui| {
            if let Some(path) = self.tour_field.ui(ui, "Save tour") {
                self.status = Some(match self.shown_run() {
                    Some(run) => {
                        let comment = format!(
                            "{} length {}",
                            run.solution.method.name(),
                            run.solution.length
                        );
                        crate::files::write_atomic(
                            &path,
                            tour_text(&self.instance, &run.solution.tour, &comment).as_bytes(),
                        )
                        .map(|()| format!("saved {}", path.display()))
                        .map_err(|e| format!("{e:#}"))
                    }
                    None => Err("no tour yet".to_owned()),
                });
            }
            crate::ui::outcome_ui(ui, self.status.as_ref());
        });
    }

    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "train on n");
            ui.add(egui::Slider::new(&mut self.train_n, 5..=100))
                .on_hover_text("Cities per training instance");
            if self.training.buttons_ui(ui) {
                self.start_training(ui, ctx);
            }
        });
        let terms = [
            (
                "sampled",
                "mean sampled tour length (the shared baseline)",
                Method::TwoOpt.kind().color(),
            ),
            (
                "best of starts",
                "mean best-of-starts length (the model's)",
                Method::Am.kind().color(),
            ),
        ];
        let validation = Method::AmTwoOpt.kind().color();
        self.training.curves_ui(ui, "tsp", &terms, validation);
        if let Some(model) = self.training.files_ui(ui, KIND, &ctx.compute.device) {
            self.set_model(model);
        }
    }

    /// The main view: cities, the shown tour at the current step, the model's attention and the
    /// 2-opt move of this step.
    pub(super) fn tour_ui(&mut self, ui: &mut Ui, size: egui::Vec2) -> Rect {
        let sense = if self.edit {
            Sense::click_and_drag()
        } else {
            Sense::hover()
        };
        let (rect, response) = ui.allocate_exact_size(size, sense);
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let map = self.mapping(rect);
        let n = self.instance.len();
        let radius = (rect.width().min(rect.height()) / (n as f32).sqrt() / 6.0).clamp(2.0, 7.0);
        let step = self.step.position();
        let shown = self.shown_run().map(|run| {
            let trace = &run.solution.trace;
            let step = step.min(trace.steps().saturating_sub(1));
            let (tour, two_opt) = trace.tour_at(step);
            // Where the model points next: its probabilities for the city after this step's.
            let heat = (!two_opt && tour.len() < n)
                .then(|| trace.attention.get(step))
                .flatten()
                .cloned();
            let mv = two_opt
                .then(|| trace.moves.get(step - trace.partial.len()))
                .flatten()
                .copied();
            (run.solution.method, tour, heat, mv)
        });
        if let Some((method, tour, heat, mv)) = &shown {
            if let Some(heat) = heat {
                let peak = heat.iter().copied().fold(1e-6, f32::max);
                for (c, p) in heat.iter().enumerate() {
                    if *p > 1e-3 {
                        let r = radius * (1.0 + 3.0 * (p / peak).sqrt());
                        let alpha = (60.0 + 180.0 * p / peak) as u8;
                        painter.circle_filled(
                            map(self.instance.coords[c]),
                            r,
                            Color32::from_rgba_unmultiplied(
                                HEAT_COLOR.r(),
                                HEAT_COLOR.g(),
                                HEAT_COLOR.b(),
                                alpha,
                            ),
                        );
                    }
                }
            }
            let color = method.kind().color();
            let closed = tour.len() == n;
            let mut points: Vec<Pos2> =
                tour.iter().map(|&c| map(self.instance.coords[c])).collect();
            if closed && let Some(&first) = points.first() {
                points.push(first);
            }
            painter.add(egui::Shape::line(points, Stroke::new(2.5, color)));
            if let Some(mv) = mv {
                // The two edges this move put in.
                let at = |k: usize| map(self.instance.coords[tour[k % n]]);
                for (a, b) in [(mv.i, mv.i + 1), (mv.i + 1, mv.j + 1)] {
                    painter.line_segment([at(a), at(b)], Stroke::new(5.0, MOVE_COLOR));
                }
            }
        }
        let start = shown.as_ref().and_then(|s| s.1.first().copied());
        let city_color = ui.visuals().strong_text_color();
        for (c, &coord) in self.instance.coords.iter().enumerate() {
            let color = if Some(c) == start {
                START_COLOR
            } else {
                city_color
            };
            painter.circle_filled(map(coord), radius, color);
        }
        if self.edit {
            self.edit_cities(&response, rect);
        }
        rect
    }

    /// Every method's final tour, small, with its length; a click shows it large.
    /// Sized to fit `width` × `height`, with as many columns as make the tours largest.
    pub(super) fn side_by_side_ui(&mut self, ui: &mut Ui, width: f32, height: f32) -> Rect {
        let count = self.runs.len().max(1);
        let label = ui.text_style_height(&egui::TextStyle::Body) + 10.0;
        let fit = |columns: usize| {
            let rows = count.div_ceil(columns) as f32;
            let by_width = (width - 8.0 * (columns as f32 - 1.0)) / columns as f32;
            let by_height = ((height - rows * label) / rows) / 0.8;
            by_width.min(by_height)
        };
        let columns = (1..=count)
            .max_by(|&a, &b| fit(a).total_cmp(&fit(b)))
            .unwrap_or(1);
        let side = fit(columns).clamp(48.0, 260.0);
        let mut clicked = None;
        let response = ui.vertical(|ui| {
            egui::Grid::new("tsp-side-by-side")
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    for (k, run) in self.runs.iter().enumerate() {
                        let method = run.solution.method;
                        ui.vertical(|ui| {
                            let (rect, response) =
                                ui.allocate_exact_size(vec2(side, side * 0.8), Sense::click());
                            let painter = ui.painter_at(rect);
                            let stroke = if method == self.shown { 2.0 } else { 0.5 };
                            painter.rect_stroke(
                                rect,
                                3.0,
                                Stroke::new(stroke, method.kind().color()),
                                egui::StrokeKind::Inside,
                            );
                            let map = self.mapping(rect);
                            let mut points: Vec<Pos2> = run
                                .solution
                                .tour
                                .iter()
                                .map(|&c| map(self.instance.coords[c]))
                                .collect();
                            if let Some(&first) = points.first() {
                                points.push(first);
                            }
                            painter.add(egui::Shape::line(
                                points,
                                Stroke::new(1.5, method.kind().color()),
                            ));
                            if response.on_hover_text(method.hint()).clicked() {
                                clicked = Some(method);
                            }
                            ui.label(
                                RichText::new(format!(
                                    "{}: {:.3}",
                                    method.name(),
                                    run.solution.length
                                ))
                                .color(method.kind().color()),
                            );
                        });
                        if (k + 1) % columns == 0 || k + 1 == count {
                            ui.end_row();
                        }
                    }
                });
        });
        if let Some(method) = clicked {
            self.select(method);
        }
        response.response.rect
    }
}

/// The metrics table, and where it was drawn.
/// The table, and below it why the exact solver has no row above its size.
pub(super) fn metrics_table_ui_rect(ui: &mut Ui, table: &MetricsTable, cities: usize) -> Rect {
    ui.vertical(|ui| {
        metrics_table_ui(ui, "tsp-metrics", table);
        if cities > EXACT_MAX {
            ui.label(
                RichText::new(format!(
                    "Held–Karp (exact) runs up to {EXACT_MAX} cities; the gaps are to the best \
                     tour here"
                ))
                .weak(),
            );
        }
    })
    .response
    .rect
}

/// The gap in percent, with the float noise of an equal tour shown as 0 (not −2e-14).
pub(super) fn shown_gap(length: f64, reference: f64) -> f64 {
    let gap = gap_percent(length, reference);
    if gap.abs() < 1e-9 { 0.0 } else { gap }
}

pub(super) fn figure_data(instance: &Instance, runs: &[Run]) -> FigureData {
    let mut rows = Vec::new();
    for (c, coord) in instance.coords.iter().enumerate() {
        rows.push(vec![
            0.0,
            f64::NAN,
            c as f64 + 1.0,
            coord[0],
            coord[1],
            f64::NAN,
        ]);
    }
    for (m, run) in runs.iter().enumerate() {
        for (k, &c) in run.solution.tour.iter().enumerate() {
            rows.push(vec![
                1.0,
                m as f64,
                c as f64 + 1.0,
                k as f64,
                f64::NAN,
                run.solution.length,
            ]);
        }
    }
    FigureData {
        headers: [
            "city_0_tour_1",
            "method_index",
            "city",
            "x_or_position",
            "y",
            "length",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}
