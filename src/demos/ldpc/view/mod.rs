//! The LDPC panel: the Tanner graph with the current iteration's messages on its edges (colour =
//! sign, width = magnitude), wrong bits and unsatisfied checks highlighted; the codeword as a
//! strip of beliefs; the timeline over the iterations (and NEBP's corrections); every method's
//! errors on this frame; BER/FER curves over Eb/N0; training, model files, export. No math here:
//! it calls `sim`, `methods`, `bench` and `train` and draws what they return.

use egui::{Color32, Pos2, Rect, RichText, Stroke, Ui, vec2};
use egui_plot::{Line, LineStyle, Plot, PlotPoints, Points};

use super::bench::{BerPoint, Sweep, panel_curves};
use super::classical::{IterationState, Outcome, Trace};
use super::code::{self, Code};
use super::methods::{LearnedDecoder, Method, trace_frame};
use super::model::{NetConfig, NetKind};
use super::sim::{BURST_PROBABILITY, Channel, send_frame};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx};
use crate::jobs::JobError;
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

/// Sign colours of messages and beliefs: bit 0 (positive LLR) and bit 1.
const ZERO_COLOR: Color32 = Color32::from_rgb(60, 120, 230);
const ONE_COLOR: Color32 = Color32::from_rgb(230, 90, 40);
const WRONG_COLOR: Color32 = Color32::from_rgb(220, 30, 30);
const UNSATISFIED_COLOR: Color32 = Color32::from_rgb(250, 190, 0);
/// Messages of this magnitude and above are drawn at full width.
const FULL_MAGNITUDE: f32 = 12.0;
const MIN_GRAPH_HEIGHT: f32 = 220.0;
/// Narrower than this, the curves go below the table.
const MIN_PLOT_WIDTH: f32 = 360.0;
const CURVE_SNRS: [f64; 6] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];

/// What the graph's edges show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EdgeView {
    CheckToVariable,
    VariableToCheck,
    Correction,
}

impl EdgeView {
    fn label(self) -> &'static str {
        match self {
            EdgeView::CheckToVariable => "check to bit",
            EdgeView::VariableToCheck => "bit to check",
            EdgeView::Correction => "NEBP correction",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            EdgeView::CheckToVariable => "Messages from checks to bits",
            EdgeView::VariableToCheck => "Messages from bits to checks",
            EdgeView::Correction => {
                "What the graph network added to each check message this iteration"
            }
        }
    }
}

/// One method's decoding of the current frame.
#[derive(Clone, Debug)]
struct Run {
    method: Method,
    trace: Trace,
    outcome: Outcome,
    /// NEBP's syndrome guard output BP's decision (its last timeline step).
    took_bp: bool,
    seconds: f64,
}

/// The frame on screen: what was sent and what arrived.
#[derive(Clone, Debug)]
struct Frame {
    bits: Vec<u8>,
    llr: Vec<f32>,
    burst: Vec<bool>,
}

type Curves = Vec<(Method, Vec<BerPoint>)>;

pub struct LdpcDemo {
    code: Code,
    channel: Channel,
    frame_seed: u64,
    iters: usize,
    frame: Option<Frame>,
    runs: Vec<Run>,
    shown: Method,
    step: Timeline,
    edge_view: EdgeView,
    table: MetricsTable,
    inference: JobSlot<Vec<Run>>,
    curves: Curves,
    curve_sigma: f64,
    curve_frames: usize,
    curve_job: JobSlot<Curves, f64>,
    learned: Vec<LearnedDecoder>,
    train_kind: NetKind,
    training: TrainingSection<LearnedDecoder, TrainConfig>,
    code_field: PathField,
    /// The metrics table's width in the last frame, to lay the curves out beside or below it.
    table_width: f32,
    error: Option<String>,
}

