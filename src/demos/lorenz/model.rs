//! The learned inverses of the Lorenz demo, after Garcia Satorras, Akata & Welling (2019):
//! a graph network over the chain of time steps, unrolled for `iterations` steps.
//!
//! - **hybrid** (augmented): at every iteration the messages of the known model — the gradient
//!   of log p(y, x) under the Taylor dynamics, so that with no learned correction the unrolled
//!   iterations are gradient ascent to the MAP smoother of the Taylor model — are
//!   handed to the GNN as edge features, and the estimate moves by
//!   `x ← x + γ (ε_GNN + m_prev + m_obs + m_next)`;
//! - **gnn** (amortized): the same network without the model's messages, predicting
//!   `x = y + ε_GNN` from the observations alone.

use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::{Matrix3, Vector3};

use super::classical::{Dynamics, NoiseModel, TaylorDynamics};
use super::sim::State;
use crate::activation::tanh;
use crate::stored_model::{self, Learned, NetSpec, Shipped};

/// Everything needed to rebuild a model (saved in its file's header).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChainModelConfig {
    /// `true`: hybrid (model messages + learned correction); `false`: GNN only.
    pub use_prior: bool,
    pub hidden: usize,
    /// Unrolled inference iterations.
    pub iterations: usize,
    /// Step size of the hybrid's update.
    pub gamma: f64,
    /// The prior's dynamics and noise (the hybrid's messages).
    pub taylor_order: usize,
    pub process_std: f64,
    pub obs_std: f64,
    pub dt: f64,
}

/// The two chain models: the graph network alone, or the hybrid with the smoother's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ChainKind {
    Gnn,
    Hybrid,
}

impl ChainKind {
    pub const ALL: [ChainKind; 2] = [ChainKind::Gnn, ChainKind::Hybrid];

    /// The name on the command line and in model files.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Gnn => "gnn",
            Self::Hybrid => "hybrid",
        }
    }

    /// The default config of this kind.
    pub fn config(self) -> ChainModelConfig {
        match self {
            Self::Gnn => ChainModelConfig::gnn_only(),
            Self::Hybrid => ChainModelConfig::hybrid(),
        }
    }
}

impl ChainModelConfig {
    pub fn hybrid() -> Self {
        Self {
            use_prior: true,
            hidden: 32,
            iterations: 20,
            gamma: 0.05,
            taylor_order: 3,
            process_std: 3.0,
            obs_std: 0.5,
            dt: 0.05,
        }
    }

    pub fn gnn_only() -> Self {
        Self {
            use_prior: false,
            ..Self::hybrid()
        }
    }

    pub fn kind(&self) -> ChainKind {
        if self.use_prior {
            ChainKind::Hybrid
        } else {
            ChainKind::Gnn
        }
    }

    fn noise(&self) -> NoiseModel {
        NoiseModel {
            process_std: self.process_std,
            obs_std: self.obs_std,
            dt: self.dt,
        }
    }

    fn dynamics(&self) -> TaylorDynamics {
        TaylorDynamics {
            order: self.taylor_order,
            dt: self.dt,
        }
    }
}

/// Coordinates are divided by this before entering the network (the attractor spans ~±25).
const INPUT_SCALE: f32 = 10.0;
/// Model messages are divided by this before entering the network.
const MESSAGE_SCALE: f32 = 10.0;

/// The model's messages to every node, for chains that start at each `true` of `starts`.
/// With `f(x) = F_J(x) x` and `D_t` its Jacobian at `x_t`:
/// `m_prev[t] = −Q⁻¹ (x_t − f(x_{t−1}))`, `m_obs[t] = R⁻¹ (y_t − x_t)`,
/// `m_next[t] = D_tᵀ Q⁻¹ (x_{t+1} − f(x_t))`: together minus the gradient of the negative log
/// joint. (The paper's messages use `F_tᵀ` in place of `D_tᵀ`, the gradient with every F held
/// fixed; their fixed point is not the MAP and is worse than the EKS: test MSE 0.174 vs 0.127
/// for the exact gradient, J = 3, q = 3, so an untrained or little-trained hybrid lost to it.)
pub struct PriorMessages {
    pub prev: Vec<State>,
    pub obs: Vec<State>,
    pub next: Vec<State>,
}

