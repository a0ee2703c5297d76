//! The 2-D data (pure and seeded): the toy densities of the SurVAE flows code
//! (`didriknielsen/survae_flows`, `experiments/toy`), of FFJORD's and of scikit-learn's
//! `make_moons`, each with its density: exact in closed form where there is one (checkerboard,
//! corners, eight Gaussians; the rings through the modified Bessel function I₀), by quadrature
//! along the curve for the moons.

use std::f64::consts::{PI, TAU};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// A point of the plane.
pub type Point = [f64; 2];

/// A data set the panel and `flows sample` draw from.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// Uniform on 8 of the 16 squares of [−4, 4]² (SurVAE's, after NSF's).
    Checkerboard,
    /// Uniform on four L-shaped corners (SurVAE's).
    Corners,
    /// Eight Gaussians on a circle (FFJORD's).
    Eightgaussians,
    /// Four noisy circles of radius 2 (SurVAE's).
    Fourcircles,
    /// Two interleaved noisy half circles (scikit-learn's `make_moons`, as FFJORD scales it).
    Moons,
    /// Three concentric noisy rings of radius 1, 2 and 3.
    Rings,
}

/// Eight Gaussians: centres at radius 4 / 1.414 (FFJORD divides by 1.414), standard deviation
/// 0.5 / 1.414.
const EIGHT_RADIUS: f64 = 4.0 / 1.414;
const EIGHT_STD: f64 = 0.5 / 1.414;
/// Four circles: radius 2, noise 0.1, centred at (±1, ±1).
const CIRCLE_RADIUS: f64 = 2.0;
const CIRCLE_STD: f64 = 0.1;
/// Rings: radii 1, 2, 3 with equal shares, noise 0.1 (fixed before any model was fitted).
const RING_RADII: [f64; 3] = [1.0, 2.0, 3.0];
const RING_STD: f64 = 0.1;
/// Moons: `make_moons(noise = 0.1)`, then × 2 + (−1, −0.2) (FFJORD, SurVAE).
const MOON_NOISE: f64 = 0.1;
const MOON_SCALE: f64 = 2.0;
const MOON_SHIFT: Point = [-1.0, -0.2];
/// Quadrature nodes along each half circle for the moons' density.
const MOON_NODES: usize = 2048;