impl Default for LdpcDemo {
    fn default() -> Self {
        // A code small enough to follow check by check (docs/ldpc.md: at 4 dB with bursts BP
        // fails 37% of its frames, NEBP 15%); the paper's 96.3.963 is one click away.
        let code = code::shipped("peg-48-24").unwrap_or_else(|_| {
            // The shipped codes are parsed in a test; a (7,4) Hamming code keeps the panel alive.
            Code::from_rows(
                "hamming",
                7,
                &[vec![0, 1, 2, 4], vec![0, 1, 3, 5], vec![0, 2, 3, 6]],
            )
            .expect("the Hamming code is valid")
        });
        let mut demo = Self {
            code,
            // One of the paper's bursty settings, where BP and NEBP differ most.
            channel: Channel {
                eb_n0_db: 4.0,
                burst_sigma: 3.0,
            },
            frame_seed: 1,
            iters: 20,
            frame: None,
            runs: Vec::new(),
            shown: Method::Nebp,
            step: Timeline::new(0),
            edge_view: EdgeView::CheckToVariable,
            table: MetricsTable::new(vec![
                Metric::new("bit errors", false, 0)
                    .with_hint("Bits of the decoded codeword that differ from the sent one"),
                Metric::new("iterations", false, 0)
                    .with_hint("Iterations until every check held (or the limit)"),
                Metric::new("unsatisfied checks", false, 0)
                    .with_hint("Checks the output violates (0: it is a codeword)"),
            ]),
            inference: JobSlot::new(true),
            curves: Vec::new(),
            curve_sigma: 3.0,
            curve_frames: 300,
            curve_job: JobSlot::new(true),
            learned: Vec::new(),
            train_kind: NetKind::Nebp,
            training: TrainingSection::new(300.0, 10.0..=3600.0, "ldpc-nebp.mpk"),
            code_field: PathField::new(
                DialogKind::Open,
                "alist code",
                &["alist", "txt", "963"],
                "",
            ),
            table_width: 520.0,
            error: None,
        };
        demo.resend();
        demo
    }
}

