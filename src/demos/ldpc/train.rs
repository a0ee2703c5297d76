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
use crate::bench::train_speed::{LoopStep, descend};
use crate::jobs::{JobContext, JobError, TrainingBounds};

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
    pub max_steps: u64,
    pub budget_secs: Option<f64>,
    pub learning_rate: f64,
    pub validate_every: u64,
    pub seed: u64,
    /// Start from this model file (same kind and config) instead of from plain BP.
    pub init: Option<std::path::PathBuf>,
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
            max_steps: 3000,
            budget_secs: None,
            learning_rate: 1e-3,
            validate_every: 100,
            seed: 0,
            init: None,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
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
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate < 1.0)
        {
            return Err(format!(
                "learning rate must be in (0, 1), not {}",
                self.learning_rate
            ));
        }
        Ok(())
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

/// What a finished run hands back.
#[derive(Debug, Clone)]
pub struct TrainedDecoder {
    pub decoder: LearnedDecoder,
    pub val_ber: f64,
    /// Plain BP's validation BER on the same frames (the untrained model's).
    pub bp_val_ber: f64,
    pub steps: u64,
    pub seconds: f64,
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

/// Trains on `device` (made autodiff here), from `config.init` when given; reports progress
/// and honours cancel.
pub fn train(
    ctx: &JobContext,
    config: &TrainConfig,
    device: &Device,
) -> Result<TrainedDecoder, JobError> {
    config.validate().map_err(JobError::Failed)?;
    let code = config_code(config).map_err(JobError::Failed)?;
    let bounds = TrainingBounds::new(config.max_steps, config.budget_secs);
    let compiles = crate::backend::compiles_kernels(device);
    let ad_device = device.clone().autodiff();
    ad_device.seed(config.seed);
    let graph = GraphIndex::new(&code, &ad_device);
    let val = config.mixture(
        &code,
        config.val_frames,
        config.seed.wrapping_add(1_000_003),
    );
    let iterations = config.model.iterations;
    let val_ber = |net: &DecoderNet| {
        let decoder = LearnedDecoder {
            net: net.valid(),
            config: config.model.clone(),
        };
        let (bits, _) = decode_learned(&decoder, &code, &val.llr, iterations, device);
        (decoder, ErrorCounts::count(&bits, &val.bits, code.n).ber())
    };
    let mut net = match &config.init {
        Some(path) => {
            let loaded = super::model_io::load(path, config.model.kind, &ad_device)
                .map_err(|e| JobError::Failed(format!("{e:#}")))?;
            if loaded.config != config.model {
                return Err(JobError::Failed(format!(
                    "the starting model is a {:?}, not the {:?} asked for",
                    loaded.config, config.model
                )));
            }
            loaded.net
        }
        None => DecoderNet::new(&config.model, &ad_device),
    };
    let (bp_decoder, bp_ber) = val_ber(&DecoderNet::new(&config.model, &ad_device));
    let (start_decoder, start_ber) = val_ber(&net);
    let (mut best, mut best_ber) = if start_ber <= bp_ber {
        (start_decoder, start_ber)
    } else {
        (bp_decoder, bp_ber)
    };
    ctx.set_message(format!("validation BER: BP {bp_ber:.5}"));
    let mut optimizer = optimizer();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut step = 0;
    while ctx.begin_training_step(&mut step, &bounds, compiles)? {
        let frames = config.mixture(&code, config.batch_frames, rng.random());
        let batch = to_batch(&frames, &ad_device);
        let loss;
        (net, loss) = optimization_step(
            net,
            &mut optimizer,
            &batch,
            &graph,
            iterations,
            config.learning_rate,
        );
        if !loss.is_finite() {
            return Err(JobError::Failed(format!(
                "the training loss became {loss} at step {step}; this run stops (the best model \
                 so far, validation BER {best_ber:.5}, was not saved)"
            )));
        }
        ctx.report_training_step(step, &bounds, loss);
        if bounds.validation_due(step, config.validate_every) {
            let (candidate, ber) = val_ber(&net);
            if ber < best_ber {
                (best, best_ber) = (candidate, ber);
            }
            ctx.set_message(format!("validation BER {best_ber:.5} (BP {bp_ber:.5})"));
        }
    }
    let (candidate, ber) = val_ber(&net);
    if ber < best_ber {
        (best, best_ber) = (candidate, ber);
    }
    Ok(TrainedDecoder {
        decoder: best,
        val_ber: best_ber,
        bp_val_ber: bp_ber,
        steps: step,
        seconds: bounds.seconds(),
    })
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
    device.seed(config.seed);
    let graph = GraphIndex::new(&code, &device);
    let frames = config.mixture(&code, config.batch_frames, config.seed);
    let batch = to_batch(&frames, &device);
    let net = DecoderNet::new(&config.model, &device);
    let (rate, iterations) = (config.learning_rate, config.model.iterations);
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

    fn tiny(kind: NetConfig) -> TrainConfig {
        TrainConfig {
            batch_frames: 8,
            val_frames: 50,
            max_steps: 6,
            validate_every: 3,
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
            let config = tiny(kind);
            let handle =
                crate::jobs::spawn("t", || {}, move |ctx| train(ctx, &config, &Device::flex()))
                    .expect("spawn");
            let trained = handle.wait().expect("training");
            assert_eq!(trained.steps, 6);
            assert!(trained.val_ber <= trained.bp_val_ber);
        }
        let endless = TrainConfig {
            max_steps: u64::MAX,
            ..tiny(NetConfig::nebp())
        };
        let handle =
            crate::jobs::spawn("c", || {}, move |ctx| train(ctx, &endless, &Device::flex()))
                .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(300));
        handle.cancel();
        assert!(matches!(handle.wait(), Err(JobError::Cancelled)));
    }

    #[test]
    fn the_benchmarked_step_learns_its_batch() {
        use crate::bench::train_speed::TrainingStep;
        let mut step =
            bench_step("ldpc nebp", &tiny(NetConfig::nebp()), &Device::flex()).expect("step");
        assert_eq!(step.samples(), 8);
        let first = step.step().expect("loss");
        let mut last = first;
        for _ in 0..15 {
            last = step.step().expect("loss");
        }
        assert!(first.is_finite() && last < first, "{first} → {last}");
    }

    #[test]
    fn absurd_configs_are_refused() {
        let mut c = TrainConfig::new(NetConfig::nebp());
        c.snr_db = (5.0, 1.0);
        assert!(c.validate().is_err());
        c.snr_db = (0.0, 4.0);
        c.learning_rate = f64::NAN;
        assert!(c.validate().is_err());
        c.learning_rate = 1e-3;
        c.model.iterations = 0;
        assert!(c.validate().is_err());
    }
}
