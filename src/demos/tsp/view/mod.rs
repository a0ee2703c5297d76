//! The TSP panel: the cities and the shown method's tour as it is built, step by step (the
//! attention model's pointer over the remaining cities as a heat overlay, the partial tour
//! growing, then the 2-opt moves one by one); every method's tour side by side with its length
//! and gap; a new instance (n slider), clicking to add and dragging to move cities, TSPLIB files
//! in, tours and figures out; training. No math here: it calls `sim`, `methods` and `train`.

use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Ui, vec2};

use super::classical::EXACT_MAX;
use super::methods::{
    AmDecoding, LearnedModel, Method, Solution, gap_percent, solve, solve_learned,
};
use super::model::{KIND, shipped_for};
use super::sim::{self, Instance, tour_text};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx};
use crate::jobs::JobError;
use crate::ui::export::FigureData;
use crate::ui::file_dialog::{DialogKind, PathField};
use crate::ui::job_slot::JobSlot;
use crate::ui::metrics::{KindColor, MethodRow, Metric, MetricsTable, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::{Timeline, timeline_ui};
use crate::ui::training_section::TrainingSection;

mod example;
mod paint;

use crate::demos::DemoMethod;
use crate::stored_model::StoredModel;
use paint::*;

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
    /// The metrics table's height in the last frame, to size the main view above it.
    table_height: f32,
    error: Option<String>,
}

impl Default for TspDemo {
    fn default() -> Self {
        // 50 cities: there the methods differ (mean gaps to the optimum, docs/tsp.md: nearest
        // neighbour 22.9%, insertion 5.5%, 2-opt 3.6%, am 2.9%, am+2opt 1.2%); at 20 they
        // nearly all reach it.
        let n = 50;
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
        let learned = self.learned.as_ref().map(|m| m.to_device(&device));
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

    fn mapping(&self, rect: Rect) -> impl Fn([f64; 2]) -> Pos2 + use<> {
        let view = ScreenMap::new(&self.instance.coords, rect);
        move |c| view.to_screen(c)
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
}

const ABOUT: About = About {
    name: super::NAME,
    title: "TSP tours",
    summary: "Cities in the unit square, tours by search and by attention",
    explanation: "Forward model: the length of a closed tour through the cities. Inverses: nearest \
     neighbour, farthest insertion, 2-opt local search and Held–Karp's exact dynamic program \
     (classical), an attention model trained with REINFORCE that builds a tour city by city \
     (amortized), and the model's tour improved by 2-opt (augmented).",
};

impl Demo for TspDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        if !self.loaded_shipped {
            self.load_shipped(&ctx.compute.device);
        }
        if let Some(model) = self.training.poll() {
            self.set_model(model);
        }
        if let Some(runs) = self.solving.finished(&mut self.error) {
            if let Some(exact) = runs.iter().find(|r| r.solution.method == Method::Exact) {
                self.optimum = Some(exact.solution.length);
            }
            self.runs = runs;
            self.update_table();
            self.select(self.shown);
            self.error = None;
        }
        if self.solving.is_due() {
            self.start_inference(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.instance_controls_ui(ui);
        ui.collapsing("Attention model: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            let methods: Vec<Method> = self.runs.iter().map(|r| r.solution.method).collect();
            let shown = self.shown;
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Which method's steps the timeline plays",
                &methods,
                shown,
                true,
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
                    let table = metrics_table_ui_rect(ui, &self.table, self.instance.len());
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
            let table = metrics_table_ui_rect(ui, &self.table, self.instance.len());
            self.table_height = table.height();
            let left = available.y - main_height - table.height() - 16.0;
            if left >= 90.0 {
                main.union(table)
                    .union(self.side_by_side_ui(ui, available.x, left))
            } else {
                main.union(table)
            }
        };
        ctx.figure_rect = Rect::from_min_max(figure_top, rect.max);
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(&self.instance, &self.runs)
    }
}
