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
use crate::bench::train_speed::{LoopStep, descend};
use crate::jobs::{JobContext, JobError, TrainingBounds};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: AcdConfig,
    pub springs: SpringsConfig,
    /// Samples per step.
    pub batch: usize,
    pub val_samples: usize,
    pub max_steps: u64,
    pub budget_secs: Option<f64>,
    pub learning_rate: f64,
    pub validate_every: u64,
    pub seed: u64,
    /// Start from this model file (same config) instead of from scratch.
    pub init: Option<std::path::PathBuf>,
    /// Save the best model here (atomically) whenever validation improves.
    #[serde(skip)]
    pub checkpoint: Option<std::path::PathBuf>,
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
            max_steps: 100_000,
            budget_secs: None,
            learning_rate: 5e-4,
            validate_every: 250,
            seed: 0,
            init: None,
            checkpoint: None,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), String> {
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
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate < 1.0)
        {
            return Err(format!(
                "learning rate must be in (0, 1), not {}",
                self.learning_rate
            ));
        }
        Ok(())
    }
}

/// A finished run: the best model and how it got there.
#[derive(Clone, Debug)]
pub struct TrainedModel {
    pub model: LearnedModel,
    pub val_auroc: f64,
    pub steps: u64,
    pub seconds: f64,
}

/// The live curves of a run, for the panel: per step the ELBO's two terms, per validation the
/// encoder's AUROC.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    pub nll: Vec<[f64; 2]>,
    pub kl: Vec<[f64; 2]>,
    pub val_auroc: Vec<[f64; 2]>,
}

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

/// How often a run may fall back to its best model after a non-finite step.
const MAX_RESTARTS: usize = 5;

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
        config
            .seed
            .wrapping_mul(7_919)
            .wrapping_add(step.wrapping_mul(104_729) + 11),
    )
}

/// The fixed validation samples of a config.
pub fn validation_set(config: &TrainConfig) -> Vec<Series> {
    simulate_many(
        &config.springs,
        config.val_samples,
        config.seed.wrapping_add(0x05ee_d7a1),
    )
}

/// Trains on `device` (made autodiff here), from `config.init` when given; reports progress
/// (the curve is the NLL) and honours cancel.
pub fn train(
    ctx: &JobContext,
    config: &TrainConfig,
    device: &Device,
    curves: Option<&std::sync::Mutex<Curves>>,
) -> Result<TrainedModel, JobError> {
    let record = |f: &dyn Fn(&mut Curves)| {
        if let Some(curves) = curves
            && let Ok(mut c) = curves.lock()
        {
            f(&mut c);
        }
    };
    config.validate().map_err(JobError::Failed)?;
    let bounds = TrainingBounds::new(config.max_steps, config.budget_secs);
    let compiles = crate::backend::compiles_kernels(device);
    let ad_device = device.clone().autodiff();
    ad_device.seed(config.seed);
    let val = validation_set(config);
    let labels: Vec<Vec<bool>> = val.iter().filter_map(Series::edge_labels).collect();
    let (mut model_config, mut net) = match &config.init {
        Some(path) => {
            let loaded = super::model_io::load(path, &ad_device)
                .map_err(|e| JobError::Failed(format!("{e:#}")))?;
            let same_shape = AcdConfig {
                scale: loaded.config.scale,
                ..config.model.clone()
            };
            if loaded.config != same_shape {
                return Err(JobError::Failed(format!(
                    "the starting model is a {:?}, not the {:?} asked for",
                    loaded.config, config.model
                )));
            }
            (loaded.config, loaded.net)
        }
        None => (
            config.model.clone(),
            AcdModel::new(&config.model, &ad_device),
        ),
    };
    if config.init.is_none() {
        model_config.scale =
            feature_scale(&simulate_many(&config.springs, 500, config.seed ^ 0x5ca1e));
    }
    let val_auroc = |net: &AcdModel| {
        let model = LearnedModel {
            net: net.valid(),
            config: model_config.clone(),
        };
        let refs: Vec<&Series> = val.iter().collect();
        let probabilities = acd_probabilities(&model, &refs, device);
        let auroc = pooled_auroc(&probabilities, &labels).unwrap_or(0.5);
        (model, auroc)
    };
    let (mut best, mut best_auroc) = val_auroc(&net);
    ctx.set_message(format!("validation AUROC {best_auroc:.3} at the start"));
    let mut optimizer = optimizer();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut step = 0;
    let mut restarts = 0;
    while ctx.begin_training_step(&mut step, &bounds, compiles)? {
        let batch = training_batch(config, step);
        let (nll, kl);
        (net, nll, kl) = optimization_step(
            net,
            &mut optimizer,
            &model_config,
            &batch,
            config.learning_rate,
            &mut rng,
            &ad_device,
        );
        if !(nll.is_finite() && kl.is_finite()) {
            // A rare rollout overflows; go back to the best model with fresh Adam moments
            // rather than lose the run, and stop only if it keeps happening.
            restarts += 1;
            if restarts > MAX_RESTARTS {
                return Err(JobError::Failed(format!(
                    "the ELBO stopped being finite at step {step} for the {restarts}th time; \
                     this run stops (the best model so far, validation AUROC {best_auroc:.3}, \
                     is kept in its checkpoint)"
                )));
            }
            net = best.net.clone().to_device(&ad_device).train();
            optimizer = self::optimizer();
            ctx.set_message(format!(
                "the ELBO was not finite at step {step}: restarted from the best model \
                 (validation AUROC {best_auroc:.4})"
            ));
            continue;
        }
        ctx.report_training_step(step, &bounds, nll);
        record(&|c| {
            c.nll.push([step as f64, nll]);
            c.kl.push([step as f64, kl]);
        });
        if bounds.validation_due(step, config.validate_every) {
            let (candidate, auroc) = val_auroc(&net);
            record(&|c| c.val_auroc.push([step as f64, auroc]));
            if auroc > best_auroc {
                (best, best_auroc) = (candidate, auroc);
                if let Some(path) = &config.checkpoint {
                    let so_far = TrainedModel {
                        model: best.clone(),
                        val_auroc: best_auroc,
                        steps: step,
                        seconds: bounds.seconds(),
                    };
                    super::model_io::save(path, &so_far, config).map_err(|e| {
                        JobError::Failed(format!("saving the checkpoint {}: {e:#}", path.display()))
                    })?;
                }
            }
            ctx.set_message(format!(
                "NLL {nll:.1}, KL {kl:.2}; validation AUROC {auroc:.4} (best {best_auroc:.4})"
            ));
        }
    }
    let (candidate, auroc) = val_auroc(&net);
    record(&|c| c.val_auroc.push([step as f64, auroc]));
    if auroc > best_auroc {
        (best, best_auroc) = (candidate, auroc);
    }
    Ok(TrainedModel {
        model: best,
        val_auroc: best_auroc,
        steps: step,
        seconds: bounds.seconds(),
    })
}

