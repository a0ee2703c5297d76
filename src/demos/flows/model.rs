//! The layers of a flow stack, in burn, and "Algorithm 1" (Nielsen et al. 2020): x walks through
//! the layers towards the base N(0, I); each layer reports its term of log p(x).
//!
//! - **Coupling** (RealNVP, Dinh et al. 2017): one coordinate passes, the other is scaled and
//!   shifted by an MLP of the first: term log|det| = s (exact).
//! - **Swap**: the two coordinates exchanged (the 2-D permutation): term 0.
//! - **Abs** (SurVAE's `SimpleAbsSurjection`): u = |x|, the signs forgotten; the sign model
//!   p(sign | u) = ½ per coordinate adds −2 ln 2 (exact: the surjection is deterministic in the
//!   inference direction). As in the SurVAE code's abs flows, u is then carried from the
//!   positive quadrant onto the plane by the inverse softplus, z = ln(e^u − 1), whose log-det
//!   −ln(1 − e^{−u}) per coordinate is added too.
//! - **Sort**: (a, b) = (min, max), the order forgotten: −ln 2 (exact), then (a, b) → (a,
//!   ln(b − a)) onto the plane, log-det −ln(b − a).
//!
//! Sampling runs the stack in reverse; a surjection then draws what it forgot (signs, order).

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// ln 2.
const LN_2: f32 = std::f32::consts::LN_2;
/// A coupling's log-scale is kept in (−S, S) by S·tanh(raw / S), for stable training.
const MAX_LOG_SCALE: f32 = 3.0;

/// What a layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    Coupling,
    Swap,
    Abs,
    Sort,
}

impl LayerKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Coupling => "affine coupling",
            Self::Swap => "swap (permutation)",
            Self::Abs => "abs surjection",
            Self::Sort => "sort surjection",
        }
    }
}

/// One layer's terms of log p(x), each `[B, 1]`.
#[derive(Clone, Debug)]
pub struct Terms {
    /// log|det ∂z/∂x| of the bijective part.
    pub log_det: Tensor<2>,
    /// log p(forgotten | z) of a surjection (zero for a bijection).
    pub surjection: Tensor<2>,
}

impl Terms {
    fn zeros(batch: usize, device: &Device) -> Self {
        Self {
            log_det: Tensor::zeros([batch, 1], device),
            surjection: Tensor::zeros([batch, 1], device),
        }
    }

    pub fn total(&self) -> Tensor<2> {
        self.log_det.clone() + self.surjection.clone()
    }
}

/// An affine coupling: `transformed` ← x_t · e^s(x_c) + t(x_c), the other coordinate c passes.
#[derive(Module, Debug)]
pub struct Coupling {
    hidden: Vec<Linear>,
    out: Linear,
    transformed: usize,
}

impl Coupling {
    pub fn new(transformed: usize, hidden: &[usize], device: &Device) -> Self {
        let mut width = 1;
        let layers = hidden
            .iter()
            .map(|&h| {
                let layer = LinearConfig::new(width, h).init(device);
                width = h;
                layer
            })
            .collect();
        Self {
            hidden: layers,
            // Zero: a new coupling is the identity.
            out: LinearConfig::new(width, 2)
                .with_initializer(Initializer::Zeros)
                .init(device),
            transformed: transformed.min(1),
        }
    }

    /// (log-scale, shift) from the passing coordinate `[B, 1]`.
    fn parameters(&self, passing: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let mut h = passing;
        for layer in &self.hidden {
            h = relu(layer.forward(h));
        }
        let out = self.out.forward(h);
        let raw = out.clone().narrow(1, 0, 1);
        let log_scale = (raw / MAX_LOG_SCALE).tanh() * MAX_LOG_SCALE;
        (log_scale, out.narrow(1, 1, 1))
    }

    fn split(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let t = self.transformed;
        (x.clone().narrow(1, 1 - t, 1), x.narrow(1, t, 1))
    }

