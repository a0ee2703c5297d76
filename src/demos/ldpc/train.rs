//! Training NBP and NEBP: a loop run by a job, from the panel and from `ldpc train` alike. Each
//! step sends a fresh batch of frames over a channel drawn per frame from the training mixture
//! (Eb/N0 uniform in 0–4 dB; a third plain AWGN, the rest bursty with σ_b uniform in 0–5), runs
//! the decoder unrolled and descends the bit-wise cross-entropy summed over iterations. The model
//! with the lowest validation BER (fixed frames of the same mixture) is kept; plain BP (the
//! untrained model) is the bar a trained model must clear.

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::code::{self, Code};
use super::methods::{ErrorCounts, LearnedDecoder, decode_learned};
use super::model::{DecoderNet, GraphIndex, NetConfig, unrolled_loss};
use super::sim::{Channel, Frames, send_frame};
use crate::jobs::JobError;
use crate::stored_model::NetSpec;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, descend, runner, same_shape,
};

/// A finished run (beside its score: `bp_val_ber`, plain BP's on the same frames).
pub type TrainedDecoder = Trained<LearnedDecoder>;

/// The code the shipped models were trained on (the paper's).
pub const TRAIN_CODE: &str = "96.3.963";

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: NetConfig,
    /// A shipped code's name or an alist path.
    pub code: String,
    pub batch_frames: usize,
    /// Eb/N0 range of the training mixture, dB.
    pub snr_db: (f64, f64),
    /// σ_b range of its bursty part.
    pub burst_sigma: (f64, f64),
    /// Share of plain AWGN frames in the mixture.
    pub awgn_share: f64,
    pub val_frames: usize,
    /// Its `init` starts from a model file (same kind and config) instead of from plain BP.
    #[serde(flatten)]
    pub schedule: Schedule,
}

impl TrainSettings for TrainConfig {
    /// The score a run keeps its best model by.
    const METRIC: Metric = Metric::lower("val_ber", "validation BER", 5);

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        if !(1..=4096).contains(&self.batch_frames) {
            return Err(format!(
                "batch must be 1..=4096 frames, not {}",
                self.batch_frames
            ));
        }
        if self.val_frames == 0 || self.val_frames > 1_000_000 {
            return Err(format!(
                "validation frames must be 1..=1000000, not {}",
                self.val_frames
            ));
        }
        let ordered = |(a, b): (f64, f64)| a.is_finite() && b.is_finite() && a <= b;
        if !ordered(self.snr_db) || !ordered(self.burst_sigma) || self.burst_sigma.0 < 0.0 {
            return Err("the SNR and σ_b ranges must be finite, low ≤ high, σ_b ≥ 0".to_owned());
        }
        Channel {
            eb_n0_db: self.snr_db.0,
            burst_sigma: self.burst_sigma.1,
        }
        .validate()?;
        Channel {
            eb_n0_db: self.snr_db.1,
            burst_sigma: self.burst_sigma.0,
        }
        .validate()?;
        if !(0.0..=1.0).contains(&self.awgn_share) {
            return Err(format!(
                "the AWGN share must be in 0..=1, not {}",
                self.awgn_share
            ));
        }
        self.schedule.validate()
    }
}

impl TrainConfig {
    pub fn new(model: NetConfig) -> Self {
        Self {
            model,
            code: TRAIN_CODE.to_owned(),
            batch_frames: 64,
            snr_db: (0.0, 4.0),
            burst_sigma: (0.0, 5.0),
            awgn_share: 1.0 / 3.0,
            val_frames: 3000,
            schedule: Schedule::new(3000, 1e-3, 100),
        }
    }

    /// The channel of one training frame.
    fn draw_channel(&self, rng: &mut StdRng) -> Channel {
        let uniform = |rng: &mut StdRng, (lo, hi): (f64, f64)| {
            if hi > lo {
                rng.random_range(lo..=hi)
            } else {
                lo
            }
        };
        let eb_n0_db = uniform(rng, self.snr_db);
        let burst_sigma = if rng.random_bool(self.awgn_share) {
            0.0
        } else {
            uniform(rng, self.burst_sigma)
        };
        Channel {
            eb_n0_db,
            burst_sigma,
        }
    }

