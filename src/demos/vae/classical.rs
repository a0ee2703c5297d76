//! The classical inverses of the decoder, and the exact answer they are scored against:
//!
//! - **Exact Bayes** (2-D latent): p(z|x) ∝ p(x|z)p(z) and log p(x) by the trapezoidal rule on a
//!   uniform grid over z (spectrally accurate for a smooth integrand well inside the box).
//! - **Expectations under q** by Gauss–Hermite quadrature in q's own coordinates (2-D: the
//!   ELBO with no sampling noise) or by shared Monte Carlo points (any latent size).
//! - **Per-image variational inference**: q = N(μ, diag σ²) fitted to one image by Adam on its
//!   ELBO from the prior; every image's q is its own (Adam is per coordinate), so a batch of
//!   images is fitted at once.
//! - **Importance sampling** of log p(x) (Burda et al.'s estimate), for latents where the grid
//!   cannot go.

use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::model::{
    LOG_SIGMA_RANGE, Nodes, VaeNet, elbo, log_lik_matrix, rows_tensor, tensor_rows,
};
use super::sim::PIXELS;

/// q = N(μ, diag σ²) for each image: rows of μ and of log σ.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussians {
    pub mu: Vec<Vec<f32>>,
    pub log_sigma: Vec<Vec<f32>>,
}

impl Gaussians {
    /// The prior N(0, I) for `n` images.
    pub fn prior(n: usize, latent: usize) -> Self {
        Self {
            mu: vec![vec![0.0; latent]; n],
            log_sigma: vec![vec![0.0; latent]; n],
        }
    }

    pub fn len(&self) -> usize {
        self.mu.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mu.is_empty()
    }

    pub fn latent(&self) -> usize {
        self.mu.first().map_or(0, Vec::len)
    }

    fn tensors(&self, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let l = self.latent();
        (
            rows_tensor(&self.mu, l, device),
            rows_tensor(&self.log_sigma, l, device),
        )
    }

    /// The images in `range` only.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        Self {
            mu: self.mu[range.clone()].to_vec(),
            log_sigma: self.log_sigma[range].to_vec(),
        }
    }
}

/// Gauss–Hermite nodes and weights for E over N(0, 1) (Golub–Welsch: the eigenvalues of the
/// probabilists' Hermite recurrence's Jacobi matrix, the weights from its eigenvectors).
pub fn gauss_hermite(order: usize) -> (Vec<f64>, Vec<f64>) {
    let jacobi = nalgebra::DMatrix::from_fn(order, order, |i, j| {
        if i.abs_diff(j) == 1 {
            (i.max(j) as f64).sqrt()
        } else {
            0.0
        }
    });
    let eigen = jacobi.symmetric_eigen();
    let mut pairs: Vec<(f64, f64)> = (0..order)
        .map(|k| (eigen.eigenvalues[k], eigen.eigenvectors[(0, k)].powi(2)))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs.into_iter().unzip()
}

/// The tensor-product Gauss–Hermite rule of `order` points per axis in `latent` dimensions.
pub fn hermite_nodes(latent: usize, order: usize) -> Nodes {
    let (x, w) = gauss_hermite(order);
    let count = order.pow(latent as u32);
    let (mut eps, mut weights) = (Vec::with_capacity(count * latent), Vec::with_capacity(count));
    for index in 0..count {
        let (mut rest, mut weight) = (index, 1.0);
        for _ in 0..latent {
            let k = rest % order;
            rest /= order;
            eps.push(x[k] as f32);
            weight *= w[k];
        }
        weights.push(weight as f32);
    }
    Nodes {
        eps,
        weights,
        latent,
    }
}

/// `count` standard normal points with equal weights (the same for every image).
pub fn sampled_nodes(latent: usize, count: usize, seed: u64) -> Nodes {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Nodes {
        eps: (0..count * latent)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect(),
        weights: vec![1.0 / count as f32; count],
        latent,
    }
}

/// How E_q is taken: Gauss–Hermite (no noise; only for small latents) or shared samples.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Expectation {
    Hermite { order: usize },
    Sampled { count: usize, seed: u64 },
}

