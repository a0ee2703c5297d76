//! `inference-lab flows ...`: sample, fit, density, eval and train, and `bench --demo flows`, as
//! docs/flows.md says.

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{Report, run_acceptance};
use super::io;
use super::methods::Fitted;
use super::methods::{FitSettings, Method, evaluate, fit};
use super::model::{FlowConfig, FlowModel, KIND};
use super::sim::Dataset;
use super::train::{TrainConfig, bench_step, train as train_flow};
use crate::demos::DemoMethod;
use crate::demos::cli::{BenchArgs, DemoCli, Globals, TrainArgs, run_bench};
use crate::stored_model::load;
use crate::training::Stream;
use crate::training::step::{TrainingStep, boxed};

pub struct FlowsCli;

/// The most points one command draws.
const MAX_POINTS: usize = 10_000_000;

impl DemoCli for FlowsCli {
    type Action = FlowsAction;

    const ABOUT: &'static str =
        "Flows and surjections: a Gaussian mixture, a flow and a flow with an abs surjection";

    fn run(&self, action: FlowsAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            FlowsAction::Sample { dataset, n, out } => {
                anyhow::ensure!(
                    (1..=MAX_POINTS).contains(&n),
                    "--n {n}: must be in 1..={MAX_POINTS}"
                );
                io::write_points(&out, &dataset.sample(n, seed))?;
                eprintln!(
                    "{n} points of {} written to {}",
                    dataset.name(),
                    out.display()
                );
                Ok(())
            }
            FlowsAction::Fit {
                train,
                method,
                out,
                options,
            } => {
                let training = io::read_points(&train)?;
                let settings = options.settings(seed)?;
                let device = crate::backend::compute_for(backend).device;
                let started = std::time::Instant::now();
                let fitted = fit(method, &training, &settings, &device)?;
                let info = serde_json::json!({
                    "method": method.name(), "points": training.len(), "settings": settings,
                    "seconds": started.elapsed().as_secs_f64(),
                });
                fitted.save(&out, &info)?;
                eprintln!(
                    "{} fitted on {} points in {:.1} s, saved to {}",
                    method.label(),
                    training.len(),
                    started.elapsed().as_secs_f64(),
                    out.display()
                );
                Ok(())
            }
            FlowsAction::Density {
                model,
                points,
                out,
                json,
            } => {
                let device = crate::backend::compute_for(backend).device;
                let fitted = Fitted::load(&model, &device)?;
                let points = io::read_points(&points)?;
                let logs = fitted.log_densities(&points, &device);
                io::write_densities(&out, &points, &logs, fitted.is_exact())?;
                let mean = logs.iter().sum::<f64>() / logs.len() as f64;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "flows", "model": model.display().to_string(),
                            "points": points.len(), "out": out.display().to_string(),
                            "metrics": { "nats": mean, "exact": fitted.is_exact() },
                        })
                    );
                } else {
                    eprintln!(
                        "log p of {} points written to {} (mean {mean:.4} nats, {})",
                        points.len(),
                        out.display(),
                        if fitted.is_exact() {
                            "exact"
                        } else {
                            "a bound"
                        }
                    );
                }
                Ok(())
            }
            FlowsAction::Train {
                common,
                dataset,
                points,
                n,
                stack,
                couplings,
                hidden,
                steps,
                batch,
                lr,
                init,
            } => {
                let training = match (&points, dataset) {
                    (Some(path), _) => io::read_points(path)?,
                    (None, Some(dataset)) => {
                        anyhow::ensure!(
                            (10..=MAX_POINTS).contains(&n),
                            "--n {n}: must be in 10..={MAX_POINTS}"
                        );
                        dataset.sample(n, Stream::Train.seed(seed, 0))
                    }
                    (None, None) => anyhow::bail!("give --dataset NAME or --points FILE"),
                };
                let mut model = FlowConfig::real_nvp(couplings, &hidden);
                if let Some(list) = &stack {
                    model.layers = FlowConfig::parse_layers(list).map_err(anyhow::Error::msg)?;
                }
                if let Some(path) = &init {
                    model = load::<FlowModel>(path, KIND, &burn::tensor::Device::flex())?.config;
                }
                let mut config = TrainConfig::new(model, training);
                config.batch = batch;
                config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
                let name = format!("flows {}", config.model.describe());
                common.run(name, config, backend, train_flow)
            }
            FlowsAction::Eval {
                train,
                test,
                method,
                options,
                json,
            } => {
                let (training, testing) = (io::read_points(&train)?, io::read_points(&test)?);
                let settings = options.settings(seed)?;
                let device = crate::backend::compute_for(backend).device;
                let score = evaluate(method, &training, &testing, &settings, &device)?;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "flows", "method": method.name(),
                            "train": training.len(), "test": testing.len(),
                            "metrics": {
                                "nats": score.nats, "exact": score.exact,
                                "seconds": score.seconds,
                            },
                        })
                    );
                } else {
                    println!(
                        "{}: {:.4} nats ({}) on {} test points, fitted in {:.1} s",
                        method.label(),
                        score.nats,
                        if score.exact { "exact" } else { "a bound" },
                        testing.len(),
                        score.seconds
                    );
                }
                Ok(())
            }
        }
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        let settings = FitSettings::default();
        [Method::Flow, Method::Survae]
            .into_iter()
            .map(|method| {
                let config = TrainConfig::new(settings.flow(method), Vec::new());
                boxed(bench_step(&config, device))
            })
            .collect()
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        run_bench(args, globals, run_acceptance, Report::table)
    }
}

