//! What the panel shows of a fitted density, computed off the UI thread: log p on a grid (the
//! heat map), samples, the data cloud and a grid pushed through the layers one at a time (the
//! timeline), and "Algorithm 1"'s ledger for one point: every layer's term, summing to log p(x)
//! or its bound.

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use super::classical::Mixture;
use super::methods::Fitted;
use super::model::{FlowModel, LayerKind, log_base, points_tensor, walk};
use super::sim::Point;

/// The square shown: centre and half width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub centre: Point,
    pub half_width: f64,
}

impl View {
    /// The centre of cell (i, j) of an n × n grid, row i from the bottom.
    pub fn cell(&self, i: usize, j: usize, n: usize) -> Point {
        let step = 2.0 * self.half_width / n as f64;
        [
            self.centre[0] - self.half_width + (j as f64 + 0.5) * step,
            self.centre[1] - self.half_width + (i as f64 + 0.5) * step,
        ]
    }
}

/// One row of the ledger: a layer and its terms of log p(x).
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub kind: LayerKind,
    pub label: String,
    pub log_det: f64,
    pub surjection: f64,
    pub stochastic: f64,
}

impl LedgerRow {
    pub fn total(&self) -> f64 {
        self.log_det + self.surjection + self.stochastic
    }

    /// A permutation's row: every term zero.
    pub fn is_permutation(&self) -> bool {
        self.kind == LayerKind::Swap
    }
}

/// Algorithm 1 for one point: each layer's terms, the base density of where it lands, the sum.
#[derive(Clone, Debug, PartialEq)]
pub struct Ledger {
    pub point: Point,
    pub rows: Vec<LedgerRow>,
    /// ln N(z; 0, I) of the base point (for a mixture: its log-density, the only term).
    pub base: f64,
    pub exact: bool,
}

impl Ledger {
    pub fn log_p(&self) -> f64 {
        self.base + self.rows.iter().map(LedgerRow::total).sum::<f64>()
    }
}

/// Everything the figure draws for one fitted density.
#[derive(Clone, Debug)]
pub struct Inspection {
    /// log p on `side`² cells of the view, row-major from the bottom row.
    pub log_p: Vec<f32>,
    pub side: usize,
    pub samples: Vec<Point>,
    /// The data cloud after 0, 1, …, L layers (flows; empty for a mixture).
    pub cloud: Vec<Vec<Point>>,
    /// A grid's lines after 0, 1, …, L layers: `grid[stage][line]` (flows).
    pub grid: Vec<Vec<Vec<Point>>>,
    pub ledger: Option<Ledger>,
    pub exact: bool,
}

/// How much the panel computes.
#[derive(Clone, Copy, Debug)]
pub struct Detail {
    pub side: usize,
    pub samples: usize,
    pub cloud: usize,
    pub grid_lines: usize,
    /// Draws averaged per grid cell for a stack with a VAE layer (its bound is random).
    pub draws: usize,
}

impl Default for Detail {
    fn default() -> Self {
        Self {
            side: 96,
            samples: 2_000,
            cloud: 1_500,
            grid_lines: 13,
            draws: 4,
        }
    }
}

