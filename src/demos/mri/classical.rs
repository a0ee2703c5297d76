//! The hand-engineered inverses of `y = M F x + n`, each returning its trace of iterates:
//! - zero-filled: `x = Re(Fᴴ y)`;
//! - gradient ascent on log p(y|x) (Landweber, step 1 = 1/‖A‖²), from zero;
//! - TV: min over real x in [0, 1] of ½‖M F x − y‖² + λ TV(x), isotropic TV, by MFISTA (the
//!   monotone FISTA of Beck & Teboulle, IEEE TIP 2009) with their FGP dual solver for the TV
//!   proximal step, warm-started across iterations, run until the objective settles (a fixed
//!   count left some images 0.4 dB short of the optimum). λ is tuned on validation images
//!   (`inference-lab bench --demo mri` prints the tuning), never on test images.

use rustfft::num_complex::Complex64;

use super::sim::{Fourier, Image, Mask};

/// The data term's gradient `Aᴴ(A x − y)` for real x, `A = M F`.
pub fn data_gradient(x: &Image, kspace: &[Complex64], mask: &Mask, fourier: &Fourier) -> Image {
    let mut residual = fourier.measure(x, mask);
    for (r, y) in residual.iter_mut().zip(kspace) {
        *r -= y;
    }
    fourier.adjoint_real(&residual, mask)
}

/// `½‖M F x − y‖²`.
pub fn data_term(x: &Image, kspace: &[Complex64], mask: &Mask, fourier: &Fourier) -> f64 {
    let ax = fourier.measure(x, mask);
    0.5 * ax
        .iter()
        .zip(kspace)
        .zip(&mask.sampled)
        .filter(|(_, s)| **s)
        .map(|((a, y), _)| (a - y).norm_sqr())
        .sum::<f64>()
}

pub fn zero_filled(kspace: &[Complex64], mask: &Mask, fourier: &Fourier) -> Image {
    fourier.adjoint_real(kspace, mask)
}

/// Gradient ascent on log p(y|x): `x ← x − Aᴴ(A x − y)`, from zero (its first iterate is the
/// zero-filled image).
pub fn gradient_ascent(
    kspace: &[Complex64],
    mask: &Mask,
    fourier: &Fourier,
    iterations: usize,
) -> Vec<Image> {
    let mut x = Image::zeros(mask.side);
    let mut trace = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let g = data_gradient(&x, kspace, mask, fourier);
        x.pixels
            .iter_mut()
            .zip(&g.pixels)
            .for_each(|(v, d)| *v -= d);
        trace.push(x.clone());
    }
    trace
}

/// Isotropic total variation with forward differences (zero across the last row/column).
pub fn total_variation(x: &Image) -> f64 {
    let n = x.side;
    let mut tv = 0.0;
    for r in 0..n {
        for c in 0..n {
            let v = x.pixels[r * n + c];
            let dx = if c + 1 < n {
                x.pixels[r * n + c + 1] - v
            } else {
                0.0
            };
            let dy = if r + 1 < n {
                x.pixels[(r + 1) * n + c] - v
            } else {
                0.0
            };
            tv += (dx * dx + dy * dy).sqrt();
        }
    }
    tv
}

/// Settings of the TV reconstruction.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TvSettings {
    pub lambda: f64,
    /// The most MFISTA iterations; fewer once the objective has settled (`tolerance`).
    pub iterations: usize,
    /// FGP iterations per proximal step.
    pub inner_iterations: usize,
    /// Stop once the objective fell by less than this fraction over the last
    /// `SETTLE_WINDOW` iterations (0: run every iteration).
    #[serde(default)]
    pub tolerance: f64,
}

/// Iterations over which the TV objective's decrease is measured for stopping.
const SETTLE_WINDOW: usize = 10;

/// λ tuned on validation phantoms (noise 0.01) by `bench --demo mri`, per acceleration.
pub const TUNED_LAMBDA: [(f64, f64); 2] = [(4.0, 0.002), (8.0, 0.0005)];

impl TvSettings {
    /// The tuned settings for a measurement that samples `1/accel` of k-space
    /// (λ interpolated in log-acceleration between the tuned points).
    pub fn tuned_for(accel: f64) -> Self {
        let (a0, l0) = TUNED_LAMBDA[0];
        let (a1, l1) = TUNED_LAMBDA[1];
        let s = ((accel.ln() - a0.ln()) / (a1.ln() - a0.ln())).clamp(0.0, 1.0);
        Self {
            lambda: (l0.ln() + s * (l1.ln() - l0.ln())).exp(),
            iterations: 300,
            inner_iterations: 15,
            tolerance: 1e-5,
        }
    }
}

