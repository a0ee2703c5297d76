//! `inference-lab ldpc ...`: decode, ber, train, eval, and `bench --demo ldpc`, as docs/cli.md's
//! contract says. `--code` takes an alist path or a shipped code's name (`96.3.963`,
//! `ccsds-128-64`, `wimax-576-288`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use clap::Subcommand;

use super::bench::{BerPoint, Sweep, ber_curve, evaluate_all, run_acceptance};
use super::code::{self, Code};
use super::methods::{LearnedDecoder, Method, decode_frames};
use super::model::{NetConfig, NetKind, load_or_shipped};
use super::sim::{Channel, bits_csv, read_llr_csv};
use super::train::{TrainConfig, bench_step, train};
use crate::demos::DemoMethod;
use crate::demos::cli::{
    BenchArgs, DemoCli, EvalArgs, Globals, TrainArgs, print_bench, print_report,
};
use crate::stored_model::load;
use crate::training::TrainSettings;
use crate::training::step::{TrainingStep, boxed};

pub struct LdpcCli;

impl DemoCli for LdpcCli {
    type Action = LdpcAction;

    const ABOUT: &'static str = "LDPC decoding on a factor graph";

    fn run(&self, action: LdpcAction, Globals { backend, seed }: Globals) -> anyhow::Result<()> {
        match action {
            LdpcAction::Decode {
                code,
                llr,
                method,
                iters,
                out,
                model,
                json,
            } => {
                check_iters(iters)?;
                let code = code::load(&code)?;
                let llr = read_llr_csv(&llr, code.n)?;
                let device = device_for(method, backend);
                let learned = learned_for(method, model.as_deref(), &device)?;
                let started = Instant::now();
                let (bits, _) =
                    decode_frames(method, &code, &llr, iters, learned.as_ref(), &device)
                        .map_err(anyhow::Error::msg)?;
                let seconds = started.elapsed().as_secs_f64();
                crate::files::write_atomic(&out, bits_csv(&bits, code.n).as_bytes())?;
                if json {
                    let frames = llr.len() / code.n;
                    println!(
                        "{}",
                        serde_json::json!({
                            "demo": "ldpc", "method": method.name(), "code": code.name,
                            "frames": frames,
                            "metrics": { "seconds": seconds, "frames_per_second": frames as f64 / seconds.max(1e-12) }
                        })
                    );
                }
                Ok(())
            }
            LdpcAction::Ber {
                code,
                snr_db,
                burst_sigma,
                frames,
                method,
                iters,
                model,
                json,
            } => {
                check_iters(iters)?;
                if frames == 0 || frames > 100_000_000 {
                    anyhow::bail!("--frames must be in 1..=100000000, not {frames}");
                }
                let code = code::load(&code)?;
                for &s in &snr_db {
                    Channel {
                        eb_n0_db: s,
                        burst_sigma,
                    }
                    .validate()
                    .map_err(anyhow::Error::msg)?;
                }
                let device = device_for(method, backend);
                let learned = learned_for(method, model.as_deref(), &device)?;
                let sweep = Sweep {
                    snr_db: &snr_db,
                    burst_sigma,
                    frames,
                    iters,
                    seed,
                };
                let points = ber_curve(&code, method, learned.as_ref(), &sweep, &device)?;
                if json {
                    println!("{}", ber_json(&code, method, burst_sigma, iters, &points));
                } else {
                    println!(
                        "{} on {}, σ_b = {burst_sigma}, {iters} iterations",
                        method.label(),
                        code.name
                    );
                    for p in &points {
                        println!(
                            "Eb/N0 {:>5.2} dB   BER {:.3e}   FER {:.3e}   {:.3} s",
                            p.eb_n0_db, p.ber, p.fer, p.seconds
                        );
                    }
                }
                Ok(())
            }
            LdpcAction::Train {
                common,
                kind,
                steps,
                code,
                batch,
                iters,
                hidden,
                lr,
                init,
            } => {
                let mut model = NetConfig::of(kind);
                if let Some(i) = iters {
                    model.iterations = i;
                }
                if let Some(h) = hidden {
                    model.hidden = h;
                }
                if let Some(path) = &init {
                    model = load::<LearnedDecoder>(path, kind.name(), &Device::flex())?.config;
                }
                let mut config = TrainConfig::new(model);
                config.code = code;
                config.batch_frames = batch;
                config.schedule = common.schedule(config.schedule, steps, lr, init, seed);
                config.validate().map_err(anyhow::Error::msg)?;
                super::train::config_code(&config).map_err(anyhow::Error::msg)?;
                let name = format!("ldpc {}", config.model.kind.name());
                common.run(name, config, backend, train)
            }
            LdpcAction::Eval(EvalArgs { model, json }) => {
                let compute = crate::backend::compute_for(backend);
                let report = evaluate_all(model.as_deref(), seed, &compute.device)?;
                print_report(&report, report.table(), json)
            }
        }
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        let report = run_acceptance(args.quick, globals.seed)?;
        print_bench(&report, report.table(), args)
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        Ok(vec![
            boxed(bench_step(
                "ldpc nbp",
                &TrainConfig::new(NetConfig::nbp()),
                device,
            ))?,
            boxed(bench_step(
                "ldpc nebp",
                &TrainConfig::new(NetConfig::nebp()),
                device,
            ))?,
        ])
    }
}

