//! `inference-lab mimo ...`: simulate, detect, ser, and `bench --demo mimo`, as docs/cli.md's
//! contract says.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;

use super::bench::{Acceptance, SerPoint, evaluate, run_acceptance, ser_curve};
use super::io;
use super::methods::{Method, OAMP_ITERATIONS, detect};
use super::metrics::Tally;
use super::model::{MimoConfig, MimoModel, NetKind, shipped_for};
use super::sim::{Modulation, Setup, simulate};
use super::train::{TrainConfig, bench_step, train};
use crate::demos::DemoMethod;
use crate::demos::cli::{
    BenchArgs, DemoCli, EvalArgs, Globals, TrainArgs, print_report, run_bench,
};
use crate::stored_model::load;
use crate::training::step::{TrainingStep, boxed};
use burn::tensor::Device;

pub struct MimoCli;

/// The most vectors one command simulates or scores.
const MAX_VECTORS: usize = 10_000_000;

fn check_vectors(vectors: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_VECTORS).contains(&vectors),
        "--vectors {vectors}: must be in 1..={MAX_VECTORS}"
    );
    Ok(())
}

fn check_iterations(iters: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=100).contains(&iters),
        "--iters {iters}: must be in 1..=100"
    );
    Ok(())
}

/// The model a learned method runs: `--model F`, else the shipped one for this setup.
fn learned_model(
    method: Method,
    path: Option<&std::path::Path>,
    setup: &Setup,
    device: &Device,
) -> anyhow::Result<Option<MimoModel>> {
    let Some(kind) = method.net_kind() else {
        return Ok(None);
    };
    let model = match path {
        Some(path) => load(path, kind.file_kind(), device)?,
        None => shipped_for(
            kind,
            setup.users,
            setup.antennas,
            setup.modulation,
            setup.rho,
            device,
        )?,
    };
    Ok(Some(model))
}

impl DemoCli for MimoCli {
    type Action = MimoAction;

    const ABOUT: &'static str =
        "MIMO detection: MMSE, OAMP and the sphere decoder beside learned detectors";

