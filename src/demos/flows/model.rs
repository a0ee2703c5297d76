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
//! - **VAE layer** (stochastic): z drawn from an encoder q(z|x), a decoder p(x|z) beside it; term
//!   ln p(x|z) − ln q(z|x) for that draw, so the sum is a bound on log p(x) (the ELBO), exact
//!   only in expectation over draws when q is the true posterior.
//!
//! Sampling runs the stack in reverse; a surjection then draws what it forgot (signs, order).

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};

use crate::stored_model::{Learned, NetSpec};

/// ln 2.
const LN_2: f32 = std::f32::consts::LN_2;
/// A coupling's log-scale is kept in (−S, S) by S·tanh(raw / S), for stable training.
const MAX_LOG_SCALE: f32 = 3.0;
/// An untrained VAE layer's noise, ln σ (σ ≈ 0.14, both encoder and decoder): the layer starts
/// near the identity with a term of exactly zero.
const VAE_START_LN_SIGMA: f32 = -2.0;

/// What a layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    Coupling,
    Swap,
    Abs,
    Sort,
    Vae,
}

impl LayerKind {
    pub const ALL: [LayerKind; 5] = [Self::Coupling, Self::Swap, Self::Abs, Self::Sort, Self::Vae];

    pub fn label(self) -> &'static str {
        match self {
            Self::Coupling => "affine coupling",
            Self::Swap => "swap (permutation)",
            Self::Abs => "abs surjection",
            Self::Sort => "sort surjection",
            Self::Vae => "VAE layer (stochastic)",
        }
    }

    /// The name on the command line and in a stack's list (`--stack abs,coupling,swap`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Coupling => "coupling",
            Self::Swap => "swap",
            Self::Abs => "abs",
            Self::Sort => "sort",
            Self::Vae => "vae",
        }
    }

    /// What its term in log p(x) is.
    pub fn term_kind(self) -> &'static str {
        match self {
            Self::Coupling => "log|det| (exact)",
            Self::Swap => "0 (a permutation)",
            Self::Abs | Self::Sort => "log p(forgotten | z) + log|det| (exact)",
            Self::Vae => "ln p(x|z) − ln q(z|x) (a bound)",
        }
    }
}

impl std::str::FromStr for LayerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!("no layer `{}` (one of {})", s.trim(), names.join(", "))
            })
    }
}

/// One layer's terms of log p(x), each `[B, 1]`.
#[derive(Clone, Debug)]
pub struct Terms {
    /// log|det ∂z/∂x| of the bijective part.
    pub log_det: Tensor<2>,
    /// log p(forgotten | z) of a surjection (zero for a bijection).
    pub surjection: Tensor<2>,
    /// ln p(x|z) − ln q(z|x) of a stochastic layer for its draw (zero for the others).
    pub stochastic: Tensor<2>,
}

impl Terms {
    fn zeros(batch: usize, device: &Device) -> Self {
        Self {
            log_det: Tensor::zeros([batch, 1], device),
            surjection: Tensor::zeros([batch, 1], device),
            stochastic: Tensor::zeros([batch, 1], device),
        }
    }

    pub fn total(&self) -> Tensor<2> {
        self.log_det.clone() + self.surjection.clone() + self.stochastic.clone()
    }
}

/// A multi-layer perceptron with ReLUs; its output layer starts at zero, so that a new layer
/// built on it starts as the identity.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    out: Linear,
}

impl Mlp {
    pub fn new(input: usize, hidden: &[usize], output: usize, device: &Device) -> Self {
        let mut width = input;
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
            out: LinearConfig::new(width, output)
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = x;
        for layer in &self.hidden {
            h = relu(layer.forward(h));
        }
        self.out.forward(h)
    }
}

/// Σ ln N(x; μ, e^{2 ln σ}) over the columns, `[B, 1]`.
fn log_normal(x: Tensor<2>, mean: Tensor<2>, ln_sigma: Tensor<2>) -> Tensor<2> {
    let standardized = (x - mean) * ln_sigma.clone().neg().exp();
    let [_, d] = standardized.dims();
    (standardized.clone() * standardized * (-0.5) - ln_sigma).sum_dim(1)
        - 0.5 * d as f32 * std::f32::consts::TAU.ln()
}

