//! The textbook detectors, per received vector, in the real form of [`super::sim`]: zero
//! forcing, LMMSE, MMSE-SIC with V-BLAST ordering, and exact ML by a Schnorr–Euchner sphere
//! decoder; and OAMP, the iterative one, in burn, with its unrolled, learned twin's factors.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::sim::{Modulation, Vector};

/// x̂ = (HᵀH + δI)⁻¹ Hᵀ y, by Cholesky; `None` when HᵀH + δI is singular.
fn regularized_solve(h: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> Option<DVector<f64>> {
    let n = h.ncols();
    let gram = h.transpose() * h + DMatrix::identity(n, n) * delta;
    gram.cholesky().map(|c| c.solve(&(h.transpose() * y)))
}

/// Zero forcing: the least-squares x̂ = H⁺ y (the pseudo-inverse when HᵀH is singular).
pub fn zero_forcing(h: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    regularized_solve(h, y, 0.0).unwrap_or_else(|| match h.clone().pseudo_inverse(1e-12) {
        Ok(pinv) => pinv * y,
        Err(_) => DVector::zeros(h.ncols()),
    })
}

/// LMMSE: x̂ = (HᵀH + σ_r²/E_s · I)⁻¹ Hᵀ y with σ_r² = `dimension_noise` the noise and
/// E_s = 1/2 the signal energy per real dimension.
pub fn lmmse(h: &DMatrix<f64>, y: &DVector<f64>, dimension_noise: f64) -> DVector<f64> {
    let delta = dimension_noise / Modulation::DIMENSION_ENERGY;
    regularized_solve(h, y, delta).unwrap_or_else(|| DVector::zeros(h.ncols()))
}

/// MMSE successive interference cancellation with V-BLAST ordering (Wolniansky et al. 1998,
/// MMSE form): of the users left, the one with the smallest LMMSE error (the largest
/// post-detection SINR) is decided first and its signal subtracted. One inverse of the
/// regularized Gram matrix, from which each decided user is removed by a Schur complement:
/// O(N_t³) in all, where inverting the Gram matrix of the users left at every step is O(N_t⁴).
/// Returns the decided symbols' levels, in the order of the dimensions.
pub fn vblast(
    h: &DMatrix<f64>,
    y: &DVector<f64>,
    dimension_noise: f64,
    modulation: Modulation,
) -> DVector<f64> {
    let users = h.ncols() / 2;
    let delta = dimension_noise / Modulation::DIMENSION_ENERGY;
    let levels = modulation.levels();
    let mut decided = DVector::zeros(2 * users);
    let gram = h.transpose() * h;
    let n = gram.nrows();
    let Some(mut inverse) = (&gram + DMatrix::identity(n, n) * delta).try_inverse() else {
        return decided;
    };
    // Hᵀ times the residual, kept as the decided users' signals are subtracted.
    let mut matched = h.transpose() * y;
    // The real dimensions of the users not decided yet, in order.
    let mut active: Vec<usize> = (0..n).collect();
    let mut left: Vec<usize> = (0..users).collect();
    while !left.is_empty() {
        // The inverse of the remaining users' Gram matrix sits in `inverse`'s active rows and
        // columns (each decided user is removed by a Schur complement below): its diagonal is
        // each user's LMMSE error, as if the Gram matrix of those left were inverted afresh.
        let error = |k: usize| inverse[(k, k)] + inverse[(k + users, k + users)];
        let Some(pick) = (0..left.len()).min_by(|&a, &b| error(left[a]).total_cmp(&error(left[b])))
        else {
            break;
        };
        let user = left.remove(pick);
        let dims = [user, user + users];
        for d in dims {
            let estimate: f64 = active.iter().map(|&j| inverse[(d, j)] * matched[j]).sum();
            decided[d] = levels[usize::from(modulation.decide(estimate))];
        }
        active.retain(|j| !dims.contains(j));
        for &j in &active {
            matched[j] -=
                gram[(j, dims[0])] * decided[dims[0]] + gram[(j, dims[1])] * decided[dims[1]];
        }
        let corner = DMatrix::from_fn(2, 2, |a, b| inverse[(dims[a], dims[b])]);
        let Some(corner_inverse) = corner.try_inverse() else {
            break;
        };
        let side = DMatrix::from_fn(active.len(), 2, |i, a| inverse[(active[i], dims[a])]);
        let update = &side * corner_inverse * side.transpose();
        for (i, &r) in active.iter().enumerate() {
            for (j, &c) in active.iter().enumerate() {
                inverse[(r, c)] -= update[(i, j)];
            }
        }
    }
    decided
}

/// How many real dimensions times bits the sphere decoder takes on: 2^32 candidates (16×16
/// QPSK or 8×8 16-QAM); larger problems are refused.
pub const ML_MAX_BITS: usize = 32;

/// Nodes a sphere decoder may visit on one vector before it returns its best so far (flagged).
pub const ML_NODE_BUDGET: u64 = 20_000_000;

/// Whether exact ML is offered for this size, or why not.
pub fn ml_supported(users: usize, antennas: usize, modulation: Modulation) -> Result<(), String> {
    let bits = users * modulation.bits_per_symbol();
    if bits > ML_MAX_BITS {
        return Err(format!(
            "exact ML by the sphere decoder is offered up to {ML_MAX_BITS} bits per vector \
             (16×16 QPSK, 8×8 16-QAM); {users} users of {} carry {bits}",
            modulation.name()
        ));
    }
    if antennas < users {
        return Err(format!(
            "the sphere decoder needs at least as many antennas as users ({antennas} < {users})"
        ));
    }
    Ok(())
}

/// The answer of the sphere decoder on one vector.
#[derive(Clone, Debug)]
pub struct MlAnswer {
    pub levels: DVector<f64>,
    /// ‖y − H x̂‖².
    pub distance: f64,
    pub nodes: u64,
    /// Whether the search finished (x̂ is then the ML answer).
    pub certified: bool,
}

/// Exact ML, arg min ‖y − Hx‖² over the constellation, by a depth-first Schnorr–Euchner sphere
/// decoder (Schnorr & Euchner 1994; Agrell et al. 2002) on H = QR: at each level the symbols are
/// tried nearest the centre first, the radius shrinks to every leaf found, and branches whose
/// partial distance already exceeds it are cut.
pub fn sphere_decoder(h: &DMatrix<f64>, y: &DVector<f64>, modulation: Modulation) -> MlAnswer {
    let n = h.ncols();
    let qr = h.clone().qr();
    let (q, r) = (qr.q(), qr.r());
    let target = q.transpose() * y;
    // What lies outside Q's span adds the same to every candidate's distance.
    let outside = (y.norm_squared() - target.norm_squared()).max(0.0);
    let mut search = Search {
        r: &r,
        target: &target,
        levels: modulation.levels(),
        current: vec![0.0; n],
        best: vec![0.0; n],
        radius: f64::INFINITY,
        nodes: 0,
    };
    let certified = search.descend(n, 0.0);
    MlAnswer {
        levels: DVector::from_vec(search.best),
        distance: search.radius + outside,
        nodes: search.nodes,
        certified,
    }
}

/// Exact ML by trying every candidate (|levels|^n of them): the reference the sphere decoder is
/// checked against on small problems. The answer and its distance ‖y − Hx‖².
pub fn brute_force_ml(
    h: &DMatrix<f64>,
    y: &DVector<f64>,
    modulation: Modulation,
) -> (DVector<f64>, f64) {
    let levels = modulation.levels();
    let n = h.ncols();
    let mut best = (DVector::zeros(n), f64::INFINITY);
    for mut code in 0..levels.len().pow(n as u32) {
        let x = DVector::from_fn(n, |_, _| {
            let s = levels[code % levels.len()];
            code /= levels.len();
            s
        });
        let d = (y - h * &x).norm_squared();
        if d < best.1 {
            best = (x, d);
        }
    }
    best
}

struct Search<'a> {
    r: &'a DMatrix<f64>,
    target: &'a DVector<f64>,
    levels: &'static [f64],
    current: Vec<f64>,
    best: Vec<f64>,
    radius: f64,
    nodes: u64,
}