    fn join(&self, passing: Tensor<2>, moved: Tensor<2>) -> Tensor<2> {
        if self.transformed == 1 {
            Tensor::cat(vec![passing, moved], 1)
        } else {
            Tensor::cat(vec![moved, passing], 1)
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (passing, moved) = self.split(x);
        let (log_scale, shift) = self.parameters(passing.clone());
        let z = moved * log_scale.clone().exp() + shift;
        (self.join(passing, z), log_scale)
    }

    pub fn inverse(&self, z: Tensor<2>) -> Tensor<2> {
        let (passing, moved) = self.split(z);
        let (log_scale, shift) = self.parameters(passing.clone());
        self.join(passing, (moved - shift) * log_scale.neg().exp())
    }
}

/// A layer of the stack (the coupling's weights only where it is one).
#[derive(Module, Debug)]
pub struct Layer {
    coupling: Option<Coupling>,
    /// The kind, as its index in [`KINDS`] (a module field must be plain data).
    kind: usize,
}

const KINDS: [LayerKind; 4] = [
    LayerKind::Coupling,
    LayerKind::Swap,
    LayerKind::Abs,
    LayerKind::Sort,
];

fn swap(x: Tensor<2>) -> Tensor<2> {
    Tensor::cat(vec![x.clone().narrow(1, 1, 1), x.narrow(1, 0, 1)], 1)
}

impl Layer {
    /// A layer of `kind`; a coupling transforms coordinate `index % 2` with an MLP of `hidden`.
    pub fn new(kind: LayerKind, index: usize, hidden: &[usize], device: &Device) -> Self {
        Self {
            coupling: (kind == LayerKind::Coupling)
                .then(|| Coupling::new(index % 2, hidden, device)),
            kind: KINDS.iter().position(|&k| k == kind).unwrap_or(0),
        }
    }

    pub fn kind(&self) -> LayerKind {
        KINDS[self.kind.min(KINDS.len() - 1)]
    }

    /// x → z and this layer's terms of log p(x).
    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Terms) {
        let [b, _] = x.dims();
        let device = x.device();
        match (self.kind(), &self.coupling) {
            (LayerKind::Coupling, Some(coupling)) => {
                let (z, log_det) = coupling.forward(x);
                (
                    z,
                    Terms {
                        log_det,
                        surjection: Tensor::zeros([b, 1], &device),
                    },
                )
            }
            (LayerKind::Abs, _) => {
                let u = x.abs().clamp_min(1e-6);
                // z = ln(e^u − 1) = u + ln(1 − e^{−u}); dz/du = 1 / (1 − e^{−u}).
                let gap = (u.clone().neg().exp().neg() + 1.0).log();
                let z = u + gap.clone();
                (
                    z,
                    Terms {
                        log_det: gap.neg().sum_dim(1),
                        surjection: Tensor::full([b, 1], -2.0 * LN_2, &device),
                    },
                )
            }
            (LayerKind::Sort, _) => {
                let (a, c) = (x.clone().narrow(1, 0, 1), x.narrow(1, 1, 1));
                let spread = (a.clone() - c.clone()).abs().clamp_min(1e-6);
                let low = (a + c) * 0.5 - spread.clone() * 0.5;
                let log_spread = spread.log();
                (
                    Tensor::cat(vec![low, log_spread.clone()], 1),
                    Terms {
                        log_det: log_spread.neg(),
                        surjection: Tensor::full([b, 1], -LN_2, &device),
                    },
                )
            }
            // A swap, or a coupling without weights (never built so).
            _ => (swap(x), Terms::zeros(b, &device)),
        }
    }