/// A log-σ kept in (−5, 1) around the start: VAE_START_LN_SIGMA + 3·tanh(raw / 3).
fn bounded_ln_sigma(raw: Tensor<2>) -> Tensor<2> {
    (raw / 3.0).tanh() * 3.0 + VAE_START_LN_SIGMA
}

/// Two independent N(0, 1) per row from two uniforms (Box–Muller), so that sampling is a
/// function of its coins.
fn normal_from_coins(coins: Tensor<2>) -> Tensor<2> {
    let radius = (coins.clone().narrow(1, 0, 1).clamp_min(1e-7).log() * (-2.0)).sqrt();
    let angle = coins.narrow(1, 1, 1) * std::f32::consts::TAU;
    Tensor::cat(
        vec![radius.clone() * angle.clone().cos(), radius * angle.sin()],
        1,
    )
}

/// A stochastic layer: encoder q(z|x) = N(x + μ(x), σ(x)²), decoder p(x|z) = N(z + ν(z), τ(z)²),
/// both diagonal; both start at zero offset and σ = τ = e^−2, where the term is exactly 0.
#[derive(Module, Debug)]
pub struct VaeLayer {
    encoder: Mlp,
    decoder: Mlp,
}

impl VaeLayer {
    pub fn new(hidden: &[usize], device: &Device) -> Self {
        Self {
            encoder: Mlp::new(2, hidden, 4, device),
            decoder: Mlp::new(2, hidden, 4, device),
        }
    }

    /// (mean, ln σ) of a Gaussian whose offset from `at` and log-scale come from `mlp`.
    fn gaussian(mlp: &Mlp, at: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let out = mlp.forward(at.clone());
        (
            at + out.clone().narrow(1, 0, 2),
            bounded_ln_sigma(out.narrow(1, 2, 2)),
        )
    }

    /// x → z for the standard-normal draw `noise` `[B, 2]`, and ln p(x|z) − ln q(z|x).
    pub fn forward(&self, x: Tensor<2>, noise: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (mean, ln_sigma) = Self::gaussian(&self.encoder, x.clone());
        let z = mean.clone() + noise * ln_sigma.clone().exp();
        let (back, ln_tau) = Self::gaussian(&self.decoder, z.clone());
        let term = log_normal(x, back, ln_tau) - log_normal(z.clone(), mean, ln_sigma);
        (z, term)
    }

    /// z → x: the decoder's mean plus its noise for the draw `noise`.
    pub fn inverse(&self, z: Tensor<2>, noise: Tensor<2>) -> Tensor<2> {
        let (mean, ln_tau) = Self::gaussian(&self.decoder, z);
        mean + noise * ln_tau.exp()
    }
}

/// An affine coupling: `transformed` ← x_t · e^s(x_c) + t(x_c), the other coordinate c passes.
#[derive(Module, Debug)]
pub struct Coupling {
    mlp: Mlp,
    transformed: usize,
}

impl Coupling {
    pub fn new(transformed: usize, hidden: &[usize], device: &Device) -> Self {
        Self {
            mlp: Mlp::new(1, hidden, 2, device),
            transformed: transformed.min(1),
        }
    }

