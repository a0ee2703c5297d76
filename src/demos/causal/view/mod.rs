//! The causal-graph panel: a batch of springs samples (or a loaded series file), one shown as
//! its particles moving with their trails; the shown method's inferred graph drawn on them as
//! arrows source → target whose width and opacity are the edge probability, coloured against
//! the truth (true positives green, false positives red, missed springs grey); the timeline
//! scrubs test-time adaptation step by step (graph, pooled AUROC after each); every method's ROC
//! curve and the AUROC table; noise and hidden-particle switches; training. No math here: it
//! calls `sim`, `methods`, `metrics` and `train`.

use egui::{Color32, Pos2, Rect, RichText, Stroke, Ui, vec2};
use egui_plot::{Line, Plot, PlotPoints};

use super::methods::{Adaptation, Comparison, LearnedModel, Method, Run, compare};
use super::metrics::roc_curve;
use super::model::KIND;
use super::sim::{self, Series, SpringsConfig};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx};
use crate::stored_model::StoredModel;
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
use paint::*;

const TRUE_POSITIVE: Color32 = Color32::from_rgb(40, 190, 80);
const FALSE_POSITIVE: Color32 = Color32::from_rgb(230, 60, 50);
const MISSED: Color32 = Color32::from_rgb(150, 150, 150);
const PARTICLE_COLORS: [Color32; 8] = [
    Color32::from_rgb(66, 133, 244),
    Color32::from_rgb(244, 160, 0),
    Color32::from_rgb(171, 71, 188),
    Color32::from_rgb(0, 172, 193),
    Color32::from_rgb(236, 64, 122),
    Color32::from_rgb(124, 179, 66),
    Color32::from_rgb(255, 112, 67),
    Color32::from_rgb(141, 110, 99),
];
const MAX_SAMPLES: usize = 100;
const MAX_TTA_STEPS: usize = 200;
/// Below this width the table and plots go under the particles.
const MIN_SIDE_WIDTH: f32 = 360.0;

pub struct CausalDemo {
    samples: Vec<Series>,
    /// Where the samples came from: "simulated" or the file.
    source: String,
    batch: usize,
    noise: f64,
    hidden: bool,
    seed: u64,
    /// The sample drawn.
    shown_sample: usize,
    adaptation: Adaptation,
    inference: Comparison,
    shown: Method,
    /// The adaptation step shown (the panel's timeline).
    step: Timeline,
    /// The frame shown: the particles' motion.
    frame: Timeline,
    table: MetricsTable,
    inferring: JobSlot<Comparison>,
    learned: Option<LearnedModel>,
    training: TrainingSection<LearnedModel, TrainConfig>,
    status: Option<Result<String, String>>,
    series_field: PathField,
    edges_field: PathField,
    table_height: f32,
    error: Option<String>,
}

impl Default for CausalDemo {
    fn default() -> Self {
        let mut demo = Self {
            samples: Vec::new(),
            source: String::new(),
            batch: 50,
            noise: 0.0,
            hidden: false,
            seed: 1,
            shown_sample: 0,
            adaptation: Adaptation::default(),
            inference: Comparison::default(),
            shown: Method::AcdTta,
            step: Timeline::new(0),
            frame: Timeline::new(0),
            table: MetricsTable::new(vec![
                Metric::new("auroc", true, 3).with_hint(
                    "Area under the ROC curve, pooled over every ordered pair of every sample: the \
                     chance that a true spring scores above a pair without one",
                ),
                Metric::new("auroc (this)", true, 3)
                    .with_hint("The AUROC over the shown sample's pairs alone"),
            ]),
            inferring: JobSlot::new(true),
            learned: None,
            training: TrainingSection::new(300.0, 10.0..=7200.0, "causal-acd.mpk"),
            status: None,
            series_field: PathField::new(DialogKind::Open, "series CSV", &["csv"], ""),
            edges_field: PathField::new(DialogKind::Save, "edges CSV", &["csv"], "edges.csv"),
            table_height: 160.0,
            error: None,
        };
        demo.simulate();
        demo
    }
}

impl CausalDemo {
    fn simulate(&mut self) {
        self.batch = self.batch.clamp(1, MAX_SAMPLES);
        self.noise = self.noise.clamp(0.0, 1.0);
        let config = SpringsConfig {
            noise: self.noise,
            hidden_particle: self.hidden,
            ..SpringsConfig::default()
        };
        let samples = sim::simulate_many(&config, self.batch, self.seed);
        self.set_samples(samples, "simulated".to_owned());
    }

    fn set_samples(&mut self, samples: Vec<Series>, source: String) {
        self.samples = samples;
        self.source = source;
        self.shown_sample = self.shown_sample.min(self.samples.len().saturating_sub(1));
        let frames = self.samples.first().map_or(0, |s| s.frames);
        self.frame.set_len(frames);
        self.frame.go_to_end();
        self.inference = Comparison::default();
        self.table.rows.clear();
        self.step.set_len(0);
        self.inferring.mark_stale();
    }

    fn set_model(&mut self, model: LearnedModel) {
        self.learned = Some(model);
        self.inference = Comparison::default();
        self.inferring.mark_stale();
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let device = ctx.compute.device.clone();
        let samples = self.samples.clone();
        let adaptation = Adaptation {
            steps: self.adaptation.steps.min(MAX_TTA_STEPS),
            ..self.adaptation
        };
        let learned = self.learned.as_ref().map(|m| m.to_device(&device));
        let started =
            self.inferring
                .start("causal inference", (), ui.ctx(), ctx.jobs, move |job| {
                    let refs: Vec<&Series> = samples.iter().collect();
                    let progress = |f| job.report_fraction(f);
                    let cancelled = || job.is_cancelled();
                    let comparison = compare(
                        &refs,
                        learned.as_ref(),
                        adaptation,
                        &device,
                        &progress,
                        &cancelled,
                    );
                    job.check_cancelled()?;
                    Ok(comparison)
                });
        if let Err(e) = started {
            self.error = Some(format!("cannot start inferring: {e}"));
        }
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let mut config = TrainConfig {
            val_samples: 100,
            ..TrainConfig::default()
        };
        config.schedule.for_panel(self.training.budget_secs);
        config.schedule.seed = self.seed;
        config.springs.noise = self.noise;
        self.training
            .start("train acd".to_owned(), config, ui.ctx(), ctx, train);
    }

