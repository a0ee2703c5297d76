//! The textbook detectors, per received vector, in the real form of [`super::sim`]: zero
//! forcing, LMMSE, MMSE-SIC with V-BLAST ordering, and exact ML by a Schnorr–Euchner sphere
//! decoder. (OAMP, the iterative one, lives in [`super::oamp`] with its unrolled, learned twin.)

use nalgebra::{DMatrix, DVector};

use super::sim::Modulation;

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
/// post-detection SINR) is decided first and its signal subtracted. Returns the decided
/// symbols' levels, in the order of the dimensions.
pub fn vblast(
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
        // Columns of the users left: the real parts, then the imaginary parts.
        let columns: Vec<usize> = left
            .iter()
            .copied()
            .chain(left.iter().map(|k| k + users))
            .collect();
        let sub = h.select_columns(&columns);
        let n = columns.len();
        let gram = sub.transpose() * &sub + DMatrix::identity(n, n) * delta;
        let Some(inverse) = gram.try_inverse() else {
            break;
        };
        let m = left.len();
        let Some(pick) = (0..m).min_by(|&a, &b| {
            let error = |i: usize| inverse[(i, i)] + inverse[(i + m, i + m)];
            error(a).total_cmp(&error(b))
        }) else {
            break;
        };
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

    /// Every candidate, by brute force.
    fn brute_force(
        h: &DMatrix<f64>,
        y: &DVector<f64>,
        modulation: Modulation,
    ) -> (DVector<f64>, f64) {
        let levels = modulation.levels();
        let n = h.ncols();
        let count = levels.len().pow(n as u32);
        let mut best = (DVector::zeros(n), f64::INFINITY);
        for mut code in 0..count {
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
                let (want, distance) = brute_force(&v.channel, &v.received, Modulation::Qam16);
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
}
