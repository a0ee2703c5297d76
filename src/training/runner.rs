//! The one training loop every demo's networks run in, from a panel's job and from
//! `DEMO train` alike. It owns what used to be written once per demo: the bounds (steps,
//! seconds), the starting model (`--init`, shape-checked) or a fresh one, validation every so
//! many steps and at the end, keeping the best model and checkpointing it atomically at each
//! improvement, the non-finite policy (back to the best model with fresh optimizer state, a
//! bounded number of times), progress for the status bar and the terminal, live curves for the
//! panel, cancel. A demo supplies a [`Trainee`]: its batch and loss, its validation score and
//! which way is better.
//!
//! burn's own `burn-train` Learner was weighed for this and not taken: it iterates epochs of a
//! `DataLoader`, where these demos simulate a fresh batch every step under a time budget; its
//! curves and cancel go to its terminal UI, not to a job the window polls every frame; and the
//! `train` feature adds ~45 crates to a build that already takes half an hour on two cores.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::Device;

use crate::jobs::{JobContext, JobError, TrainingBounds};
use crate::stored_model::{self, StoredModel};

/// The settings every run shares. A demo's `TrainConfig` holds one, flattened, so its JSON
/// (kept in every model file's header) has the same fields as before.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    pub max_steps: u64,
    /// Stop after this many seconds (the best model so far is kept).
    pub budget_secs: Option<f64>,
    pub learning_rate: f64,
    /// Validate every this many steps (and after the last).
    pub validate_every: u64,
    /// Seeds the initial weights, the batches and the validation data.
    pub seed: u64,
    /// Start from this model file (same kind and shape) instead of a fresh model.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Save the best model here (atomically) at every improvement, so that a run stopped
    /// early loses nothing.
    #[serde(skip)]
    pub checkpoint: Option<PathBuf>,
}

impl Schedule {
    pub fn new(max_steps: u64, learning_rate: f64, validate_every: u64) -> Self {
        Self {
            max_steps,
            budget_secs: None,
            learning_rate,
            validate_every,
            seed: 0,
            init: None,
            checkpoint: None,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate < 1.0)
        {
            return Err(format!(
                "learning rate must be in (0, 1), not {}",
                self.learning_rate
            ));
        }
        if self.validate_every == 0 {
            return Err("validation must come every 1 or more steps".to_owned());
        }
        if self
            .budget_secs
            .is_some_and(|b| !(b.is_finite() && b > 0.0))
        {
            return Err(format!(
                "the time budget must be a positive number of seconds, not {:?}",
                self.budget_secs
            ));
        }
        Ok(())
    }

    /// A run of the panel: until cancelled or `budget_secs` is spent.
    pub fn for_panel(&mut self, budget_secs: f64) {
        self.max_steps = u64::MAX;
        self.budget_secs = Some(budget_secs);
    }
}

/// Which way a validation score is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Better {
    pub fn improves(self, candidate: f64, best: f64) -> bool {
        match self {
            Self::Higher => candidate > best,
            Self::Lower => candidate < best,
        }
    }
}

/// The validation score a demo keeps its best model by.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Its field in a model file's training info, e.g. `val_psnr`.
    pub key: &'static str,
    /// In words, e.g. `validation PSNR`.
    pub label: &'static str,
    pub better: Better,
    /// Decimals shown.
    pub decimals: usize,
    /// Shown after the number, e.g. ` dB`.
    pub unit: &'static str,
}

impl Metric {
    /// A score where lower is better (an error), shown with `decimals`.
    pub const fn lower(key: &'static str, label: &'static str, decimals: usize) -> Self {
        Self {
            key,
            label,
            better: Better::Lower,
            decimals,
            unit: "",
        }
    }

    /// A score where higher is better (a likelihood, a PSNR), shown with `decimals`.
    pub const fn higher(key: &'static str, label: &'static str, decimals: usize) -> Self {
        Self {
            better: Better::Higher,
            ..Self::lower(key, label, decimals)
        }
    }

    /// The same, shown with `unit` after the number.
    pub const fn with_unit(self, unit: &'static str) -> Self {
        Self { unit, ..self }
    }