    /// `count` frames of the training mixture, seeded.
    pub fn mixture(&self, code: &Code, count: usize, seed: u64) -> Frames {
        let mut rng = StdRng::seed_from_u64(seed);
        let plan: Vec<(Channel, u64)> = (0..count)
            .map(|_| (self.draw_channel(&mut rng), rng.random::<u64>()))
            .collect();
        let sent: Vec<_> = plan
            .par_iter()
            .map(|(channel, seed)| send_frame(code, channel, *seed))
            .collect();
        let mut frames = Frames {
            n: code.n,
            ..Frames::default()
        };
        for (bits, llr, burst) in sent {
            frames.bits.extend(bits);
            frames.llr.extend(llr);
            frames.burst.extend(burst);
        }
        frames
    }
}

/// A training batch on the device: LLRs and bits `[B, n]`.
struct Batch {
    llr: Tensor<2>,
    bits: Tensor<2>,
}

fn to_batch(frames: &Frames, device: &Device) -> Batch {
    let b = frames.count();
    let bits: Vec<f32> = frames.bits.iter().map(|&x| f32::from(x)).collect();
    Batch {
        llr: Tensor::from_data(TensorData::new(frames.llr.clone(), [b, frames.n]), device),
        bits: Tensor::from_data(TensorData::new(bits, [b, frames.n]), device),
    }
}

/// One optimisation step: the unrolled loss, backward, Adam at `rate`. A loss that is not finite
/// comes back without a step taken.
fn optimization_step(
    net: DecoderNet,
    optimizer: &mut ModuleOptimizer,
    batch: &Batch,
    graph: &GraphIndex,
    iterations: usize,
    rate: f64,
) -> (DecoderNet, f64) {
    let outputs = net.forward(batch.llr.clone(), graph, iterations);
    let loss = unrolled_loss(&outputs, batch.bits.clone());
    descend(net, loss, optimizer, rate)
}

fn optimizer() -> ModuleOptimizer {
    AdamConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
        .init()
}

/// The code a config names.
pub fn config_code(config: &TrainConfig) -> Result<Code, String> {
    code::load(std::path::Path::new(&config.code)).map_err(|e| format!("{e:#}"))
}

/// The unrolled decoder on fresh frames of the mixture, scored by its BER on fixed ones.
struct DecoderTrainee<'a> {
    config: &'a TrainConfig,
    code: Code,
    graph: GraphIndex,
    val: Frames,
    /// Plain BP's validation BER: the bar a trained model must clear.
    bp: Scored<LearnedDecoder>,
    devices: &'a Devices,
    rng: StdRng,
}

/// The validation BER of `net` (its inference copy) on `val`'s frames.
fn scored(
    net: &DecoderNet,
    config: &NetConfig,
    code: &Code,
    val: &Frames,
    device: &Device,
) -> Scored<LearnedDecoder> {
    let decoder = LearnedDecoder {
        net: net.valid(),
        config: config.clone(),
    };
    let (bits, _) = decode_learned(&decoder, code, &val.llr, config.iterations, device);
    let ber = ErrorCounts::count(&bits, &val.bits, code.n).ber();
    Scored::new(decoder, ber)
}

impl Trainee for DecoderTrainee<'_> {
    type Model = LearnedDecoder;
    type Config = TrainConfig;

    fn optimizer(&self) -> ModuleOptimizer {
        optimizer()
    }

    fn fresh(&mut self, device: &Device) -> DecoderNet {
        DecoderNet::new(&self.config.model, device)
    }

    fn adopt(&mut self, loaded: LearnedDecoder) -> Result<DecoderNet, String> {
        same_shape(&loaded.config, &self.config.model)?;
        Ok(loaded.net)
    }

    fn step(
        &mut self,
        _step: u64,
        net: DecoderNet,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(DecoderNet, StepReport), JobError> {
        let seed = Stream::Train.seed(self.config.schedule.seed, self.rng.random());
        let frames = self
            .config
            .mixture(&self.code, self.config.batch_frames, seed);
        let batch = to_batch(&frames, &self.devices.autodiff);
        let iterations = self.config.model.iterations;
        let (net, loss) = optimization_step(
            net,
            optimizer,
            &batch,
            &self.graph,
            iterations,
            learning_rate,
        );
        Ok((net, StepReport::loss(loss)))
    }

    fn validate(&self, net: &DecoderNet) -> Scored<LearnedDecoder> {
        scored(
            net,
            &self.config.model,
            &self.code,
            &self.val,
            &self.devices.plain,
        )
    }

    /// Plain BP (the untrained model) or the starting model, whichever validates better.
    fn start(&self, net: &DecoderNet) -> Scored<LearnedDecoder> {
        let start = self.validate(net);
        if start.score <= self.bp.score {
            start
        } else {
            self.bp.clone()
        }
    }

    fn beside(&self) -> Vec<(&'static str, f64)> {
        vec![("bp_val_ber", self.bp.score)]
    }
}

