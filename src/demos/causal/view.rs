//! The causal-graph panel: a batch of springs samples (or a loaded series file), one shown as
//! its particles moving with their trails; the shown method's inferred graph drawn on them as
//! arrows source → target whose width and opacity are the edge probability, coloured against
//! the truth (true positives green, false positives red, missed springs grey); the timeline
//! scrubs test-time adaptation step by step (graph, pooled AUROC after each); every method's ROC
//! curve and the AUROC table; noise and hidden-particle switches; training. No math here: it
//! calls `sim`, `methods`, `metrics` and `train`.

use burn::module::Module;
use egui::{Color32, Pos2, Rect, RichText, Stroke, Ui, vec2};
use egui_plot::{Line, Plot, PlotPoints};

use super::methods::{Adaptation, LearnedModel, Method, acd_probabilities, adapt};
use super::metrics::{pooled_auroc, roc_curve};
use super::model::KIND;
use super::sim::{self, Series, SpringsConfig};
use super::train::{TrainConfig, train};
use crate::demos::{Demo, DemoCtx};
use crate::stored_model::shipped;
use crate::ui::export::{FigureData, FigureExporter};
use crate::ui::file_dialog::{DialogKind, PathField};
use crate::ui::job_slot::{JobOutcome, JobSlot};
use crate::ui::metrics::{KindColor, MethodRow, Metric, MetricsTable, metrics_table_ui};
use crate::ui::slider_label;
use crate::ui::timeline::{Timeline, timeline_ui};
use crate::ui::training_section::TrainingSection;

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

/// Every method's answer on the batch.
#[derive(Clone, Debug)]
struct Run {
    method: Method,
    /// Per sample, per ordered pair; for `acd+tta` after the last step.
    probabilities: Vec<Vec<f64>>,
    seconds: f64,
}

