//! The TSP panel: the cities and the shown method's tour as it is built, step by step (the
//! attention model's pointer over the remaining cities as a heat overlay, the partial tour
//! growing, then the 2-opt moves one by one); every method's tour side by side with its length
//! and gap; a new instance (n slider), clicking to add and dragging to move cities, TSPLIB files
//! in, tours and figures out; training. No math here: it calls `sim`, `methods` and `train`.

use burn::module::Module;
use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Ui, vec2};

use super::classical::EXACT_MAX;
use super::methods::{
    AmDecoding, LearnedModel, Method, Solution, gap_percent, solve, solve_learned,
};
use super::model::{KIND, shipped_for};
use super::sim::{self, Instance, tour_text};
use super::train::{TrainConfig, train};
use crate::demos::{Demo, DemoCtx};
use crate::jobs::JobError;
use crate::ui::export::{FigureData, FigureExporter};
use crate::ui::file_dialog::{DialogKind, PathField};
use crate::ui::job_slot::{JobOutcome, JobSlot};
use crate::ui::metrics::{KindColor, MethodRow, Metric, MetricsTable, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::{Timeline, timeline_ui};
use crate::ui::training_section::TrainingSection;

const START_COLOR: Color32 = Color32::from_rgb(20, 150, 60);
const HEAT_COLOR: Color32 = Color32::from_rgb(240, 120, 0);
const MOVE_COLOR: Color32 = Color32::from_rgb(220, 30, 30);
const MAX_CITIES: usize = 300;
/// The most sampled rollouts per start and symmetry the panel asks for (seconds at 300 cities).
const MAX_SAMPLES: usize = 16;
/// Below this width the side-by-side tours go under the main view.
const MIN_SIDE_WIDTH: f32 = 380.0;

/// Instance coordinates to the screen and back: the cities' bounding box fitted into a rect,
/// aspect ratio kept, y up.
#[derive(Clone, Copy, Debug)]
struct ScreenMap {
    lo: [f64; 2],
    origin: Pos2,
    side: f32,
    scale: f64,
}

impl ScreenMap {
    fn new(coords: &[[f64; 2]], rect: Rect) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for c in coords {
            for k in 0..2 {
                lo[k] = lo[k].min(c[k]);
                hi[k] = hi[k].max(c[k]);
            }
        }
        if !lo[0].is_finite() {
            (lo, hi) = ([0.0; 2], [1.0; 2]);
        }
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-12);
        let inner = rect.shrink(14.0);
        let side = inner.width().min(inner.height()).max(1.0);
        Self {
            lo,
            origin: inner.center() - vec2(side, side) * 0.5,
            side,
            scale: f64::from(side) / span,
        }
    }

    fn to_screen(self, c: [f64; 2]) -> Pos2 {
        Pos2::new(
            self.origin.x + ((c[0] - self.lo[0]) * self.scale) as f32,
            self.origin.y + self.side - ((c[1] - self.lo[1]) * self.scale) as f32,
        )
    }

    fn to_instance(self, p: Pos2) -> [f64; 2] {
        [
            self.lo[0] + f64::from(p.x - self.origin.x) / self.scale,
            self.lo[1] + f64::from(self.origin.y + self.side - p.y) / self.scale,
        ]
    }
}

/// One method's answer on the current instance.
#[derive(Clone, Debug)]
struct Run {
    solution: Solution,
    seconds: f64,
}

pub struct TspDemo {
    instance: Instance,
    /// The proven optimum of a shipped TSPLIB instance (or Held–Karp's, found by the solve).
    optimum: Option<f64>,
    n: usize,
    seed: u64,
    /// The attention model's sampled rollouts per start and symmetry (0: greedy).
    samples: usize,
    runs: Vec<Run>,
    shown: Method,
    step: Timeline,
    table: MetricsTable,
    solving: JobSlot<Vec<Run>>,
    learned: Option<LearnedModel>,
    loaded_shipped: bool,
    train_n: usize,
    training: TrainingSection<LearnedModel, TrainConfig>,
    status: Option<Result<String, String>>,
    instance_field: PathField,
    tour_field: PathField,
    edit: bool,
    dragging: Option<usize>,
    exporter: FigureExporter,
    figure_rect: Rect,
    /// The metrics table's height in the last frame, to size the main view above it.
    table_height: f32,
    error: Option<String>,
}