    pub fn show(&self, score: f64) -> String {
        format!("{score:.*}{}", self.decimals, self.unit)
    }
}

/// A model with its validation score (and, where a demo keeps by more than one number, the
/// score of each part of the validation data).
#[derive(Clone, Debug)]
pub struct Scored<M> {
    pub model: M,
    pub score: f64,
    pub parts: Vec<f64>,
}

impl<M> Scored<M> {
    pub fn new(model: M, score: f64) -> Self {
        Self {
            model,
            score,
            parts: Vec::new(),
        }
    }
}

/// What one step reports: the loss it descended (not finite: no step was taken), and the
/// terms to plot, by name (the first is the loss the status bar shows).
#[derive(Clone, Debug)]
pub struct StepReport {
    pub terms: Vec<(&'static str, f64)>,
}

impl StepReport {
    /// Several named terms (the first is the loss shown).
    pub fn terms(terms: &[(&'static str, f64)]) -> Self {
        Self {
            terms: terms.to_vec(),
        }
    }

    pub fn loss(loss: f64) -> Self {
        Self {
            terms: vec![("loss", loss)],
        }
    }

    /// The first term: the one shown as the loss.
    pub fn shown(&self) -> f64 {
        self.terms.first().map_or(f64::NAN, |t| t.1)
    }

    fn is_finite(&self) -> bool {
        self.terms.iter().all(|t| t.1.is_finite())
    }
}

/// A finished run: the best model and how it got there.
#[derive(Clone, Debug)]
pub struct Trained<M> {
    pub model: M,
    /// Its validation score (the demo's [`Metric`]).
    pub score: f64,
    pub metric: Metric,
    /// Other numbers the demo reports beside it, e.g. plain BP's validation BER.
    pub beside: Vec<(&'static str, f64)>,
    pub steps: u64,
    pub seconds: f64,
}

/// The live curves of a run, for the panel: every step's terms and every validation's score.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    pub terms: Vec<(&'static str, Vec<[f64; 2]>)>,
    pub validation: Vec<[f64; 2]>,
}

impl Curves {
    /// The points of the term `name` (empty until a step reported it).
    pub fn term(&self, name: &str) -> &[[f64; 2]] {
        self.terms
            .iter()
            .find(|t| t.0 == name)
            .map_or(&[], |t| t.1.as_slice())
    }

    fn push_terms(&mut self, step: u64, report: &StepReport) {
        for &(name, value) in &report.terms {
            match self.terms.iter_mut().find(|t| t.0 == name) {
                Some(t) => t.1.push([step as f64, value]),
                None => self.terms.push((name, vec![[step as f64, value]])),
            }
        }
    }
}

/// What a training job runs with: its context (progress, cancel), the device asked for, and the
/// curves to fill (the panel's; none on the terminal).
#[derive(Clone, Copy)]
pub struct TrainJob<'a> {
    pub ctx: &'a JobContext,
    pub device: &'a Device,
    pub curves: Option<&'a Mutex<Curves>>,
}

impl<'a> TrainJob<'a> {
    /// A job that fills no curves (the terminal's).
    pub fn new(ctx: &'a JobContext, device: &'a Device) -> Self {
        Self {
            ctx,
            device,
            curves: None,
        }
    }

    /// The same job, filling `curves` (a panel's).
    pub fn with_curves(self, curves: &'a Mutex<Curves>) -> Self {
        Self {
            curves: Some(curves),
            ..self
        }
    }