    fn run(&self, action: MimoAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            MimoAction::Simulate {
                nt,
                nr,
                modulation,
                snr_db,
                rho,
                vectors,
                out_channel,
                out_received,
                out_symbols,
            } => {
                check_vectors(vectors)?;
                let setup = Setup {
                    users: nt,
                    antennas: nr,
                    modulation,
                    snr_db,
                    rho,
                };
                setup.validate().map_err(anyhow::Error::msg)?;
                let batch = simulate(&setup, vectors, seed);
                io::write_batch(&batch, &out_channel, &out_received, &out_symbols)?;
                eprintln!(
                    "{vectors} vectors of {nr}×{nt} {} at {snr_db} dB (ρ = {rho}) written",
                    modulation.name()
                );
                Ok(())
            }
            MimoAction::Detect {
                channel,
                received,
                snr_db,
                modulation,
                method,
                iters,
                model,
                symbols,
                out,
                json,
            } => {
                check_iterations(iters)?;
                let batch = io::read_problem(&channel, &received, modulation, snr_db)?;
                let sent = match &symbols {
                    Some(path) => Some(io::read_symbols(
                        path,
                        modulation,
                        batch.vectors.len(),
                        batch.setup.users,
                    )?),
                    None => None,
                };
                let device = crate::backend::compute_for(backend).device;
                let model = learned_model(method, model.as_deref(), &batch.setup, &device)?;
                let started = Instant::now();
                let run = detect(&batch, method, iters, model.as_ref(), &device)
                    .map_err(anyhow::Error::msg)?;
                let seconds = started.elapsed().as_secs_f64();
                io::write_symbols(&out, modulation, &run.decided)?;
                if run.uncertified > 0 {
                    eprintln!(
                        "warning: the sphere decoder ran out of its node budget on {} vectors; \
                         their answers are the best found, not certified ML",
                        run.uncertified
                    );
                }
                let mut metrics = serde_json::json!({ "seconds": seconds });
                if let Some(sent) = &sent {
                    let mut tally = Tally::new(modulation, batch.setup.users);
                    for (s, d) in sent.iter().zip(&run.decided) {
                        tally.add(modulation, s, d);
                    }
                    metrics["ser"] = tally.ser().into();
                    metrics["ber"] = tally.ber().into();
                }
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "mimo", "method": method.name(),
                            "vectors": batch.vectors.len(), "users": batch.setup.users,
                            "antennas": batch.setup.antennas, "metrics": metrics,
                        })
                    );
                } else {
                    eprintln!(
                        "{} on {} vectors: decisions written to {} in {seconds:.3} s",
                        method.label(),
                        batch.vectors.len(),
                        out.display()
                    );
                }
                Ok(())
            }
            MimoAction::Ser {
                nt,
                nr,
                modulation,
                snr_db,
                rho,
                vectors,
                method,
                iters,
                model,
                json,
            } => {
                check_vectors(vectors)?;
                check_iterations(iters)?;
                anyhow::ensure!(!snr_db.is_empty(), "--snr-db: give at least one SNR");
                let device = crate::backend::compute_for(backend).device;
                let mut points = Vec::new();
                for &snr in &snr_db {
                    let setup = Setup {
                        users: nt,
                        antennas: nr,
                        modulation,
                        snr_db: snr,
                        rho,
                    };
                    setup.validate().map_err(anyhow::Error::msg)?;
                    let model = learned_model(method, model.as_deref(), &setup, &device)?;
                    points.push(ser_curve(
                        &setup,
                        vectors,
                        method,
                        iters,
                        model.as_ref(),
                        seed,
                        &device,
                    )?);
                }
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "mimo", "method": method.name(), "users": nt, "antennas": nr,
                            "modulation": modulation.name(), "rho": rho, "vectors": vectors,
                            "points": points,
                            "metrics": {
                                "ser": points.iter().map(|p| p.ser).collect::<Vec<_>>(),
                                "ber": points.iter().map(|p| p.ber).collect::<Vec<_>>(),
                                "seconds": points.iter().map(|p| p.seconds).sum::<f64>(),
                            }
                        })
                    );
                } else {
                    print!("{}", SerPoint::table(method, &points));
                }
                Ok(())
            }
            MimoAction::Eval(EvalArgs { model, json }) => {
                let compute = crate::backend::compute_for(backend);
                let model = match &model {
                    Some(path) => Some(crate::stored_model::load_any::<MimoModel>(
                        path,
                        &compute.device,
                    )?),
                    None => None,
                };
                let started = Instant::now();
                let report = evaluate(model.as_ref(), &compute.device, &compute.label)?;
                // `metrics`: each method's SER and BER by setting, e.g. "64x32 16qam 16 dB".
                let mut ser = serde_json::Map::new();
                let mut ber = serde_json::Map::new();
                for panel in &report.panels {
                    for (method, points) in &panel.curves {
                        for point in points {
                            let setting = format!(
                                "{}x{} {}{} {} dB",
                                panel.antennas,
                                panel.users,
                                panel.modulation.name(),
                                if panel.rho > 0.0 {
                                    format!(" rho {}", panel.rho)
                                } else {
                                    String::new()
                                },
                                point.snr_db
                            );
                            for (map, value) in [(&mut ser, point.ser), (&mut ber, point.ber)] {
                                if let Some(by_setting) = map
                                    .entry(method.clone())
                                    .or_insert_with(|| serde_json::json!({}))
                                    .as_object_mut()
                                {
                                    by_setting.insert(setting.clone(), value.into());
                                }
                            }
                        }
                    }
                }
                let output = serde_json::json!({
                    "demo": "mimo",
                    "panels": report.panels,
                    "metrics": {
                        "ser": ser, "ber": ber,
                        "seconds": started.elapsed().as_secs_f64(),
                    }
                });
                print_report(&output, report.table(), json)
            }
            MimoAction::Train {
                common,
                net,
                hidden,
                nt,
                nr,
                modulation,
                rho,
                iters,
                steps,
                lr,
                batch,
                snr_low,
                snr_high,
                init,
            } => {
                let mut model = MimoConfig::new(net.kind(), nt, nr, modulation, rho);
                model.iterations = iters;
                if let Some(hidden) = hidden {
                    model.hidden = hidden;
                }
                let mut config = TrainConfig::new(model);
                config.batch = batch;
                config.snr_db = [
                    snr_low.unwrap_or(config.snr_db[0]),
                    snr_high.unwrap_or(config.snr_db[1]),
                ];
                config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
                let name = format!("mimo {}", config.model.describe());
                common.run(name, config, backend, train)
            }
        }
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        [NetKind::OampNet, NetKind::DetNet, NetKind::ReMimo]
            .into_iter()
            .map(|kind| {
                let config =
                    TrainConfig::new(MimoConfig::new(kind, 32, 64, Modulation::Qam16, 0.0));
                boxed(bench_step(&config, device))
            })
            .collect()
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        run_bench(args, globals, run_acceptance, Acceptance::table)
    }
}

