//! The classical inverses: flooding belief propagation on the Tanner graph, sum-product or plain
//! min-sum (no scaling, no offset). Messages start from the channel LLRs; one iteration is every
//! check, then every variable; no damping; the decoder stops once the hard decision (posterior
//! LLR < 0 → 1) satisfies every check, after at most `max_iters` iterations.
//!
//! This is the hot loop: messages live in flat per-edge arrays, a [`Workspace`] is reused across
//! frames (nothing is allocated per iteration), and batches of frames run in parallel.

use rayon::prelude::*;

use super::code::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BpRule {
    /// Sum-product: `m_c→v = 2 atanh Π tanh(m_v'→c / 2)`.
    SumProduct,
    /// Min-sum: `m_c→v = Π sign(m_v'→c) · min |m_v'→c|`.
    MinSum,
}

/// Check-to-variable messages are clipped here (|2 atanh(1 − 1e-15)| ≈ 35): a check whose other
/// inputs are all certain says so with a large but finite LLR.
const MAX_MESSAGE: f64 = 60.0;

/// The messages of one decoding, reused across frames.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// Variable-to-check messages, per edge.
    pub v2c: Vec<f64>,
    /// Check-to-variable messages, per edge.
    pub c2v: Vec<f64>,
    /// Posterior LLRs, per variable.
    pub posterior: Vec<f64>,
    /// The hard decision, per variable.
    pub bits: Vec<u8>,
    /// tanh(v2c/2) (sum-product) of the check being updated, and its prefix products.
    scratch: Vec<f64>,
    prefix: Vec<f64>,
}

impl Workspace {
    pub fn for_code(code: &Code) -> Self {
        Self {
            v2c: vec![0.0; code.edges()],
            c2v: vec![0.0; code.edges()],
            posterior: vec![0.0; code.n],
            bits: vec![0; code.n],
            scratch: vec![0.0; code.max_check_degree()],
            prefix: vec![0.0; code.max_check_degree() + 1],
        }
    }
}

/// How a frame's decoding ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Iterations run (0 when the channel's hard decision was already a codeword).
    pub iterations: usize,
    /// Whether the output satisfies every check.
    pub converged: bool,
}

/// Every check's outgoing messages from the incoming `v2c`.
pub fn update_checks(code: &Code, rule: BpRule, ws: &mut Workspace) {
    let Workspace {
        v2c,
        c2v,
        scratch,
        prefix,
        ..
    } = ws;
    for c in 0..code.m {
        let (start, end) = (code.check_start[c], code.check_start[c + 1]);
        let incoming = &v2c[start..end];
        let outgoing = &mut c2v[start..end];
        match rule {
            BpRule::SumProduct => sum_product_check(incoming, outgoing, scratch, prefix),
            BpRule::MinSum => min_sum_check(incoming, outgoing),
        }
    }
}

/// One check of sum-product: leave-one-out products of tanh(m/2) by prefix and suffix products
/// (no division, so an exact zero message is handled).
fn sum_product_check(incoming: &[f64], outgoing: &mut [f64], t: &mut [f64], prefix: &mut [f64]) {
    let d = incoming.len();
    for (ti, m) in t.iter_mut().zip(incoming) {
        *ti = (0.5 * m).tanh();
    }
    prefix[0] = 1.0;
    for i in 0..d {
        prefix[i + 1] = prefix[i] * t[i];
    }
    let mut suffix = 1.0;
    for i in (0..d).rev() {
        let product = (prefix[i] * suffix).clamp(-1.0 + 1e-15, 1.0 - 1e-15);
        outgoing[i] = (2.0 * product.atanh()).clamp(-MAX_MESSAGE, MAX_MESSAGE);
        suffix *= t[i];
    }
}

/// One check of min-sum: the sign product and the smallest magnitude of the others.
fn min_sum_check(incoming: &[f64], outgoing: &mut [f64]) {
    let (mut min1, mut min2, mut at) = (f64::INFINITY, f64::INFINITY, 0);
    let mut negative = false;
    for (i, &m) in incoming.iter().enumerate() {
        negative ^= m < 0.0;
        let a = m.abs();
        if a < min1 {
            (min2, min1, at) = (min1, a, i);
        } else if a < min2 {
            min2 = a;
        }
    }
    for (i, (out, &m)) in outgoing.iter_mut().zip(incoming).enumerate() {
        let magnitude = if i == at { min2 } else { min1 };
        let magnitude = if magnitude.is_finite() {
            magnitude
        } else {
            0.0
        };
        let sign_negative = negative ^ (m < 0.0);
        *out = if sign_negative { -magnitude } else { magnitude }.min(MAX_MESSAGE);
    }
}

