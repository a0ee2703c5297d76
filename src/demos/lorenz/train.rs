//! Training the Lorenz chain models (GNN only or hybrid): a loop run by a job, from the panel
//! and from `lorenz train` alike. Windows of a simulated training trajectory are batched as
//! chains laid end to end; the model with the lowest validation MSE is kept.

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::methods::mse;
use super::model::{ChainGnn, ChainModel, ChainModelConfig, unrolled_loss};
use super::sim::{SimConfig, State, Trajectory, simulate};
use crate::jobs::JobError;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, descend_model, runner, same_shape,
};

/// What a finished run hands back.
pub type TrainedChain = Trained<ChainModel>;

/// Time steps of training data `lorenz train` simulates unless told otherwise.
pub const DEFAULT_TRAIN_SAMPLES: usize = 2000;

/// How much better on validation (relative) a trained model must be than the untrained one.
const UNTRAINED_MARGIN: f64 = 0.01;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: ChainModelConfig,
    /// Time steps of training data (the paper's "training samples").
    pub train_samples: usize,
    /// Time steps of validation data, for choosing the kept model.
    pub val_samples: usize,
    /// Length of the chains a batch is cut into.
    pub window: usize,
    /// Chains per batch.
    pub batch_windows: usize,
    #[serde(flatten)]
    pub schedule: Schedule,
}

impl TrainSettings for TrainConfig {
    /// The score a run keeps its best model by.
    const METRIC: Metric = Metric::lower("val_mse", "validation MSE", 4);

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
        if self.train_samples < 2 || self.train_samples > 1_000_000 {
            return Err(format!(
                "training samples must be in 2..=1000000, not {}",
                self.train_samples
            ));
        }
        if self.window < 2 || self.batch_windows == 0 || self.model.iterations == 0 {
            return Err("window ≥ 2, batch ≥ 1 and iterations ≥ 1 are needed".to_owned());
        }
        self.schedule.validate()
    }
}

impl TrainConfig {
    pub fn new(model: ChainModelConfig, train_samples: usize) -> Self {
        Self {
            model,
            train_samples,
            val_samples: 2000,
            window: 100,
            batch_windows: 4,
            schedule: Schedule::new(2000, 3e-3, 50),
        }
    }
}

/// The trajectories a training run uses, from its seed: training and validation never overlap.
pub fn datasets(config: &TrainConfig) -> Result<(Trajectory, Trajectory), String> {
    let sim = |steps, seed| {
        simulate(&SimConfig {
            steps,
            sample_dt: config.model.dt,
            obs_std: config.model.obs_std,
            seed,
            ..SimConfig::default()
        })
    };
    Ok((
        sim(
            config.train_samples,
            Stream::Train.seed(config.schedule.seed, 0),
        )?,
        sim(
            config.val_samples,
            Stream::Validation.seed(config.schedule.seed, 0),
        )?,
    ))
}

/// The final estimate's MSE of `model` on a trajectory.
pub fn evaluate(model: &ChainModel, trajectory: &Trajectory, device: &Device) -> f64 {
    let estimates = model.infer(&trajectory.observations, device);
    estimates
        .last()
        .map_or(f64::NAN, |last| mse(last, &trajectory.states))
}

/// The MSE of the final estimate on each of `parts` consecutive stretches of the trajectory.
fn evaluate_parts(
    model: &ChainModel,
    trajectory: &Trajectory,
    parts: usize,
    device: &Device,
) -> Vec<f64> {
    let Some(last) = model.infer(&trajectory.observations, device).pop() else {
        return vec![f64::NAN; parts];
    };
    let len = last.len().div_ceil(parts).max(1);
    last.chunks(len)
        .zip(trajectory.states.chunks(len))
        .map(|(e, s)| mse(e, s))
        .collect()
}

/// Validation stretches a trained model must beat the untrained one on, each of them.
const VALIDATION_PARTS: usize = 4;

/// The unrolled chain model on windows of the training trajectory, scored by the MSE on the
/// validation trajectory.
struct ChainTrainee<'a> {
    config: &'a TrainConfig,
    train_set: Trajectory,
    val_set: Trajectory,
    window: usize,
    devices: &'a Devices,
    rng: StdRng,
}

impl Trainee for ChainTrainee<'_> {
    type Model = ChainModel;
    type Config = TrainConfig;

    fn fresh(&mut self, device: &Device) -> ChainGnn {
        ChainModel::new(self.config.model.clone(), device).net
    }

    fn adopt(&mut self, loaded: ChainModel) -> Result<ChainGnn, String> {
        same_shape(&loaded.config, &self.config.model)?;
        Ok(loaded.net)
    }

    fn step(
        &mut self,
        _step: u64,
        net: ChainGnn,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(ChainGnn, StepReport), JobError> {
        let chains = batch(
            &self.train_set,
            self.window,
            self.config.batch_windows,
            &mut self.rng,
        );
        let model = ChainModel {
            net,
            config: self.config.model.clone(),
        };
        let (model, loss) = optimization_step(
            model,
            optimizer,
            &chains,
            &self.devices.autodiff,
            learning_rate,
        );
        Ok((model.net, StepReport::loss(loss)))
    }

    /// The mean MSE over [`VALIDATION_PARTS`] stretches, with each stretch's.
    fn validate(&self, net: &ChainGnn) -> Scored<ChainModel> {
        let model = ChainModel {
            net: net.valid(),
            config: self.config.model.clone(),
        };
        let parts = evaluate_parts(&model, &self.val_set, VALIDATION_PARTS, &self.devices.plain);
        let score = parts.iter().sum::<f64>() / parts.len().max(1) as f64;
        Scored {
            model,
            score,
            parts,
        }
    }

    /// A trained model replaces the untrained one (for the hybrid: the model's own MAP
    /// smoother) only if it is clearly and consistently better: 1% lower validation MSE and
    /// lower on every quarter of the validation trajectory. With 100 training samples a
    /// validation gain that held on only part of it did not carry over to the test data.
    fn replaces(
        &self,
        candidate: &Scored<ChainModel>,
        best: &Scored<ChainModel>,
        best_is_start: bool,
    ) -> bool {
        if !best_is_start {
            return candidate.score < best.score;
        }
        candidate.score < best.score * (1.0 - UNTRAINED_MARGIN)
            && candidate.parts.iter().zip(&best.parts).all(|(c, u)| c < u)
    }
}