/// How `fit` and `eval` fit a method.
#[derive(clap::Args, Debug)]
pub struct FitOptions {
    /// The mixture's components (default 8).
    #[arg(long)]
    components: Option<usize>,
    /// A flow's training steps (default 30,000; SurVAE's 2-D runs: 10,000).
    #[arg(long)]
    steps: Option<u64>,
    /// Stop a flow's training after this many seconds (the best so far is kept).
    #[arg(long, value_name = "S")]
    budget_s: Option<f64>,
    /// A flow's affine couplings (default 8; SurVAE's 2-D runs: 4).
    #[arg(long)]
    couplings: Option<usize>,
    /// The hidden widths of each coupling's MLP (default 200,100, SurVAE's).
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
}

impl FitOptions {
    fn settings(&self, seed: u64) -> anyhow::Result<FitSettings> {
        let mut settings = FitSettings {
            seed,
            budget_secs: self.budget_s,
            ..FitSettings::default()
        };
        settings.components = self.components.unwrap_or(settings.components);
        settings.steps = self.steps.unwrap_or(settings.steps);
        settings.couplings = self.couplings.unwrap_or(settings.couplings);
        if let Some(hidden) = &self.hidden {
            settings.hidden.clone_from(hidden);
        }
        settings.validate().map_err(anyhow::Error::msg)?;
        Ok(settings)
    }
}