#[derive(Subcommand, Debug)]
pub enum LdpcAction {
    /// Decode LLR frames (one a line, n comma-separated, positive = bit 0) into codewords.
    Decode {
        /// An alist file, or a shipped code's name.
        #[arg(long)]
        code: PathBuf,
        #[arg(long)]
        llr: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        #[arg(long, default_value_t = 20)]
        iters: usize,
        /// One line per input frame: the n-bit codeword estimate, 0/1 comma-separated.
        #[arg(long)]
        out: PathBuf,
        /// nbp/nebp: a model file (default: the shipped one).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Print one JSON object (frames, seconds, frames per second).
        #[arg(long)]
        json: bool,
    },
    /// Bit and frame error rates over Eb/N0 (at the design rate), on random codewords.
    Ber {
        #[arg(long)]
        code: PathBuf,
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            allow_hyphen_values = true
        )]
        snr_db: Vec<f64>,
        /// σ_b of the bursty channel (0: plain AWGN).
        #[arg(long, default_value_t = 0.0)]
        burst_sigma: f64,
        #[arg(long)]
        frames: usize,
        #[arg(long, value_enum)]
        method: Method,
        #[arg(long, default_value_t = 20)]
        iters: usize,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Train NBP or NEBP on the training mixture; saves the model (with its config) atomically.
    Train {
        #[command(flatten)]
        common: TrainArgs,
        #[arg(long, value_enum, default_value_t = NetKind::Nebp)]
        kind: NetKind,
        /// Optimizer steps at most.
        #[arg(long, default_value_t = 3000)]
        steps: u64,
        /// The code trained on (alist path or shipped name).
        #[arg(long, default_value = super::train::TRAIN_CODE)]
        code: String,
        /// Frames per step.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Iterations unrolled.
        #[arg(long)]
        iters: Option<usize>,
        /// nebp: hidden state size.
        #[arg(long)]
        hidden: Option<usize>,
        #[arg(long)]
        lr: Option<f64>,
        /// Start from this model (same kind and size).
        #[arg(long)]
        init: Option<PathBuf>,
    },
    /// Every method on held-out generated frames of 96.3.963 (AWGN and bursts).
    Eval(EvalArgs),
}

/// The learned decoder `method` needs (none for the classical ones).
pub fn learned_for(
    method: Method,
    model: Option<&Path>,
    device: &Device,
) -> anyhow::Result<Option<LearnedDecoder>> {
    method
        .model_kind()
        .map(|kind| load_or_shipped(model, kind, device))
        .transpose()
}

/// Where a method's tensors live: the classical decoders never touch burn, so they do not probe
/// for a GPU (which takes time and, headless, prints adapter warnings).
fn device_for(method: Method, backend: crate::backend::BackendRequest) -> Device {
    if method.is_learned() {
        crate::backend::compute_for(backend).device
    } else {
        Device::flex()
    }
}

fn check_iters(iters: usize) -> anyhow::Result<()> {
    if iters > 10_000 {
        anyhow::bail!("--iters {iters}: at most 10000 iterations");
    }
    Ok(())
}