/// Inspects `fitted` on `data` in `view`; `clicked`: the point whose ledger is wanted.
pub fn inspect(
    fitted: &Fitted,
    data: &[Point],
    view: View,
    clicked: Option<Point>,
    detail: Detail,
    seed: u64,
    device: &Device,
) -> Inspection {
    let cells: Vec<Point> = (0..detail.side * detail.side)
        .map(|k| view.cell(k / detail.side, k % detail.side, detail.side))
        .collect();
    let draws = if fitted.is_exact() { 1 } else { detail.draws };
    let mut log_p = vec![0.0f64; cells.len()];
    for _ in 0..draws {
        for (total, l) in log_p.iter_mut().zip(fitted.log_densities(&cells, device)) {
            *total += l / draws as f64;
        }
    }
    let cloud_points: Vec<Point> = data.iter().copied().take(detail.cloud).collect();
    let (samples, cloud, grid, ledger) = match fitted {
        Fitted::Mixture(m) => (
            m.sample(detail.samples, seed),
            Vec::new(),
            Vec::new(),
            clicked.map(|p| mixture_ledger(m, p)),
        ),
        Fitted::Flow(model) => {
            let lines = grid_lines(view, detail.grid_lines);
            (
                sample(model, detail.samples, seed, device),
                stages(model, &cloud_points, device),
                lines
                    .iter()
                    .map(|line| stages(model, line, device))
                    .fold(Vec::new(), transpose_stage),
                clicked.map(|p| flow_ledger(model, p, device)),
            )
        }
    };
    Inspection {
        log_p: log_p.into_iter().map(|v| v as f32).collect(),
        side: detail.side,
        samples,
        cloud,
        grid,
        ledger,
        exact: fitted.is_exact(),
    }
}

/// Adds one line's stages to `grid[stage][line]`.
fn transpose_stage(mut grid: Vec<Vec<Vec<Point>>>, line: Vec<Vec<Point>>) -> Vec<Vec<Vec<Point>>> {
    grid.resize(line.len(), Vec::new());
    for (stage, points) in line.into_iter().enumerate() {
        grid[stage].push(points);
    }
    grid
}

/// `n` horizontal and `n` vertical lines across the view, 64 points each.
fn grid_lines(view: View, n: usize) -> Vec<Vec<Point>> {
    let at = |k: usize, count: usize| -> f64 {
        -view.half_width + 2.0 * view.half_width * k as f64 / (count - 1).max(1) as f64
    };
    let mut lines = Vec::new();
    for a in 0..n {
        let fixed = at(a, n);
        let along: Vec<f64> = (0..64).map(|k| at(k, 64)).collect();
        lines.push(
            along
                .iter()
                .map(|&t| [view.centre[0] + t, view.centre[1] + fixed])
                .collect(),
        );
        lines.push(
            along
                .iter()
                .map(|&t| [view.centre[0] + fixed, view.centre[1] + t])
                .collect(),
        );
    }
    lines
}

fn to_points(t: Tensor<2>) -> Vec<Point> {
    let values = t.into_data().try_to_vec::<f32>().unwrap_or_default();
    values
        .chunks_exact(2)
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect()
}

fn to_values(t: Tensor<2>) -> Vec<f64> {
    let values = t.into_data().try_to_vec::<f32>().unwrap_or_default();
    values.into_iter().map(f64::from).collect()
}

/// The points after each layer, x first.
pub fn stages(model: &FlowModel, points: &[Point], device: &Device) -> Vec<Vec<Point>> {
    if points.is_empty() {
        return vec![Vec::new(); model.net.layers.len() + 1];
    }
    model
        .net
        .stages(points_tensor(points, device))
        .into_iter()
        .map(to_points)
        .collect()
}

/// `n` samples: base draws run back through the stack (seeded).
pub fn sample(model: &FlowModel, n: usize, seed: u64, device: &Device) -> Vec<Point> {
    let mut rng = StdRng::seed_from_u64(seed);
    let base: Vec<f32> = (0..2 * n)
        .map(|_| {
            let v: f64 = StandardNormal.sample(&mut rng);
            v as f32
        })
        .collect();
    let layers = model.net.layers.len();
    let coins: Vec<f32> = (0..layers * n * 2).map(|_| rng.random::<f32>()).collect();
    let z = Tensor::from_data(TensorData::new(base, [n, 2]), device);
    let coins = Tensor::from_data(TensorData::new(coins, [layers, n, 2]), device);
    let mut stages = model.net.sample_stages(z, coins);
    stages.pop().map(to_points).unwrap_or_default()
}