/// The final TV estimate with the tuned settings for this mask.
pub fn tv_estimate(kspace: &[Complex64], mask: &Mask, fourier: &Fourier) -> Image {
    let settings = TvSettings::tuned_for(mask.acceleration());
    tv_reconstruct(kspace, mask, fourier, &settings)
        .pop()
        .unwrap_or_else(|| zero_filled(kspace, mask, fourier))
}

pub fn tv_objective(
    x: &Image,
    kspace: &[Complex64],
    mask: &Mask,
    fourier: &Fourier,
    lambda: f64,
) -> f64 {
    data_term(x, kspace, mask, fourier) + lambda * total_variation(x)
}

/// Dual variable of TV: one 2-vector per pixel.
#[derive(Clone)]
struct Dual {
    dx: Vec<f64>,
    dy: Vec<f64>,
}

impl Dual {
    fn zeros(len: usize) -> Self {
        Self {
            dx: vec![0.0; len],
            dy: vec![0.0; len],
        }
    }
}

/// `D x`: forward differences, zero across the last row/column. Row slices, so the loops
/// vectorise (this and its adjoint are most of TV's time).
fn gradient(x: &[f64], n: usize, out: &mut Dual) {
    for r in 0..n {
        let row = &x[r * n..(r + 1) * n];
        let dx = &mut out.dx[r * n..(r + 1) * n];
        for c in 0..n - 1 {
            dx[c] = row[c + 1] - row[c];
        }
        dx[n - 1] = 0.0;
        let dy = &mut out.dy[r * n..(r + 1) * n];
        if r + 1 < n {
            let next = &x[(r + 1) * n..(r + 2) * n];
            for c in 0..n {
                dy[c] = next[c] - row[c];
            }
        } else {
            dy.fill(0.0);
        }
    }
}

/// `Dᵀ p` (minus the divergence); `p` is read only where `D` writes.
fn gradient_adjoint(p: &Dual, n: usize, out: &mut [f64]) {
    for r in 0..n {
        let dx = &p.dx[r * n..(r + 1) * n];
        let o = &mut out[r * n..(r + 1) * n];
        if n == 1 {
            o[0] = 0.0;
        } else {
            o[0] = -dx[0];
            for c in 1..n - 1 {
                o[c] = dx[c - 1] - dx[c];
            }
            o[n - 1] = dx[n - 2];
        }
        if r + 1 < n {
            let dy = &p.dy[r * n..(r + 1) * n];
            for c in 0..n {
                o[c] -= dy[c];
            }
        }
        if r > 0 {
            let above = &p.dy[(r - 1) * n..r * n];
            for c in 0..n {
                o[c] += above[c];
            }
        }
    }
}

/// argmin over x in [0, 1] of ½‖x − b‖² + λ TV(x), by FGP (Beck & Teboulle 2009, with
/// `L(D) = 8`), warm-started from the dual `p`.
fn tv_prox(b: &[f64], n: usize, lambda: f64, iterations: usize, p: &mut Dual) -> Vec<f64> {
    let len = n * n;
    let project = |v: f64| v.clamp(0.0, 1.0);
    if lambda <= 0.0 {
        return b.iter().map(|&v| project(v)).collect();
    }
    let mut r = p.clone();
    let mut t = 1.0f64;
    let mut x = vec![0.0; len];
    let mut dtr = vec![0.0; len];
    let mut grad = Dual::zeros(len);
    let primal = |dual: &Dual, dtr: &mut [f64], x: &mut [f64]| {
        gradient_adjoint(dual, n, dtr);
        for i in 0..len {
            x[i] = project(b[i] - lambda * dtr[i]);
        }
    };
    let step = 1.0 / (8.0 * lambda);
    for _ in 0..iterations {
        primal(&r, &mut dtr, &mut x);
        gradient(&x, n, &mut grad);
        let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        let w = (t - 1.0) / t_next;
        for i in 0..len {
            let px = r.dx[i] + grad.dx[i] * step;
            let py = r.dy[i] + grad.dy[i] * step;
            // sqrt, not hypot: no overflow at these magnitudes, and hypot dominated the run time.
            let scale = 1.0 / (px * px + py * py).sqrt().max(1.0);
            let (new_x, new_y) = (px * scale, py * scale);
            r.dx[i] = new_x + w * (new_x - p.dx[i]);
            r.dy[i] = new_y + w * (new_y - p.dy[i]);
            p.dx[i] = new_x;
            p.dy[i] = new_y;
        }
        t = t_next;
    }
    primal(p, &mut dtr, &mut x);
    x
}

