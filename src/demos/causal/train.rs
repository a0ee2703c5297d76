//! Training the ACD model as NRI's VAE: each step simulates a fresh batch of springs samples
//! (each with its own graph; an endless training set instead of the papers' fixed 50 000),
//! and descends the negative ELBO (decoder NLL + KL of the edge posterior to the sparse prior)
//! with Adam. The model with the best validation AUROC (the encoder's edge probabilities on
//! fixed samples against their true graphs; the truth is never used for training) is kept and
//! checkpointed atomically. A job, from the panel and `causal train` alike.

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::methods::{LearnedModel, acd_probabilities};
use super::metrics::pooled_auroc;
use super::model::{AcdConfig, AcdModel, series_tensor};
use super::sim::{FEATURES, Series, SpringsConfig, simulate_many};
use crate::jobs::JobError;
use crate::stored_model::NetSpec;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, descend, runner,
};

/// A finished run.
pub type TrainedModel = Trained<LearnedModel>;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: AcdConfig,
    pub springs: SpringsConfig,
    /// Samples per step.
    pub batch: usize,
    pub val_samples: usize,
    #[serde(flatten)]
    pub schedule: Schedule,
}

impl Default for TrainConfig {
    /// Scaled to 2 CPU cores (docs/causal.md): batch 32 instead of 128, a 64-unit decoder.
    fn default() -> Self {
        Self {
            model: AcdConfig {
                decoder_hidden: 64,
                ..AcdConfig::default()
            },
            springs: SpringsConfig::default(),
            batch: 32,
            val_samples: 200,
            schedule: Schedule::new(100_000, 5e-4, 250),
        }
    }
}

impl TrainSettings for TrainConfig {
    /// The score a run keeps its best model by.
    const METRIC: Metric = Metric::higher("val_auroc", "validation AUROC", 4);

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        self.springs.validate()?;
        if self.springs.particles != self.model.nodes || self.springs.frames != self.model.frames {
            return Err(format!(
                "the model reads {} particles × {} frames but the samples have {} × {}",
                self.model.nodes, self.model.frames, self.springs.particles, self.springs.frames
            ));
        }
        if !(1..=4096).contains(&self.batch) || !(2..=100_000).contains(&self.val_samples) {
            return Err(format!(
                "batch {} must be in 1..=4096 and validation samples {} in 2..=100000",
                self.batch, self.val_samples
            ));
        }
        self.schedule.validate()
    }
}

impl TrainConfig {}

/// The standard deviation of x, y, vx, vy over simulated samples: the model's input scale.
pub fn feature_scale(samples: &[Series]) -> [f32; FEATURES] {
    let mut sum = [0.0f64; FEATURES];
    let mut squares = [0.0f64; FEATURES];
    let mut count = 0.0f64;
    for s in samples {
        for chunk in s.values.chunks_exact(FEATURES) {
            for f in 0..FEATURES {
                sum[f] += chunk[f];
                squares[f] += chunk[f] * chunk[f];
            }
            count += 1.0;
        }
    }
    std::array::from_fn(|f| {
        let mean = sum[f] / count.max(1.0);
        ((squares[f] / count.max(1.0) - mean * mean).max(1e-12)).sqrt() as f32
    })
}

fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().init()
}

/// One ELBO step on `batch`: the model after it, and the step's (NLL, KL).
pub fn optimization_step(
    net: AcdModel,
    optimizer: &mut ModuleOptimizer,
    config: &AcdConfig,
    batch: &[Series],
    learning_rate: f64,
    rng: &mut StdRng,
    device: &Device,
) -> (AcdModel, f64, f64) {
    let refs: Vec<&Series> = batch.iter().collect();
    let elbo = net.elbo(config, series_tensor(&refs, config, device), rng);
    let kl = f64::from(elbo.kl.clone().into_scalar::<f32>());
    let (net, loss) = descend(net, elbo.loss(), optimizer, learning_rate);
    (net, loss - kl, kl)
}

/// Fresh training samples for `step`, each with its own graph.
fn training_batch(config: &TrainConfig, step: u64) -> Vec<Series> {
    simulate_many(
        &config.springs,
        config.batch,
        Stream::Train.seed(config.schedule.seed, step),
    )
}

/// The fixed validation samples of a config.
pub fn validation_set(config: &TrainConfig) -> Vec<Series> {
    simulate_many(
        &config.springs,
        config.val_samples,
        Stream::Validation.seed(config.schedule.seed, 0),
    )
}

/// The ELBO on fresh springs samples, scored by the encoder's AUROC on fixed ones.
struct AcdTrainee<'a> {
    config: &'a TrainConfig,
    /// The model's config: the asked one with the input scale measured, or the `--init` file's.
    model_config: AcdConfig,
    val: Vec<Series>,
    labels: Vec<Vec<bool>>,
    devices: &'a Devices,
    rng: StdRng,
}

