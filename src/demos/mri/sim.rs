//! The MRI forward model `y = M ⊙ F x + n` and its training images, pure and seeded.
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

/// A random training image, one of three families (all from the seed):
/// - a dead-leaves image (occluding shapes with power-law sizes, flat, shaded or textured):
///   the synthetic model whose statistics match natural images (Lee, Mumford & Huang 2001),
///   known to train restoration networks that generalize to photographs;
/// - a few ellipses and polygons of varied size, angle and intensity on a smooth background;
/// - a Shepp-Logan-like head with jittered ellipses, plus shapes.
///
/// Each is drawn at up to 4× the side and averaged down, then half the time blurred a little:
/// edges fall between pixels with partial volume, as in a downsampled photograph or an MR
/// voxel. (Drawn on the pixel grid, every edge is a hard step: TV's ideal image and nobody
/// else's, and a network trained on such steps learns to sharpen what it should not.)
pub fn phantom(side: usize, seed: u64) -> Image {
    let mut rng = StdRng::seed_from_u64(seed);
    let factor = (256 / side.max(1)).clamp(1, 4);
    let fine = side * factor;
    let family = rng.random::<f64>();
    let mut img = Image::zeros(fine);
    if family < 0.5 {
        dead_leaves(&mut img, &mut rng, factor as f64);
    } else {
        // Smooth background: a low-frequency random field.
        let background = rng.random::<f64>() * 0.4;
        let field = smooth_field(fine, &mut rng, 3.0);
        for (p, f) in img.pixels.iter_mut().zip(&field) {
            *p = background * (0.5 + 0.5 * f);
        }
        if family > 0.8 {
            shepp_logan_like(&mut img, &mut rng);
        }
        let shapes = 3 + (rng.random::<f64>() * 12.0) as usize;
        for _ in 0..shapes {
            let a = (0.03 + rng.random::<f64>().powi(2) * 0.4) * fine as f64;
            paint_shape(&mut img, &mut rng, a);
        }
    }
    let mut img = box_downsample(&img, factor);
    // Fine texture over the whole image at a random strength.
    if rng.random::<f64>() < 0.5 {
        let texture = smooth_field(side, &mut rng, 24.0);
        let strength = 0.1 * rng.random::<f64>();
        for (p, f) in img.pixels.iter_mut().zip(&texture) {
            *p += strength * (f - 0.5);
        }
    }
    if rng.random::<f64>() < 0.5 {
        img = gaussian_blur(&img, 0.3 + 0.9 * rng.random::<f64>());
    }
    img.clamped()
}

/// The mean of each `factor × factor` block.
fn box_downsample(img: &Image, factor: usize) -> Image {
    let side = img.side / factor;
    let scale = 1.0 / (factor * factor) as f64;
    let pixels = (0..side * side)
        .map(|i| {
            let (r, c) = (i / side, i % side);
            let mut sum = 0.0;
            for dr in 0..factor {
                let row = (r * factor + dr) * img.side;
                sum += img.pixels[row + c * factor..row + (c + 1) * factor]
                    .iter()
                    .sum::<f64>();
            }
            sum * scale
        })
        .collect();
    Image { side, pixels }
}

/// A separable Gaussian blur of standard deviation `sigma` pixels, borders clamped.
fn gaussian_blur(img: &Image, sigma: f64) -> Image {
    let radius = (3.0 * sigma).ceil() as isize;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let n = img.side as isize;
    let pass = |src: &[f64], along_rows: bool| -> Vec<f64> {
        (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                weights
                    .iter()
                    .zip(-radius..=radius)
                    .map(|(w, d)| {
                        let (rr, cc) = if along_rows {
                            (r, (c + d).clamp(0, n - 1))
                        } else {
                            ((r + d).clamp(0, n - 1), c)
                        };
                        w * src[(rr * n + cc) as usize]
                    })
                    .sum::<f64>()
                    / total
            })
            .collect()
    };
    let pixels = pass(&pass(&img.pixels, true), false);
    Image {
        side: img.side,
        pixels,
    }
}

/// Dead leaves: 40–1000 shapes with radii drawn from p(r) ∝ r⁻³ between `r_min` pixels and
/// half the image, painted one over another.
fn dead_leaves(img: &mut Image, rng: &mut StdRng, r_min: f64) {
    let side = img.side as f64;
    let background = rng.random::<f64>();
    img.pixels.iter_mut().for_each(|p| *p = background);
    // From a sparse scatter over the background to a fully covered plane.
    let leaves = 40 + (rng.random::<f64>().powi(2) * 960.0) as usize;
    let r_max = side / 2.0;
    for _ in 0..leaves {
        let u = rng.random::<f64>();
        let r = (r_min.powi(-2) - u * (r_min.powi(-2) - r_max.powi(-2))).powf(-0.5);
        paint_shape(img, rng, r);
    }
}

