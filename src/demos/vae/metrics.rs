//! The quantities every method is scored against: log p(x) and the exact posterior by
//! quadrature on a grid (2-D latents), log p(x) by importance sampling (any latent), and the
//! spreads of the gaps.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::classical::{ForwardModel, GRID_CHUNK, Gaussians};

/// A uniform grid over z ∈ [−half_width, half_width]² for the exact posterior.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Grid {
    pub half_width: f64,
    pub spacing: f64,
}

impl Grid {
    /// The oracle's grid: z ∈ [−6, 6]², spacing 0.03 (401² points; bench checks that halving
    /// the spacing moves log p(x) by < 0.01 nats).
    pub const EXACT: Grid = Grid {
        half_width: 6.0,
        spacing: 0.03,
    };

    pub fn side(&self) -> usize {
        (2.0 * self.half_width / self.spacing).round() as usize + 1
    }

    pub fn coordinate(&self, index: usize) -> f64 {
        -self.half_width + index as f64 * self.spacing
    }

    /// The same box with half the spacing.
    pub fn halved(&self) -> Self {
        Self {
            half_width: self.half_width,
            spacing: self.spacing / 2.0,
        }
    }
}

/// The exact posterior of one image.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Exact {
    pub log_px: f64,
    pub mean: [f64; 2],
    pub std: [f64; 2],
    /// Correlation of z₁ and z₂ under p(z|x).
    pub correlation: f64,
    /// Posterior mass within one grid step of the box's edge (should be ~0).
    pub edge_mass: f64,
}

impl Exact {
    /// The exact posterior's mean and log-std as a diagonal Gaussian (what `infer --method
    /// exact` writes).
    pub fn as_gaussian(&self) -> (Vec<f32>, Vec<f32>) {
        (
            self.mean.iter().map(|&m| m as f32).collect(),
            self.std.iter().map(|&s| s.ln() as f32).collect(),
        )
    }
}

/// Running sums of one image's posterior over grid points, in log space.
#[derive(Clone)]
struct Accumulator {
    max: f64,
    sums: [f64; 7],
}

impl Accumulator {
    fn new() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sums: [0.0; 7],
        }
    }

    fn add(&mut self, log_weight: f64, z: [f64; 2], edge: bool) {
        if log_weight > self.max {
            let scale = (self.max - log_weight).exp();
            for s in &mut self.sums {
                *s *= scale;
            }
            self.max = log_weight;
        }
        let w = (log_weight - self.max).exp();
        let terms = [
            1.0,
            z[0],
            z[1],
            z[0] * z[0],
            z[1] * z[1],
            z[0] * z[1],
            if edge { 1.0 } else { 0.0 },
        ];
        for (s, t) in self.sums.iter_mut().zip(terms) {
            *s += w * t;
        }
    }

    fn finish(&self, area: f64) -> Exact {
        let s = &self.sums;
        let mean = [s[1] / s[0], s[2] / s[0]];
        let var = [
            (s[3] / s[0] - mean[0] * mean[0]).max(1e-300),
            (s[4] / s[0] - mean[1] * mean[1]).max(1e-300),
        ];
        let cov = s[5] / s[0] - mean[0] * mean[1];
        Exact {
            log_px: self.max + s[0].ln() + area.ln(),
            mean,
            std: [var[0].sqrt(), var[1].sqrt()],
            correlation: cov / (var[0] * var[1]).sqrt(),
            edge_mass: s[6] / s[0],
        }
    }
}

/// log p(z) of the standard normal in 2-D.
fn log_prior(z: &[f64; 2]) -> f64 {
    -0.5 * (z[0] * z[0] + z[1] * z[1]) - (2.0 * std::f64::consts::PI).ln()
}

/// The exact posterior of every image on `grid` (a 2-D model only). With `density`, also each
/// image's log p(x, z) at every grid point (row-major, z₂ the row), for the heat map.
pub fn exact_posteriors(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    grid: &Grid,
    mut density: Option<&mut Vec<Vec<f32>>>,
    stop: &dyn Fn() -> bool,
) -> Option<Vec<Exact>> {
    let side = grid.side();
    let points: Vec<[f64; 2]> = (0..side * side)
        .map(|i| [grid.coordinate(i % side), grid.coordinate(i / side)])
        .collect();
    let mut acc = vec![Accumulator::new(); images.len()];
    if let Some(d) = density.as_deref_mut() {
        *d = vec![Vec::with_capacity(points.len()); images.len()];
    }
    let on_edge = |z: &[f64; 2]| {
        z.iter()
            .any(|c| c.abs() > grid.half_width - grid.spacing * 1.5)
    };
    for chunk in points.chunks(GRID_CHUNK) {
        if stop() {
            return None;
        }
        let z: Vec<Vec<f32>> = chunk
            .iter()
            .map(|p| vec![p[0] as f32, p[1] as f32])
            .collect();
        let log_lik = model.log_lik(images, &z);
        for (n, (a, row)) in acc.iter_mut().zip(&log_lik).enumerate() {
            for (p, ll) in chunk.iter().zip(row) {
                let joint = ll + log_prior(p);
                a.add(joint, *p, on_edge(p));
                if let Some(d) = density.as_deref_mut() {
                    d[n].push(joint as f32);
                }
            }
        }
    }
    let area = grid.spacing * grid.spacing;
    Some(acc.iter().map(|a| a.finish(area)).collect())
}

