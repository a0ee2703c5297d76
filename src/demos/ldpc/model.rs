//! The learned inverses, BP unrolled as a recurrent network in burn (one code path on every
//! device):
//!
//! - **nbp** (amortized; Nachmani, Be'ery & Burshtein 2016): weighted sum-product BP. Each
//!   iteration t has three learned weights, on the messages into the checks, on the channel LLRs
//!   and on the check messages summed at the variables. They are shared by all edges (Nachmani
//!   learns one per edge), so one model decodes any code; all ones is plain BP.
//! - **nebp** (augmented; Garcia Satorras & Welling 2021): the same BP with a graph network on
//!   the same factor graph running beside it. Each iteration the network reads BP's messages and
//!   the channel LLRs on every edge, updates hidden states of checks and variables (gated, weights
//!   shared over nodes, edges and iterations) and adds a correction to every check-to-variable
//!   message before the variables update. It sees only LLRs: no SNR, no σ_b, no channel label.
//!
//! Tensors are `[frames, edges]` (messages), `[frames, n]` (posteriors) and
//! `[frames, nodes, hidden]`; edges are in the code's check-major order.

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::code::Code;
use super::methods::LearnedDecoder;
use crate::activation::{sigmoid, tanh};
use crate::stored_model::{self, NetSpec, Shipped};

/// The largest |tanh(m/2)| a check passes on: messages stay within ±2 atanh(1 − 1e-6) ≈ ±14.5
/// in f32.
const TANH_LIMIT: f32 = 1.0 - 1e-6;
/// Messages and LLRs are divided by this before entering the graph network.
const FEATURE_SCALE: f32 = 8.0;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum NetKind {
    Nbp,
    Nebp,
}

impl NetKind {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Nbp => "nbp",
            Self::Nebp => "nebp",
        }
    }
}

/// Everything needed to rebuild a model (saved in its file's header).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetConfig {
    pub kind: NetKind,
    /// Iterations unrolled in training (and weights learned for); later iterations reuse the
    /// last iteration's weights.
    pub iterations: usize,
    /// Hidden state size of the graph network (nebp).
    pub hidden: usize,
}

impl NetConfig {
    /// The default config of `kind`.
    pub fn of(kind: NetKind) -> Self {
        match kind {
            NetKind::Nbp => Self::nbp(),
            NetKind::Nebp => Self::nebp(),
        }
    }

    pub fn nbp() -> Self {
        Self {
            kind: NetKind::Nbp,
            iterations: 20,
            hidden: 0,
        }
    }

    pub fn nebp() -> Self {
        Self {
            kind: NetKind::Nebp,
            iterations: 20,
            hidden: 16,
        }
    }
}

/// A code's Tanner graph as index tensors on a device. Padding slots point at an extra column
/// appended to the edge tensors: 1 for tanh products (neutral), 0 for sums.
#[derive(Clone, Debug)]
pub struct GraphIndex {
    pub n: usize,
    pub m: usize,
    pub edges: usize,
    check_degree_max: usize,
    var_degree_max: usize,
    /// `[m · dc]`: the edge in each check slot (`edges` = padding).
    check_slots: Tensor<1, Int>,
    /// `[edges]`: each edge's slot in the check-major `[m · dc]` layout.
    edge_slot: Tensor<1, Int>,
    /// `[n · dv]`: the edge in each variable slot (`edges` = padding).
    var_slots: Tensor<1, Int>,
    edge_var: Tensor<1, Int>,
    edge_check: Tensor<1, Int>,
    /// `[1, m, 1]` and `[1, n, 1]`: 1/degree, for mean aggregation.
    check_inv_degree: Tensor<3>,
    var_inv_degree: Tensor<3>,
}