/// The inference job's result: every method, and the adaptation's trace.
#[derive(Clone, Debug, Default)]
struct Inference {
    runs: Vec<Run>,
    /// Per adaptation step (0: the encoder's answer), per sample, per pair.
    adaptation: Vec<Vec<Vec<f64>>>,
    /// The pooled AUROC after each adaptation step (with a truth).
    adaptation_auroc: Vec<[f64; 2]>,
    /// Why the learned methods did not run, if they did not.
    skipped: Option<String>,
}

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
    inference: Inference,
    shown: Method,
    /// The adaptation step shown (the panel's timeline).
    step: Timeline,
    /// The frame shown: the particles' motion.
    frame: Timeline,
    table: MetricsTable,
    inferring: JobSlot<Inference>,
    learned: Option<LearnedModel>,
    loaded_shipped: bool,
    training: TrainingSection<LearnedModel, TrainConfig>,
    status: Option<Result<String, String>>,
    series_field: PathField,
    edges_field: PathField,
    exporter: FigureExporter,
    figure_rect: Rect,
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
            inference: Inference::default(),
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
            loaded_shipped: false,
            training: TrainingSection::new(300.0, 10.0..=7200.0, "causal-acd.mpk"),
            status: None,
            series_field: PathField::new(DialogKind::Open, "series CSV", &["csv"], ""),
            edges_field: PathField::new(DialogKind::Save, "edges CSV", &["csv"], "edges.csv"),
            exporter: FigureExporter::new("causal"),
            figure_rect: Rect::NOTHING,
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
        self.inference = Inference::default();
        self.table.rows.clear();
        self.step.set_len(0);
        self.inferring.mark_stale();
    }

    fn set_model(&mut self, model: LearnedModel) {
        self.learned = Some(model);
        self.inference = Inference::default();
        self.inferring.mark_stale();
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let device = ctx.compute.device.clone();
        let samples = self.samples.clone();
        let adaptation = Adaptation {
            steps: self.adaptation.steps.min(MAX_TTA_STEPS),
            ..self.adaptation
        };
        let learned = self.learned.as_ref().map(|m| LearnedModel {
            net: m.net.clone().to_device(&device),
            config: m.config.clone(),
        });
        let started =
            self.inferring
                .start("causal inference", (), ui.ctx(), ctx.jobs, move |job| {
                    let refs: Vec<&Series> = samples.iter().collect();
                    let labels: Vec<Vec<bool>> =
                        samples.iter().filter_map(Series::edge_labels).collect();
                    let truth = labels.len() == samples.len();
                    let mut out = Inference::default();
                    let started = std::time::Instant::now();
                    let granger: Vec<Vec<f64>> = refs
                        .iter()
                        .map(|s| super::classical::granger_scores(s))
                        .collect();
                    out.runs.push(Run {
                        method: Method::Granger,
                        probabilities: granger,
                        seconds: started.elapsed().as_secs_f64() / refs.len().max(1) as f64,
                    });
                    job.report_fraction(0.05);
                    let Some(model) = learned else {
                        out.skipped = Some("no model loaded".into());
                        return Ok(out);
                    };
                    if let Some(bad) = refs.iter().find_map(|s| model.check(s).err()) {
                        out.skipped = Some(bad);
                        return Ok(out);
                    }
                    job.check_cancelled()?;
                    let started = std::time::Instant::now();
                    let acd = acd_probabilities(&model, &refs, &device);
                    out.runs.push(Run {
                        method: Method::Acd,
                        probabilities: acd,
                        seconds: started.elapsed().as_secs_f64() / refs.len().max(1) as f64,
                    });
                    let started = std::time::Instant::now();
                    let cancelled = || job.is_cancelled();
                    let trace = adapt(&model, &refs, adaptation, &device, &cancelled);
                    job.check_cancelled()?;
                    let seconds = started.elapsed().as_secs_f64() / refs.len().max(1) as f64;
                    if truth {
                        out.adaptation_auroc = trace
                            .iter()
                            .enumerate()
                            .filter_map(|(k, p)| pooled_auroc(p, &labels).map(|a| [k as f64, a]))
                            .collect();
                    }
                    out.runs.push(Run {
                        method: Method::AcdTta,
                        probabilities: trace.last().cloned().unwrap_or_default(),
                        seconds,
                    });
                    out.adaptation = trace;
                    Ok(out)
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

    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        if let Some(model) = self.training.poll() {
            self.set_model(model);
        }
        match self.inferring.poll() {
            Some(((), JobOutcome::Finished(inference))) => {
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
            Some(((), JobOutcome::Failed(msg))) => self.error = Some(msg),
            _ => {}
        }
        if self.inferring.is_due() {
            self.start_inference(ui, ctx);
        }
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
                let pooled = labels
                    .as_ref()
                    .and_then(|l| pooled_auroc(&run.probabilities, l));
                let this = labels
                    .as_ref()
                    .and_then(|l| super::metrics::auroc(run.probabilities.get(k)?, l.get(k)?));
                MethodRow {
                    method: run.method.label().to_owned(),
                    kind: run.method.kind(),
                    values: vec![pooled, this],
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

    fn data_controls_ui(&mut self, ui: &mut Ui) {
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

    fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
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
    fn particles_ui(&self, ui: &mut Ui, size: egui::Vec2) -> Rect {
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
    fn side_ui(&mut self, ui: &mut Ui, width: f32, height: f32) -> Rect {
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

    fn roc_ui(&self, ui: &mut Ui, width: f32, height: f32) {
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

    fn adaptation_ui(&self, ui: &mut Ui, width: f32, height: f32) {
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
    fn motion_ui(&mut self, ui: &mut Ui) {
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
fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, radius: f32, stroke: Stroke) {
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

fn figure_data(samples: &[Series], runs: &[Run]) -> FigureData {
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

impl Demo for CausalDemo {
    fn name(&self) -> &'static str {
        super::NAME
    }
    fn title(&self) -> &'static str {
        "Causal graphs"
    }
    fn summary(&self) -> &'static str {
        "Which particles pull which, from their motion"
    }
    fn explanation(&self) -> &'static str {
        "Forward model: particles in a box joined by one-way springs (j pulls i: j causes i), \
         each sample its own random graph. Inverses: pairwise Granger causality, an F-test on \
         lag-1 regressions (classical), the amortized causal-discovery encoder trained with its \
         decoder as a VAE (amortized), and the encoder's answer adapted to each sample through \
         the decoder's prediction of its own frames (augmented)."
    }

    fn figure_rect(&self) -> Rect {
        self.figure_rect
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.data_controls_ui(ui);
        ui.collapsing("ACD model: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
        ui.collapsing("Export figure", |ui| {
            let rect = self.figure_rect;
            let (samples, runs) = (&self.samples, &self.inference.runs);
            self.exporter.ui(ui, rect, || figure_data(samples, runs));
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        if !self.loaded_shipped {
            self.loaded_shipped = true;
            match shipped(KIND, &ctx.compute.device) {
                Ok(model) => self.set_model(model),
                Err(e) => self.training.status = Some(Err(format!("{e:#}"))),
            }
        }
        self.poll(ui, ctx);
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, err);
        }
        ui.horizontal_wrapped(|ui| {
            let methods: Vec<Method> = self.inference.runs.iter().map(|r| r.method).collect();
            let text = |m: Method| (m.name(), m.kind());
            let tooltip = |m: Method| format!("{}: {}", m.label(), m.hint());
            let shown = self.shown;
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Whose graph is drawn on the particles",
                &methods,
                shown,
                text,
                tooltip,
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
        self.figure_rect = Rect::from_min_max(figure_top, rect.max);
        if let Some(err) = self
            .inference
            .skipped
            .as_ref()
            .filter(|_| self.error.is_none())
        {
            ui.label(err);
        }
    }
}