#[derive(Subcommand, Debug)]
pub enum FlowsAction {
    /// Draw points from a data set (CSV `x,y` with a header; --seed picks the draw).
    Sample {
        #[arg(long, value_enum)]
        dataset: Dataset,
        #[arg(long)]
        n: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Fit a method on a CSV of points and save it as a model file.
    Fit {
        #[arg(long)]
        train: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        options: FitOptions,
    },
    /// Write log p(x) (exact, or a bound) of every point under a model file, as CSV
    /// `x,y,log_p,exact`.
    Density {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        points: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Also print one JSON object: the mean log p in `metrics.nats`, `metrics.exact`.
        #[arg(long)]
        json: bool,
    },
    /// Fit a flow stack of your own, followed on the terminal; the best model saved at --out.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        /// Train on points of this data set (drawn from the seed's training stream).
        #[arg(long, value_enum, conflicts_with = "points")]
        dataset: Option<Dataset>,
        /// Or on a CSV of points.
        #[arg(long)]
        points: Option<PathBuf>,
        /// Points drawn with --dataset.
        #[arg(long, default_value_t = 10_000)]
        n: usize,
        /// The layers from the data towards the base, e.g. abs,coupling,swap,coupling
        /// (coupling, swap, abs, sort, vae); default: --couplings couplings with swaps between.
        #[arg(long)]
        stack: Option<String>,
        #[arg(long, default_value_t = 8)]
        couplings: usize,
        /// Hidden widths of each coupling's (and VAE layer's) MLPs.
        #[arg(long, value_delimiter = ',', default_value = "200,100")]
        hidden: Vec<usize>,
        #[arg(long, default_value_t = 30_000)]
        steps: u64,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        #[arg(long)]
        lr: Option<f64>,
        /// Start from this flow model file (its stack is kept).
        #[arg(long)]
        init: Option<PathBuf>,
    },
    /// Fit a method on one CSV of points and print its mean log-likelihood on another.
    Eval {
        #[arg(long)]
        train: PathBuf,
        #[arg(long)]
        test: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        #[command(flatten)]
        options: FitOptions,
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::super::NAME;
    use super::*;
    use crate::demos::cli::run_args;

    #[test]
    fn fit_then_density_writes_every_points_log_p_with_its_exactness() {
        let dir = tempfile::tempdir().expect("dir");
        let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
        io::write_points(
            std::path::Path::new(&path("pts.csv")),
            &Dataset::Moons.sample(300, 4),
        )
        .expect("written");
        for (method, exact) in [("gmm", 1.0), ("vae", 0.0)] {
            let model = path(&format!("{method}.mpk"));
            let fit = [
                "fit",
                "--train",
                &path("pts.csv"),
                "--method",
                method,
                "--out",
                &model,
                "--steps",
                "20",
                "--couplings",
                "2",
                "--hidden",
                "8",
            ];
            run_args(NAME, &fit).expect("fitted");
            let out = path(&format!("{method}.csv"));
            let density = [
                "density",
                "--model",
                &model,
                "--points",
                &path("pts.csv"),
                "--out",
                &out,
            ];
            run_args(NAME, &density).expect("scored");
            let table = crate::csv_table::read_numeric_csv(
                std::path::Path::new(&out),
                &["x", "y", "log_p", "exact"],
            )
            .expect("a CSV");
            assert_eq!(table.rows.len(), 300);
            let flags = table.column("exact").expect("exact");
            assert!(flags.iter().all(|&f| f == exact), "{method}");
            assert!(
                table
                    .column("log_p")
                    .expect("log_p")
                    .iter()
                    .all(|v| v.is_finite())
            );
        }
        let e = run_args(
            NAME,
            &[
                "density",
                "--model",
                &path("pts.csv"),
                "--points",
                &path("pts.csv"),
                "--out",
                &path("x.csv"),
            ],
        )
        .expect_err("not a model file");
        assert!(format!("{e:#}").contains("pts.csv"), "{e:#}");
    }

    #[test]
    fn sample_then_eval_prints_a_likelihood_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let (train, test) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        let path = |p: &std::path::Path| p.to_str().expect("utf-8").to_owned();
        let sample = [
            "sample",
            "--dataset",
            "eightgaussians",
            "--n",
            "400",
            "--out",
        ];
        run_args(NAME, &[&sample[..], &[&path(&train)]].concat()).expect("sampled");
        assert_eq!(io::read_points(&train).expect("read").len(), 400);
        io::write_points(&test, &Dataset::Eightgaussians.sample(300, 9)).expect("written");
        let eval = |test: &std::path::Path| {
            run_args(
                NAME,
                &[
                    "eval",
                    "--train",
                    &path(&train),
                    "--test",
                    &path(test),
                    "--method",
                    "gmm",
                ],
            )
        };
        eval(&test).expect("evaluated");
        std::fs::write(&test, "x,y\n1,2\n").expect("write");
        let e = eval(&test).expect_err("one point");
        assert!(e.to_string().contains("at least two"), "{e}");
        let e = run_args(NAME, &["sample", "--dataset", "spiral", "--n", "3"])
            .expect_err("no such data set");
        assert!(e.to_string().contains("spiral"), "{e}");
    }
}
