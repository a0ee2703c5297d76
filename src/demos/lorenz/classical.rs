//! The classical inverse for the Lorenz demo: extended Kalman filter and extended RTS smoother.
//!
//! As in Garcia Satorras et al. (2019), the dynamics handed to the filter are deliberately
//! imperfect: the transition over one sampling interval is `x' = F_J(x) x` with
//! `F_J(x) = Σ_{i=0..J} (A(x) Δt)^i / i!`, where `A(x)` is the state-dependent matrix with
//! `A(x) x = f(x)` (the Lorenz vector field). The filter linearizes with the exact Jacobian of that
//! map (the textbook EKF). The exact RK4 transition, with its Jacobian from the variational
//! equation, is the oracle. Observations are `y = x + N(0, r² I)`; process noise `Q = q² Δt I`.

use nalgebra::{DMatrix, DVector, Matrix3, Vector3};

use super::sim::{BETA, RHO, SIGMA, State, vector_field};

/// A transition model for the filter: mean of the next state and its Jacobian.
pub trait Dynamics {
    fn step(&self, x: &Vector3<f64>) -> Vector3<f64>;
    fn jacobian(&self, x: &Vector3<f64>) -> Matrix3<f64>;
}

/// `A(x)`: the Lorenz vector field written as a state-dependent linear map, `A(x) x = f(x)`.
pub fn coefficient_matrix(x: &Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(
        -SIGMA,
        SIGMA,
        0.0, //
        RHO - x[2],
        -1.0,
        0.0, //
        x[1],
        0.0,
        -BETA,
    )
}

/// ∂A/∂x_k: only A[1][0] = ρ − x₃ and A[2][0] = x₂ depend on the state.
fn coefficient_derivative(k: usize) -> Matrix3<f64> {
    let mut d = Matrix3::zeros();
    match k {
        1 => d[(2, 0)] = 1.0,
        2 => d[(1, 0)] = -1.0,
        _ => {}
    }
    d
}

/// The paper's Taylor model of order `order` over `dt`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaylorDynamics {
    pub order: usize,
    pub dt: f64,
}

impl TaylorDynamics {
    /// `F_J(x)`: the model's transition is `x' = F_J(x) x`.
    pub fn matrix(&self, x: &Vector3<f64>) -> Matrix3<f64> {
        self.transition_matrix(x).0
    }

    /// `F_J(x)` and the powers `(A Δt)^i` it was summed from.
    fn transition_matrix(&self, x: &Vector3<f64>) -> (Matrix3<f64>, Vec<Matrix3<f64>>) {
        let a_dt = coefficient_matrix(x) * self.dt;
        let mut powers = vec![Matrix3::identity()];
        let mut f = Matrix3::identity();
        let mut factorial = 1.0;
        for i in 1..=self.order {
            let next = a_dt * powers[i - 1];
            factorial *= i as f64;
            f += next / factorial;
            powers.push(next);
        }
        (f, powers)
    }
}

impl Dynamics for TaylorDynamics {
    fn step(&self, x: &Vector3<f64>) -> Vector3<f64> {
        self.transition_matrix(x).0 * x
    }

    /// d/dx_k [F(x) x] = F(x) e_k + (∂F/∂x_k) x, with
    /// ∂(AΔt)^i/∂x_k = Σ_m (AΔt)^m (∂A/∂x_k Δt) (AΔt)^{i−1−m}.
    fn jacobian(&self, x: &Vector3<f64>) -> Matrix3<f64> {
        let (f, powers) = self.transition_matrix(x);
        let mut jac = f;
        for k in 0..3 {
            let d_a_dt = coefficient_derivative(k) * self.dt;
            let mut d_f = Matrix3::zeros();
            let mut factorial = 1.0;
            for i in 1..=self.order {
                factorial *= i as f64;
                let d_power: Matrix3<f64> =
                    (0..i).map(|m| powers[m] * d_a_dt * powers[i - 1 - m]).sum();
                d_f += d_power / factorial;
            }
            let column = d_f * x;
            for r in 0..3 {
                jac[(r, k)] += column[r];
            }
        }
        jac
    }
}

/// The Lorenz Jacobian Df(x).
pub fn vector_field_jacobian(x: &Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(
        -SIGMA,
        SIGMA,
        0.0, //
        RHO - x[2],
        -1.0,
        -x[0], //
        x[1],
        x[0],
        -BETA,
    )
}

