//! `inference-lab lorenz ...`: simulate, infer, train, eval, and `bench --demo lorenz` (the
//! training-set sweep), as docs/cli.md's contract says.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{evaluate_all, run_sweep, sweep_sizes, table};
use super::methods::{ClassicalSettings, Method, mse, read_series};
use super::model::{ChainKind, ChainModelConfig};
use super::sim::{SimConfig, simulate};
use super::train::{DEFAULT_TRAIN_SAMPLES, TrainConfig, bench_step, train};
use crate::demos::DemoMethod;
use crate::demos::cli::{
    BenchArgs, DemoCli, EvalArgs, Globals, TrainArgs, print_bench, print_report,
};
use crate::terminal::wait_with_progress;
use crate::training::step::{TrainingStep, boxed};

/// The Lorenz demo's command line.
pub struct LorenzCli;

impl DemoCli for LorenzCli {
    type Action = LorenzAction;

    const ABOUT: &'static str = "Lorenz-attractor filtering";

    fn run(&self, action: LorenzAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            LorenzAction::Simulate {
                steps,
                out,
                out_obs,
                noise,
                dt,
            } => {
                let config = SimConfig {
                    steps,
                    sample_dt: dt,
                    obs_std: noise,
                    seed,
                    ..SimConfig::default()
                };
                let trajectory =
                    simulate(&config).map_err(|e| anyhow::anyhow!("lorenz simulate: {e}"))?;
                let rows = |values: &[[f64; 3]]| -> Vec<Vec<f64>> {
                    trajectory
                        .t
                        .iter()
                        .zip(values)
                        .map(|(t, v)| vec![*t, v[0], v[1], v[2]])
                        .collect()
                };
                crate::csv_table::write_csv(
                    &out,
                    &["t", "x1", "x2", "x3"],
                    &rows(&trajectory.states),
                )?;
                if let Some(obs) = out_obs {
                    crate::csv_table::write_csv(
                        &obs,
                        &["t", "y1", "y2", "y3"],
                        &rows(&trajectory.observations),
                    )?;
                }
                Ok(())
            }
            LorenzAction::Infer {
                input,
                method,
                model,
                out,
                json,
                truth,
                taylor_order,
                process_std,
                obs_std,
            } => {
                let (t, observations) = read_series(&input, ["y1", "y2", "y3"])?;
                let started = Instant::now();
                let settings = ClassicalSettings {
                    taylor_order,
                    process_std,
                    obs_std,
                };
                let device = burn::tensor::Device::flex();
                let chain = method.model(model.as_deref(), &device)?;
                let estimates =
                    method.estimate(&t, &observations, &settings, chain.as_ref(), &device)?;
                let seconds = started.elapsed().as_secs_f64();
                let rows: Vec<Vec<f64>> = t
                    .iter()
                    .zip(&estimates)
                    .map(|(t, x)| vec![*t, x[0], x[1], x[2]])
                    .collect();
                crate::csv_table::write_csv(&out, &["t", "x1", "x2", "x3"], &rows)?;
                if json {
                    let mut metrics = serde_json::json!({ "seconds": seconds });
                    if let Some(truth) = truth {
                        let (truth_t, states) = read_series(&truth, ["x1", "x2", "x3"])?;
                        if truth_t.len() != t.len() {
                            bail!(
                                "{}: {} rows, but {} has {}",
                                truth.display(),
                                truth_t.len(),
                                input.display(),
                                t.len()
                            );
                        }
                        metrics["mse"] = serde_json::json!(mse(&estimates, &states));
                    }
                    println!(
                        "{}",
                        serde_json::json!({ "demo": "lorenz", "method": method.name(), "metrics": metrics })
                    );
                }
                Ok(())
            }
            LorenzAction::Train {
                common,
                kind,
                train_samples,
                steps,
            } => {
                let mut config = TrainConfig::new(kind.config(), train_samples);
                config.schedule = common.schedule(config.schedule, steps, None, None, seed);
                let name = format!("lorenz {}", kind.name());
                common.run(name, config, backend, train)
            }
            LorenzAction::Eval(EvalArgs { model, json }) => {
                let report = evaluate_all(model.as_deref())?;
                print_report(&report, report.table(), json)
            }
        }
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        let quick = args.quick;
        let compute = crate::backend::compute_for(globals.backend);
        let (device, label) = (compute.device.clone(), compute.label.clone());
        let handle = crate::jobs::spawn(
            "lorenz sweep",
            || {},
            move |ctx| run_sweep(ctx, &sweep_sizes(quick), quick, &device, &label),
        )?;
        let sweep = wait_with_progress(handle)?;
        print_bench(&sweep, table(&sweep), args)
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        let config = |model| TrainConfig::new(model, DEFAULT_TRAIN_SAMPLES);
        Ok(vec![
            boxed(bench_step(
                "lorenz gnn",
                &config(ChainModelConfig::gnn_only()),
                device,
            ))?,
            boxed(bench_step(
                "lorenz hybrid",
                &config(ChainModelConfig::hybrid()),
                device,
            ))?,
        ])
    }
}