    /// z → x; `coins` `[B, 2]` uniform in [0, 1) choose what a surjection forgot.
    pub fn inverse(&self, z: Tensor<2>, coins: Tensor<2>) -> Tensor<2> {
        match (self.kind(), &self.coupling) {
            (LayerKind::Coupling, Some(coupling)) => coupling.inverse(z),
            (LayerKind::Abs, _) => {
                // u = softplus(z), then a sign per coordinate.
                let u = z.clone().clamp_min(0.0) + z.abs().neg().exp().log1p();
                let sign = coins.lower_elem(0.5).float() * 2.0 - 1.0;
                u * sign
            }
            (LayerKind::Sort, _) => {
                let low = z.clone().narrow(1, 0, 1);
                let high = low.clone() + z.narrow(1, 1, 1).exp();
                let sorted = Tensor::cat(vec![low, high], 1);
                // Half the time the larger one first.
                let flip = coins.narrow(1, 0, 1).lower_elem(0.5).float();
                swap(sorted.clone()) * flip.clone() + sorted * (flip.neg() + 1.0)
            }
            _ => swap(z),
        }
    }
}

/// ln N(z; 0, I) per row, `[B, 1]`.
pub fn log_base(z: Tensor<2>) -> Tensor<2> {
    (z.clone() * z).sum_dim(1) * (-0.5) - std::f32::consts::TAU.ln()
}

/// Algorithm 1: the base point and every layer's terms, for x `[B, 2]`.
pub fn walk(layers: &[Layer], x: Tensor<2>) -> (Tensor<2>, Vec<Terms>) {
    let mut z = x;
    let mut terms = Vec::with_capacity(layers.len());
    for layer in layers {
        let (next, t) = layer.forward(z);
        z = next;
        terms.push(t);
    }
    (z, terms)
}

