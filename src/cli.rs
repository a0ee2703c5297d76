//! The command line (design.md's contract). No subcommand opens the window; each demo has its
//! actions; errors go to stderr with a non-zero exit code and name the file, line and field.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::backend::BackendRequest;
use crate::jobs::{JobError, JobHandle};

#[derive(Parser, Debug)]
#[command(
    name = "inference-lab",
    version,
    about = "Classical, amortized and hybrid inference, side by side"
)]
pub struct Cli {
    /// Open the window on one panel: lorenz, mri, ldpc, tsp, causal.
    #[arg(long, value_name = "NAME")]
    pub demo: Option<String>,
    /// Where burn computes: wgpu on a hardware GPU (auto), wgpu even on a software adapter (gpu), or the CPU.
    #[arg(long, value_enum, default_value_t = BackendRequest::Auto, global = true)]
    pub backend: BackendRequest,
    /// Seed of every random draw (data, initialization, masks).
    #[arg(long, default_value_t = 0, global = true)]
    pub seed: u64,
    /// How the window draws: wgpu on a hardware GPU and glow otherwise (auto), or forced.
    #[arg(long, value_enum, default_value_t = RendererRequest::Auto)]
    pub renderer: RendererRequest,
    /// Open the window, run a training job, record N frames, print start-up and frame times as JSON, exit.
    #[arg(long, value_name = "N")]
    pub bench_frames: Option<usize>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RendererRequest {
    Auto,
    Wgpu,
    Glow,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lorenz-attractor filtering.
    Lorenz {
        #[command(subcommand)]
        action: LorenzAction,
    },
    /// MRI reconstruction.
    Mri {
        #[command(subcommand)]
        action: MriAction,
    },
    /// LDPC decoding on a factor graph.
    Ldpc {
        #[command(subcommand)]
        action: LdpcAction,
    },
    /// Travelling-salesman tours.
    Tsp {
        #[command(subcommand)]
        action: TspAction,
    },
    /// Causal graphs of interacting particles.
    Causal {
        #[command(subcommand)]
        action: CausalAction,
    },
    /// The comparison tables; without --demo, the compute device's speed.
    Bench {
        #[arg(long, value_name = "NAME")]
        demo: Option<String>,
        /// Smaller problems, for a quick look.
        #[arg(long)]
        quick: bool,
        /// Also save the results as JSON here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// mri: held-out grayscale PNG images to measure (default: generated test phantoms).
        #[arg(long, value_name = "DIR")]
        images: Option<PathBuf>,
    },
}

/// Options every `DEMO train` takes.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Where to save the trained model (written atomically).
    #[arg(long, default_value = "model.mpk")]
    pub out: PathBuf,
    /// Stop training after this many seconds.
    #[arg(long, value_name = "S")]
    pub budget_s: Option<f64>,
}