impl Search<'_> {
    /// Explores below `depth` (dimensions `depth..` are fixed); false when the budget ran out.
    fn descend(&mut self, depth: usize, partial: f64) -> bool {
        if depth == 0 {
            if partial < self.radius {
                self.radius = partial;
                self.best.clone_from(&self.current);
            }
            return true;
        }
        let i = depth - 1;
        let diagonal = self.r[(i, i)];
        let interference: f64 = (depth..self.current.len())
            .map(|j| self.r[(i, j)] * self.current[j])
            .sum();
        let residual = self.target[i] - interference;
        let mut order: Vec<(f64, f64)> = self
            .levels
            .iter()
            .map(|&s| {
                let e = residual - diagonal * s;
                (e * e, s)
            })
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (cost, s) in order {
            let distance = partial + cost;
            if distance >= self.radius {
                break;
            }
            self.nodes += 1;
            if self.nodes > ML_NODE_BUDGET {
                return false;
            }
            self.current[i] = s;
            if !self.descend(i, distance) {
                return false;
            }
        }
        true
    }
}

// ---------------------------------------------------------------------------------------
// OAMP
//
// Orthogonal AMP (Ma & Ping 2017) with the LMMSE linear estimator and the divergence-free
// posterior-mean denoiser, written once in burn for a batch of vectors, and OAMP-Net2 (He, Wen,
// Jin & Li 2020) as the same iteration with four learned scalars per iteration (γ, θ, φ, ξ):
// classical OAMP is (1, 1, 1, 1).
//
// One iteration, in the real form (n = 2N_t dimensions, m = 2N_r, σ² the noise per dimension):
//
// v²  = max((‖y − Hx̂‖² − m σ²) / tr(HᵀH), ε)          the estimate's error per dimension
// Ŵ   = v² Hᵀ (v² HHᵀ + σ² I)⁻¹,  W = n / tr(ŴH) · Ŵ    de-correlated LMMSE
// r   = x̂ + γ W (y − H x̂)
// τ²  = (‖I − θWH‖²_F v² + θ² ‖W‖²_F σ²) / n             r's error per dimension
// x̂'  = φ c (E[x | r, τ²] − ξ d r)                     divergence-free denoiser
//
// where E[x | r, τ²] is the constellation's posterior mean, v_post its posterior variance
// (averaged over dimensions), d = v_post / τ² and c = 1 / (1 − d): the textbook OAMP's
// divergence-free form (the extrinsic estimate, as in VAMP), which makes r's error orthogonal
// to the estimate's and the iteration follow its state evolution. OAMP-Net2 learns γ, θ, φ, ξ
// as factors on these per-vector values (the paper learns φ and ξ outright, from a denoiser that
// is not divergence-free); starting from ones, training starts from OAMP.
//
// With HᵀH = V diag(λ) Vᵀ (once per channel, outside the graph), Ŵ(y − Hx̂) =
// V diag(g)(Vᵀ Hᵀ y − λ ⊙ Vᵀ x̂) with g = v² / (v² λ + σ²), and every trace is a sum over λ, so
// an iteration is two batched products with V and needs no inverse: gradients flow through it.

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

