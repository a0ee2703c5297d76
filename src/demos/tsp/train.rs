//! Training the attention model with REINFORCE and POMO's shared baseline: each step draws a
//! batch of random instances, rolls out one sampled tour from every start city of each, and
//! descends (L − mean L over the instance's rollouts) · log p. The model with the lowest
//! validation gap (`am` decoding on fixed instances, against Held–Karp's optimum up to 20
//! cities and the best 2-opt tour above) is kept. A job, from the panel and `tsp train` alike.

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::classical;
use super::methods::{AmDecoding, LearnedModel, best_rollouts, gap_percent};
use super::model::{AmConfig, AttentionModel, Pick, coords_tensor, spread_starts};
use super::sim::Instance;
use crate::bench::train_speed::{LoopStep, descend};
use crate::jobs::{JobContext, JobError, TrainingBounds};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: AmConfig,
    /// Cities per training instance.
    pub n: usize,
    /// Instances per step.
    pub batch: usize,
    /// Rollouts per instance (POMO: n).
    pub starts: usize,
    pub val_instances: usize,
    pub max_steps: u64,
    pub budget_secs: Option<f64>,
    pub learning_rate: f64,
    pub validate_every: u64,
    pub seed: u64,
    /// Start from this model file (same config) instead of from scratch.
    pub init: Option<std::path::PathBuf>,
    /// Save the best model here (atomically) whenever validation improves, so that a run
    /// stopped early loses nothing.
    #[serde(skip)]
    pub checkpoint: Option<std::path::PathBuf>,
}

