//! Every decoder behind one call: `bp`, `minsum` (classical), `nbp`, `nebp` (learned, run in
//! batches on a burn device). All return the hard decisions of the frames and, for one frame,
//! the trace of every iteration. A learned decoder stops a frame, like BP, at the first
//! iteration whose hard decision satisfies every check.
//!
//! NEBP ends with a syndrome guard, the forward model checking the estimate: plain BP decodes
//! the same LLRs and its decision is output instead of NEBP's wherever it leaves fewer parity
//! checks unsatisfied (ties keep NEBP's). The network then helps where BP fails and cannot
//! make a frame worse than BP by the checks' own measure (on a code unlike the one it was
//! trained on, NEBP alone can be far worse than BP; see docs/ldpc.md).

use burn::tensor::{Device, Tensor, TensorData};

use super::classical::{self, BpRule, IterationState, Outcome, Trace, syndrome_is_zero};
use super::code::Code;
use super::model::{GraphIndex, NetConfig, NetKind};
use crate::demos::{DemoMethod, MethodKind};
use crate::stored_model::Learned;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum Method {
    Bp,
    Minsum,
    Nbp,
    Nebp,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Bp, Method::Minsum, Method::Nbp, Method::Nebp];

    /// The method a learned model serves.
    pub fn learned(kind: NetKind) -> Self {
        match kind {
            NetKind::Nbp => Method::Nbp,
            NetKind::Nebp => Method::Nebp,
        }
    }

    pub fn model_kind(self) -> Option<NetKind> {
        match self {
            Method::Nbp => Some(NetKind::Nbp),
            Method::Nebp => Some(NetKind::Nebp),
            _ => None,
        }
    }

    pub fn is_learned(self) -> bool {
        self.model_kind().is_some()
    }
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Method::Bp => "bp",
            Method::Minsum => "minsum",
            Method::Nbp => "nbp",
            Method::Nebp => "nebp",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Method::Bp => "BP (sum-product)",
            Method::Minsum => "min-sum",
            Method::Nbp => "neural BP",
            Method::Nebp => "neural-enhanced BP",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Method::Bp | Method::Minsum => MethodKind::Classical,
            Method::Nbp => MethodKind::Amortized,
            Method::Nebp => MethodKind::Augmented,
        }
    }

    /// What the method does, in a sentence: its tooltip in the panel.
    fn hint(self) -> &'static str {
        match self {
            Method::Bp => {
                "Sum-product BP, flooding: m_cv = 2 atanh Π tanh(m_v'c / 2) over the check's other bits v', every check then every \
                 variable, until every check holds (classical)"
            }
            Method::Minsum => {
                "Min-sum: m_cv = Π sign(m_v'c) · min |m_v'c| over the other bits v', no scaling or offset (classical)"
            }
            Method::Nbp => {
                "Weighted BP: learned weights per iteration on the messages and the channel, shared by \
                 all edges so it runs on any code (amortized)"
            }
            Method::Nebp => {
                "Neural-enhanced BP: a graph network beside BP adds a correction to every check message \
                 at every iteration; it sees only the LLRs. Its last step is a syndrome guard: where plain \
                 BP's decision leaves fewer parity checks unsatisfied, BP's is output (augmented)"
            }
        }
    }
}

/// A trained decoder and its config.
pub type LearnedDecoder = Learned<NetConfig>;

/// Frames a learned decoder runs at once.
const CHUNK_FRAMES: usize = 256;

/// Decodes frames (`llr` row-major, n per frame) with `method`; the learned methods need
/// `learned`. Hard decisions row-major, and each frame's outcome.
pub fn decode_frames(
    method: Method,
    code: &Code,
    llr: &[f32],
    max_iters: usize,
    learned: Option<&LearnedDecoder>,
    device: &Device,
) -> Result<(Vec<u8>, Vec<Outcome>), String> {
    match (method, learned) {
        (Method::Bp, _) => Ok(classical::decode_frames(
            code,
            BpRule::SumProduct,
            max_iters,
            llr,
        )),
        (Method::Minsum, _) => Ok(classical::decode_frames(
            code,
            BpRule::MinSum,
            max_iters,
            llr,
        )),
        (Method::Nebp, Some(decoder)) => {
            let (mut bits, mut outcomes) = decode_learned(decoder, code, llr, max_iters, device);
            syndrome_guard(code, llr, max_iters, &mut bits, &mut outcomes);
            Ok((bits, outcomes))
        }
        (_, Some(decoder)) => Ok(decode_learned(decoder, code, llr, max_iters, device)),
        (_, None) => Err(format!("{} needs a model", method.name())),
    }
}

