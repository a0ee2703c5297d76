//! `inference-lab causal ...`: simulate, infer, train, eval, and `bench --demo causal`, as
//! docs/cli.md's contract says.

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{EvalSettings, evaluate, run_acceptance};
use super::methods::{Adaptation, LearnedModel, Method, infer};
use super::model::KIND;
use super::sim::{self, Series, SpringsConfig};
use super::train::{TrainConfig, bench_step, train};
use crate::demos::DemoMethod;
use crate::demos::cli::{BenchArgs, DemoCli, Globals, TrainArgs, print_bench, print_report};
use crate::stored_model::{load, load_or_shipped, shipped};
use crate::training::step::{TrainingStep, boxed};

pub struct CausalCli;

impl DemoCli for CausalCli {
    type Action = CausalAction;

    const ABOUT: &'static str = "Causal graphs of interacting particles";

    fn run(&self, action: CausalAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            CausalAction::Simulate {
                samples,
                out,
                noise,
                hidden,
                truth,
            } => {
                check_noise(noise)?;
                if !(1..=1_000_000).contains(&samples) {
                    anyhow::bail!("--samples {samples}: must be in 1..=1000000");
                }
                let config = SpringsConfig {
                    noise,
                    hidden_particle: hidden,
                    ..SpringsConfig::default()
                };
                let series = sim::simulate_many(&config, samples, seed);
                crate::files::write_atomic(&out, sim::series_csv(&series).as_bytes())?;
                if let Some(truth) = truth {
                    crate::files::write_atomic(&truth, sim::truth_csv(&series).as_bytes())?;
                }
                eprintln!("wrote {samples} samples to {}", out.display());
                Ok(())
            }
            CausalAction::Infer {
                input,
                method,
                model,
                out,
                tta_steps,
                tta_lr,
                json,
            } => {
                let started = Instant::now();
                let series = sim::load_series(&input)?;
                let device = if method.is_learned() {
                    crate::backend::compute_for(backend).device
                } else {
                    Device::flex()
                };
                let learned = if method.is_learned() {
                    Some(load_or_shipped::<LearnedModel>(
                        model.as_deref(),
                        KIND,
                        &device,
                    )?)
                } else {
                    None
                };
                if let Some(learned) = &learned
                    && let Some(bad) = series.iter().find_map(|s| learned.check(s).err())
                {
                    anyhow::bail!("{}: {bad}", input.display());
                }
                let mut adaptation = Adaptation {
                    seed,
                    ..Adaptation::default()
                };
                if let Some(steps) = tta_steps {
                    anyhow::ensure!(steps <= 100_000, "--tta-steps {steps}: at most 100000");
                    adaptation.steps = steps;
                }
                if let Some(lr) = tta_lr {
                    anyhow::ensure!(
                        lr.is_finite() && lr > 0.0 && lr < 1.0,
                        "--tta-lr {lr}: must be in (0, 1)"
                    );
                    adaptation.learning_rate = lr;
                }
                let refs: Vec<&Series> = series.iter().collect();
                let probabilities = infer(method, &refs, learned.as_ref(), adaptation, &device)
                    .map_err(anyhow::Error::msg)?;
                crate::files::write_atomic(
                    &out,
                    sim::edges_csv(&series, &probabilities).as_bytes(),
                )?;
                let seconds = started.elapsed().as_secs_f64();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "causal", "method": method.name(), "samples": series.len(),
                            "metrics": { "seconds": seconds }
                        })
                    );
                } else {
                    eprintln!(
                        "{} on {} samples: edges written to {} in {seconds:.2} s",
                        method.label(),
                        series.len(),
                        out.display()
                    );
                }
                Ok(())
            }
            CausalAction::Train {
                common,
                steps,
                batch,
                lr,
                encoder_hidden,
                decoder_hidden,
                val,
                noise,
                init,
            } => {
                check_noise(noise)?;
                let mut config = TrainConfig::default();
                if let Some(h) = encoder_hidden {
                    config.model.encoder_hidden = h;
                }
                if let Some(h) = decoder_hidden {
                    config.model.decoder_hidden = h;
                }
                if let Some(path) = &init {
                    config.model = load::<LearnedModel>(path, KIND, &Device::flex())?.config;
                }
                config.springs.noise = noise;
                config.batch = batch;
                config.val_samples = val;
                config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
                common.run("causal acd".into(), config, backend, train)
            }
            CausalAction::Eval {
                model,
                samples,
                noise,
                hidden,
                json,
            } => {
                check_noise(noise)?;
                if !(2..=100_000).contains(&samples) {
                    anyhow::bail!("--samples {samples}: must be in 2..=100000");
                }
                let compute = crate::backend::compute_for(backend);
                let learned =
                    load_or_shipped::<LearnedModel>(model.as_deref(), KIND, &compute.device)?;
                let settings = EvalSettings {
                    samples,
                    noise,
                    hidden,
                    seed,
                    adaptation: Adaptation::default(),
                };
                let report = evaluate(&learned, &settings, &compute.device)?;
                print_report(&report, report.table(), json)
            }
        }
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        let compute = crate::backend::compute_for(globals.backend);
        let model = shipped::<LearnedModel>(KIND, &compute.device)?;
        let report = run_acceptance(
            &model,
            args.quick,
            globals.seed,
            &compute.device,
            &compute.label,
        )?;
        print_bench(&report, report.table(), args)
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        Ok(vec![boxed(bench_step(
            "causal acd (5 particles)",
            &TrainConfig::default(),
            device,
        ))?])
    }
}

