//! The MIMO panel: one received vector of a fresh batch drawn in detail — each user's
//! constellation with the true symbol, the decision regions and every method's soft estimate,
//! the shown method's moving over its iterations with the timeline — the channel |H| as a heat
//! map, the table of every method's errors on this vector and its SER over the batch, and SER
//! over SNR for every method on a log axis, computed as a job. No math here: it calls `sim`,
//! `methods`, `bench` and `train`.

use egui::{Rect, Ui};

use super::bench::{SerPoint, ser_curve};
use super::methods::{Inspection, Method, OAMP_ITERATIONS, inspect, model_for};
use super::model::{MimoConfig, MimoModel, NetKind};
use super::sim::{Modulation, Setup};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx, DemoMethod};
use crate::ui::export::FigureData;
use crate::ui::job_slot::JobSlot;
use crate::ui::metrics::{MethodRow, Metric, MetricsTable};
use crate::ui::timeline::Timeline;
use crate::ui::training_section::TrainingSection;

mod example;
mod paint;

/// Vectors the panel detects at once (its SER column), at 32×16; fewer for larger sizes.
const PANEL_VECTORS: usize = 500;
/// Vectors per point of the SER curves, at 32×16; fewer for larger sizes.
const CURVE_VECTORS: usize = 1000;

/// `at_32x16` vectors scaled down with the channel's size (the detectors' cost grows with
/// N_t·N_r and faster), so that a job at 128×64 still ends in seconds; at least a tenth.
pub(super) fn vectors_for(setup: &Setup, at_32x16: usize) -> usize {
    let scale = 512.0 / (setup.users * setup.antennas).max(1) as f64;
    ((at_32x16 as f64 * scale.min(1.0)).round() as usize).clamp(at_32x16 / 10, at_32x16)
}
/// The SER curves' SNRs around the panel's: −6 … +6 dB in steps of 2.
const CURVE_OFFSETS: [f64; 7] = [-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0];

/// One method's SER curve.
type Curve = (Method, Vec<SerPoint>);

pub struct MimoDemo {
    setup: Setup,
    /// Draws the batch: "New channel" moves it.
    seed: u64,
    models: Vec<MimoModel>,
    inspection: Option<Inspection>,
    inferring: JobSlot<Inspection>,
    curves: Vec<Curve>,
    curve_job: JobSlot<Vec<Curve>>,
    /// What the last curves were started for (they start once per setup, seed and models).
    curves_for: Option<(Setup, u64, usize)>,
    shown: Method,
    step: Timeline,
    table: MetricsTable,
    train_kind: NetKind,
    training: TrainingSection<MimoModel, TrainConfig>,
    error: Option<String>,
}

impl Default for MimoDemo {
    fn default() -> Self {
        Self {
            // Where the detectors differ: LMMSE's SER is a few percent, OAMP's a third of it.
            setup: Setup {
                users: 16,
                antennas: 32,
                modulation: Modulation::Qpsk,
                snr_db: 6.0,
                rho: 0.0,
            },
            seed: 1,
            models: Vec::new(),
            inspection: None,
            inferring: JobSlot::new(true),
            curves: Vec::new(),
            curve_job: JobSlot::new(false),
            curves_for: None,
            shown: Method::Remimo,
            step: Timeline::new(0),
            table: MetricsTable::new(vec![
                Metric::new("wrong", false, 0)
                    .with_hint("Wrong symbols of the vector drawn (of N_t users)"),
                Metric::new("SER", false, 4).with_hint(
                    "Symbol error rate over the panel's fresh vectors at this SNR (500 at \
                     32×16, fewer for larger sizes; a symbol is wrong when its real or \
                     imaginary part is)",
                ),
                Metric::new("BER", false, 4).with_hint("Bit error rate (Gray mapping)"),
            ]),
            train_kind: NetKind::OampNet,
            training: TrainingSection::new(60.0, 5.0..=3600.0, "mimo-oampnet.mpk"),
            error: None,
        }
    }
}

impl MimoDemo {
    fn changed(&mut self) {
        self.inferring.mark_stale();
        self.curves.clear();
    }