impl Expectation {
    /// The rule of a `latent`-dimensional model: Gauss–Hermite up to 3 dimensions, else samples.
    pub fn for_latent(latent: usize, order: usize, samples: usize) -> Self {
        if latent <= 3 {
            Self::Hermite { order }
        } else {
            Self::Sampled {
                count: samples,
                seed: 0x0e1b_0000,
            }
        }
    }

    pub fn nodes(self, latent: usize) -> Nodes {
        match self {
            Self::Hermite { order } => hermite_nodes(latent, order),
            Self::Sampled { count, seed } => sampled_nodes(latent, count, seed),
        }
    }
}

/// The forward model as the inverses see it: log p(x|z) at given points, and each image's ELBO
/// under q (with its gradient). The VAE's decoder is one; the tests add a linear-Gaussian one,
/// whose posterior is known in closed form.
pub trait ForwardModel {
    fn latent(&self) -> usize;
    /// log p(x_n | z_g) for every image n and point g: `[N][G]`.
    fn log_lik(&self, images: &[Vec<f32>], z: &[Vec<f32>]) -> Vec<Vec<f64>>;
    /// Each image's ELBO under q, E_q over `nodes`.
    fn elbos(&self, images: &[Vec<f32>], q: &Gaussians, nodes: &Nodes) -> Vec<f64>;
    /// The same, with each ELBO's gradient with respect to μ and log σ.
    fn elbo_gradients(&self, images: &[Vec<f32>], q: &Gaussians, nodes: &Nodes)
    -> (Vec<f64>, Gaussians);
}

/// The VAE's decoder on a device.
pub struct Decoder<'a> {
    pub net: &'a VaeNet,
    pub latent: usize,
    pub device: &'a Device,
}

/// Images per decoder pass: bounds the `[images × points × 784]` logits in memory.
fn chunk_images(points: usize) -> usize {
    (2_000_000 / (points * PIXELS).max(1)).clamp(1, 256)
}

fn to_f64(t: Tensor<1>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap_or_default()
        .into_iter()
        .map(f64::from)
        .collect()
}

impl ForwardModel for Decoder<'_> {
    fn latent(&self) -> usize {
        self.latent
    }

    fn log_lik(&self, images: &[Vec<f32>], z: &[Vec<f32>]) -> Vec<Vec<f64>> {
        let x = rows_tensor(images, PIXELS, self.device);
        let mut rows = vec![Vec::with_capacity(z.len()); images.len()];
        for points in z.chunks(GRID_CHUNK) {
            let logits = self.net.decode(rows_tensor(points, self.latent, self.device));
            let values = log_lik_matrix(x.clone(), logits)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap_or_default();
            for (row, chunk) in rows.iter_mut().zip(values.chunks(points.len())) {
                row.extend(chunk.iter().map(|&v| f64::from(v)));
            }
        }
        rows
    }

    fn elbos(&self, images: &[Vec<f32>], q: &Gaussians, nodes: &Nodes) -> Vec<f64> {
        let step = chunk_images(nodes.count());
        let mut out = Vec::with_capacity(images.len());
        for start in (0..images.len()).step_by(step) {
            let end = (start + step).min(images.len());
            let x = rows_tensor(&images[start..end], PIXELS, self.device);
            let (mu, ls) = q.slice(start..end).tensors(self.device);
            out.extend(to_f64(elbo(self.net, x, mu, ls, nodes)));
        }
        out
    }

    fn elbo_gradients(
        &self,
        images: &[Vec<f32>],
        q: &Gaussians,
        nodes: &Nodes,
    ) -> (Vec<f64>, Gaussians) {
        let step = chunk_images(nodes.count());
        let (mut values, mut grad) = (Vec::new(), Gaussians::prior(0, 0));
        for start in (0..images.len()).step_by(step) {
            let end = (start + step).min(images.len());
            let x = rows_tensor(&images[start..end], PIXELS, self.device);
            let (mu, ls) = q.slice(start..end).tensors(self.device);
            let (mu, ls) = (mu.autodiff().require_grad(), ls.autodiff().require_grad());
            let e = elbo(self.net, x, mu.clone(), ls.clone(), nodes);
            let grads = e.clone().sum().backward();
            values.extend(to_f64(e.without_autodiff()));
            let (n, l) = (end - start, q.latent());
            let rows = |t: Option<Tensor<2>>| t.map_or_else(|| vec![vec![0.0; l]; n], tensor_rows);
            grad.mu.extend(rows(mu.grad(&grads)));
            grad.log_sigma.extend(rows(ls.grad(&grads)));
        }
        (values, grad)
    }
}