    /// (log-scale, shift) from the passing coordinate `[B, 1]`.
    fn parameters(&self, passing: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let out = self.mlp.forward(passing);
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

/// A layer of the stack (a coupling's or a VAE layer's weights only where it is one).
#[derive(Module, Debug)]
pub struct Layer {
    coupling: Option<Coupling>,
    vae: Option<VaeLayer>,
    /// The kind, as its index in [`LayerKind::ALL`] (a module field must be plain data).
    kind: usize,
}

fn swap(x: Tensor<2>) -> Tensor<2> {
    Tensor::cat(vec![x.clone().narrow(1, 1, 1), x.narrow(1, 0, 1)], 1)
}

impl Layer {
    /// A layer of `kind`; a coupling transforms coordinate `index % 2` with an MLP of `hidden`.
    pub fn new(kind: LayerKind, index: usize, hidden: &[usize], device: &Device) -> Self {
        Self {
            coupling: (kind == LayerKind::Coupling)
                .then(|| Coupling::new(index % 2, hidden, device)),
            vae: (kind == LayerKind::Vae).then(|| VaeLayer::new(hidden, device)),
            kind: LayerKind::ALL.iter().position(|&k| k == kind).unwrap_or(0),
        }
    }

    pub fn kind(&self) -> LayerKind {
        LayerKind::ALL[self.kind.min(LayerKind::ALL.len() - 1)]
    }

    /// x → z and this layer's terms of log p(x); a VAE layer draws its z afresh.
    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Terms) {
        let [b, _] = x.dims();
        let device = x.device();
        let mut terms = Terms::zeros(b, &device);
        let z = match (self.kind(), &self.coupling, &self.vae) {
            (LayerKind::Coupling, Some(coupling), _) => {
                let (z, log_det) = coupling.forward(x);
                terms.log_det = log_det;
                z
            }
            (LayerKind::Vae, _, Some(vae)) => {
                let noise = Tensor::random([b, 2], Distribution::Normal(0.0, 1.0), &device);
                let (z, stochastic) = vae.forward(x, noise);
                terms.stochastic = stochastic;
                z
            }
            (LayerKind::Abs, _, _) => {
                let u = x.abs().clamp_min(1e-6);
                // z = ln(e^u − 1) = u + ln(1 − e^{−u}); dz/du = 1 / (1 − e^{−u}).
                let gap = (u.clone().neg().exp().neg() + 1.0).log();
                terms.log_det = gap.clone().neg().sum_dim(1);
                terms.surjection = Tensor::full([b, 1], -2.0 * LN_2, &device);
                u + gap
            }
            (LayerKind::Sort, _, _) => {
                let (a, c) = (x.clone().narrow(1, 0, 1), x.narrow(1, 1, 1));
                let spread = (a.clone() - c.clone()).abs().clamp_min(1e-6);
                let low = (a + c) * 0.5 - spread.clone() * 0.5;
                let log_spread = spread.log();
                terms.log_det = log_spread.clone().neg();
                terms.surjection = Tensor::full([b, 1], -LN_2, &device);
                Tensor::cat(vec![low, log_spread], 1)
            }
            // A swap, or a layer without its weights (never built so).
            _ => swap(x),
        };
        (z, terms)
    }

    /// z → x; `coins` `[B, 2]` uniform in [0, 1) choose what a surjection forgot (and a VAE
    /// layer's decoder noise).
    pub fn inverse(&self, z: Tensor<2>, coins: Tensor<2>) -> Tensor<2> {
        match (self.kind(), &self.coupling, &self.vae) {
            (LayerKind::Coupling, Some(coupling), _) => coupling.inverse(z),
            (LayerKind::Vae, _, Some(vae)) => vae.inverse(z, normal_from_coins(coins)),
            (LayerKind::Abs, _, _) => {
                // u = softplus(z), then a sign per coordinate.
                let u = z.clone().clamp_min(0.0) + z.abs().neg().exp().log1p();
                let sign = coins.lower_elem(0.5).float() * 2.0 - 1.0;
                u * sign
            }
            (LayerKind::Sort, _, _) => {
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
            c.mlp.out = LinearConfig::new(8, 2).init(&device());
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
    fn a_vae_layer_gives_the_linear_gaussian_elbo_below_the_exact_likelihood() {
        // An untrained VAE layer on N(0, I): q(z|x) = N(x, σ²), p(x|z) = N(z, σ²), so
        // p(x) = N(0, (1 + σ²) I) exactly, and the ELBO is ln N(x; 0, I) − σ² (two coordinates).
        let d = device();
        d.seed(5);
        let layers = [Layer::new(LayerKind::Vae, 0, &[8], &d)];
        let x = [0.8f32, -0.3];
        let draws = 20_000;
        let batch = points(&vec![x; draws]);
        let (_, terms) = walk(&layers, batch.clone());
        let stochastic = values(terms[0].stochastic.clone());
        assert!(
            stochastic.iter().all(|t| t.abs() < 1e-4),
            "the term starts at 0"
        );
        let elbo: f64 = values(log_density(&layers, batch))
            .iter()
            .map(|&v| f64::from(v))
            .sum::<f64>()
            / draws as f64;
        let variance = f64::from(VAE_START_LN_SIGMA * 2.0).exp();
        let norm2 = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
        let ln_tau = std::f64::consts::TAU.ln();
        let want_elbo = -0.5 * norm2 - ln_tau - variance;
        let exact = -0.5 * norm2 / (1.0 + variance) - ln_tau - (1.0 + variance).ln();
        assert!((elbo - want_elbo).abs() < 2e-3, "{elbo} vs {want_elbo}");
        assert!(
            elbo < exact - 3e-3,
            "the ELBO {elbo} is below log p(x) {exact}"
        );
    }

    #[test]
    fn box_muller_coins_give_standard_normals() {
        let n = 20_000;
        let coins: Vec<[f32; 2]> = (0..n)
            .map(|i| {
                let u = (i as f32 + 0.5) / n as f32;
                [u, (u * 7919.0).fract()]
            })
            .collect();
        let z = values(normal_from_coins(points(&coins)));
        let mean = z.iter().sum::<f32>() / z.len() as f32;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / z.len() as f32;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
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

    /// The same flow behind a VAE layer (its term a bound).
    pub fn with_vae(mut self) -> Self {
        self.layers.insert(0, LayerKind::Vae);
        self
    }

    /// A stack from its layers' names, e.g. `abs,coupling,swap,coupling`.
    pub fn parse_layers(list: &str) -> Result<Vec<LayerKind>, String> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect()
    }

    /// Whether log p(x) is exact: a stochastic layer makes it a bound.
    pub fn is_exact(&self) -> bool {
        !self.layers.contains(&LayerKind::Vae)
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
            .filter(|l| matches!(l, LayerKind::Abs | LayerKind::Sort | LayerKind::Vae))
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

    /// The points after each layer on the way to the base: x first, the base point last.
    pub fn stages(&self, x: Tensor<2>) -> Vec<Tensor<2>> {
        let mut stages = vec![x];
        for layer in &self.layers {
            let z = layer.forward(stages[stages.len() - 1].clone()).0;
            stages.push(z);
        }
        stages
    }

    /// Sampling: base draws `z` `[B, 2]` run back through the stack; the points after each
    /// layer, the base first and the samples last. `coins` `[L, B, 2]` (uniform) choose what
    /// each layer forgot.
    pub fn sample_stages(&self, z: Tensor<2>, coins: Tensor<3>) -> Vec<Tensor<2>> {
        let [_, b, _] = coins.dims();
        let mut stages = vec![z];
        for (index, layer) in self.layers.iter().enumerate().rev() {
            let layer_coins = coins.clone().narrow(0, index, 1).reshape([b, 2]);
            let x = layer.inverse(stages[stages.len() - 1].clone(), layer_coins);
            stages.push(x);
        }
        stages
    }
}

/// A trained flow with its config.
pub type FlowModel = Learned<FlowConfig>;

/// The file kind of a flow.
pub const KIND: &str = "flow";

impl NetSpec for FlowConfig {
    const DEMO: &'static str = super::NAME;
    /// Fitted to the rings (seed 0's training points; docs/flows.md has the commands): the
    /// panel opens on them.
    const SHIPPED: &'static [crate::stored_model::Shipped] = &[
        (KIND, include_bytes!("../../../assets/flows-rings-flow.mpk")),
        (
            KIND,
            include_bytes!("../../../assets/flows-rings-survae.mpk"),
        ),
        (KIND, include_bytes!("../../../assets/flows-rings-vae.mpk")),
    ];
    type Net = FlowNet;

    fn file_kind(&self) -> &'static str {
        KIND
    }
    fn validate(&self) -> Result<(), String> {
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
    fn build(&self, device: &Device) -> FlowNet {
        FlowNet::new(self, device)
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
