//! Training the MRI models (the RIMs or the U-Net), run by a job from the panel and by
//! `mri train` alike. Every batch is fresh: random phantoms, or with `images` random crops of a
//! folder's pictures (a share still phantoms), measured through random masks (Cartesian 4× or
//! 8× 80% of the time, radial and uv 10% each) with noise; the model with the best validation
//! PSNR (fixed phantoms, or the folder's held-out tenth; never the test images) is kept, and
//! saved at once to `checkpoint` when one is given.

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use super::classical::tv_estimate;
use super::images::{ImageFolder, load_folder};
use super::metrics::psnr;
use super::model::{
    DftMatrices, MeasurementBatch, MriModel, MriModelConfig, images_tensor, step_loss,
    tensor_images,
};
use super::sim::{Fourier, Image, Mask, MaskKind, MeasureConfig, phantom, simulate};
use crate::bench::train_speed::{LoopStep, descend};
use crate::jobs::{JobContext, JobError, TrainingBounds};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: MriModelConfig,
    /// Training image side. 64: the acceptance size, and 4× cheaper than 128 per step on the
    /// CPU; the nets are fully convolutional and run at any size.
    pub side: usize,
    pub batch: usize,
    pub max_steps: u64,
    /// Stop after this many seconds (the best model so far is kept).
    pub budget_secs: Option<f64>,
    pub learning_rate: f64,
    pub validate_every: u64,
    pub val_images: usize,
    pub noise_std: f64,
    pub seed: u64,
    /// Start from this model file's weights (fine-tuning) instead of fresh ones; `model`
    /// must then be that file's config.
    #[serde(default)]
    pub init: Option<std::path::PathBuf>,
    /// Train (and validate) on this folder's grayscale PNGs instead of phantoms alone.
    #[serde(default)]
    pub images: Option<std::path::PathBuf>,
    /// With `images`: the share of each batch that is still phantoms.
    #[serde(default)]
    pub phantom_share: f64,
    /// Where the best model so far is saved at each improvement (atomically), so that a run
    /// stopped early loses nothing.
    #[serde(skip)]
    pub checkpoint: Option<std::path::PathBuf>,
}

