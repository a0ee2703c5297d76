//! `inference-lab flows ...`: sample and eval, and `bench --demo flows`, as docs/flows.md says
//! (fit, density and train are still to come).

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{Report, run_acceptance};
use super::io;
use super::methods::{FitSettings, Method, evaluate};
use super::sim::Dataset;
use super::train::{TrainConfig, bench_step};
use crate::demos::DemoMethod;
use crate::demos::cli::{BenchArgs, DemoCli, Globals, run_bench};
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
            FlowsAction::Eval {
                train,
                test,
                method,
                components,
                steps,
                budget_s,
                json,
            } => {
                let (training, testing) = (io::read_points(&train)?, io::read_points(&test)?);
                let mut settings = FitSettings {
                    seed,
                    budget_secs: budget_s,
                    ..FitSettings::default()
                };
                settings.components = components.unwrap_or(settings.components);
                settings.steps = steps.unwrap_or(settings.steps);
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
    /// Fit a method on one CSV of points and print its mean log-likelihood on another.
    Eval {
        #[arg(long)]
        train: PathBuf,
        #[arg(long)]
        test: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        /// The mixture's components (default 8).
        #[arg(long)]
        components: Option<usize>,
        /// A flow's training steps (default 10,000, SurVAE's).
        #[arg(long)]
        steps: Option<u64>,
        /// Stop a flow's training after this many seconds (the best so far is kept).
        #[arg(long, value_name = "S")]
        budget_s: Option<f64>,
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::cli::run_args;

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
        run_args(
            &FlowsCli,
            "flows",
            &[&sample[..], &[&path(&train)]].concat(),
        )
        .expect("sampled");
        assert_eq!(io::read_points(&train).expect("read").len(), 400);
        io::write_points(&test, &Dataset::Eightgaussians.sample(300, 9)).expect("written");
        let eval = |test: &std::path::Path| {
            run_args(
                &FlowsCli,
                "flows",
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
        let e = run_args(
            &FlowsCli,
            "flows",
            &["sample", "--dataset", "spiral", "--n", "3"],
        )
        .expect_err("no such data set");
        assert!(e.to_string().contains("spiral"), "{e}");
    }
}