impl GraphIndex {
    pub fn new(code: &Code, device: &Device) -> Self {
        let (n, m, edges) = (code.n, code.m, code.edges());
        let (dc, dv) = (code.max_check_degree().max(1), code.max_var_degree().max(1));
        let mut check_slots = vec![edges as i32; m * dc];
        let mut edge_slot = vec![0i32; edges];
        for c in 0..m {
            for (i, e) in (code.check_start[c]..code.check_start[c + 1]).enumerate() {
                check_slots[c * dc + i] = e as i32;
                edge_slot[e] = (c * dc + i) as i32;
            }
        }
        let mut var_slots = vec![edges as i32; n * dv];
        for v in 0..n {
            for (i, &e) in code.edges_of_var(v).iter().enumerate() {
                var_slots[v * dv + i] = e as i32;
            }
        }
        let ints = |values: Vec<i32>| {
            let len = values.len();
            Tensor::<1, Int>::from_ints(TensorData::new(values, [len]), device)
        };
        let inverse = |degrees: Vec<f32>| {
            let len = degrees.len();
            let inv: Vec<f32> = degrees.iter().map(|d| 1.0 / d.max(1.0)).collect();
            Tensor::<3>::from_data(TensorData::new(inv, [1, len, 1]), device)
        };
        let check_degrees = code
            .check_start
            .windows(2)
            .map(|w| (w[1] - w[0]) as f32)
            .collect();
        let var_degrees = code
            .var_start
            .windows(2)
            .map(|w| (w[1] - w[0]) as f32)
            .collect();
        Self {
            n,
            m,
            edges,
            check_degree_max: dc,
            var_degree_max: dv,
            check_slots: ints(check_slots),
            edge_slot: ints(edge_slot),
            var_slots: ints(var_slots),
            edge_var: ints(code.edge_var.iter().map(|&v| v as i32).collect()),
            edge_check: ints(code.edge_check.iter().map(|&c| c as i32).collect()),
            check_inv_degree: inverse(check_degrees),
            var_inv_degree: inverse(var_degrees),
        }
    }

    /// Sum-product at every check: `[B, E]` variable-to-check messages in, check-to-variable out.
    pub fn check_update(&self, v2c: Tensor<2>) -> Tensor<2> {
        let [b, _] = v2c.dims();
        let device = v2c.device();
        let t = tanh(v2c * 0.5);
        let padded = Tensor::cat(vec![t, Tensor::ones([b, 1], &device)], 1);
        let slots: Tensor<3> =
            padded
                .select(1, self.check_slots.clone())
                .reshape([b, self.m, self.check_degree_max]);
        let log_abs = slots.clone().abs().clamp_min(1e-7).log();
        let others_log = log_abs.clone().sum_dim(2) - log_abs;
        let signs = (slots.ones_like() - slots.lower_elem(0.0).float() * 2.0).detach();
        let others_sign = signs.clone().prod_dim(2) * signs;
        let p = (others_sign * others_log.exp()).clamp(-TANH_LIMIT, TANH_LIMIT);
        let c2v = ((p.clone() + 1.0) / (p.neg() + 1.0)).log();
        c2v.reshape([b, self.m * self.check_degree_max])
            .select(1, self.edge_slot.clone())
    }

    /// Sums `[B, E]` edge values at each variable: `[B, n]`.
    pub fn sum_at_variables(&self, per_edge: Tensor<2>) -> Tensor<2> {
        let [b, _] = per_edge.dims();
        let device = per_edge.device();
        Tensor::cat(vec![per_edge, Tensor::zeros([b, 1], &device)], 1)
            .select(1, self.var_slots.clone())
            .reshape([b, self.n, self.var_degree_max])
            .sum_dim(2)
            .reshape([b, self.n])
    }

    /// `[B, n]` per-variable values on each edge: `[B, E]`.
    pub fn at_edges(&self, per_var: Tensor<2>) -> Tensor<2> {
        per_var.select(1, self.edge_var.clone())
    }