/// How the per-image fit runs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SviSettings {
    pub steps: usize,
    /// Adam's step size at the start (it decays linearly to a tenth by the last step).
    pub learning_rate: f64,
    /// E_q during the fit.
    pub expectation: Expectation,
}

impl SviSettings {
    /// Converged on the shipped models (bench: four times the steps adds < 0.01 nats).
    pub fn converged(latent: usize) -> Self {
        Self {
            steps: 500,
            learning_rate: 0.05,
            expectation: Expectation::for_latent(latent, 5, 16),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100_000).contains(&self.steps) {
            return Err(format!("steps {} must be in 1..=100000", self.steps));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(format!("learning rate {} must be in (0, 1]", self.learning_rate));
        }
        Ok(())
    }
}

/// Adam's moments for rows of parameters.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    fn new(len: usize) -> Self {
        Self {
            m: vec![0.0; len],
            v: vec![0.0; len],
            t: 0,
        }
    }

    /// Ascends: `params += rate · m̂ / (√v̂ + ε)`.
    fn ascend(&mut self, params: &mut [f32], grad: &[f32], rate: f64) {
        let (b1, b2) = (0.9f64, 0.999f64);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (i, (p, &g)) in params.iter_mut().zip(grad).enumerate() {
            let g = f64::from(g);
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g;
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g;
            *p += (rate * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8)) as f32;
        }
    }
}

fn flat(rows: &[Vec<f32>]) -> Vec<f32> {
    rows.iter().flatten().copied().collect()
}

fn unflat(values: &[f32], latent: usize) -> Vec<Vec<f32>> {
    values.chunks(latent.max(1)).map(<[f32]>::to_vec).collect()
}

/// The per-image fit from `start` (the prior for the classical method): q after every step.
/// `stop` is polled between steps.
pub fn fit(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    start: Gaussians,
    settings: &SviSettings,
    stop: &dyn Fn() -> bool,
) -> Vec<Gaussians> {
    let latent = start.latent();
    let (mut mu, mut ls) = (flat(&start.mu), flat(&start.log_sigma));
    let (mut adam_mu, mut adam_ls) = (Adam::new(mu.len()), Adam::new(ls.len()));
    let mut trace = vec![start];
    for step in 0..settings.steps {
        if stop() {
            break;
        }
        let nodes = match settings.expectation {
            Expectation::Sampled { count, seed } => {
                sampled_nodes(latent, count, seed.wrapping_add(step as u64))
            }
            hermite => hermite.nodes(latent),
        };
        let q = Gaussians {
            mu: unflat(&mu, latent),
            log_sigma: unflat(&ls, latent),
        };
        let (_, grad) = model.elbo_gradients(images, &q, &nodes);
        let rate = settings.learning_rate * (1.0 - 0.9 * step as f64 / settings.steps as f64);
        adam_mu.ascend(&mut mu, &flat(&grad.mu), rate);
        adam_ls.ascend(&mut ls, &flat(&grad.log_sigma), rate);
        for s in &mut ls {
            *s = s.clamp(LOG_SIGMA_RANGE.0 as f32, LOG_SIGMA_RANGE.1 as f32);
        }
        trace.push(Gaussians {
            mu: unflat(&mu, latent),
            log_sigma: unflat(&ls, latent),
        });
    }
    trace
}