/// Replaces each frame's decision (`bits` row-major) by plain BP's where BP's leaves fewer
/// checks unsatisfied; which frames took BP's.
pub fn syndrome_guard(
    code: &Code,
    llr: &[f32],
    max_iters: usize,
    bits: &mut [u8],
    outcomes: &mut [Outcome],
) -> Vec<bool> {
    let n = code.n;
    let (bp_bits, bp_outcomes) = classical::decode_frames(code, BpRule::SumProduct, max_iters, llr);
    bits.chunks_mut(n)
        .zip(bp_bits.chunks(n))
        .zip(outcomes.iter_mut().zip(bp_outcomes))
        .map(|((ours, bp), (outcome, bp_outcome))| {
            let take_bp = code.unsatisfied_count(bp) < code.unsatisfied_count(ours);
            if take_bp {
                ours.copy_from_slice(bp);
                *outcome = bp_outcome;
            }
            take_bp
        })
        .collect()
}

/// The learned decoder on frames, in chunks, each stopped once all its frames are decided.
pub fn decode_learned(
    decoder: &LearnedDecoder,
    code: &Code,
    llr: &[f32],
    max_iters: usize,
    device: &Device,
) -> (Vec<u8>, Vec<Outcome>) {
    let n = code.n;
    let graph = GraphIndex::new(code, device);
    let mut bits = Vec::with_capacity(llr.len());
    let mut outcomes = Vec::with_capacity(llr.len() / n.max(1));
    for chunk in llr.chunks(CHUNK_FRAMES * n) {
        let frames = chunk.len() / n;
        let mut decided: Vec<Option<(Vec<u8>, Outcome)>> = chunk
            .chunks(n)
            .map(|frame| {
                let hard: Vec<u8> = frame.iter().map(|&l| u8::from(l < 0.0)).collect();
                syndrome_is_zero(code, &hard).then_some((
                    hard,
                    Outcome {
                        iterations: 0,
                        converged: true,
                    },
                ))
            })
            .collect();
        let mut last: Vec<f32> = Vec::new();
        let mut iteration = 0;
        if decided.iter().any(Option::is_none) && max_iters > 0 {
            let input =
                Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [frames, n]), device);
            decoder.net.run_until(input, &graph, max_iters, |step| {
                iteration += 1;
                last = step
                    .posterior
                    .to_data()
                    .try_to_vec::<f32>()
                    .unwrap_or_default();
                for (f, slot) in decided.iter_mut().enumerate() {
                    if slot.is_some() {
                        continue;
                    }
                    let hard: Vec<u8> = last[f * n..(f + 1) * n]
                        .iter()
                        .map(|&l| u8::from(l < 0.0))
                        .collect();
                    if syndrome_is_zero(code, &hard) {
                        *slot = Some((
                            hard,
                            Outcome {
                                iterations: iteration,
                                converged: true,
                            },
                        ));
                    }
                }
                decided.iter().all(Option::is_some)
            });
        }
        for (f, slot) in decided.into_iter().enumerate() {
            let (hard, outcome) = slot.unwrap_or_else(|| {
                let source = if last.is_empty() { chunk } else { &last[..] };
                (
                    source[f * n..(f + 1) * n]
                        .iter()
                        .map(|&l| u8::from(l < 0.0))
                        .collect(),
                    Outcome {
                        iterations: iteration,
                        converged: false,
                    },
                )
            });
            bits.extend(hard);
            outcomes.push(outcome);
        }
    }
    (bits, outcomes)
}

/// One frame decoded with every iteration kept.
#[derive(Clone, Debug)]
pub struct TracedFrame {
    /// The channel's state first, then one state per iteration; when NEBP's syndrome guard
    /// took BP's decision, BP's final state last.
    pub trace: Trace,
    pub outcome: Outcome,
    /// Whether NEBP's syndrome guard output BP's decision.
    pub took_bp: bool,
}

