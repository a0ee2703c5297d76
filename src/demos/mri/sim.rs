//! The MRI forward model `y = M ⊙ F x + n`, pure and seeded (its images: `images.rs`).
//!
//! Conventions (pinned so results compare with other tools):
//! - `x` is a real, square image with values in [0, 1], row-major.
//! - `F` is the orthonormal 2-D DFT with the zero frequency at the centre, numpy's
//!   `fftshift(fft2(ifftshift(x), norm="ortho"))`.
//! - `M` keeps whole k-space samples (a 0/1 mask of the same size); `n` is circular complex
//!   Gaussian with `E|n|² = σ²` (real and imaginary parts each of variance σ²/2), only where sampled.

use std::f64::consts::PI;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

/// The largest image side the demo accepts (memory and time stay bounded).
pub const MAX_SIDE: usize = 1024;
/// The smallest image side the demo accepts.
pub const MIN_SIDE: usize = 8;

/// A square real image, row-major, values nominally in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub side: usize,
    pub pixels: Vec<f64>,
}

impl Image {
    pub fn zeros(side: usize) -> Self {
        Self {
            side,
            pixels: vec![0.0; side * side],
        }
    }

    pub fn clamped(&self) -> Self {
        Self {
            side: self.side,
            pixels: self.pixels.iter().map(|v| v.clamp(0.0, 1.0)).collect(),
        }
    }
}

/// Centred orthonormal 2-D DFT of a square grid (plans cached for one side).
pub struct Fourier {
    side: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

impl Fourier {
    pub fn new(side: usize) -> Self {
        let mut planner = FftPlanner::new();
        Self {
            side,
            forward: planner.plan_fft_forward(side),
            inverse: planner.plan_fft_inverse(side),
        }
    }

    pub fn side(&self) -> usize {
        self.side
    }

    /// `fftshift(fft2(ifftshift(x), norm="ortho"))`.
    pub fn forward(&self, x: &[Complex64]) -> Vec<Complex64> {
        self.transform(x, &self.forward)
    }

    /// The adjoint (and inverse): `fftshift(ifft2(ifftshift(k), norm="ortho"))`.
    pub fn inverse(&self, k: &[Complex64]) -> Vec<Complex64> {
        self.transform(k, &self.inverse)
    }

    fn transform(&self, input: &[Complex64], fft: &Arc<dyn Fft<f64>>) -> Vec<Complex64> {
        let n = self.side;
        assert_eq!(
            input.len(),
            n * n,
            "grid of the wrong size for this transform"
        );
        let mut data = vec![Complex64::default(); n * n];
        let mut other = vec![Complex64::default(); n * n];
        let mut scratch = vec![Complex64::default(); fft.get_inplace_scratch_len()];
        shift_into(input, n, n - n / 2, &mut data); // ifftshift
        // One call transforms every row of the buffer.
        fft.process_with_scratch(&mut data, &mut scratch);
        transpose_into(&data, n, &mut other);
        fft.process_with_scratch(&mut other, &mut scratch);
        transpose_into(&other, n, &mut data);
        let scale = 1.0 / n as f64;
        data.iter_mut().for_each(|v| *v *= scale);
        shift_into(&data, n, n / 2, &mut other); // fftshift
        other
    }

    /// The measurement of a real image: `M ⊙ F x` (no noise).
    pub fn measure(&self, image: &Image, mask: &Mask) -> Vec<Complex64> {
        let x: Vec<Complex64> = image
            .pixels
            .iter()
            .map(|&v| Complex64::new(v, 0.0))
            .collect();
        let mut k = self.forward(&x);
        mask.apply(&mut k);
        k
    }