#[derive(Subcommand, Debug)]
pub enum CausalAction {
    /// Simulate springs samples, each with its own graph (long CSV: sample,t,node,x,y,vx,vy).
    Simulate {
        #[arg(long)]
        samples: usize,
        #[arg(long)]
        out: PathBuf,
        /// Standard deviation of Gaussian observation noise.
        #[arg(long, default_value_t = 0.0)]
        noise: f64,
        /// Simulate one more particle that is never observed.
        #[arg(long)]
        hidden: bool,
        /// Also write the true graphs (edges CSV, probability 1 for a spring, 0 otherwise).
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// Infer every sample's edge probabilities (sample,source,target,probability).
    Infer {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        /// acd, acd+tta: a model file (default: the shipped model).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// acd+tta: adaptation steps per sample.
        #[arg(long)]
        tta_steps: Option<usize>,
        /// acd+tta: Adam's learning rate.
        #[arg(long)]
        tta_lr: Option<f64>,
        /// Print one JSON object (`metrics.seconds`).
        #[arg(long)]
        json: bool,
    },
    /// Train the ACD encoder and decoder (VAE); saves the best model atomically whenever the
    /// validation AUROC improves, and at the end.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        /// Optimizer steps at most.
        #[arg(long, default_value_t = 100_000)]
        steps: u64,
        /// Samples per step (fresh ones every step).
        #[arg(long, default_value_t = 32)]
        batch: usize,
        #[arg(long)]
        lr: Option<f64>,
        /// Encoder hidden units (default 256).
        #[arg(long)]
        encoder_hidden: Option<usize>,
        /// Decoder hidden units (default 64).
        #[arg(long)]
        decoder_hidden: Option<usize>,
        /// Validation samples.
        #[arg(long, default_value_t = 200)]
        val: usize,
        /// Train on observations with this much Gaussian noise.
        #[arg(long, default_value_t = 0.0)]
        noise: f64,
        /// Start from this model (same shape).
        #[arg(long)]
        init: Option<PathBuf>,
    },
    /// Every method on held-out simulated samples.
    Eval {
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long, default_value_t = 100)]
        samples: usize,
        #[arg(long, default_value_t = 0.0)]
        noise: f64,
        #[arg(long)]
        hidden: bool,
        #[arg(long)]
        json: bool,
    },
}

fn check_noise(noise: f64) -> anyhow::Result<()> {
    if !(noise.is_finite() && (0.0..=10.0).contains(&noise)) {
        anyhow::bail!("--noise {noise}: must be in [0, 10]");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::NAME;
    use crate::demos::cli::run_args;

    #[test]
    fn simulate_then_infer_writes_every_pair_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let series = dir.path().join("s.csv");
        let truth = dir.path().join("t.csv");
        let edges = dir.path().join("e.csv");
        let (s, t, e) = (
            series.to_str().expect("utf8"),
            truth.to_str().expect("utf8"),
            edges.to_str().expect("utf8"),
        );
        run_args(
            NAME,
            &["simulate", "--samples", "3", "--out", s, "--truth", t],
        )
        .expect("simulate");
        for method in ["granger", "acd"] {
            run_args(
                NAME,
                &["infer", "--input", s, "--method", method, "--out", e],
            )
            .expect(method);
            let text = std::fs::read_to_string(&edges).expect("edges");
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines[0], "sample,source,target,probability");
            assert_eq!(lines.len(), 1 + 3 * 20, "{method}");
            for line in &lines[1..] {
                let p: f64 = line.rsplit(',').next().expect("p").parse().expect("number");
                assert!((0.0..=1.0).contains(&p), "{line}");
            }
        }
        assert_eq!(
            std::fs::read_to_string(&truth)
                .expect("truth")
                .lines()
                .count(),
            61
        );
        let text = std::fs::read_to_string(&series).expect("series");
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, text.replacen("0,0,3,", "0,0,3,nan,", 1)).expect("write");
        let err = run_args(
            NAME,
            &[
                "infer",
                "--input",
                bad.to_str().expect("utf8"),
                "--method",
                "granger",
                "--out",
                e,
            ],
        )
        .expect_err("malformed");
        assert!(format!("{err:#}").contains("line 5"), "{err:#}");
        // Four particles: Granger works, the five-particle model refuses.
        let four: String = text
            .lines()
            .filter(|l| l.split(',').nth(2).is_none_or(|n| n != "4"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&bad, four).expect("write");
        let bad_s = bad.to_str().expect("utf8");
        run_args(
            NAME,
            &["infer", "--input", bad_s, "--method", "granger", "--out", e],
        )
        .expect("4");
        let err = run_args(
            NAME,
            &["infer", "--input", bad_s, "--method", "acd", "--out", e],
        )
        .expect_err("node count");
        assert!(err.to_string().contains("trained for 5"), "{err}");
        let err = run_args(
            NAME,
            &["simulate", "--samples", "2", "--out", s, "--noise=-1"],
        )
        .expect_err("noise");
        assert!(err.to_string().contains("--noise"), "{err}");
    }
}