/// Every variable's posterior and outgoing messages from the channel LLRs and `c2v`; the hard
/// decision in `ws.bits`.
pub fn update_variables(code: &Code, llr: &[f32], ws: &mut Workspace) {
    for (v, &channel) in llr.iter().enumerate().take(code.n) {
        let edges = code.edges_of_var(v);
        let total = f64::from(channel) + edges.iter().map(|&e| ws.c2v[e as usize]).sum::<f64>();
        ws.posterior[v] = total;
        ws.bits[v] = u8::from(total < 0.0);
        for &e in edges {
            ws.v2c[e as usize] = total - ws.c2v[e as usize];
        }
    }
}

/// Whether `bits` satisfies every check.
pub fn syndrome_is_zero(code: &Code, bits: &[u8]) -> bool {
    (0..code.m).all(|c| {
        code.edge_var[code.check_start[c]..code.check_start[c + 1]]
            .iter()
            .fold(0u8, |acc, &v| acc ^ bits[v as usize])
            == 0
    })
}

/// Starts a decoding: v2c from the channel, posterior = channel, hard decision of the channel.
pub fn initialize(code: &Code, llr: &[f32], ws: &mut Workspace) {
    for (e, &v) in code.edge_var.iter().enumerate() {
        ws.v2c[e] = f64::from(llr[v as usize]);
        ws.c2v[e] = 0.0;
    }
    for (v, &l) in llr.iter().enumerate().take(code.n) {
        ws.posterior[v] = f64::from(l);
        ws.bits[v] = u8::from(l < 0.0);
    }
}

/// Decodes one frame into `ws.bits`; `on_iteration` sees the messages after each iteration.
pub fn decode_with(
    code: &Code,
    rule: BpRule,
    max_iters: usize,
    llr: &[f32],
    ws: &mut Workspace,
    mut on_iteration: impl FnMut(&Workspace),
) -> Outcome {
    initialize(code, llr, ws);
    if syndrome_is_zero(code, &ws.bits) {
        return Outcome {
            iterations: 0,
            converged: true,
        };
    }
    for iteration in 1..=max_iters {
        update_checks(code, rule, ws);
        update_variables(code, llr, ws);
        on_iteration(ws);
        if syndrome_is_zero(code, &ws.bits) {
            return Outcome {
                iterations: iteration,
                converged: true,
            };
        }
    }
    Outcome {
        iterations: max_iters,
        converged: false,
    }
}

pub fn decode(
    code: &Code,
    rule: BpRule,
    max_iters: usize,
    llr: &[f32],
    ws: &mut Workspace,
) -> Outcome {
    decode_with(code, rule, max_iters, llr, ws, |_| {})
}

/// Decodes frames (`llr` row-major, n per frame) in parallel; the hard decisions, row-major.
pub fn decode_frames(
    code: &Code,
    rule: BpRule,
    max_iters: usize,
    llr: &[f32],
) -> (Vec<u8>, Vec<Outcome>) {
    let n = code.n;
    let mut bits = vec![0u8; llr.len()];
    let outcomes: Vec<Outcome> = bits
        .par_chunks_mut(n)
        .zip(llr.par_chunks(n))
        .map_init(
            || Workspace::for_code(code),
            |ws, (out, frame)| {
                let outcome = decode(code, rule, max_iters, frame, ws);
                out.copy_from_slice(&ws.bits);
                outcome
            },
        )
        .collect();
    (bits, outcomes)
}

/// One iteration's state of one frame, for the timeline and the panel.
#[derive(Clone, Debug, PartialEq)]
pub struct IterationState {
    pub v2c: Vec<f32>,
    pub c2v: Vec<f32>,
    pub posterior: Vec<f32>,
    /// What a learned component added to each c2v message this iteration (NEBP only).
    pub correction: Option<Vec<f32>>,
}

/// A decoding's trace: the state before the first iteration (channel LLRs), then after each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    pub iterations: Vec<IterationState>,
}

impl Trace {
    /// The hard decision after iteration `i` (0: the channel's).
    pub fn bits(&self, i: usize) -> Vec<u8> {
        self.iterations
            .get(i)
            .map(|s| s.posterior.iter().map(|&l| u8::from(l < 0.0)).collect())
            .unwrap_or_default()
    }
}

fn snapshot(ws: &Workspace) -> IterationState {
    let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect();
    IterationState {
        v2c: f(&ws.v2c),
        c2v: f(&ws.c2v),
        posterior: f(&ws.posterior),
        correction: None,
    }
}

/// Decodes one frame and keeps every iteration's messages.
pub fn decode_traced(code: &Code, rule: BpRule, max_iters: usize, llr: &[f32]) -> (Trace, Outcome) {
    let mut ws = Workspace::for_code(code);
    initialize(code, llr, &mut ws);
    let mut trace = Trace {
        iterations: vec![snapshot(&ws)],
    };
    let outcome = decode_with(code, rule, max_iters, llr, &mut ws, |ws| {
        trace.iterations.push(snapshot(ws));
    });
    (trace, outcome)
}