/// TV reconstruction by MFISTA from the zero-filled image; the trace holds every iterate and
/// its objective never rises (the monotone step keeps the better of the new and old point).
pub fn tv_reconstruct(
    kspace: &[Complex64],
    mask: &Mask,
    fourier: &Fourier,
    settings: &TvSettings,
) -> Vec<Image> {
    let n = mask.side;
    let objective = |x: &Image| tv_objective(x, kspace, mask, fourier, settings.lambda);
    let mut x = zero_filled(kspace, mask, fourier).clamped();
    let mut f_x = objective(&x);
    let mut y = x.clone();
    let mut t = 1.0f64;
    let mut dual = Dual::zeros(n * n);
    let mut trace = Vec::with_capacity(settings.iterations);
    let mut objectives = Vec::with_capacity(settings.iterations);
    for _ in 0..settings.iterations {
        // Proximal gradient step from y with step 1/L, L = ‖A‖² = 1.
        let g = data_gradient(&y, kspace, mask, fourier);
        let b: Vec<f64> = y.pixels.iter().zip(&g.pixels).map(|(v, d)| v - d).collect();
        let z = Image {
            side: n,
            pixels: tv_prox(&b, n, settings.lambda, settings.inner_iterations, &mut dual),
        };
        let f_z = objective(&z);
        let previous = x.clone();
        if f_z <= f_x {
            x = z.clone();
            f_x = f_z;
        }
        let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        let (a, b) = (t / t_next, (t - 1.0) / t_next);
        y = Image {
            side: n,
            pixels: (0..n * n)
                .map(|i| {
                    x.pixels[i]
                        + a * (z.pixels[i] - x.pixels[i])
                        + b * (x.pixels[i] - previous.pixels[i])
                })
                .collect(),
        };
        t = t_next;
        trace.push(x.clone());
        objectives.push(f_x);
        if settled(&objectives, settings.tolerance) {
            break;
        }
    }
    trace
}