pub fn prior_messages(
    x: &[State],
    y: &[State],
    starts: &[bool],
    dynamics: &TaylorDynamics,
    noise: &NoiseModel,
) -> PriorMessages {
    let n = x.len();
    let q_inv = 1.0 / (noise.process_std * noise.process_std * noise.dt);
    let r_inv = 1.0 / (noise.obs_std * noise.obs_std);
    let xs: Vec<Vector3<f64>> = x.iter().map(|v| Vector3::from(*v)).collect();
    let predicted: Vec<Vector3<f64>> = xs.iter().map(|v| dynamics.step(v)).collect();
    let jacobians: Vec<Matrix3<f64>> = xs.iter().map(|v| dynamics.jacobian(v)).collect();
    let zero = [0.0; 3];
    let to_state = |v: Vector3<f64>| [v[0], v[1], v[2]];
    let mut messages = PriorMessages {
        prev: vec![zero; n],
        obs: vec![zero; n],
        next: vec![zero; n],
    };
    for t in 0..n {
        messages.obs[t] = to_state((Vector3::from(y[t]) - xs[t]) * r_inv);
        if t > 0 && !starts[t] {
            messages.prev[t] = to_state(-(xs[t] - predicted[t - 1]) * q_inv);
        }
        if t + 1 < n && !starts[t + 1] {
            messages.next[t] =
                to_state(jacobians[t].transpose() * (xs[t + 1] - predicted[t]) * q_inv);
        }
    }
    messages
}

#[derive(Module, Debug)]
pub struct EdgeMlp {
    first: Linear,
    second: Linear,
}

impl EdgeMlp {
    fn new(inputs: usize, hidden: usize, device: &Device) -> Self {
        Self {
            first: LinearConfig::new(inputs, hidden).init(device),
            second: LinearConfig::new(hidden, hidden).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = leaky_relu(self.first.forward(x), 0.01);
        leaky_relu(self.second.forward(h), 0.01)
    }
}

/// The graph network over the chain: nodes are time steps, edges go to each node from its
/// predecessor, its successor and its observation.
#[derive(Module, Debug)]
pub struct ChainGnn {
    embed_observation: Linear,
    edge_from_prev: EdgeMlp,
    edge_from_next: EdgeMlp,
    edge_from_obs: EdgeMlp,
    node: Linear,
    gru: Gru,
    decode_hidden: Linear,
    decode_out: Linear,
}

impl ChainGnn {
    pub fn new(config: &ChainModelConfig, device: &Device) -> Self {
        let h = config.hidden;
        let message_dims = if config.use_prior { 3 } else { 0 };
        Self {
            embed_observation: LinearConfig::new(6, h).init(device),
            edge_from_prev: EdgeMlp::new(2 * h + message_dims, h, device),
            edge_from_next: EdgeMlp::new(2 * h + message_dims, h, device),
            edge_from_obs: EdgeMlp::new(2 * h + message_dims, h, device),
            node: LinearConfig::new(h, h).init(device),
            gru: GruConfig::new(h, h, true).init(device),
            decode_hidden: LinearConfig::new(h, h).init(device),
            // Zero: the untrained hybrid is plain gradient ascent on the model's log joint (the
            // MAP smoother), the untrained GNN returns the observations; learning starts there.
            decode_out: LinearConfig::new(h, 3)
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }
}

/// A chain model ready to run: network and config.
pub type ChainModel = Learned<ChainModelConfig>;

/// Rows of `data` as an `[n, 3]` tensor, scaled.
fn states_tensor(data: &[State], scale: f32, device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = data
        .iter()
        .flat_map(|s| s.iter().map(move |v| *v as f32 / scale))
        .collect();
    Tensor::from_data(TensorData::new(flat, [data.len(), 3]), device)
}

fn tensor_states(t: &Tensor<2>, scale: f32) -> Vec<State> {
    let values: Vec<f32> = t.to_data().try_to_vec::<f32>().unwrap_or_default();
    values
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]].map(|v| f64::from(v * scale)))
        .collect()
}

