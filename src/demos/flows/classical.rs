//! The classical density estimate: a Gaussian mixture with full covariances fitted by EM
//! (Dempster, Laird & Rubin 1977), started as scikit-learn's `GaussianMixture` starts it (k-means
//! from k-means++ seeds, then one M-step on the hard assignment), stopped the same way (the mean
//! log-likelihood moves by less than 1e-3, at most 100 iterations, 1e-6 added to each
//! covariance's diagonal), the best of several starts kept. Every iteration is kept, so that the
//! panel can scrub through EM.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::sim::{Point, log_mean_exp};

/// scikit-learn's defaults.
pub const TOLERANCE: f64 = 1e-3;
pub const MAX_ITERATIONS: usize = 100;
pub const COVARIANCE_FLOOR: f64 = 1e-6;
const KMEANS_ITERATIONS: usize = 300;
const KMEANS_TOLERANCE: f64 = 1e-4;

/// One component: weight, mean and the covariance's entries (xx, xy, yy).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Component {
    pub weight: f64,
    pub mean: Point,
    pub covariance: [f64; 3],
}

impl Component {
    /// ln(w · N(x; μ, Σ)).
    fn log_weighted(&self, x: Point) -> f64 {
        let [a, b, c] = self.covariance;
        let det = (a * c - b * b).max(f64::MIN_POSITIVE);
        let (dx, dy) = (x[0] - self.mean[0], x[1] - self.mean[1]);
        let quad = (c * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det;
        self.weight.ln() - 0.5 * quad - 0.5 * det.ln() - std::f64::consts::TAU.ln()
    }

    /// A draw from this component.
    fn draw(&self, rng: &mut StdRng) -> Point {
        use rand_distr::{Distribution, StandardNormal};
        let [a, b, c] = self.covariance;
        // Cholesky of [[a, b], [b, c]].
        let l11 = a.sqrt();
        let l21 = b / l11;
        let l22 = (c - l21 * l21).max(0.0).sqrt();
        let (u, v): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
        [self.mean[0] + l11 * u, self.mean[1] + l21 * u + l22 * v]
    }
}

/// A Gaussian mixture.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mixture {
    pub components: Vec<Component>,
}

impl Mixture {
    /// A mixture read from a file: 1 to 64 components, positive weights summing to 1, finite
    /// means, positive-definite covariances.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=64).contains(&self.components.len()) {
            return Err(format!(
                "{} components: a mixture has 1 to 64",
                self.components.len()
            ));
        }
        let total: f64 = self.components.iter().map(|c| c.weight).sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(format!("the weights sum to {total}, not 1"));
        }
        for (k, c) in self.components.iter().enumerate() {
            let [a, b, d] = c.covariance;
            let finite = c.mean.iter().chain(&c.covariance).all(|v| v.is_finite());
            let positive = c.weight > 0.0 && a > 0.0 && d > 0.0 && a * d - b * b > 0.0;
            if !(finite && positive) {
                return Err(format!(
                    "component {k}: needs a positive weight, a finite mean and a \
                     positive-definite covariance"
                ));
            }
        }
        Ok(())
    }

    /// ln p(x).
    pub fn log_density(&self, x: Point) -> f64 {
        let terms: Vec<f64> = self.components.iter().map(|c| c.log_weighted(x)).collect();
        // log Σ exp = log mean exp + ln K.
        log_mean_exp(terms.iter().copied()) + (terms.len() as f64).ln()
    }

    /// The mean of ln p over `points`.
    pub fn mean_log_density(&self, points: &[Point]) -> f64 {
        points.iter().map(|&p| self.log_density(p)).sum::<f64>() / points.len().max(1) as f64
    }

    /// `n` draws.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<Point> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let mut u = rng.random::<f64>();
                let last = self.components.len() - 1;
                let k = self
                    .components
                    .iter()
                    .position(|c| {
                        u -= c.weight;
                        u < 0.0
                    })
                    .unwrap_or(last);
                self.components[k].draw(&mut rng)
            })
            .collect()
    }

    /// The M-step: weights, means and covariances from responsibilities `r[i][k]`.
    fn maximize(points: &[Point], responsibilities: &[Vec<f64>], components: usize) -> Self {
        let n = points.len() as f64;
        let components = (0..components)
            .map(|k| {
                let mass: f64 = responsibilities.iter().map(|r| r[k]).sum::<f64>() + 1e-10;
                let mut mean = [0.0; 2];
                for (p, r) in points.iter().zip(responsibilities) {
                    mean[0] += r[k] * p[0];
                    mean[1] += r[k] * p[1];
                }
                mean = [mean[0] / mass, mean[1] / mass];
                let mut cov = [0.0; 3];
                for (p, r) in points.iter().zip(responsibilities) {
                    let (dx, dy) = (p[0] - mean[0], p[1] - mean[1]);
                    cov[0] += r[k] * dx * dx;
                    cov[1] += r[k] * dx * dy;
                    cov[2] += r[k] * dy * dy;
                }
                Component {
                    weight: mass / n,
                    mean,
                    covariance: [
                        cov[0] / mass + COVARIANCE_FLOOR,
                        cov[1] / mass,
                        cov[2] / mass + COVARIANCE_FLOOR,
                    ],
                }
            })
            .collect();
        Self { components }
    }

    /// The E-step: each point's responsibilities and the mean log-likelihood.
    fn expect(&self, points: &[Point]) -> (Vec<Vec<f64>>, f64) {
        let mut total = 0.0;
        let responsibilities = points
            .iter()
            .map(|&p| {
                let logs: Vec<f64> = self.components.iter().map(|c| c.log_weighted(p)).collect();
                let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
                let sum: f64 = weights.iter().sum();
                total += top + sum.ln();
                weights.into_iter().map(|w| w / sum).collect()
            })
            .collect();
        (responsibilities, total / points.len().max(1) as f64)
    }
}