/// Whether the objective fell by less than `tolerance` (relative) over the last window.
fn settled(objectives: &[f64], tolerance: f64) -> bool {
    let k = objectives.len();
    k > SETTLE_WINDOW
        && objectives[k - 1 - SETTLE_WINDOW] - objectives[k - 1]
            <= tolerance * objectives[k - 1].abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mri::images::phantom;
    use crate::demos::mri::metrics::psnr;
    use crate::demos::mri::sim::{MaskKind, MeasureConfig, simulate};

    fn setup(side: usize, seed: u64) -> (Image, Fourier, Vec<Complex64>, Mask) {
        let truth = phantom(side, seed);
        let fourier = Fourier::new(side);
        let m = simulate(
            &truth,
            &fourier,
            &MeasureConfig {
                seed,
                ..MeasureConfig::new(MaskKind::Cartesian, 4.0)
            },
        )
        .expect("simulate");
        (truth, fourier, m.kspace, m.mask)
    }

    #[test]
    fn data_gradient_matches_finite_differences() {
        let (truth, fourier, y, mask) = setup(12, 1);
        let x = Image {
            side: 12,
            pixels: truth.pixels.iter().map(|v| 0.8 * v + 0.1).collect(),
        };
        let g = data_gradient(&x, &y, &mask, &fourier);
        let h = 1e-6;
        for i in [0, 5, 77, 143] {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus.pixels[i] += h;
            minus.pixels[i] -= h;
            let fd = (data_term(&plus, &y, &mask, &fourier)
                - data_term(&minus, &y, &mask, &fourier))
                / (2.0 * h);
            assert!(
                (fd - g.pixels[i]).abs() < 1e-6,
                "pixel {i}: {fd} vs {}",
                g.pixels[i]
            );
        }
    }

    #[test]
    fn gradient_adjoint_is_the_adjoint_of_the_differences() {
        let n = 7;
        let x: Vec<f64> = (0..n * n).map(|i| ((i * 37) % 11) as f64 / 11.0).collect();
        let p = Dual {
            dx: (0..n * n).map(|i| ((i * 13) % 7) as f64 - 3.0).collect(),
            dy: (0..n * n).map(|i| ((i * 5) % 9) as f64 - 4.0).collect(),
        };
        let mut dx = Dual::zeros(n * n);
        gradient(&x, n, &mut dx);
        let mut dtp = vec![0.0; n * n];
        gradient_adjoint(&p, n, &mut dtp);
        let lhs: f64 = (0..n * n)
            .map(|i| dx.dx[i] * p.dx[i] + dx.dy[i] * p.dy[i])
            .sum();
        let rhs: f64 = x.iter().zip(&dtp).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-9);
    }

    #[test]
    fn tv_lowers_its_objective_every_iteration_and_beats_zero_filling() {
        let (truth, fourier, y, mask) = setup(32, 3);
        let settings = TvSettings {
            lambda: 0.005,
            iterations: 40,
            inner_iterations: 10,
            tolerance: 0.0,
        };
        let trace = tv_reconstruct(&y, &mask, &fourier, &settings);
        let objectives: Vec<f64> = trace
            .iter()
            .map(|x| tv_objective(x, &y, &mask, &fourier, settings.lambda))
            .collect();
        let start = tv_objective(
            &zero_filled(&y, &mask, &fourier).clamped(),
            &y,
            &mask,
            &fourier,
            settings.lambda,
        );
        assert!(objectives[0] <= start);
        assert!(
            objectives.windows(2).all(|w| w[1] <= w[0]),
            "{objectives:?}"
        );
        assert!(objectives[39] < 0.9 * start);
        let zf = zero_filled(&y, &mask, &fourier);
        assert!(psnr(&trace[39], &truth) > psnr(&zf, &truth) + 1.0);
    }

    #[test]
    fn tv_stops_once_its_objective_has_settled() {
        let (_, fourier, y, mask) = setup(32, 5);
        let long = TvSettings {
            lambda: 0.003,
            iterations: 600,
            inner_iterations: 15,
            tolerance: 0.0,
        };
        let settled = TvSettings {
            tolerance: 1e-5,
            ..long
        };
        let objective = |trace: Vec<Image>| {
            tv_objective(&trace[trace.len() - 1], &y, &mask, &fourier, long.lambda)
        };
        let early = tv_reconstruct(&y, &mask, &fourier, &settled);
        assert!(early.len() > SETTLE_WINDOW && early.len() < long.iterations);
        let (f_early, f_long) = (
            objective(early),
            objective(tv_reconstruct(&y, &mask, &fourier, &long)),
        );
        assert!(f_early - f_long <= 1e-3 * f_long, "{f_early} vs {f_long}");
    }

    #[test]
    fn tv_prox_solves_the_denoising_problem() {
        // The prox's result beats small perturbations of itself on ½‖x − b‖² + λ TV(x).
        let n = 10;
        let b: Vec<f64> = (0..n * n)
            .map(|i| if (i % n) < 5 { 0.2 } else { 0.8 } + 0.1 * (((i * 7) % 5) as f64 - 2.0) / 2.0)
            .collect();
        let lambda = 0.05;
        let mut dual = Dual::zeros(n * n);
        let x = tv_prox(&b, n, lambda, 500, &mut dual);
        let cost = |x: &[f64]| {
            0.5 * x.iter().zip(&b).map(|(a, c)| (a - c).powi(2)).sum::<f64>()
                + lambda
                    * total_variation(&Image {
                        side: n,
                        pixels: x.to_vec(),
                    })
        };
        let best = cost(&x);
        for i in 0..n * n {
            for d in [-1e-3, 1e-3] {
                let mut moved = x.clone();
                moved[i] = (moved[i] + d).clamp(0.0, 1.0);
                assert!(cost(&moved) >= best - 1e-7, "pixel {i}");
            }
        }
    }

    #[test]
    fn gradient_ascent_starts_at_zero_filling_and_fits_the_data() {
        let (_, fourier, y, mask) = setup(16, 4);
        let trace = gradient_ascent(&y, &mask, &fourier, 5);
        let zf = zero_filled(&y, &mask, &fourier);
        assert!(
            trace[0]
                .pixels
                .iter()
                .zip(&zf.pixels)
                .all(|(a, b)| (a - b).abs() < 1e-12)
        );
        let fits: Vec<f64> = trace
            .iter()
            .map(|x| data_term(x, &y, &mask, &fourier))
            .collect();
        assert!(fits.windows(2).all(|w| w[1] <= w[0] + 1e-12));
    }
}