    /// Mean of `[B, E, H]` edge features over each check's edges: `[B, m, H]`.
    fn mean_at_checks(&self, per_edge: Tensor<3>) -> Tensor<3> {
        let [b, _, h] = per_edge.dims();
        let device = per_edge.device();
        Tensor::cat(vec![per_edge, Tensor::zeros([b, 1, h], &device)], 1)
            .select(1, self.check_slots.clone())
            .reshape([b, self.m, self.check_degree_max, h])
            .sum_dim(2)
            .reshape([b, self.m, h])
            * self.check_inv_degree.clone()
    }

    /// Mean of `[B, E, H]` edge features over each variable's edges: `[B, n, H]`.
    fn mean_at_variables(&self, per_edge: Tensor<3>) -> Tensor<3> {
        let [b, _, h] = per_edge.dims();
        let device = per_edge.device();
        Tensor::cat(vec![per_edge, Tensor::zeros([b, 1, h], &device)], 1)
            .select(1, self.var_slots.clone())
            .reshape([b, self.n, self.var_degree_max, h])
            .sum_dim(2)
            .reshape([b, self.n, h])
            * self.var_inv_degree.clone()
    }
}

/// A gated update of node states (a GRU cell without its reset gate).
#[derive(Module, Debug)]
pub struct GatedUpdate {
    gate: Linear,
    candidate: Linear,
}

impl GatedUpdate {
    fn new(inputs: usize, hidden: usize, device: &Device) -> Self {
        Self {
            gate: LinearConfig::new(inputs + hidden, hidden).init(device),
            candidate: LinearConfig::new(inputs + hidden, hidden).init(device),
        }
    }

    fn forward(&self, state: Tensor<3>, input: Tensor<3>) -> Tensor<3> {
        let both = Tensor::cat(vec![state.clone(), input], 2);
        let z = sigmoid(self.gate.forward(both.clone()));
        let candidate = tanh(self.candidate.forward(both));
        state.clone() + z * (candidate - state)
    }
}

/// An edge network: two layers from the edge's two endpoint states and its features.
#[derive(Module, Debug)]
pub struct EdgeNet {
    first: Linear,
    second: Linear,
}

impl EdgeNet {
    fn new(inputs: usize, hidden: usize, outputs: usize, zero_last: bool, device: &Device) -> Self {
        let mut second = LinearConfig::new(hidden, outputs);
        if zero_last {
            // Starts as plain BP: no correction until training finds one.
            second = second.with_initializer(Initializer::Zeros);
        }
        Self {
            first: LinearConfig::new(inputs, hidden).init(device),
            second: second.init(device),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.second.forward(relu(self.first.forward(x)))
    }
}

/// The graph network of NEBP.
#[derive(Module, Debug)]
pub struct Gnn {
    var_init: Linear,
    to_check: EdgeNet,
    check_update: GatedUpdate,
    to_var: EdgeNet,
    var_update: GatedUpdate,
    correction: EdgeNet,
}

/// Edge features the network reads: BP's check-to-variable and variable-to-check messages and
/// the channel LLR of the edge's variable.
const EDGE_FEATURES: usize = 3;

impl Gnn {
    fn new(hidden: usize, device: &Device) -> Self {
        let edge_inputs = 2 * hidden + EDGE_FEATURES;
        Self {
            var_init: LinearConfig::new(1, hidden).init(device),
            to_check: EdgeNet::new(edge_inputs, hidden, hidden, false, device),
            check_update: GatedUpdate::new(hidden, hidden, device),
            to_var: EdgeNet::new(edge_inputs, hidden, hidden, false, device),
            var_update: GatedUpdate::new(hidden, hidden, device),
            correction: EdgeNet::new(edge_inputs, hidden, 1, true, device),
        }
    }
}

/// A learned decoder: per-iteration BP weights `[iterations, 3]` and, for NEBP, the network.
#[derive(Module, Debug)]
pub struct DecoderNet {
    weights: Param<Tensor<2>>,
    gnn: Option<Gnn>,
}

impl DecoderNet {
    pub fn new(config: &NetConfig, device: &Device) -> Self {
        Self {
            weights: Param::from_tensor(Tensor::ones([config.iterations, 3], device)),
            gnn: (config.kind == NetKind::Nebp).then(|| Gnn::new(config.hidden, device)),
        }
    }