/// One EM run: the mixture after each iteration and its mean training log-likelihood.
#[derive(Clone, Debug)]
pub struct EmTrace {
    pub mixtures: Vec<Mixture>,
    pub log_likelihoods: Vec<f64>,
}

impl EmTrace {
    pub fn last(&self) -> &Mixture {
        self.mixtures.last().expect("EM keeps at least its start")
    }

    pub fn final_log_likelihood(&self) -> f64 {
        self.log_likelihoods
            .last()
            .copied()
            .unwrap_or(f64::NEG_INFINITY)
    }
}

/// Why a fit cannot run.
pub fn check(points: &[Point], components: usize) -> Result<(), String> {
    if !(1..=64).contains(&components) {
        return Err(format!("components {components} must be in 1..=64"));
    }
    if points.len() < 2 * components.max(1) {
        return Err(format!(
            "{} points are too few for {components} components (at least {})",
            points.len(),
            2 * components
        ));
    }
    if points.iter().flatten().any(|v| !v.is_finite()) {
        return Err("a point is not finite".into());
    }
    Ok(())
}

/// Greedy k-means++ seeds (Arthur & Vassilvitskii 2007, as scikit-learn runs it): each new
/// centre is the best, by the summed squared distance it leaves, of 2 + ⌊ln k⌋ candidates drawn
/// in proportion to the squared distance to the nearest centre.
fn plus_plus(points: &[Point], k: usize, rng: &mut StdRng) -> Vec<Point> {
    let distance = |a: Point, b: Point| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centres = vec![points[rng.random_range(0..points.len())]];
    let mut nearest: Vec<f64> = points.iter().map(|&p| distance(p, centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let draw = |rng: &mut StdRng| {
            if total <= 0.0 {
                return rng.random_range(0..points.len());
            }
            let mut u = rng.random::<f64>() * total;
            nearest
                .iter()
                .position(|&d| {
                    u -= d;
                    u <= 0.0
                })
                .unwrap_or(points.len() - 1)
        };
        let candidates: Vec<usize> = (0..trials).map(|_| draw(rng)).collect();
        let (best, best_nearest) = candidates
            .into_iter()
            .map(|c| {
                let updated: Vec<f64> = nearest
                    .iter()
                    .zip(points)
                    .map(|(&d, &p)| d.min(distance(p, points[c])))
                    .collect();
                (c, updated)
            })
            .min_by(|a, b| a.1.iter().sum::<f64>().total_cmp(&b.1.iter().sum::<f64>()))
            .expect("at least two candidates");
        centres.push(points[best]);
        nearest = best_nearest;
    }
    centres
}

/// The nearest centre of each point.
fn assign(points: &[Point], centres: &[Point]) -> Vec<usize> {
    points
        .iter()
        .map(|p| {
            (0..centres.len())
                .min_by(|&a, &b| {
                    let da = (p[0] - centres[a][0]).powi(2) + (p[1] - centres[a][1]).powi(2);
                    let db = (p[0] - centres[b][0]).powi(2) + (p[1] - centres[b][1]).powi(2);
                    da.total_cmp(&db)
                })
                .unwrap_or(0)
        })
        .collect()
}

/// Lloyd's k-means from k-means++ seeds, stopped as scikit-learn's `KMeans`: when the centres
/// move (summed squared shift) by less than 1e-4 × the data's mean variance per coordinate, or
/// when no label changes; returns each point's cluster.
fn kmeans(points: &[Point], k: usize, rng: &mut StdRng) -> Vec<usize> {
    let n = points.len() as f64;
    let mean = [0, 1].map(|d| points.iter().map(|p| p[d]).sum::<f64>() / n);
    let variance = [0, 1].map(|d| points.iter().map(|p| (p[d] - mean[d]).powi(2)).sum::<f64>() / n);
    let tolerance = KMEANS_TOLERANCE * 0.5 * (variance[0] + variance[1]);
    let mut centres = plus_plus(points, k, rng);
    let mut labels = assign(points, &centres);
    for _ in 0..KMEANS_ITERATIONS {
        let mut sums = vec![[0.0, 0.0, 0.0]; k];
        for (&label, p) in labels.iter().zip(points) {
            sums[label][0] += p[0];
            sums[label][1] += p[1];
            sums[label][2] += 1.0;
        }
        let mut shift = 0.0;
        for (centre, sum) in centres.iter_mut().zip(&sums) {
            if sum[2] > 0.0 {
                let moved = [sum[0] / sum[2], sum[1] / sum[2]];
                shift += (moved[0] - centre[0]).powi(2) + (moved[1] - centre[1]).powi(2);
                *centre = moved;
            }
        }
        let next = assign(points, &centres);
        let unchanged = next == labels;
        labels = next;
        if unchanged || shift <= tolerance {
            break;
        }
    }
    labels
}

/// EM from one k-means start.
pub fn em(points: &[Point], components: usize, seed: u64) -> EmTrace {
    let mut rng = StdRng::seed_from_u64(seed);
    let labels = kmeans(points, components, &mut rng);
    let hard: Vec<Vec<f64>> = labels
        .iter()
        .map(|&l| {
            (0..components)
                .map(|k| f64::from(u8::from(k == l)))
                .collect()
        })
        .collect();
    let mut mixture = Mixture::maximize(points, &hard, components);
    let (mut responsibilities, mut log_likelihood) = mixture.expect(points);
    let mut trace = EmTrace {
        mixtures: vec![mixture.clone()],
        log_likelihoods: vec![log_likelihood],
    };
    for _ in 0..MAX_ITERATIONS {
        mixture = Mixture::maximize(points, &responsibilities, components);
        let (next, value) = mixture.expect(points);
        trace.mixtures.push(mixture.clone());
        trace.log_likelihoods.push(value);
        let change = value - log_likelihood;
        responsibilities = next;
        log_likelihood = value;
        if change.abs() < TOLERANCE {
            break;
        }
    }
    trace
}

/// The best of `starts` EM runs by training log-likelihood (scikit-learn's `n_init`).
/// Each start's seed is drawn from `seed`, so that fits under nearby seeds share no start.
pub fn fit(points: &[Point], components: usize, starts: usize, seed: u64) -> EmTrace {
    let mut seeds = StdRng::seed_from_u64(seed);
    (0..starts.max(1))
        .map(|_| em(points, components, seeds.random()))
        .max_by(|a, b| {
            a.final_log_likelihood()
                .total_cmp(&b.final_log_likelihood())
        })
        .expect("at least one start")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::flows::sim::Dataset;

    #[test]
    fn em_never_lowers_the_likelihood() {
        for dataset in Dataset::ALL {
            let points = dataset.sample(600, 3);
            let trace = em(&points, 8, 1);
            for pair in trace.log_likelihoods.windows(2) {
                assert!(pair[1] >= pair[0] - 1e-9, "{dataset:?}: {pair:?}");
            }
        }
    }

    #[test]
    fn em_recovers_a_mixture_it_was_given() {
        let truth = Mixture {
            components: vec![
                Component {
                    weight: 0.3,
                    mean: [-2.0, 0.0],
                    covariance: [0.5, 0.2, 0.4],
                },
                Component {
                    weight: 0.7,
                    mean: [2.0, 1.0],
                    covariance: [0.3, -0.1, 0.6],
                },
            ],
        };
        let points = truth.sample(20_000, 5);
        let fitted = fit(&points, 2, 3, 7);
        let mut found = fitted.last().components.clone();
        found.sort_by(|a, b| a.mean[0].total_cmp(&b.mean[0]));
        for (f, t) in found.iter().zip(&truth.components) {
            assert!((f.weight - t.weight).abs() < 0.02, "{f:?} vs {t:?}");
            for (a, b) in f.mean.iter().zip(&t.mean) {
                assert!((a - b).abs() < 0.05, "{f:?} vs {t:?}");
            }
            for (a, b) in f.covariance.iter().zip(&t.covariance) {
                assert!((a - b).abs() < 0.05, "{f:?} vs {t:?}");
            }
        }
    }

    #[test]
    fn a_mixture_density_integrates_to_one() {
        let points = Dataset::Eightgaussians.sample(1000, 2);
        let mixture = fit(&points, 8, 1, 0).last().clone();
        let (half, cells) = (6.0, 300);
        let h = 2.0 * half / cells as f64;
        let mut mass = 0.0;
        for i in 0..cells {
            for j in 0..cells {
                let x = [-half + (i as f64 + 0.5) * h, -half + (j as f64 + 0.5) * h];
                mass += mixture.log_density(x).exp() * h * h;
            }
        }
        assert!((mass - 1.0).abs() < 1e-3, "{mass}");
    }
}