    /// `Re(Fᴴ (M ⊙ k))`: the adjoint of the measurement for a real image.
    pub fn adjoint_real(&self, kspace: &[Complex64], mask: &Mask) -> Image {
        let mut k = kspace.to_vec();
        mask.apply(&mut k);
        Image {
            side: self.side,
            pixels: self.inverse(&k).iter().map(|v| v.re).collect(),
        }
    }
}

/// Cyclic shift of both axes by `by` (fftshift: n/2, ifftshift: n − n/2), a row at a time.
fn shift_into(data: &[Complex64], n: usize, by: usize, out: &mut [Complex64]) {
    let by = by % n;
    for (r, row) in data.chunks_exact(n).enumerate() {
        let target = &mut out[((r + by) % n) * n..][..n];
        target[by..].copy_from_slice(&row[..n - by]);
        target[..by].copy_from_slice(&row[n - by..]);
    }
}

/// `out = dataᵀ`, in 16×16 tiles to stay in cache.
fn transpose_into(data: &[Complex64], n: usize, out: &mut [Complex64]) {
    const TILE: usize = 16;
    for r0 in (0..n).step_by(TILE) {
        for c0 in (0..n).step_by(TILE) {
            for r in r0..(r0 + TILE).min(n) {
                for c in c0..(c0 + TILE).min(n) {
                    out[c * n + r] = data[r * n + c];
                }
            }
        }
    }
}

/// Which k-space samples are measured (`true`), row-major, same side as the image.
#[derive(Clone, Debug, PartialEq)]
pub struct Mask {
    pub side: usize,
    pub sampled: Vec<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MaskKind {
    /// fastMRI `RandomMaskFunc`: whole columns, a fully sampled centre.
    Cartesian,
    /// Spokes through the centre at evenly spread angles.
    Radial,
    /// Radio-interferometry uv coverage: antenna baselines rotated by the Earth.
    Uv,
}

impl MaskKind {
    pub const ALL: [MaskKind; 3] = [MaskKind::Cartesian, MaskKind::Radial, MaskKind::Uv];

    pub fn label(self) -> &'static str {
        match self {
            MaskKind::Cartesian => "Cartesian (columns)",
            MaskKind::Radial => "radial spokes",
            MaskKind::Uv => "uv coverage (radio)",
        }
    }
}

/// The fastMRI centre fraction for an acceleration: 0.08 at 4×, 0.04 at 8×
/// (`0.32 / accel` in between and beyond).
pub fn default_center_fraction(accel: f64) -> f64 {
    (0.32 / accel).clamp(0.0, 1.0)
}

impl Mask {
    pub fn full(side: usize) -> Self {
        Self {
            side,
            sampled: vec![true; side * side],
        }
    }

    /// Fraction of k-space sampled.
    pub fn fraction(&self) -> f64 {
        self.sampled.iter().filter(|&&s| s).count() as f64 / self.sampled.len().max(1) as f64
    }

    /// 1 / fraction sampled.
    pub fn acceleration(&self) -> f64 {
        1.0 / self.fraction().max(1e-12)
    }

    pub fn apply(&self, k: &mut [Complex64]) {
        for (v, &s) in k.iter_mut().zip(&self.sampled) {
            if !s {
                *v = Complex64::default();
            }
        }
    }