    /// The learned BP weights (into checks, channel, check messages), per iteration.
    pub fn bp_weights(&self) -> Vec<[f32; 3]> {
        self.weights
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default()
            .chunks(3)
            .map(|w| [w[0], w[1], w[2]])
            .collect()
    }
}

/// One unrolled iteration's outputs.
pub struct StepOutput {
    /// `[B, n]` posterior LLRs.
    pub posterior: Tensor<2>,
    /// `[B, E]` the check-to-variable messages the variables used (corrected, for NEBP).
    pub c2v: Tensor<2>,
    /// `[B, E]` the new variable-to-check messages.
    pub v2c: Tensor<2>,
    /// `[B, E]` the network's correction (NEBP).
    pub correction: Option<Tensor<2>>,
}

impl DecoderNet {
    /// Runs `iterations` of the learned decoder on `[B, n]` channel LLRs.
    pub fn forward(
        &self,
        llr: Tensor<2>,
        graph: &GraphIndex,
        iterations: usize,
    ) -> Vec<StepOutput> {
        self.run_until(llr, graph, iterations, |_| false)
    }

    /// Like [`forward`](Self::forward), stopping early once `done` says so after an iteration.
    pub fn run_until(
        &self,
        llr: Tensor<2>,
        graph: &GraphIndex,
        iterations: usize,
        mut done: impl FnMut(&StepOutput) -> bool,
    ) -> Vec<StepOutput> {
        let [b, n] = llr.dims();
        let trained = self.weights.val().dims()[0];
        let llr_edges = graph.at_edges(llr.clone());
        let edge_llr_feature = (llr_edges.clone() / FEATURE_SCALE).reshape([b, graph.edges, 1]);
        let mut v2c = llr_edges;
        let mut states = self.gnn.as_ref().map(|gnn| {
            let h_var = tanh(
                gnn.var_init
                    .forward((llr.clone() / FEATURE_SCALE).reshape([b, n, 1])),
            );
            let hidden = h_var.dims()[2];
            let h_check = Tensor::zeros([b, graph.m, hidden], &llr.device());
            (h_var, h_check)
        });
        let mut outputs = Vec::with_capacity(iterations);
        for t in 0..iterations {
            let w = self
                .weights
                .val()
                .narrow(0, t.min(trained - 1), 1)
                .reshape([1, 3]);
            let w_in = w.clone().narrow(1, 0, 1);
            let w_channel = w.clone().narrow(1, 1, 1);
            let w_checks = w.narrow(1, 2, 1);
            let bp_c2v = graph.check_update(v2c.clone() * w_in);
            let (c2v, correction) = match (&self.gnn, states.take()) {
                (Some(gnn), Some((h_var, h_check))) => {
                    let features = Tensor::cat(
                        vec![
                            (bp_c2v.clone() / FEATURE_SCALE).reshape([b, graph.edges, 1]),
                            (v2c.clone() / FEATURE_SCALE).reshape([b, graph.edges, 1]),
                            edge_llr_feature.clone(),
                        ],
                        2,
                    );
                    let edge_input = |h_var: &Tensor<3>, h_check: &Tensor<3>| {
                        Tensor::cat(
                            vec![
                                h_var.clone().select(1, graph.edge_var.clone()),
                                h_check.clone().select(1, graph.edge_check.clone()),
                                features.clone(),
                            ],
                            2,
                        )
                    };
                    let to_check = gnn.to_check.forward(edge_input(&h_var, &h_check));
                    let h_check = gnn
                        .check_update
                        .forward(h_check, graph.mean_at_checks(to_check));
                    let to_var = gnn.to_var.forward(edge_input(&h_var, &h_check));
                    let h_var = gnn
                        .var_update
                        .forward(h_var, graph.mean_at_variables(to_var));
                    let delta = gnn
                        .correction
                        .forward(edge_input(&h_var, &h_check))
                        .reshape([b, graph.edges])
                        * FEATURE_SCALE;
                    states = Some((h_var, h_check));
                    (bp_c2v + delta.clone(), Some(delta))
                }
                _ => (bp_c2v, None),
            };
            let weighted = c2v.clone() * w_checks;
            let posterior = llr.clone() * w_channel + graph.sum_at_variables(weighted.clone());
            v2c = graph.at_edges(posterior.clone()) - weighted;
            let output = StepOutput {
                posterior,
                c2v,
                v2c: v2c.clone(),
                correction,
            };
            let stop = done(&output);
            outputs.push(output);
            if stop {
                break;
            }
        }
        outputs
    }
}

/// The training loss: binary cross-entropy of every iteration's posterior against the sent
/// bits, averaged over bits and frames and summed over iterations. `bits`: `[B, n]` of 0/1.
pub fn unrolled_loss(outputs: &[StepOutput], bits: Tensor<2>) -> Tensor<1> {
    // P(bit = 1) = σ(−L): the loss is softplus(−L) + x·L, written stably.
    let terms: Vec<Tensor<1>> = outputs
        .iter()
        .map(|o| {
            let l = o.posterior.clone();
            let softplus = relu(l.clone().neg()) + (l.clone().abs().neg().exp() + 1.0).log();
            (softplus + bits.clone() * l).mean().reshape([1])
        })
        .collect();
    Tensor::cat(terms, 0).sum()
}

/// The model file of an NBP or NEBP decoder (its kind: `nbp` or `nebp`).
impl NetSpec for NetConfig {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[
        (
            NetKind::Nbp.name(),
            include_bytes!("../../../assets/ldpc-nbp.mpk"),
        ),
        (
            NetKind::Nebp.name(),
            include_bytes!("../../../assets/ldpc-nebp.mpk"),
        ),
    ];
    type Net = DecoderNet;

