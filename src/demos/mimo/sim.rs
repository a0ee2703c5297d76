//! The forward model y = Hx + n (complex baseband), pure and seeded, and its real-valued
//! equivalent, on which every detector works:
//!
//! ```text
//! [Re y]   [Re H  −Im H] [Re x]   [Re n]
//! [Im y] = [Im H   Re H] [Im x] + [Im n]
//! ```
//!
//! A square QAM symbol is two independent PAM symbols (its real and imaginary parts), each Gray
//! mapped, so a real dimension carries `bits_per_dimension` bits and detectors decide per real
//! dimension. Symbols have unit average energy (1/2 per real dimension); the SNR is pinned as
//! E‖Hx‖²/E‖n‖², so the complex noise variance is σ² = N_t / (N_r · 10^(SNR/10)) (σ²/2 per real
//! dimension).

use nalgebra::{Complex, DMatrix, DVector, SymmetricEigen};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// The smallest and largest antenna counts a problem may have.
pub const ANTENNAS: std::ops::RangeInclusive<usize> = 1..=128;

/// A square QAM constellation, Gray mapped.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum Modulation {
    Qpsk,
    #[value(name = "16qam")]
    Qam16,
}

impl Modulation {
    pub const ALL: [Self; 2] = [Self::Qpsk, Self::Qam16];

    /// The command line's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Qpsk => "qpsk",
            Self::Qam16 => "16qam",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The PAM levels of one real dimension, in increasing order: QPSK ±1/√2, 16-QAM
    /// {±1, ±3}/√10 (unit average energy per complex symbol).
    pub fn levels(self) -> &'static [f64] {
        const H: f64 = std::f64::consts::FRAC_1_SQRT_2;
        // 1/√10 and 3/√10.
        const A: f64 = 0.316_227_766_016_837_94;
        const B: f64 = 0.948_683_298_050_513_8;
        match self {
            Self::Qpsk => &[-H, H],
            Self::Qam16 => &[-B, -A, A, B],
        }
    }

    pub fn bits_per_dimension(self) -> usize {
        match self {
            Self::Qpsk => 1,
            Self::Qam16 => 2,
        }
    }

    /// Bits per complex symbol.
    pub fn bits_per_symbol(self) -> usize {
        2 * self.bits_per_dimension()
    }

    /// The Gray code of level `index` (neighbouring levels differ in one bit).
    pub fn gray(self, index: u8) -> u8 {
        index ^ (index >> 1)
    }

    /// The nearest level's index to `value` (the hard decision).
    pub fn decide(self, value: f64) -> u8 {
        let levels = self.levels();
        let spacing = levels[1] - levels[0];
        let index = ((value - levels[0]) / spacing).round();
        index.clamp(0.0, (levels.len() - 1) as f64) as u8
    }

    /// The index of the level equal to `value` (within rounding), for symbols read from files.
    pub fn index_of(self, value: f64) -> Option<u8> {
        let index = self.decide(value);
        let tolerance = 1e-3;
        ((self.levels()[usize::from(index)] - value).abs() < tolerance).then_some(index)
    }

    /// Signal energy per real dimension.
    pub const DIMENSION_ENERGY: f64 = 0.5;
}

/// One configuration of the forward model.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Setup {
    /// Users (single-antenna transmitters), N_t.
    pub users: usize,
    /// Receive antennas, N_r.
    pub antennas: usize,
    pub modulation: Modulation,
    pub snr_db: f64,
    /// Exponential correlation ρ^|i−j| at both ends (0: i.i.d. Rayleigh).
    pub rho: f64,
}

impl Setup {
    pub fn validate(&self) -> Result<(), String> {
        for (name, n) in [
            ("users (--nt)", self.users),
            ("antennas (--nr)", self.antennas),
        ] {
            if !ANTENNAS.contains(&n) {
                return Err(format!(
                    "{name} is {n}; it must be in {}..={}",
                    ANTENNAS.start(),
                    ANTENNAS.end()
                ));
            }
        }
        if !(-20.0..=60.0).contains(&self.snr_db) {
            return Err(format!("SNR {} dB is outside −20..=60 dB", self.snr_db));
        }
        if !(0.0..1.0).contains(&self.rho) {
            return Err(format!("correlation ρ = {} must be in [0, 1)", self.rho));
        }
        Ok(())
    }

    /// The channel model in words.
    pub fn channel_name(&self) -> String {
        channel_name(self.rho)
    }