/// One step of preconditioned gradient ascent on each image's ELBO: μ += α σ² ∂/∂μ (Newton's
/// step where the posterior is Gaussian), log σ += β ∂/∂log σ.
pub fn gradient_step(q: &Gaussians, grad: &Gaussians, alpha: f64, beta: f64) -> Gaussians {
    let step_rows = |rows: &[Vec<f32>], g: &[Vec<f32>], scale: &dyn Fn(usize, usize) -> f64| {
        rows.iter()
            .zip(g)
            .enumerate()
            .map(|(n, (r, gr))| {
                r.iter()
                    .zip(gr)
                    .enumerate()
                    .map(|(d, (v, gv))| v + (scale(n, d) * f64::from(*gv)) as f32)
                    .collect::<Vec<f32>>()
            })
            .collect::<Vec<Vec<f32>>>()
    };
    let variance = |n: usize, d: usize| (2.0 * f64::from(q.log_sigma[n][d])).exp();
    let log_sigma: Vec<Vec<f32>> = step_rows(&q.log_sigma, &grad.log_sigma, &|_, _| beta)
        .into_iter()
        .map(|r: Vec<f32>| {
            r.into_iter()
                .map(|s| s.clamp(LOG_SIGMA_RANGE.0 as f32, LOG_SIGMA_RANGE.1 as f32))
                .collect()
        })
        .collect();
    Gaussians {
        mu: step_rows(&q.mu, &grad.mu, &|n, d| alpha * variance(n, d)),
        log_sigma,
    }
}

/// A uniform grid over z ∈ [−half_width, half_width]² for the exact posterior.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Grid {
    pub half_width: f64,
    pub spacing: f64,
}

impl Grid {
    /// The oracle's grid: z ∈ [−5, 5]², spacing 0.04 (251² points; bench checks that halving
    /// the spacing moves log p(x) by < 0.01 nats).
    pub const EXACT: Grid = Grid {
        half_width: 5.0,
        spacing: 0.04,
    };

    pub fn side(&self) -> usize {
        (2.0 * self.half_width / self.spacing).round() as usize + 1
    }

    pub fn coordinate(&self, index: usize) -> f64 {
        -self.half_width + index as f64 * self.spacing
    }

    /// The same box with half the spacing.
    pub fn halved(&self) -> Self {
        Self {
            half_width: self.half_width,
            spacing: self.spacing / 2.0,
        }
    }
}

/// The exact posterior of one image.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Exact {
    pub log_px: f64,
    pub mean: [f64; 2],
    pub std: [f64; 2],
    /// Correlation of z₁ and z₂ under p(z|x).
    pub correlation: f64,
    /// Posterior mass within one grid step of the box's edge (should be ~0).
    pub edge_mass: f64,
}

impl Exact {
    /// The exact posterior's mean and log-std as a diagonal Gaussian (what `infer --method
    /// exact` writes).
    pub fn as_gaussian(&self) -> (Vec<f32>, Vec<f32>) {
        (
            self.mean.iter().map(|&m| m as f32).collect(),
            self.std.iter().map(|&s| s.ln() as f32).collect(),
        )
    }
}

/// Running sums of one image's posterior over grid points, in log space.
#[derive(Clone)]
struct Accumulator {
    max: f64,
    sums: [f64; 7],
}

impl Accumulator {
    fn new() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sums: [0.0; 7],
        }
    }

    fn add(&mut self, log_weight: f64, z: [f64; 2], edge: bool) {
        if log_weight > self.max {
            let scale = (self.max - log_weight).exp();
            for s in &mut self.sums {
                *s *= scale;
            }
            self.max = log_weight;
        }
        let w = (log_weight - self.max).exp();
        let terms = [
            1.0,
            z[0],
            z[1],
            z[0] * z[0],
            z[1] * z[1],
            z[0] * z[1],
            if edge { 1.0 } else { 0.0 },
        ];
        for (s, t) in self.sums.iter_mut().zip(terms) {
            *s += w * t;
        }
    }

    fn finish(&self, area: f64) -> Exact {
        let s = &self.sums;
        let mean = [s[1] / s[0], s[2] / s[0]];
        let var = [
            (s[3] / s[0] - mean[0] * mean[0]).max(1e-300),
            (s[4] / s[0] - mean[1] * mean[1]).max(1e-300),
        ];
        let cov = s[5] / s[0] - mean[0] * mean[1];
        Exact {
            log_px: self.max + s[0].ln() + area.ln(),
            mean,
            std: [var[0].sqrt(), var[1].sqrt()],
            correlation: cov / (var[0] * var[1]).sqrt(),
            edge_mass: s[6] / s[0],
        }
    }
}