/// One ellipse or regular polygon of semi-axis `a` at a random place and angle: flat, shaded
/// by a linear ramp, or textured; it replaces what is under it, or (sometimes) adds to it.
fn paint_shape(img: &mut Image, rng: &mut StdRng, a: f64) {
    let side = img.side;
    let n = side as f64;
    let cx = rng.random::<f64>() * n;
    let cy = rng.random::<f64>() * n;
    let b = a * (0.2 + 0.8 * rng.random::<f64>());
    let theta = rng.random::<f64>() * PI;
    let value = rng.random::<f64>();
    let additive = rng.random::<f64>() < 0.2;
    let style = rng.random::<f64>();
    // Evaluated inside the shape only: a whole-image field per leaf is most of the cost.
    let texture = (style < 0.2).then(|| Waves::new(side, rng, 16.0));
    let ramp = (0.2..0.45)
        .contains(&style)
        .then(|| (rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5));
    let polygon = rng.random::<f64>() < 0.35;
    let sides = 3 + (rng.random::<f64>() * 4.0) as usize;
    let (ct, st) = (theta.cos(), theta.sin());
    let reach = a.max(b) + 1.0;
    let rows = (cy - reach).max(0.0) as usize..((cy + reach).ceil() as usize).min(side);
    let cols = (cx - reach).max(0.0) as usize..((cx + reach).ceil() as usize).min(side);
    for r in rows {
        for c in cols.clone() {
            let dx = c as f64 + 0.5 - cx;
            let dy = r as f64 + 0.5 - cy;
            let u = (dx * ct + dy * st) / a;
            let v = (-dx * st + dy * ct) / b;
            let inside = if polygon {
                inside_regular_polygon(u, v, sides)
            } else {
                u * u + v * v <= 1.0
            };
            if !inside {
                continue;
            }
            let i = r * side + c;
            let mut val = value;
            if let Some(t) = &texture {
                val *= 0.6 + 0.4 * t.at(r, c);
            }
            if let Some((gx, gy)) = ramp {
                val += 0.5 * (gx * u + gy * v);
            }
            img.pixels[i] = if additive {
                img.pixels[i] + 0.5 * (val - 0.5)
            } else {
                val
            };
        }
    }
}

/// `|u|, |v|` inside a regular polygon of `sides` inscribed in the unit circle.
fn inside_regular_polygon(u: f64, v: f64, sides: usize) -> bool {
    let k = sides as f64;
    let angle = v.atan2(u);
    let sector = (angle / (2.0 * PI / k)).floor();
    let mid = (sector + 0.5) * 2.0 * PI / k;
    let r = u.hypot(v);
    r * (angle - mid).cos() <= (PI / k).cos()
}

/// A random field of 12 sinusoids of frequency up to `max_freq` cycles per image with 1/f
/// amplitudes (natural images' spectrum), evaluated where it is needed.
struct Waves {
    waves: Vec<(f64, f64, f64, f64)>,
    amplitude: f64,
}

impl Waves {
    fn new(side: usize, rng: &mut StdRng, max_freq: f64) -> Self {
        let n = side as f64;
        let waves: Vec<(f64, f64, f64, f64)> = (0..12)
            .map(|_| {
                let f = 0.5 + rng.random::<f64>() * max_freq;
                let dir = rng.random::<f64>() * 2.0 * PI;
                let phase = rng.random::<f64>() * 2.0 * PI;
                (
                    f * dir.cos() * 2.0 * PI / n,
                    f * dir.sin() * 2.0 * PI / n,
                    phase,
                    1.0 / f,
                )
            })
            .collect();
        let amplitude = waves.iter().map(|w| w.3).sum();
        Self { waves, amplitude }
    }

    /// The raw sum at pixel (row, column), in [−amplitude, amplitude].
    fn sum_at(&self, r: usize, c: usize) -> f64 {
        let (r, c) = (r as f64, c as f64);
        self.waves
            .iter()
            .map(|(kx, ky, p, a)| a * (kx * c + ky * r + p).sin())
            .sum()
    }

    /// The field at (row, column) in [0, 1].
    fn at(&self, r: usize, c: usize) -> f64 {
        0.5 + 0.5 * self.sum_at(r, c) / self.amplitude
    }
}