/// The exact transition (RK4 on `substeps` sub-steps) with the Jacobian of the variational
/// equation dΦ/dt = Df(x) Φ integrated alongside: the oracle's model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactDynamics {
    pub dt: f64,
    pub substeps: usize,
}

fn to_state(v: &Vector3<f64>) -> State {
    [v[0], v[1], v[2]]
}

impl ExactDynamics {
    fn step_with_jacobian(&self, x: &Vector3<f64>) -> (Vector3<f64>, Matrix3<f64>) {
        let h = self.dt / self.substeps.max(1) as f64;
        let f = |x: &Vector3<f64>| Vector3::from(vector_field(to_state(x)));
        let (mut x, mut phi) = (*x, Matrix3::identity());
        for _ in 0..self.substeps.max(1) {
            let (k1, l1) = (f(&x), vector_field_jacobian(&x) * phi);
            let x2 = x + k1 * (h / 2.0);
            let phi2 = phi + l1 * (h / 2.0);
            let (k2, l2) = (f(&x2), vector_field_jacobian(&x2) * phi2);
            let x3 = x + k2 * (h / 2.0);
            let phi3 = phi + l2 * (h / 2.0);
            let (k3, l3) = (f(&x3), vector_field_jacobian(&x3) * phi3);
            let x4 = x + k3 * h;
            let phi4 = phi + l3 * h;
            let (k4, l4) = (f(&x4), vector_field_jacobian(&x4) * phi4);
            x += (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0);
            phi += (l1 + l2 * 2.0 + l3 * 2.0 + l4) * (h / 6.0);
        }
        (x, phi)
    }
}

impl Dynamics for ExactDynamics {
    fn step(&self, x: &Vector3<f64>) -> Vector3<f64> {
        self.step_with_jacobian(x).0
    }
    fn jacobian(&self, x: &Vector3<f64>) -> Matrix3<f64> {
        self.step_with_jacobian(x).1
    }
}

/// A linear model `x' = A x`, for checking the smoother against the closed form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearDynamics(pub Matrix3<f64>);

impl Dynamics for LinearDynamics {
    fn step(&self, x: &Vector3<f64>) -> Vector3<f64> {
        self.0 * x
    }
    fn jacobian(&self, _x: &Vector3<f64>) -> Matrix3<f64> {
        self.0
    }
}

/// Noise levels: observation std `r` (R = r² I) and process std `q` (Q = q² Δt I).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoiseModel {
    pub process_std: f64,
    pub obs_std: f64,
    pub dt: f64,
}

impl NoiseModel {
    fn q(&self) -> Matrix3<f64> {
        Matrix3::identity() * (self.process_std * self.process_std * self.dt)
    }
    fn r(&self) -> Matrix3<f64> {
        Matrix3::identity() * (self.obs_std * self.obs_std)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gaussian {
    pub mean: Vector3<f64>,
    pub cov: Matrix3<f64>,
}

/// Everything the filter computed, per time step; the smoother and the views read it.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterTrace {
    /// p(x_t | y_0..t-1): the prediction before the observation at t.
    pub predicted: Vec<Gaussian>,
    /// p(x_t | y_0..t).
    pub filtered: Vec<Gaussian>,
    /// Cov(x_t, x_{t+1} | y_0..t): `P_t Fᵀ` for the EKF, from sigma points for the UKF. The
    /// RTS smoother needs only this, so one smoother serves both filters.
    pub cross_covariances: Vec<Matrix3<f64>>,
}

/// Why a filter run could not be done.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("no observations")]
    Empty,
    #[error("the innovation covariance became singular at time step {0}")]
    Singular(usize),
    #[error("the estimate diverged (non-finite) at time step {0}")]
    Diverged(usize),
}

/// The paper's prior: centred on the first observation, covariance 3 I.
pub fn default_prior(first_observation: &State) -> Gaussian {
    Gaussian {
        mean: Vector3::from(*first_observation),
        cov: Matrix3::identity() * 3.0,
    }
}

