//! Measured error rates: BER/FER curves (`ldpc ber`, the panel's curves), `ldpc eval`, and the
//! acceptance benchmark `bench --demo ldpc` (bursts and AWGN on the three shipped codes, each
//! with a 95% frame-clustered interval, and BP's decoding speed on WiMAX). Every method of a
//! point decodes the same frames.

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;

use super::code::{self, Code};
use super::methods::{
    ErrorCounts, LearnedDecoder, Method, ber_interval, decode_frames, errors_per_frame,
};
use super::sim::{Channel, send_frames};
use crate::demos::DemoMethod;
use crate::jobs::JobContext;
use crate::stored_model;
use crate::training::Stream;

/// One point of an error-rate curve.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BerPoint {
    pub eb_n0_db: f64,
    pub burst_sigma: f64,
    pub frames: usize,
    pub bit_errors: usize,
    pub frame_errors: usize,
    pub ber: f64,
    pub fer: f64,
    /// The frame-clustered 95% interval of the BER.
    pub ber_low: f64,
    pub ber_high: f64,
    /// Decoding time only (frames are made beforehand).
    pub seconds: f64,
}

/// The seed of the frames of point `index` (the same for every method).
fn point_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_mul(31)
        .wrapping_add(0x1dbc_0000 + index as u64)
}

/// The points of an error-rate curve: one per Eb/N0, each `frames` fresh frames (seeded by
/// `seed` and the point's index, the same for every method).
#[derive(Clone, Debug)]
pub struct Sweep<'a> {
    pub snr_db: &'a [f64],
    pub burst_sigma: f64,
    pub frames: usize,
    pub iters: usize,
    pub seed: u64,
}

impl Sweep<'_> {
    fn point(&self, index: usize) -> (Channel, u64) {
        let channel = Channel {
            eb_n0_db: self.snr_db[index],
            burst_sigma: self.burst_sigma,
        };
        (channel, point_seed(self.seed, index))
    }
}

/// Decodes `sweep` with `method`.
pub fn ber_curve(
    code: &Code,
    method: Method,
    learned: Option<&LearnedDecoder>,
    sweep: &Sweep<'_>,
    device: &Device,
) -> anyhow::Result<Vec<BerPoint>> {
    (0..sweep.snr_db.len())
        .map(|i| {
            let (channel, seed) = sweep.point(i);
            measure_point(
                code,
                method,
                learned,
                &channel,
                sweep.frames,
                sweep.iters,
                seed,
                device,
            )
        })
        .collect()
}

/// One point: `frames` frames over `channel`, decoded by `method`, in blocks so that memory
/// stays bounded for millions of frames.
#[allow(clippy::too_many_arguments)]
pub fn measure_point(
    code: &Code,
    method: Method,
    learned: Option<&LearnedDecoder>,
    channel: &Channel,
    frames: usize,
    iters: usize,
    seed: u64,
    device: &Device,
) -> anyhow::Result<BerPoint> {
    const BLOCK: usize = 20_000;
    let mut counts = ErrorCounts::default();
    let mut per_frame = Vec::with_capacity(frames);
    let mut seconds = 0.0;
    let mut done = 0;
    while done < frames {
        let count = BLOCK.min(frames - done);
        let sent = send_frames(code, channel, count, seed.wrapping_add(done as u64 * 7919));
        let started = Instant::now();
        let (bits, _) = decode_frames(method, code, &sent.llr, iters, learned, device)
            .map_err(anyhow::Error::msg)?;
        seconds += started.elapsed().as_secs_f64();
        counts.add(&ErrorCounts::count(&bits, &sent.bits, code.n));
        per_frame.extend(errors_per_frame(&bits, &sent.bits, code.n));
        done += count;
    }
    let (_, ber_low, ber_high) = ber_interval(&per_frame, code.n);
    Ok(BerPoint {
        eb_n0_db: channel.eb_n0_db,
        burst_sigma: channel.burst_sigma,
        frames,
        bit_errors: counts.bit_errors,
        frame_errors: counts.frame_errors,
        ber: counts.ber(),
        fer: counts.fer(),
        ber_low,
        ber_high,
        seconds,
    })
}

