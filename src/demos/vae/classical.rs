//! The forward model as the inverses see it ([`ForwardModel`]) and the classical inverses:
//!
//! - **Expectations under q** by Gauss–Hermite quadrature in q's own coordinates (2-D: the
//!   ELBO with no sampling noise) or by shared Monte Carlo points (any latent size).
//! - **Per-image variational inference**: q = N(μ, diag σ²) fitted to one image by Adam on its
//!   ELBO, with restarts; every image's q is its own (Adam is per coordinate), so a batch of
//!   images is fitted at once.
//! - **Natural-gradient steps** on one image's ELBO (the semi-amortized method's steps).
//!
//! The exact answer they are scored against is in `metrics.rs`.

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

/// Points per decoder pass when a model is evaluated on many points at once.
pub const GRID_CHUNK: usize = 2048;

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

/// The per-image fit run from several starts: the best run's trace, and every start's final q
/// (the modes it found, which importance sampling's proposal mixes).
#[derive(Clone, Debug, Default)]
pub struct Restarts {
    /// The trace of each image's best run (highest final ELBO).
    pub trace: Vec<Gaussians>,
    /// Each start's final q, for every image.
    pub finals: Vec<Gaussians>,
}

/// The textbook remedy for the fit's local optima: restarts. The fit runs from the prior and
/// from N((±1.5, 0), I) and N((0, ±1.5), I) (in the first two latent dimensions), all at once,
/// and each image keeps the run with the highest final ELBO: its trace is that run's.
pub fn fit_with_restarts(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    settings: &SviSettings,
    stop: &dyn Fn() -> bool,
) -> Restarts {
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
        return Restarts::default();
    };
    let scores = model.elbos(&repeated, last, &settings.polish.nodes(latent));
    let best: Vec<usize> = (0..n)
        .map(|i| {
            (0..starts.len())
                .max_by(|&a, &b| scores[a * n + i].total_cmp(&scores[b * n + i]))
                .map_or(i, |k| k * n + i)
        })
        .collect();
    let pick = |q: &Gaussians, rows: &mut dyn Iterator<Item = usize>| {
        let rows: Vec<usize> = rows.collect();
        Gaussians {
            mu: rows.iter().map(|&r| q.mu[r].clone()).collect(),
            log_sigma: rows.iter().map(|&r| q.log_sigma[r].clone()).collect(),
        }
    };
    Restarts {
        finals: (0..starts.len())
            .map(|k| pick(last, &mut (k * n..(k + 1) * n)))
            .collect(),
        trace: trace
            .iter()
            .map(|q| pick(q, &mut best.iter().copied()))
            .collect(),
    }
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

/// What the tests of this folder share: a decoder whose posterior is known in closed form, and
/// small random VAE decoders.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::demos::vae::model::{VaeConfig, VaeNet};
    use nalgebra::{DMatrix, DVector};

    /// x = W z + b + N(0, s² I): p(z|x) and p(x) are Gaussian in closed form.
    pub struct LinearGaussian {
        w: DMatrix<f64>,
        b: DVector<f64>,
        s: f64,
    }

    impl LinearGaussian {
        pub fn example() -> Self {
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
        pub fn exact(&self, image: &[f32]) -> (DVector<f64>, DMatrix<f64>, f64) {
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

    pub const X: [f32; 3] = [0.9, 1.7, -0.4];

    pub fn random_decoder(seed: u64) -> (VaeNet, Vec<Vec<f32>>) {
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
}

#[cfg(test)]
mod tests {
    use super::testing::{LinearGaussian, X, random_decoder};
    use super::*;

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
    fn the_per_image_fit_converges_to_the_best_diagonal_gaussian() {
        // Mean field on a Gaussian posterior: the mean exactly, variances 1 / Λ_jj.
        let model = LinearGaussian::example();
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
