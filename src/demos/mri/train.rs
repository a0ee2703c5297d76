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
use super::images::phantom;
use super::images::{ImageFolder, load_folder};
use super::metrics::psnr;
use super::model::{
    DftMatrices, MeasurementBatch, MriModel, MriModelConfig, MriNet, images_tensor, step_loss,
    tensor_images,
};
use super::sim::{Fourier, Image, Mask, MaskKind, MeasureConfig, simulate};
use crate::jobs::JobError;
use crate::stored_model::NetSpec;
use crate::training::TrainJob;
use crate::training::{
    Devices, LoopStep, Metric, Schedule, Scored, StepReport, Stream, TrainSettings, Trained,
    Trainee, cosine_learning_rate, descend_model, runner, same_shape,
};

/// A finished run.
pub type TrainedMri = Trained<MriModel>;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: MriModelConfig,
    /// Training image side. 64: the acceptance size, and 4× cheaper than 128 per step on the
    /// CPU; the nets are fully convolutional and run at any size.
    pub side: usize,
    pub batch: usize,
    pub val_images: usize,
    pub noise_std: f64,
    /// Its `init` fine-tunes a model file's weights instead of fresh ones; `model` must then
    /// be that file's config.
    #[serde(flatten)]
    pub schedule: Schedule,
    /// Train (and validate) on this folder's grayscale PNGs instead of phantoms alone.
    #[serde(default)]
    pub images: Option<std::path::PathBuf>,
    /// With `images`: the share of each batch that is still phantoms.
    #[serde(default)]
    pub phantom_share: f64,
}

impl TrainSettings for TrainConfig {
    /// The score a run keeps its best model by.
    const METRIC: Metric = Metric::higher("val_psnr", "validation PSNR", 2).with_unit(" dB");

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        if !(16..=256).contains(&self.side) || !self.side.is_multiple_of(4) {
            return Err(format!(
                "training side must be a multiple of 4 in 16..=256, not {}",
                self.side
            ));
        }
        if !(1..=64).contains(&self.batch) || self.val_images == 0 {
            return Err("batch in 1..=64 and at least one validation image".into());
        }
        if !(0.0..=1.0).contains(&self.phantom_share) {
            return Err(format!(
                "the phantoms' share must be in [0, 1], not {}",
                self.phantom_share
            ));
        }
        self.schedule.validate()
    }
}

impl TrainConfig {
    pub fn new(model: MriModelConfig) -> Self {
        Self {
            model,
            side: 64,
            batch: 4,
            val_images: 16,
            noise_std: 0.01,
            schedule: Schedule::new(1500, 5e-4, 50),
            images: None,
            phantom_share: 0.25,
        }
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

/// Fixed validation measurements of a run seeded `seed`: phantoms at 4× and 8× Cartesian,
/// alternating.
pub fn validation_set(
    side: usize,
    count: usize,
    noise_std: f64,
    seed: u64,
) -> Result<Vec<Example>, String> {
    let truths: Vec<Image> = (0..count as u64)
        .map(|i| phantom(side, Stream::Validation.seed(seed, i)))
        .collect();
    measure_validation(truths, noise_std, seed)
}

/// Measures validation truths at 4× and 8× Cartesian, alternating, each with its own seed.
fn measure_validation(
    truths: Vec<Image>,
    noise_std: f64,
    seed: u64,
) -> Result<Vec<Example>, String> {
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
                    seed: Stream::Validation.seed(seed, i),
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
    measure_validation(truths, config.noise_std, config.schedule.seed)
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
            let seed = Stream::Train.seed(config.schedule.seed, rng.random());
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
    descend_model(model, loss, optimizer, rate)
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
    device.seed(config.schedule.seed);
    let fourier = Fourier::new(config.side);
    let mut rng = StdRng::seed_from_u64(config.schedule.seed);
    let prepared = prepare_batch(config, None, &fourier, &mut rng)?;
    let dft = DftMatrices::new(config.side, &device);
    let model = MriModel::new(config.model.clone(), &device);
    let rate = config.schedule.learning_rate;
    Ok(LoopStep::new(
        network,
        format!("{} images {}²", config.batch, config.side),
        config.batch,
        model,
        optimizer(),
        move |model, optimizer| optimization_step(model, optimizer, &prepared, &dft, &device, rate),
    ))
}

/// The unrolled model on fresh measured batches (made on another thread), scored by the mean
/// PSNR of its final estimates on fixed validation measurements.
struct MriTrainee<'a> {
    config: &'a TrainConfig,
    validation: PreparedBatch,
    batches: std::sync::mpsc::Receiver<Result<PreparedBatch, String>>,
    dft: DftMatrices,
    devices: &'a Devices,
}

impl Trainee for MriTrainee<'_> {
    type Model = MriModel;
    type Config = TrainConfig;

