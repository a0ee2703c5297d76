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
    let (mut eps, mut weights) = (
        Vec::with_capacity(count * latent),
        Vec::with_capacity(count),
    );
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
    fn elbo_gradients(
        &self,
        images: &[Vec<f32>],
        q: &Gaussians,
        nodes: &Nodes,
    ) -> (Vec<f64>, Gaussians);
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
            let logits = self
                .net
                .decode(rows_tensor(points, self.latent, self.device));
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

/// How the per-image fit runs: Adam on fresh reparameterized samples (unbiased, so a broad q
/// cannot exploit a coarse rule's error), then a last quarter on a fixed rule (deterministic,
/// accurate once q is narrow) to settle.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SviSettings {
    pub steps: usize,
    /// Adam's step size at the start (it decays linearly to a tenth by the last step).
    pub learning_rate: f64,
    /// Fresh samples per image and step in the first three quarters.
    pub samples: usize,
    /// E_q in the last quarter.
    pub polish: Expectation,
}

impl SviSettings {
    /// Converged on the shipped models (bench: four times the steps adds < 0.01 nats).
    pub fn converged(latent: usize) -> Self {
        Self {
            steps: 500,
            learning_rate: 0.05,
            samples: 16,
            polish: Expectation::for_latent(latent, 6, 64),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100_000).contains(&self.steps) || !(1..=10_000).contains(&self.samples) {
            return Err(format!(
                "steps {} must be in 1..=100000 and samples {} in 1..=10000",
                self.steps, self.samples
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(format!(
                "learning rate {} must be in (0, 1]",
                self.learning_rate
            ));
        }
        Ok(())
    }

    /// The rule of step `step`.
    fn rule(&self, step: usize, latent: usize) -> Nodes {
        if step * 4 < self.steps * 3 {
            sampled_nodes(latent, self.samples, 0x5f17_0000 ^ step as u64)
        } else {
            self.polish.nodes(latent)
        }
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
        let nodes = settings.rule(step, latent);
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

/// How far from the origin the classical fit's extra starts lie (along z₁ and z₂).
const RESTART_DISTANCE: f32 = 1.5;

/// The textbook remedy for the fit's local optima: restarts. The fit runs from the prior and
/// from N((±1.5, 0), I) and N((0, ±1.5), I) (in the first two latent dimensions), all at once,
/// and each image keeps the run with the highest final ELBO: its trace is that run's.
pub fn fit_with_restarts(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    settings: &SviSettings,
    stop: &dyn Fn() -> bool,
) -> Vec<Gaussians> {
    let latent = model.latent();
    let n = images.len();
    let mut starts = vec![vec![0.0f32; latent]];
    for d in 0..latent.min(2) {
        for sign in [1.0, -1.0] {
            let mut mean = vec![0.0; latent];
            mean[d] = sign * RESTART_DISTANCE;
            starts.push(mean);
        }
    }
    let repeated: Vec<Vec<f32>> = starts.iter().flat_map(|_| images.iter().cloned()).collect();
    let start = Gaussians {
        mu: starts
            .iter()
            .flat_map(|s| std::iter::repeat_n(s.clone(), n))
            .collect(),
        log_sigma: vec![vec![0.0; latent]; n * starts.len()],
    };
    let trace = fit(model, &repeated, start, settings, stop);
    let Some(last) = trace.last() else {
        return Vec::new();
    };
    let scores = model.elbos(&repeated, last, &settings.polish.nodes(latent));
    let best: Vec<usize> = (0..n)
        .map(|i| {
            (0..starts.len())
                .max_by(|&a, &b| scores[a * n + i].total_cmp(&scores[b * n + i]))
                .map_or(i, |k| k * n + i)
        })
        .collect();
    trace
        .iter()
        .map(|q| Gaussians {
            mu: best.iter().map(|&r| q.mu[r].clone()).collect(),
            log_sigma: best.iter().map(|&r| q.log_sigma[r].clone()).collect(),
        })
        .collect()
}

/// One natural-gradient step on each image's ELBO (Khan & Lin's conjugate-computation VI for
/// a diagonal Gaussian): the ELBO's gradient in log σ gives the expected curvature,
/// −E_q[∂² log p(x, z)] = (1 − ∂ELBO/∂log σ) / σ², the precision moves a share `rate` towards
/// it (floored at a tenth of the old one, where the curvature is not convex), and μ takes the
/// Newton step ∂ELBO/∂μ / precision scaled by `rate`.
pub fn gradient_step(q: &Gaussians, grad: &Gaussians, rate: f64) -> Gaussians {
    let (lo, hi) = LOG_SIGMA_RANGE;
    let mut next = q.clone();
    for n in 0..q.len() {
        for d in 0..q.latent() {
            let variance = (2.0 * f64::from(q.log_sigma[n][d])).exp();
            let precision = 1.0 / variance;
            let curvature =
                ((1.0 - f64::from(grad.log_sigma[n][d])) / variance).max(0.1 * precision);
            let updated = (1.0 - rate) * precision + rate * curvature;
            next.mu[n][d] += (rate * f64::from(grad.mu[n][d]) / updated) as f32;
            next.log_sigma[n][d] = (-0.5 * updated.ln()).clamp(lo, hi) as f32;
        }
    }
    next
}

/// A uniform grid over z ∈ [−half_width, half_width]² for the exact posterior.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Grid {
    pub half_width: f64,
    pub spacing: f64,
}

impl Grid {
    /// The oracle's grid: z ∈ [−6, 6]², spacing 0.04 (301² points; bench checks that halving
    /// the spacing moves log p(x) by < 0.01 nats).
    pub const EXACT: Grid = Grid {
        half_width: 6.0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::vae::model::{VaeConfig, VaeNet};
    use nalgebra::{DMatrix, DVector};

    /// x = W z + b + N(0, s² I): p(z|x) and p(x) are Gaussian in closed form.
    struct LinearGaussian {
        w: DMatrix<f64>,
        b: DVector<f64>,
        s: f64,
    }

    impl LinearGaussian {
        fn new() -> Self {
            Self {
                w: DMatrix::from_row_slice(3, 2, &[1.5, 0.3, -0.4, 2.0, 0.8, 0.9]),
                b: DVector::from_vec(vec![0.1, -0.2, 0.3]),
                s: 0.7,
            }
        }

        fn x(image: &[f32]) -> DVector<f64> {
            DVector::from_iterator(image.len(), image.iter().map(|&v| f64::from(v)))
        }

        /// Posterior mean and precision, and log p(x).
        fn exact(&self, image: &[f32]) -> (DVector<f64>, DMatrix<f64>, f64) {
            let x = Self::x(image);
            let s2 = self.s * self.s;
            let precision = DMatrix::identity(2, 2) + self.w.transpose() * &self.w / s2;
            let cov = precision.clone().try_inverse().expect("invertible");
            let mean = &cov * self.w.transpose() * (&x - &self.b) / s2;
            let marginal = &self.w * self.w.transpose() + DMatrix::identity(3, 3) * s2;
            let r = &x - &self.b;
            let quad = (r.transpose() * marginal.clone().try_inverse().expect("inv") * &r)[0];
            let log_px = -0.5
                * (quad + marginal.determinant().ln() + 3.0 * (2.0 * std::f64::consts::PI).ln());
            (mean, precision, log_px)
        }
    }

    impl ForwardModel for LinearGaussian {
        fn latent(&self) -> usize {
            2
        }

        fn log_lik(&self, images: &[Vec<f32>], z: &[Vec<f32>]) -> Vec<Vec<f64>> {
            let s2 = self.s * self.s;
            images
                .iter()
                .map(|image| {
                    let x = Self::x(image);
                    z.iter()
                        .map(|p| {
                            let zv = DVector::from_vec(vec![f64::from(p[0]), f64::from(p[1])]);
                            let r = &x - &self.w * zv - &self.b;
                            -0.5 * (r.norm_squared() / s2
                                + 3.0 * (2.0 * std::f64::consts::PI * s2).ln())
                        })
                        .collect()
                })
                .collect()
        }

        fn elbos(&self, images: &[Vec<f32>], q: &Gaussians, _: &Nodes) -> Vec<f64> {
            self.elbo_gradients(images, q, &hermite_nodes(2, 1)).0
        }

        /// Closed form: E_q ‖x − Wz − b‖² = ‖x − Wμ − b‖² + Σ_dj W_dj² σ_j².
        fn elbo_gradients(
            &self,
            images: &[Vec<f32>],
            q: &Gaussians,
            _: &Nodes,
        ) -> (Vec<f64>, Gaussians) {
            let s2 = self.s * self.s;
            let mut values = Vec::new();
            let mut grad = Gaussians::prior(0, 0);
            for (n, image) in images.iter().enumerate() {
                let x = Self::x(image);
                let mu = DVector::from_iterator(2, q.mu[n].iter().map(|&v| f64::from(v)));
                let ls: Vec<f64> = q.log_sigma[n].iter().map(|&v| f64::from(v)).collect();
                let var: Vec<f64> = ls.iter().map(|s| (2.0 * s).exp()).collect();
                let r = &x - &self.w * &mu - &self.b;
                let spread: f64 = (0..2)
                    .map(|j| self.w.column(j).norm_squared() * var[j])
                    .sum();
                let expected = -0.5
                    * ((r.norm_squared() + spread) / s2
                        + 3.0 * (2.0 * std::f64::consts::PI * s2).ln());
                let kl: f64 = (0..2)
                    .map(|j| 0.5 * (mu[j] * mu[j] + var[j] - 1.0 - 2.0 * ls[j]))
                    .sum();
                values.push(expected - kl);
                let g_mu = self.w.transpose() * &r / s2 - &mu;
                grad.mu.push(g_mu.iter().map(|&v| v as f32).collect());
                grad.log_sigma.push(
                    (0..2)
                        .map(|j| {
                            (-self.w.column(j).norm_squared() * var[j] / s2 - var[j] + 1.0) as f32
                        })
                        .collect(),
                );
            }
            (values, grad)
        }
    }

    const X: [f32; 3] = [0.9, 1.7, -0.4];

    #[test]
    fn gauss_hermite_integrates_the_normal_moments_exactly() {
        let (x, w) = gauss_hermite(6);
        let moment = |k: i32| x.iter().zip(&w).map(|(x, w)| w * x.powi(k)).sum::<f64>();
        assert!((moment(0) - 1.0).abs() < 1e-12);
        assert!(moment(1).abs() < 1e-12);
        assert!((moment(2) - 1.0).abs() < 1e-12);
        assert!((moment(4) - 3.0).abs() < 1e-10);
        assert!((moment(6) - 15.0).abs() < 1e-9);
        let nodes = hermite_nodes(2, 4);
        assert_eq!(nodes.count(), 16);
        assert!((nodes.weights.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn quadrature_matches_the_closed_form_of_a_linear_gaussian_decoder() {
        let model = LinearGaussian::new();
        let (mean, precision, log_px) = model.exact(&X);
        let cov = precision.try_inverse().expect("inv");
        let exact = exact_posteriors(&model, &[X.to_vec()], &Grid::EXACT, None, &|| false)
            .expect("ran")
            .remove(0);
        assert!(
            (exact.log_px - log_px).abs() < 1e-6,
            "{} vs {log_px}",
            exact.log_px
        );
        for d in 0..2 {
            assert!((exact.mean[d] - mean[d]).abs() < 1e-6);
            assert!((exact.std[d] - cov[(d, d)].sqrt()).abs() < 1e-6);
        }
        let corr = cov[(0, 1)] / (cov[(0, 0)] * cov[(1, 1)]).sqrt();
        assert!((exact.correlation - corr).abs() < 1e-6);
        assert!(exact.edge_mass < 1e-12);
    }

    #[test]
    fn the_per_image_fit_converges_to_the_best_diagonal_gaussian() {
        // Mean field on a Gaussian posterior: the mean exactly, variances 1 / Λ_jj.
        let model = LinearGaussian::new();
        let (mean, precision, log_px) = model.exact(&X);
        let settings = SviSettings {
            steps: 3000,
            learning_rate: 0.05,
            samples: 4,
            polish: Expectation::Hermite { order: 1 },
        };
        let trace = fit(
            &model,
            &[X.to_vec()],
            Gaussians::prior(1, 2),
            &settings,
            &|| false,
        );
        let q = trace.last().expect("q");
        for d in 0..2 {
            assert!(
                (f64::from(q.mu[0][d]) - mean[d]).abs() < 1e-3,
                "{q:?} vs {mean}"
            );
            let want = -0.5 * precision[(d, d)].ln();
            assert!((f64::from(q.log_sigma[0][d]) - want).abs() < 1e-3, "{q:?}");
        }
        let elbo = model.elbos(&[X.to_vec()], q, &hermite_nodes(2, 1))[0];
        assert!(elbo <= log_px && log_px - elbo < 1.0, "{elbo} vs {log_px}");
    }

    #[test]
    fn importance_sampling_estimates_log_px() {
        let model = LinearGaussian::new();
        let (mean, precision, log_px) = model.exact(&X);
        let proposal = Gaussians {
            mu: vec![mean.iter().map(|&v| v as f32).collect()],
            log_sigma: vec![
                (0..2)
                    .map(|d| (-0.5 * precision[(d, d)].ln()) as f32)
                    .collect(),
            ],
        };
        let estimate = importance_log_px(&model, &[X.to_vec()], &proposal, 10_000, 1.2, 7)[0];
        assert!((estimate - log_px).abs() < 0.01, "{estimate} vs {log_px}");
    }

    fn random_decoder(seed: u64) -> (VaeNet, Vec<Vec<f32>>) {
        let device = Device::flex();
        device.seed(seed);
        let config = VaeConfig {
            latent: 2,
            hidden: 8,
            refiner_hidden: 4,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let images = (0..3)
            .map(|_| {
                (0..PIXELS)
                    .map(|_| f32::from(rand::RngExt::random::<bool>(&mut rng)))
                    .collect()
            })
            .collect();
        (VaeNet::new(&config, &device), images)
    }

    #[test]
    fn every_elbo_is_below_log_px_on_random_decoders() {
        let device = Device::flex();
        for seed in 0..3 {
            let (net, images) = random_decoder(seed);
            let decoder = Decoder {
                net: &net,
                latent: 2,
                device: &device,
            };
            let exact =
                exact_posteriors(&decoder, &images, &Grid::EXACT, None, &|| false).expect("ran");
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed + 10);
            for _ in 0..5 {
                let q = Gaussians {
                    mu: (0..3)
                        .map(|_| {
                            vec![
                                StandardNormal.sample(&mut rng),
                                StandardNormal.sample(&mut rng),
                            ]
                        })
                        .collect(),
                    log_sigma: (0..3).map(|_| vec![-1.0, -0.5]).collect(),
                };
                let elbos = decoder.elbos(&images, &q, &hermite_nodes(2, 16));
                for (e, x) in elbos.iter().zip(&exact) {
                    assert!(
                        *e <= x.log_px + 1e-3,
                        "ELBO {e} above log p(x) {}",
                        x.log_px
                    );
                }
            }
            // The exact posterior's own Gaussian comes closest.
            let (mu, log_sigma) = exact.iter().map(Exact::as_gaussian).unzip();
            let best = decoder.elbos(&images, &Gaussians { mu, log_sigma }, &hermite_nodes(2, 16));
            for (e, x) in best.iter().zip(&exact) {
                assert!(
                    *e <= x.log_px + 1e-3 && x.log_px - e < 5.0,
                    "{e} vs {}",
                    x.log_px
                );
            }
        }
    }

    #[test]
    fn the_reparameterized_gradient_matches_finite_differences() {
        let device = Device::flex();
        let (net, images) = random_decoder(5);
        let decoder = Decoder {
            net: &net,
            latent: 2,
            device: &device,
        };
        let nodes = hermite_nodes(2, 5);
        let q = Gaussians {
            mu: vec![vec![0.3, -0.7]; 3],
            log_sigma: vec![vec![-0.4, -1.1]; 3],
        };
        let (_, grad) = decoder.elbo_gradients(&images, &q, &nodes);
        let h = 1e-2f32;
        for n in 0..3 {
            for d in 0..2 {
                for (which, analytic) in [(0, grad.mu[n][d]), (1, grad.log_sigma[n][d])] {
                    let shifted = |delta: f32| {
                        let mut p = q.clone();
                        let rows = if which == 0 {
                            &mut p.mu
                        } else {
                            &mut p.log_sigma
                        };
                        rows[n][d] += delta;
                        decoder.elbos(&images, &p, &nodes)[n]
                    };
                    let numeric = (shifted(h) - shifted(-h)) / (2.0 * f64::from(h));
                    let analytic = f64::from(analytic);
                    assert!(
                        (numeric - analytic).abs() < 2e-2 + 1e-2 * analytic.abs(),
                        "image {n}, {} {d}: {analytic} vs {numeric}",
                        if which == 0 { "μ" } else { "log σ" }
                    );
                }
            }
        }
    }
}