/// One frame decoded with every iteration kept (the channel's state first).
pub fn trace_frame(
    method: Method,
    code: &Code,
    llr: &[f32],
    max_iters: usize,
    learned: Option<&LearnedDecoder>,
    device: &Device,
) -> Result<TracedFrame, String> {
    let (mut trace, mut outcome) =
        trace_without_guard(method, code, llr, max_iters, learned, device)?;
    let mut took_bp = false;
    if method == Method::Nebp {
        let (bp_trace, bp_outcome) =
            classical::decode_traced(code, BpRule::SumProduct, max_iters, llr);
        let last = |t: &Trace| t.bits(t.iterations.len().saturating_sub(1));
        if code.unsatisfied_count(&last(&bp_trace)) < code.unsatisfied_count(&last(&trace)) {
            took_bp = true;
            outcome = bp_outcome;
            trace.iterations.extend(bp_trace.iterations.last().cloned());
        }
    }
    Ok(TracedFrame {
        trace,
        outcome,
        took_bp,
    })
}

fn trace_without_guard(
    method: Method,
    code: &Code,
    llr: &[f32],
    max_iters: usize,
    learned: Option<&LearnedDecoder>,
    device: &Device,
) -> Result<(Trace, Outcome), String> {
    let rule = match method {
        Method::Bp => Some(BpRule::SumProduct),
        Method::Minsum => Some(BpRule::MinSum),
        _ => None,
    };
    if let Some(rule) = rule {
        return Ok(classical::decode_traced(code, rule, max_iters, llr));
    }
    let decoder = learned.ok_or_else(|| format!("{} needs a model", method.name()))?;
    let graph = GraphIndex::new(code, device);
    let channel = IterationState {
        v2c: code.edge_var.iter().map(|&v| llr[v as usize]).collect(),
        c2v: vec![0.0; code.edges()],
        posterior: llr.to_vec(),
        correction: None,
    };
    let mut trace = Trace {
        iterations: vec![channel],
    };
    let hard = |p: &[f32]| p.iter().map(|&l| u8::from(l < 0.0)).collect::<Vec<u8>>();
    if syndrome_is_zero(code, &hard(llr)) || max_iters == 0 {
        let converged = syndrome_is_zero(code, &hard(llr));
        return Ok((
            trace,
            Outcome {
                iterations: 0,
                converged,
            },
        ));
    }
    let input = Tensor::<2>::from_data(TensorData::new(llr.to_vec(), [1, code.n]), device);
    let read = |t: &Tensor<2>| t.to_data().try_to_vec::<f32>().unwrap_or_default();
    let mut converged = false;
    decoder.net.run_until(input, &graph, max_iters, |step| {
        let state = IterationState {
            v2c: read(&step.v2c),
            c2v: read(&step.c2v),
            posterior: read(&step.posterior),
            correction: step.correction.as_ref().map(read),
        };
        converged = syndrome_is_zero(code, &hard(&state.posterior));
        trace.iterations.push(state);
        converged
    });
    let iterations = trace.iterations.len() - 1;
    Ok((
        trace,
        Outcome {
            iterations,
            converged,
        },
    ))
}

/// Bit and frame error counts of decoded frames against the sent ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct ErrorCounts {
    pub frames: usize,
    pub bits: usize,
    pub bit_errors: usize,
    pub frame_errors: usize,
}

impl ErrorCounts {
    pub fn count(decoded: &[u8], sent: &[u8], n: usize) -> Self {
        let mut counts = Self::default();
        for (d, s) in decoded.chunks(n).zip(sent.chunks(n)) {
            let errors = d.iter().zip(s).filter(|(a, b)| a != b).count();
            counts.frames += 1;
            counts.bits += n;
            counts.bit_errors += errors;
            counts.frame_errors += usize::from(errors > 0);
        }
        counts
    }

    pub fn ber(&self) -> f64 {
        self.bit_errors as f64 / self.bits.max(1) as f64
    }

    pub fn fer(&self) -> f64 {
        self.frame_errors as f64 / self.frames.max(1) as f64
    }

    pub fn add(&mut self, other: &Self) {
        self.frames += other.frames;
        self.bits += other.bits;
        self.bit_errors += other.bit_errors;
        self.frame_errors += other.frame_errors;
    }
}

