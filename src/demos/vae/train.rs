//! Training, on the shared runner, in two stages run one after the other:
//!
//! 1. **The VAE**: encoder and decoder together on the ELBO (one reparameterized sample per
//!    image, dynamic binarization of the 4,000 training digits, the KL's weight warmed up from
//!    0 to 1), kept by the encoder's mean ELBO on the 500 validation digits.
//! 2. **The refiner** (iterative amortized inference) on the frozen decoder and encoder: from the
//!    encoder's q, `unroll` refiner steps, each fed the ELBO's gradient; the loss is minus the
//!    mean ELBO over the steps (so that every step, not only the last, improves q). Kept by the
//!    validation ELBO after the last step.
//!
//! A job, from the panel and `vae train` alike.

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Distribution, Tensor};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::classical::{Decoder, Expectation, ForwardModel, Gaussians};
use super::methods::{encoder_q, gradient_rule, refined};
use super::model::{Nodes, VaeConfig, VaeModel, VaeNet, elbo, elbo_sampled, rows_tensor};
use super::sim::{self, Digit, PIXELS, Split};
use crate::jobs::JobError;
use crate::stored_model::NetSpec;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, descend, runner, same_shape,
};

/// A finished run.
pub type TrainedModel = Trained<VaeModel>;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: VaeConfig,
    /// Images per step.
    pub batch: usize,
    /// Steps over which the KL's weight rises from 0 to 1.
    pub kl_warmup: u64,
    /// The refiner's training steps (stage 2; 0 skips it).
    pub refiner_steps: u64,
    pub refiner_learning_rate: f64,
    pub refiner_batch: usize,
    /// Refiner steps per inference (k).
    pub unroll: usize,
    /// The VAE stage's schedule (the refiner's takes its seed, cadence and a quarter of the
    /// time budget).
    #[serde(flatten)]
    pub schedule: Schedule,
}

impl TrainSettings for TrainConfig {
    /// Mean ELBO on the 500 validation digits (binarized at 0.5) of the encoder's q (stage 1)
    /// or of q after the refiner's steps (stage 2), E_q by Gauss–Hermite in 2-D.
    const METRIC: Metric = Metric::higher("val_elbo", "validation ELBO", 2).with_unit(" nats");

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        if !(1..=4000).contains(&self.batch) || !(1..=4000).contains(&self.refiner_batch) {
            return Err(format!(
                "batch sizes {} and {} must be in 1..=4000",
                self.batch, self.refiner_batch
            ));
        }
        if !(1..=50).contains(&self.unroll) {
            return Err(format!("unroll {} must be in 1..=50", self.unroll));
        }
        if !(self.refiner_learning_rate > 0.0 && self.refiner_learning_rate < 1.0) {
            return Err(format!(
                "the refiner's learning rate {} must be in (0, 1)",
                self.refiner_learning_rate
            ));
        }
        self.schedule.validate()
    }
}

impl TrainConfig {
    pub fn new(latent: usize) -> Self {
        Self {
            model: VaeConfig {
                latent,
                ..VaeConfig::default()
            },
            batch: 100,
            kl_warmup: 2_000,
            refiner_steps: 1_500,
            refiner_learning_rate: 1e-3,
            refiner_batch: 32,
            unroll: REFINER_STEPS,
            schedule: Schedule::new(20_000, 1e-3, 500),
        }
    }

    fn refiner_schedule(&self) -> Schedule {
        Schedule {
            max_steps: self.refiner_steps,
            budget_secs: self.schedule.budget_secs.map(|b| b / 4.0),
            learning_rate: self.refiner_learning_rate,
            init: None,
            ..self.schedule.clone()
        }
    }

    fn vae_schedule(&self) -> Schedule {
        let mut schedule = self.schedule.clone();
        schedule.budget_secs = schedule.budget_secs.map(|b| b * 0.75);
        schedule
    }
}

/// Refiner steps at inference, as trained (k).
pub const REFINER_STEPS: usize = 5;

/// E_q when scoring validation: Gauss–Hermite in 2-D.
fn validation_rule(latent: usize) -> Expectation {
    Expectation::for_latent(latent, 5, 64)
}

/// A batch of training digits, binarized at random.
fn batch(train: &[Digit], size: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    (0..size)
        .map(|_| sim::sample_binary(&train[rng.random_range(0..train.len())].pixels, rng))
        .collect()
}

/// The mean ELBO of q after the model's inference (the encoder, then `unroll` refiner steps).
fn validation_elbo(model: &VaeModel, images: &[Vec<f32>], unroll: usize, device: &Device) -> f64 {
    let decoder = Decoder {
        net: &model.net,
        latent: model.config.latent,
        device,
    };
    let latent = model.config.latent;
    let nodes = validation_rule(latent).nodes(latent);
    let start = encoder_q(&model.net, images, device);
    let q = match unroll {
        0 => start,
        k => refined(
            &decoder,
            images,
            start,
            k,
            &gradient_rule(latent).nodes(latent),
            &|| false,
        )
        .pop()
        .unwrap_or_else(|| Gaussians::prior(images.len(), model.config.latent)),
    };
    mean(&decoder.elbos(images, &q, &nodes))
}

pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Which stage a run trains.
enum Stage {
    /// The encoder and decoder on the ELBO.
    Vae,
    /// The refiner on the frozen VAE `start` (whose encoder scored `encoder_score`), the
    /// gradients it reads taken over `nodes`.
    Refiner {
        start: VaeNet,
        encoder_score: f64,
        nodes: Nodes,
    },
}

/// One stage of training: its settings (with the stage's schedule), the data, the devices.
struct VaeTrainee<'a> {
    stage: Stage,
    settings: TrainConfig,
    train: Vec<Digit>,
    val: Vec<Vec<f32>>,
    devices: &'a Devices,
    rng: StdRng,
}

impl VaeTrainee<'_> {
    /// The VAE's step: one reparameterized sample per image, the KL warmed up.
    fn vae_step(&mut self, step: u64, net: &VaeNet) -> Tensor<1> {
        let c = &self.settings;
        let device = &self.devices.autodiff;
        let images = batch(&self.train, c.batch, &mut self.rng);
        let x = rows_tensor(&images, PIXELS, device);
        let (mu, log_sigma) = net.encode(x.clone());
        let shape = [c.batch, c.model.latent];
        let eps = Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), device);
        let kl_weight = (step as f64 / c.kl_warmup.max(1) as f64).min(1.0);
        -elbo_sampled(net, x, mu, log_sigma, eps, kl_weight).mean()
    }

    /// The refiner's loss: minus the mean ELBO over its `unroll` steps from the encoder's q.
    fn refiner_loss(&mut self, net: &VaeNet, nodes: &Nodes) -> Tensor<1> {
        let c = &self.settings;
        let images = batch(&self.train, c.refiner_batch, &mut self.rng);
        let x = rows_tensor(&images, PIXELS, &self.devices.autodiff);
        let (mu, log_sigma) = net.encode(x.clone());
        let (mut mu, mut log_sigma) = (mu.detach(), log_sigma.detach());
        let mut total = Tensor::<1>::zeros([1], &self.devices.autodiff);
        for _ in 0..c.unroll {
            let grad = elbo_gradient_as_input(net, x.clone(), &mu, &log_sigma, nodes);
            (mu, log_sigma) = net.refine((mu, log_sigma), grad);
            total = total + elbo(net, x.clone(), mu.clone(), log_sigma.clone(), nodes).mean();
        }
        -total / c.unroll as f64
    }
}

impl Trainee for VaeTrainee<'_> {
    type Model = VaeModel;
    type Config = TrainConfig;

    fn fresh(&mut self, device: &Device) -> VaeNet {
        match &self.stage {
            Stage::Vae => VaeNet::new(&self.settings.model, device),
            Stage::Refiner { start, .. } => start.clone().to_device(device).train().freeze_vae(),
        }
    }

    fn adopt(&mut self, loaded: VaeModel) -> Result<VaeNet, String> {
        same_shape(&loaded.config, &self.settings.model)?;
        Ok(match self.stage {
            Stage::Vae => loaded.net,
            Stage::Refiner { .. } => loaded.net.freeze_vae(),
        })
    }

    fn step(
        &mut self,
        step: u64,
        net: VaeNet,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(VaeNet, StepReport), JobError> {
        let (loss, term) = match &self.stage {
            Stage::Vae => (self.vae_step(step, &net), "−ELBO (warmed-up KL)"),
            Stage::Refiner { nodes, .. } => {
                let nodes = nodes.clone();
                (self.refiner_loss(&net, &nodes), "−mean ELBO over the steps")
            }
        };
        let (net, loss) = descend(net, loss, optimizer, learning_rate);
        Ok((net, StepReport::terms(&[(term, loss)])))
    }

    fn validate(&self, net: &VaeNet) -> Scored<VaeModel> {
        let model = VaeModel {
            net: net.valid(),
            config: self.settings.model.clone(),
        };
        let unroll = match self.stage {
            Stage::Vae => 0,
            Stage::Refiner { .. } => self.settings.unroll,
        };
        let score = validation_elbo(&model, &self.val, unroll, &self.devices.plain);
        Scored::new(model, score)
    }

    fn beside(&self) -> Vec<(&'static str, f64)> {
        match self.stage {
            Stage::Vae => Vec::new(),
            Stage::Refiner { encoder_score, .. } => vec![("encoder", encoder_score)],
        }
    }
}