/// Rows shifted by one along the chain (`[n, d]`): `shift_down` puts row t−1 at t, the first
/// row zero (a chain of one row has no neighbour: only zeros).
fn shift_down(t: Tensor<2>) -> Tensor<2> {
    let [n, d] = t.dims();
    let device = t.device();
    if n <= 1 {
        return Tensor::zeros([n, d], &device);
    }
    Tensor::cat(
        vec![Tensor::zeros([1, d], &device), t.narrow(0, 0, n - 1)],
        0,
    )
}

/// Row i takes row i + 1; the last row is zero.
fn shift_up(t: Tensor<2>) -> Tensor<2> {
    let [n, d] = t.dims();
    let device = t.device();
    if n <= 1 {
        return Tensor::zeros([n, d], &device);
    }
    Tensor::cat(
        vec![t.narrow(0, 1, n - 1), Tensor::zeros([1, d], &device)],
        0,
    )
}

/// `[n, 1]` masks: whether node t has a predecessor / a successor in its own chain.
fn edge_masks(starts: &[bool], device: &Device) -> (Tensor<2>, Tensor<2>) {
    let n = starts.len();
    let has_prev: Vec<f32> = (0..n)
        .map(|t| f32::from(u8::from(t > 0 && !starts[t])))
        .collect();
    let has_next: Vec<f32> = (0..n)
        .map(|t| f32::from(u8::from(t + 1 < n && !starts[t + 1])))
        .collect();
    (
        Tensor::from_data(TensorData::new(has_prev, [n, 1]), device),
        Tensor::from_data(TensorData::new(has_next, [n, 1]), device),
    )
}

impl ChainModel {
    pub fn new(config: ChainModelConfig, device: &Device) -> Self {
        Self {
            net: ChainGnn::new(&config, device),
            config,
        }
    }

    /// Runs inference on chains of observations laid end to end (`starts[t]`: a chain begins
    /// at t). Returns the estimate after every iteration, each `[n, 3]` in scaled units
    /// (multiply by [`INPUT_SCALE`], or use [`Self::infer`]).
    pub fn forward(
        &self,
        observations: &[State],
        starts: &[bool],
        device: &Device,
    ) -> Vec<Tensor<2>> {
        let n = observations.len();
        let net = &self.net;
        let y = states_tensor(observations, INPUT_SCALE, device);
        let y_diff = y.clone() - shift_down(y.clone());
        let (has_prev, has_next) = edge_masks(starts, device);
        let hy = net
            .embed_observation
            .forward(Tensor::cat(vec![y.clone(), y_diff * has_prev.clone()], 1));
        let mut h = tanh(hy.clone());
        let mut x = y.clone();
        let dynamics = self.config.dynamics();
        let noise = self.config.noise();
        let mut outputs = Vec::with_capacity(self.config.iterations);
        for _ in 0..self.config.iterations {
            let messages = self.config.use_prior.then(|| {
                let current = tensor_states(&x, INPUT_SCALE);
                prior_messages(&current, observations, starts, &dynamics, &noise)
            });
            let edge_input = |source: Tensor<2>, message: Option<&Vec<State>>| {
                let mut parts = vec![source, h.clone()];
                if let Some(m) = message {
                    parts.push(states_tensor(m, MESSAGE_SCALE, device));
                }
                Tensor::cat(parts, 1)
            };
            let from_prev = net.edge_from_prev.forward(edge_input(
                shift_down(h.clone()),
                messages.as_ref().map(|m| &m.prev),
            )) * has_prev.clone();
            let from_next = net.edge_from_next.forward(edge_input(
                shift_up(h.clone()),
                messages.as_ref().map(|m| &m.next),
            )) * has_next.clone();
            let from_obs = net
                .edge_from_obs
                .forward(edge_input(hy.clone(), messages.as_ref().map(|m| &m.obs)));
            let aggregate = leaky_relu(net.node.forward(from_prev + from_next + from_obs), 0.01);
            h = net
                .gru
                .forward(aggregate.unsqueeze_dim::<3>(1), Some(h))
                .squeeze_dim::<2>(1);
            let correction = net
                .decode_out
                .forward(relu(net.decode_hidden.forward(h.clone())));
            x = match &messages {
                Some(m) => {
                    let total: Vec<State> = (0..n)
                        .map(|t| std::array::from_fn(|i| m.prev[t][i] + m.obs[t][i] + m.next[t][i]))
                        .collect();
                    let model_step = states_tensor(&total, INPUT_SCALE, device);
                    x + (correction + model_step) * self.config.gamma
                }
                None => y.clone() + correction,
            };
            outputs.push(x.clone());
        }
        outputs
    }