/// Algorithm 1 for one point through a flow stack.
pub fn flow_ledger(model: &FlowModel, point: Point, device: &Device) -> Ledger {
    let (z, terms) = walk(&model.net.layers, points_tensor(&[point], device));
    let rows = model
        .config
        .layers
        .iter()
        .zip(terms)
        .enumerate()
        .map(|(k, (&kind, t))| LedgerRow {
            kind,
            label: format!("{}. {}", k + 1, kind.label()),
            log_det: to_values(t.log_det)[0],
            surjection: to_values(t.surjection)[0],
            stochastic: to_values(t.stochastic)[0],
        })
        .collect();
    Ledger {
        point,
        rows,
        base: to_values(log_base(z))[0],
        exact: !model.config.layers.contains(&LayerKind::Vae),
    }
}

/// A mixture's "ledger": no layers, its log-density as the one term.
pub fn mixture_ledger(mixture: &Mixture, point: Point) -> Ledger {
    Ledger {
        point,
        rows: Vec::new(),
        base: mixture.log_density(point),
        exact: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::flows::model::{FlowConfig, FlowNet};
    use crate::demos::flows::sim::Dataset;

    fn device() -> Device {
        Device::flex()
    }

    fn trained_looking(config: FlowConfig) -> FlowModel {
        device().seed(3);
        FlowModel {
            net: FlowNet::new(&config, &device()),
            config,
        }
    }

    #[test]
    fn the_ledger_sums_to_the_models_log_density() {
        let model = trained_looking(FlowConfig::real_nvp(2, &[8]).with_abs());
        let point = [0.7, -1.3];
        let ledger = flow_ledger(&model, point, &device());
        assert_eq!(ledger.rows.len(), model.config.layers.len());
        let direct = Fitted::Flow(model).log_densities(&[point], &device())[0];
        assert!(
            (ledger.log_p() - direct).abs() < 1e-4,
            "{ledger:?} vs {direct}"
        );
        // The abs layer's sign model: −2 ln 2 (exact).
        assert!((ledger.rows[0].surjection + 2.0 * std::f64::consts::LN_2).abs() < 1e-6);
        assert!(ledger.exact);
    }

    #[test]
    fn an_inspection_has_every_stage_and_a_normalized_heat_map() {
        let model = trained_looking(FlowConfig::real_nvp(2, &[8]));
        let data = Dataset::Rings.sample(300, 1);
        let view = View {
            centre: [0.0, 0.0],
            half_width: 6.0,
        };
        let detail = Detail {
            side: 60,
            samples: 100,
            cloud: 200,
            grid_lines: 5,
            draws: 2,
        };
        let fitted = Fitted::Flow(model.clone());
        let got = inspect(&fitted, &data, view, Some([1.0, 0.0]), detail, 4, &device());
        let layers = model.config.layers.len();
        assert_eq!(got.cloud.len(), layers + 1);
        // x itself first (through f32).
        assert_eq!(got.cloud[0].len(), 200);
        for (a, b) in got.cloud[0].iter().zip(&data) {
            assert!((a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5);
        }
        assert_eq!(got.grid.len(), layers + 1);
        assert_eq!(got.grid[0].len(), 10);
        assert_eq!(got.samples.len(), 100);
        let cell = (2.0 * view.half_width / 60.0).powi(2);
        let mass: f64 = got.log_p.iter().map(|&l| f64::from(l).exp() * cell).sum();
        assert!((mass - 1.0).abs() < 0.02, "{mass}");
        assert!(got.ledger.is_some());
        // A mixture: no layers to walk, its ledger one term.
        let mixture = crate::demos::flows::classical::fit(&data, 3, 1, 1)
            .last()
            .clone();
        let got = inspect(
            &Fitted::Mixture(mixture.clone()),
            &data,
            view,
            Some([1.0, 0.0]),
            detail,
            4,
            &device(),
        );
        assert!(got.cloud.is_empty());
        let ledger = got.ledger.expect("a ledger");
        assert!((ledger.log_p() - mixture.log_density([1.0, 0.0])).abs() < 1e-12);
    }
}
