//! `inference-lab tsp ...`: solve, train, eval, and `bench --demo tsp`, as docs/cli.md's
//! contract says. `--instance` takes a `.tsp` path or a shipped instance's name (`eil51`, `berlin52`,
//! `kroA100`).

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{evaluate, run_acceptance};
use super::methods::{AmDecoding, LearnedModel, Method, solve};
use super::model::{AmConfig, KIND, load_or_shipped};
use super::sim::{self, tour_text};
use super::train::{TrainConfig, bench_step, train};
use crate::demos::DemoMethod;
use crate::demos::cli::{BenchArgs, DemoCli, Globals, TrainArgs, print_bench, print_report};
use crate::stored_model::load;
use crate::training::step::{TrainingStep, boxed};

pub struct TspCli;

impl DemoCli for TspCli {
    type Action = TspAction;

    const ABOUT: &'static str = "Travelling-salesman tours";

    fn run(&self, action: TspAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            TspAction::Solve {
                instance,
                method,
                model,
                out,
                samples,
                json,
            } => {
                let started = Instant::now();
                let instance = sim::load(&instance)?;
                if samples > 10_000 {
                    anyhow::bail!("--samples {samples}: at most 10000");
                }
                // The classical methods never touch burn (no GPU probe).
                let device = if method.is_learned() {
                    crate::backend::compute_for(backend).device
                } else {
                    Device::flex()
                };
                let learned = learned_for(method, model.as_deref(), instance.len(), &device)?;
                let decoding = AmDecoding {
                    samples,
                    seed,
                    ..AmDecoding::multi_start(instance.len())
                };
                let solution = solve(method, &instance, learned.as_ref(), decoding, &device)
                    .map_err(anyhow::Error::msg)?;
                let comment = format!(
                    "inference-lab tsp solve --method {}: length {}",
                    method.name(),
                    solution.length
                );
                crate::files::write_atomic(
                    &out,
                    tour_text(&instance, &solution.tour, &comment).as_bytes(),
                )?;
                let seconds = started.elapsed().as_secs_f64();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "tsp", "method": method.name(), "instance": instance.name,
                            "n": instance.len(),
                            "metrics": { "length": solution.length, "seconds": seconds }
                        })
                    );
                } else {
                    eprintln!(
                        "{} on {} ({} cities): length {} in {seconds:.3} s",
                        method.label(),
                        instance.name,
                        instance.len(),
                        solution.length
                    );
                }
                Ok(())
            }
            TspAction::Train {
                common,
                n,
                steps,
                batch,
                lr,
                dim,
                layers,
                val,
                init,
            } => {
                let mut model = AmConfig::default();
                if let Some(d) = dim {
                    model.dim = d;
                }
                if let Some(l) = layers {
                    model.layers = l;
                }
                if let Some(path) = &init {
                    model = load::<LearnedModel>(path, KIND, &Device::flex())?.config;
                }
                let mut config = TrainConfig::new(n);
                config.model = model;
                config.batch = batch;
                config.val_instances = val;
                config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
                common.run(format!("tsp am (n {n})"), config, backend, train)
            }
            TspAction::Eval {
                n,
                instances,
                model,
                json,
            } => {
                if !(3..=1000).contains(&n) || !(1..=100_000).contains(&instances) {
                    anyhow::bail!("--n must be in 3..=1000 and --instances in 1..=100000");
                }
                let compute = crate::backend::compute_for(backend);
                let learned = load_or_shipped(model.as_deref(), n, &compute.device)?;
                let report = evaluate(&learned, n, instances, seed, &compute.device)?;
                print_report(&report, report.table(), json)
            }
        }
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        let compute = crate::backend::compute_for(globals.backend);
        let report = run_acceptance(args.quick, globals.seed, &compute.device)?;
        print_bench(&report, report.table(), args)
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        Ok(vec![boxed(bench_step(
            "tsp am (n 20)",
            &TrainConfig::new(20),
            device,
        ))?])
    }
}

#[derive(Subcommand, Debug)]
pub enum TspAction {
    /// Solve a TSPLIB instance; write a TSPLIB tour.
    Solve {
        /// A `.tsp` file, or a shipped instance's name.
        #[arg(long)]
        instance: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        /// am, am+2opt: a model file (default: the shipped model nearest in n).
        #[arg(long)]
        model: Option<PathBuf>,
        /// The tour: 1-based city ids, each once, then -1.
        #[arg(long)]
        out: PathBuf,
        /// am, am+2opt: the best of this many sampled rollouts per start city and symmetry
        /// instead of greedy decoding.
        #[arg(long, default_value_t = 0)]
        samples: usize,
        /// Print one JSON object (`metrics.length` in the instance's units, `metrics.seconds`).
        #[arg(long)]
        json: bool,
    },
    /// Train the attention model (REINFORCE, POMO's shared baseline); saves the best model
    /// atomically whenever validation improves and at the end.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        /// Cities per training instance.
        #[arg(long, default_value_t = 20)]
        n: usize,
        /// Optimizer steps at most.
        #[arg(long, default_value_t = 10_000)]
        steps: u64,
        /// Instances per step.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        #[arg(long)]
        lr: Option<f64>,
        /// Embedding size (default 128).
        #[arg(long)]
        dim: Option<usize>,
        /// Encoder layers (default 3).
        #[arg(long)]
        layers: Option<usize>,
        /// Validation instances.
        #[arg(long, default_value_t = 200)]
        val: usize,
        /// Start from this model (same size).
        #[arg(long)]
        init: Option<PathBuf>,
    },
    /// Every method on held-out random instances of n cities.
    Eval {
        #[arg(long, default_value_t = 20)]
        n: usize,
        #[arg(long, default_value_t = 100)]
        instances: usize,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn learned_for(
    method: Method,
    model: Option<&std::path::Path>,
    n: usize,
    device: &Device,
) -> anyhow::Result<Option<LearnedModel>> {
    if method.is_learned() {
        Ok(Some(load_or_shipped(model, n, device)?))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::NAME;
    use crate::demos::cli::run_args;

    #[test]
    fn classical_methods_solve_files_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("t.tour");
        let out_s = out.to_str().expect("utf8");
        for method in ["nn", "insertion", "2opt"] {
            run_args(
                NAME,
                &[
                    "solve",
                    "--instance",
                    "eil51",
                    "--method",
                    method,
                    "--out",
                    out_s,
                ],
            )
            .expect(method);
            let tour = crate::demos::tsp::sim::parse_tour(
                &std::fs::read_to_string(&out).expect("tour"),
                51,
                "t.tour",
            )
            .expect("valid tour");
            assert_eq!(tour.len(), 51);
        }
        let err = run_args(
            NAME,
            &[
                "solve",
                "--instance",
                "eil51",
                "--method",
                "exact",
                "--out",
                out_s,
            ],
        )
        .expect_err("too big");
        assert!(err.to_string().contains("at most"), "{err}");
        let bad = dir.path().join("bad.tsp");
        std::fs::write(
            &bad,
            "NAME: b\nDIMENSION: 3\nNODE_COORD_SECTION\n1 0 0\n2 x 1\n3 1 1\n",
        )
        .expect("write");
        let err = run_args(
            NAME,
            &[
                "solve",
                "--instance",
                bad.to_str().expect("utf8"),
                "--method",
                "nn",
                "--out",
                out_s,
            ],
        )
        .expect_err("malformed");
        assert!(format!("{err:#}").contains("line 5"), "{err:#}");
    }
}