/// The learned decoders, shipped or (for the kind of `model`) from a file.
pub fn learned_decoders(
    model: Option<&Path>,
    device: &Device,
) -> anyhow::Result<Vec<(Method, Option<LearnedDecoder>)>> {
    let from_file = model
        .map(|path| super::model::load_any(path, device))
        .transpose()?;
    Method::ALL
        .iter()
        .map(|&method| {
            let learned = match method.model_kind() {
                None => None,
                Some(kind) => match &from_file {
                    Some(decoder) if decoder.config.kind == kind => Some(decoder.clone()),
                    _ => Some(stored_model::shipped(kind.name(), device)?),
                },
            };
            Ok((method, learned))
        })
        .collect()
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalMethod {
    pub method: &'static str,
    pub code: String,
    pub channel: Channel,
    pub metrics: EvalMetrics,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalMetrics {
    pub ber: f64,
    pub fer: f64,
    pub seconds: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalReport {
    pub demo: &'static str,
    pub frames: usize,
    pub iters: usize,
    pub methods: Vec<EvalMethod>,
}

impl EvalReport {
    pub fn table(&self) -> String {
        let mut text = format!(
            "{} frames per channel, {} iterations\n",
            self.frames, self.iters
        );
        for m in &self.methods {
            text += &format!(
                "{:<8} {:<10} Eb/N0 {:.1} dB σ_b {:.1}   BER {:.3e}   FER {:.3e}   {:.2} s\n",
                m.method,
                m.code,
                m.channel.eb_n0_db,
                m.channel.burst_sigma,
                m.metrics.ber,
                m.metrics.fer,
                m.metrics.seconds
            );
        }
        text
    }
}

/// Held-out frames: seeds no training or validation run uses.
const EVAL_SEED: u64 = 0xE7A1_0000;

/// `ldpc eval`: every method on 96.3.963 over plain AWGN at 2 dB and bursts (σ_b 3) at 3 dB.
pub fn evaluate_all(
    model: Option<&Path>,
    seed: u64,
    device: &Device,
) -> anyhow::Result<EvalReport> {
    let code = code::shipped("96.3.963").map_err(anyhow::Error::msg)?;
    let (frames, iters) = (2000, 20);
    let channels = [
        Channel::awgn(2.0),
        Channel {
            eb_n0_db: 3.0,
            burst_sigma: 3.0,
        },
    ];
    let mut methods = Vec::new();
    for (method, learned) in learned_decoders(model, device)? {
        for (i, channel) in channels.iter().enumerate() {
            let p = measure_point(
                &code,
                method,
                learned.as_ref(),
                channel,
                frames,
                iters,
                Stream::test(EVAL_SEED ^ seed.wrapping_add(i as u64)),
                device,
            )?;
            methods.push(EvalMethod {
                method: method.name(),
                code: code.name.clone(),
                channel: *channel,
                metrics: EvalMetrics {
                    ber: p.ber,
                    fer: p.fer,
                    seconds: p.seconds,
                },
            });
        }
    }
    Ok(EvalReport {
        demo: "ldpc",
        frames,
        iters,
        methods,
    })
}

/// A row of the acceptance table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AcceptanceRow {
    pub code: String,
    pub method: &'static str,
    pub point: BerPoint,
}

/// BP's decoding speed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SpeedRow {
    pub code: String,
    pub eb_n0_db: f64,
    pub frames: usize,
    pub threads: usize,
    pub frames_per_second: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct AcceptanceReport {
    pub iters: usize,
    pub rows: Vec<AcceptanceRow>,
    pub speed: Vec<SpeedRow>,
    /// NEBP against BP where the issue asks: whether the 95% intervals are disjoint.
    pub verdicts: Vec<String>,
}

impl AcceptanceReport {
    pub fn table(&self) -> String {
        let mut text = "| code | Eb/N0 dB | σ_b | method | frames | BER [95% interval, frame-clustered] | FER | s |\n|---|---|---|---|---|---|---|---|\n".to_owned();
        for r in &self.rows {
            let p = &r.point;
            text += &format!(
                "| {} | {:.1} | {:.1} | {} | {} | {:.3e} [{:.3e}, {:.3e}] | {:.3e} | {:.1} |\n",
                r.code,
                p.eb_n0_db,
                p.burst_sigma,
                r.method,
                p.frames,
                p.ber,
                p.ber_low,
                p.ber_high,
                p.fer,
                p.seconds
            );
        }
        text += "\n| BP decoding speed | Eb/N0 dB | frames | threads | frames/s |\n|---|---|---|---|---|\n";
        for s in &self.speed {
            text += &format!(
                "| {} | {:.1} | {} | {} | {:.0} |\n",
                s.code, s.eb_n0_db, s.frames, s.threads, s.frames_per_second
            );
        }
        text += "\n";
        for v in &self.verdicts {
            text += v;
            text += "\n";
        }
        text
    }
}

/// `bench --demo ldpc`.
pub fn run_acceptance(quick: bool, seed: u64) -> anyhow::Result<AcceptanceReport> {
    let device = Device::flex();
    let iters = 20;
    let scale = if quick { 10 } else { 1 };
    let decoders = learned_decoders(None, &device)?;
    let mut rows = Vec::new();
    let mut verdicts = Vec::new();
    let paper = code::shipped("96.3.963").map_err(anyhow::Error::msg)?;
    let bursts = [(4.0, 2.0), (4.0, 3.0), (4.0, 5.0), (3.0, 3.0)];
    for (i, &(eb_n0_db, burst_sigma)) in bursts.iter().enumerate() {
        let channel = Channel {
            eb_n0_db,
            burst_sigma,
        };
        let mut points = Vec::new();
        for (method, learned) in &decoders {
            let p = measure_point(
                &paper,
                *method,
                learned.as_ref(),
                &channel,
                20_000 / scale,
                iters,
                point_seed(seed, 100 + i),
                &device,
            )?;
            eprintln!(
                "96.3.963 {eb_n0_db} dB σ_b {burst_sigma}: {} BER {:.3e}",
                method.name(),
                p.ber
            );
            points.push((*method, p.clone()));
            rows.push(AcceptanceRow {
                code: paper.name.clone(),
                method: method.name(),
                point: p,
            });
        }
        verdicts.push(compare(&points, &paper.name, &channel, true));
    }
    for (c, name) in ["96.3.963", "ccsds-128-64", "wimax-576-288"]
        .iter()
        .enumerate()
    {
        let code = code::shipped(name).map_err(anyhow::Error::msg)?;
        for (i, eb_n0_db) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
            let frames = if code.n > 200 { 4000 } else { 10_000 } / scale;
            let channel = Channel::awgn(eb_n0_db);
            let mut points = Vec::new();
            for (method, learned) in &decoders {
                let p = measure_point(
                    &code,
                    *method,
                    learned.as_ref(),
                    &channel,
                    frames,
                    iters,
                    point_seed(seed, 200 + 10 * c + i),
                    &device,
                )?;
                eprintln!("{name} {eb_n0_db} dB: {} BER {:.3e}", method.name(), p.ber);
                points.push((*method, p.clone()));
                rows.push(AcceptanceRow {
                    code: code.name.clone(),
                    method: method.name(),
                    point: p,
                });
            }
            verdicts.push(compare(&points, name, &channel, false));
        }
    }
    let wimax = code::shipped("wimax-576-288").map_err(anyhow::Error::msg)?;
    let frames = 20_000 / scale;
    let sent = send_frames(&wimax, &Channel::awgn(2.0), frames, point_seed(seed, 300));
    let mut speed = Vec::new();
    for threads in [1, rayon::current_num_threads()] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let started = Instant::now();
        pool.install(|| {
            super::classical::decode_frames(
                &wimax,
                super::classical::BpRule::SumProduct,
                iters,
                &sent.llr,
            )
        });
        let secs = started.elapsed().as_secs_f64();
        speed.push(SpeedRow {
            code: wimax.name.clone(),
            eb_n0_db: 2.0,
            frames,
            threads,
            frames_per_second: frames as f64 / secs,
        });
    }
    Ok(AcceptanceReport {
        iters,
        rows,
        speed,
        verdicts,
    })
}

