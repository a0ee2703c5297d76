//! The VAE's networks in burn (one code path on every device), after Kingma & Welling (2014):
//!
//! - **Decoder** p(x|z) = Bernoulli(σ(f_θ(z))): an MLP latent → hidden → hidden → 784 logits,
//!   tanh between layers (smooth in z, so that quadrature over z converges fast).
//! - **Encoder** q_φ(z|x) = N(μ, diag σ²): an MLP 784 → hidden → hidden → (μ, log σ).
//! - **Refiner** (iterative amortized inference, Marino, Yue & Mandt 2018): an MLP that reads
//!   (μ, log σ, σ²·∂ELBO/∂μ, ∂ELBO/∂log σ) and returns the change of (μ, log σ); run a few times
//!   from the encoder's answer, the decoder checking each step through the ELBO's gradient.
//!
//! The ELBO of q for an image x is E_q[log p(x|z)] − KL(q ‖ N(0, I)): the expectation over
//! points z = μ + σ ⊙ ε with weights (Gauss–Hermite nodes, or samples with equal weights), the
//! KL in closed form.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};

use super::sim::PIXELS;
use crate::stored_model::{Learned, NetSpec, Shipped};

/// Everything needed to rebuild a model (saved in its file's header).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VaeConfig {
    /// Latent dimensions (2: exact quadrature; more: importance-sampled estimates).
    pub latent: usize,
    /// Units in each of the encoder's and decoder's two hidden layers.
    pub hidden: usize,
    /// Units in each of the refiner's two hidden layers.
    pub refiner_hidden: usize,
}

impl Default for VaeConfig {
    fn default() -> Self {
        Self {
            latent: 2,
            hidden: 256,
            refiner_hidden: 128,
        }
    }
}

impl VaeConfig {}

/// Linear layers with tanh between them (none after the last).
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    pub fn new(sizes: &[usize], device: &Device) -> Self {
        Self {
            layers: sizes
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
        }
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = x.tanh();
            }
        }
        x
    }

    /// Each layer's weight (inputs × outputs) and bias, row-major, for `vae export-decoder`.
    pub fn arrays(&self) -> Vec<(Vec<f32>, [usize; 2], Vec<f32>)> {
        self.layers
            .iter()
            .map(|layer| {
                let weight = layer.weight.val();
                let dims = weight.dims();
                let w = weight.into_data().try_to_vec::<f32>().unwrap_or_default();
                let b = layer
                    .bias
                    .as_ref()
                    .map(|b| b.val().into_data().try_to_vec::<f32>().unwrap_or_default())
                    .unwrap_or_else(|| vec![0.0; dims[1]]);
                (w, dims, b)
            })
            .collect()
    }
}

/// The encoder, the decoder and the refiner.
#[derive(Module, Debug)]
pub struct VaeNet {
    encoder: Mlp,
    decoder: Mlp,
    refiner: Mlp,
}

/// log σ is kept in this range (a collapsed or exploding q is clamped, not NaN).
pub const LOG_SIGMA_RANGE: (f64, f64) = (-7.0, 2.0);

impl VaeNet {
    pub fn new(config: &VaeConfig, device: &Device) -> Self {
        let (l, h, r) = (config.latent, config.hidden, config.refiner_hidden);
        Self {
            encoder: Mlp::new(&[PIXELS, h, h, 2 * l], device),
            decoder: Mlp::new(&[l, h, h, PIXELS], device),
            refiner: Mlp::new(&[4 * l, r, r, 2 * l], device),
        }
    }

    /// q(z|x)'s mean and log-std, `[N, L]` each, for images `[N, 784]`.
    pub fn encode(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let out = self.encoder.forward(x);
        let l = out.dims()[1] / 2;
        let mu = out.clone().narrow(1, 0, l);
        let log_sigma = out
            .narrow(1, l, l)
            .clamp(LOG_SIGMA_RANGE.0, LOG_SIGMA_RANGE.1);
        (mu, log_sigma)
    }

    /// The Bernoulli logits of p(x|z), `[M, 784]` for `z` `[M, L]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        self.decoder.forward(z)
    }

    /// The same net with the encoder and decoder frozen (the refiner's training).
    pub fn freeze_vae(self) -> Self {
        Self {
            encoder: self.encoder.no_grad(),
            decoder: self.decoder.no_grad(),
            refiner: self.refiner,
        }
    }

    pub fn decoder(&self) -> &Mlp {
        &self.decoder
    }

    /// One refiner step: (μ, log σ) and the ELBO's gradients in, the next (μ, log σ) out.
    pub fn refine(
        &self,
        q: (Tensor<2>, Tensor<2>),
        grad: (Tensor<2>, Tensor<2>),
    ) -> (Tensor<2>, Tensor<2>) {
        let (mu, log_sigma) = q;
        let l = mu.dims()[1];
        // σ²·∂/∂μ is the Newton step of a Gaussian posterior: O(1) whatever the posterior's width.
        let scaled = grad.0 * (log_sigma.clone() * 2.0).exp();
        let input = Tensor::cat(
            vec![
                mu.clone(),
                log_sigma.clone(),
                scaled,
                grad.1.clamp(-50.0, 50.0),
            ],
            1,
        );
        let delta = self.refiner.forward(input);
        let mu = mu + delta.clone().narrow(1, 0, l);
        let log_sigma =
            (log_sigma + delta.narrow(1, l, l)).clamp(LOG_SIGMA_RANGE.0, LOG_SIGMA_RANGE.1);
        (mu, log_sigma)
    }
}