/// The filtering recursion shared by the EKF and the UKF: the measurement update, then
/// `predict(filtered, t)`, which returns the next prediction and Cov(x_t, x_{t+1} | y_0..t).
fn run_filter(
    noise: &NoiseModel,
    observations: &[State],
    prior: Gaussian,
    mut predict: impl FnMut(&Gaussian, usize) -> Result<(Gaussian, Matrix3<f64>), FilterError>,
) -> Result<FilterTrace, FilterError> {
    if observations.is_empty() {
        return Err(FilterError::Empty);
    }
    let r = noise.r();
    let n = observations.len();
    let mut trace = FilterTrace {
        predicted: Vec::with_capacity(n),
        filtered: Vec::with_capacity(n),
        cross_covariances: Vec::with_capacity(n),
    };
    let mut predicted = prior;
    for (t, y) in observations.iter().enumerate() {
        let filtered = kalman_update(&predicted, y, &r, t)?;
        let (next, cross) = predict(&filtered, t)?;
        trace.predicted.push(predicted);
        trace.filtered.push(filtered);
        trace.cross_covariances.push(cross);
        predicted = next;
    }
    Ok(trace)
}

/// Extended Kalman filter with `H = I`.
pub fn ekf(
    dynamics: &impl Dynamics,
    noise: &NoiseModel,
    observations: &[State],
    prior: Gaussian,
) -> Result<FilterTrace, FilterError> {
    let q = noise.q();
    run_filter(noise, observations, prior, |filtered, _| {
        let jac = dynamics.jacobian(&filtered.mean);
        let next = Gaussian {
            mean: dynamics.step(&filtered.mean),
            cov: jac * filtered.cov * jac.transpose() + q,
        };
        Ok((next, filtered.cov * jac.transpose()))
    })
}

/// The measurement update with `H = I` (exact: the observation model is linear).
fn kalman_update(
    predicted: &Gaussian,
    y: &State,
    r: &Matrix3<f64>,
    t: usize,
) -> Result<Gaussian, FilterError> {
    let innovation_cov = predicted.cov + r;
    let gain = predicted.cov
        * innovation_cov
            .try_inverse()
            .ok_or(FilterError::Singular(t))?;
    let mean = predicted.mean + gain * (Vector3::from(*y) - predicted.mean);
    let ikh = Matrix3::identity() - gain;
    // Joseph form: stays symmetric positive definite under rounding.
    let cov = ikh * predicted.cov * ikh.transpose() + gain * r * gain.transpose();
    if !mean.iter().chain(cov.iter()).all(|v| v.is_finite()) {
        return Err(FilterError::Diverged(t));
    }
    Ok(Gaussian { mean, cov })
}

/// Unscented-transform parameters (Wan & van der Merwe): α spread, β prior knowledge, κ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unscented {
    pub alpha: f64,
    pub beta: f64,
    pub kappa: f64,
}

impl Default for Unscented {
    /// α = 1, β = 2, κ = 0: the sigma points at ±√3 standard deviations.
    fn default() -> Self {
        Self {
            alpha: 1.0,
            beta: 2.0,
            kappa: 0.0,
        }
    }
}

/// The 2n + 1 sigma points of a Gaussian with their mean and covariance weights.
struct SigmaPoints {
    points: Vec<Vector3<f64>>,
    mean_weights: Vec<f64>,
    cov_weights: Vec<f64>,
}

impl Unscented {
    fn sigma_points(&self, g: &Gaussian) -> Option<SigmaPoints> {
        let n = 3.0;
        let lambda = self.alpha * self.alpha * (n + self.kappa) - n;
        let scaled = g.cov * (n + lambda);
        // Symmetrize before the Cholesky factor: rounding can break symmetry slightly.
        let root = ((scaled + scaled.transpose()) * 0.5).cholesky()?.l();
        let mut points = vec![g.mean];
        for i in 0..3 {
            let column = root.column(i).into_owned();
            points.push(g.mean + column);
            points.push(g.mean - column);
        }
        let w = 1.0 / (2.0 * (n + lambda));
        let mut wm = vec![w; 7];
        let mut wc = vec![w; 7];
        wm[0] = lambda / (n + lambda);
        wc[0] = wm[0] + (1.0 - self.alpha * self.alpha + self.beta);
        Some(SigmaPoints {
            points,
            mean_weights: wm,
            cov_weights: wc,
        })
    }
}