    /// The estimates after every iteration, in the data's units.
    pub fn infer(&self, observations: &[State], device: &Device) -> Vec<Vec<State>> {
        let mut starts = vec![false; observations.len()];
        if let Some(first) = starts.first_mut() {
            *first = true;
        }
        self.forward(observations, &starts, device)
            .iter()
            .map(|x| tensor_states(x, INPUT_SCALE))
            .collect()
    }
}

/// The training loss: MSE of every iteration's estimate (in data units), later iterations
/// weighted more, so the unrolled inference improves step by step and ends best.
pub fn unrolled_loss(outputs: &[Tensor<2>], truth: &[State], device: &Device) -> Tensor<1> {
    let target = states_tensor(truth, INPUT_SCALE, device);
    let k = outputs.len();
    let total_weight = (k * (k + 1) / 2) as f64;
    let scale = f64::from(INPUT_SCALE * INPUT_SCALE);
    outputs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            (x.clone() - target.clone()).powf_scalar(2.0).mean()
                * ((i + 1) as f64 * scale / total_weight)
        })
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Tensor::zeros([1], device))
}

/// The model file of a chain model (its kind: `gnn` or `hybrid`).
impl NetSpec for ChainModelConfig {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[
        (
            ChainKind::Gnn.name(),
            include_bytes!("../../../assets/lorenz-gnn.mpk"),
        ),
        (
            ChainKind::Hybrid.name(),
            include_bytes!("../../../assets/lorenz-hybrid.mpk"),
        ),
    ];
    type Net = ChainGnn;

    fn file_kind(&self) -> &'static str {
        self.kind().name()
    }
    /// Refuses a config no chain model can be built from.
    fn validate(&self) -> Result<(), String> {
        let positive = [self.gamma, self.process_std, self.obs_std, self.dt];
        if self.hidden == 0
            || self.iterations == 0
            || positive.iter().any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err(format!("not a valid chain model: {self:?}"));
        }
        Ok(())
    }
    fn build(&self, device: &Device) -> ChainGnn {
        ChainGnn::new(self, device)
    }
}