/// Grid points per decoder pass.
const GRID_CHUNK: usize = 2048;

/// log p(z) of the standard normal in 2-D.
fn log_prior(z: &[f64; 2]) -> f64 {
    -0.5 * (z[0] * z[0] + z[1] * z[1]) - (2.0 * std::f64::consts::PI).ln()
}

/// The exact posterior of every image on `grid` (a 2-D model only). With `density`, also each
/// image's log p(x, z) at every grid point (row-major, z₂ the row), for the heat map.
pub fn exact_posteriors(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    grid: &Grid,
    mut density: Option<&mut Vec<Vec<f32>>>,
    stop: &dyn Fn() -> bool,
) -> Option<Vec<Exact>> {
    let side = grid.side();
    let points: Vec<[f64; 2]> = (0..side * side)
        .map(|i| [grid.coordinate(i % side), grid.coordinate(i / side)])
        .collect();
    let mut acc = vec![Accumulator::new(); images.len()];
    if let Some(d) = density.as_deref_mut() {
        *d = vec![Vec::with_capacity(points.len()); images.len()];
    }
    let on_edge = |z: &[f64; 2]| {
        z.iter()
            .any(|c| c.abs() > grid.half_width - grid.spacing * 1.5)
    };
    for chunk in points.chunks(GRID_CHUNK) {
        if stop() {
            return None;
        }
        let z: Vec<Vec<f32>> = chunk
            .iter()
            .map(|p| vec![p[0] as f32, p[1] as f32])
            .collect();
        let log_lik = model.log_lik(images, &z);
        for (n, (a, row)) in acc.iter_mut().zip(&log_lik).enumerate() {
            for (p, ll) in chunk.iter().zip(row) {
                let joint = ll + log_prior(p);
                a.add(joint, *p, on_edge(p));
                if let Some(d) = density.as_deref_mut() {
                    d[n].push(joint as f32);
                }
            }
        }
    }
    let area = grid.spacing * grid.spacing;
    Some(acc.iter().map(|a| a.finish(area)).collect())
}

/// log p(x) by importance sampling from `proposal` (its σ widened by `widen`), `samples` draws
/// per image: log (1/S) Σ p(x, z_s) / r(z_s).
pub fn importance_log_px(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    proposal: &Gaussians,
    samples: usize,
    widen: f64,
    seed: u64,
) -> Vec<f64> {
    let latent = proposal.latent();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let batch = 1000.min(samples).max(1);
    images
        .iter()
        .enumerate()
        .map(|(n, image)| {
            let mut log_terms = Vec::with_capacity(samples);
            let mut done = 0;
            while done < samples {
                let count = batch.min(samples - done);
                let mut z = Vec::with_capacity(count);
                let mut log_ratio = Vec::with_capacity(count);
                for _ in 0..count {
                    let mut point = Vec::with_capacity(latent);
                    let mut log_r_minus_prior = 0.0;
                    for d in 0..latent {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        let s = f64::from(proposal.log_sigma[n][d]).exp() * widen;
                        let v = f64::from(proposal.mu[n][d]) + s * e;
                        point.push(v as f32);
                        // log r(z) − log p(z), per dimension.
                        log_r_minus_prior += -0.5 * e * e - s.ln() + 0.5 * v * v;
                    }
                    z.push(point);
                    log_ratio.push(-log_r_minus_prior);
                }
                let ll = model.log_lik(std::slice::from_ref(image), &z);
                log_terms.extend(ll[0].iter().zip(&log_ratio).map(|(l, r)| l + r));
                done += count;
            }
            log_sum_exp(&log_terms) - (samples as f64).ln()
        })
        .collect()
}

pub fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}