    /// Checks `config` and gives the run's devices, seeded from its schedule.
    pub fn devices<C: TrainSettings>(&self, config: &C) -> Result<Devices, JobError> {
        config.validate().map_err(JobError::Failed)?;
        Ok(Devices::new(self.device, config.schedule().seed))
    }
}

/// A demo's training function: the job and the config.
pub type TrainFn<M, C> = fn(TrainJob<'_>, &C) -> Result<Trained<M>, JobError>;

/// The devices of a run: the plain one validation runs on, and its autodiff twin, seeded so
/// that the initial weights repeat from the config.
pub struct Devices {
    pub plain: Device,
    pub autodiff: Device,
    /// Whether the device compiles kernels on first use (the status bar says "warming up").
    pub compiles: bool,
}

impl Devices {
    pub fn new(device: &Device, seed: u64) -> Self {
        let autodiff = device.clone().autodiff();
        autodiff.seed(seed);
        Self {
            plain: device.clone(),
            compiles: crate::backend::compiles_kernels(device),
            autodiff,
        }
    }
}

/// What every demo's `TrainConfig` tells the runner: its schedule, and the score its runs keep
/// their best model by.
pub trait TrainSettings: serde::Serialize {
    const METRIC: Metric;
    fn schedule(&self) -> &Schedule;
    /// Refuses a config no run can start from (with what is wrong).
    fn validate(&self) -> Result<(), String>;
}

/// Refuses a starting model (`--init`) whose config differs from the one asked for.
pub fn same_shape<T: PartialEq + std::fmt::Debug>(found: &T, asked: &T) -> Result<(), String> {
    if found == asked {
        Ok(())
    } else {
        Err(format!(
            "the starting model is a {found:?}, not the {asked:?} asked for"
        ))
    }
}

/// The learning rate after `progress` ∈ [0, 1] of the run: a cosine from `base` to `base/10`.
pub fn cosine_learning_rate(base: f64, progress: f64) -> f64 {
    base * (0.1 + 0.45 * (1.0 + (std::f64::consts::PI * progress.clamp(0.0, 1.0)).cos()))
}

/// How often a run may fall back to its best model after a non-finite step.
const MAX_RESTARTS: usize = 5;

/// The module a trainee's optimizer updates.
pub type NetOf<T> = <<T as Trainee>::Model as StoredModel>::Net;

/// What a demo hands the runner: its network, batches, loss and validation.
pub trait Trainee {
    /// What validation scores and training returns: the net (the module the optimizer
    /// updates) with its config.
    type Model: StoredModel + Clone;
    /// The demo's `TrainConfig`, kept in the model file's header.
    type Config: TrainSettings;

    /// A fresh network on the (autodiff) device.
    fn fresh(&mut self, device: &Device) -> NetOf<Self>;
    /// Takes over a model loaded from `--init`, refusing one whose shape differs from the
    /// config's (the message says both).
    fn adopt(&mut self, loaded: Self::Model) -> Result<NetOf<Self>, String>;

    /// The optimizer, new at the start and after each restart.
    fn optimizer(&self) -> ModuleOptimizer {
        AdamConfig::new().init()
    }
    /// The learning rate after `progress` ∈ [0, 1] of the run, from the schedule's `base`.
    fn learning_rate(&self, base: f64, progress: f64) -> f64 {
        let _ = progress;
        base
    }

    /// Step `step` (from 1) on a fresh batch: the net after it and what it reports.
    fn step(
        &mut self,
        step: u64,
        net: NetOf<Self>,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(NetOf<Self>, StepReport), JobError>;

    /// The net's inference copy with its validation score.
    fn validate(&self, net: &NetOf<Self>) -> Scored<Self::Model>;

    /// The model training starts from, scored: by default the starting net's.
    fn start(&self, net: &NetOf<Self>) -> Scored<Self::Model> {
        self.validate(net)
    }

    /// Whether `candidate` replaces `best` (`best_is_start`: nothing trained was kept yet).
    fn replaces(
        &self,
        candidate: &Scored<Self::Model>,
        best: &Scored<Self::Model>,
        best_is_start: bool,
    ) -> bool {
        let _ = best_is_start;
        Self::Config::METRIC
            .better
            .improves(candidate.score, best.score)
    }

    /// Numbers reported beside the score (in the model file and the last message).
    fn beside(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

impl<M: StoredModel> Trained<M> {
    /// The header's training info: the config, the run and its scores.
    fn info(&self, config: &impl serde::Serialize) -> anyhow::Result<serde_json::Value> {
        let mut info = serde_json::Map::new();
        info.insert("config".into(), serde_json::to_value(config)?);
        info.insert("steps".into(), self.steps.into());
        info.insert("seconds".into(), self.seconds.into());
        info.insert(self.metric.key.into(), self.score.into());
        for &(key, value) in &self.beside {
            info.insert(key.into(), value.into());
        }
        Ok(serde_json::Value::Object(info))
    }

    /// Saves the model with how it was trained (`config`: the run's), atomically.
    pub fn save(&self, path: &Path, config: &impl serde::Serialize) -> anyhow::Result<()> {
        stored_model::save(path, &self.model, &self.info(config)?)
    }

    /// One line for the terminal and the panel: steps, time, score.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} steps in {:.0} s, {} {}",
            self.steps,
            self.seconds,
            self.metric.label,
            self.metric.show(self.score)
        );
        for (key, value) in &self.beside {
            line.push_str(&format!(", {key} {}", self.metric.show(*value)));
        }
        line
    }
}

/// Runs `trainee` under its schedule on `devices`; the job's curves (when it has them) get
/// every step's terms and every validation score as they come.
pub fn run<T: Trainee>(
    job: TrainJob<'_>,
    config: &T::Config,
    trainee: &mut T,
    devices: &Devices,
) -> Result<Trained<T::Model>, JobError> {
    let TrainJob { ctx, curves, .. } = job;
    let record = |f: &dyn Fn(&mut Curves)| {
        if let Some(curves) = curves
            && let Ok(mut c) = curves.lock()
        {
            f(&mut c);
        }
    };
    let schedule = config.schedule().clone();
    schedule.validate().map_err(JobError::Failed)?;
    let metric = T::Config::METRIC;
    let bounds = TrainingBounds::new(schedule.max_steps, schedule.budget_secs);
    let mut net = match &schedule.init {
        Some(path) => {
            let loaded = stored_model::load_any::<T::Model>(path, &devices.autodiff)
                .map_err(|e| JobError::Failed(format!("{e:#}")))?;
            trainee.adopt(loaded).map_err(JobError::Failed)?
        }
        None => trainee.fresh(&devices.autodiff),
    };
    ctx.check_cancelled()?;
    let mut best = trainee.start(&net);
    let mut best_is_start = true;
    let start_message = format!("{} {} at the start", metric.label, metric.show(best.score));
    log::info!("{start_message}");
    ctx.set_message(start_message);
    record(&|c| c.validation.push([0.0, best.score]));
    let trained = |trainee: &T, best: &Scored<T::Model>, step| Trained {
        model: best.model.clone(),
        score: best.score,
        metric,
        beside: trainee.beside(),
        steps: step,
        seconds: bounds.seconds(),
    };
    let mut optimizer = trainee.optimizer();
    let mut step = 0;
    let mut restarts = 0;
    while ctx.begin_training_step(&mut step, &bounds, devices.compiles)? {
        let rate = trainee.learning_rate(schedule.learning_rate, bounds.progress(step));
        let report;
        (net, report) = trainee.step(step, net, &mut optimizer, rate)?;
        if !report.is_finite() {
            // A rare batch overflows: go back to the best model with fresh optimizer state
            // rather than lose the run, and stop only if it keeps happening.
            restarts += 1;
            let kept = match &schedule.checkpoint {
                Some(path) => format!("is kept in {}", path.display()),
                None => "is handed back".to_owned(),
            };
            if restarts > MAX_RESTARTS {
                return Err(JobError::Failed(format!(
                    "the training loss stopped being finite at step {step} for the \
                     {restarts}th time; this run stops (the best model so far, {} {}, {kept})",
                    metric.label,
                    metric.show(best.score)
                )));
            }
            net = best
                .model
                .net()
                .clone()
                .to_device(&devices.autodiff)
                .train();
            optimizer = trainee.optimizer();
            ctx.set_message(format!(
                "the loss was not finite at step {step}: restarted from the best model ({} {})",
                metric.label,
                metric.show(best.score)
            ));
            continue;
        }
        ctx.report_training_step(step, &bounds, report.shown());
        record(&|c| c.push_terms(step, &report));
        if bounds.validation_due(step, schedule.validate_every) {
            let candidate = trainee.validate(&net);
            let score = candidate.score;
            record(&|c| c.validation.push([step as f64, score]));
            if trainee.replaces(&candidate, &best, best_is_start) {
                (best, best_is_start) = (candidate, false);
                if let Some(path) = &schedule.checkpoint {
                    trained(trainee, &best, step)
                        .save(path, config)
                        .map_err(|e| {
                            JobError::Failed(format!(
                                "saving the checkpoint {}: {e:#}",
                                path.display()
                            ))
                        })?;
                }
            }
            let terms: Vec<String> = report
                .terms
                .iter()
                .map(|(name, value)| format!("{name} {value:.4}"))
                .collect();
            let message = format!(
                "{}; {} {} (best {})",
                terms.join(", "),
                metric.label,
                metric.show(score),
                metric.show(best.score)
            );
            log::info!("step {step}: {message}");
            ctx.set_message(message);
        }
    }
    if step > 0 && !bounds.validation_due(step, schedule.validate_every) {
        let candidate = trainee.validate(&net);
        record(&|c| c.validation.push([step as f64, candidate.score]));
        if trainee.replaces(&candidate, &best, best_is_start) {
            best = candidate;
        }
    }
    Ok(trained(trainee, &best, step))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_falls_on_a_cosine_to_a_tenth() {
        let base = 1e-3;
        assert!((cosine_learning_rate(base, 0.0) - base).abs() < 1e-15);
        assert!((cosine_learning_rate(base, 0.5) - 0.55 * base).abs() < 1e-15);
        assert!((cosine_learning_rate(base, 1.0) - 0.1 * base).abs() < 1e-15);
        assert!((cosine_learning_rate(base, 7.0) - 0.1 * base).abs() < 1e-15);
        let rates: Vec<f64> = (0..=20)
            .map(|i| cosine_learning_rate(base, f64::from(i) / 20.0))
            .collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn schedules_refuse_absurd_values() {
        let ok = Schedule::new(10, 1e-3, 5);
        assert!(ok.validate().is_ok());
        for bad in [
            Schedule {
                learning_rate: f64::NAN,
                ..ok.clone()
            },
            Schedule {
                learning_rate: 2.0,
                ..ok.clone()
            },
            Schedule {
                validate_every: 0,
                ..ok.clone()
            },
            Schedule {
                budget_secs: Some(-1.0),
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn curves_collect_terms_by_name() {
        let mut c = Curves::default();
        c.push_terms(
            1,
            &StepReport {
                terms: vec![("nll", 2.0), ("kl", 0.5)],
            },
        );
        c.push_terms(2, &StepReport::loss(1.0));
        assert_eq!(c.term("nll"), &[[1.0, 2.0]]);
        assert_eq!(c.term("kl"), &[[1.0, 0.5]]);
        assert_eq!(c.term("loss"), &[[2.0, 1.0]]);
        assert!(c.term("none").is_empty());
        assert!(Better::Lower.improves(1.0, 2.0) && Better::Higher.improves(2.0, 1.0));
    }

    /// A line y = 2x fitted by a 1→1 linear layer: a problem small enough to watch the loop.
    mod toy {
        use super::*;
        use burn::nn::{Linear, LinearConfig};
        use burn::optim::ModuleOptimizer;
        use burn::tensor::{Tensor, TensorData};

        #[derive(Clone, Debug)]
        pub struct Toy {
            pub net: Linear,
        }

        impl StoredModel for Toy {
            const DEMO: &'static str = "toy";
            const SHIPPED: &'static [crate::stored_model::Shipped] = &[];
            type Net = Linear;
            type Stored = ();
            fn kind(&self) -> &'static str {
                "line"
            }
            fn net(&self) -> &Linear {
                &self.net
            }
            fn stored(&self) {}
            fn validate(_: &()) -> Result<(), String> {
                Ok(())
            }
            fn build(_: &(), device: &Device) -> Linear {
                LinearConfig::new(1, 1).init(device)
            }
            fn assemble(net: Linear, _: ()) -> Self {
                Self { net }
            }
        }

        #[derive(Clone, serde::Serialize)]
        pub struct ToyConfig {
            pub schedule: Schedule,
        }

        impl TrainSettings for ToyConfig {
            const METRIC: Metric = Metric::lower("val_loss", "validation loss", 6);
            fn schedule(&self) -> &Schedule {
                &self.schedule
            }
            fn validate(&self) -> Result<(), String> {
                self.schedule.validate()
            }
        }

        pub struct ToyTrainee {
            pub autodiff: Device,
            /// Steps whose loss comes back NaN (a step that overflowed).
            pub poisoned: Vec<u64>,
        }

        fn mse(net: &Linear, device: &Device) -> Tensor<1> {
            let x =
                Tensor::<2>::from_data(TensorData::new(vec![-1.0f32, 0.5, 2.0], [3, 1]), device);
            let y = x.clone() * 2.0;
            (net.forward(x) - y).powf_scalar(2.0).mean()
        }

        impl Trainee for ToyTrainee {
            type Model = Toy;
            type Config = ToyConfig;
            fn fresh(&mut self, device: &Device) -> Linear {
                Toy::build(&(), device)
            }
            fn adopt(&mut self, loaded: Toy) -> Result<Linear, String> {
                Ok(loaded.net)
            }
            fn step(
                &mut self,
                step: u64,
                net: Linear,
                optimizer: &mut ModuleOptimizer,
                learning_rate: f64,
            ) -> Result<(Linear, StepReport), JobError> {
                if self.poisoned.contains(&step) {
                    return Ok((net, StepReport::loss(f64::NAN)));
                }
                let loss = mse(&net, &self.autodiff);
                let (net, loss) = crate::training::descend(net, loss, optimizer, learning_rate);
                Ok((net, StepReport::loss(loss)))
            }
            fn validate(&self, net: &Linear) -> Scored<Toy> {
                let plain = Device::flex();
                let net = net.valid().to_device(&plain);
                let score = f64::from(mse(&net, &plain).into_scalar::<f32>());
                Scored::new(Toy { net }, score)
            }
        }
    }

    fn toy_run(
        steps: u64,
        poisoned: Vec<u64>,
        checkpoint: Option<PathBuf>,
    ) -> Result<Trained<toy::Toy>, JobError> {
        let handle = crate::jobs::spawn(
            "toy",
            || {},
            move |ctx| {
                let mut schedule = Schedule::new(steps, 0.05, 5);
                schedule.checkpoint = checkpoint;
                let devices = Devices::new(&Device::flex(), 1);
                let config = toy::ToyConfig { schedule };
                let mut trainee = toy::ToyTrainee {
                    autodiff: devices.autodiff.clone(),
                    poisoned,
                };
                run(
                    TrainJob::new(ctx, &devices.plain),
                    &config,
                    &mut trainee,
                    &devices,
                )
            },
        )
        .expect("spawn");
        handle.wait()
    }

    #[test]
    fn the_best_model_is_kept_and_checkpointed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("toy.mpk");
        let trained = toy_run(60, Vec::new(), Some(path.clone())).expect("run");
        assert_eq!(trained.steps, 60);
        assert!(trained.score < 0.05, "{}", trained.score);
        // The checkpoint holds the best model, with its score in the header.
        let loaded: toy::Toy =
            crate::stored_model::load(&path, "line", &Device::flex()).expect("load");
        let bytes = std::fs::read(&path).expect("read");
        let (header, _) = crate::model_file::split(&bytes, "toy").expect("split");
        assert_eq!(header.training["val_loss"].as_f64(), Some(trained.score));
        // Saved when validation found it: at a multiple of the validation interval.
        let at = header.training["steps"].as_u64().expect("steps");
        assert!(at > 0 && at <= 60 && at % 5 == 0, "{at}");
        let x = burn::tensor::Tensor::<2>::from_floats([[1.5]], &Device::flex());
        let (a, b) = (trained.model.net.forward(x.clone()), loaded.net.forward(x));
        assert_eq!(a.into_data(), b.into_data());
    }

    #[test]
    fn a_non_finite_step_restarts_from_the_best_a_bounded_number_of_times() {
        // Two bad steps: the run goes back to its best model twice and finishes.
        let trained = toy_run(40, vec![12, 13], None).expect("run");
        assert_eq!(trained.steps, 40);
        assert!(trained.score < 0.5, "{}", trained.score);
        // Every step bad from step 8 on: the run stops after the bounded number of restarts.
        let err = toy_run(40, (8..40).collect(), None).expect_err("stops");
        assert!(
            matches!(&err, JobError::Failed(m) if m.contains("stopped being finite")),
            "{err:?}"
        );
    }
}
