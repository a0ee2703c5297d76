//! Orthogonal AMP (Ma & Ping 2017) with the LMMSE linear estimator and the divergence-free
//! posterior-mean denoiser, written once in burn for a batch of vectors, and OAMP-Net2 (He, Wen,
//! Jin & Li 2020) as the same iteration with four learned scalars per iteration (γ, θ, φ, ξ):
//! classical OAMP is (1, 1, 1, 1).
//!
//! One iteration, in the real form (n = 2N_t dimensions, m = 2N_r, σ² the noise per dimension):
//!
//! ```text
//! v²  = max((‖y − Hx̂‖² − m σ²) / tr(HᵀH), ε)          the estimate's error per dimension
//! Ŵ   = v² Hᵀ (v² HHᵀ + σ² I)⁻¹,  W = n / tr(ŴH) · Ŵ    de-correlated LMMSE
//! r   = x̂ + γ W (y − H x̂)
//! τ²  = (‖I − θWH‖²_F v² + θ² ‖W‖²_F σ²) / n             r's error per dimension
//! x̂'  = φ c (E[x | r, τ²] − ξ d r)                     divergence-free denoiser
//! ```
//!
//! where E[x | r, τ²] is the constellation's posterior mean, v_post its posterior variance
//! (averaged over dimensions), d = v_post / τ² and c = 1 / (1 − d): the textbook OAMP's
//! divergence-free form (the extrinsic estimate, as in VAMP), which makes r's error orthogonal
//! to the estimate's and the iteration follow its state evolution. OAMP-Net2 learns γ, θ, φ, ξ
//! as factors on these per-vector values (the paper learns φ and ξ outright, from a denoiser that
//! is not divergence-free); starting from ones, training starts from OAMP.
//!
//! With HᵀH = V diag(λ) Vᵀ (once per channel, outside the graph), Ŵ(y − Hx̂) =
//! V diag(g)(Vᵀ Hᵀ y − λ ⊙ Vᵀ x̂) with g = v² / (v² λ + σ²), and every trace is a sum over λ, so
//! an iteration is two batched products with V and needs no inverse: gradients flow through it.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::SymmetricEigen;

use super::sim::{Modulation, Vector};

/// The floor on v², as in the OAMP papers' code.
const V2_FLOOR: f32 = 5e-13;

/// The per-channel quantities every iteration reads, for a batch of vectors.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Eigenvectors of HᵀH, `[B, n, n]` (column k is the k-th eigenvector).
    pub eigenvectors: Tensor<3>,
    /// Eigenvalues of HᵀH, `[B, n]`.
    pub eigenvalues: Tensor<2>,
    /// Vᵀ Hᵀ y, `[B, n]`.
    pub projected: Tensor<2>,
    /// ‖y‖², `[B, 1]`.
    pub received_energy: Tensor<2>,
    /// Noise variance per real dimension.
    pub noise: f32,
    /// m = 2N_r.
    pub received_dims: usize,
}

impl Prepared {
    pub fn new(vectors: &[Vector], dimension_noise: f64, device: &Device) -> Self {
        let b = vectors.len();
        let n = vectors.first().map_or(0, |v| v.channel.ncols());
        let m = vectors.first().map_or(0, |v| v.channel.nrows());
        let (mut basis, mut values, mut projected, mut energy) = (
            Vec::with_capacity(b * n * n),
            Vec::with_capacity(b * n),
            Vec::with_capacity(b * n),
            Vec::with_capacity(b),
        );
        for v in vectors {
            let eigen = SymmetricEigen::new(v.channel.transpose() * &v.channel);
            let hty = v.channel.transpose() * &v.received;
            let z = eigen.eigenvectors.transpose() * hty;
            // Row-major [n, n]: element (i, k) is the i-th entry of eigenvector k.
            for i in 0..n {
                basis.extend((0..n).map(|k| eigen.eigenvectors[(i, k)] as f32));
            }
            values.extend(eigen.eigenvalues.iter().map(|&l| l.max(0.0) as f32));
            projected.extend(z.iter().map(|&v| v as f32));
            energy.push(v.received.norm_squared() as f32);
        }
        Self {
            eigenvectors: Tensor::from_data(TensorData::new(basis, [b, n, n]), device),
            eigenvalues: Tensor::from_data(TensorData::new(values, [b, n]), device),
            projected: Tensor::from_data(TensorData::new(projected, [b, n]), device),
            received_energy: Tensor::from_data(TensorData::new(energy, [b, 1]), device),
            noise: dimension_noise as f32,
            received_dims: m,
        }
    }