    /// The complex noise variance σ² = N_t / (N_r · 10^(SNR/10)).
    pub fn noise_variance(&self) -> f64 {
        noise_variance(self.users, self.antennas, self.snr_db)
    }
}

/// The channel model of correlation `rho`, in words.
pub fn channel_name(rho: f64) -> String {
    if rho > 0.0 {
        format!("correlated ρ = {rho}")
    } else {
        "i.i.d. Rayleigh".to_owned()
    }
}

/// σ² = N_t / (N_r · 10^(SNR/10)): E‖Hx‖² / E‖n‖² = SNR with E|h|² = 1/N_r and E|x|² = 1.
pub fn noise_variance(users: usize, antennas: usize, snr_db: f64) -> f64 {
    users as f64 / (antennas as f64 * 10f64.powf(snr_db / 10.0))
}

/// One received vector with its channel, in real form, and (when simulated) what was sent.
#[derive(Clone, Debug)]
pub struct Vector {
    /// The real 2N_r × 2N_t channel.
    pub channel: DMatrix<f64>,
    /// The real 2N_r received vector.
    pub received: DVector<f64>,
    /// The level index of each of the 2N_t real dimensions (Re of every user, then Im), when known.
    pub sent: Option<Vec<u8>>,
}

/// A batch of received vectors sharing a setup.
#[derive(Clone, Debug)]
pub struct Batch {
    pub setup: Setup,
    pub vectors: Vec<Vector>,
}

impl Batch {
    /// The real noise variance per dimension, σ²/2.
    pub fn dimension_noise(&self) -> f64 {
        self.setup.noise_variance() / 2.0
    }
}

/// The real form [[Re, −Im], [Im, Re]] of a complex matrix.
pub fn real_matrix(h: &DMatrix<Complex<f64>>) -> DMatrix<f64> {
    let (r, c) = h.shape();
    DMatrix::from_fn(2 * r, 2 * c, |i, j| {
        let v = h[(i % r, j % c)];
        match (i < r, j < c) {
            (true, true) | (false, false) => v.re,
            (true, false) => -v.im,
            (false, true) => v.im,
        }
    })
}

/// The complex matrix of a real form.
pub fn complex_matrix(real: &DMatrix<f64>) -> DMatrix<Complex<f64>> {
    let (r, c) = (real.nrows() / 2, real.ncols() / 2);
    DMatrix::from_fn(r, c, |i, j| Complex::new(real[(i, j)], real[(i + r, j)]))
}

/// [Re v; Im v].
pub fn real_vector(v: &[Complex<f64>]) -> DVector<f64> {
    let n = v.len();
    DVector::from_fn(2 * n, |i, _| if i < n { v[i].re } else { v[i - n].im })
}

pub fn complex_vector(real: &DVector<f64>) -> Vec<Complex<f64>> {
    let n = real.len() / 2;
    (0..n).map(|i| Complex::new(real[i], real[i + n])).collect()
}