impl LdpcDemo {
    /// Sends a new frame over the current channel (microseconds).
    fn resend(&mut self) {
        match self.channel.validate() {
            Ok(()) => {
                let (bits, llr, burst) = send_frame(&self.code, &self.channel, self.frame_seed);
                self.frame = Some(Frame { bits, llr, burst });
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
        self.mark_stale();
    }

    fn mark_stale(&mut self) {
        self.inference.mark_stale();
        self.runs.clear();
        self.table.rows.clear();
    }

    fn set_code(&mut self, code: Code) {
        self.code = code;
        self.curves.clear();
        self.curve_job.mark_stale();
        self.resend();
    }

    fn add_model(&mut self, decoder: LearnedDecoder) {
        let kind = decoder.config.kind;
        self.learned.retain(|d| d.config.kind != kind);
        self.learned.push(decoder);
        self.mark_stale();
        self.curves.clear();
        self.curve_job.mark_stale();
    }

    fn decoders(&self, device: &burn::tensor::Device) -> Vec<(Method, Option<LearnedDecoder>)> {
        Method::ALL
            .into_iter()
            .filter_map(|method| match method.model_kind() {
                None => Some((method, None)),
                Some(kind) => self
                    .learned
                    .iter()
                    .find(|d| d.config.kind == kind)
                    .map(|d| (method, Some(d.to_device(device)))),
            })
            .collect()
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let Some(frame) = self.frame.clone() else {
            return;
        };
        let device = ctx.compute.device.clone();
        let decoders = self.decoders(&device);
        let code = self.code.clone();
        let iters = self.iters;
        let started = self
            .inference
            .start("ldpc decoding", (), ui.ctx(), ctx.jobs, move |job| {
                let mut runs = Vec::new();
                for (i, (method, learned)) in decoders.iter().enumerate() {
                    job.check_cancelled()?;
                    let started = std::time::Instant::now();
                    let traced =
                        trace_frame(*method, &code, &frame.llr, iters, learned.as_ref(), &device)
                            .map_err(JobError::Failed)?;
                    runs.push(Run {
                        method: *method,
                        trace: traced.trace,
                        outcome: traced.outcome,
                        took_bp: traced.took_bp,
                        seconds: started.elapsed().as_secs_f64(),
                    });
                    job.report_fraction((i + 1) as f32 / decoders.len() as f32);
                }
                Ok(runs)
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start decoding: {e}"));
        }
    }

    fn start_curves(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let device = ctx.compute.device.clone();
        let decoders = self.decoders(&device);
        let code = self.code.clone();
        let (sigma, frames, iters) = (self.curve_sigma, self.curve_frames, self.iters);
        let started =
            self.curve_job
                .start("ldpc BER curves", sigma, ui.ctx(), ctx.jobs, move |job| {
                    let sweep = Sweep {
                        snr_db: &CURVE_SNRS,
                        burst_sigma: sigma,
                        frames,
                        iters,
                        seed: 7,
                    };
                    panel_curves(job, &code, &decoders, &sweep, &device)
                });
        if let Err(e) = started {
            self.error = Some(format!("cannot start the curves: {e}"));
        }
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let mut config = TrainConfig::new(NetConfig::of(self.train_kind));
        config.schedule.for_panel(self.training.budget_secs);
        config.schedule.seed = self.frame_seed;
        let name = format!("train {}", config.model.kind.name());
        self.training.start(name, config, ui.ctx(), ctx, train);
    }

    fn update_table(&mut self) {
        let Some(frame) = &self.frame else {
            return;
        };
        self.table.rows = self
            .runs
            .iter()
            .map(|run| {
                let bits = run.trace.bits(run.trace.iterations.len().saturating_sub(1));
                let errors = bits.iter().zip(&frame.bits).filter(|(a, b)| a != b).count();
                let unsatisfied = self
                    .code
                    .unsatisfied_checks(&bits)
                    .iter()
                    .filter(|&&u| u)
                    .count();
                MethodRow {
                    method: run.method.label().to_owned(),
                    kind: run.method.kind(),
                    values: vec![
                        Some(errors as f64),
                        Some(run.outcome.iterations as f64),
                        Some(unsatisfied as f64),
                    ],
                    seconds: Some(run.seconds),
                }
            })
            .collect();
    }

    fn select(&mut self, method: Method) {
        self.shown = method;
        let len = self.shown_run().map_or(0, |r| r.trace.iterations.len());
        self.step.set_len(len);
        self.step.go_to_end();
        if method != Method::Nebp && self.edge_view == EdgeView::Correction {
            self.edge_view = EdgeView::CheckToVariable;
        }
    }

    fn shown_run(&self) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.method == self.shown)
            .or_else(|| self.runs.first())
    }

    /// The run shown, the frame it decoded, and the timeline's iteration (clamped) with its state.
    fn shown_state(&self) -> Option<(&Run, &Frame, usize, &IterationState)> {
        let (run, frame) = (self.shown_run()?, self.frame.as_ref()?);
        let step = self
            .step
            .position()
            .min(run.trace.iterations.len().saturating_sub(1));
        Some((run, frame, step, run.trace.iterations.get(step)?))
    }
}

const ABOUT: About = About {
    name: super::NAME,
    title: "Factor graphs / LDPC",
    summary: "Belief-propagation messages decoding a noisy codeword",
    explanation: "Forward model: a random codeword of an LDPC code sent as BPSK (bit 0 as +1) over Gaussian \
     noise, some bits hit by bursts the receiver is not told of; the decoders see the LLRs \
     2y/σ². Inverses: sum-product and min-sum belief propagation on the Tanner graph \
     (classical), weighted BP with learned weights (amortized), and BP with a graph network \
     correcting its messages at every iteration (augmented, NEBP).",
};

impl Demo for LdpcDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        for model in self.training.new_models(&ctx.compute.device) {
            self.add_model(model);
        }
        if let Some(runs) = self.inference.finished(&mut self.error) {
            self.runs = runs;
            self.update_table();
            self.select(self.shown);
        }
        if let Some(curves) = self.curve_job.finished(&mut self.error) {
            self.curves = curves;
        }
        if self.inference.is_due() && self.frame.is_some() {
            self.start_inference(ui, ctx);
        }
        if self.curve_job.is_due() && !self.inference.is_running() {
            self.start_curves(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.channel_controls_ui(ui);
        ui.separator();
        self.curve_controls_ui(ui, ctx);
        ui.collapsing("Learned decoders: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            let methods: Vec<Method> = self.runs.iter().map(|r| r.method).collect();
            let shown = self.shown;
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Which decoder's iterations the graph and the strip show",
                &methods,
                shown,
                false,
            ) {
                self.select(method);
            }
            ui.separator();
            // One compact selector, so that the row fits a projector's width.
            let nebp_shown = self.shown == Method::Nebp;
            if !nebp_shown && self.edge_view == EdgeView::Correction {
                self.edge_view = EdgeView::CheckToVariable;
            }
            egui::ComboBox::from_id_salt("ldpc-edge-view")
                .selected_text(format!("edges: {}", self.edge_view.label()))
                .show_ui(ui, |ui| {
                    for view in [
                        EdgeView::CheckToVariable,
                        EdgeView::VariableToCheck,
                        EdgeView::Correction,
                    ] {
                        if view == EdgeView::Correction && !nebp_shown {
                            continue;
                        }
                        ui.selectable_value(&mut self.edge_view, view, view.label())
                            .on_hover_text(view.hint());
                    }
                })
                .response
                .on_hover_text(
                    "What the graph's edges show: blue says 0, orange says 1, width = confidence",
                );
        });
        timeline_ui(ui, &mut self.step, "iteration", false);
        let figure_top = ui.cursor().min;
        let status = self.shown_run().map(|run| {
            let step = self.step.position();
            let bits = run.trace.bits(step);
            let errors = self.frame.as_ref().map_or(0, |f| bits.iter().zip(&f.bits).filter(|(a, b)| a != b).count());
            let unsatisfied = self.code.unsatisfied_checks(&bits).iter().filter(|&&u| u).count();
            let last = run.trace.iterations.len() - 1;
            let step_name = if run.took_bp && step == last {
                "syndrome guard, BP's decision (fewer unsatisfied checks)".to_owned()
            } else {
                format!("iteration {step} of {last}")
            };
            format!(
                "{}: {} on {} — {step_name}: {errors} wrong bits (red rings), {unsatisfied} unsatisfied checks (yellow)",
                run.method.label(),
                self.code.name,
                if self.channel.burst_sigma > 0.0 { format!("{:.1} dB, bursts σ_b {:.1}", self.channel.eb_n0_db, self.channel.burst_sigma) } else { format!("{:.1} dB AWGN", self.channel.eb_n0_db) },
            )
        });
        ui.label(RichText::new(status.unwrap_or_else(|| "decoding…".to_owned())).strong());
        let available = ui.available_height();
        let graph_height = (available * 0.42).max(MIN_GRAPH_HEIGHT);
        let graph = self.graph_ui(ui, graph_height);
        ui.label(
            "codeword: sent bits (top), beliefs (below; red boxes: wrong), bursts (yellow dots)",
        );
        let strip = self.strip_ui(ui);
        let spacing = ui.spacing().item_spacing.x;
        let plot_width = ui.available_width() - self.table_width - spacing;
        // The table beside the curves when both fit; above them on a narrow window.
        let below = if plot_width >= MIN_PLOT_WIDTH {
            ui.horizontal_top(|ui| {
                let table = ui.vertical(|ui| metrics_table_ui(ui, "ldpc-metrics", &self.table));
                self.table_width = table.response.rect.width();
                let curves = ui.vertical(|ui| {
                    ui.set_width(plot_width);
                    self.curves_column_ui(ui);
                });
                table.response.rect.union(curves.response.rect)
            })
            .inner
        } else {
            let table = ui.vertical(|ui| metrics_table_ui(ui, "ldpc-metrics", &self.table));
            self.table_width = table.response.rect.width();
            let curves = ui.vertical(|ui| self.curves_column_ui(ui));
            table.response.rect.union(curves.response.rect)
        };
        ctx.figure_rect = Rect::from_min_max(figure_top, graph.max.max(strip.max).max(below.max));
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(&self.runs, &self.curves)
    }
}