/// The training step of `config` for `bench --train`: one batch, simulated once.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<AcdModel>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let batch = training_batch(config, 0);
    let mut model_config = config.model.clone();
    model_config.scale = feature_scale(&batch);
    let net = AcdModel::new(&model_config, &device);
    let rate = config.learning_rate;
    let mut rng = StdRng::seed_from_u64(config.seed);
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
            max_steps: 4,
            validate_every: 2,
            learning_rate: 1e-3,
            ..TrainConfig::default()
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
        let config = tiny();
        let curves = std::sync::Arc::new(std::sync::Mutex::new(Curves::default()));
        let job_curves = curves.clone();
        let handle = crate::jobs::spawn(
            "t",
            || {},
            move |ctx| train(ctx, &config, &Device::flex(), Some(&job_curves)),
        )
        .expect("spawn");
        let trained = handle.wait().expect("training");
        assert_eq!(trained.steps, 4);
        let curves = curves.lock().expect("curves").clone();
        assert_eq!(curves.nll.len(), 4);
        assert!(curves.kl.iter().all(|k| k[1].is_finite()));
        assert!(curves.val_auroc.len() >= 3, "{:?}", curves.val_auroc);
        assert!((0.0..=1.0).contains(&trained.val_auroc));
        assert!(trained.model.config.scale.iter().all(|s| *s > 0.0));
        let endless = TrainConfig {
            max_steps: u64::MAX,
            ..tiny()
        };
        let handle = crate::jobs::spawn(
            "c",
            || {},
            move |ctx| train(ctx, &endless, &Device::flex(), None),
        )
        .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(500));
        handle.cancel();
        assert!(matches!(handle.wait(), Err(JobError::Cancelled)));
    }

    #[test]
    fn absurd_configs_are_refused() {
        let mut c = TrainConfig::default();
        assert!(c.validate().is_ok());
        c.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
        c.learning_rate = 5e-4;
        c.springs.particles = 6;
        assert!(c.validate().is_err());
        c.springs.particles = 5;
        c.model.temperature = 0.0;
        assert!(c.validate().is_err());
    }
}