/// NEBP against BP at one channel: clearly below (bursts) or not worse (AWGN), by intervals.
fn compare(points: &[(Method, BerPoint)], code: &str, channel: &Channel, bursty: bool) -> String {
    let find = |m: Method| points.iter().find(|(x, _)| *x == m).map(|(_, p)| p);
    let (Some(bp), Some(nebp)) = (find(Method::Bp), find(Method::Nebp)) else {
        return format!("{code}: BP or NEBP missing");
    };
    let place = format!(
        "{code} at {:.1} dB, σ_b {:.1}",
        channel.eb_n0_db, channel.burst_sigma
    );
    if bursty {
        let clear = nebp.ber_high < bp.ber_low;
        format!(
            "{place}: NEBP {:.3e} vs BP {:.3e}: {}",
            nebp.ber,
            bp.ber,
            if clear {
                "clearly below (disjoint intervals)"
            } else {
                "NOT clearly below"
            }
        )
    } else {
        let worse = nebp.ber_low > bp.ber_high;
        format!(
            "{place}: NEBP {:.3e} vs BP {:.3e}: {}",
            nebp.ber,
            bp.ber,
            if worse {
                "WORSE (disjoint intervals)"
            } else {
                "not worse"
            }
        )
    }
}

/// Curves for the panel: BER and FER per method over the sweep, reporting progress.
pub fn panel_curves(
    ctx: &JobContext,
    code: &Code,
    decoders: &[(Method, Option<LearnedDecoder>)],
    sweep: &Sweep<'_>,
    device: &Device,
) -> Result<Vec<(Method, Vec<BerPoint>)>, crate::jobs::JobError> {
    let total = (decoders.len() * sweep.snr_db.len()).max(1);
    let mut done = 0;
    let mut curves = Vec::new();
    for (method, learned) in decoders {
        let mut points = Vec::new();
        for i in 0..sweep.snr_db.len() {
            ctx.check_cancelled()?;
            let (channel, seed) = sweep.point(i);
            let p = measure_point(
                code,
                *method,
                learned.as_ref(),
                &channel,
                sweep.frames,
                sweep.iters,
                seed,
                device,
            )
            .map_err(crate::jobs::JobError::failed)?;
            points.push(p);
            done += 1;
            ctx.report_fraction(done as f32 / total as f32);
        }
        curves.push((*method, points));
    }
    Ok(curves)
}
