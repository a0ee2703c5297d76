//! The quantities every method is scored against: log p(x) and the exact posterior by
//! quadrature on a grid (2-D latents), log p(x) by importance sampling (any latent), and the
//! spreads of the gaps.

use rand::{Rng, RngExt, SeedableRng};
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

/// Importance sampling's proposal for one batch of images: a defensive mixture (Hesterberg
/// 1995) of the fits' q's, their σ widened by `widen`, in equal shares, and the prior N(0, I)
/// with share `prior_share`, so that a mode no fit found still gets draws and no ratio
/// p(x, z)/r(z) can blow up in the tails.
pub struct Proposal<'a> {
    /// One or more q's for every image (e.g. the per-image fit's restarts).
    pub fits: &'a [Gaussians],
    pub widen: f64,
    pub prior_share: f64,
}

impl Proposal<'_> {
    /// The mixture used by the bench and the 16-D panel's log p(x): 1.2× widened fits, 10% prior.
    pub fn defensive(fits: &[Gaussians]) -> Proposal<'_> {
        Proposal {
            fits,
            widen: 1.2,
            prior_share: 0.1,
        }
    }

    /// One draw z for image `n` and log r(z) − log p(z).
    fn draw(&self, n: usize, latent: usize, rng: &mut impl Rng) -> (Vec<f32>, f64) {
        let k = self.fits.len();
        let pick = rng.random::<f64>();
        let scale = |q: &Gaussians, d: usize| f64::from(q.log_sigma[n][d]).exp() * self.widen;
        let z: Vec<f64> = if k == 0 || pick < self.prior_share {
            (0..latent).map(|_| StandardNormal.sample(rng)).collect()
        } else {
            let index = (((pick - self.prior_share) / (1.0 - self.prior_share)) * k as f64)
                .floor()
                .min(k as f64 - 1.0) as usize;
            let q = &self.fits[index];
            (0..latent)
                .map(|d| {
                    let e: f64 = StandardNormal.sample(rng);
                    f64::from(q.mu[n][d]) + scale(q, d) * e
                })
                .collect()
        };
        let log_prior: f64 = z.iter().map(|v| -0.5 * v * v).sum();
        let fit_share = if k == 0 { 0.0 } else { 1.0 - self.prior_share };
        // log N(z; μ, s²) − log N(z; 0, I): the 2π terms cancel.
        let mut terms = vec![(1.0 - fit_share).ln() + log_prior];
        for q in self.fits {
            let log_density: f64 = (0..latent)
                .map(|d| {
                    let s = scale(q, d);
                    let e = (z[d] - f64::from(q.mu[n][d])) / s;
                    -0.5 * e * e - s.ln()
                })
                .sum();
            terms.push((fit_share / k as f64).ln() + log_density);
        }
        let log_r_minus_prior = log_sum_exp(&terms) - log_prior;
        (z.iter().map(|&v| v as f32).collect(), log_r_minus_prior)
    }
}

/// log p(x) by importance sampling from `proposal`, `samples` draws per image:
/// log (1/S) Σ p(x, z_s) / r(z_s) (Burda et al.'s estimate; a lower bound in expectation).
pub fn importance_log_px(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    proposal: &Proposal,
    samples: usize,
    seed: u64,
) -> Vec<f64> {
    let latent = model.latent();
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
                let (z, log_ratio): (Vec<Vec<f32>>, Vec<f64>) = (0..count)
                    .map(|_| proposal.draw(n, latent, &mut rng))
                    .unzip();
                let ll = model.log_lik(std::slice::from_ref(image), &z);
                log_terms.extend(ll[0].iter().zip(&log_ratio).map(|(l, r)| l - r));
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
        let fits = [proposal];
        let estimate = importance_log_px(
            &model,
            &[X.to_vec()],
            &Proposal::defensive(&fits),
            10_000,
            7,
        )[0];
        assert!((estimate - log_px).abs() < 0.01, "{estimate} vs {log_px}");
    }

    #[test]
    fn a_mixture_proposal_with_a_wrong_mode_and_the_prior_stays_unbiased() {
        // A mixture's density must be weighed right: one fit on the posterior, one far from it.
        let model = LinearGaussian::example();
        let (mean, precision, log_px) = model.exact(&X);
        let on = Gaussians {
            mu: vec![mean.iter().map(|&v| v as f32).collect()],
            log_sigma: vec![
                (0..2)
                    .map(|d| (-0.5 * precision[(d, d)].ln()) as f32)
                    .collect(),
            ],
        };
        let off = Gaussians {
            mu: vec![vec![3.0, -3.0]],
            log_sigma: vec![vec![-1.0, -1.0]],
        };
        let fits = [on, off];
        let proposal = Proposal {
            fits: &fits,
            widen: 1.2,
            prior_share: 0.2,
        };
        let estimate = importance_log_px(&model, &[X.to_vec()], &proposal, 20_000, 11)[0];
        assert!((estimate - log_px).abs() < 0.02, "{estimate} vs {log_px}");
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