/// Unscented Kalman filter with `H = I`.
pub fn ukf(
    dynamics: &impl Dynamics,
    noise: &NoiseModel,
    observations: &[State],
    prior: Gaussian,
    unscented: Unscented,
) -> Result<FilterTrace, FilterError> {
    let q = noise.q();
    run_filter(noise, observations, prior, |filtered, t| {
        let SigmaPoints {
            points,
            mean_weights,
            cov_weights,
        } = unscented
            .sigma_points(filtered)
            .ok_or(FilterError::Singular(t))?;
        let propagated: Vec<Vector3<f64>> = points.iter().map(|p| dynamics.step(p)).collect();
        let mean: Vector3<f64> = propagated
            .iter()
            .zip(&mean_weights)
            .map(|(p, w)| p * *w)
            .sum();
        let mut cov = q;
        let mut cross = Matrix3::zeros();
        for ((p, x), w) in propagated.iter().zip(&points).zip(&cov_weights) {
            let d = p - mean;
            cov += d * d.transpose() * *w;
            cross += (x - filtered.mean) * d.transpose() * *w;
        }
        Ok((Gaussian { mean, cov }, cross))
    })
}

/// Unscented filter then the RTS smoother: the unscented RTS smoother (Särkkä 2008).
pub fn uks(
    dynamics: &impl Dynamics,
    noise: &NoiseModel,
    observations: &[State],
    prior: Gaussian,
) -> Result<Vec<Gaussian>, FilterError> {
    rts_smoother(&ukf(
        dynamics,
        noise,
        observations,
        prior,
        Unscented::default(),
    )?)
}

/// Rauch–Tung–Striebel smoothing of a filter trace: p(x_t | all observations).
pub fn rts_smoother(trace: &FilterTrace) -> Result<Vec<Gaussian>, FilterError> {
    let n = trace.filtered.len();
    let mut smoothed = trace.filtered.clone();
    for t in (0..n.saturating_sub(1)).rev() {
        let filtered = &trace.filtered[t];
        let next_pred = &trace.predicted[t + 1];
        let gain = trace.cross_covariances[t]
            * next_pred
                .cov
                .try_inverse()
                .ok_or(FilterError::Singular(t))?;
        let next = smoothed[t + 1];
        smoothed[t] = Gaussian {
            mean: filtered.mean + gain * (next.mean - next_pred.mean),
            cov: filtered.cov + gain * (next.cov - next_pred.cov) * gain.transpose(),
        };
    }
    Ok(smoothed)
}

/// Filter then smooth.
pub fn eks(
    dynamics: &impl Dynamics,
    noise: &NoiseModel,
    observations: &[State],
    prior: Gaussian,
) -> Result<Vec<Gaussian>, FilterError> {
    rts_smoother(&ekf(dynamics, noise, observations, prior)?)
}

/// Mean squared error over time steps and coordinates (the paper's metric).
pub fn mse(estimates: &[Vector3<f64>], truth: &[State]) -> f64 {
    let n = estimates.len().min(truth.len());
    if n == 0 {
        return f64::NAN;
    }
    let total: f64 = estimates
        .iter()
        .zip(truth)
        .map(|(e, x)| (e - Vector3::from(*x)).norm_squared())
        .sum();
    total / (3 * n) as f64
}