impl Dataset {
    pub const ALL: [Dataset; 6] = [
        Self::Checkerboard,
        Self::Corners,
        Self::Eightgaussians,
        Self::Fourcircles,
        Self::Moons,
        Self::Rings,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Checkerboard => "checkerboard",
            Self::Corners => "corners",
            Self::Eightgaussians => "eightgaussians",
            Self::Fourcircles => "fourcircles",
            Self::Moons => "moons",
            Self::Rings => "rings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Checkerboard => "Checkerboard",
            Self::Corners => "Corners",
            Self::Eightgaussians => "Eight Gaussians",
            Self::Fourcircles => "Four circles",
            Self::Moons => "Two moons",
            Self::Rings => "Three rings",
        }
    }

    /// Whether the data are symmetric under x → −x in each coordinate (the abs surjection's
    /// prior knowledge holds).
    /// (The checkerboard is not: flipping one coordinate moves a point to a white square.)
    pub fn is_sign_symmetric(self) -> bool {
        !matches!(self, Self::Moons | Self::Checkerboard)
    }

    /// `n` points from seed `seed`.
    pub fn sample(self, n: usize, seed: u64) -> Vec<Point> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| self.draw(&mut rng)).collect()
    }

    fn draw(self, rng: &mut StdRng) -> Point {
        match self {
            Self::Checkerboard => {
                let x1 = rng.random::<f64>() * 4.0 - 2.0;
                let x2 = rng.random::<f64>() - 2.0 * f64::from(rng.random_range(0..2u8))
                    + x1.floor().rem_euclid(2.0);
                [2.0 * x1, 2.0 * x2]
            }
            Self::Corners => {
                // Half the points on the arms along x (|x| ∈ [1, 4], |y| ∈ [1, 2]), half on
                // those along y; then a random sign per coordinate.
                let (long, short) = (1.0 + 3.0 * rng.random::<f64>(), 1.0 + rng.random::<f64>());
                let point = if rng.random::<bool>() {
                    [long, short]
                } else {
                    [short, long]
                };
                let sign = |rng: &mut StdRng| if rng.random::<bool>() { 1.0 } else { -1.0 };
                [point[0] * sign(rng), point[1] * sign(rng)]
            }
            Self::Eightgaussians => {
                let [cx, cy] = eight_centre(rng.random_range(0..8));
                let (a, b): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
                [cx + EIGHT_STD * a, cy + EIGHT_STD * b]
            }
            Self::Fourcircles => {
                let centre = [
                    if rng.random::<bool>() { 1.0 } else { -1.0 },
                    if rng.random::<bool>() { 1.0 } else { -1.0 },
                ];
                ring_point(rng, centre, CIRCLE_RADIUS, CIRCLE_STD)
            }
            Self::Rings => {
                let radius = RING_RADII[rng.random_range(0..RING_RADII.len())];
                ring_point(rng, [0.0, 0.0], radius, RING_STD)
            }
            Self::Moons => {
                let t = PI * rng.random::<f64>();
                let on = moon_point(rng.random::<bool>(), t);
                let (a, b): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
                [
                    MOON_SCALE * (on[0] + MOON_NOISE * a) + MOON_SHIFT[0],
                    MOON_SCALE * (on[1] + MOON_NOISE * b) + MOON_SHIFT[1],
                ]
            }
        }
    }

    /// ln p(x) of the data's distribution (−∞ off its support).
    pub fn log_density(self, x: Point) -> f64 {
        match self {
            Self::Checkerboard => {
                let inside = x.iter().all(|v| (-4.0..4.0).contains(v))
                    && ((x[0] / 2.0).floor() + (x[1] / 2.0).floor()).rem_euclid(2.0) == 0.0;
                if inside {
                    -(32.0f64).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Self::Corners => {
                let (a, b) = (x[0].abs(), x[1].abs());
                let along_x = (1.0..=4.0).contains(&a) && (1.0..=2.0).contains(&b);
                let along_y = (1.0..=2.0).contains(&a) && (1.0..=4.0).contains(&b);
                // Each arm set holds half the mass on an area of 12.
                let density = (f64::from(u8::from(along_x)) + f64::from(u8::from(along_y))) / 24.0;
                density.ln()
            }
            Self::Eightgaussians => {
                log_mean_exp((0..8).map(|k| log_normal_2d(x, eight_centre(k), EIGHT_STD)))
            }
            Self::Fourcircles => log_mean_exp(
                [[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]
                    .into_iter()
                    .map(|c| log_ring(x, c, CIRCLE_RADIUS, CIRCLE_STD)),
            ),
            Self::Rings => log_mean_exp(
                RING_RADII
                    .into_iter()
                    .map(|r| log_ring(x, [0.0, 0.0], r, RING_STD)),
            ),
            Self::Moons => {
                // p(x) = ½ Σ_moon (1/π) ∫₀^π N(x; s·m(t) + shift, (s·noise)² I) dt, by the
                // midpoint rule on MOON_NODES nodes per moon (the integrand is smooth and
                // periodic-like; the error is far below a model's).
                let std = MOON_SCALE * MOON_NOISE;
                let terms = [false, true].into_iter().flat_map(|inner| {
                    (0..MOON_NODES).map(move |i| {
                        let t = PI * (i as f64 + 0.5) / MOON_NODES as f64;
                        let m = moon_point(inner, t);
                        let centre = [
                            MOON_SCALE * m[0] + MOON_SHIFT[0],
                            MOON_SCALE * m[1] + MOON_SHIFT[1],
                        ];
                        log_normal_2d(x, centre, std)
                    })
                });
                log_mean_exp(terms)
            }
        }
    }

    /// The mean of ln p over `points`: the true density's test log-likelihood in nats.
    pub fn mean_log_density(self, points: &[Point]) -> f64 {
        points.iter().map(|&p| self.log_density(p)).sum::<f64>() / points.len().max(1) as f64
    }

    /// A square that holds the data, for the plots: (centre, half width).
    pub fn extent(self) -> (Point, f64) {
        match self {
            Self::Moons => ([0.0, 0.3], 4.0),
            _ => ([0.0, 0.0], 4.5),
        }
    }
}

fn eight_centre(k: usize) -> Point {
    let angle = PI / 8.0 + k as f64 * PI / 4.0;
    [EIGHT_RADIUS * angle.cos(), EIGHT_RADIUS * angle.sin()]
}

fn moon_point(inner: bool, t: f64) -> Point {
    if inner {
        [1.0 - t.cos(), 1.0 - t.sin() - 0.5]
    } else {
        [t.cos(), t.sin()]
    }
}

fn ring_point(rng: &mut StdRng, centre: Point, radius: f64, std: f64) -> Point {
    let angle = TAU * rng.random::<f64>();
    let (a, b): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
    [
        centre[0] + radius * angle.cos() + std * a,
        centre[1] + radius * angle.sin() + std * b,
    ]
}

/// ln N(x; μ, σ² I) in 2-D.
fn log_normal_2d(x: Point, mean: Point, std: f64) -> f64 {
    let d2 = (x[0] - mean[0]).powi(2) + (x[1] - mean[1]).powi(2);
    -d2 / (2.0 * std * std) - (TAU * std * std).ln()
}

/// ln p(x) of a point uniform on a circle of `radius` about `centre` plus N(0, σ² I):
/// p = exp(−(r² + R²)/2σ²) I₀(rR/σ²) / (2πσ²), written with the scaled I₀ so that nothing
/// overflows: ln p = −(r − R)²/2σ² + ln(e^{−z} I₀(z)) − ln 2πσ², z = rR/σ².
fn log_ring(x: Point, centre: Point, radius: f64, std: f64) -> f64 {
    let r = ((x[0] - centre[0]).powi(2) + (x[1] - centre[1]).powi(2)).sqrt();
    let s2 = std * std;
    -(r - radius).powi(2) / (2.0 * s2) + log_scaled_i0(r * radius / s2) - (TAU * s2).ln()
}

/// ln(e^{−z} I₀(z)) for z ≥ 0: the power series below 15, the asymptotic series above (both to
/// about 1e-12 relative).
pub fn log_scaled_i0(z: f64) -> f64 {
    if z < 15.0 {
        // I₀(z) = Σ (z²/4)^k / (k!)².
        let q = z * z / 4.0;
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..200 {
            term *= q / (k as f64 * k as f64);
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        sum.ln() - z
    } else {
        // e^{−z} I₀(z) ~ (2πz)^{−½} Σ_k ((2k − 1)!!)² / (k! (8z)^k).
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..30 {
            let odd = (2 * k - 1) as f64;
            term *= odd * odd / (k as f64 * 8.0 * z);
            sum += term;
            if term.abs() < 1e-17 {
                break;
            }
        }
        sum.ln() - 0.5 * (TAU * z).ln()
    }
}

/// ln of the mean of exp(values), stably.
pub fn log_mean_exp(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return top;
    }
    let sum: f64 = values.iter().map(|v| (v - top).exp()).sum();
    top + (sum / values.len() as f64).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_density_integrates_to_one() {
        for dataset in Dataset::ALL {
            // The midpoint rule on a fine grid over a square that holds the data.
            let (centre, half) = dataset.extent();
            // Cells of 0.05, so that the checkerboard's and the corners' edges fall between
            // midpoints (the smooth densities need no finer).
            let cells = (40.0 * half).round() as usize;
            let h = 2.0 * half / cells as f64;
            let mut mass = 0.0;
            for i in 0..cells {
                for j in 0..cells {
                    let x = [
                        centre[0] - half + (i as f64 + 0.5) * h,
                        centre[1] - half + (j as f64 + 0.5) * h,
                    ];
                    mass += dataset.log_density(x).exp() * h * h;
                }
            }
            assert!((mass - 1.0).abs() < 2e-3, "{dataset:?}: {mass}");
        }
    }

    #[test]
    fn samples_lie_where_the_density_is() {
        for dataset in Dataset::ALL {
            let points = dataset.sample(2000, 9);
            assert!(
                points.iter().all(|&p| dataset.log_density(p).is_finite()),
                "{dataset:?}"
            );
            let (centre, half) = dataset.extent();
            let outside = points
                .iter()
                .filter(|p| (0..2).any(|d| (p[d] - centre[d]).abs() > half))
                .count();
            assert!(
                outside <= 2,
                "{dataset:?}: {outside} points outside the plot"
            );
        }
    }

    #[test]
    fn the_sign_symmetric_sets_are_and_the_others_are_not() {
        for dataset in Dataset::ALL {
            let points = dataset.sample(200, 6);
            let symmetric = points.iter().all(|&[x, y]| {
                let here = dataset.log_density([x, y]);
                [[-x, y], [x, -y]]
                    .into_iter()
                    .all(|q| (dataset.log_density(q) - here).abs() < 1e-9)
            });
            assert_eq!(symmetric, dataset.is_sign_symmetric(), "{dataset:?}");
        }
    }

    #[test]
    fn checkerboard_has_the_papers_entropy() {
        let points = Dataset::Checkerboard.sample(1000, 1);
        let mean = Dataset::Checkerboard.mean_log_density(&points);
        assert!((mean + 32f64.ln()).abs() < 1e-12, "{mean}");
    }

    #[test]
    fn scaled_bessel_matches_known_values() {
        // e^{−z} I₀(z) from tables (Abramowitz & Stegun 9.8), on both sides of the switch at 15.
        for (z, want) in [
            (0.0, 1.0f64),
            (1.0, 0.465_759_607_593_640_2),
            (10.0, 0.127_833_337_163_423_9),
            (20.0, 0.089_780_311_884_826_1),
            (100.0, 0.039_944_379_299),
        ] {
            let got = log_scaled_i0(z).exp();
            assert!(
                (got - want).abs() < 1e-9 * want.max(1e-3),
                "{z}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_points() {
        for dataset in Dataset::ALL {
            assert_eq!(dataset.sample(50, 4), dataset.sample(50, 4));
            assert_ne!(dataset.sample(50, 4), dataset.sample(50, 5));
        }
    }
}
