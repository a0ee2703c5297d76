//! `inference-lab mri ...`: simulate, reconstruct, train, eval (docs/cli.md's contract).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::{Subcommand, ValueEnum};

use super::io::{read_image, read_kspace, read_mask, write_image, write_kspace, write_mask};
use super::methods::{Method, reconstruct};
use super::metrics::quality;
use super::model::{MriKind, MriModel, MriModelConfig};
use super::sim::{Fourier, MaskKind, MeasureConfig, simulate};
use super::train::{TrainConfig, bench_step, train};
use crate::backend::BackendRequest;
use crate::demos::DemoMethod;
use crate::demos::cli::{BenchArgs, DemoCli, EvalArgs, Globals, TrainArgs};
use crate::stored_model::load;
use crate::training::step::{TrainingStep, boxed};

/// The MRI demo's command line.
pub struct MriCli;

impl DemoCli for MriCli {
    type Action = MriAction;

    const ABOUT: &'static str = "MRI reconstruction";

    fn run(&self, action: MriAction, globals: Globals) -> anyhow::Result<()> {
        run(action, globals.backend, globals.seed)
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        super::bench::bench_cli(
            args.quick,
            args.out.as_deref(),
            args.images.as_deref(),
            args.model.as_deref(),
            globals.backend,
        )
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        let config = TrainConfig::new;
        Ok(vec![
            boxed(bench_step(
                "mri unet",
                &config(MriModelConfig::unet()),
                device,
            ))?,
            boxed(bench_step(
                "mri rim",
                &config(MriModelConfig::rim()),
                device,
            ))?,
            boxed(bench_step(
                "mri rim-zf",
                &config(MriModelConfig::rim_zf()),
                device,
            ))?,
        ])
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MaskArg {
    Cartesian,
    Radial,
    Uv,
}

#[derive(Subcommand, Debug)]
pub enum MriAction {
    /// Measure an image: k-space (.npy) and mask (.png).
    Simulate {
        #[arg(long)]
        image: PathBuf,
        #[arg(long)]
        accel: u32,
        #[arg(long, value_enum, default_value_t = MaskArg::Cartesian)]
        mask: MaskArg,
        #[arg(long, default_value_t = 0.01)]
        noise: f64,
        #[arg(long)]
        out_kspace: PathBuf,
        #[arg(long)]
        out_mask: PathBuf,
    },
    /// Reconstruct from k-space and mask (or, with --image and --accel, simulate first).
    Reconstruct {
        #[arg(long)]
        kspace: Option<PathBuf>,
        #[arg(long)]
        mask: Option<PathBuf>,
        #[arg(long)]
        image: Option<PathBuf>,
        #[arg(long)]
        accel: Option<u32>,
        #[arg(long, value_enum)]
        method: Method,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        truth: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Train a RIM or the U-Net on random phantoms (or your images); saves it (with its config)
    /// atomically, the best so far at each validation.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        #[arg(long, value_enum, default_value_t = MriKind::Rim)]
        kind: MriKind,
        /// Training steps (batches).
        #[arg(long, default_value_t = 1500)]
        steps: u64,
        /// Training image side (the nets run at any size afterwards).
        #[arg(long, default_value_t = 64)]
        side: usize,
        /// Images per batch.
        #[arg(long, default_value_t = 4)]
        batch: usize,
        /// Feature channels (default: the kind's own).
        #[arg(long)]
        channels: Option<usize>,
        /// RIM recurrent layers, 1 or 2 (default: 1).
        #[arg(long)]
        layers: Option<usize>,
        /// Adam's learning rate at the start (it decays on a cosine to a tenth by the end).
        #[arg(long)]
        lr: Option<f64>,
        /// Fine-tune this model file (its architecture replaces --channels/--layers).
        #[arg(long, value_name = "MODEL")]
        init: Option<PathBuf>,
        /// Train on this folder's grayscale PNGs (random crops, flips, rotations, intensity
        /// scaling; every tenth file held out for validation) instead of phantoms alone.
        #[arg(long, value_name = "DIR")]
        images: Option<PathBuf>,
        /// With --images: the share of each batch that is still phantoms.
        #[arg(long, default_value_t = 0.25)]
        phantom_share: f64,
    },
    Eval(EvalArgs),
}

fn mask_kind(kind: MaskArg) -> MaskKind {
    match kind {
        MaskArg::Cartesian => MaskKind::Cartesian,
        MaskArg::Radial => MaskKind::Radial,
        MaskArg::Uv => MaskKind::Uv,
    }
}

fn check_accel(accel: u32) -> anyhow::Result<f64> {
    if !(2..=16).contains(&accel) {
        bail!("--accel must be between 2 and 16 (the contract's values are 4 and 8), not {accel}");
    }
    Ok(f64::from(accel))
}

fn compute_device(backend: BackendRequest) -> (Device, String) {
    let compute = crate::backend::compute_for(backend);
    (compute.device.clone(), compute.label.clone())
}

fn run(action: MriAction, backend: BackendRequest, seed: u64) -> anyhow::Result<()> {
    match action {
        MriAction::Simulate {
            image,
            accel,
            mask,
            noise,
            out_kspace,
            out_mask,
        } => {
            let truth = read_image(&image)?;
            let config = MeasureConfig {
                noise_std: noise,
                seed,
                ..MeasureConfig::new(mask_kind(mask), check_accel(accel)?)
            };
            let m = simulate(&truth, &Fourier::new(truth.side), &config)
                .map_err(|e| anyhow::anyhow!("mri simulate: {e}"))?;
            write_kspace(&out_kspace, truth.side, &m.kspace)?;
            write_mask(&out_mask, &m.mask)?;
            eprintln!(
                "{}×{} k-space, {:.1}× ({:.1}% sampled), noise {noise}",
                truth.side,
                truth.side,
                m.mask.acceleration(),
                100.0 * m.mask.fraction()
            );
            Ok(())
        }
        MriAction::Reconstruct {
            kspace,
            mask,
            image,
            accel,
            method: m,
            model,
            truth,
            out,
            json,
        } => {
            let method = m;
            let (kspace, mask, truth) = match (kspace, mask, image, accel) {
                (Some(k), Some(mk), None, None) => {
                    let (side, values) = read_kspace(&k)?;
                    let mask = read_mask(&mk)?;
                    if mask.side != side {
                        bail!(
                            "{}: the mask is {}×{} but the k-space {} is {side}×{side}",
                            mk.display(),
                            mask.side,
                            mask.side,
                            k.display()
                        );
                    }
                    let truth = truth.as_deref().map(read_image).transpose()?;
                    (values, mask, truth)
                }
                (None, None, Some(img), Some(accel)) => {
                    let gt = read_image(&img)?;
                    let config = MeasureConfig {
                        seed,
                        ..MeasureConfig::new(MaskKind::Cartesian, check_accel(accel)?)
                    };
                    let m = simulate(&gt, &Fourier::new(gt.side), &config)
                        .map_err(|e| anyhow::anyhow!("mri reconstruct: {e}"))?;
                    let truth = match truth {
                        Some(path) => Some(read_image(&path)?),
                        None => Some(gt),
                    };
                    (m.kspace, m.mask, truth)
                }
                _ => bail!(
                    "give either --kspace and --mask (a measurement), or --image and --accel \
                     (simulate, then reconstruct)"
                ),
            };
            if let Some(t) = &truth
                && t.side != mask.side
            {
                bail!(
                    "the truth image is {}×{} but the k-space is {}×{}",
                    t.side,
                    t.side,
                    mask.side,
                    mask.side
                );
            }
            let (device, _) = compute_device(backend);
            let model = method.model(model.as_deref(), &device)?;
            let started = Instant::now();
            let trace = reconstruct(method, &kspace, &mask, model.as_ref(), &device)
                .map_err(|e| anyhow::anyhow!("mri reconstruct: {e}"))?;
            let seconds = started.elapsed().as_secs_f64();
            let estimate = trace.last().context("the method returned no estimate")?;
            write_image(&out, estimate)?;
            let scores = truth.as_ref().map(|t| quality(&estimate.clamped(), t));
            if json {
                let mut metrics = serde_json::json!({ "seconds": seconds });
                if let Some(q) = scores {
                    metrics["psnr"] = q.psnr.into();
                    metrics["ssim"] = q.ssim.into();
                    metrics["nmse"] = q.nmse.into();
                }
                println!(
                    "{}",
                    serde_json::json!({
                        "demo": "mri",
                        "method": method.name(),
                        "side": mask.side,
                        "acceleration": mask.acceleration(),
                        "metrics": metrics,
                    })
                );
            } else if let Some(q) = scores {
                eprintln!(
                    "{}: PSNR {:.2} dB, SSIM {:.4}, NMSE {:.5} ({seconds:.2} s)",
                    method.label(),
                    q.psnr,
                    q.ssim,
                    q.nmse
                );
            }
            Ok(())
        }
        MriAction::Train {
            common,
            kind,
            steps,
            side,
            batch,
            channels,
            layers,
            lr,
            init,
            images,
            phantom_share,
        } => {
            let mut model = Method::learned(kind)
                .default_model()
                .expect("a trainable kind has a model");
            if let Some(c) = channels {
                model.channels = c;
            }
            if let Some(l) = layers {
                model.layers = l;
            }
            if let Some(path) = &init {
                model = load::<MriModel>(path, kind.name(), &Device::flex())?.config;
            }
            let mut config = TrainConfig::new(model);
            config.images = images;
            config.phantom_share = phantom_share;
            config.side = side;
            config.batch = batch;
            config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
            common.run(format!("mri {}", kind.name()), config, backend, train)
        }
        MriAction::Eval(EvalArgs { model, json }) => {
            super::bench::eval_cli(model.as_deref(), json, backend)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mri::images::phantom;
    use crate::demos::mri::sim::Mask;

    fn simulate_action(image: &std::path::Path, dir: &std::path::Path, accel: u32) -> MriAction {
        MriAction::Simulate {
            image: image.to_path_buf(),
            accel,
            mask: MaskArg::Cartesian,
            noise: 0.01,
            out_kspace: dir.join("y.npy"),
            out_mask: dir.join("m.png"),
        }
    }

    fn reconstruct_action(dir: &std::path::Path, m: Method, truth: bool) -> MriAction {
        MriAction::Reconstruct {
            kspace: Some(dir.join("y.npy")),
            mask: Some(dir.join("m.png")),
            image: None,
            accel: None,
            method: m,
            model: None,
            truth: truth.then(|| dir.join("gt.png")),
            out: dir.join("r.png"),
            json: true,
        }
    }

    #[test]
    fn every_method_answers_on_tiny_odd_and_fully_or_never_sampled_measurements() {
        use rustfft::num_complex::Complex64;
        let dir = tempfile::tempdir().expect("tempdir");
        for side in [1, 2, 3, 4, 5, 7, 8, 9, 12, 13] {
            let truth = phantom(side, 3);
            let pixels: Vec<Complex64> = truth
                .pixels
                .iter()
                .map(|&v| Complex64::new(v, 0.0))
                .collect();
            let kspace = Fourier::new(side).forward(&pixels);
            super::super::io::write_image(&dir.path().join("gt.png"), &truth).expect("truth");
            for sampled in [false, true] {
                let mask = Mask {
                    side,
                    sampled: vec![sampled; side * side],
                };
                write_kspace(&dir.path().join("y.npy"), side, &kspace).expect("kspace");
                write_mask(&dir.path().join("m.png"), &mask).expect("mask");
                for method in [
                    Method::ZeroFilled,
                    Method::Tv,
                    Method::UNet,
                    Method::Rim,
                    Method::RimZf,
                ] {
                    let what = format!("{method:?} at {side}², sampled {sampled}");
                    let action = reconstruct_action(dir.path(), method, true);
                    match run(action, BackendRequest::Cpu, 0) {
                        Ok(()) => {
                            let r = read_image(&dir.path().join("r.png")).expect("recon");
                            assert_eq!(r.side, side, "{what}");
                            assert!(r.pixels.iter().all(|v| v.is_finite()), "{what}");
                        }
                        // Refused only with a message: below the smallest side the readers
                        // take, or a side the U-Net cannot pool.
                        Err(e) => {
                            let e = format!("{e:#}");
                            assert!(
                                (side < 8 && e.contains("outside 8..=1024"))
                                    || (matches!(method, Method::UNet)
                                        && side % 4 != 0
                                        && e.contains("multiple of 4")),
                                "{what}: {e}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn simulate_then_reconstruct_from_the_measurement_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gt = dir.path().join("gt.png");
        super::super::io::write_image(&gt, &phantom(32, 4)).expect("write");
        run(simulate_action(&gt, dir.path(), 4), BackendRequest::Cpu, 0).expect("simulate");
        let mask = read_mask(&dir.path().join("m.png")).expect("mask");
        assert!((mask.acceleration() - 4.0).abs() < 1.5);
        for m in [Method::ZeroFilled, Method::Tv] {
            run(
                reconstruct_action(dir.path(), m, true),
                BackendRequest::Cpu,
                0,
            )
            .expect("reconstruct");
            let r = read_image(&dir.path().join("r.png")).expect("recon");
            assert_eq!(r.side, 32);
        }
        // The shortcut simulates and scores by itself.
        let shortcut = MriAction::Reconstruct {
            kspace: None,
            mask: None,
            image: Some(gt.clone()),
            accel: Some(8),
            method: Method::ZeroFilled,
            model: None,
            truth: None,
            out: dir.path().join("s.png"),
            json: false,
        };
        run(shortcut, BackendRequest::Cpu, 0).expect("shortcut");
    }

    #[test]
    fn mismatched_or_absurd_inputs_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gt = dir.path().join("gt.png");
        super::super::io::write_image(&gt, &phantom(32, 4)).expect("write");
        let err = run(
            simulate_action(&gt, dir.path(), 100),
            BackendRequest::Cpu,
            0,
        )
        .expect_err("absurd acceleration");
        assert!(format!("{err:#}").contains("--accel"));
        run(simulate_action(&gt, dir.path(), 4), BackendRequest::Cpu, 0).expect("simulate");
        // A mask of another size than the k-space.
        super::super::io::write_mask(&dir.path().join("m.png"), &Mask::full(16)).expect("mask");
        let err = run(
            reconstruct_action(dir.path(), Method::Tv, false),
            BackendRequest::Cpu,
            0,
        )
        .expect_err("mismatch");
        assert!(format!("{err:#}").contains("16×16"), "{err:#}");
        // Neither a measurement nor an image.
        let err = run(
            MriAction::Reconstruct {
                kspace: None,
                mask: None,
                image: None,
                accel: None,
                method: Method::ZeroFilled,
                model: None,
                truth: None,
                out: dir.path().join("r.png"),
                json: false,
            },
            BackendRequest::Cpu,
            0,
        )
        .expect_err("nothing to reconstruct");
        assert!(format!("{err:#}").contains("--kspace"));
    }
}