/// Per-frame bit error counts (for frame-clustered confidence intervals).
pub fn errors_per_frame(decoded: &[u8], sent: &[u8], n: usize) -> Vec<u32> {
    decoded
        .chunks(n)
        .zip(sent.chunks(n))
        .map(|(d, s)| d.iter().zip(s).filter(|(a, b)| a != b).count() as u32)
        .collect()
}

/// A 95% interval of the BER clustered by frame: the mean of per-frame error rates ± 1.96
/// standard errors of that mean (bits of one frame are not independent after decoding).
pub fn ber_interval(errors: &[u32], n: usize) -> (f64, f64, f64) {
    let count = errors.len().max(1) as f64;
    let rates: Vec<f64> = errors.iter().map(|&e| f64::from(e) / n as f64).collect();
    let mean = rates.iter().sum::<f64>() / count;
    let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
    let half = 1.96 * (var / count).sqrt();
    (mean, (mean - half).max(0.0), mean + half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::ldpc::code::shipped;
    use crate::demos::ldpc::model::DecoderNet;
    use crate::demos::ldpc::sim::{Channel, send_frames};

    #[test]
    fn an_untrained_learned_decoder_decodes_like_bp() {
        let device = Device::flex();
        let code = shipped("96.3.963").expect("code");
        let frames = send_frames(&code, &Channel::awgn(3.0), 40, 11);
        let (bp, _) = decode_frames(Method::Bp, &code, &frames.llr, 20, None, &device).expect("bp");
        let decoder = LearnedDecoder {
            net: DecoderNet::new(&NetConfig::nbp(), &device),
            config: NetConfig::nbp(),
        };
        let (nbp, outcomes) = decode_learned(&decoder, &code, &frames.llr, 20, &device);
        let bp_errors = ErrorCounts::count(&bp, &frames.bits, code.n);
        let nbp_errors = ErrorCounts::count(&nbp, &frames.bits, code.n);
        assert!(
            nbp_errors.bit_errors.abs_diff(bp_errors.bit_errors) <= 8,
            "{bp_errors:?} {nbp_errors:?}"
        );
        assert_eq!(outcomes.len(), 40);
        let traced = trace_frame(
            Method::Nbp,
            &code,
            frames.frame_llr(0),
            20,
            Some(&decoder),
            &device,
        )
        .expect("trace");
        assert_eq!(traced.trace.iterations.len(), traced.outcome.iterations + 1);
        assert!(!traced.took_bp);
    }

    #[test]
    fn the_syndrome_guard_keeps_whichever_decision_satisfies_more_checks() {
        let code = shipped("ccsds-128-64").expect("code");
        let n = code.n;
        let frames = send_frames(&code, &Channel::awgn(1.0), 60, 3);
        let (bp, bp_outcomes) =
            classical::decode_frames(&code, BpRule::SumProduct, 20, &frames.llr);
        // A "learned" decision that is the sent codeword on even frames and garbage on odd ones.
        let mut bits = frames.bits.clone();
        for frame in bits.chunks_mut(n).skip(1).step_by(2) {
            frame[0] ^= 1;
        }
        let before = bits.clone();
        let mut outcomes = bp_outcomes.clone();
        let took = syndrome_guard(&code, &frames.llr, 20, &mut bits, &mut outcomes);
        for f in 0..60 {
            let ours = &bits[f * n..(f + 1) * n];
            let bp_frame = &bp[f * n..(f + 1) * n];
            if f % 2 == 0 {
                assert!(!took[f], "frame {f}: a codeword is kept");
                assert_eq!(ours, frames.frame_bits(f));
            } else {
                let wrong = &before[f * n..(f + 1) * n];
                assert_eq!(
                    took[f],
                    code.unsatisfied_count(bp_frame) < code.unsatisfied_count(wrong)
                );
                assert_eq!(ours, if took[f] { bp_frame } else { wrong });
            }
            assert!(code.unsatisfied_count(ours) <= code.unsatisfied_count(bp_frame));
        }
        assert!(took.iter().any(|&t| t), "BP decodes some frames at 1 dB");
        assert!(
            bp_outcomes.iter().any(|o| !o.converged),
            "and fails on some"
        );
    }

    #[test]
    fn the_clustered_interval_contains_the_mean() {
        let (mean, lo, hi) = ber_interval(&[0, 2, 0, 5, 1], 10);
        assert!((mean - 0.16).abs() < 1e-12);
        assert!(lo <= mean && mean <= hi && lo >= 0.0);
    }
}