impl Trainee for AcdTrainee<'_> {
    type Model = LearnedModel;
    type Config = TrainConfig;

    fn fresh(&mut self, device: &Device) -> AcdModel {
        self.model_config.scale = feature_scale(&simulate_many(
            &self.config.springs,
            500,
            Stream::Train.seed(self.config.schedule.seed, u64::MAX),
        ));
        AcdModel::new(&self.model_config, device)
    }

    fn adopt(&mut self, loaded: LearnedModel) -> Result<AcdModel, String> {
        let same_shape = AcdConfig {
            scale: loaded.config.scale,
            ..self.config.model.clone()
        };
        if loaded.config != same_shape {
            return Err(format!(
                "the starting model is a {:?}, not the {:?} asked for",
                loaded.config, self.config.model
            ));
        }
        self.model_config = loaded.config;
        Ok(loaded.net)
    }

    fn step(
        &mut self,
        step: u64,
        net: AcdModel,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(AcdModel, StepReport), JobError> {
        let batch = training_batch(self.config, step);
        let (net, nll, kl) = optimization_step(
            net,
            optimizer,
            &self.model_config,
            &batch,
            learning_rate,
            &mut self.rng,
            &self.devices.autodiff,
        );
        Ok((net, StepReport::terms(&[("nll", nll), ("kl", kl)])))
    }

    fn validate(&self, net: &AcdModel) -> Scored<LearnedModel> {
        let model = LearnedModel {
            net: net.valid(),
            config: self.model_config.clone(),
        };
        let refs: Vec<&Series> = self.val.iter().collect();
        let probabilities = acd_probabilities(&model, &refs, &self.devices.plain);
        let auroc = pooled_auroc(&probabilities, &self.labels).unwrap_or(0.5);
        Scored::new(model, auroc)
    }
}

/// Trains on `device` (made autodiff here), from `init` when given; reports progress (the
/// curves are the ELBO's NLL and KL) and honours cancel.
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedModel, JobError> {
    let devices = job.devices(config)?;
    let val = validation_set(config);
    let labels = val.iter().filter_map(Series::edge_labels).collect();
    let mut trainee = AcdTrainee {
        config,
        model_config: config.model.clone(),
        val,
        labels,
        devices: &devices,
        rng: StdRng::seed_from_u64(config.schedule.seed),
    };
    runner::run(job, config, &mut trainee, &devices)
}

/// The training step of `config` for `bench --train`: one batch, simulated once.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<AcdModel>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.schedule.seed);
    let batch = training_batch(config, 0);
    let mut model_config = config.model.clone();
    model_config.scale = feature_scale(&batch);
    let net = AcdModel::new(&model_config, &device);
    let rate = config.schedule.learning_rate;
    let mut rng = StdRng::seed_from_u64(config.schedule.seed);
    Ok(LoopStep::new(
        network,
        format!(
            "{} samples of {} particles × {} frames",
            config.batch, model_config.nodes, model_config.frames
        ),
        config.batch,
        net,
        optimizer(),
        move |net, optimizer| {
            let (net, nll, kl) = optimization_step(
                net,
                optimizer,
                &model_config,
                &batch,
                rate,
                &mut rng,
                &device,
            );
            (net, nll + kl)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::testing::{assert_cancels, short_run};

    fn tiny() -> TrainConfig {
        let springs = SpringsConfig {
            frames: 12,
            ..SpringsConfig::default()
        };
        TrainConfig {
            model: AcdConfig {
                frames: 12,
                encoder_hidden: 32,
                decoder_hidden: 32,
                prediction_steps: 4,
                ..AcdConfig::default()
            },
            springs,
            batch: 8,
            val_samples: 8,
            schedule: Schedule::new(4, 1e-3, 2),
        }
    }

    #[test]
    fn the_elbo_falls_on_a_tiny_problem() {
        let config = tiny();
        let device = Device::flex().autodiff();
        device.seed(3);
        let batch = training_batch(&config, 0);
        let mut model_config = config.model.clone();
        model_config.scale = feature_scale(&batch);
        let mut net = AcdModel::new(&model_config, &device);
        let mut optimizer = optimizer();
        let mut rng = StdRng::seed_from_u64(5);
        let mut losses = Vec::new();
        for _ in 0..40 {
            let (nll, kl);
            (net, nll, kl) = optimization_step(
                net,
                &mut optimizer,
                &model_config,
                &batch,
                2e-3,
                &mut rng,
                &device,
            );
            losses.push(nll + kl);
        }
        let first: f64 = losses[..5].iter().sum::<f64>() / 5.0;
        let last: f64 = losses[35..].iter().sum::<f64>() / 5.0;
        assert!(last < 0.5 * first, "{first} → {last}");
    }

    #[test]
    fn a_short_run_trains_validates_and_can_be_cancelled() {
        let (trained, curves) = short_run(train, tiny());
        assert_eq!(trained.steps, 4);
        assert_eq!(curves.term("nll").len(), 4);
        assert!(curves.term("kl").iter().all(|k| k[1].is_finite()));
        assert!(curves.validation.len() >= 3, "{:?}", curves.validation);
        assert!((0.0..=1.0).contains(&trained.score));
        assert!(trained.model.config.scale.iter().all(|s| *s > 0.0));
        let mut endless = tiny();
        endless.schedule.max_steps = u64::MAX;
        assert_cancels(train, endless);
    }

    #[test]
    fn absurd_configs_are_refused() {
        let mut c = TrainConfig::default();
        assert!(c.validate().is_ok());
        c.schedule.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
        c.schedule.learning_rate = 5e-4;
        c.springs.particles = 6;
        assert!(c.validate().is_err());
        c.springs.particles = 5;
        c.model.temperature = 0.0;
        assert!(c.validate().is_err());
    }
}