impl Default for TspDemo {
    fn default() -> Self {
        let n = 20;
        Self {
            instance: Instance::random(n, 1),
            optimum: None,
            n,
            seed: 1,
            samples: 0,
            runs: Vec::new(),
            shown: Method::AmTwoOpt,
            step: Timeline::new(0),
            table: MetricsTable::new(vec![
                Metric::new("length", false, 3).with_hint("The closed tour's length, in the instance's units"),
                Metric::new("gap %", false, 2).with_hint(
                    "How much longer than the optimum (proven for TSPLIB, Held–Karp's up to 20 cities), \
                     else than the best tour here",
                ),
            ]),
            solving: JobSlot::new(true),
            learned: None,
            loaded_shipped: false,
            train_n: 20,
            training: TrainingSection::new(300.0, 10.0..=3600.0, "tsp-am.mpk")
                .log_scale(false),
            status: None,
            instance_field: PathField::new(DialogKind::Open, "TSPLIB instance", &["tsp"], ""),
            tour_field: PathField::new(DialogKind::Save, "TSPLIB tour", &["tour"], "tour.tour"),
            edit: false,
            dragging: None,
            exporter: FigureExporter::new("tsp"),
            figure_rect: Rect::NOTHING,
            table_height: 200.0,
            error: None,
        }
    }
}

impl TspDemo {
    fn set_instance(&mut self, instance: Instance, optimum: Option<f64>) {
        self.instance = instance;
        self.optimum = optimum;
        self.runs.clear();
        self.table.rows.clear();
        self.solving.mark_stale();
    }

    fn new_random(&mut self) {
        self.n = self.n.clamp(3, MAX_CITIES);
        self.set_instance(Instance::random(self.n, self.seed), None);
    }

    fn load_shipped(&mut self, device: &burn::tensor::Device) {
        self.loaded_shipped = true;
        match shipped_for(self.instance.len(), device) {
            Ok(model) => self.set_model(model),
            Err(e) => self.status = Some(Err(format!("{e:#}"))),
        }
    }

    fn set_model(&mut self, model: LearnedModel) {
        self.learned = Some(model);
        self.runs.clear();
        self.solving.mark_stale();
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let device = ctx.compute.device.clone();
        let instance = self.instance.clone();
        let samples = self.samples.min(MAX_SAMPLES);
        let learned = self.learned.as_ref().map(|m| LearnedModel {
            net: m.net.clone().to_device(&device),
            config: m.config.clone(),
            trained_n: m.trained_n,
        });
        let started = self
            .solving
            .start("tsp tours", (), ui.ctx(), ctx.jobs, move |job| {
                let classical: Vec<Method> = Method::ALL
                    .into_iter()
                    .filter(|m| *m != Method::Exact || instance.len() <= EXACT_MAX)
                    .filter(|m| !m.is_learned())
                    .collect();
                let steps = classical.len() + usize::from(learned.is_some());
                let mut runs = Vec::new();
                for (i, method) in classical.iter().enumerate() {
                    job.check_cancelled()?;
                    let started = std::time::Instant::now();
                    let solution = solve(*method, &instance, None, AmDecoding::single(), &device)
                        .map_err(JobError::Failed)?;
                    runs.push(Run {
                        solution,
                        seconds: started.elapsed().as_secs_f64(),
                    });
                    job.report_fraction((i + 1) as f32 / steps as f32);
                }
                if let Some(model) = &learned {
                    job.check_cancelled()?;
                    let decoding = AmDecoding {
                        samples,
                        ..AmDecoding::multi_start(instance.len())
                    };
                    // One decoding serves both learned methods.
                    for (solution, seconds) in solve_learned(model, &instance, decoding, &device) {
                        runs.push(Run { solution, seconds });
                    }
                }
                Ok(runs)
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start solving: {e}"));
        }
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let mut config = TrainConfig::new(self.train_n);
        config.schedule.for_panel(self.training.budget_secs);
        config.schedule.seed = self.seed;
        config.val_instances = 100;
        if let Some(model) = &self.learned {
            // Continue from the model on screen when it has the default size.
            if model.config == config.model {
                config.model = model.config.clone();
            }
        }
        let name = format!("train am (n {})", config.n);
        self.training.start(name, config, ui.ctx(), ctx, train);
    }

    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        if let Some(model) = self.training.poll() {
            self.set_model(model);
        }
        match self.solving.poll() {
            Some(((), JobOutcome::Finished(runs))) => {
                if let Some(exact) = runs.iter().find(|r| r.solution.method == Method::Exact) {
                    self.optimum = Some(exact.solution.length);
                }
                self.runs = runs;
                self.update_table();
                self.select(self.shown);
                self.error = None;
            }
            Some(((), JobOutcome::Failed(msg))) => self.error = Some(msg),
            _ => {}
        }
        if self.solving.is_due() {
            self.start_inference(ui, ctx);
        }
    }