/// `ldpc ber --json`: `metrics` holds `ber`, `fer` and `seconds`, one entry per Eb/N0.
pub fn ber_json(
    code: &Code,
    method: Method,
    burst_sigma: f64,
    iters: usize,
    points: &[BerPoint],
) -> String {
    let pick = |f: fn(&BerPoint) -> f64| points.iter().map(f).collect::<Vec<_>>();
    serde_json::json!({
        "demo": "ldpc",
        "method": method.name(),
        "code": code.name,
        "burst_sigma": burst_sigma,
        "iters": iters,
        "snr_db": pick(|p| p.eb_n0_db),
        "metrics": {
            "ber": pick(|p| p.ber),
            "fer": pick(|p| p.fer),
            "seconds": pick(|p| p.seconds),
        },
        "points": points,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::NAME;
    use super::*;
    use crate::demos::cli::run_args;

    #[test]
    fn every_method_decodes_tiny_codes_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = |name: &str| dir.path().join(name).display().to_string();
        // One bit and one check (the only codeword is 0), and the (7,4) Hamming code.
        std::fs::write(path("one.alist"), "1 1\n1 1\n1\n1\n1\n1\n").expect("write");
        let hamming = Code::from_rows(
            "h",
            7,
            &[vec![0, 1, 2, 4], vec![0, 1, 3, 5], vec![0, 2, 3, 6]],
        )
        .expect("code");
        std::fs::write(path("hamming.alist"), hamming.to_alist()).expect("write");
        std::fs::write(path("one.csv"), "-3\n2.5\n0\n").expect("write");
        std::fs::write(
            path("hamming.csv"),
            "1,1,1,1,1,1,1\n-1,4,4,4,4,4,4\n0,0,0,0,0,0,0\n",
        )
        .expect("write");
        for (code, llr, n) in [
            ("one.alist", "one.csv", 1),
            ("hamming.alist", "hamming.csv", 7),
        ] {
            for method in ["bp", "minsum", "nbp", "nebp"] {
                for iters in ["0", "1", "20"] {
                    let out = path(&format!("{code}-{method}-{iters}.csv"));
                    run_args(
                        NAME,
                        &[
                            "decode",
                            "--code",
                            &path(code),
                            "--llr",
                            &path(llr),
                            "--method",
                            method,
                            "--iters",
                            iters,
                            "--out",
                            &out,
                        ],
                    )
                    .unwrap_or_else(|e| panic!("{code} {method} {iters}: {e:#}"));
                    let text = std::fs::read_to_string(&out).expect("output");
                    let lines: Vec<&str> = text.lines().collect();
                    assert_eq!(lines.len(), 3, "{code} {method}");
                    for line in lines {
                        let bits: Vec<&str> = line.split(',').collect();
                        assert_eq!(bits.len(), n);
                        assert!(bits.iter().all(|b| *b == "0" || *b == "1"));
                    }
                }
            }
        }
        // A single weakly flipped bit among confident ones is corrected by BP.
        let out = std::fs::read_to_string(path("hamming.alist-bp-20.csv")).expect("output");
        assert_eq!(out.lines().nth(1), Some("0,0,0,0,0,0,0"));
        std::fs::write(path("short.csv"), "1,1,1\n").expect("write");
        std::fs::write(path("nan.csv"), "1,1,1,1,1,1,NaN\n").expect("write");
        std::fs::write(path("empty.csv"), "").expect("write");
        std::fs::write(path("bad.alist"), "7 3\n3 4\n1 1 1\n").expect("write");
        for (code, llr, needle) in [
            ("hamming.alist", "short.csv", "line 1: 3 LLRs"),
            ("hamming.alist", "nan.csv", "field 7"),
            ("hamming.alist", "empty.csv", "empty"),
            ("bad.alist", "hamming.csv", "line 3"),
        ] {
            let e = run_args(
                NAME,
                &[
                    "decode",
                    "--code",
                    &path(code),
                    "--llr",
                    &path(llr),
                    "--method",
                    "bp",
                    "--iters",
                    "5",
                    "--out",
                    &path("x.csv"),
                ],
            )
            .expect_err(llr);
            assert!(format!("{e:#}").contains(needle), "{code} {llr}: {e:#}");
        }
    }

    #[test]
    fn ber_reports_one_point_per_snr() {
        let points = {
            let code = code::shipped("96.3.963").expect("code");
            let sweep = Sweep {
                snr_db: &[1.0, 6.0],
                burst_sigma: 0.0,
                frames: 200,
                iters: 20,
                seed: 1,
            };
            ber_curve(&code, Method::Minsum, None, &sweep, &Device::flex()).expect("curve")
        };
        assert_eq!(points.len(), 2);
        assert!(points[0].ber > points[1].ber);
        assert!(
            points
                .iter()
                .all(|p| p.ber_low <= p.ber && p.ber <= p.ber_high && p.frames == 200)
        );
        assert!(
            run_args(
                NAME,
                &[
                    "ber", "--code", "96.3.963", "--snr-db", "1,-99", "--frames", "10", "--method",
                    "bp"
                ]
            )
            .is_err()
        );
    }
}