impl TrainConfig {
    pub fn new(n: usize) -> Self {
        Self {
            model: AmConfig::default(),
            n,
            batch: 64,
            starts: n,
            val_instances: 200,
            max_steps: 10_000,
            budget_secs: None,
            learning_rate: 1e-4,
            validate_every: 200,
            seed: 0,
            init: None,
            checkpoint: None,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        if !(5..=500).contains(&self.n) {
            return Err(format!("n must be in 5..=500, not {}", self.n));
        }
        if !(1..=4096).contains(&self.batch) || !(1..=self.n).contains(&self.starts) {
            return Err(format!(
                "batch {} must be in 1..=4096 and starts {} in 1..=n",
                self.batch, self.starts
            ));
        }
        if !(1..=100_000).contains(&self.val_instances) {
            return Err(format!(
                "validation instances must be 1..=100000, not {}",
                self.val_instances
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
    /// Mean gap (percent) of `am` on the validation instances, to [`reference_length`]: the
    /// optimum up to 20 cities, the best 2-opt tour above (then it is negative when the model
    /// beats 2-opt).
    pub val_gap: f64,
    pub steps: u64,
    pub seconds: f64,
}

/// The live curves of a run, for the panel: per step the mean sampled tour length (the shared
/// baseline) and the mean best-of-starts length (the model's), per validation the gap.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    pub baseline: Vec<[f64; 2]>,
    pub best_of_starts: Vec<[f64; 2]>,
    pub val_gap: Vec<[f64; 2]>,
}

/// The reference length of an instance: Held–Karp's optimum up to 20 cities, else the best of
/// 2-opt from nearest neighbour and from farthest insertion.
pub fn reference_length(instance: &Instance) -> f64 {
    if instance.len() <= classical::EXACT_MAX
        && let Ok(tour) = classical::held_karp(instance)
    {
        return instance.tour_length(&tour);
    }
    let nn = classical::nearest_neighbour(instance, 0)
        .pop()
        .unwrap_or_default();
    let fi = classical::farthest_insertion(instance)
        .pop()
        .unwrap_or_default();
    [nn, fi]
        .iter()
        .map(|start| instance.tour_length(&classical::two_opt(instance, start).0))
        .fold(f64::INFINITY, f64::min)
}

/// Fixed validation instances and their reference lengths.
pub fn validation_set(n: usize, count: usize, seed: u64) -> (Vec<Instance>, Vec<f64>) {
    let instances: Vec<Instance> = (0..count)
        .map(|i| Instance::random(n, seed.wrapping_mul(1_000_003).wrapping_add(i as u64)))
        .collect();
    let references = instances.par_iter().map(reference_length).collect();
    (instances, references)
}

/// The mean gap (percent) of `model`'s `am` tours over `instances`.
pub fn mean_gap(
    model: &LearnedModel,
    instances: &[Instance],
    references: &[f64],
    decoding: AmDecoding,
    device: &Device,
) -> f64 {
    let refs: Vec<&Instance> = instances.iter().collect();
    let tours = best_rollouts(model, &refs, decoding, device);
    let total: f64 = tours
        .iter()
        .zip(instances.iter().zip(references))
        .map(|(t, (i, r))| gap_percent(i.tour_length(t), *r))
        .sum();
    total / instances.len().max(1) as f64
}

fn random_batch(n: usize, count: usize, rng: &mut StdRng) -> Vec<Vec<[f32; 2]>> {
    (0..count)
        .map(|_| (0..n).map(|_| [rng.random(), rng.random()]).collect())
        .collect()
}

fn euclidean_length(coords: &[[f32; 2]], tour: &[usize]) -> f64 {
    let n = tour.len();
    (0..n)
        .map(|k| {
            let (a, b) = (coords[tour[k]], coords[tour[(k + 1) % n]]);
            f64::from((a[0] - b[0]).hypot(a[1] - b[1]))
        })
        .sum()
}

/// One REINFORCE step with the shared baseline on `batch`: the model after the step and the
/// batch's mean sampled tour length (the baseline's mean) and mean best-of-starts length.
pub fn optimization_step(
    net: AttentionModel,
    optimizer: &mut ModuleOptimizer,
    batch: &[Vec<[f32; 2]>],
    starts: usize,
    learning_rate: f64,
    rng: &mut StdRng,
    device: &Device,
) -> (AttentionModel, f64, f64) {
    let n = batch.first().map_or(0, Vec::len);
    let start_cities = vec![spread_starts(n, starts); batch.len()];
    let out = net.rollout(
        coords_tensor(batch, device),
        &start_cities,
        Pick::Sample,
        rng,
        false,
    );
    let s = start_cities[0].len();
    let mut advantage = Vec::with_capacity(batch.len() * s);
    let (mut mean_sum, mut best_sum) = (0.0, 0.0);
    for (coords, tours) in batch.iter().zip(&out.tours) {
        let lengths: Vec<f64> = tours.iter().map(|t| euclidean_length(coords, t)).collect();
        let mean = lengths.iter().sum::<f64>() / s as f64;
        mean_sum += mean;
        best_sum += lengths.iter().copied().fold(f64::INFINITY, f64::min);
        advantage.extend(lengths.iter().map(|l| (l - mean) as f32));
    }
    let advantage = Tensor::<2>::from_data(TensorData::new(advantage, [batch.len(), s]), device);
    let loss = (advantage * out.log_prob).mean().reshape([1]);
    let (net, loss) = descend(net, loss, optimizer, learning_rate);
    let count = batch.len() as f64;
    if !loss.is_finite() {
        return (net, f64::NAN, f64::NAN);
    }
    (net, mean_sum / count, best_sum / count)
}

fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().init()
}

/// Trains on `device` (made autodiff here), from `config.init` when given; reports progress
/// (the curve is the mean sampled tour length) and honours cancel.
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
    ctx.set_message(format!(
        "computing reference tours of {} validation instances",
        config.val_instances
    ));
    let (val, references) = validation_set(
        config.n,
        config.val_instances,
        config.seed.wrapping_add(0x7a1),
    );
    ctx.check_cancelled()?;
    let decoding = AmDecoding::multi_start(config.n);
    let val_gap = |net: &AttentionModel| {
        let model = LearnedModel {
            net: net.valid(),
            config: config.model.clone(),
            trained_n: config.n,
        };
        let gap = mean_gap(&model, &val, &references, decoding, device);
        (model, gap)
    };
    let mut net = match &config.init {
        Some(path) => {
            let loaded = super::model_io::load(path, &ad_device)
                .map_err(|e| JobError::Failed(format!("{e:#}")))?;
            if loaded.config != config.model {
                return Err(JobError::Failed(format!(
                    "the starting model is a {:?}, not the {:?} asked for",
                    loaded.config, config.model
                )));
            }
            loaded.net
        }
        None => AttentionModel::new(&config.model, &ad_device),
    };
    let (mut best, mut best_gap) = val_gap(&net);
    let over = if config.n <= classical::EXACT_MAX {
        "the optimum"
    } else {
        "2-opt"
    };
    ctx.set_message(format!(
        "validation gap {best_gap:.2}% over {over} at the start"
    ));
    let mut optimizer = optimizer();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut step = 0;
    while ctx.begin_training_step(&mut step, &bounds, compiles)? {
        let batch = random_batch(config.n, config.batch, &mut rng);
        let (mean_length, best_length);
        (net, mean_length, best_length) = optimization_step(
            net,
            &mut optimizer,
            &batch,
            config.starts,
            config.learning_rate,
            &mut rng,
            &ad_device,
        );
        if !mean_length.is_finite() {
            return Err(JobError::Failed(format!(
                "the training loss stopped being finite at step {step}; this run stops (the \
                 best model so far, validation gap {best_gap:.2}%, was not saved)"
            )));
        }
        ctx.report_training_step(step, &bounds, mean_length);
        record(&|c| {
            c.baseline.push([step as f64, mean_length]);
            c.best_of_starts.push([step as f64, best_length]);
        });
        if bounds.validation_due(step, config.validate_every) {
            let (candidate, gap) = val_gap(&net);
            record(&|c| c.val_gap.push([step as f64, gap]));
            if gap < best_gap {
                (best, best_gap) = (candidate, gap);
                if let Some(path) = &config.checkpoint {
                    let so_far = TrainedModel {
                        model: best.clone(),
                        val_gap: best_gap,
                        steps: step,
                        seconds: bounds.seconds(),
                    };
                    super::model_io::save(path, &so_far, config).map_err(|e| {
                        JobError::Failed(format!("saving the checkpoint {}: {e:#}", path.display()))
                    })?;
                }
            }
            ctx.set_message(format!(
                "tour length: sampled {mean_length:.3} (baseline), best of starts \
                 {best_length:.3}; validation gap {gap:.2}% over {over} (best {best_gap:.2}%)"
            ));
        }
    }
    let (candidate, gap) = val_gap(&net);
    record(&|c| c.val_gap.push([step as f64, gap]));
    if gap < best_gap {
        (best, best_gap) = (candidate, gap);
    }
    Ok(TrainedModel {
        model: best,
        val_gap: best_gap,
        steps: step,
        seconds: bounds.seconds(),
    })
}

/// The training step of `config` for `bench --train`: one batch, drawn once.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<AttentionModel>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let batch = random_batch(config.n, config.batch, &mut rng);
    let net = AttentionModel::new(&config.model, &device);
    let (rate, starts) = (config.learning_rate, config.starts);
    Ok(LoopStep::new(
        network,
        format!(
            "{} instances of {} cities × {starts} rollouts",
            config.batch, config.n
        ),
        config.batch,
        net,
        optimizer(),
        move |net, optimizer| {
            let (net, length, _) =
                optimization_step(net, optimizer, &batch, starts, rate, &mut rng, &device);
            (net, length)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainConfig {
        TrainConfig {
            model: AmConfig {
                dim: 32,
                heads: 4,
                layers: 1,
                feed_forward: 64,
                clip: 10.0,
            },
            batch: 16,
            val_instances: 8,
            max_steps: 4,
            validate_every: 2,
            learning_rate: 1e-3,
            ..TrainConfig::new(8)
        }
    }

    #[test]
    fn reinforce_shortens_the_tours_of_a_tiny_problem() {
        let config = tiny();
        let device = Device::flex().autodiff();
        device.seed(3);
        let mut net = AttentionModel::new(&config.model, &device);
        let mut optimizer = optimizer();
        let mut rng = StdRng::seed_from_u64(5);
        // One fixed batch: the sampled tours must get shorter on it.
        let batch = random_batch(8, 16, &mut rng);
        let mut lengths = Vec::new();
        for _ in 0..60 {
            let length;
            (net, length, _) =
                optimization_step(net, &mut optimizer, &batch, 8, 3e-3, &mut rng, &device);
            lengths.push(length);
        }
        let first: f64 = lengths[..10].iter().sum::<f64>() / 10.0;
        let last: f64 = lengths[50..].iter().sum::<f64>() / 10.0;
        assert!(last < 0.9 * first, "{first} → {last}");
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
        assert_eq!(curves.baseline.len(), 4);
        assert!(curves.best_of_starts[0][1] <= curves.baseline[0][1]);
        // At the start, every 2 steps, and at the end.
        assert!(curves.val_gap.len() >= 3, "{:?}", curves.val_gap);
        assert!(trained.val_gap.is_finite() && trained.val_gap >= -1e-9);
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
        let mut c = TrainConfig::new(20);
        c.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
        c.learning_rate = 1e-4;
        c.starts = 21;
        assert!(c.validate().is_err());
        c.starts = 20;
        c.model.heads = 7;
        assert!(c.validate().is_err());
        assert!(TrainConfig::new(20).validate().is_ok());
    }
}