/// ∂ELBO/∂(μ, log σ) at q, as constants of the outer graph (the refiner reads them as data).
fn elbo_gradient_as_input(
    net: &VaeNet,
    x: Tensor<2>,
    mu: &Tensor<2>,
    log_sigma: &Tensor<2>,
    nodes: &Nodes,
) -> (Tensor<2>, Tensor<2>) {
    let mu_leaf = mu.clone().detach().require_grad();
    let ls_leaf = log_sigma.clone().detach().require_grad();
    let grads = elbo(net, x, mu_leaf.clone(), ls_leaf.clone(), nodes)
        .sum()
        .backward();
    let device = mu.device();
    let take = |leaf: &Tensor<2>| {
        leaf.grad(&grads)
            .map_or_else(|| leaf.zeros_like().detach(), |g| g.to_device(&device))
    };
    (take(&mu_leaf), take(&ls_leaf))
}

/// Trains both stages on `device` (made autodiff here), from `init` when given; reports
/// progress (the curves are the VAE's −ELBO, then the refiner's) and honours cancel.
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedModel, JobError> {
    let devices = job.devices(config)?;
    let train = sim::digits(Split::Train).map_err(JobError::Failed)?;
    let val = sim::binarized(&sim::digits(Split::Validation).map_err(JobError::Failed)?);
    // Each stage runs under its own schedule, kept in its settings (and its model file).
    let trainee = |stage, schedule, seed_index| VaeTrainee {
        stage,
        settings: TrainConfig {
            schedule,
            ..config.clone()
        },
        train: train.clone(),
        val: val.clone(),
        devices: &devices,
        rng: StdRng::seed_from_u64(Stream::Train.seed(config.schedule.seed, seed_index)),
    };
    let mut vae = trainee(Stage::Vae, config.vae_schedule(), 0);
    let settings = vae.settings.clone();
    let stage1 = runner::run(job, &settings, &mut vae, &devices)?;
    if config.refiner_steps == 0 {
        return Ok(stage1);
    }
    let latent = config.model.latent;
    let stage = Stage::Refiner {
        start: stage1.model.net.clone(),
        encoder_score: stage1.score,
        nodes: gradient_rule(latent).nodes(latent),
    };
    let mut refiner = trainee(stage, config.refiner_schedule(), 1);
    let settings = refiner.settings.clone();
    let mut stage2 = runner::run(job, &settings, &mut refiner, &devices)?;
    stage2.steps += stage1.steps;
    stage2.seconds += stage1.seconds;
    Ok(stage2)
}

/// The VAE's training step for `bench --train`: one batch, drawn once.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<VaeNet>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.schedule.seed);
    let train = sim::digits(Split::Train)?;
    let mut rng = StdRng::seed_from_u64(Stream::Train.seed(config.schedule.seed, 0));
    let x = rows_tensor(&batch(&train, config.batch, &mut rng), PIXELS, &device);
    let net = VaeNet::new(&config.model, &device);
    let (rate, size, latent) = (
        config.schedule.learning_rate,
        config.batch,
        config.model.latent,
    );
    Ok(LoopStep::new(
        network,
        format!("{size} digits, {latent}-D latent"),
        size,
        net,
        burn::optim::AdamConfig::new().init(),
        move |net, optimizer| {
            let (mu, log_sigma) = net.encode(x.clone());
            let eps = Tensor::<2>::random([size, latent], Distribution::Normal(0.0, 1.0), &device);
            let loss = -elbo_sampled(&net, x.clone(), mu, log_sigma, eps, 1.0).mean();
            descend(net, loss, optimizer, rate)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::testing::{assert_cancels, assert_step_learns, short_run};

    fn tiny() -> TrainConfig {
        let mut config = TrainConfig::new(2);
        config.model.hidden = 16;
        config.model.refiner_hidden = 8;
        config.batch = 16;
        config.refiner_batch = 4;
        config.refiner_steps = 3;
        config.unroll = 2;
        config.schedule = Schedule::new(6, 1e-3, 3);
        config
    }

    #[test]
    fn both_stages_train_and_the_refiner_leaves_the_decoder_alone() {
        let config = tiny();
        let (trained, curves) = short_run(train, config);
        assert_eq!(trained.steps, 9);
        assert!(curves.validation.len() >= 4, "{:?}", curves.validation);
        assert!(
            trained.score.is_finite() && trained.score < 0.0,
            "{}",
            trained.score
        );
        assert_eq!(trained.beside[0].0, "encoder");
    }

    #[test]
    fn a_cancelled_run_stops() {
        let mut config = tiny();
        config.schedule.max_steps = 1_000_000;
        assert_cancels(train, config);
    }

    #[test]
    fn the_bench_step_learns_its_batch() {
        let mut step = bench_step("vae", &tiny(), &Device::flex()).expect("step");
        assert_step_learns(&mut step, 10);
    }

    #[test]
    fn absurd_settings_are_refused() {
        let mut config = tiny();
        config.unroll = 0;
        assert!(config.validate().is_err());
        let mut config = tiny();
        config.model.latent = 0;
        assert!(config.validate().is_err());
    }
}
