//! `inference-lab vae ...`: infer, export-decoder, train, eval, and `bench --demo vae`, as
//! docs/cli.md's contract says.

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{evaluate, gaps, run_acceptance};
use super::io;
use super::methods::{CompareSettings, Method, compare};
use super::model::{KIND, VaeModel, shipped_with_latent};
use super::sim;
use super::train::{TrainConfig, bench_step, mean, train};
use crate::demos::DemoMethod;
use crate::demos::cli::{BenchArgs, DemoCli, Globals, TrainArgs, print_bench, print_report};
use crate::stored_model::load;
use crate::training::step::{TrainingStep, boxed};

pub struct VaeCli;

/// `--model F`, else the shipped 2-D model.
fn model_or_shipped(path: Option<&std::path::Path>, device: &Device) -> anyhow::Result<VaeModel> {
    match path {
        Some(path) => load(path, KIND, device),
        None => shipped_with_latent(2, device),
    }
}

impl DemoCli for VaeCli {
    type Action = VaeAction;

    const ABOUT: &'static str = "Learning to infer: a VAE's encoder beside exact Bayes";

    fn run(&self, action: VaeAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            VaeAction::Infer {
                images,
                method,
                steps,
                model,
                out,
                json,
            } => {
                let pixels = io::read_images(&images)?;
                let binary: Vec<Vec<f32>> = pixels.iter().map(|p| sim::binarize(p)).collect();
                let device = crate::backend::compute_for(backend).device;
                let model = model_or_shipped(model.as_deref(), &device)?;
                let mut settings = CompareSettings::new(model.config.latent);
                if let Some(steps) = steps {
                    anyhow::ensure!(
                        (1..=100_000).contains(&steps),
                        "--steps {steps}: must be in 1..=100000"
                    );
                    match method {
                        Method::Svi => settings.svi.steps = steps,
                        _ => settings.steps = steps,
                    }
                }
                let started = Instant::now();
                let comparison = compare(
                    &model,
                    &binary,
                    &[method],
                    &settings,
                    &device,
                    &|_| {},
                    &|| false,
                )
                .map_err(anyhow::Error::msg)?
                .ok_or_else(|| anyhow::anyhow!("stopped"))?;
                let run = comparison
                    .run(method)
                    .ok_or_else(|| anyhow::anyhow!("{} gave no answer", method.name()))?;
                let q = run.last().ok_or_else(|| anyhow::anyhow!("no q"))?;
                crate::files::write_atomic(
                    &out,
                    io::q_csv(q, &run.elbo, &comparison.log_px).as_bytes(),
                )?;
                let seconds = started.elapsed().as_secs_f64();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "vae", "method": method.name(), "images": binary.len(),
                            "latent": model.config.latent,
                            "log_px_exact": comparison.log_px_is_exact,
                            "metrics": {
                                "elbo": mean(&run.elbo),
                                "log_px": mean(&comparison.log_px),
                                "gap": mean(&gaps(&comparison.log_px, &run.elbo)),
                                "seconds": seconds,
                            }
                        })
                    );
                } else {
                    eprintln!(
                        "{} on {} images: q written to {} in {seconds:.2} s",
                        method.label(),
                        binary.len(),
                        out.display()
                    );
                }
                Ok(())
            }
            VaeAction::ExportDecoder { model, out } => {
                let model = model_or_shipped(model.as_deref(), &Device::flex())?;
                crate::files::write_atomic(&out, &io::decoder_npz(&model)?)?;
                eprintln!(
                    "wrote the {}-D decoder to {}",
                    model.config.latent,
                    out.display()
                );
                Ok(())
            }
            VaeAction::Train {
                common,
                latent,
                steps,
                refiner_steps,
                batch,
                lr,
                hidden,
                init,
            } => {
                let mut config = TrainConfig::new(latent);
                if let Some(h) = hidden {
                    config.model.hidden = h;
                }
                if let Some(path) = &init {
                    config.model = load::<VaeModel>(path, KIND, &Device::flex())?.config;
                }
                config.batch = batch;
                config.refiner_steps = refiner_steps;
                config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
                common.run(format!("vae {latent}-D"), config, backend, train)
            }
            VaeAction::Eval {
                model,
                latent,
                images,
                json,
            } => {
                anyhow::ensure!(
                    (1..=500).contains(&images),
                    "--images {images}: must be in 1..=500"
                );
                let compute = crate::backend::compute_for(backend);
                let model = match model {
                    Some(path) => load(&path, KIND, &compute.device)?,
                    None => shipped_with_latent(latent, &compute.device)?,
                };
                let report = evaluate(&model, images, &compute.device)?;
                print_report(&report, report.table(), json)
            }
        }
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        let compute = crate::backend::compute_for(globals.backend);
        let two_d = match &args.model {
            Some(path) => load(path, KIND, &compute.device)?,
            None => shipped_with_latent(2, &compute.device)?,
        };
        let sixteen_d = shipped_with_latent(16, &compute.device).ok();
        let report = run_acceptance(
            &two_d,
            sixteen_d.as_ref(),
            args.quick,
            &compute.device,
            &compute.label,
        )?;
        print_bench(&report, report.table(), args)
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        Ok(vec![
            boxed(bench_step("vae (2-D latent)", &TrainConfig::new(2), device))?,
            boxed(bench_step(
                "vae (16-D latent)",
                &TrainConfig::new(16),
                device,
            ))?,
        ])
    }
}

