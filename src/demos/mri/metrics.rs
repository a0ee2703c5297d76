//! Image quality against the truth, on the images' fixed [0, 1] scale (data range 1, never
//! normalised per image):
//! - PSNR = 10 log10(1 / MSE) dB;
//! - NMSE = ‖x̂ − x‖² / ‖x‖² (fastMRI's);
//! - SSIM after Wang et al. (2004) as scikit-image computes it by default: 7×7 uniform windows,
//!   K1 = 0.01, K2 = 0.03, sample (N−1) variances, the mean over every window that lies wholly
//!   inside the image (`structural_similarity(x, x̂, data_range=1)`).

use super::sim::Image;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Quality {
    pub psnr: f64,
    pub ssim: f64,
    pub nmse: f64,
}

pub fn quality(estimate: &Image, truth: &Image) -> Quality {
    Quality {
        psnr: psnr(estimate, truth),
        ssim: ssim(estimate, truth),
        nmse: nmse(estimate, truth),
    }
}

pub fn mse(estimate: &Image, truth: &Image) -> f64 {
    let n = truth.pixels.len().max(1) as f64;
    estimate
        .pixels
        .iter()
        .zip(&truth.pixels)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / n
}

pub fn psnr(estimate: &Image, truth: &Image) -> f64 {
    -10.0 * mse(estimate, truth).log10()
}

pub fn nmse(estimate: &Image, truth: &Image) -> f64 {
    let energy: f64 = truth.pixels.iter().map(|v| v * v).sum();
    mse(estimate, truth) * truth.pixels.len() as f64 / energy.max(1e-300)
}

const SSIM_WINDOW: usize = 7;

pub fn ssim(estimate: &Image, truth: &Image) -> f64 {
    let side = truth.side;
    if side < SSIM_WINDOW {
        return f64::NAN;
    }
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let n = (SSIM_WINDOW * SSIM_WINDOW) as f64;
    let cov_norm = n / (n - 1.0);
    let (x, y) = (&truth.pixels, &estimate.pixels);
    let mut total = 0.0;
    let mut count = 0usize;
    for r0 in 0..=side - SSIM_WINDOW {
        for c0 in 0..=side - SSIM_WINDOW {
            let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for r in r0..r0 + SSIM_WINDOW {
                for c in c0..c0 + SSIM_WINDOW {
                    let (a, b) = (x[r * side + c], y[r * side + c]);
                    sx += a;
                    sy += b;
                    sxx += a * a;
                    syy += b * b;
                    sxy += a * b;
                }
            }
            let (ux, uy) = (sx / n, sy / n);
            let vx = cov_norm * (sxx / n - ux * ux);
            let vy = cov_norm * (syy / n - uy * uy);
            let vxy = cov_norm * (sxy / n - ux * uy);
            total += ((2.0 * ux * uy + c1) * (2.0 * vxy + c2))
                / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            count += 1;
        }
    }
    total / count as f64
}

/// How many iterations (1-based) an iterative method's `trace` of scores takes to first reach
/// `target` (higher is better); `None` if it never does.
pub fn iterations_to_reach(trace: &[f64], target: f64) -> Option<usize> {
    trace.iter().position(|&v| v >= target).map(|k| k + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterations_to_reach_counts_from_one_and_says_never() {
        let trace = [20.0, 24.0, 26.5, 26.4, 27.0];
        assert_eq!(iterations_to_reach(&trace, 19.0), Some(1));
        assert_eq!(iterations_to_reach(&trace, 26.5), Some(3));
        assert_eq!(iterations_to_reach(&trace, 26.8), Some(5));
        assert_eq!(iterations_to_reach(&trace, 30.0), None);
    }

    fn constant(side: usize, v: f64) -> Image {
        Image {
            side,
            pixels: vec![v; side * side],
        }
    }

    #[test]
    fn psnr_and_nmse_match_hand_computed_values() {
        let truth = constant(8, 0.5);
        let off = constant(8, 0.6);
        // MSE 0.01 → 20 dB; NMSE 0.01 / 0.25.
        assert!((psnr(&off, &truth) - 20.0).abs() < 1e-9);
        assert!((nmse(&off, &truth) - 0.04).abs() < 1e-12);
        assert!(psnr(&truth, &truth).is_infinite());
    }

    #[test]
    fn ssim_matches_hand_computed_values() {
        let a = constant(9, 0.2);
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-12);
        // Constant images: only the luminance term is left, (2ab + C1) / (a² + b² + C1).
        let b = constant(9, 0.6);
        let c1 = 1e-4;
        let expected = (2.0 * 0.2 * 0.6 + c1) / (0.04 + 0.36 + c1);
        assert!((ssim(&b, &a) - expected).abs() < 1e-12);
        // A 7×7 checkerboard against its negative: means equal (24·1 + 25·0)/49 vs 25/49,
        // variances and covariance by hand with the 49/48 sample correction.
        let board = |flip: bool| Image {
            side: 7,
            pixels: (0..49)
                .map(|i| f64::from(u8::from(((i / 7 + i % 7) % 2 == 0) ^ flip)))
                .collect(),
        };
        let (x, y) = (board(false), board(true));
        let (ux, uy) = (25.0 / 49.0, 24.0 / 49.0);
        let vx = 49.0 / 48.0 * (ux - ux * ux);
        let vy = 49.0 / 48.0 * (uy - uy * uy);
        let vxy = 49.0 / 48.0 * (0.0 - ux * uy);
        let c2 = 9e-4;
        let expected =
            ((2.0 * ux * uy + c1) * (2.0 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        assert!((ssim(&y, &x) - expected).abs() < 1e-12);
        assert!(expected < -0.9);
    }
}