/// The posterior means of a linear-Gaussian chain by solving its normal equations directly
/// (dense, O((3T)³)): the reference the smoother must equal.
pub fn closed_form_linear_smoother(
    a: &Matrix3<f64>,
    noise: &NoiseModel,
    observations: &[State],
    prior: &Gaussian,
) -> Option<Vec<Vector3<f64>>> {
    let n = observations.len();
    let dim = 3 * n;
    let q_inv = noise.q().try_inverse()?;
    let r_inv = noise.r().try_inverse()?;
    let p0_inv = prior.cov.try_inverse()?;
    let mut info = DMatrix::<f64>::zeros(dim, dim);
    let mut rhs = DVector::<f64>::zeros(dim);
    let add_block = |info: &mut DMatrix<f64>, i: usize, j: usize, m: &Matrix3<f64>| {
        for r in 0..3 {
            for c in 0..3 {
                info[(3 * i + r, 3 * j + c)] += m[(r, c)];
            }
        }
    };
    add_block(&mut info, 0, 0, &p0_inv);
    let prior_term = p0_inv * prior.mean;
    for (t, y) in observations.iter().enumerate() {
        add_block(&mut info, t, t, &r_inv);
        let term = r_inv * Vector3::from(*y);
        for r in 0..3 {
            rhs[3 * t + r] += term[r];
        }
        if t + 1 < n {
            add_block(&mut info, t, t, &(a.transpose() * q_inv * a));
            add_block(&mut info, t + 1, t + 1, &q_inv);
            add_block(&mut info, t + 1, t, &(-q_inv * a));
            add_block(&mut info, t, t + 1, &(-a.transpose() * q_inv));
        }
    }
    for r in 0..3 {
        rhs[r] += prior_term[r];
    }
    let solution = info.lu().solve(&rhs)?;
    Some(
        (0..n)
            .map(|t| Vector3::new(solution[3 * t], solution[3 * t + 1], solution[3 * t + 2]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::lorenz::sim::{SimConfig, simulate};
    use proptest::prelude::*;

    fn finite_difference_jacobian(d: &impl Dynamics, x: &Vector3<f64>) -> Matrix3<f64> {
        let h = 1e-6;
        let mut jac = Matrix3::zeros();
        for k in 0..3 {
            let mut plus = *x;
            let mut minus = *x;
            plus[k] += h;
            minus[k] -= h;
            let column = (d.step(&plus) - d.step(&minus)) / (2.0 * h);
            for r in 0..3 {
                jac[(r, k)] = column[r];
            }
        }
        jac
    }

    proptest! {
        #[test]
        fn taylor_jacobian_matches_finite_differences(
            x in -20.0f64..20.0, y in -25.0f64..25.0, z in 0.0f64..50.0, order in 1usize..=5
        ) {
            let d = TaylorDynamics { order, dt: 0.05 };
            let p = Vector3::new(x, y, z);
            let err = (d.jacobian(&p) - finite_difference_jacobian(&d, &p)).abs().max();
            let scale = d.jacobian(&p).abs().max().max(1.0);
            prop_assert!(err / scale < 1e-6, "order {order}: relative error {}", err / scale);
        }
    }

    #[test]
    fn exact_jacobian_matches_finite_differences_and_a_is_the_vector_field() {
        let d = ExactDynamics {
            dt: 0.05,
            substeps: 50,
        };
        let p = Vector3::new(-5.0, 3.0, 22.0);
        let err = (d.jacobian(&p) - finite_difference_jacobian(&d, &p))
            .abs()
            .max();
        assert!(err < 1e-4, "variational Jacobian off by {err}");
        let f = Vector3::from(vector_field(to_state(&p)));
        assert!((coefficient_matrix(&p) * p - f).norm() < 1e-12);
    }

    #[test]
    fn first_order_taylor_is_an_euler_step_and_higher_orders_get_closer() {
        let p = Vector3::new(1.0, 2.0, 20.0);
        let euler = p + Vector3::from(vector_field(to_state(&p))) * 0.05;
        let t1 = TaylorDynamics { order: 1, dt: 0.05 }.step(&p);
        assert!((t1 - euler).norm() < 1e-12);
        let exact = ExactDynamics {
            dt: 0.05,
            substeps: 100,
        }
        .step(&p);
        let err = |order| (TaylorDynamics { order, dt: 0.05 }.step(&p) - exact).norm();
        assert!(err(1) > err(2), "order 2 is no better than order 1");
    }

    #[test]
    fn smoother_equals_the_closed_form_on_a_linear_system() {
        let a = Matrix3::new(0.9, 0.1, 0.0, -0.1, 0.95, 0.05, 0.0, 0.2, 0.8);
        let noise = NoiseModel {
            process_std: 0.7,
            obs_std: 0.5,
            dt: 0.05,
        };
        let observations: Vec<State> = (0..12)
            .map(|t| {
                let t = t as f64;
                [t.sin() * 2.0, (0.5 * t).cos(), 0.1 * t - 0.3]
            })
            .collect();
        let prior = Gaussian {
            mean: Vector3::new(0.3, -0.2, 0.1),
            cov: Matrix3::identity() * 2.0,
        };
        let smoothed = eks(&LinearDynamics(a), &noise, &observations, prior).expect("smoother");
        let reference =
            closed_form_linear_smoother(&a, &noise, &observations, &prior).expect("solve");
        for (s, r) in smoothed.iter().zip(&reference) {
            assert!((s.mean - r).norm() < 1e-9, "{} vs {}", s.mean, r);
        }
    }

    #[test]
    fn filter_alone_matches_the_closed_form_at_the_last_step() {
        // At the last time step the filtered mean is already the full posterior mean.
        let a = Matrix3::new(1.0, 0.05, 0.0, 0.0, 1.0, 0.05, 0.0, 0.0, 0.98);
        let noise = NoiseModel {
            process_std: 1.0,
            obs_std: 0.5,
            dt: 0.05,
        };
        let observations: Vec<State> = (0..8).map(|t| [t as f64, 1.0, -(t as f64)]).collect();
        let prior = default_prior(&observations[0]);
        let trace = ekf(&LinearDynamics(a), &noise, &observations, prior).expect("filter");
        let reference =
            closed_form_linear_smoother(&a, &noise, &observations, &prior).expect("solve");
        let last = trace.filtered.last().expect("steps").mean;
        assert!((last - reference[7]).norm() < 1e-9);
    }

    #[test]
    fn smoothing_lorenz_beats_the_raw_observations_and_the_oracle_is_best() {
        let config = SimConfig {
            steps: 400,
            ..SimConfig::default()
        };
        let tr = simulate(&config).expect("simulate");
        let noise = NoiseModel {
            process_std: 5.0,
            obs_std: 0.5,
            dt: 0.05,
        };
        let prior = default_prior(&tr.observations[0]);
        let raw: Vec<Vector3<f64>> = tr.observations.iter().map(|y| Vector3::from(*y)).collect();
        let means = |g: Vec<Gaussian>| g.into_iter().map(|g| g.mean).collect::<Vec<_>>();
        let taylor = TaylorDynamics { order: 2, dt: 0.05 };
        let eks_taylor = means(eks(&taylor, &noise, &tr.observations, prior).expect("eks"));
        let oracle_noise = NoiseModel {
            process_std: 0.05,
            ..noise
        };
        let exact = ExactDynamics {
            dt: 0.05,
            substeps: 10,
        };
        let eks_exact = means(eks(&exact, &oracle_noise, &tr.observations, prior).expect("oracle"));
        let (m_raw, m_taylor, m_exact) = (
            mse(&raw, &tr.states),
            mse(&eks_taylor, &tr.states),
            mse(&eks_exact, &tr.states),
        );
        assert!((m_raw - 0.25).abs() < 0.05, "observation MSE {m_raw}");
        assert!(m_taylor < m_raw, "EKS {m_taylor} vs observations {m_raw}");
        assert!(
            m_exact < m_taylor / 3.0,
            "oracle {m_exact} vs Taylor EKS {m_taylor}"
        );
    }

    #[test]
    fn unscented_smoother_is_exact_on_a_linear_system() {
        let a = Matrix3::new(0.9, 0.1, 0.0, -0.1, 0.95, 0.05, 0.0, 0.2, 0.8);
        let noise = NoiseModel {
            process_std: 0.7,
            obs_std: 0.5,
            dt: 0.05,
        };
        let observations: Vec<State> = (0..10).map(|t| [t as f64 * 0.3, 1.0, -0.5]).collect();
        let prior = default_prior(&observations[0]);
        let smoothed = uks(&LinearDynamics(a), &noise, &observations, prior).expect("uks");
        let reference =
            closed_form_linear_smoother(&a, &noise, &observations, &prior).expect("solve");
        for (s, r) in smoothed.iter().zip(&reference) {
            assert!((s.mean - r).norm() < 1e-8, "{} vs {}", s.mean, r);
        }
    }

    #[test]
    fn unscented_smoothing_of_lorenz_beats_the_observations() {
        let tr = simulate(&SimConfig {
            steps: 400,
            ..SimConfig::default()
        })
        .expect("simulate");
        let noise = NoiseModel {
            process_std: 3.0,
            obs_std: 0.5,
            dt: 0.05,
        };
        let d = TaylorDynamics { order: 2, dt: 0.05 };
        let smoothed = uks(
            &d,
            &noise,
            &tr.observations,
            default_prior(&tr.observations[0]),
        )
        .expect("uks");
        let means: Vec<Vector3<f64>> = smoothed.iter().map(|g| g.mean).collect();
        let raw: Vec<Vector3<f64>> = tr.observations.iter().map(|y| Vector3::from(*y)).collect();
        assert!(mse(&means, &tr.states) < 0.7 * mse(&raw, &tr.states));
    }

    #[test]
    fn empty_input_is_an_error_not_a_panic() {
        let noise = NoiseModel {
            process_std: 1.0,
            obs_std: 0.5,
            dt: 0.05,
        };
        let prior = default_prior(&[0.0; 3]);
        let d = TaylorDynamics { order: 1, dt: 0.05 };
        assert_eq!(ekf(&d, &noise, &[], prior), Err(FilterError::Empty));
    }
}