/// A `Waves` field over the whole image, stretched to [0, 1].
fn smooth_field(side: usize, rng: &mut StdRng, max_freq: f64) -> Vec<f64> {
    let waves = Waves::new(side, rng, max_freq);
    let mut out: Vec<f64> = (0..side * side)
        .map(|i| waves.sum_at(i / side, i % side))
        .collect();
    let (lo, hi) = out
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let span = (hi - lo).max(1e-12);
    out.iter_mut().for_each(|v| *v = (*v - lo) / span);
    out
}

/// A head-like phantom after Shepp & Logan (1974), with each ellipse's size, place and
/// intensity jittered so no two are the same.
fn shepp_logan_like(img: &mut Image, rng: &mut StdRng) {
    // (value, a, b, x0, y0, angle in degrees), in the unit square [-1, 1]².
    const ELLIPSES: [(f64, f64, f64, f64, f64, f64); 10] = [
        (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
        (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
        (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
        (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
        (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
        (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
        (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
        (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
        (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
        (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
    ];
    let side = img.side;
    let scale = 0.7 + 0.3 * rng.random::<f64>();
    let jitter = |rng: &mut StdRng, s: f64| 1.0 + s * (rng.random::<f64>() - 0.5);
    let params: Vec<_> = ELLIPSES
        .iter()
        .map(|&(v, a, b, x0, y0, deg)| {
            (
                v * jitter(rng, 0.6),
                a * scale * jitter(rng, 0.3),
                b * scale * jitter(rng, 0.3),
                x0 * scale,
                y0 * scale,
                (deg + 20.0 * (rng.random::<f64>() - 0.5)).to_radians(),
            )
        })
        .collect();
    for r in 0..side {
        for c in 0..side {
            let x = 2.0 * (c as f64 + 0.5) / side as f64 - 1.0;
            let y = 1.0 - 2.0 * (r as f64 + 0.5) / side as f64;
            let mut value = 0.0;
            for &(v, a, b, x0, y0, th) in &params {
                let (dx, dy) = (x - x0, y - y0);
                let u = dx * th.cos() + dy * th.sin();
                let w = -dx * th.sin() + dy * th.cos();
                if (u / a).powi(2) + (w / b).powi(2) <= 1.0 {
                    value += v;
                }
            }
            if value != 0.0 {
                img.pixels[r * side + c] = value.clamp(0.0, 1.0);
            }
        }
    }
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

    #[test]
    fn downsampling_and_blur_keep_the_mean_and_constants() {
        let mut rng = StdRng::seed_from_u64(4);
        let fine = Image {
            side: 16,
            pixels: (0..256).map(|_| rng.random::<f64>()).collect(),
        };
        let mean = |i: &Image| i.pixels.iter().sum::<f64>() / i.pixels.len() as f64;
        let small = box_downsample(&fine, 4);
        assert_eq!(small.side, 4);
        assert!((mean(&small) - mean(&fine)).abs() < 1e-12);
        // Block (1, 2) is the mean of rows 4..8, columns 8..12.
        let block: f64 = (4..8)
            .flat_map(|r| (8..12).map(move |c| (r, c)))
            .map(|(r, c)| fine.pixels[r * 16 + c])
            .sum::<f64>()
            / 16.0;
        assert!((small.pixels[4 + 2] - block).abs() < 1e-12);
        let flat = Image {
            side: 8,
            pixels: vec![0.3; 64],
        };
        assert!(
            gaussian_blur(&flat, 1.0)
                .pixels
                .iter()
                .all(|v| (v - 0.3).abs() < 1e-12)
        );
        // A blur spreads a point: the centre drops, a neighbour rises, the interior sum holds.
        let mut point = Image::zeros(16);
        point.pixels[8 * 16 + 8] = 1.0;
        let blurred = gaussian_blur(&point, 1.0);
        assert!(blurred.pixels[8 * 16 + 8] < 0.3 && blurred.pixels[8 * 16 + 9] > 0.05);
        assert!((blurred.pixels.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn phantoms_are_seeded_and_in_range() {
        let a = phantom(32, 7);
        assert_eq!(a, phantom(32, 7));
        assert_ne!(a, phantom(32, 8));
        assert!(a.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        let spread = a.pixels.iter().cloned().fold(0.0, f64::max)
            - a.pixels.iter().cloned().fold(1.0, f64::min);
        assert!(spread > 0.1);
    }
}