    fn labels(&self) -> Option<Vec<Vec<bool>>> {
        self.samples.iter().map(Series::edge_labels).collect()
    }

    fn update_table(&mut self) {
        let labels = self.labels();
        let k = self.shown_sample;
        self.table.rows = self
            .inference
            .runs
            .iter()
            .map(|run| {
                let this = labels
                    .as_ref()
                    .and_then(|l| super::metrics::auroc(run.probabilities.get(k)?, l.get(k)?));
                MethodRow {
                    method: run.method.label().to_owned(),
                    kind: run.method.kind(),
                    values: vec![run.auroc, this],
                    seconds: Some(run.seconds),
                }
            })
            .collect();
    }

    /// The shown method's probabilities of the shown sample (at the timeline's step for TTA).
    fn shown_probabilities(&self) -> Option<&[f64]> {
        let k = self.shown_sample;
        if self.shown == Method::AcdTta && !self.inference.adaptation.is_empty() {
            let step = self
                .step
                .position()
                .min(self.inference.adaptation.len() - 1);
            return self.inference.adaptation[step].get(k).map(Vec::as_slice);
        }
        self.inference
            .runs
            .iter()
            .find(|r| r.method == self.shown)
            .and_then(|r| r.probabilities.get(k))
            .map(Vec::as_slice)
    }
}

const ABOUT: About = About {
    name: super::NAME,
    title: "Causal graphs",
    summary: "Which particles pull which, from their motion",
    explanation: "Forward model: particles in a box joined by one-way springs (j pulls i: j causes i), \
     each sample its own random graph. Inverses: pairwise Granger causality, an F-test on \
     lag-1 regressions (classical), the amortized causal-discovery encoder trained with its \
     decoder as a VAE (amortized), and the encoder's answer adapted to each sample through \
     the decoder's prediction of its own frames (augmented).",
};

impl Demo for CausalDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        for model in self.training.new_models(&ctx.compute.device) {
            self.set_model(model);
        }
        if let Some(inference) = self.inferring.finished(&mut self.error) {
            self.inference = inference;
            self.step.set_len(self.inference.adaptation.len());
            self.step.go_to_end();
            if !self.inference.runs.iter().any(|r| r.method == self.shown) {
                self.shown = Method::Granger;
            }
            self.update_table();
            self.error = self
                .inference
                .skipped
                .clone()
                .map(|why| format!("the learned methods did not run: {why} (Granger did)"));
        }
        if self.inferring.is_due() {
            self.start_inference(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.data_controls_ui(ui);
        ui.collapsing("ACD model: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            let methods: Vec<Method> = self.inference.runs.iter().map(|r| r.method).collect();
            let shown = self.shown;
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Whose graph is drawn on the particles",
                &methods,
                shown,
                true,
            ) {
                self.shown = method;
            }
            // One row with the methods: on a projector every row above the figure costs it.
            ui.separator();
            self.motion_ui(ui);
        });
        timeline_ui(ui, &mut self.step, "adaptation step", false);
        let figure_top = ui.cursor().min;
        let sample = self.samples.get(self.shown_sample);
        let status = match (sample, self.inferring.is_running()) {
            (_, true) if self.inference.runs.is_empty() => "inferring…".to_owned(),
            (Some(series), _) => {
                let what = if self.shown == Method::AcdTta && !self.inference.adaptation.is_empty()
                {
                    let step = self
                        .step
                        .position()
                        .min(self.inference.adaptation.len() - 1);
                    let auroc = self
                        .inference
                        .adaptation_auroc
                        .get(step)
                        .map_or(String::new(), |a| format!(", pooled AUROC {:.3}", a[1]));
                    format!("after {step} adaptation steps{auroc}")
                } else {
                    self.shown.label().to_owned()
                };
                format!(
                    "sample {} of {} ({}), {} particles: {what}",
                    series.id,
                    self.samples.len(),
                    self.source,
                    series.nodes()
                )
            }
            (None, _) => "no samples".to_owned(),
        };
        ui.label(RichText::new(status).strong());
        let available = ui.available_size();
        let main_side = available.y.min(available.x * 0.55).max(240.0);
        let side_width = available.x - main_side - 8.0;
        let rect = if side_width >= MIN_SIDE_WIDTH {
            ui.horizontal_top(|ui| {
                let main = self.particles_ui(ui, vec2(main_side, main_side));
                main.union(self.side_ui(ui, side_width, available.y))
            })
            .inner
        } else {
            let main_height = (available.y - self.table_height - 16.0).max(220.0);
            let main = self.particles_ui(ui, vec2(available.x, main_height));
            let table = ui
                .vertical(|ui| metrics_table_ui(ui, "causal-metrics", &self.table))
                .response
                .rect;
            self.table_height = table.height();
            main.union(table)
        };
        ctx.figure_rect = Rect::from_min_max(figure_top, rect.max);
        if let Some(err) = self
            .inference
            .skipped
            .as_ref()
            .filter(|_| self.error.is_none())
        {
            ui.label(err);
        }
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(&self.samples, &self.inference.runs)
    }
}