/// The constellation's levels per real dimension as a `[1, 1, L]` tensor.
pub fn level_tensor(modulation: Modulation, device: &Device) -> Tensor<3> {
    let levels: Vec<f32> = modulation.levels().iter().map(|&v| v as f32).collect();
    let count = levels.len();
    Tensor::<1>::from_data(TensorData::new(levels, [count]), device).reshape([1, 1, count])
}

/// The log-posterior of each level (up to a constant) given r = x + N(0, τ²), `r` `[B, n]`,
/// `tau2` `[B, 1]` or `[B, n]`: `[B, n, L]`.
pub fn level_logits(r: Tensor<2>, tau2: Tensor<2>, levels: Tensor<3>) -> Tensor<3> {
    let distance = r.unsqueeze_dim::<3>(2) - levels;
    -(distance.clone() * distance) / (tau2.unsqueeze_dim::<3>(2) * 2.0)
}

/// The mean and variance per real dimension of the distribution over levels that `logits`
/// (`[B, n, L]`) give.
pub fn level_moments(logits: Tensor<3>, levels: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
    let [b, n, _] = logits.dims();
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

/// E[x | r, τ²] and Var[x | r, τ²] per real dimension for the constellation's equiprobable
/// levels, `r` `[B, n]`, `tau2` `[B, 1]`.
pub fn posterior(r: Tensor<2>, tau2: Tensor<2>, modulation: Modulation) -> (Tensor<2>, Tensor<2>) {
    let levels = level_tensor(modulation, &r.device());
    level_moments(level_logits(r, tau2, levels.clone()), levels)
}

/// One OAMP state: the posterior mean (the soft estimate shown and decided on), the linear
/// stage's output r and r's predicted error τ².
#[derive(Clone, Debug)]
pub struct Step {
    pub estimate: Tensor<2>,
    pub linear: Tensor<2>,
    pub tau2: Tensor<2>,
}

/// OAMP's linear stage at one iteration: r = x̂ + γ Ŵ(y − Hx̂) and its predicted error.
#[derive(Clone, Debug)]
pub struct LinearStage {
    pub linear: Tensor<2>,
    /// r's error variance averaged over dimensions, `[B, 1]`.
    pub tau2: Tensor<2>,
    /// r's error variance along each eigenvector of HᵀH, `[B, n]` (its mean is τ²).
    pub spectrum: Tensor<2>,
}

/// OAMP's de-correlated LMMSE step from `estimate` (`[B, n]`), with the step size `gamma` and
/// error scale `theta` (`[1, 1]` each; ones for OAMP).
pub fn linear_stage(
    prepared: &Prepared,
    estimate: Tensor<2>,
    gamma: Tensor<2>,
    theta: Tensor<2>,
) -> LinearStage {
    let n = prepared.dims();
    let lambda = prepared.eigenvalues.clone();
    let trace_gram = lambda.clone().sum_dim(1).clamp_min(1e-12);
    let noise = prepared.noise;
    // u = Vᵀ x̂.
    let rotated = prepared.rotate(estimate.clone());
    let residual_energy = prepared.received_energy.clone()
        - (rotated.clone() * prepared.projected.clone()).sum_dim(1) * 2.0
        + (lambda.clone() * rotated.clone() * rotated.clone()).sum_dim(1);
    let v2 = ((residual_energy - noise * prepared.received_dims as f32) / trace_gram)
        .clamp_min(V2_FLOOR);
    let gain = v2.clone() / (v2.clone() * lambda.clone() + noise);
    let scale = (gain.clone() * lambda.clone()).sum_dim(1).recip() * n as f32;
    let step_rotated =
        scale.clone() * gain.clone() * (prepared.projected.clone() - lambda.clone() * rotated);
    let linear = estimate + gamma * prepared.unrotate(step_rotated);
    let kept = (theta.clone() * scale.clone() * gain.clone() * lambda.clone()).neg() + 1.0;
    let spectrum = (kept.clone() * kept * v2
        + (theta.clone() * theta * scale.clone() * scale) * (gain.clone() * gain * lambda) * noise)
        .clamp_min(V2_FLOOR);
    LinearStage {
        linear,
        tau2: spectrum.clone().mean_dim(1),
        spectrum,
    }
}

/// The divergence-free (extrinsic) estimate the next linear stage reads, from a denoiser's
/// posterior `mean` and `variance` of r = `linear` with error `tau2`; `phi` and `xi` are
/// OAMP-Net2's factors (ones for OAMP).
pub fn extrinsic(
    mean: Tensor<2>,
    variance: Tensor<2>,
    linear: Tensor<2>,
    tau2: Tensor<2>,
    phi: Tensor<2>,
    xi: Tensor<2>,
) -> Tensor<2> {
    // d = v_post / τ², below 1 (the posterior is narrower than the prior-free estimate r).
    let shrink = (variance.mean_dim(1) / tau2).clamp(0.0, 0.999);
    let gain = (shrink.clone().neg() + 1.0).recip();
    phi * gain * (mean - xi * shrink * linear)
}

/// Row `t` of OAMP-Net2's corrections `[T, 4]` as (γ, θ, φ, ξ), each `[1, 1]`.
pub fn correction_row(corrections: &Tensor<2>, t: usize) -> [Tensor<2>; 4] {
    let row = corrections.clone().slice([t..t + 1, 0..4]);
    [0, 1, 2, 3].map(|k| row.clone().slice([0..1, k..k + 1]))
}

/// Runs one iteration per row of `corrections` (`[T, 4]`: γ, θ, φ, ξ) from x̂ = 0; returns each
/// iteration's state.
pub fn iterate(prepared: &Prepared, corrections: Tensor<2>, modulation: Modulation) -> Vec<Step> {
    let device = prepared.eigenvalues.device();
    let [iterations, _] = corrections.dims();
    let mut estimate = Tensor::<2>::zeros([prepared.batch(), prepared.dims()], &device);
    let mut steps = Vec::with_capacity(iterations);
    for t in 0..iterations {
        let [gamma, theta, phi, xi] = correction_row(&corrections, t);
        let stage = linear_stage(prepared, estimate, gamma, theta);
        let (mean, variance) = posterior(stage.linear.clone(), stage.tau2.clone(), modulation);
        estimate = extrinsic(
            mean.clone(),
            variance,
            stage.linear.clone(),
            stage.tau2.clone(),
            phi,
            xi,
        );
        steps.push(Step {
            estimate: mean,
            linear: stage.linear,
            tau2: stage.tau2,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mimo::sim::{Setup, simulate, symbols};

    fn setup(users: usize, antennas: usize, modulation: Modulation, snr_db: f64) -> Setup {
        Setup {
            users,
            antennas,
            modulation,
            snr_db,
            rho: 0.0,
        }
    }

    #[test]
    fn lmmse_matches_the_closed_form_of_the_complex_model() {
        // x̂ = (HᴴH + σ²I)⁻¹ Hᴴ y in complex arithmetic, against the real-form solver.
        use crate::demos::mimo::sim::{complex_matrix, complex_vector};
        use nalgebra::Complex;
        let batch = simulate(&setup(3, 5, Modulation::Qam16, 8.0), 5, 2);
        let sigma2 = batch.setup.noise_variance();
        for v in &batch.vectors {
            let h = complex_matrix(&v.channel);
            let y = DVector::from_vec(complex_vector(&v.received));
            let gram = h.adjoint() * &h
                + DMatrix::<Complex<f64>>::identity(3, 3) * Complex::new(sigma2, 0.0);
            let want = gram.try_inverse().expect("invertible") * h.adjoint() * y;
            let got = complex_vector(&lmmse(&v.channel, &v.received, sigma2 / 2.0));
            for (a, b) in want.iter().zip(&got) {
                assert!((a - b).norm() < 1e-9, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn zero_forcing_inverts_a_noiseless_channel() {
        let batch = simulate(&setup(4, 6, Modulation::Qpsk, 60.0), 3, 4);
        for v in &batch.vectors {
            let x = symbols(Modulation::Qpsk, v.sent.as_deref().expect("sent"));
            assert!((zero_forcing(&v.channel, &(&v.channel * &x)) - x).norm() < 1e-9);
        }
    }

    #[test]
    fn the_sphere_decoder_finds_the_brute_force_answer() {
        for (users, snr) in [(2, 4.0), (3, 8.0), (3, 0.0)] {
            let batch = simulate(
                &setup(users, users, Modulation::Qam16, snr),
                40,
                users as u64,
            );
            for v in &batch.vectors {
                let ml = sphere_decoder(&v.channel, &v.received, Modulation::Qam16);
                let (want, distance) = brute_force_ml(&v.channel, &v.received, Modulation::Qam16);
                assert!(ml.certified);
                assert!(
                    (ml.distance - distance).abs() < 1e-9,
                    "{} vs {distance}",
                    ml.distance
                );
                assert!((ml.levels - want).norm() < 1e-12);
            }
        }
    }

    /// V-BLAST as the textbook writes it: the Gram matrix of the users left inverted at every
    /// step (O(N_t⁴)); `vblast` deflates one inverse instead.
    fn vblast_reinverting(
        h: &DMatrix<f64>,
        y: &DVector<f64>,
        dimension_noise: f64,
        modulation: Modulation,
    ) -> DVector<f64> {
        let users = h.ncols() / 2;
        let delta = dimension_noise / Modulation::DIMENSION_ENERGY;
        let levels = modulation.levels();
        let mut left: Vec<usize> = (0..users).collect();
        let mut residual = y.clone();
        let mut decided = DVector::zeros(2 * users);
        while !left.is_empty() {
            let columns: Vec<usize> = left
                .iter()
                .copied()
                .chain(left.iter().map(|k| k + users))
                .collect();
            let sub = h.select_columns(&columns);
            let n = columns.len();
            let inverse = (sub.transpose() * &sub + DMatrix::identity(n, n) * delta)
                .try_inverse()
                .expect("regularized");
            let m = left.len();
            let error = |i: usize| inverse[(i, i)] + inverse[(i + m, i + m)];
            let pick = (0..m)
                .min_by(|&a, &b| error(a).total_cmp(&error(b)))
                .expect("a user left");
            let estimate = &inverse * (sub.transpose() * &residual);
            let user = left[pick];
            for (column, row) in [(user, pick), (user + users, pick + m)] {
                let level = levels[usize::from(modulation.decide(estimate[row]))];
                decided[column] = level;
                residual -= h.column(column) * level;
            }
            left.remove(pick);
        }
        decided
    }

    #[test]
    fn vblast_decides_as_the_textbook_loop_that_reinverts_every_step() {
        for (users, antennas, modulation, snr, rho) in [
            (8, 8, Modulation::Qpsk, 12.0, 0.0),
            (16, 32, Modulation::Qam16, 14.0, 0.0),
            (12, 16, Modulation::Qam16, 20.0, 0.7),
        ] {
            let mut config = setup(users, antennas, modulation, snr);
            config.rho = rho;
            let batch = simulate(&config, 60, 9);
            let noise = batch.dimension_noise();
            for v in &batch.vectors {
                assert_eq!(
                    vblast(&v.channel, &v.received, noise, modulation),
                    vblast_reinverting(&v.channel, &v.received, noise, modulation),
                    "{users}×{antennas} {}",
                    modulation.name()
                );
            }
        }
    }

    #[test]
    fn vblast_decides_every_user_and_beats_lmmse_at_high_snr() {
        let batch = simulate(&setup(8, 8, Modulation::Qpsk, 16.0), 300, 5);
        let noise = batch.dimension_noise();
        let (mut sic, mut linear) = (0, 0);
        for v in &batch.vectors {
            let sent = v.sent.as_deref().expect("sent");
            let errors = |x: &DVector<f64>| {
                let decided = crate::demos::mimo::sim::decide(Modulation::Qpsk, x);
                decided.iter().zip(sent).filter(|(a, b)| a != b).count()
            };
            let x = vblast(&v.channel, &v.received, noise, Modulation::Qpsk);
            assert!(x.iter().all(|s| s.abs() > 0.5), "every dimension decided");
            sic += errors(&x);
            linear += errors(&lmmse(&v.channel, &v.received, noise));
        }
        assert!(sic < linear, "V-BLAST {sic} vs LMMSE {linear} errors");
    }

    #[test]
    fn ml_refuses_sizes_beyond_its_budget() {
        assert!(ml_supported(8, 8, Modulation::Qpsk).is_ok());
        assert!(ml_supported(4, 4, Modulation::Qam16).is_ok());
        assert!(ml_supported(32, 64, Modulation::Qam16).is_err());
        assert!(ml_supported(4, 2, Modulation::Qpsk).is_err());
    }

    // OAMP

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