#[derive(Subcommand, Debug)]
pub enum VaeAction {
    /// Infer q(z|x) for every image (q.csv: image,mu_*,log_sigma_*,elbo,log_px).
    Infer {
        /// One image a line: 784 comma-separated values in [0, 1], no header (binarized at 0.5).
        #[arg(long)]
        images: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        /// svi: the fit's steps (default 500); encoder+svi, iterative: k (default 5).
        #[arg(long)]
        steps: Option<usize>,
        /// A model file (default: the shipped 2-D model).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Print one JSON object (`metrics`: mean `elbo`, `log_px`, `gap`, and `seconds`).
        #[arg(long)]
        json: bool,
    },
    /// Write the decoder as NumPy arrays (W0, b0, W1, b1, …, activations, latent).
    ExportDecoder {
        /// A model file (default: the shipped 2-D model).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Train the VAE, then the refiner on its frozen decoder; saves the best model atomically
    /// whenever the validation ELBO improves, and at the end.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        /// Latent dimensions (2: exact quadrature; 16: estimates).
        #[arg(long, default_value_t = 2)]
        latent: usize,
        /// The VAE's optimizer steps at most.
        #[arg(long, default_value_t = 20_000)]
        steps: u64,
        /// The refiner's optimizer steps (0: train the VAE only).
        #[arg(long, default_value_t = 1_500)]
        refiner_steps: u64,
        /// Digits per step.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        #[arg(long)]
        lr: Option<f64>,
        /// Hidden units of the encoder's and decoder's layers (default 256).
        #[arg(long)]
        hidden: Option<usize>,
        /// Start from this model (same shape).
        #[arg(long)]
        init: Option<PathBuf>,
    },
    /// Every method on the test digits, scored against log p(x).
    Eval {
        #[arg(long)]
        model: Option<PathBuf>,
        /// Without --model: the shipped model with this latent size (2 or 16).
        #[arg(long, default_value_t = 2)]
        latent: usize,
        /// Test digits (an even share of every class).
        #[arg(long, default_value_t = 500)]
        images: usize,
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::super::NAME;
    use crate::demos::cli::run_args;

    #[test]
    fn malformed_image_files_are_refused_with_their_line() {
        let dir = tempfile::tempdir().expect("dir");
        let images = dir.path().join("x.csv");
        std::fs::write(&images, "0.5,0.5\n").expect("write");
        let out = dir.path().join("q.csv");
        let err = run_args(
            NAME,
            &[
                "infer",
                "--images",
                images.to_str().expect("utf8"),
                "--method",
                "encoder",
                "--out",
                out.to_str().expect("utf8"),
            ],
        )
        .expect_err("refused");
        assert!(format!("{err:#}").contains("line 1"), "{err:#}");
        assert!(!out.exists());
    }
}