    fn add_model(&mut self, model: MimoModel) {
        let config = model.config.clone();
        self.models.retain(|m| m.config != config);
        self.models.push(model);
        self.changed();
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let device = ctx.compute.device.clone();
        let (setup, seed) = (self.setup, self.seed);
        let models = self.models.clone();
        let started = self
            .inferring
            .start("mimo detection", (), ui.ctx(), ctx.jobs, move |job| {
                let stop = || job.is_cancelled();
                inspect(
                    &setup,
                    vectors_for(&setup, PANEL_VECTORS),
                    seed,
                    &models,
                    OAMP_ITERATIONS,
                    &device,
                    &stop,
                )
                .ok_or(crate::jobs::JobError::Cancelled)
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start detecting: {e}"));
        }
    }

    fn start_curves(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let device = ctx.compute.device.clone();
        let setup = self.setup;
        let models = self.models.clone();
        let seed = self.seed;
        let started = self
            .curve_job
            .start("mimo SER curves", (), ui.ctx(), ctx.jobs, move |job| {
                let methods: Vec<(Method, Option<MimoModel>)> = Method::ALL
                    .into_iter()
                    .filter_map(|method| match method.net_kind() {
                        None => Some((method, None)),
                        Some(kind) => {
                            model_for(&models, kind, &setup).map(|m| (method, Some(m.clone())))
                        }
                    })
                    .filter(|(method, _)| {
                        *method != Method::Ml
                            || super::classical::ml_supported(
                                setup.users,
                                setup.antennas,
                                setup.modulation,
                            )
                            .is_ok()
                    })
                    .collect();
                let mut curves = Vec::new();
                let total = methods.len() * CURVE_OFFSETS.len();
                for (m, (method, model)) in methods.iter().enumerate() {
                    let mut points = Vec::new();
                    for (i, offset) in CURVE_OFFSETS.iter().enumerate() {
                        job.check_cancelled()?;
                        let mut at = setup;
                        at.snr_db = (setup.snr_db + offset).clamp(-20.0, 60.0);
                        let point = ser_curve(
                            &at,
                            vectors_for(&setup, CURVE_VECTORS),
                            *method,
                            OAMP_ITERATIONS,
                            model.as_ref(),
                            seed,
                            &device,
                        )
                        .map_err(|e| crate::jobs::JobError::Failed(format!("{e:#}")))?;
                        points.push(point);
                        job.report_fraction(
                            (m * CURVE_OFFSETS.len() + i + 1) as f32 / total as f32,
                        );
                    }
                    curves.push((*method, points));
                }
                Ok(curves)
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start the curves: {e}"));
        }
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let s = &self.setup;
        let model = MimoConfig::new(self.train_kind, s.users, s.antennas, s.modulation, s.rho);
        let mut config = TrainConfig::new(model);
        config.schedule.for_panel(self.training.budget_secs);
        let name = format!("train {}", config.model.describe());
        self.training.start(name, config, ui.ctx(), ctx, train);
    }

    fn reset_timeline(&mut self) {
        let len = self
            .inspection
            .as_ref()
            .and_then(|i| i.run(self.shown))
            .map_or(0, |(r, _)| r.trace.len());
        self.step.set_len(len);
        self.step.go_to_end();
    }

    fn update_table(&mut self) {
        let Some(inspection) = &self.inspection else {
            return;
        };
        let first_sent = inspection
            .batch
            .vectors
            .first()
            .and_then(|v| v.sent.clone());
        let modulation = self.setup.modulation;
        self.table.rows = inspection
            .runs
            .iter()
            .zip(&inspection.tallies)
            .map(|(run, tally)| {
                let here = match (&first_sent, run.decided.first()) {
                    (Some(sent), Some(decided)) => {
                        Some(super::metrics::errors(modulation, sent, decided).0 as f64)
                    }
                    _ => None,
                };
                MethodRow {
                    method: run.method.label().to_owned(),
                    kind: run.method.kind(),
                    values: vec![here, Some(tally.ser()), Some(tally.ber())],
                    seconds: Some(run.seconds_per_vector),
                }
            })
            .collect();
    }
}

const ABOUT: About = super::ABOUT;

impl Demo for MimoDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        for model in self.training.new_models(&ctx.compute.device) {
            self.add_model(model);
        }
        if let Some(inspection) = self.inferring.finished(&mut self.error) {
            self.inspection = Some(inspection);
            self.error = None;
            self.update_table();
            self.reset_timeline();
        }
        if let Some(curves) = self.curve_job.finished(&mut self.error) {
            self.curves = curves;
        }
        if self.inferring.is_due() {
            self.start_inference(ui, ctx);
        }
        // The curves follow the setup on their own once a detection has landed.
        if self.curves.is_empty()
            && self.inspection.is_some()
            && !self.inferring.is_running()
            && !self.curve_job.is_running()
            && self.curves_for != Some((self.setup, self.seed, self.models.len()))
        {
            self.curves_for = Some((self.setup, self.seed, self.models.len()));
            self.start_curves(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.setup_controls_ui(ui);
        self.curve_controls_ui(ui, ctx);
        ui.collapsing("Learned detectors: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.header_ui(ui);
        let figure_top = ui.cursor().min;
        self.status_ui(ui);
        let rect = self.figure_ui(ui);
        ctx.figure_rect = Rect::from_min_max(figure_top, rect.max);
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        self.table.to_figure_data()
    }
}