    /// The length the gaps are measured against, and what it is.
    fn reference(&self) -> Option<(f64, &'static str)> {
        if let Some(opt) = self.optimum {
            return Some((opt, "the optimum"));
        }
        self.runs
            .iter()
            .map(|r| r.solution.length)
            .min_by(f64::total_cmp)
            .map(|best| (best, "the best tour here"))
    }

    fn update_table(&mut self) {
        let reference = self.reference().map(|r| r.0);
        self.table.rows = self
            .runs
            .iter()
            .map(|run| MethodRow {
                method: run.solution.method.label().to_owned(),
                kind: run.solution.method.kind(),
                values: vec![
                    Some(run.solution.length),
                    reference.map(|r| shown_gap(run.solution.length, r)),
                ],
                seconds: Some(run.seconds),
            })
            .collect();
    }

    fn select(&mut self, method: Method) {
        // A method that did not run (no model, too many cities for the exact one): the last that did.
        self.shown = if self.runs.iter().any(|r| r.solution.method == method) {
            method
        } else {
            self.runs.last().map_or(method, |r| r.solution.method)
        };
        let len = self.shown_run().map_or(0, |r| r.solution.trace.steps());
        self.step.set_len(len);
        self.step.go_to_end();
    }

    fn shown_run(&self) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.solution.method == self.shown)
            .or_else(|| self.runs.last())
    }

    fn instance_controls_ui(&mut self, ui: &mut Ui) {
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

    fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
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

    fn mapping(&self, rect: Rect) -> impl Fn([f64; 2]) -> Pos2 + use<> {
        let view = ScreenMap::new(&self.instance.coords, rect);
        move |c| view.to_screen(c)
    }

    /// The main view: cities, the shown tour at the current step, the model's attention and the
    /// 2-opt move of this step.
    fn tour_ui(&mut self, ui: &mut Ui, size: egui::Vec2) -> Rect {
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

    fn edit_cities(&mut self, response: &egui::Response, rect: Rect) {
        let nearest = |demo: &Self, p: Pos2| {
            let map = demo.mapping(rect);
            demo.instance
                .coords
                .iter()
                .enumerate()
                .map(|(i, &c)| (i, map(c).distance(p)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .filter(|(_, d)| *d < 12.0)
                .map(|(i, _)| i)
        };
        if response.drag_started()
            && let Some(p) = response.interact_pointer_pos()
        {
            self.dragging = nearest(self, p);
        }
        if response.dragged()
            && let (Some(i), Some(p)) = (self.dragging, response.interact_pointer_pos())
        {
            let to = ScreenMap::new(&self.instance.coords, rect).to_instance(p);
            let moved = self.instance.with_city_at(i, to);
            self.set_instance(moved, None);
        }
        if response.drag_stopped() {
            self.dragging = None;
        }
        if response.clicked()
            && let Some(p) = response.interact_pointer_pos()
            && nearest(self, p).is_none()
            && self.instance.len() < MAX_CITIES
        {
            let at = ScreenMap::new(&self.instance.coords, rect).to_instance(p);
            let added = self.instance.with_city_added(at);
            self.n = added.len();
            self.set_instance(added, None);
        }
    }

    /// Every method's final tour, small, with its length; a click shows it large.
    /// Sized to fit `width` × `height`, with as many columns as make the tours largest.
    fn side_by_side_ui(&mut self, ui: &mut Ui, width: f32, height: f32) -> Rect {
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
fn metrics_table_ui_rect(ui: &mut Ui, table: &MetricsTable) -> Rect {
    ui.vertical(|ui| metrics_table_ui(ui, "tsp-metrics", table))
        .response
        .rect
}

/// The gap in percent, with the float noise of an equal tour shown as 0 (not −2e-14).
fn shown_gap(length: f64, reference: f64) -> f64 {
    let gap = gap_percent(length, reference);
    if gap.abs() < 1e-9 { 0.0 } else { gap }
}

fn figure_data(instance: &Instance, runs: &[Run]) -> FigureData {
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

impl Demo for TspDemo {
    fn name(&self) -> &'static str {
        super::NAME
    }
    fn title(&self) -> &'static str {
        "TSP tours"
    }
    fn summary(&self) -> &'static str {
        "Cities in the unit square, tours by search and by attention"
    }
    fn explanation(&self) -> &'static str {
        "Forward model: the length of a closed tour through the cities. Inverses: nearest \
         neighbour, farthest insertion, 2-opt local search and Held–Karp's exact dynamic program \
         (classical), an attention model trained with REINFORCE that builds a tour city by city \
         (amortized), and the model's tour improved by 2-opt (augmented)."
    }

    fn figure_rect(&self) -> Rect {
        self.figure_rect
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.instance_controls_ui(ui);
        ui.collapsing("Attention model: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
        ui.collapsing("Export figure", |ui| {
            let rect = self.figure_rect;
            let (instance, runs) = (&self.instance, &self.runs);
            self.exporter.ui(ui, rect, || figure_data(instance, runs));
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        if !self.loaded_shipped {
            self.load_shipped(&ctx.compute.device);
        }
        self.poll(ui, ctx);
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, err);
        }
        ui.horizontal_wrapped(|ui| {
            let methods: Vec<Method> = self.runs.iter().map(|r| r.solution.method).collect();
            let text = |m: Method| (m.name(), m.kind());
            let tooltip = |m: Method| format!("{}: {}", m.label(), m.hint());
            let shown = self.shown;
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Which method's steps the timeline plays",
                &methods,
                shown,
                text,
                tooltip,
            ) {
                self.select(method);
            }
        });
        timeline_ui(ui, &mut self.step, "step", true);
        let figure_top = ui.cursor().min;
        let reference = self.reference();
        let status = self.shown_run().map(|run| {
            let trace = &run.solution.trace;
            let step = self.step.position().min(trace.steps().saturating_sub(1));
            let (tour, two_opt) = trace.tour_at(step);
            let what = if two_opt {
                let k = step + 1 - trace.partial.len();
                format!(
                    "2-opt move {k} of {} (red: the edges put in)",
                    trace.moves.len()
                )
            } else if tour.len() < self.instance.len() {
                let heat = if run.solution.method.is_learned() {
                    "; orange: where the model points next"
                } else {
                    ""
                };
                format!(
                    "{} of {} cities placed{heat}",
                    tour.len(),
                    self.instance.len()
                )
            } else {
                "the tour".to_owned()
            };
            let gap = reference.map_or(String::new(), |(r, name)| {
                format!(", {:+.2}% over {name}", shown_gap(run.solution.length, r))
            });
            format!(
                "{} on {} ({} cities) — {what}; final length {:.4}{gap}",
                run.solution.method.label(),
                self.instance.name,
                self.instance.len(),
                run.solution.length
            )
        });
        ui.label(RichText::new(status.unwrap_or_else(|| "solving…".to_owned())).strong());
        let available = ui.available_size();
        // The tours are square: the main one as large as the height allows, the rest beside it.
        let main_side = available.y.min(available.x * 0.58).max(260.0);
        let side_width = available.x - main_side - 8.0;
        let rect = if side_width >= MIN_SIDE_WIDTH {
            ui.horizontal_top(|ui| {
                let main = self.tour_ui(ui, vec2(main_side, main_side));
                let side = ui.vertical(|ui| {
                    ui.set_width(side_width);
                    let table = metrics_table_ui_rect(ui, &self.table);
                    let left = available.y - table.height() - 8.0;
                    self.side_by_side_ui(ui, side_width, left)
                });
                main.union(side.response.rect)
            })
            .inner
        } else {
            // Stacked: the table (last frame's height) and the tours below the main view; the
            // small tours only where they fit.
            let main_height = (available.y - self.table_height - 16.0).max(200.0);
            let main = self.tour_ui(ui, vec2(available.x, main_height));
            let table = metrics_table_ui_rect(ui, &self.table);
            self.table_height = table.height();
            let left = available.y - main_height - table.height() - 16.0;
            if left >= 90.0 {
                main.union(table)
                    .union(self.side_by_side_ui(ui, available.x, left))
            } else {
                main.union(table)
            }
        };
        self.figure_rect = Rect::from_min_max(figure_top, rect.max);
    }
}