/// The symmetric square root of the exponential correlation matrix ρ^|i−j| (n × n).
pub fn correlation_root(n: usize, rho: f64) -> DMatrix<f64> {
    let r = DMatrix::from_fn(n, n, |i, j| rho.powi(i.abs_diff(j) as i32));
    let eigen = SymmetricEigen::new(r);
    let roots = eigen.eigenvalues.map(|v| v.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}

/// Draws a channel: i.i.d. CN(0, 1/N_r), or R_r^½ H_w R_t^½ when ρ > 0.
pub fn draw_channel(
    setup: &Setup,
    roots: Option<&(DMatrix<f64>, DMatrix<f64>)>,
    rng: &mut StdRng,
) -> DMatrix<Complex<f64>> {
    let scale = (0.5 / setup.antennas as f64).sqrt();
    let mut gauss = || -> f64 { StandardNormal.sample(rng) };
    let h = DMatrix::from_fn(setup.antennas, setup.users, |_, _| {
        Complex::new(gauss() * scale, gauss() * scale)
    });
    match roots {
        Some((rr, rt)) => rr.map(|v| Complex::new(v, 0.0)) * h * rt.map(|v| Complex::new(v, 0.0)),
        None => h,
    }
}

/// `count` independent vectors (a fresh channel each), reproducible from `seed`.
pub fn simulate(setup: &Setup, count: usize, seed: u64) -> Batch {
    let mut rng = StdRng::seed_from_u64(seed);
    let roots = (setup.rho > 0.0).then(|| {
        (
            correlation_root(setup.antennas, setup.rho),
            correlation_root(setup.users, setup.rho),
        )
    });
    let levels = setup.modulation.levels();
    let noise_sd = (setup.noise_variance() / 2.0).sqrt();
    let vectors = (0..count)
        .map(|_| {
            let h = real_matrix(&draw_channel(setup, roots.as_ref(), &mut rng));
            let sent: Vec<u8> = (0..2 * setup.users)
                .map(|_| rng.random_range(0..levels.len()) as u8)
                .collect();
            let x =
                DVector::from_iterator(sent.len(), sent.iter().map(|&i| levels[usize::from(i)]));
            let noise = DVector::from_fn(2 * setup.antennas, |_, _| {
                let e: f64 = StandardNormal.sample(&mut rng);
                e * noise_sd
            });
            Vector {
                received: &h * x + noise,
                channel: h,
                sent: Some(sent),
            }
        })
        .collect();
    Batch {
        setup: *setup,
        vectors,
    }
}

/// The levels of a vector of level indices.
pub fn symbols(modulation: Modulation, indices: &[u8]) -> DVector<f64> {
    let levels = modulation.levels();
    DVector::from_iterator(
        indices.len(),
        indices.iter().map(|&i| levels[usize::from(i)]),
    )
}

/// The hard decision of a soft estimate, per real dimension.
pub fn decide(modulation: Modulation, soft: &DVector<f64>) -> Vec<u8> {
    soft.iter().map(|&v| modulation.decide(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constellations_have_unit_energy_and_gray_neighbours() {
        for m in Modulation::ALL {
            let levels = m.levels();
            let energy = 2.0 * levels.iter().map(|v| v * v).sum::<f64>() / levels.len() as f64;
            assert!((energy - 1.0).abs() < 1e-12, "{m:?}: {energy}");
            for i in 1..levels.len() as u8 {
                assert_eq!((m.gray(i) ^ m.gray(i - 1)).count_ones(), 1, "{m:?} {i}");
            }
            // Gray mapping round trip: each level decides to itself, each code is distinct.
            let mut codes: Vec<u8> = (0..levels.len() as u8).map(|i| m.gray(i)).collect();
            for (i, &v) in levels.iter().enumerate() {
                assert_eq!(usize::from(m.decide(v)), i);
                assert_eq!(m.index_of(v), Some(i as u8));
            }
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), levels.len());
        }
    }

    #[test]
    fn the_real_form_multiplies_as_the_complex_one() {
        let setup = Setup {
            users: 3,
            antennas: 4,
            modulation: Modulation::Qam16,
            snr_db: 10.0,
            rho: 0.5,
        };
        let mut rng = StdRng::seed_from_u64(1);
        let h = draw_channel(&setup, None, &mut rng);
        let x: Vec<Complex<f64>> = (0..3)
            .map(|k| Complex::new(k as f64, 1.0 - k as f64))
            .collect();
        let y = &h * DVector::from_vec(x.clone());
        let real = real_matrix(&h) * real_vector(&x);
        let back = complex_vector(&real);
        for (a, b) in y.iter().zip(&back) {
            assert!((a - b).norm() < 1e-12);
        }
        assert_eq!(complex_matrix(&real_matrix(&h)), h);
    }

    #[test]
    fn the_snr_is_signal_over_noise_power() {
        for rho in [0.0, 0.7] {
            let setup = Setup {
                users: 8,
                antennas: 16,
                modulation: Modulation::Qam16,
                snr_db: 6.0,
                rho,
            };
            let batch = simulate(&setup, 2000, 3);
            let (mut signal, mut noise) = (0.0, 0.0);
            for v in &batch.vectors {
                let x = symbols(setup.modulation, v.sent.as_deref().expect("sent"));
                let hx = &v.channel * x;
                signal += hx.norm_squared();
                noise += (&v.received - hx).norm_squared();
            }
            let snr_db = 10.0 * (signal / noise).log10();
            assert!((snr_db - 6.0).abs() < 0.1, "ρ {rho}: {snr_db} dB");
        }
    }

    #[test]
    fn correlation_root_squares_to_the_correlation() {
        let root = correlation_root(5, 0.7);
        let r = &root * &root;
        for i in 0..5 {
            for j in 0..5 {
                assert!((r[(i, j)] - 0.7f64.powi(i.abs_diff(j) as i32)).abs() < 1e-10);
            }
        }
    }
}
