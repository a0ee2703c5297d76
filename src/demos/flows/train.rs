//! Fitting a flow by maximum likelihood on the shared runner: every step a batch drawn from the
//! training points, the loss −mean log p(x); kept by the mean log-likelihood of validation points
//! (a tenth of the points given, set apart by a seeded shuffle, never trained on).

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::model::{FlowConfig, FlowModel, FlowNet, points_tensor};
use super::sim::Point;
use crate::jobs::JobError;
use crate::stored_model::NetSpec;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, cosine_learning_rate, descend, runner, same_shape,
};

pub type TrainedModel = Trained<FlowModel>;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: FlowConfig,
    /// Points per step (SurVAE's 2-D experiments: 128).
    pub batch: usize,
    #[serde(flatten)]
    pub schedule: Schedule,
    /// The points to fit (a tenth held out for validation); not kept in a model file.
    #[serde(skip)]
    pub points: Vec<Point>,
}

impl TrainSettings for TrainConfig {
    /// Mean log-likelihood of the validation points, nats.
    const METRIC: Metric =
        Metric::higher("val_nats", "validation log-likelihood", 3).with_unit(" nats");

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        if !(1..=65_536).contains(&self.batch) {
            return Err(format!("batch {} must be in 1..=65536", self.batch));
        }
        self.schedule.validate()
    }
}

impl TrainConfig {
    /// SurVAE's 2-D settings: batch 128, Adam 1e-3 (their runs: 10k steps).
    pub fn new(model: FlowConfig, points: Vec<Point>) -> Self {
        Self {
            model,
            batch: 128,
            schedule: Schedule::new(10_000, 1e-3, 500),
            points,
        }
    }
}

/// The points split by a seeded shuffle: (training, validation), a tenth (at least one) for
/// validation.
pub fn split(points: &[Point], seed: u64) -> Result<(Vec<Point>, Vec<Point>), String> {
    if points.len() < 10 {
        return Err(format!(
            "{} points are too few to fit and validate on (at least 10)",
            points.len()
        ));
    }
    let mut shuffled = points.to_vec();
    shuffled.shuffle(&mut StdRng::seed_from_u64(Stream::Validation.seed(seed, 0)));
    let held = (points.len() / 10).max(1);
    let validation = shuffled.split_off(points.len() - held);
    Ok((shuffled, validation))
}

/// −mean log p(x) of a batch.
fn loss(net: &FlowNet, x: Tensor<2>) -> Tensor<1> {
    net.log_density(x).mean().neg()
}

struct FlowTrainee<'a> {
    settings: TrainConfig,
    training: Vec<Point>,
    validation: Tensor<2>,
    devices: &'a Devices,
    rng: StdRng,
}

impl Trainee for FlowTrainee<'_> {
    type Model = FlowModel;
    type Config = TrainConfig;

    /// Adam's rate on a cosine to a tenth, so that the fit settles.
    fn learning_rate(&self, base: f64, progress: f64) -> f64 {
        cosine_learning_rate(base, progress)
    }

    fn fresh(&mut self, device: &Device) -> FlowNet {
        FlowNet::new(&self.settings.model, device)
    }

    fn adopt(&mut self, loaded: FlowModel) -> Result<FlowNet, String> {
        same_shape(&loaded.config, &self.settings.model)?;
        Ok(loaded.net)
    }

    fn step(
        &mut self,
        _step: u64,
        net: FlowNet,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(FlowNet, StepReport), JobError> {
        let batch: Vec<Point> = (0..self.settings.batch)
            .map(|_| self.training[self.rng.random_range(0..self.training.len())])
            .collect();
        let x = points_tensor(&batch, &self.devices.autodiff);
        let l = loss(&net, x);
        let (net, value) = descend(net, l, optimizer, learning_rate);
        Ok((net, StepReport::terms(&[("nats", -value)])))
    }

    fn validate(&self, net: &FlowNet) -> Scored<FlowModel> {
        let model = FlowModel {
            net: net.valid(),
            config: self.settings.model.clone(),
        };
        let score = mean_log_density(&model, self.validation.clone());
        Scored::new(model, score)
    }
}

/// The mean log p of `x` under `model` (−∞ when any is not finite, so such a model is never kept).
pub fn mean_log_density(model: &FlowModel, x: Tensor<2>) -> f64 {
    let value = f64::from(model.net.log_density(x).mean().into_scalar::<f32>());
    if value.is_finite() {
        value
    } else {
        f64::NEG_INFINITY
    }
}

/// Fits a flow to the config's points (a tenth held out for validation).
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedModel, JobError> {
    let devices = job.devices(config)?;
    let (training, validation) =
        split(&config.points, config.schedule.seed).map_err(JobError::Failed)?;
    let mut trainee = FlowTrainee {
        settings: config.clone(),
        validation: points_tensor(&validation, &devices.plain),
        training,
        devices: &devices,
        rng: StdRng::seed_from_u64(Stream::Train.seed(config.schedule.seed, 0)),
    };
    runner::run(job, config, &mut trainee, &devices)
}

/// `bench --train`: one step on a fixed batch as the loop runs it.
pub fn bench_step(config: &TrainConfig, device: &Device) -> Result<LoopStep<FlowNet>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    let points = match config.points.get(..config.batch) {
        Some(points) => points.to_vec(),
        None => super::sim::Dataset::Checkerboard
            .sample(config.batch, Stream::Train.seed(config.schedule.seed, 0)),
    };
    let x = points_tensor(&points, &device);
    let net = FlowNet::new(&config.model, &device);
    let rate = config.schedule.learning_rate;
    Ok(LoopStep::new(
        if config.model.has_surjection() {
            "flows survae"
        } else {
            "flows realnvp"
        },
        format!("{} points, {}", config.batch, config.model.describe()),
        config.batch,
        net,
        burn::optim::AdamConfig::new().init(),
        move |net, optimizer| {
            let l = loss(&net, x.clone());
            descend(net, l, optimizer, rate)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::flows::sim::Dataset;
    use crate::training::testing::{assert_cancels, short_run};

    #[test]
    fn a_fit_can_be_cancelled() {
        let points = Dataset::Rings.sample(500, 1);
        let mut endless = TrainConfig::new(FlowConfig::real_nvp(2, &[8]), points);
        endless.schedule = Schedule::new(u64::MAX / 2, 1e-3, 1_000_000);
        assert_cancels(train, endless);
    }

    #[test]
    fn the_split_is_disjoint_and_seeded() {
        let points = Dataset::Moons.sample(200, 1);
        let (a, b) = split(&points, 3).expect("enough points");
        assert_eq!((a.len(), b.len()), (180, 20));
        assert!(b.iter().all(|p| !a.contains(p)));
        assert_eq!(split(&points, 3).expect("again").1, b);
        assert!(split(&points[..5], 3).is_err());
    }

    #[test]
    fn a_short_fit_raises_the_validation_likelihood() {
        let points = Dataset::Eightgaussians.sample(2000, 2);
        let mut config = TrainConfig::new(FlowConfig::real_nvp(4, &[32, 32]), points.clone());
        config.schedule = Schedule::new(300, 5e-3, 100);
        let start = {
            let (_, validation) = split(&points, 0).expect("split");
            let model = FlowModel {
                net: FlowNet::new(&config.model, &Device::flex()),
                config: config.model.clone(),
            };
            mean_log_density(&model, points_tensor(&validation, &Device::flex()))
        };
        let (trained, curves) = short_run(train, config);
        assert!(!curves.validation.is_empty());
        assert!(
            trained.score > start + 0.5,
            "validation {start:.3} → {:.3}",
            trained.score
        );
    }
}