    fn file_kind(&self) -> &'static str {
        self.kind.name()
    }
    fn validate(&self) -> Result<(), String> {
        if self.iterations == 0 || self.iterations > 200 {
            return Err(format!(
                "iterations must be in 1..=200, not {}",
                self.iterations
            ));
        }
        if self.kind == NetKind::Nebp && !(1..=256).contains(&self.hidden) {
            return Err(format!("hidden must be in 1..=256, not {}", self.hidden));
        }
        Ok(())
    }
    fn build(&self, device: &Device) -> DecoderNet {
        DecoderNet::new(self, device)
    }
}

/// `--model F` when given, else the shipped model of `kind`.
pub fn load_or_shipped(
    path: Option<&std::path::Path>,
    kind: NetKind,
    device: &Device,
) -> anyhow::Result<LearnedDecoder> {
    stored_model::load_or_shipped(path, kind.name(), device)
}

/// A model file of either kind.
pub fn load_any(path: &std::path::Path, device: &Device) -> anyhow::Result<LearnedDecoder> {
    stored_model::load_any(path, device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::ldpc::classical::{
        BpRule, Workspace, initialize, update_checks, update_variables,
    };
    use crate::demos::ldpc::code::shipped;
    use crate::demos::ldpc::methods::{ErrorCounts, Method, decode_frames};
    use crate::demos::ldpc::sim::{Channel, send_frames};

    fn tensor(values: &[f32], b: usize, n: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values.to_vec(), [b, n]), device)
    }

    #[test]
    fn untrained_nbp_and_nebp_are_plain_bp() {
        let device = Device::flex();
        let code = shipped("ccsds-128-64").expect("code");
        let frames = send_frames(&code, &Channel::awgn(2.0), 3, 5);
        let graph = GraphIndex::new(&code, &device);
        let llr = tensor(&frames.llr, 3, code.n, &device);
        for config in [NetConfig::nbp(), NetConfig::nebp()] {
            let net = DecoderNet::new(&config, &device);
            let outputs = net.forward(llr.clone(), &graph, 4);
            assert_eq!(outputs.len(), 4);
            assert_eq!(outputs[0].posterior.dims(), [3, code.n]);
            assert_eq!(outputs[0].c2v.dims(), [3, code.edges()]);
            for f in 0..3 {
                let frame = frames.frame_llr(f);
                let mut ws = Workspace::for_code(&code);
                initialize(&code, frame, &mut ws);
                for o in &outputs {
                    update_checks(&code, BpRule::SumProduct, &mut ws);
                    update_variables(&code, frame, &mut ws);
                    let got: Vec<f32> = o
                        .posterior
                        .clone()
                        .narrow(0, f, 1)
                        .into_data()
                        .try_to_vec()
                        .expect("f32");
                    for (g, want) in got.iter().zip(&ws.posterior) {
                        // Agreement up to f32 and the message limit of ±14.5.
                        assert!(
                            (f64::from(*g) - want).abs() < 1e-2 * (1.0 + want.abs())
                                || want.abs() > 12.0,
                            "{:?}: {g} vs {want}",
                            config.kind
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn nebp_loss_falls_on_a_tiny_problem() {
        use crate::training::descend;
        use burn::optim::AdamConfig;
        let device = Device::flex().autodiff();
        device.seed(1);
        let code = shipped("96.3.963").expect("code");
        let frames = send_frames(
            &code,
            &Channel {
                eb_n0_db: 2.0,
                burst_sigma: 3.0,
            },
            16,
            2,
        );
        let graph = GraphIndex::new(&code, &device);
        let llr = tensor(&frames.llr, 16, code.n, &device);
        let bits: Vec<f32> = frames.bits.iter().map(|&b| f32::from(b)).collect();
        let bits = tensor(&bits, 16, code.n, &device);
        let config = NetConfig {
            iterations: 3,
            hidden: 8,
            ..NetConfig::nebp()
        };
        let mut net = DecoderNet::new(&config, &device);
        let mut optimizer = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..30 {
            let outputs = net.forward(llr.clone(), &graph, 3);
            let loss;
            (net, loss) = descend(
                net,
                unrolled_loss(&outputs, bits.clone()),
                &mut optimizer,
                1e-2,
            );
            losses.push(loss);
        }
        assert!(losses.iter().all(|l| l.is_finite()));
        assert!(losses[29] < 0.9 * losses[0], "{losses:?}");
    }

    #[test]
    fn shipped_models_load_and_nebp_beats_bp_under_bursts_on_another_code() {
        let device = Device::flex();
        let code = shipped("ccsds-128-64").expect("code");
        let frames = send_frames(
            &code,
            &Channel {
                eb_n0_db: 4.0,
                burst_sigma: 3.0,
            },
            400,
            77,
        );
        let errors = |method: Method| {
            let learned = method
                .model_kind()
                .map(|k| stored_model::shipped(k.name(), &device).expect("shipped model"));
            let (bits, _) =
                decode_frames(method, &code, &frames.llr, 20, learned.as_ref(), &device)
                    .expect("decode");
            ErrorCounts::count(&bits, &frames.bits, code.n).bit_errors
        };
        let (bp, nbp, nebp) = (
            errors(Method::Bp),
            errors(Method::Nbp),
            errors(Method::Nebp),
        );
        assert!(nbp <= bp + bp / 10, "nbp {nbp} vs bp {bp}");
        assert!(nebp < bp, "nebp {nebp} vs bp {bp}");
    }
}