/// log p(x) of the stack on the base N(0, I), `[B, 1]`.
pub fn log_density(layers: &[Layer], x: Tensor<2>) -> Tensor<2> {
    let (z, terms) = walk(layers, x);
    terms.iter().fold(log_base(z), |total, t| total + t.total())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn device() -> Device {
        Device::flex()
    }

    fn points(values: &[[f32; 2]]) -> Tensor<2> {
        let flat: Vec<f32> = values.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [values.len(), 2]), &device())
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    /// A coupling whose output layer is not zero, so that it does something.
    fn busy_coupling(transformed: usize) -> Layer {
        device().seed(17 + transformed as u64);
        let mut layer = Layer::new(LayerKind::Coupling, transformed, &[16, 8], &device());
        if let Some(c) = layer.coupling.as_mut() {
            c.out = LinearConfig::new(8, 2).init(&device());
        }
        layer
    }

    const SAMPLE: [[f32; 2]; 4] = [[0.3, -1.2], [2.0, 0.5], [-0.7, -0.4], [1.1, 3.0]];

    #[test]
    fn a_coupling_inverts_and_its_log_det_matches_finite_differences() {
        for transformed in 0..2 {
            let layer = busy_coupling(transformed);
            let x = points(&SAMPLE);
            let (z, terms) = layer.forward(x.clone());
            let back = values(layer.inverse(z, Tensor::zeros([4, 2], &device())));
            for (a, b) in back.iter().zip(values(x)) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            let log_det = values(terms.log_det);
            let eps = 1e-2f32;
            for (i, p) in SAMPLE.iter().enumerate() {
                // The Jacobian by central differences, column by column.
                let column = |d: usize| {
                    let (mut plus, mut minus) = (*p, *p);
                    plus[d] += eps;
                    minus[d] -= eps;
                    let f = |q: [f32; 2]| values(layer.forward(points(&[q])).0);
                    let (a, b) = (f(plus), f(minus));
                    [(a[0] - b[0]) / (2.0 * eps), (a[1] - b[1]) / (2.0 * eps)]
                };
                let (c0, c1) = (column(0), column(1));
                let det = (c0[0] * c1[1] - c1[0] * c0[1]).abs().ln();
                assert!((det - log_det[i]).abs() < 2e-3, "{det} vs {}", log_det[i]);
                assert!(log_det[i].abs() > 1e-3, "the coupling moved nothing");
            }
        }
    }

    #[test]
    fn no_layers_is_the_base_gaussian() {
        let got = values(log_density(&[], points(&SAMPLE)));
        for (g, p) in got.iter().zip(SAMPLE) {
            let want = -0.5 * (p[0] * p[0] + p[1] * p[1]) - std::f32::consts::TAU.ln();
            assert!((g - want).abs() < 1e-5);
        }
    }

    #[test]
    fn the_abs_layer_gives_the_folded_density_in_closed_form() {
        // One abs layer on N(0, I): p(x) = ¼ Π φ(ln(e^|x_i| − 1)) / (1 − e^{−|x_i|}).
        let layers = [Layer::new(LayerKind::Abs, 0, &[], &device())];
        let got = values(log_density(&layers, points(&SAMPLE)));
        for (g, p) in got.iter().zip(SAMPLE) {
            let want: f64 = p
                .iter()
                .map(|&v| {
                    let u = f64::from(v).abs();
                    let z = (u.exp() - 1.0).ln();
                    -0.5 * z * z - 0.5 * std::f64::consts::TAU.ln() - (1.0 - (-u).exp()).ln()
                })
                .sum::<f64>()
                - 4f64.ln();
            assert!((f64::from(*g) - want).abs() < 1e-4, "{g} vs {want}");
        }
    }

    /// ∫ p over [−h, h]² by the midpoint rule.
    fn mass(layers: &[Layer], half: f32, cells: usize) -> f32 {
        let step = 2.0 * half / cells as f32;
        let grid: Vec<[f32; 2]> = (0..cells * cells)
            .map(|k| {
                let (i, j) = (k / cells, k % cells);
                [
                    -half + (i as f32 + 0.5) * step,
                    -half + (j as f32 + 0.5) * step,
                ]
            })
            .collect();
        values(log_density(layers, points(&grid)))
            .iter()
            .map(|l| l.exp() * step * step)
            .sum()
    }

    #[test]
    fn every_stack_is_a_normalized_density() {
        let d = device();
        let stacks = [
            vec![
                busy_coupling(1),
                Layer::new(LayerKind::Swap, 0, &[], &d),
                busy_coupling(1),
            ],
            vec![Layer::new(LayerKind::Abs, 0, &[], &d), busy_coupling(0)],
            // The coupling moves the smaller coordinate, not the log-spread (whose tails a
            // grid on [−12, 12]² would cut).
            vec![Layer::new(LayerKind::Sort, 0, &[], &d), busy_coupling(0)],
        ];
        for layers in &stacks {
            let m = mass(layers, 12.0, 600);
            assert!(
                (m - 1.0).abs() < 1e-2,
                "{:?}: {m}",
                layers.iter().map(Layer::kind).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn sampling_runs_the_stack_backwards() {
        let d = device();
        let layers = [Layer::new(LayerKind::Sort, 0, &[], &d), busy_coupling(0)];
        let x = points(&SAMPLE);
        let (z, _) = walk(&layers, x.clone());
        // Coins that keep the order each point had.
        let keep: Vec<[f32; 2]> = SAMPLE
            .iter()
            .map(|p| [if p[0] > p[1] { 0.0 } else { 0.9 }, 0.0])
            .collect();
        let mut back = z;
        for layer in layers.iter().rev() {
            back = layer.inverse(back, points(&keep));
        }
        for (a, b) in values(back).iter().zip(values(x)) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

/// A stack's layers and the couplings' MLP widths: stored in a model file's header.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlowConfig {
    pub layers: Vec<LayerKind>,
    /// Hidden widths of each coupling's MLP (SurVAE's 2-D experiments: [200, 100]).
    pub hidden: Vec<usize>,
}

impl FlowConfig {
    /// RealNVP: `couplings` affine couplings with a swap between each two.
    pub fn real_nvp(couplings: usize, hidden: &[usize]) -> Self {
        let mut layers = Vec::new();
        for k in 0..couplings {
            if k > 0 {
                layers.push(LayerKind::Swap);
            }
            layers.push(LayerKind::Coupling);
        }
        Self {
            layers,
            hidden: hidden.to_vec(),
        }
    }

    /// The same flow behind an abs surjection (for data symmetric under sign flips).
    pub fn with_abs(mut self) -> Self {
        self.layers.insert(0, LayerKind::Abs);
        self
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.layers.len() > 64 {
            return Err(format!("{} layers: at most 64", self.layers.len()));
        }
        if self.hidden.is_empty() || self.hidden.len() > 4 {
            return Err(format!(
                "hidden widths {:?}: give 1 to 4 layers",
                self.hidden
            ));
        }
        if let Some(w) = self.hidden.iter().find(|w| !(1..=4096).contains(*w)) {
            return Err(format!("hidden width {w} must be in 1..=4096"));
        }
        Ok(())
    }

    /// Whether log p(x) is exact (every layer here is; a stochastic layer would make it a bound).
    pub fn is_exact(&self) -> bool {
        true
    }

    /// E.g. "abs surjection + 4 affine couplings, MLPs [200, 100]".
    pub fn describe(&self) -> String {
        let couplings = self
            .layers
            .iter()
            .filter(|&&l| l == LayerKind::Coupling)
            .count();
        let surjections: String = self
            .layers
            .iter()
            .filter(|l| matches!(l, LayerKind::Abs | LayerKind::Sort))
            .map(|l| format!("{} + ", l.label()))
            .collect();
        format!(
            "{surjections}{couplings} affine couplings, MLPs {:?}",
            self.hidden
        )
    }

    /// Whether a surjection builds prior knowledge in.
    pub fn has_surjection(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l, LayerKind::Abs | LayerKind::Sort))
    }
}

/// The stack's weights.
#[derive(Module, Debug)]
pub struct FlowNet {
    pub layers: Vec<Layer>,
}

impl FlowNet {
    /// Every coupling moves the second coordinate: the swaps between them (as SurVAE's
    /// `Reverse`) alternate which coordinate that is (a stack of couplings with no swap between
    /// them would move one coordinate only).
    pub fn new(config: &FlowConfig, device: &Device) -> Self {
        let layers = config
            .layers
            .iter()
            .map(|&kind| Layer::new(kind, 1, &config.hidden, device))
            .collect();
        Self { layers }
    }

    pub fn log_density(&self, x: Tensor<2>) -> Tensor<2> {
        log_density(&self.layers, x)
    }
}

/// A trained flow with its config.
#[derive(Clone, Debug)]
pub struct FlowModel {
    pub net: FlowNet,
    pub config: FlowConfig,
}

/// The file kind of a flow.
pub const KIND: &str = "flow";

impl crate::stored_model::StoredModel for FlowModel {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [crate::stored_model::Shipped] = &[];
    type Net = FlowNet;
    type Stored = FlowConfig;

    fn kind(&self) -> &'static str {
        KIND
    }
    fn net(&self) -> &FlowNet {
        &self.net
    }
    fn stored(&self) -> FlowConfig {
        self.config.clone()
    }
    fn validate(stored: &FlowConfig) -> Result<(), String> {
        stored.validate()
    }
    fn build(stored: &FlowConfig, device: &Device) -> FlowNet {
        FlowNet::new(stored, device)
    }
    fn assemble(net: FlowNet, config: FlowConfig) -> Self {
        Self { net, config }
    }
}

/// Points `[N, 2]` as a tensor.
pub fn points_tensor(points: &[super::sim::Point], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = points.iter().flatten().map(|&v| v as f32).collect();
    Tensor::from_data(
        burn::tensor::TensorData::new(flat, [points.len(), 2]),
        device,
    )
}