/// The textbook form, for the benchmark to measure the flat version against: messages in a
/// dense m × n matrix, allocated per iteration, every check walking every column.
pub mod naive {
    use super::{BpRule, Code};

    pub fn decode(code: &Code, rule: BpRule, max_iters: usize, llr: &[f32]) -> Vec<u8> {
        let (n, m) = (code.n, code.m);
        let rows = code.rows();
        let mut h = vec![vec![false; n]; m];
        for (c, row) in rows.iter().enumerate() {
            for &v in row {
                h[c][v] = true;
            }
        }
        let channel: Vec<f64> = llr.iter().map(|&l| f64::from(l)).collect();
        let mut v2c = vec![vec![0.0; n]; m];
        for c in 0..m {
            for v in 0..n {
                if h[c][v] {
                    v2c[c][v] = channel[v];
                }
            }
        }
        let mut bits: Vec<u8> = channel.iter().map(|&l| u8::from(l < 0.0)).collect();
        let satisfied = |bits: &[u8]| {
            (0..m).all(|c| (0..n).filter(|&v| h[c][v]).map(|v| bits[v]).sum::<u8>() % 2 == 0)
        };
        if satisfied(&bits) {
            return bits;
        }
        for _ in 0..max_iters {
            let mut c2v = vec![vec![0.0; n]; m];
            for c in 0..m {
                for v in 0..n {
                    if !h[c][v] {
                        continue;
                    }
                    let others = (0..n).filter(|&u| u != v && h[c][u]).map(|u| v2c[c][u]);
                    c2v[c][v] = match rule {
                        BpRule::SumProduct => {
                            let p: f64 = others.map(|x| (0.5 * x).tanh()).product();
                            (2.0 * p.clamp(-1.0 + 1e-15, 1.0 - 1e-15).atanh()).clamp(-60.0, 60.0)
                        }
                        BpRule::MinSum => {
                            let (sign, min) = others.fold((1.0, f64::INFINITY), |(s, mn), x| {
                                (if x < 0.0 { -s } else { s }, mn.min(x.abs()))
                            });
                            sign * if min.is_finite() { min } else { 0.0 }
                        }
                    };
                }
            }
            for v in 0..n {
                let total =
                    channel[v] + (0..m).filter(|&c| h[c][v]).map(|c| c2v[c][v]).sum::<f64>();
                bits[v] = u8::from(total < 0.0);
                for c in 0..m {
                    if h[c][v] {
                        v2c[c][v] = total - c2v[c][v];
                    }
                }
            }
            if satisfied(&bits) {
                break;
            }
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::ldpc::code::shipped;
    use crate::demos::ldpc::sim::{Channel, send_frames};

    /// Exact bit marginals by enumerating every codeword: P(x | y) ∝ Π exp(−x_v L_v) (x ∈ {0,1}).
    fn exact_posterior_llr(code: &Code, llr: &[f32]) -> Vec<f64> {
        let k = code.dimension();
        let mut zero = vec![0.0f64; code.n];
        let mut one = vec![0.0f64; code.n];
        for message in 0..(1u32 << k) {
            let bits: Vec<u8> = (0..k).map(|i| ((message >> i) & 1) as u8).collect();
            let word = code.encode(&bits);
            let log_p: f64 = word
                .iter()
                .zip(llr)
                .map(|(&b, &l)| {
                    if b == 1 {
                        -f64::from(l) / 2.0
                    } else {
                        f64::from(l) / 2.0
                    }
                })
                .sum();
            let p = log_p.exp();
            for (v, &b) in word.iter().enumerate() {
                if b == 1 {
                    one[v] += p;
                } else {
                    zero[v] += p;
                }
            }
        }
        zero.iter().zip(&one).map(|(z, o)| (z / o).ln()).collect()
    }

    fn run_to_fixed_point(code: &Code, llr: &[f32], iterations: usize) -> Vec<f64> {
        let mut ws = Workspace::for_code(code);
        initialize(code, llr, &mut ws);
        for _ in 0..iterations {
            update_checks(code, BpRule::SumProduct, &mut ws);
            update_variables(code, llr, &mut ws);
        }
        ws.posterior.clone()
    }

    #[test]
    fn sum_product_is_exact_on_a_tree_shaped_code() {
        // Checks {0,1,2}, {2,3,4}, {4,5}, {1,6}: a Tanner graph without cycles.
        let code = Code::from_rows(
            "tree",
            7,
            &[vec![0, 1, 2], vec![2, 3, 4], vec![4, 5], vec![1, 6]],
        )
        .expect("code");
        let llr = [0.8f32, -0.3, 1.2, -0.7, 0.4, 2.0, -1.1];
        let exact = exact_posterior_llr(&code, &llr);
        let bp = run_to_fixed_point(&code, &llr, 10);
        for (e, b) in exact.iter().zip(&bp) {
            assert!((e - b).abs() < 1e-9, "exact {exact:?} vs BP {bp:?}");
        }
    }

    #[test]
    fn sum_product_is_close_to_exact_on_a_small_loopy_code() {
        // The (7,4) Hamming code: loops of length 4.
        let code = Code::from_rows(
            "hamming",
            7,
            &[vec![0, 1, 2, 4], vec![0, 1, 3, 5], vec![0, 2, 3, 6]],
        )
        .expect("code");
        let llr = [1.5f32, 0.9, -0.4, 2.1, 1.7, 0.6, 1.2];
        let exact = exact_posterior_llr(&code, &llr);
        let bp = run_to_fixed_point(&code, &llr, 30);
        for (e, b) in exact.iter().zip(&bp) {
            assert_eq!(e.signum(), b.signum(), "exact {exact:?} vs BP {bp:?}");
            assert!((e - b).abs() < 0.6, "exact {exact:?} vs BP {bp:?}");
        }
    }

    #[test]
    fn min_sum_on_one_check_is_sign_times_smallest_other() {
        let incoming = [2.0, -0.5, 3.0, -4.0];
        let mut out = [0.0; 4];
        min_sum_check(&incoming, &mut out);
        assert_eq!(out, [0.5, -2.0, 0.5, -0.5]);
        let mut t = [0.0; 4];
        let mut p = [0.0; 5];
        sum_product_check(&incoming, &mut out, &mut t, &mut p);
        let expect = |skip: usize| {
            let prod: f64 = (0..4)
                .filter(|&j| j != skip)
                .map(|j| (incoming[j] / 2.0).tanh())
                .product();
            2.0 * prod.atanh()
        };
        for (i, o) in out.iter().enumerate() {
            assert!((o - expect(i)).abs() < 1e-12);
        }
    }

    #[test]
    fn a_noiseless_codeword_decodes_to_itself_and_noise_is_corrected() {
        let code = shipped("96.3.963").expect("code");
        let frames = send_frames(&code, &Channel::awgn(4.0), 50, 3);
        for rule in [BpRule::SumProduct, BpRule::MinSum] {
            let clean: Vec<f32> = frames
                .bits
                .iter()
                .map(|&b| if b == 0 { 4.0 } else { -4.0 })
                .collect();
            let (bits, outcomes) = decode_frames(&code, rule, 20, &clean);
            assert_eq!(bits, frames.bits);
            assert!(outcomes.iter().all(|o| o.iterations == 0 && o.converged));
            let (bits, _) = decode_frames(&code, rule, 20, &frames.llr);
            let errors = bits
                .iter()
                .zip(&frames.bits)
                .filter(|(a, b)| a != b)
                .count();
            let raw = frames
                .llr
                .iter()
                .zip(&frames.bits)
                .filter(|(l, b)| (**l < 0.0) != (**b == 1))
                .count();
            assert!(
                errors * 4 < raw,
                "{rule:?}: {errors} errors after, {raw} before"
            );
        }
    }

    #[test]
    fn the_flat_decoder_agrees_with_the_naive_one() {
        let code = shipped("ccsds-128-64").expect("code");
        let frames = send_frames(&code, &Channel::awgn(1.5), 30, 9);
        for rule in [BpRule::SumProduct, BpRule::MinSum] {
            let (bits, _) = decode_frames(&code, rule, 15, &frames.llr);
            for i in 0..frames.count() {
                let naive = naive::decode(&code, rule, 15, frames.frame_llr(i));
                assert_eq!(
                    &bits[i * code.n..(i + 1) * code.n],
                    &naive[..],
                    "{rule:?} frame {i}"
                );
            }
        }
    }

    #[test]
    fn the_trace_holds_every_iteration() {
        let code = shipped("96.3.963").expect("code");
        let frames = send_frames(&code, &Channel::awgn(1.0), 1, 4);
        let (trace, outcome) = decode_traced(&code, BpRule::SumProduct, 20, &frames.llr);
        assert_eq!(trace.iterations.len(), outcome.iterations + 1);
        assert_eq!(trace.iterations[0].c2v, vec![0.0; code.edges()]);
        let mut ws = Workspace::for_code(&code);
        decode(&code, BpRule::SumProduct, 20, &frames.llr, &mut ws);
        assert_eq!(trace.bits(outcome.iterations), ws.bits);
    }
}