/// Points where E_q is evaluated: ε `[K, L]` (shared by every image) and weights `[K]`
/// summing to 1.
#[derive(Clone, Debug)]
pub struct Nodes {
    pub eps: Vec<f32>,
    pub weights: Vec<f32>,
    pub latent: usize,
}

impl Nodes {
    pub fn count(&self) -> usize {
        self.weights.len()
    }

    fn tensors(&self, device: &Device) -> (Tensor<3>, Tensor<2>) {
        let k = self.count();
        let eps =
            Tensor::<1>::from_data(TensorData::new(self.eps.clone(), [k * self.latent]), device)
                .reshape([1, k, self.latent]);
        let weights = Tensor::<1>::from_data(TensorData::new(self.weights.clone(), [k]), device)
            .reshape([1, k]);
        (eps, weights)
    }
}

/// log p(x|z) for images `[N, 784]` (0/1) and logits `[N, K, 784]`: `[N, K]`.
pub fn bernoulli_log_lik(x: Tensor<2>, logits: Tensor<3>) -> Tensor<2> {
    let [n, k, _] = logits.dims();
    // softplus(l) = max(l, 0) + log(1 + e^{−|l|}), stable for any logit.
    let softplus = logits.clone().clamp_min(0.0) + logits.clone().abs().neg().exp().log1p();
    (x.unsqueeze_dim::<3>(1) * logits - softplus)
        .sum_dim(2)
        .reshape([n, k])
}

/// log p(x_n|z_g) for images `[N, 784]` and the logits of G points `[G, 784]`: `[N, G]`, by
/// one matrix product (x·l − Σ softplus(l)), never an `[N, G, 784]` tensor.
pub fn log_lik_matrix(x: Tensor<2>, logits: Tensor<2>) -> Tensor<2> {
    let g = logits.dims()[0];
    let softplus = (logits.clone().clamp_min(0.0) + logits.clone().abs().neg().exp().log1p())
        .sum_dim(1)
        .reshape([1, g]);
    x.matmul(logits.transpose()) - softplus
}

/// KL(N(μ, σ²) ‖ N(0, I)) per image: `[N]`.
pub fn kl_to_prior(mu: Tensor<2>, log_sigma: Tensor<2>) -> Tensor<1> {
    let n = mu.dims()[0];
    ((mu.powi_scalar(2) + (log_sigma.clone() * 2.0).exp() - 1.0 - log_sigma * 2.0) * 0.5)
        .sum_dim(1)
        .reshape([n])
}

/// The ELBO of q = N(μ, diag σ²) for each image, E_q over `nodes`: `[N]`.
pub fn elbo(
    decoder: &VaeNet,
    x: Tensor<2>,
    mu: Tensor<2>,
    log_sigma: Tensor<2>,
    nodes: &Nodes,
) -> Tensor<1> {
    let [n, l] = mu.dims();
    let device = mu.device();
    let (eps, weights) = nodes.tensors(&device);
    let k = nodes.count();
    let z = mu.clone().unsqueeze_dim::<3>(1) + log_sigma.clone().exp().unsqueeze_dim::<3>(1) * eps;
    let logits = decoder
        .decode(z.reshape([n * k, l]))
        .reshape([n, k, PIXELS]);
    let expected = (bernoulli_log_lik(x, logits) * weights)
        .sum_dim(1)
        .reshape([n]);
    expected - kl_to_prior(mu, log_sigma)
}

/// The ELBO with one reparameterized sample per image (`eps` `[N, L]`): training's objective.
pub fn elbo_sampled(
    net: &VaeNet,
    x: Tensor<2>,
    mu: Tensor<2>,
    log_sigma: Tensor<2>,
    eps: Tensor<2>,
    kl_weight: f64,
) -> Tensor<1> {
    let n = mu.dims()[0];
    let z = mu.clone() + log_sigma.clone().exp() * eps;
    let logits = net.decode(z).reshape([n, 1, PIXELS]);
    bernoulli_log_lik(x, logits).reshape([n]) - kl_to_prior(mu, log_sigma) * kl_weight
}

/// A model as the app keeps it: the networks and their config.
pub type VaeModel = Learned<VaeConfig>;