    /// A mask of `kind` reaching `accel` (in expectation for Cartesian, as fastMRI does).
    pub fn generate(
        kind: MaskKind,
        side: usize,
        accel: f64,
        center_fraction: f64,
        seed: u64,
    ) -> Result<Self, String> {
        if !(accel.is_finite() && (1.0..=64.0).contains(&accel)) {
            return Err(format!("acceleration {accel} is outside 1..=64"));
        }
        if !(center_fraction.is_finite() && (0.0..=1.0).contains(&center_fraction)) {
            return Err(format!(
                "centre fraction {center_fraction} is outside 0..=1"
            ));
        }
        if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
            return Err(format!("side {side} is outside {MIN_SIDE}..={MAX_SIDE}"));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        Ok(match kind {
            MaskKind::Cartesian => cartesian(side, accel, center_fraction, &mut rng),
            MaskKind::Radial => radial(side, accel, &mut rng),
            MaskKind::Uv => uv_coverage(side, accel, &mut rng),
        })
    }
}

/// fastMRI's `RandomMaskFunc`: `round(W · centre)` central columns, the others kept with
/// probability `(W / accel − centre columns) / (W − centre columns)`.
fn cartesian(side: usize, accel: f64, center_fraction: f64, rng: &mut StdRng) -> Mask {
    let num_low = ((side as f64) * center_fraction).round() as usize;
    let prob = ((side as f64 / accel - num_low as f64) / (side - num_low).max(1) as f64).max(0.0);
    let pad = (side - num_low).div_ceil(2);
    let columns: Vec<bool> = (0..side)
        .map(|c| {
            let random = rng.random::<f64>() < prob;
            random || (pad..pad + num_low).contains(&c)
        })
        .collect();
    Mask {
        side,
        sampled: (0..side * side).map(|i| columns[i % side]).collect(),
    }
}

/// Draws a line through the centre at `angle` into `sampled`.
fn draw_spoke(sampled: &mut [bool], side: usize, angle: f64) {
    let centre = (side / 2) as f64;
    let steps = 4 * side;
    for s in 0..=steps {
        let r = (s as f64 / steps as f64 - 0.5) * side as f64 * std::f64::consts::SQRT_2;
        let (x, y) = (centre + r * angle.cos(), centre + r * angle.sin());
        let (c, row) = (x.round(), y.round());
        if (0.0..side as f64).contains(&c) && (0.0..side as f64).contains(&row) {
            sampled[row as usize * side + c as usize] = true;
        }
    }
}

/// Spokes at evenly spread angles (random offset), added until the fraction reaches 1/accel.
fn radial(side: usize, accel: f64, rng: &mut StdRng) -> Mask {
    let offset = rng.random::<f64>() * PI;
    let target = 1.0 / accel;
    let mut spokes = 1;
    loop {
        let mut sampled = vec![false; side * side];
        for s in 0..spokes {
            draw_spoke(&mut sampled, side, offset + PI * s as f64 / spokes as f64);
        }
        let mask = Mask { side, sampled };
        if mask.fraction() >= target || spokes >= 8 * side {
            return mask;
        }
        spokes += 1;
    }
}

/// A Y-shaped array (as the VLA) of 27 antennas with jittered positions, observing a source at
/// declination 45° while the Earth turns: every baseline traces an ellipse in the uv plane.
/// The baselines are scaled so the longest reaches the edge of k-space; hour-angle samples are
/// added until the fraction sampled reaches 1/accel.
fn uv_coverage(side: usize, accel: f64, rng: &mut StdRng) -> Mask {
    let mut antennas = Vec::new();
    for arm in 0..3 {
        let angle = PI / 2.0 + 2.0 * PI * arm as f64 / 3.0;
        for k in 1..=9 {
            // Positions grow as a power law along each arm, as in the VLA's configurations.
            let r = (k as f64).powf(1.7) * (1.0 + 0.1 * (rng.random::<f64>() - 0.5));
            antennas.push((r * angle.cos(), r * angle.sin()));
        }
    }
    let mut baselines = Vec::new();
    for i in 0..antennas.len() {
        for j in i + 1..antennas.len() {
            baselines.push((antennas[i].0 - antennas[j].0, antennas[i].1 - antennas[j].1));
        }
    }
    let longest = baselines
        .iter()
        .map(|(x, y)| x.hypot(*y))
        .fold(0.0, f64::max)
        .max(1e-9);
    let declination = PI / 4.0;
    let centre = (side / 2) as f64;
    let radius = 0.5 * side as f64 - 1.0;
    let target = 1.0 / accel;
    let mut hours = 2;
    loop {
        let mut sampled = vec![false; side * side];
        sampled[(side / 2) * side + side / 2] = true;
        for h in 0..hours {
            // Hour angles over ±6 h.
            let hour_angle = -PI / 2.0 + PI * h as f64 / (hours - 1) as f64;
            for (bx, by) in &baselines {
                let u = bx * hour_angle.sin() + by * hour_angle.cos();
                let v = declination.sin() * (-bx * hour_angle.cos() + by * hour_angle.sin());
                for sign in [1.0, -1.0] {
                    let c = (centre + sign * u / longest * radius).round();
                    let r = (centre + sign * v / longest * radius).round();
                    if (0.0..side as f64).contains(&c) && (0.0..side as f64).contains(&r) {
                        sampled[r as usize * side + c as usize] = true;
                    }
                }
            }
        }
        let mask = Mask { side, sampled };
        if mask.fraction() >= target || hours >= 4 * side {
            return mask;
        }
        hours += (hours / 4).max(1);
    }
}

/// Circular complex Gaussian noise of `E|n|² = std²` on the sampled entries.
pub fn add_noise(k: &mut [Complex64], mask: &Mask, std: f64, seed: u64) {
    if std <= 0.0 {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let Ok(normal) = Normal::new(0.0, std / std::f64::consts::SQRT_2) else {
        return;
    };
    for (v, &s) in k.iter_mut().zip(&mask.sampled) {
        if s {
            *v += Complex64::new(normal.sample(&mut rng), normal.sample(&mut rng));
        }
    }
}

/// One simulated measurement.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub kspace: Vec<Complex64>,
    pub mask: Mask,
}

/// How to measure: mask type, acceleration, centre fraction (Cartesian), noise, seed.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeasureConfig {
    pub mask: MaskKind,
    pub accel: f64,
    pub center_fraction: f64,
    pub noise_std: f64,
    pub seed: u64,
}

