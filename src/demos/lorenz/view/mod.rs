//! The Lorenz panel: reads a simulated trajectory and draws it; no math here.

use egui::{Color32, RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints, Points, VLine};

use super::methods::Method;
use super::methods::{ClassicalSettings, MethodResult, compare_classical, mse};
use super::model::{ChainKind, ChainModel, ChainModelConfig};
use super::sim::{SimConfig, State, Trajectory, simulate};
use super::train::{TrainConfig, train};
use crate::demos::MethodKind;
use crate::demos::{About, Demo, DemoCtx};
use crate::render::{Points3d, Polyline3d, Scene3d, View3d};
use crate::stored_model::StoredModel;
use crate::ui::export::FigureData;
use crate::ui::job_slot::{JobOutcome, JobSlot};
use crate::ui::metrics::{KindColor, MethodRow, Metric, MetricsTable, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::{Timeline, timeline_ui};
use crate::ui::training_section::TrainingSection;

// Mid gray reads on both the dark and the light theme.
mod example;
mod paint;

use crate::demos::DemoMethod;
use paint::*;

const TRUTH_COLOR: Color32 = Color32::from_rgb(150, 150, 150);
const OBSERVATION_COLOR: Color32 = Color32::from_rgb(230, 80, 60);
const MARKER_COLOR: Color32 = Color32::from_rgb(255, 196, 0);
/// The metrics table stands beside the figure when this much width (points) is left for it.
const FIGURE_WIDTH_BESIDE_TABLE: f32 = 640.0;
/// Below this the figure scrolls rather than shrinks.
const MIN_FIGURE_HEIGHT: f32 = 220.0;

pub struct LorenzDemo {
    config: SimConfig,
    trajectory: Option<Trajectory>,
    classical: ClassicalSettings,
    results: Vec<MethodResult>,
    table: MetricsTable,
    error: Option<String>,
    view3d: View3d,
    timeline: Timeline,
    /// The metrics table's width last frame, to place it beside the figure or under it.
    table_width: f32,
    learned: Learned,
}

/// One learned model's inference on the current trajectory: the estimate after every iteration.
#[derive(Clone, Debug)]
struct LearnedRun {
    kind: ChainKind,
    iterations: Vec<Vec<State>>,
    mse_per_iteration: Vec<f64>,
    seconds: f64,
}

/// The learned inverses: training, the trained models, and their runs.
struct Learned {
    hybrid: bool,
    train_samples: usize,
    /// Unrolled inference iterations of the model to train.
    iterations: usize,
    training: TrainingSection<ChainModel, TrainConfig>,
    /// Every model's run on the trajectory; stale once the trajectory or the models change.
    inference: JobSlot<Vec<LearnedRun>>,
    /// The latest model of each kind.
    models: Vec<ChainModel>,
    runs: Vec<LearnedRun>,
    iteration: Timeline,
}

impl Default for Learned {
    fn default() -> Self {
        Self {
            hybrid: true,
            train_samples: 2000,
            iterations: ChainModelConfig::hybrid().iterations,
            training: TrainingSection::new(120.0, 10.0..=1800.0, "lorenz-hybrid.mpk"),
            inference: JobSlot::new(true),
            models: Vec::new(),
            runs: Vec::new(),
            iteration: Timeline::new(0),
        }
    }
}

impl Default for LorenzDemo {
    fn default() -> Self {
        let mut demo = Self {
            config: SimConfig {
                steps: 400,
                ..SimConfig::default()
            },
            trajectory: None,
            classical: ClassicalSettings::default(),
            results: Vec::new(),
            table: MetricsTable::new(vec![Metric::new("mse", false, 4).with_hint(
                "MSE = mean over time steps and coordinates of (estimate − truth)²: lower is better",
            )]),
            error: None,
            view3d: View3d::new(egui::Id::unique("lorenz-3d")),
            timeline: Timeline::new(0),
            table_width: 420.0,
            learned: Learned::default(),
        };
        demo.resimulate();
        demo
    }
}

impl LorenzDemo {
    fn resimulate(&mut self) {
        match simulate(&self.config) {
            Ok(trajectory) => {
                self.timeline.set_len(trajectory.t.len());
                self.trajectory = Some(trajectory);
                self.error = None;
                self.rerun_inverses();
                self.learned.mark_stale();
                self.rebuild_scene(true);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Runs every available inverse on the current trajectory (milliseconds: no job needed).
    fn rerun_inverses(&mut self) {
        let Some(tr) = &self.trajectory else { return };
        self.classical.obs_std = self.config.obs_std.max(1e-3);
        match compare_classical(tr, &self.classical, self.config.substeps) {
            Ok(results) => {
                self.table.rows = results
                    .iter()
                    .map(|r| MethodRow {
                        method: r.name.clone(),
                        kind: r.kind,
                        values: vec![Some(r.mse)],
                        seconds: Some(r.seconds),
                    })
                    .collect();
                self.results = results;
            }
            Err(e) => {
                self.results.clear();
                self.table.rows.clear();
                self.error = Some(format!("{e:#}"));
            }
        }
    }

    /// Adds the learned models' rows (final iteration) to the table.
    fn update_learned_rows(&mut self) {
        self.table
            .rows
            .retain(|r| !matches!(r.kind, MethodKind::Amortized | MethodKind::Augmented));
        for run in &self.learned.runs {
            let method = Method::learned(run.kind);
            let (name, kind) = (method.label(), method.kind());
            self.table.rows.push(MethodRow {
                method: name.to_owned(),
                kind,
                values: vec![run.mse_per_iteration.last().copied()],
                seconds: Some(run.seconds),
            });
        }
    }

    /// The smoother's estimate, the one drawn in 3-D.
    fn eks_estimate(&self) -> Option<&MethodResult> {
        self.results
            .iter()
            .find(|r| r.kind == MethodKind::Classical && r.name.starts_with("EKS"))
    }

    fn rebuild_scene(&mut self, reframe: bool) {
        let Some(tr) = &self.trajectory else { return };
        let to_f32 = |s: &[f64; 3]| s.map(|v| v as f32);
        let k = self
            .timeline
            .position()
            .min(tr.states.len().saturating_sub(1));
        let mut lines = vec![Polyline3d {
            points: tr.states.iter().map(to_f32).collect(),
            color: TRUTH_COLOR,
            width_pt: 1.5,
        }];
        // The learned estimate last, so it is drawn on top of the smoother's.
        if let Some(eks) = self.eks_estimate() {
            lines.push(Polyline3d {
                points: eks.estimates.iter().map(to_f32).collect(),
                color: MethodKind::Classical.color(),
                width_pt: 1.5,
            });
        }
        if let Some(run) = self.learned.shown_run() {
            let k = self
                .learned
                .iteration
                .position()
                .min(run.iterations.len().saturating_sub(1));
            if let Some(estimate) = run.iterations.get(k) {
                lines.push(Polyline3d {
                    points: estimate.iter().map(to_f32).collect(),
                    color: learned_color(run.kind),
                    width_pt: 1.5,
                });
            }
        }
        let scene = Scene3d {
            lines,
            points: vec![
                Points3d {
                    points: tr.observations.iter().map(to_f32).collect(),
                    color: OBSERVATION_COLOR.gamma_multiply(0.6),
                    radius_pt: 1.6,
                },
                Points3d {
                    points: vec![to_f32(&tr.states[k])],
                    color: MARKER_COLOR,
                    radius_pt: 6.0,
                },
            ],
        };
        self.view3d.set_scene(scene, reframe);
    }
}

impl Learned {
    /// The run drawn in the figure: the hybrid's if there is one.
    fn shown_run(&self) -> Option<&LearnedRun> {
        self.runs
            .iter()
            .find(|r| r.kind == ChainKind::Hybrid)
            .or_else(|| self.runs.first())
    }

    fn kind(&self) -> ChainKind {
        if self.hybrid {
            ChainKind::Hybrid
        } else {
            ChainKind::Gnn
        }
    }

    fn start_training(&mut self, seed: u64, egui_ctx: &egui::Context, ctx: &mut DemoCtx<'_>) {
        let model = ChainModelConfig {
            iterations: self.iterations,
            ..self.kind().config()
        };
        let mut config = TrainConfig::new(model, self.train_samples);
        config.window = config.window.min(self.train_samples);
        config.schedule.for_panel(self.training.budget_secs);
        config.schedule.seed = seed;
        let name = format!("train {}", config.model.kind().name());
        self.training.start(name, config, egui_ctx, ctx, train);
    }

    /// Runs every model on the trajectory in a job (inference takes a noticeable moment).
    fn start_inference(
        &mut self,
        trajectory: &Trajectory,
        egui_ctx: &egui::Context,
        ctx: &mut DemoCtx<'_>,
    ) {
        if self.models.is_empty() {
            return;
        }
        let device = ctx.compute.device.clone();
        // Shipped and loaded models live on the CPU until they run: move them to the device.
        let models: Vec<ChainModel> = self.models.iter().map(|m| m.to_device(&device)).collect();
        let trajectory = trajectory.clone();
        let started =
            self.inference
                .start("lorenz inference", (), egui_ctx, ctx.jobs, move |job| {
                    let mut runs = Vec::new();
                    for (i, model) in models.iter().enumerate() {
                        job.check_cancelled()?;
                        let started = std::time::Instant::now();
                        let iterations = model.infer(&trajectory.observations, &device);
                        let mse_per_iteration = iterations
                            .iter()
                            .map(|x| mse(x, &trajectory.states))
                            .collect();
                        runs.push(LearnedRun {
                            kind: model.config.kind(),
                            iterations,
                            mse_per_iteration,
                            seconds: started.elapsed().as_secs_f64(),
                        });
                        job.report_fraction((i + 1) as f32 / models.len() as f32);
                    }
                    Ok(runs)
                });
        if let Err(e) = started {
            self.training.status = Some(Err(format!("cannot start inference: {e}")));
        }
    }

    fn add_model(&mut self, model: ChainModel) {
        let kind = model.config.kind();
        self.models.retain(|m| m.config.kind() != kind);
        self.models.push(model);
        self.mark_stale();
    }

    fn mark_stale(&mut self) {
        self.runs.clear();
        self.inference.mark_stale();
    }

    /// Collects finished jobs; returns whether fresh inference results arrived.
    fn poll(&mut self, device: &burn::tensor::Device) -> bool {
        // The shipped models load (and then run) on the panel's first frame.
        for model in self.training.new_models(device) {
            self.add_model(model);
        }
        match self.inference.poll() {
            Some(((), JobOutcome::Finished(runs))) => {
                let longest = runs.iter().map(|r| r.iterations.len()).max().unwrap_or(0);
                self.iteration.set_len(longest);
                self.iteration.go_to_end();
                self.runs = runs;
                return true;
            }
            Some(((), JobOutcome::Failed(msg))) => self.training.status = Some(Err(msg)),
            // Results for a trajectory or models since replaced are dropped.
            Some(((), JobOutcome::Cancelled | JobOutcome::Stale)) | None => {}
        }
        false
    }
}

/// The sweep measured by `inference-lab bench --demo lorenz --out assets/lorenz-sweep.json`.
const SHIPPED_SWEEP: &str = include_str!("../../../../assets/lorenz-sweep.json");

type SweepField = fn(&super::bench::SweepPoint) -> f64;
const ABOUT: About = About {
    name: super::NAME,
    title: "Lorenz filtering",
    summary: "Tracking a chaotic attractor from noisy observations",
    explanation: "Forward model: the Lorenz system dz/dt = (10(z₂−z₁), z₁(28−z₃)−z₂, z₁z₂−8/3 z₃), \
     integrated with RK4 and observed every Δt = 0.05 with Gaussian noise: y_t = z_t + N(0, σ²I). \
     Inverses: the extended Kalman smoother on a Taylor-expanded model (classical), a graph \
     network over the chain (amortized), and hybrid inference that adds learned graph-network \
     messages to the smoother's messages at every unrolled step (augmented).",
};

impl Demo for LorenzDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        if self.learned.poll(&ctx.compute.device) {
            self.update_learned_rows();
            self.rebuild_scene(false);
        }
        if self.learned.inference.is_due()
            && !self.learned.models.is_empty()
            && let Some(tr) = self.trajectory.clone()
        {
            self.learned.start_inference(&tr, ui.ctx(), ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.label(
            RichText::new(
                "The GNN and the hybrid shown are the shipped models; train new ones below (minutes on the CPU) or load a model file.",
            )
            .color(ui.visuals().warn_fg_color),
        );
        self.simulation_controls_ui(ui);
        ui.collapsing("Learned inverses: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
        ui.collapsing("The paper's sweep: MSE vs training-set size", sweep_plot_ui);
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        let before = self.timeline.position();
        timeline_ui(ui, &mut self.timeline, "time step", false);
        if self.timeline.position() != before {
            self.rebuild_scene(false);
        }
        if let Some(run) = self.learned.shown_run() {
            let label = format!("{} iteration", run.kind.name());
            let before = self.learned.iteration.position();
            ui.push_id("iterations", |ui| {
                timeline_ui(ui, &mut self.learned.iteration, &label, false)
            });
            if self.learned.iteration.position() != before {
                self.rebuild_scene(false);
            }
        }
        let Some(tr) = &self.trajectory else { return };
        let k = self.timeline.position();
        // The figure: a caption, the 3-D view beside the three coordinates, the legend; it fills
        // what the timelines leave, and the metrics table is part of it, beside the plots, on a
        // wide window (under them otherwise).
        let figure_top = ui.cursor().min;
        let iteration_mse = self
            .learned
            .shown_run()
            .and_then(|r| r.mse_per_iteration.get(self.learned.iteration.position()))
            .map(|m| format!("   MSE at this iteration {m:.4}"))
            .unwrap_or_default();
        ui.label(format!(
            "t = {:.2}   truth ({:.2}, {:.2}, {:.2})   observation ({:.2}, {:.2}, {:.2}){iteration_mse}",
            tr.t[k],
            tr.states[k][0],
            tr.states[k][1],
            tr.states[k][2],
            tr.observations[k][0],
            tr.observations[k][1],
            tr.observations[k][2]
        ));
        let spacing = ui.spacing().item_spacing;
        let row_height = ui.spacing().interact_size.y + spacing.y;
        let available = ui.available_size();
        let table_beside = available.x - self.table_width - spacing.x >= FIGURE_WIDTH_BESIDE_TABLE;
        let figure_width = if table_beside {
            available.x - self.table_width - spacing.x
        } else {
            available.x
        };
        // Leave one row for the legend under the plots.
        let height = (available.y - row_height - spacing.y).max(MIN_FIGURE_HEIGHT);
        let view_width = (figure_width * 0.45).min(height * 1.2).max(160.0);
        let figure = ui.horizontal_top(|ui| {
            let plots = ui.vertical(|ui| {
                ui.horizontal_top(|ui| {
                    self.view3d
                        .ui(ui, egui::vec2(view_width, height), ctx.paint_mode);
                    ui.vertical(|ui| {
                        let plot_size = egui::vec2(
                            (figure_width - view_width - spacing.x).max(160.0),
                            ((height - 2.0 * spacing.y) / 3.0).max(50.0),
                        );
                        let learned = self.learned.shown_run().and_then(|run| {
                            let i = self.learned.iteration.position();
                            run.iterations.get(i).map(|e| (run.kind, e.as_slice()))
                        });
                        coordinate_plots_ui(ui, tr, &self.results, learned, k, plot_size);
                    });
                });
                legend_ui(ui);
            });
            let mut figure = plots.response.rect;
            if table_beside {
                let table = ui.vertical(|ui| metrics_table_ui(ui, "lorenz-metrics", &self.table));
                self.table_width = table.response.rect.width();
                figure = figure.union(table.response.rect);
            }
            figure
        });
        ctx.figure_rect = egui::Rect::from_min_max(figure_top, figure.inner.max);
        if !table_beside {
            let table = ui.vertical(|ui| metrics_table_ui(ui, "lorenz-metrics", &self.table));
            self.table_width = table.response.rect.width();
        }
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(&self.trajectory)
    }
}