/// Options every `DEMO eval` takes.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The model to evaluate (default: the shipped one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LorenzModelKind {
    Gnn,
    Hybrid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LorenzMethod {
    Ekf,
    Eks,
    /// Unscented RTS smoother (an addition to design.md's list).
    Uks,
    Gnn,
    Hybrid,
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
        method: LorenzMethod,
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
        #[arg(long, value_enum, default_value_t = LorenzModelKind::Hybrid)]
        kind: LorenzModelKind,
        /// Time steps of simulated training data.
        #[arg(long, default_value_t = 2000)]
        train_samples: usize,
        /// Optimizer steps at most.
        #[arg(long, default_value_t = 2000)]
        steps: u64,
    },
    Eval(EvalArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MaskKind {
    Cartesian,
    Radial,
    Uv,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MriMethod {
    Zf,
    Tv,
    Unet,
    Rim,
}

#[derive(Subcommand, Debug)]
pub enum MriAction {
    /// Measure an image: k-space (.npy) and mask (.png).
    Simulate {
        #[arg(long)]
        image: PathBuf,
        #[arg(long)]
        accel: u32,
        #[arg(long, value_enum, default_value_t = MaskKind::Cartesian)]
        mask: MaskKind,
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
        method: MriMethod,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        truth: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Train the RIM or the U-Net on random phantoms; saves it (with its config) atomically.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        #[arg(long, value_enum, default_value_t = MriModelKind::Rim)]
        kind: MriModelKind,
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
    },
    Eval(EvalArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MriModelKind {
    Rim,
    Unet,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LdpcMethod {
    Bp,
    Minsum,
    Nbp,
    Nebp,
}

#[derive(Subcommand, Debug)]
pub enum LdpcAction {
    /// Decode LLR frames (one a line, positive = bit 0) into codewords.
    Decode {
        #[arg(long)]
        code: PathBuf,
        #[arg(long)]
        llr: PathBuf,
        #[arg(long, value_enum)]
        method: LdpcMethod,
        #[arg(long)]
        iters: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Bit and frame error rates over SNRs.
    Ber {
        #[arg(long)]
        code: PathBuf,
        #[arg(long, value_delimiter = ',')]
        snr_db: Vec<f64>,
        #[arg(long)]
        frames: usize,
        #[arg(long, value_enum)]
        method: LdpcMethod,
        #[arg(long)]
        json: bool,
    },
    Train(TrainArgs),
    Eval(EvalArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TspMethod {
    Nn,
    Insertion,
    #[value(name = "2opt")]
    TwoOpt,
    Exact,
    Am,
    #[value(name = "am+2opt")]
    AmTwoOpt,
}

#[derive(Subcommand, Debug)]
pub enum TspAction {
    /// Solve a TSPLIB instance; write a TSPLIB tour.
    Solve {
        #[arg(long)]
        instance: PathBuf,
        #[arg(long, value_enum)]
        method: TspMethod,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    Train(TrainArgs),
    Eval(EvalArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CausalMethod {
    Granger,
    Acd,
    #[value(name = "acd+tta")]
    AcdTta,
}

#[derive(Subcommand, Debug)]
pub enum CausalAction {
    /// Simulate interacting particles (long CSV: sample,t,node,x,y,vx,vy).
    Simulate {
        #[arg(long)]
        samples: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Infer edge probabilities (sample,source,target,probability).
    Infer {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum)]
        method: CausalMethod,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    Train(TrainArgs),
    Eval(EvalArgs),
}

fn not_built(what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`{what}` is not built yet: this demo's panel and command line come with its own issue"
    )
}

/// Runs a command-line action. `Ok(())` is exit code 0.
pub fn run(command: Command, backend: BackendRequest, seed: u64) -> anyhow::Result<()> {
    match command {
        Command::Lorenz { action } => run_lorenz(action, backend, seed),
        Command::Mri { action } => crate::demos::mri::cli::run(action, backend, seed),
        Command::Ldpc { .. } => Err(not_built("ldpc")),
        Command::Tsp { .. } => Err(not_built("tsp")),
        Command::Causal { .. } => Err(not_built("causal")),
        Command::Bench {
            demo: Some(demo),
            quick,
            out,
            images,
        } if demo == "mri" => {
            crate::demos::mri::bench::bench_cli(quick, out.as_deref(), images.as_deref(), backend)
        }
        Command::Bench {
            demo: Some(demo),
            quick,
            out,
            ..
        } if demo == "lorenz" => {
            use crate::demos::lorenz::bench::{run_sweep, sweep_sizes, table};
            let compute =
                crate::backend::choose_compute(backend, &crate::backend::probe_adapters());
            let (device, label) = (compute.device.clone(), compute.label.clone());
            let handle = crate::jobs::spawn(
                "lorenz sweep",
                || {},
                move |ctx| run_sweep(ctx, &sweep_sizes(quick), quick, &device, &label),
            )?;
            let sweep = wait_with_progress(handle)?;
            print!("{}", table(&sweep));
            if let Some(path) = out {
                crate::files::write_atomic(
                    &path,
                    serde_json::to_string_pretty(&sweep)?.as_bytes(),
                )?;
            }
            Ok(())
        }
        Command::Bench {
            demo: Some(demo), ..
        } => {
            if crate::demos::names().contains(&demo.as_str()) {
                Err(not_built(&format!("bench --demo {demo}")))
            } else {
                bail!(
                    "unknown demo `{demo}` (known: {})",
                    crate::demos::names().join(", ")
                )
            }
        }
        Command::Bench {
            demo: None, quick, ..
        } => crate::device_bench::run(backend, quick),
    }
}

fn run_lorenz(action: LorenzAction, backend: BackendRequest, seed: u64) -> anyhow::Result<()> {
    use crate::demos::lorenz::sim::{SimConfig, simulate};
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
            crate::csv_table::write_csv(&out, &["t", "x1", "x2", "x3"], &rows(&trajectory.states))?;
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
            use crate::demos::lorenz::infer::{
                ClassicalMethod, ClassicalSettings, read_series, run_classical,
            };
            let (t, observations) = read_series(&input, ["y1", "y2", "y3"])?;
            let started = Instant::now();
            let settings = ClassicalSettings {
                taylor_order,
                process_std,
                obs_std,
            };
            let estimates = match method {
                LorenzMethod::Ekf => {
                    run_classical(ClassicalMethod::Ekf, &t, &observations, &settings)?
                }
                LorenzMethod::Eks => {
                    run_classical(ClassicalMethod::Eks, &t, &observations, &settings)?
                }
                LorenzMethod::Uks => {
                    run_classical(ClassicalMethod::Uks, &t, &observations, &settings)?
                }
                LorenzMethod::Gnn | LorenzMethod::Hybrid => {
                    let kind = if method == LorenzMethod::Gnn {
                        "gnn"
                    } else {
                        "hybrid"
                    };
                    let device = burn::tensor::Device::flex();
                    let chain = match model {
                        Some(path) => crate::demos::lorenz::model_io::load(&path, kind, &device)?,
                        None => crate::demos::lorenz::model_io::shipped(kind, &device)?,
                    };
                    chain
                        .infer(&observations, &device)
                        .pop()
                        .unwrap_or_default()
                }
            };
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
                    metrics["mse"] =
                        serde_json::json!(crate::demos::lorenz::infer::mse(&estimates, &states));
                }
                println!(
                    "{}",
                    serde_json::json!({ "demo": "lorenz", "method": format!("{method:?}").to_lowercase(), "metrics": metrics })
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
            use crate::demos::lorenz::model::ChainModelConfig;
            use crate::demos::lorenz::train::{TrainConfig, train};
            let model = match kind {
                LorenzModelKind::Gnn => ChainModelConfig::gnn_only(),
                LorenzModelKind::Hybrid => ChainModelConfig::hybrid(),
            };
            let mut config = TrainConfig::new(model, train_samples);
            config.max_steps = steps;
            config.budget_secs = common.budget_s;
            config.seed = seed;
            config.validate().map_err(anyhow::Error::msg)?;
            let compute =
                crate::backend::choose_compute(backend, &crate::backend::probe_adapters());
            let device = compute.device.clone();
            let job_config = config.clone();
            let handle = crate::jobs::spawn(
                format!("lorenz {}", config.model.kind()),
                || {},
                move |ctx| train(ctx, &job_config, &device),
            )?;
            let trained = wait_with_progress(handle)?;
            crate::demos::lorenz::model_io::save(&common.out, &trained, &config)?;
            eprintln!(
                "saved {} ({} steps in {:.0} s on {}, validation MSE {:.4})",
                common.out.display(),
                trained.steps,
                trained.seconds,
                compute.label,
                trained.val_mse
            );
            Ok(())
        }
        LorenzAction::Eval(EvalArgs { model, json }) => {
            let report = crate::demos::lorenz::bench::evaluate_all(model.as_deref())?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for m in &report.methods {
                    println!(
                        "{:<8} MSE {:.4}   {:.3} s",
                        m.method, m.metrics.mse, m.metrics.seconds
                    );
                }
            }
            Ok(())
        }
    }
}

/// Waits for a job while drawing a terminal progress bar (on stderr) from its shared state.
pub fn wait_with_progress<T>(mut handle: JobHandle<T>) -> anyhow::Result<T> {
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:40}] {percent:>3}% {msg} (ETA {eta})",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    bar.set_prefix(handle.shared().name.clone());
    let started = Instant::now();
    let result = loop {
        if let Some(result) = handle.try_take() {
            break result;
        }
        let progress = handle.shared().with_state(|s| s.progress.clone());
        bar.set_position((progress.fraction * 1000.0) as u64);
        let mut msg = progress.message.clone();
        if let Some(loss) = progress.loss {
            msg.push_str(&format!(" loss {loss:.4}"));
        }
        bar.set_message(msg);
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    bar.finish_and_clear();
    log::info!(
        "{} finished in {:.1} s",
        handle.shared().name,
        started.elapsed().as_secs_f64()
    );
    result.map_err(|e| match e {
        JobError::Cancelled => anyhow::anyhow!("cancelled"),
        JobError::Failed(msg) => anyhow::anyhow!(msg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_contract_parses() {
        Cli::command().debug_assert();
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&["inference-lab"]).is_ok());
        assert!(parse(&["inference-lab", "--demo", "lorenz", "--backend", "cpu"]).is_ok());
        assert!(
            parse(&[
                "inference-lab",
                "--seed",
                "3",
                "lorenz",
                "simulate",
                "--steps",
                "10",
                "--out",
                "a.csv"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "lorenz",
                "infer",
                "--input",
                "o.csv",
                "--method",
                "hybrid",
                "--out",
                "e.csv",
                "--json"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "mri",
                "reconstruct",
                "--kspace",
                "y.npy",
                "--mask",
                "m.png",
                "--method",
                "rim",
                "--out",
                "r.png"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "ldpc",
                "ber",
                "--code",
                "H.alist",
                "--snr-db",
                "1,2,3",
                "--frames",
                "10",
                "--method",
                "nebp",
                "--json"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "tsp",
                "solve",
                "--instance",
                "a.tsp",
                "--method",
                "am+2opt",
                "--out",
                "a.tour"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "causal",
                "infer",
                "--input",
                "s.csv",
                "--method",
                "acd+tta",
                "--out",
                "e.csv"
            ])
            .is_ok()
        );
        assert!(parse(&["inference-lab", "bench", "--demo", "lorenz", "--quick"]).is_ok());
        assert!(
            parse(&[
                "inference-lab",
                "lorenz",
                "train",
                "--out",
                "m.mpk",
                "--budget-s",
                "60"
            ])
            .is_ok()
        );
        assert!(parse(&["inference-lab", "--backend", "tpu"]).is_err());
        assert!(parse(&["inference-lab", "lorenz", "infer", "--method", "magic"]).is_err());
    }

    #[test]
    fn unbuilt_actions_fail_plainly() {
        let err = run(
            Command::Tsp {
                action: TspAction::Eval(EvalArgs {
                    model: None,
                    json: true,
                }),
            },
            BackendRequest::Cpu,
            0,
        )
        .expect_err("not built");
        assert!(err.to_string().contains("not built yet"));
    }

    #[test]
    fn lorenz_simulate_writes_states_and_observations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("traj.csv");
        let obs = dir.path().join("obs.csv");
        run(
            Command::Lorenz {
                action: LorenzAction::Simulate {
                    steps: 50,
                    out: out.clone(),
                    out_obs: Some(obs.clone()),
                    noise: 0.5,
                    dt: 0.05,
                },
            },
            BackendRequest::Cpu,
            1,
        )
        .expect("simulate");
        let states =
            crate::csv_table::read_numeric_csv(&out, &["t", "x1", "x2", "x3"]).expect("states");
        let observations =
            crate::csv_table::read_numeric_csv(&obs, &["t", "y1", "y2", "y3"]).expect("obs");
        assert_eq!(states.rows.len(), 50);
        assert_eq!(observations.rows.len(), 50);
    }
}