#[derive(Subcommand, Debug)]
pub enum LorenzAction {
    /// Simulate a trajectory: states (t,x1,x2,x3) and, with --out-obs, observations (t,y1,y2,y3).
    Simulate {
        #[arg(long, value_name = "T")]
        steps: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        out_obs: Option<PathBuf>,
        /// Observation noise standard deviation.
        #[arg(long, default_value_t = 0.5)]
        noise: f64,
        /// Sampling interval.
        #[arg(long, default_value_t = 0.05)]
        dt: f64,
    },
    /// Estimate the states (t,x1,x2,x3) from observations (t,y1,y2,y3).
    Infer {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Print one JSON object: seconds, and the MSE when --truth is given.
        #[arg(long)]
        json: bool,
        /// True states (t,x1,x2,x3), used only to score the estimate afterwards.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// ekf/eks: order J of the Taylor model of the dynamics.
        #[arg(long, default_value_t = 3)]
        taylor_order: usize,
        /// ekf/eks: process noise std q (Q = q² Δt I), tuned on validation data.
        #[arg(long, default_value_t = 3.0)]
        process_std: f64,
        /// Observation noise std r (R = r² I).
        #[arg(long, default_value_t = 0.5)]
        obs_std: f64,
    },
    /// Train the GNN-only or the hybrid model; saves it (with its config) atomically.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        #[arg(long, value_enum, default_value_t = ChainKind::Hybrid)]
        kind: ChainKind,
        /// Time steps of simulated training data.
        #[arg(long, default_value_t = DEFAULT_TRAIN_SAMPLES)]
        train_samples: usize,
        /// Optimizer steps at most.
        #[arg(long, default_value_t = 2000)]
        steps: u64,
    },
    Eval(EvalArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendRequest;

    #[test]
    fn simulate_writes_states_and_observations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("traj.csv");
        let obs = dir.path().join("obs.csv");
        LorenzCli
            .run(
                LorenzAction::Simulate {
                    steps: 50,
                    out: out.clone(),
                    out_obs: Some(obs.clone()),
                    noise: 0.5,
                    dt: 0.05,
                },
                Globals {
                    backend: BackendRequest::Cpu,
                    seed: 1,
                },
            )
            .expect("simulate");
        let states =
            crate::csv_table::read_numeric_csv(&out, &["t", "x1", "x2", "x3"]).expect("states");
        let observations =
            crate::csv_table::read_numeric_csv(&obs, &["t", "y1", "y2", "y3"]).expect("obs");
        assert_eq!(states.rows.len(), 50);
        assert_eq!(observations.rows.len(), 50);
    }

    #[test]
    fn every_method_answers_on_one_two_and_three_time_steps() {
        let dir = tempfile::tempdir().expect("tempdir");
        for rows in 1..=3 {
            let input = dir.path().join(format!("obs{rows}.csv"));
            let mut csv = "t,y1,y2,y3\n".to_owned();
            for t in 0..rows {
                csv.push_str(&format!("{},1.5,-2.0,20.0\n", t as f64 * 0.05));
            }
            std::fs::write(&input, csv).expect("write");
            for method in ["ekf", "eks", "uks", "gnn", "hybrid"] {
                use crate::demos::cli::DemoCommand;
                let out = dir.path().join(format!("est-{method}-{rows}.csv"));
                let matches = LorenzCli
                    .command("lorenz")
                    .try_get_matches_from([
                        "lorenz",
                        "infer",
                        "--input",
                        &input.display().to_string(),
                        "--method",
                        method,
                        "--out",
                        &out.display().to_string(),
                    ])
                    .expect("parses");
                let globals = Globals {
                    backend: BackendRequest::Cpu,
                    seed: 0,
                };
                LorenzCli
                    .run_matches(&matches, globals)
                    .unwrap_or_else(|e| panic!("{method}, {rows} rows: {e:#}"));
                let estimates = crate::csv_table::read_numeric_csv(&out, &["t", "x1", "x2", "x3"])
                    .expect("csv");
                assert_eq!(estimates.rows.len(), rows, "{method}");
                assert!(
                    estimates.rows.iter().flatten().all(|v| v.is_finite()),
                    "{method}"
                );
            }
        }
    }
}