impl MeasureConfig {
    pub fn new(mask: MaskKind, accel: f64) -> Self {
        Self {
            mask,
            accel,
            center_fraction: default_center_fraction(accel),
            noise_std: 0.01,
            seed: 0,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.noise_std.is_finite() && (0.0..=1.0).contains(&self.noise_std)) {
            return Err(format!("noise std {} is outside 0..=1", self.noise_std));
        }
        Ok(())
    }
}

/// Measures `image` as `config` says.
pub fn simulate(
    image: &Image,
    fourier: &Fourier,
    config: &MeasureConfig,
) -> Result<Measurement, String> {
    config.validate()?;
    let mask = Mask::generate(
        config.mask,
        image.side,
        config.accel,
        config.center_fraction,
        config.seed,
    )?;
    let mut kspace = fourier.measure(image, &mask);
    add_noise(
        &mut kspace,
        &mask,
        config.noise_std,
        config.seed ^ 0x9e37_79b9,
    );
    Ok(Measurement { kspace, mask })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_complex(n: usize, seed: u64) -> Vec<Complex64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| Complex64::new(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
            .collect()
    }

    fn inner(a: &[Complex64], b: &[Complex64]) -> Complex64 {
        a.iter().zip(b).map(|(x, y)| x * y.conj()).sum()
    }

    #[test]
    fn centred_dft_matches_the_definition() {
        // fftshift(fft2(ifftshift(x))) for even n is Σ x[m] e^{−2πi (k−n/2)(m−n/2)/n} / √n per axis.
        for n in [4usize, 6, 8] {
            let fourier = Fourier::new(n);
            let x = random_complex(n * n, n as u64);
            let k = fourier.forward(&x);
            let h = (n / 2) as f64;
            for (kr, kc) in [(0, 0), (1, 3), (n - 1, 2), (n / 2, n / 2)] {
                let mut expected = Complex64::default();
                for r in 0..n {
                    for c in 0..n {
                        let phase = -2.0
                            * PI
                            * ((kr as f64 - h) * (r as f64 - h) + (kc as f64 - h) * (c as f64 - h))
                            / n as f64;
                        expected += x[r * n + c] * Complex64::from_polar(1.0, phase);
                    }
                }
                expected /= n as f64;
                assert!(
                    (k[kr * n + kc] - expected).norm() < 1e-10,
                    "n {n} at ({kr},{kc})"
                );
            }
        }
    }

    #[test]
    fn masked_operator_passes_the_adjoint_test() {
        // ⟨A x, y⟩ = ⟨x, Aᴴ y⟩ for A = M F on real x (Aᴴ y = Re(Fᴴ M y)).
        for (kind, seed) in [
            (MaskKind::Cartesian, 1),
            (MaskKind::Radial, 2),
            (MaskKind::Uv, 3),
        ] {
            let n = 16;
            let fourier = Fourier::new(n);
            let mask = Mask::generate(kind, n, 4.0, 0.08, seed).expect("mask");
            let x = Image {
                side: n,
                pixels: random_complex(n * n, seed).iter().map(|v| v.re).collect(),
            };
            let y = random_complex(n * n, seed + 10);
            let ax = fourier.measure(&x, &mask);
            let mut masked_y = y.clone();
            mask.apply(&mut masked_y);
            let lhs = inner(&ax, &masked_y).re;
            let aty = fourier.adjoint_real(&y, &mask);
            let rhs: f64 = x.pixels.iter().zip(&aty.pixels).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-10, "{kind:?}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn fourier_is_orthonormal_and_inverts() {
        let n = 8;
        let fourier = Fourier::new(n);
        let x = random_complex(n * n, 4);
        let k = fourier.forward(&x);
        let energy = |v: &[Complex64]| v.iter().map(|z| z.norm_sqr()).sum::<f64>();
        assert!((energy(&x) - energy(&k)).abs() < 1e-10);
        let back = fourier.inverse(&k);
        assert!(x.iter().zip(&back).all(|(a, b)| (a - b).norm() < 1e-12));
    }

    #[test]
    fn cartesian_masks_have_the_fastmri_centre_and_acceleration() {
        for (accel, centre) in [(4.0, 0.08), (8.0, 0.04)] {
            let side = 256;
            let mut fractions = Vec::new();
            for seed in 0..40 {
                let mask =
                    Mask::generate(MaskKind::Cartesian, side, accel, centre, seed).expect("mask");
                // Whole columns: every row is the same.
                let first: Vec<bool> = mask.sampled[..side].to_vec();
                assert!(mask.sampled.chunks(side).all(|row| row == first.as_slice()));
                // The centre block is fully sampled and centred on column side/2.
                let num_low = (side as f64 * centre).round() as usize;
                let pad = (side - num_low).div_ceil(2);
                assert!(first[pad..pad + num_low].iter().all(|&s| s));
                assert!(first[side / 2]);
                fractions.push(mask.fraction());
            }
            let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
            assert!(
                (mean * accel - 1.0).abs() < 0.05,
                "{accel}×: mean fraction {mean}"
            );
        }
    }

    #[test]
    fn radial_and_uv_masks_reach_the_acceleration_and_hold_the_centre() {
        for kind in [MaskKind::Radial, MaskKind::Uv] {
            for accel in [4.0, 8.0] {
                let mask = Mask::generate(kind, 64, accel, 0.0, 5).expect("mask");
                let f = mask.fraction();
                assert!(f >= 1.0 / accel && f < 1.6 / accel, "{kind:?} {accel}: {f}");
                assert!(mask.sampled[32 * 64 + 32]);
            }
        }
    }

    #[test]
    fn absurd_mask_settings_are_refused() {
        assert!(Mask::generate(MaskKind::Cartesian, 64, 0.5, 0.08, 0).is_err());
        assert!(Mask::generate(MaskKind::Cartesian, 64, f64::NAN, 0.08, 0).is_err());
        assert!(Mask::generate(MaskKind::Cartesian, 64, 4.0, 2.0, 0).is_err());
        assert!(Mask::generate(MaskKind::Radial, 100_000, 4.0, 0.08, 0).is_err());
    }

    #[test]
    fn noise_has_the_stated_power() {
        let n = 64;
        let mask = Mask::full(n);
        let mut k = vec![Complex64::default(); n * n];
        add_noise(&mut k, &mask, 0.1, 3);
        let power = k.iter().map(|v| v.norm_sqr()).sum::<f64>() / k.len() as f64;
        assert!((power - 0.01).abs() < 0.001, "{power}");
    }
}
