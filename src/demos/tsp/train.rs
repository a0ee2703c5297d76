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
use crate::jobs::JobError;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, descend, runner, same_shape,
};

/// A finished run.
pub type TrainedModel = Trained<LearnedModel>;

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
    #[serde(flatten)]
    pub schedule: Schedule,
}

impl TrainSettings for TrainConfig {
    /// The score a run keeps its best model by: the mean gap of `am` on the validation
    /// instances to [`reference_length`] (the optimum up to 20 cities, the best 2-opt tour
    /// above, where it is negative when the model beats 2-opt).
    const METRIC: Metric = Metric::lower("val_gap_percent", "validation gap", 2).with_unit("%");

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
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
        self.schedule.validate()
    }
}

impl TrainConfig {
    pub fn new(n: usize) -> Self {
        Self {
            model: AmConfig::default(),
            n,
            batch: 64,
            starts: n,
            val_instances: 200,
            schedule: Schedule::new(10_000, 1e-4, 200),
        }
    }
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

/// Fixed validation instances of a run seeded `seed` and their reference lengths.
pub fn validation_set(n: usize, count: usize, seed: u64) -> (Vec<Instance>, Vec<f64>) {
    let instances: Vec<Instance> = (0..count)
        .map(|i| Instance::random(n, Stream::Validation.seed(seed, i as u64)))
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

/// REINFORCE on random instances, scored by `am`'s gap on fixed ones.
struct AmTrainee<'a> {
    config: &'a TrainConfig,
    val: Vec<Instance>,
    references: Vec<f64>,
    devices: &'a Devices,
    rng: StdRng,
}

impl Trainee for AmTrainee<'_> {
    type Model = LearnedModel;
    type Config = TrainConfig;

    fn fresh(&mut self, device: &Device) -> AttentionModel {
        AttentionModel::new(&self.config.model, device)
    }

    fn adopt(&mut self, loaded: LearnedModel) -> Result<AttentionModel, String> {
        same_shape(&loaded.config, &self.config.model)?;
        Ok(loaded.net)
    }

    fn step(
        &mut self,
        _step: u64,
        net: AttentionModel,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(AttentionModel, StepReport), JobError> {
        let batch = random_batch(self.config.n, self.config.batch, &mut self.rng);
        let (net, mean_length, best_length) = optimization_step(
            net,
            optimizer,
            &batch,
            self.config.starts,
            learning_rate,
            &mut self.rng,
            &self.devices.autodiff,
        );
        Ok((
            net,
            StepReport::terms(&[("sampled", mean_length), ("best of starts", best_length)]),
        ))
    }

    fn validate(&self, net: &AttentionModel) -> Scored<LearnedModel> {
        let model = LearnedModel {
            net: net.valid(),
            config: self.config.model.clone(),
            trained_n: self.config.n,
        };
        let decoding = AmDecoding::multi_start(self.config.n);
        let gap = mean_gap(
            &model,
            &self.val,
            &self.references,
            decoding,
            &self.devices.plain,
        );
        Scored::new(model, gap)
    }
}

/// Trains on `device` (made autodiff here), from `init` when given; reports progress (the
/// curves are the mean sampled tour length, the shared baseline, and the mean best of starts)
/// and honours cancel.
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedModel, JobError> {
    let devices = job.devices(config)?;
    job.ctx.set_message(format!(
        "computing reference tours of {} validation instances",
        config.val_instances
    ));
    let (val, references) = validation_set(config.n, config.val_instances, config.schedule.seed);
    job.ctx.check_cancelled()?;
    let mut trainee = AmTrainee {
        config,
        val,
        references,
        devices: &devices,
        rng: StdRng::seed_from_u64(Stream::Train.seed(config.schedule.seed, 0)),
    };
    runner::run(job, config, &mut trainee, &devices)
}

/// The training step of `config` for `bench --train`: one batch, drawn once.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<AttentionModel>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.schedule.seed);
    let mut rng = StdRng::seed_from_u64(Stream::Train.seed(config.schedule.seed, 0));
    let batch = random_batch(config.n, config.batch, &mut rng);
    let net = AttentionModel::new(&config.model, &device);
    let (rate, starts) = (config.schedule.learning_rate, config.starts);
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
    use crate::training::testing::{assert_cancels, short_run};

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
            schedule: Schedule::new(4, 1e-3, 2),
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
        let (trained, curves) = short_run(train, tiny());
        assert_eq!(trained.steps, 4);
        assert_eq!(curves.term("sampled").len(), 4);
        assert!(curves.term("best of starts")[0][1] <= curves.term("sampled")[0][1]);
        // At the start and every 2 steps.
        assert!(curves.validation.len() >= 3, "{:?}", curves.validation);
        assert!(trained.score.is_finite() && trained.score >= -1e-9);
        let mut endless = tiny();
        endless.schedule.max_steps = u64::MAX;
        assert_cancels(train, endless);
    }

    #[test]
    fn absurd_configs_are_refused() {
        let mut c = TrainConfig::new(20);
        c.schedule.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
        c.schedule.learning_rate = 1e-4;
        c.starts = 21;
        assert!(c.validate().is_err());
        c.starts = 20;
        c.model.heads = 7;
        assert!(c.validate().is_err());
        assert!(TrainConfig::new(20).validate().is_ok());
    }
}