/// log p(x) by importance sampling from `proposal` (its σ widened by `widen`), `samples` draws
/// per image: log (1/S) Σ p(x, z_s) / r(z_s).
pub fn importance_log_px(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    proposal: &Gaussians,
    samples: usize,
    widen: f64,
    seed: u64,
) -> Vec<f64> {
    let latent = proposal.latent();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let batch = 1000.min(samples).max(1);
    images
        .iter()
        .enumerate()
        .map(|(n, image)| {
            let mut log_terms = Vec::with_capacity(samples);
            let mut done = 0;
            while done < samples {
                let count = batch.min(samples - done);
                let mut z = Vec::with_capacity(count);
                let mut log_ratio = Vec::with_capacity(count);
                for _ in 0..count {
                    let mut point = Vec::with_capacity(latent);
                    let mut log_r_minus_prior = 0.0;
                    for d in 0..latent {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        let s = f64::from(proposal.log_sigma[n][d]).exp() * widen;
                        let v = f64::from(proposal.mu[n][d]) + s * e;
                        point.push(v as f32);
                        // log r(z) − log p(z), per dimension.
                        log_r_minus_prior += -0.5 * e * e - s.ln() + 0.5 * v * v;
                    }
                    z.push(point);
                    log_ratio.push(-log_r_minus_prior);
                }
                let ll = model.log_lik(std::slice::from_ref(image), &z);
                log_terms.extend(ll[0].iter().zip(&log_ratio).map(|(l, r)| l + r));
                done += count;
            }
            log_sum_exp(&log_terms) - (samples as f64).ln()
        })
        .collect()
}

pub fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::vae::classical::testing::{LinearGaussian, X, random_decoder};
    use crate::demos::vae::classical::{Decoder, Gaussians, hermite_nodes};
    use burn::tensor::Device;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn quadrature_matches_the_closed_form_of_a_linear_gaussian_decoder() {
        let model = LinearGaussian::example();
        let (mean, precision, log_px) = model.exact(&X);
        let cov = precision.try_inverse().expect("inv");
        let exact = exact_posteriors(&model, &[X.to_vec()], &Grid::EXACT, None, &|| false)
            .expect("ran")
            .remove(0);
        assert!(
            (exact.log_px - log_px).abs() < 1e-6,
            "{} vs {log_px}",
            exact.log_px
        );
        for d in 0..2 {
            assert!((exact.mean[d] - mean[d]).abs() < 1e-6);
            assert!((exact.std[d] - cov[(d, d)].sqrt()).abs() < 1e-6);
        }
        let corr = cov[(0, 1)] / (cov[(0, 0)] * cov[(1, 1)]).sqrt();
        assert!((exact.correlation - corr).abs() < 1e-6);
        assert!(exact.edge_mass < 1e-12);
    }

    #[test]
    fn importance_sampling_estimates_log_px() {
        let model = LinearGaussian::example();
        let (mean, precision, log_px) = model.exact(&X);
        let proposal = Gaussians {
            mu: vec![mean.iter().map(|&v| v as f32).collect()],
            log_sigma: vec![
                (0..2)
                    .map(|d| (-0.5 * precision[(d, d)].ln()) as f32)
                    .collect(),
            ],
        };
        let estimate = importance_log_px(&model, &[X.to_vec()], &proposal, 10_000, 1.2, 7)[0];
        assert!((estimate - log_px).abs() < 0.01, "{estimate} vs {log_px}");
    }

    #[test]
    fn every_elbo_is_below_log_px_on_random_decoders() {
        let device = Device::flex();
        for seed in 0..3 {
            let (net, images) = random_decoder(seed);
            let decoder = Decoder {
                net: &net,
                latent: 2,
                device: &device,
            };
            let exact =
                exact_posteriors(&decoder, &images, &Grid::EXACT, None, &|| false).expect("ran");
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed + 10);
            for _ in 0..5 {
                let q = Gaussians {
                    mu: (0..3)
                        .map(|_| {
                            vec![
                                StandardNormal.sample(&mut rng),
                                StandardNormal.sample(&mut rng),
                            ]
                        })
                        .collect(),
                    log_sigma: (0..3).map(|_| vec![-1.0, -0.5]).collect(),
                };
                let elbos = decoder.elbos(&images, &q, &hermite_nodes(2, 16));
                for (e, x) in elbos.iter().zip(&exact) {
                    assert!(
                        *e <= x.log_px + 1e-3,
                        "ELBO {e} above log p(x) {}",
                        x.log_px
                    );
                }
            }
            // The exact posterior's own Gaussian comes closest.
            let (mu, log_sigma) = exact.iter().map(Exact::as_gaussian).unzip();
            let best = decoder.elbos(&images, &Gaussians { mu, log_sigma }, &hermite_nodes(2, 16));
            for (e, x) in best.iter().zip(&exact) {
                assert!(
                    *e <= x.log_px + 1e-3 && x.log_px - e < 5.0,
                    "{e} vs {}",
                    x.log_px
                );
            }
        }
    }
}