    pub fn batch(&self) -> usize {
        self.eigenvalues.dims()[0]
    }

    pub fn dims(&self) -> usize {
        self.eigenvalues.dims()[1]
    }

    /// Vᵀ x for x `[B, n]`.
    pub fn rotate(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, n] = x.dims();
        x.unsqueeze_dim::<3>(1)
            .matmul(self.eigenvectors.clone())
            .reshape([b, n])
    }

    /// V s for s `[B, n]`.
    pub fn unrotate(&self, s: Tensor<2>) -> Tensor<2> {
        let [b, n] = s.dims();
        self.eigenvectors
            .clone()
            .matmul(s.unsqueeze_dim::<3>(2))
            .reshape([b, n])
    }

    /// Hᵀy, `[B, n]`.
    pub fn matched(&self) -> Tensor<2> {
        self.unrotate(self.projected.clone())
    }

    /// HᵀH x for x `[B, n]`.
    pub fn gram_times(&self, x: Tensor<2>) -> Tensor<2> {
        self.unrotate(self.rotate(x) * self.eigenvalues.clone())
    }
}

/// The corrections of classical OAMP for `iterations` iterations: rows (γ, θ, φ, ξ) = (1, 1, 1, 1).
pub fn classical_corrections(iterations: usize, device: &Device) -> Tensor<2> {
    Tensor::ones([iterations, 4], device)
}

/// E[x | r, τ²] and Var[x | r, τ²] per real dimension for the constellation's equiprobable
/// levels, `r` `[B, n]`, `tau2` `[B, 1]`.
pub fn posterior(r: Tensor<2>, tau2: Tensor<2>, modulation: Modulation) -> (Tensor<2>, Tensor<2>) {
    let device = r.device();
    let [b, n] = r.dims();
    let levels: Vec<f32> = modulation.levels().iter().map(|&v| v as f32).collect();
    let count = levels.len();
    let levels =
        Tensor::<1>::from_data(TensorData::new(levels, [count]), &device).reshape([1, 1, count]);
    let distance = r.unsqueeze_dim::<3>(2) - levels.clone();
    let logits = -(distance.clone() * distance) / (tau2.unsqueeze_dim::<3>(2) * 2.0);
    let weights = softmax(logits, 2);
    let mean = (weights.clone() * levels.clone())
        .sum_dim(2)
        .reshape([b, n]);
    let second = (weights * levels.clone() * levels)
        .sum_dim(2)
        .reshape([b, n]);
    let variance = second - mean.clone() * mean.clone();
    (mean, variance)
}

/// One OAMP state: the posterior mean (the soft estimate shown and decided on), the linear
/// stage's output r and r's predicted error τ².
#[derive(Clone, Debug)]
pub struct Step {
    pub estimate: Tensor<2>,
    pub linear: Tensor<2>,
    pub tau2: Tensor<2>,
}