/// Trains on `device` (made autodiff here), from `init` when given; reports progress and
/// honours cancel.
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedDecoder, JobError> {
    let devices = job.devices(config)?;
    let code = config_code(config).map_err(JobError::Failed)?;
    let graph = GraphIndex::new(&code, &devices.autodiff);
    let val = config.mixture(
        &code,
        config.val_frames,
        Stream::Validation.seed(config.schedule.seed, 0),
    );
    let plain_bp = DecoderNet::new(&config.model, &devices.autodiff);
    let bp = scored(&plain_bp, &config.model, &code, &val, &devices.plain);
    job.ctx
        .set_message(format!("validation BER: BP {:.5}", bp.score));
    let mut trainee = DecoderTrainee {
        config,
        code,
        graph,
        val,
        bp,
        devices: &devices,
        rng: StdRng::seed_from_u64(config.schedule.seed),
    };
    runner::run(job, config, &mut trainee, &devices)
}

/// The training step of `config`'s model for `bench --train`: one batch, drawn once, and the
/// loop's own step on it.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<DecoderNet>, String> {
    config.validate()?;
    let code = config_code(config)?;
    let device = device.clone().autodiff();
    device.seed(config.schedule.seed);
    let graph = GraphIndex::new(&code, &device);
    let frames = config.mixture(
        &code,
        config.batch_frames,
        Stream::Train.seed(config.schedule.seed, 0),
    );
    let batch = to_batch(&frames, &device);
    let net = DecoderNet::new(&config.model, &device);
    let (rate, iterations) = (config.schedule.learning_rate, config.model.iterations);
    Ok(LoopStep::new(
        network,
        format!(
            "{} frames of {}, {iterations} iterations",
            config.batch_frames, code.name
        ),
        config.batch_frames,
        net,
        optimizer(),
        move |net, optimizer| optimization_step(net, optimizer, &batch, &graph, iterations, rate),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::TrainingStep;
    use crate::training::testing::{assert_cancels, assert_step_learns, short_run};

    fn tiny(kind: NetConfig) -> TrainConfig {
        TrainConfig {
            batch_frames: 8,
            val_frames: 50,
            schedule: Schedule::new(6, 1e-3, 3),
            ..TrainConfig::new(NetConfig {
                iterations: 3,
                hidden: 8,
                ..kind
            })
        }
    }

    #[test]
    fn a_short_run_trains_validates_and_can_be_cancelled() {
        for kind in [NetConfig::nbp(), NetConfig::nebp()] {
            let (trained, curves) = short_run(train, tiny(kind));
            assert_eq!(trained.steps, 6);
            assert_eq!(curves.term("loss").len(), 6);
            assert!(trained.score <= trained.beside[0].1);
        }
        let mut endless = tiny(NetConfig::nebp());
        endless.schedule.max_steps = u64::MAX;
        assert_cancels(train, endless);
    }

    #[test]
    fn the_benchmarked_step_learns_its_batch() {
        let mut step =
            bench_step("ldpc nebp", &tiny(NetConfig::nebp()), &Device::flex()).expect("step");
        assert_eq!(step.samples(), 8);
        assert_step_learns(&mut step, 15);
    }

    #[test]
    fn absurd_configs_are_refused() {
        let mut c = TrainConfig::new(NetConfig::nebp());
        c.snr_db = (5.0, 1.0);
        assert!(c.validate().is_err());
        c.snr_db = (0.0, 4.0);
        c.schedule.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
        c.schedule.learning_rate = 1e-3;
        c.model.iterations = 0;
        assert!(c.validate().is_err());
    }
}