/// `--model F` when given, else the shipped model of `kind`.
pub fn load_or_shipped(
    path: Option<&std::path::Path>,
    kind: ChainKind,
    device: &Device,
) -> anyhow::Result<ChainModel> {
    stored_model::load_or_shipped(path, kind.name(), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::lorenz::sim::{SimConfig, simulate};
    use burn::optim::{AdamConfig, GradientsParams};

    /// The negative log joint under the Taylor dynamics.
    fn energy(x: &[State], y: &[State], d: &TaylorDynamics, noise: &NoiseModel) -> f64 {
        let q_inv = 1.0 / (noise.process_std.powi(2) * noise.dt);
        let r_inv = 1.0 / noise.obs_std.powi(2);
        let v = |s: &State| Vector3::from(*s);
        let mut e = 0.0;
        for t in 0..x.len() {
            e += 0.5 * r_inv * (v(&y[t]) - v(&x[t])).norm_squared();
            if t + 1 < x.len() {
                e += 0.5 * q_inv * (v(&x[t + 1]) - d.step(&v(&x[t]))).norm_squared();
            }
        }
        e
    }

    #[test]
    fn model_messages_are_minus_the_energy_gradient() {
        let tr = simulate(&SimConfig {
            steps: 6,
            ..SimConfig::default()
        })
        .expect("simulate");
        let d = TaylorDynamics { order: 2, dt: 0.05 };
        let noise = NoiseModel {
            process_std: 3.0,
            obs_std: 0.5,
            dt: 0.05,
        };
        let x: Vec<State> = tr.states.iter().map(|s| s.map(|v| v + 0.3)).collect();
        let starts = [true, false, false, false, false, false];
        let m = prior_messages(&x, &tr.observations, &starts, &d, &noise);
        let h = 1e-6;
        for t in 0..x.len() {
            for i in 0..3 {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[t][i] += h;
                minus[t][i] -= h;
                let grad = (energy(&plus, &tr.observations, &d, &noise)
                    - energy(&minus, &tr.observations, &d, &noise))
                    / (2.0 * h);
                let message = m.prev[t][i] + m.obs[t][i] + m.next[t][i];
                assert!(
                    (message + grad).abs() < 1e-4 * grad.abs().max(1.0),
                    "t {t} i {i}: {message} vs {}",
                    -grad
                );
            }
        }
    }

    #[test]
    fn forward_has_one_estimate_per_iteration_of_the_right_shape() {
        let device = Device::flex();
        for config in [ChainModelConfig::hybrid(), ChainModelConfig::gnn_only()] {
            let config = ChainModelConfig {
                iterations: 3,
                hidden: 8,
                ..config
            };
            let model = ChainModel::new(config, &device);
            let obs = vec![[1.0, 2.0, 20.0]; 7];
            let outputs = model.infer(&obs, &device);
            assert_eq!(outputs.len(), 3);
            assert!(
                outputs
                    .iter()
                    .all(|o| o.len() == 7 && o.iter().flatten().all(|v| v.is_finite()))
            );
        }
    }

    #[test]
    fn hybrid_loss_decreases_on_a_tiny_problem() {
        let device = Device::flex().autodiff();
        // Fixed initial weights: the test must not depend on the global RNG's state.
        device.seed(3);
        let tr = simulate(&SimConfig {
            steps: 40,
            ..SimConfig::default()
        })
        .expect("simulate");
        let config = ChainModelConfig {
            iterations: 4,
            hidden: 16,
            ..ChainModelConfig::hybrid()
        };
        let mut model = ChainModel::new(config, &device);
        let mut optimizer = AdamConfig::new().init();
        let mut starts = vec![false; 40];
        starts[0] = true;
        let mut losses = Vec::new();
        for _ in 0..60 {
            let outputs = model.forward(&tr.observations, &starts, &device);
            let loss = unrolled_loss(&outputs, &tr.states, &device);
            losses.push(f64::from(loss.clone().into_scalar::<f32>()));
            let grads = GradientsParams::from_grads(loss.backward(), &model.net);
            model.net = optimizer.step(3e-3, model.net, grads);
        }
        let first = losses[..5].iter().sum::<f64>() / 5.0;
        let last = losses[losses.len() - 5..].iter().sum::<f64>() / 5.0;
        assert!(last < 0.7 * first, "mean loss went from {first} to {last}");
    }

    #[test]
    fn shipped_models_load_and_beat_the_observations() {
        let device = Device::flex();
        let tr = super::super::bench::test_trajectory(300).expect("simulate");
        for kind in ChainKind::ALL {
            let model: ChainModel = stored_model::shipped(kind.name(), &device).expect("shipped");
            let estimate = model
                .infer(&tr.observations, &device)
                .pop()
                .expect("iterations");
            let raw = super::super::methods::mse(&tr.observations, &tr.states);
            let got = super::super::methods::mse(&estimate, &tr.states);
            assert!(got < 0.5 * raw, "{kind:?}: MSE {got} vs observations {raw}");
        }
    }
}