impl TrainConfig {
    pub fn new(model: MriModelConfig) -> Self {
        Self {
            model,
            side: 64,
            batch: 4,
            max_steps: 1500,
            budget_secs: None,
            learning_rate: 5e-4,
            validate_every: 50,
            val_images: 16,
            noise_std: 0.01,
            seed: 0,
            init: None,
            images: None,
            phantom_share: 0.25,
            checkpoint: None,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.model.check()?;
        if !(16..=256).contains(&self.side) || !self.side.is_multiple_of(4) {
            return Err(format!(
                "training side must be a multiple of 4 in 16..=256, not {}",
                self.side
            ));
        }
        if !(1..=64).contains(&self.batch) || self.val_images == 0 || self.validate_every == 0 {
            return Err("batch in 1..=64, at least one validation image and step".into());
        }
        if !(0.0..=1.0).contains(&self.phantom_share) {
            return Err(format!(
                "the phantoms' share must be in [0, 1], not {}",
                self.phantom_share
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

/// A measured image: truth, k-space, mask.
#[derive(Clone, Debug)]
pub struct Example {
    pub truth: Image,
    pub kspace: Vec<Complex64>,
    pub mask: Mask,
}

/// Measures `truth` with `config`.
pub fn example(truth: Image, fourier: &Fourier, config: &MeasureConfig) -> Result<Example, String> {
    let m = simulate(&truth, fourier, config)?;
    Ok(Example {
        truth,
        kspace: m.kspace,
        mask: m.mask,
    })
}

/// Seeds of validation phantoms: far from any training seed.
const VALIDATION_SEED: u64 = 1 << 62;

/// Fixed validation measurements: phantoms at 4× and 8× Cartesian, alternating.
pub fn validation_set(side: usize, count: usize, noise_std: f64) -> Result<Vec<Example>, String> {
    let truths: Vec<Image> = (0..count as u64)
        .map(|i| phantom(side, VALIDATION_SEED + i))
        .collect();
    measure_validation(truths, noise_std)
}

/// Measures validation truths at 4× and 8× Cartesian, alternating, each with its own seed.
fn measure_validation(truths: Vec<Image>, noise_std: f64) -> Result<Vec<Example>, String> {
    let fourier = truths.first().map(|t| Fourier::new(t.side));
    truths
        .into_iter()
        .zip(0u64..)
        .map(|(truth, i)| {
            let accel = if i % 2 == 0 { 4.0 } else { 8.0 };
            example(
                truth,
                fourier.as_ref().expect("a truth"),
                &MeasureConfig {
                    noise_std,
                    seed: VALIDATION_SEED + i,
                    ..MeasureConfig::new(MaskKind::Cartesian, accel)
                },
            )
        })
        .collect()
}

/// Validation measurements of a folder's held-out pictures (their centres; twice the phantoms'
/// count at most, each at one acceleration).
fn folder_validation_set(
    folder: &ImageFolder,
    config: &TrainConfig,
) -> Result<Vec<Example>, String> {
    let truths: Vec<Image> = folder
        .validation
        .iter()
        .take(2 * config.val_images)
        .map(|g| g.centre(config.side))
        .collect();
    measure_validation(truths, config.noise_std)
}

/// One training batch as plain data, made off the training loop (the TV starts cost more CPU
/// time than a GPU step).
struct PreparedBatch {
    examples: Vec<Example>,
    starts: Option<Vec<Image>>,
}

fn prepare_batch(
    config: &TrainConfig,
    folder: Option<&ImageFolder>,
    fourier: &Fourier,
    rng: &mut StdRng,
) -> Result<PreparedBatch, String> {
    // Drawn in order from the one generator (repeatable), then built in parallel.
    let specs: Vec<(u64, Option<usize>, MaskKind, f64)> = (0..config.batch)
        .map(|_| {
            let seed = rng.random::<u64>() % VALIDATION_SEED;
            let picture = folder
                .filter(|f| !f.train.is_empty() && rng.random::<f64>() >= config.phantom_share)
                .map(|f| rng.random_range(0..f.train.len()));
            let roll = rng.random::<f64>();
            let mask = if roll < 0.8 {
                MaskKind::Cartesian
            } else if roll < 0.9 {
                MaskKind::Radial
            } else {
                MaskKind::Uv
            };
            let accel = if rng.random::<bool>() { 4.0 } else { 8.0 };
            (seed, picture, mask, accel)
        })
        .collect();
    let examples = specs
        .par_iter()
        .map(|&(seed, picture, mask, accel)| {
            let truth = match (picture, folder) {
                (Some(i), Some(f)) => f.train[i].augmented(config.side, seed),
                _ => phantom(config.side, seed),
            };
            example(
                truth,
                fourier,
                &MeasureConfig {
                    noise_std: config.noise_std,
                    seed,
                    ..MeasureConfig::new(mask, accel)
                },
            )
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PreparedBatch::new(examples, &config.model, fourier))
}

impl PreparedBatch {
    /// With the TV starts (computed in parallel) when the model starts from TV.
    fn new(examples: Vec<Example>, model: &MriModelConfig, fourier: &Fourier) -> Self {
        let starts = model.start_from_tv.then(|| {
            examples
                .par_iter()
                .map(|e| tv_estimate(&e.kspace, &e.mask, fourier))
                .collect()
        });
        Self { examples, starts }
    }
}

/// Batches examples of one side into tensors, with the RIM's starts when given.
fn tensors(
    examples: &[Example],
    starts: Option<&[Image]>,
    device: &Device,
) -> (MeasurementBatch, burn::tensor::Tensor<4>) {
    let pairs: Vec<(&[Complex64], &Mask)> = examples
        .iter()
        .map(|e| (e.kspace.as_slice(), &e.mask))
        .collect();
    let truths: Vec<Image> = examples.iter().map(|e| e.truth.clone()).collect();
    let mut batch = MeasurementBatch::new(&pairs, device);
    if let Some(starts) = starts {
        batch = batch.with_start(starts, device);
    }
    (batch, images_tensor(&truths, device))
}

/// The learning rate after `progress` ∈ [0, 1] of the run: a cosine from `base` to `base/10`.
pub fn scheduled_learning_rate(base: f64, progress: f64) -> f64 {
    base * (0.1 + 0.45 * (1.0 + (std::f64::consts::PI * progress.clamp(0.0, 1.0)).cos()))
}

/// Mean PSNR of the model's final estimates over a prepared set, in one batch.
fn mean_psnr(model: &MriModel, set: &PreparedBatch, device: &Device) -> f64 {
    let (batch, _) = tensors(&set.examples, set.starts.as_deref(), device);
    let estimates = model
        .forward(&batch, &DftMatrices::new(batch.side, device))
        .pop()
        .and_then(|last| tensor_images(&last, batch.side).ok())
        .unwrap_or_default();
    if estimates.len() != set.examples.len() {
        return f64::NEG_INFINITY;
    }
    mean_psnr_of(estimates.iter().map(Option::as_ref), &set.examples)
}

/// Mean PSNR of estimates against the examples' truths; a missing (non-finite) one scores −∞.
fn mean_psnr_of<'a>(
    estimates: impl Iterator<Item = Option<&'a Image>>,
    examples: &[Example],
) -> f64 {
    let total: f64 = estimates
        .zip(examples)
        .map(|(estimate, e)| estimate.map_or(f64::NEG_INFINITY, |x| psnr(x, &e.truth)))
        .sum();
    total / examples.len().max(1) as f64
}

/// Adam with the gradient clipped to norm 1 (a RIM's unrolled gradient can spike).
fn optimizer() -> ModuleOptimizer {
    AdamConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
        .init()
}

/// One optimisation step on a prepared batch: the loss over the model's steps, backward, and
/// the optimizer at `rate`. A loss that is not finite comes back without a step taken.
fn optimization_step(
    model: MriModel,
    optimizer: &mut ModuleOptimizer,
    prepared: &PreparedBatch,
    dft: &DftMatrices,
    device: &Device,
    rate: f64,
) -> (MriModel, f64) {
    let (batch, truth) = tensors(&prepared.examples, prepared.starts.as_deref(), device);
    let loss = step_loss(&model.forward(&batch, dft), &truth);
    let (net, loss_value) = descend(model.net, loss, optimizer, rate);
    (
        MriModel {
            net,
            config: model.config,
        },
        loss_value,
    )
}

/// The training step of `config`'s model for `bench --train`: its first batch, made once, and
/// the loop's own step on it.
pub fn bench_step(
    network: &str,
    config: &TrainConfig,
    device: &Device,
) -> Result<LoopStep<MriModel>, String> {
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let fourier = Fourier::new(config.side);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let prepared = prepare_batch(config, None, &fourier, &mut rng)?;
    let dft = DftMatrices::new(config.side, &device);
    let model = MriModel::new(config.model.clone(), &device);
    let rate = config.learning_rate;
    Ok(LoopStep::new(
        network,
        format!("{} images {}²", config.batch, config.side),
        config.batch,
        model,
        optimizer(),
        move |model, optimizer| optimization_step(model, optimizer, &prepared, &dft, &device, rate),
    ))
}

pub struct TrainedMri {
    pub model: MriModel,
    pub val_psnr: f64,
    pub steps: u64,
    pub seconds: f64,
}

pub fn train(
    ctx: &JobContext,
    config: &TrainConfig,
    device: &Device,
) -> Result<TrainedMri, JobError> {
    config.validate().map_err(JobError::Failed)?;
    let bounds = TrainingBounds::new(config.max_steps, config.budget_secs);
    let fourier = Fourier::new(config.side);
    let folder = match &config.images {
        Some(dir) => Some(std::sync::Arc::new(
            load_folder(dir).map_err(|e| JobError::Failed(format!("{e:#}")))?,
        )),
        None => None,
    };
    let examples = match &folder {
        Some(folder) => folder_validation_set(folder, config),
        None => validation_set(config.side, config.val_images, config.noise_std),
    }
    .map_err(JobError::Failed)?;
    let validation = PreparedBatch::new(examples, &config.model, &fourier);
    let compiles = crate::backend::compiles_kernels(device);
    let ad_device = device.clone().autodiff();
    // Seeds the initial weights too, so a run is repeatable from its config.
    ad_device.seed(config.seed);
    let mut model = match &config.init {
        Some(path) => super::model_io::load(path, &config.model.kind, &ad_device)
            .map_err(|e| JobError::Failed(format!("{e:#}")))?,
        None => MriModel::new(config.model.clone(), &ad_device),
    };
    if model.config != config.model {
        return Err(JobError::Failed(format!(
            "the starting model is a {:?}, not the {:?} asked for",
            model.config, config.model
        )));
    }
    let dft = DftMatrices::new(config.side, &ad_device);
    let mut optimizer = optimizer();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let valid = |model: &MriModel| {
        let inner = MriModel {
            net: model.net.valid(),
            config: model.config.clone(),
        };
        let score = mean_psnr(&inner, &validation, device);
        (inner, score)
    };
    let (mut best, mut best_psnr) = valid(&model);
    ctx.set_message(format!("validation PSNR {best_psnr:.2} dB before training"));
    log::info!("validation PSNR {best_psnr:.2} dB before training");
    if let Some(starts) = &validation.starts {
        // The bar a RIM must clear: its own start, TV, on the same images.
        let tv = mean_psnr_of(starts.iter().map(Some), &validation.examples);
        log::info!("TV on the validation set: {tv:.2} dB");
    }
    // Batches are made on another thread while the device trains; the maker stops at its
    // next send once this function returns and drops the receiver.
    let (sender, batches) = std::sync::mpsc::sync_channel(2);
    let maker_config = config.clone();
    let maker_folder = folder.clone();
    std::thread::spawn(move || {
        let fourier = Fourier::new(maker_config.side);
        while sender
            .send(prepare_batch(
                &maker_config,
                maker_folder.as_deref(),
                &fourier,
                &mut rng,
            ))
            .is_ok()
        {}
    });
    let mut step = 0;
    let mut loss_since_validation = Vec::new();
    while ctx.begin_training_step(&mut step, &bounds, compiles)? {
        let prepared = batches
            .recv()
            .map_err(|_| JobError::Failed("the batch maker stopped".into()))?
            .map_err(JobError::Failed)?;
        let rate = scheduled_learning_rate(config.learning_rate, bounds.progress(step));
        let loss_value;
        (model, loss_value) =
            optimization_step(model, &mut optimizer, &prepared, &dft, &ad_device, rate);
        if !loss_value.is_finite() {
            return Err(JobError::Failed(format!(
                "the training loss became {loss_value} at step {step}; this run stops (the \
                 best model so far had validation PSNR {best_psnr:.2} dB)"
            )));
        }
        loss_since_validation.push(loss_value);
        ctx.report_training_step(step, &bounds, loss_value);
        if bounds.validation_due(step, config.validate_every) {
            let (candidate, score) = valid(&model);
            if score > best_psnr {
                best = candidate;
                best_psnr = score;
                if let Some(path) = &config.checkpoint {
                    let so_far = TrainedMri {
                        model: best.clone(),
                        val_psnr: best_psnr,
                        steps: step,
                        seconds: bounds.seconds(),
                    };
                    super::model_io::save(path, &so_far, config).map_err(|e| {
                        JobError::Failed(format!("saving the checkpoint {}: {e:#}", path.display()))
                    })?;
                }
            }
            ctx.set_message(format!("best validation PSNR {best_psnr:.2} dB"));
            let mean_loss = loss_since_validation.iter().sum::<f64>()
                / loss_since_validation.len().max(1) as f64;
            loss_since_validation.clear();
            log::info!(
                "step {step}: training loss {mean_loss:.3}, validation PSNR {score:.2} dB \
                 (best {best_psnr:.2} dB)"
            );
        }
    }
    let (candidate, score) = valid(&model);
    if score > best_psnr {
        best = candidate;
        best_psnr = score;
    }
    Ok(TrainedMri {
        model: best,
        val_psnr: best_psnr,
        steps: step,
        seconds: bounds.seconds(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_falls_on_a_cosine_to_a_tenth() {
        let base = 1e-3;
        assert!((scheduled_learning_rate(base, 0.0) - base).abs() < 1e-15);
        assert!((scheduled_learning_rate(base, 0.5) - 0.55 * base).abs() < 1e-15);
        assert!((scheduled_learning_rate(base, 1.0) - 0.1 * base).abs() < 1e-15);
        assert!((scheduled_learning_rate(base, 7.0) - 0.1 * base).abs() < 1e-15);
        let rates: Vec<f64> = (0..=20)
            .map(|i| scheduled_learning_rate(base, f64::from(i) / 20.0))
            .collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn the_benchmarked_step_is_the_loops_step_and_learns_its_batch() {
        use crate::bench::train_speed::TrainingStep;
        let config = TrainConfig {
            side: 16,
            batch: 2,
            learning_rate: 3e-3,
            model: MriModelConfig {
                channels: 4,
                steps: 2,
                ..MriModelConfig::rim()
            },
            ..TrainConfig::new(MriModelConfig::rim())
        };
        let mut step = bench_step("mri rim", &config, &Device::flex()).expect("step");
        assert_eq!(
            (step.samples(), step.batch()),
            (2, "2 images 16²".to_owned())
        );
        let first = step.step().expect("loss");
        let mut last = first;
        for _ in 0..10 {
            last = step.step().expect("loss");
        }
        assert!(first.is_finite() && last < first, "{first} → {last}");
    }

    #[test]
    fn prepared_batches_repeat_from_the_seed_and_carry_tv_starts() {
        let config = TrainConfig {
            side: 16,
            batch: 3,
            ..TrainConfig::new(MriModelConfig::rim())
        };
        let fourier = Fourier::new(16);
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            prepare_batch(&config, None, &fourier, &mut rng).expect("batch")
        };
        let (a, b, c) = (draw(1), draw(1), draw(2));
        assert_eq!(a.examples.len(), 3);
        assert_eq!(a.starts.as_ref().map(Vec::len), Some(3));
        let truths = |p: &PreparedBatch| -> Vec<Image> {
            p.examples.iter().map(|e| e.truth.clone()).collect()
        };
        assert_eq!(truths(&a), truths(&b));
        assert_ne!(truths(&a), truths(&c));
        let unet = TrainConfig {
            model: MriModelConfig::unet(),
            ..config.clone()
        };
        let mut rng = StdRng::seed_from_u64(1);
        assert!(
            prepare_batch(&unet, None, &fourier, &mut rng)
                .expect("batch")
                .starts
                .is_none()
        );
    }
}