/// The one kind of model this demo trains: encoder, decoder and refiner together.
pub const KIND: &str = "vae";

// Made by `vae train` (the commands in docs/vae.md).
const SHIPPED_VAE2: &[u8] = include_bytes!("../../../assets/vae-2d.mpk");
const SHIPPED_VAE16: &[u8] = include_bytes!("../../../assets/vae-16d.mpk");

impl NetSpec for VaeConfig {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[(KIND, SHIPPED_VAE2), (KIND, SHIPPED_VAE16)];
    type Net = VaeNet;

    fn file_kind(&self) -> &'static str {
        KIND
    }
    fn validate(&self) -> Result<(), String> {
        if !(1..=64).contains(&self.latent) {
            return Err(format!("latent {} must be in 1..=64", self.latent));
        }
        if !(4..=4096).contains(&self.hidden) || !(4..=4096).contains(&self.refiner_hidden) {
            return Err(format!(
                "hidden sizes {} and {} must be in 4..=4096",
                self.hidden, self.refiner_hidden
            ));
        }
        Ok(())
    }
    fn build(&self, device: &Device) -> VaeNet {
        VaeNet::new(self, device)
    }
}

/// The shipped model with a `latent`-dimensional z (2 or 16).
pub fn shipped_with_latent(latent: usize, device: &Device) -> anyhow::Result<VaeModel> {
    let models: Vec<VaeModel> = crate::stored_model::all_shipped(device)?;
    models
        .into_iter()
        .find(|m| m.config.latent == latent)
        .ok_or_else(|| anyhow::anyhow!("no shipped vae model with a {latent}-D latent"))
}

/// Rows of `f32` as one `[N, width]` tensor.
pub fn rows_tensor(rows: &[Vec<f32>], width: usize, device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::<1>::from_data(TensorData::new(flat, [rows.len() * width]), device)
        .reshape([rows.len(), width])
}

/// A `[N, W]` tensor back as rows.
pub fn tensor_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, w] = t.dims();
    let flat = t.into_data().try_to_vec::<f32>().unwrap_or_default();
    flat.chunks(w.max(1)).map(<[f32]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> VaeConfig {
        VaeConfig {
            latent: 2,
            hidden: 8,
            refiner_hidden: 8,
        }
    }

    #[test]
    fn the_kl_to_the_prior_is_zero_at_the_prior_and_positive_elsewhere() {
        let device = Device::flex();
        let zero = Tensor::<2>::zeros([1, 2], &device);
        let kl = kl_to_prior(zero.clone(), zero.clone()).into_scalar::<f32>();
        assert!(kl.abs() < 1e-6);
        let mu = rows_tensor(&[vec![1.0, -2.0]], 2, &device);
        let ls = rows_tensor(&[vec![0.3, -0.5]], 2, &device);
        let kl = f64::from(kl_to_prior(mu, ls).into_scalar::<f32>());
        let by_hand: f64 = [(1.0f64, 0.3f64), (-2.0, -0.5)]
            .iter()
            .map(|(m, s)| 0.5 * (m * m + (2.0 * s).exp() - 1.0 - 2.0 * s))
            .sum();
        assert!((kl - by_hand).abs() < 1e-5, "{kl} vs {by_hand}");
    }

    #[test]
    fn the_bernoulli_log_likelihood_matches_the_formula_for_large_logits_too() {
        let device = Device::flex();
        let logits = rows_tensor(&[vec![-60.0, 0.0, 3.0, 60.0]], 4, &device).reshape([1, 1, 4]);
        let x = rows_tensor(&[vec![0.0, 1.0, 1.0, 0.0]], 4, &device);
        let got = f64::from(bernoulli_log_lik(x, logits).into_scalar::<f32>());
        let sp = |l: f64| l.max(0.0) + (-l.abs()).exp().ln_1p();
        let want = (0.0 - sp(-60.0)) + (0.0 - sp(0.0)) + (3.0 - sp(3.0)) + (0.0 - sp(60.0));
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    }

    #[test]
    fn shapes_flow_through_every_network() {
        let device = Device::flex();
        let net = VaeNet::new(&tiny(), &device);
        let x = Tensor::<2>::zeros([3, PIXELS], &device);
        let (mu, ls) = net.encode(x.clone());
        assert_eq!(mu.dims(), [3, 2]);
        let nodes = Nodes {
            eps: vec![0.0, 0.0, 1.0, -1.0],
            weights: vec![0.5, 0.5],
            latent: 2,
        };
        assert_eq!(elbo(&net, x, mu.clone(), ls.clone(), &nodes).dims(), [3]);
        let (m2, s2) = net.refine((mu.clone(), ls.clone()), (mu, ls));
        assert_eq!((m2.dims(), s2.dims()), ([3, 2], [3, 2]));
        assert_eq!(net.decoder().arrays().len(), 3);
    }
}