/// The networks `mimo train` trains.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Net {
    Oampnet,
    Detnet,
    Remimo,
}

impl Net {
    fn kind(self) -> NetKind {
        match self {
            Self::Oampnet => NetKind::OampNet,
            Self::Detnet => NetKind::DetNet,
            Self::Remimo => NetKind::ReMimo,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum MimoAction {
    /// Draw channels, symbols and noise: y = Hx + n, written as complex64 .npy.
    Simulate {
        /// Users (single-antenna transmitters), N_t.
        #[arg(long)]
        nt: usize,
        /// Receive antennas, N_r.
        #[arg(long)]
        nr: usize,
        #[arg(long = "mod", value_enum)]
        modulation: Modulation,
        /// E‖Hx‖²/E‖n‖² in dB.
        #[arg(long, allow_hyphen_values = true)]
        snr_db: f64,
        /// Exponential correlation ρ^|i−j| at both ends (0: i.i.d. Rayleigh).
        #[arg(long, default_value_t = 0.0)]
        rho: f64,
        #[arg(long)]
        vectors: usize,
        /// H.npy, shape (V, N_r, N_t).
        #[arg(long)]
        out_channel: PathBuf,
        /// y.npy, shape (V, N_r).
        #[arg(long)]
        out_received: PathBuf,
        /// x.npy, shape (V, N_t).
        #[arg(long)]
        out_symbols: PathBuf,
    },
    /// Detect the symbols of received vectors; decisions written as complex64 .npy (V, N_t).
    Detect {
        #[arg(long)]
        channel: PathBuf,
        #[arg(long)]
        received: PathBuf,
        /// Gives the noise variance σ² = N_t / (N_r · 10^(SNR/10)).
        #[arg(long, allow_hyphen_values = true)]
        snr_db: f64,
        #[arg(long = "mod", value_enum)]
        modulation: Modulation,
        #[arg(long, value_enum)]
        method: Method,
        /// Iterations of the iterative detectors.
        #[arg(long, default_value_t = OAMP_ITERATIONS)]
        iters: usize,
        /// A trained model (default: the shipped one for this size, i.i.d. channels).
        #[arg(long)]
        model: Option<PathBuf>,
        /// x.npy: the symbols sent, to report SER and BER in --json.
        #[arg(long)]
        symbols: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Symbol and bit error rates over SNRs on fresh channels, with 95% intervals.
    Ser {
        #[arg(long)]
        nt: usize,
        #[arg(long)]
        nr: usize,
        #[arg(long = "mod", value_enum)]
        modulation: Modulation,
        /// Comma-separated SNRs in dB, e.g. 4,8,12.
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        snr_db: Vec<f64>,
        #[arg(long, default_value_t = 0.0)]
        rho: f64,
        #[arg(long)]
        vectors: usize,
        #[arg(long, value_enum)]
        method: Method,
        #[arg(long, default_value_t = OAMP_ITERATIONS)]
        iters: usize,
        /// A trained model (default: the shipped one for this size and ρ).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Every method at the papers' settings (32×16 QPSK 8 dB, 64×32 16-QAM 16 dB, and at
    /// ρ = 0.7, 22 dB) on 2,000 fresh vectors each; --model replaces the shipped model it fits.
    Eval(EvalArgs),
    /// Train OAMP-Net2, DetNet or RE-MIMO for one size, modulation and channel model.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        #[arg(long, value_enum, default_value = "oampnet")]
        net: Net,
        /// DetNet's hidden units per layer (default 4n = 8 N_t), RE-MIMO's state per user
        /// (default 32).
        #[arg(long)]
        hidden: Option<usize>,
        #[arg(long)]
        nt: usize,
        #[arg(long)]
        nr: usize,
        #[arg(long = "mod", value_enum)]
        modulation: Modulation,
        #[arg(long, default_value_t = 0.0)]
        rho: f64,
        /// Unrolled iterations.
        #[arg(long, default_value_t = OAMP_ITERATIONS)]
        iters: usize,
        #[arg(long, default_value_t = 1_500)]
        steps: u64,
        #[arg(long)]
        lr: Option<f64>,
        /// Vectors per step.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// The training SNR range's ends, dB (default: where LMMSE's SER falls from 1e-1 to 1e-4).
        #[arg(long, allow_hyphen_values = true)]
        snr_low: Option<f64>,
        #[arg(long, allow_hyphen_values = true)]
        snr_high: Option<f64>,
        /// Start from this model (same size).
        #[arg(long)]
        init: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::super::NAME;
    use super::*;
    use crate::demos::cli::run_args;

    #[test]
    fn simulate_then_detect_scores_against_the_symbols() {
        let dir = tempfile::tempdir().expect("dir");
        let path = |n: &str| dir.path().join(n).display().to_string();
        run_args(
            NAME,
            &[
                "simulate",
                "--nt",
                "4",
                "--nr",
                "8",
                "--mod",
                "16qam",
                "--snr-db",
                "20",
                "--vectors",
                "50",
                "--out-channel",
                &path("H.npy"),
                "--out-received",
                &path("y.npy"),
                "--out-symbols",
                &path("x.npy"),
            ],
        )
        .expect("simulated");
        let detect = |modulation: &str, method: &str| {
            let (h, y, x, out) = (
                path("H.npy"),
                path("y.npy"),
                path("x.npy"),
                path("xhat.npy"),
            );
            run_args(
                NAME,
                &[
                    "detect",
                    "--channel",
                    &h,
                    "--received",
                    &y,
                    "--snr-db",
                    "20",
                    "--mod",
                    modulation,
                    "--method",
                    method,
                    "--symbols",
                    &x,
                    "--out",
                    &out,
                ],
            )
        };
        for method in [
            "zf", "mmse", "vblast", "oamp", "ml", "detnet", "oampnet", "remimo",
        ] {
            match detect("16qam", method) {
                Ok(()) => {
                    let decided =
                        io::read_symbols(&dir.path().join("xhat.npy"), Modulation::Qam16, 50, 4)
                            .expect("decisions are constellation points");
                    assert_eq!(decided.len(), 50);
                }
                // No model is shipped for 8×4: the learned methods say so.
                Err(e) if method.ends_with("net") || method == "remimo" => {
                    assert!(e.to_string().contains("no shipped"), "{e}")
                }
                Err(e) => panic!("{method}: {e}"),
            }
        }
        // A wrong modulation for the symbols file is refused, naming it.
        let error = detect("qpsk", "mmse").expect_err("refused");
        assert!(error.to_string().contains("x.npy"), "{error}");
    }

    #[test]
    fn ml_beyond_its_size_is_refused_with_a_message() {
        let error = run_args(
            NAME,
            &[
                "ser",
                "--nt",
                "32",
                "--nr",
                "64",
                "--mod",
                "16qam",
                "--snr-db",
                "10",
                "--vectors",
                "2",
                "--method",
                "ml",
            ],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("sphere decoder"), "{error}");
    }
}