/// Trains on `device` (made autodiff here); reports progress and honours cancel.
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedChain, JobError> {
    let devices = job.devices(config)?;
    let (train_set, val_set) = datasets(config).map_err(JobError::Failed)?;
    let window = config.window.min(train_set.t.len());
    let mut trainee = ChainTrainee {
        config,
        train_set,
        val_set,
        window,
        devices: &devices,
        rng: StdRng::seed_from_u64(config.schedule.seed),
    };
    runner::run(job, config, &mut trainee, &devices)
}

/// A training batch: chains laid end to end.
struct Chains {
    observations: Vec<State>,
    states: Vec<State>,
    /// Where each chain starts.
    starts: Vec<bool>,
}

/// One optimisation step on a batch: the unrolled loss, backward, Adam at `rate`. A loss that
/// is not finite comes back without a step taken.
fn optimization_step(
    model: ChainModel,
    optimizer: &mut ModuleOptimizer,
    chains: &Chains,
    device: &Device,
    rate: f64,
) -> (ChainModel, f64) {
    let outputs = model.forward(&chains.observations, &chains.starts, device);
    let loss = unrolled_loss(&outputs, &chains.states, device);
    descend_model(model, loss, optimizer, rate)
}

/// The training step of `config`'s model for `bench --train`: one batch of its training data,
/// drawn once, and the loop's own step on it.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<ChainModel>, String> {
    config.validate()?;
    let (train_set, _) = datasets(config)?;
    let device = device.clone().autodiff();
    device.seed(config.schedule.seed);
    let window = config.window.min(train_set.t.len());
    let mut rng = StdRng::seed_from_u64(config.schedule.seed);
    let chains = batch(&train_set, window, config.batch_windows, &mut rng);
    let model = ChainModel::new(config.model.clone(), &device);
    let rate = config.schedule.learning_rate;
    Ok(LoopStep::new(
        network,
        format!("{} chains of {window} steps", config.batch_windows),
        chains.observations.len(),
        model,
        AdamConfig::new().init(),
        move |model, optimizer| optimization_step(model, optimizer, &chains, &device, rate),
    ))
}

/// `count` random windows of `window` steps, laid end to end, with chain starts marked.
fn batch(trajectory: &Trajectory, window: usize, count: usize, rng: &mut StdRng) -> Chains {
    let last_start = trajectory.t.len() - window;
    let mut observations = Vec::with_capacity(window * count);
    let mut states = Vec::with_capacity(window * count);
    let mut starts = Vec::with_capacity(window * count);
    for _ in 0..count {
        let s = if last_start == 0 {
            0
        } else {
            rng.random_range(0..=last_start)
        };
        observations.extend_from_slice(&trajectory.observations[s..s + window]);
        states.extend_from_slice(&trajectory.states[s..s + window]);
        starts.extend((0..window).map(|i| i == 0));
    }
    Chains {
        observations,
        states,
        starts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::TrainingStep;
    use crate::training::testing::{assert_cancels, assert_step_learns, short_run};

    #[test]
    fn a_short_run_trains_validates_and_can_be_cancelled() {
        let mut config = TrainConfig::new(
            ChainModelConfig {
                iterations: 3,
                hidden: 8,
                ..ChainModelConfig::hybrid()
            },
            300,
        );
        config.val_samples = 100;
        config.window = 50;
        config.schedule.max_steps = 20;
        config.schedule.validate_every = 10;
        let (trained, curves) = short_run(train, config);
        assert_eq!(trained.steps, 20);
        assert!(trained.score.is_finite());
        assert_eq!(curves.validation.len(), 3);
        let mut endless = TrainConfig::new(
            ChainModelConfig {
                iterations: 2,
                hidden: 8,
                ..ChainModelConfig::gnn_only()
            },
            200,
        );
        endless.schedule.max_steps = u64::MAX;
        assert_cancels(train, endless);
    }

    #[test]
    fn the_benchmarked_step_is_the_loops_step_and_learns_its_batch() {
        let mut config = TrainConfig::new(
            ChainModelConfig {
                iterations: 2,
                hidden: 8,
                ..ChainModelConfig::gnn_only()
            },
            200,
        );
        config.window = 20;
        config.batch_windows = 3;
        let mut step = bench_step("lorenz gnn", &config, &Device::flex()).expect("step");
        assert_eq!(step.samples(), 60);
        assert_eq!(step.batch(), "3 chains of 20 steps");
        assert_step_learns(&mut step, 10);
    }

    #[test]
    fn absurd_configs_are_refused() {
        let mut c = TrainConfig::new(ChainModelConfig::hybrid(), 1);
        assert!(c.validate().is_err());
        c.train_samples = 1000;
        c.schedule.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
    }
}