/// Runs one iteration per row of `corrections` (`[T, 4]`: γ, θ, φ, ξ) from x̂ = 0; returns each
/// iteration's state.
pub fn iterate(prepared: &Prepared, corrections: Tensor<2>, modulation: Modulation) -> Vec<Step> {
    let device = prepared.eigenvalues.device();
    let (b, n) = (prepared.batch(), prepared.dims());
    let [iterations, _] = corrections.dims();
    let lambda = prepared.eigenvalues.clone();
    let trace_gram = lambda.clone().sum_dim(1).clamp_min(1e-12);
    let noise = prepared.noise;
    let mut estimate = Tensor::<2>::zeros([b, n], &device);
    let mut steps = Vec::with_capacity(iterations);
    for t in 0..iterations {
        let row = corrections.clone().slice([t..t + 1, 0..4]);
        let [gamma, theta, phi, xi] = [0, 1, 2, 3].map(|k| row.clone().slice([0..1, k..k + 1]));
        // u = Vᵀ x̂.
        let rotated = prepared.rotate(estimate.clone());
        let residual_energy = prepared.received_energy.clone()
            - (rotated.clone() * prepared.projected.clone()).sum_dim(1) * 2.0
            + (lambda.clone() * rotated.clone() * rotated.clone()).sum_dim(1);
        let v2 = ((residual_energy - noise * prepared.received_dims as f32) / trace_gram.clone())
            .clamp_min(V2_FLOOR);
        let gain = v2.clone() / (v2.clone() * lambda.clone() + noise);
        let scale = (gain.clone() * lambda.clone()).sum_dim(1).recip() * n as f32;
        let step_rotated =
            scale.clone() * gain.clone() * (prepared.projected.clone() - lambda.clone() * rotated);
        let step = prepared.unrotate(step_rotated);
        let linear = estimate + gamma * step;
        let kept = (theta.clone() * scale.clone() * gain.clone() * lambda.clone()).neg() + 1.0;
        let tau2 = ((kept.clone() * kept).sum_dim(1) * v2
            + (theta.clone() * theta * scale.clone() * scale)
                * (gain.clone() * gain * lambda.clone()).sum_dim(1)
                * noise)
            / n as f32;
        let tau2 = tau2.clamp_min(V2_FLOOR);
        let (mean, variance) = posterior(linear.clone(), tau2.clone(), modulation);
        // d = v_post / τ², below 1 (the posterior is narrower than the prior-free estimate r).
        let shrink = (variance.mean_dim(1) / tau2.clone()).clamp(0.0, 0.999);
        let extrinsic = (shrink.clone().neg() + 1.0).recip();
        estimate = phi * extrinsic * (mean.clone() - xi * shrink * linear.clone());
        steps.push(Step {
            estimate: mean,
            linear,
            tau2,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mimo::sim::{Setup, simulate, symbols};

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    /// mmse(τ²) = E[(x − E[x|x + √τ² e])²] for the constellation, by Gauss–Hermite quadrature.
    fn pam_mmse(modulation: Modulation, tau2: f64) -> f64 {
        let levels = modulation.levels();
        // 1-D probabilists' Gauss–Hermite, many nodes, by the trapezoid on a fine grid.
        let (mut total, mut weight) = (0.0, 0.0);
        for k in -4000..=4000 {
            let e = f64::from(k) * 0.002;
            let w = (-0.5 * e * e).exp();
            for &x in levels {
                let r = x + tau2.sqrt() * e;
                let (mut num, mut den) = (0.0, 0.0);
                for &s in levels {
                    let p = (-(r - s) * (r - s) / (2.0 * tau2)).exp();
                    num += p * s;
                    den += p;
                }
                let mean = num / den;
                total += w * (x - mean) * (x - mean);
                weight += w;
            }
        }
        total / weight
    }

    #[test]
    fn oamp_follows_its_state_evolution_on_a_large_iid_channel() {
        // Large i.i.d. channels: r's error per dimension is τ², and x̂'s is mmse(τ²).
        let setup = Setup {
            users: 64,
            antennas: 128,
            modulation: Modulation::Qam16,
            snr_db: 10.0,
            rho: 0.0,
        };
        let batch = simulate(&setup, 24, 9);
        let device = Device::flex();
        let prepared = Prepared::new(&batch.vectors, batch.dimension_noise(), &device);
        let steps = iterate(
            &prepared,
            classical_corrections(4, &device),
            setup.modulation,
        );
        let truth: Vec<f32> = batch
            .vectors
            .iter()
            .flat_map(|v| {
                symbols(setup.modulation, v.sent.as_deref().expect("sent"))
                    .iter()
                    .map(|&s| s as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        let mse = |t: Tensor<2>| -> f64 {
            let v = values(t);
            v.iter()
                .zip(&truth)
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>()
                / v.len() as f64
        };
        for (t, step) in steps.iter().enumerate() {
            let tau2 = values(step.tau2.clone())
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>()
                / 24.0;
            let linear_error = mse(step.linear.clone());
            let estimate_error = mse(step.estimate.clone());
            let predicted = pam_mmse(setup.modulation, tau2);
            assert!(
                (linear_error / tau2 - 1.0).abs() < 0.1,
                "iteration {t}: r's error {linear_error} vs τ² {tau2}"
            );
            assert!(
                (estimate_error / predicted - 1.0).abs() < 0.15,
                "iteration {t}: x̂'s error {estimate_error} vs mmse(τ²) {predicted}"
            );
        }
        // And it converges: later iterations are no worse.
        assert!(mse(steps[3].estimate.clone()) < mse(steps[0].estimate.clone()));
    }

    #[test]
    fn the_posterior_mean_shrinks_towards_the_nearest_level() {
        let device = Device::flex();
        let r = Tensor::<2>::from_data(TensorData::new(vec![0.9f32, -5.0, 0.0], [1, 3]), &device);
        let tau2 = Tensor::<2>::from_data(TensorData::new(vec![1e-4f32], [1, 1]), &device);
        let m = values(posterior(r, tau2, Modulation::Qpsk).0);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!(
            (m[0] - h).abs() < 1e-5 && (m[1] + h).abs() < 1e-5 && m[2].abs() < 1e-5,
            "{m:?}"
        );
    }
}