    fn optimizer(&self) -> ModuleOptimizer {
        optimizer()
    }

    fn learning_rate(&self, base: f64, progress: f64) -> f64 {
        cosine_learning_rate(base, progress)
    }

    fn fresh(&mut self, device: &Device) -> MriNet {
        MriModel::new(self.config.model.clone(), device).net
    }

    fn adopt(&mut self, loaded: MriModel) -> Result<MriNet, String> {
        same_shape(&loaded.config, &self.config.model)?;
        Ok(loaded.net)
    }

    fn step(
        &mut self,
        _step: u64,
        net: MriNet,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
    ) -> Result<(MriNet, StepReport), JobError> {
        let prepared = self
            .batches
            .recv()
            .map_err(|_| JobError::Failed("the batch maker stopped".into()))?
            .map_err(JobError::Failed)?;
        let model = MriModel {
            net,
            config: self.config.model.clone(),
        };
        let (model, loss) = optimization_step(
            model,
            optimizer,
            &prepared,
            &self.dft,
            &self.devices.autodiff,
            learning_rate,
        );
        Ok((model.net, StepReport::loss(loss)))
    }

    fn validate(&self, net: &MriNet) -> Scored<MriModel> {
        let model = MriModel {
            net: net.valid(),
            config: self.config.model.clone(),
        };
        let score = mean_psnr(&model, &self.validation, &self.devices.plain);
        Scored::new(model, score)
    }
}

/// Trains on `device` (made autodiff here), fine-tuning `init` when given; reports progress
/// and honours cancel.
pub fn train(job: TrainJob, config: &TrainConfig) -> Result<TrainedMri, JobError> {
    let devices = job.devices(config)?;
    let fourier = Fourier::new(config.side);
    let folder = match &config.images {
        Some(dir) => Some(std::sync::Arc::new(
            load_folder(dir).map_err(|e| JobError::Failed(format!("{e:#}")))?,
        )),
        None => None,
    };
    let examples = match &folder {
        Some(folder) => folder_validation_set(folder, config),
        None => validation_set(
            config.side,
            config.val_images,
            config.noise_std,
            config.schedule.seed,
        ),
    }
    .map_err(JobError::Failed)?;
    let validation = PreparedBatch::new(examples, &config.model, &fourier);
    if let Some(starts) = &validation.starts {
        // The bar a RIM must clear: its own start, TV, on the same images.
        let tv = mean_psnr_of(starts.iter().map(Some), &validation.examples);
        log::info!("TV on the validation set: {tv:.2} dB");
    }
    // Batches are made on another thread while the device trains; the maker stops at its
    // next send once training ends and drops the receiver.
    let (sender, batches) = std::sync::mpsc::sync_channel(2);
    let maker_config = config.clone();
    std::thread::spawn(move || {
        let fourier = Fourier::new(maker_config.side);
        let mut rng = StdRng::seed_from_u64(maker_config.schedule.seed);
        while sender
            .send(prepare_batch(
                &maker_config,
                folder.as_deref(),
                &fourier,
                &mut rng,
            ))
            .is_ok()
        {}
    });
    let mut trainee = MriTrainee {
        config,
        validation,
        batches,
        dft: DftMatrices::new(config.side, &devices.autodiff),
        devices: &devices,
    };
    runner::run(job, config, &mut trainee, &devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmarked_step_is_the_loops_step_and_learns_its_batch() {
        use crate::training::TrainingStep;
        let config = TrainConfig {
            side: 16,
            batch: 2,
            schedule: Schedule::new(1500, 3e-3, 50),
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
        crate::training::testing::assert_step_learns(&mut step, 10);
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
