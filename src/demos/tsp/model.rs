//! The attention model of Kool, van Hoof & Welling (ICLR 2019), decoded POMO-style (Kwon et
//! al., NeurIPS 2020), in burn (one code path on every device):
//!
//! - **Encoder**: a linear embedding of each city's (x, y), then `layers` of multi-head
//!   self-attention and a feed-forward layer, each with a skip connection and batch norm.
//! - **Decoder**: a context node, [mean embedding, first city, last city] projected to a query,
//!   attends over the cities not yet visited (multi-head glimpse); the glimpse's compatibility
//!   with each city, clipped by C·tanh, masked, gives the next city's log-probability.
//! - **Multi-start**: S rollouts per instance, each forced to start at its own city (POMO);
//!   training uses their mean length as the shared baseline.
//!
//! Coordinates are `[B, n, 2]` in the unit square; embeddings `[B, n, d]`.

use burn::module::Module;
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use rand::RngExt;

use super::methods::LearnedModel;
use crate::activation::tanh;
use crate::stored_model::{self, Shipped, StoredModel};

/// Everything needed to rebuild a model (saved in its file's header).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AmConfig {
    pub dim: usize,
    pub heads: usize,
    pub layers: usize,
    pub feed_forward: usize,
    /// C of the logit clipping C·tanh.
    pub clip: f32,
}

impl Default for AmConfig {
    /// The paper's model.
    fn default() -> Self {
        Self {
            dim: 128,
            heads: 8,
            layers: 3,
            feed_forward: 512,
            clip: 10.0,
        }
    }
}

impl AmConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=1024).contains(&self.dim)
            || self.heads == 0
            || !self.dim.is_multiple_of(self.heads)
        {
            return Err(format!(
                "dim {} must be in 8..=1024 and a multiple of heads {}",
                self.dim, self.heads
            ));
        }
        if !(1..=12).contains(&self.layers) || !(1..=8192).contains(&self.feed_forward) {
            return Err(format!(
                "layers {} must be in 1..=12 and feed_forward {} in 1..=8192",
                self.layers, self.feed_forward
            ));
        }
        if !(self.clip > 0.0 && self.clip <= 100.0) {
            return Err(format!("clip {} must be in (0, 100]", self.clip));
        }
        Ok(())
    }
}

/// Batch norm over the embedding dimension of `[B, n, d]`.
fn batch_norm(norm: &BatchNorm, x: Tensor<3>) -> Tensor<3> {
    norm.forward(x.swap_dims(1, 2)).swap_dims(1, 2)
}

#[derive(Module, Debug)]
pub struct EncoderLayer {
    attention: MultiHeadAttention,
    attention_norm: BatchNorm,
    hidden: Linear,
    output: Linear,
    feed_forward_norm: BatchNorm,
}

impl EncoderLayer {
    fn new(config: &AmConfig, device: &Device) -> Self {
        Self {
            attention: MultiHeadAttentionConfig::new(config.dim, config.heads)
                .with_dropout(0.0)
                .init(device),
            attention_norm: BatchNormConfig::new(config.dim).init(device),
            hidden: LinearConfig::new(config.dim, config.feed_forward).init(device),
            output: LinearConfig::new(config.feed_forward, config.dim).init(device),
            feed_forward_norm: BatchNormConfig::new(config.dim).init(device),
        }
    }

    fn forward(&self, h: Tensor<3>) -> Tensor<3> {
        let attended = self
            .attention
            .forward(MhaInput::self_attn(h.clone()))
            .context;
        let h = batch_norm(&self.attention_norm, h + attended);
        let ff = self.output.forward(relu(self.hidden.forward(h.clone())));
        batch_norm(&self.feed_forward_norm, h + ff)
    }
}

#[derive(Module, Debug)]
pub struct AttentionModel {
    embed: Linear,
    layers: Vec<EncoderLayer>,
    /// The context's query: from the mean embedding, the first and the last city.
    query_graph: Linear,
    query_first: Linear,
    query_last: Linear,
    /// Glimpse keys, glimpse values and logit keys, from each city's embedding.
    keys: Linear,
    glimpse_out: Linear,
    heads: usize,
    clip: f32,
}

/// How a rollout picks the next city.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Greedy,
    Sample,
}

/// S rollouts of each of B instances.
pub struct Rollouts {
    /// `[B][S]` tours (city indices, starting at the rollout's start city).
    pub tours: Vec<Vec<Vec<usize>>>,
    /// `[B, S]` the sum of the log-probabilities of the choices made.
    pub log_prob: Tensor<2>,
    /// For B = S = 1 when asked: each step's probabilities over the n cities (the pointer's
    /// attention), step 1 first.
    pub probabilities: Vec<Vec<f32>>,
}

impl AttentionModel {
    pub fn new(config: &AmConfig, device: &Device) -> Self {
        let d = config.dim;
        let plain = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        Self {
            embed: LinearConfig::new(2, d).init(device),
            layers: (0..config.layers)
                .map(|_| EncoderLayer::new(config, device))
                .collect(),
            query_graph: plain(d, d),
            query_first: plain(d, d),
            query_last: plain(d, d),
            keys: plain(d, 3 * d),
            glimpse_out: plain(d, d),
            heads: config.heads,
            clip: config.clip,
        }
    }

    /// The city embeddings `[B, n, d]`.
    pub fn encode(&self, coords: Tensor<3>) -> Tensor<3> {
        let mut h = self.embed.forward(coords);
        for layer in &self.layers {
            h = layer.forward(h);
        }
        h
    }

    /// Rolls out from `starts` (`[B][S]` start cities); `record` keeps the pointer's
    /// probabilities (B = S = 1).
    pub fn rollout(
        &self,
        coords: Tensor<3>,
        starts: &[Vec<usize>],
        pick: Pick,
        rng: &mut impl rand::Rng,
        record: bool,
    ) -> Rollouts {
        self.run(coords, starts, record, |_, _, row, open| match pick {
            Pick::Greedy => (0..row.len())
                .filter(|&c| open(c))
                .max_by(|&x, &y| row[x].total_cmp(&row[y]))
                .unwrap_or(0),
            Pick::Sample => {
                let mut u = rng.random::<f32>();
                let mut chosen = None;
                for c in (0..row.len()).filter(|&c| open(c)) {
                    chosen = Some(c);
                    u -= row[c].exp();
                    if u <= 0.0 {
                        break;
                    }
                }
                chosen.unwrap_or(0)
            }
        })
    }

    /// The pointer's probabilities over the cities at each step of one instance's `tour`,
    /// the model made to follow it (`coords` `[1, n, 2]`).
    pub fn pointer_along(&self, coords: Tensor<3>, tour: &[usize]) -> Vec<Vec<f32>> {
        let Some(&start) = tour.first() else {
            return Vec::new();
        };
        self.run(coords, &[vec![start]], true, |_, step, _, _| tour[step])
            .probabilities
    }

    /// The decoder loop: `choose(rollout, step, log-probabilities, is_open)` picks each
    /// rollout's city at `step` (1-based).
    fn run(
        &self,
        coords: Tensor<3>,
        starts: &[Vec<usize>],
        record: bool,
        mut choose: impl FnMut(usize, usize, &[f32], &dyn Fn(usize) -> bool) -> usize,
    ) -> Rollouts {
        let device = coords.device();
        let [b, n, _] = coords.dims();
        let s = starts.first().map_or(0, Vec::len);
        let h = self.encode(coords);
        let d = h.dims()[2];
        let (heads, dk) = (self.heads, d / self.heads);
        let graph = self.query_graph.forward(h.clone().mean_dim(1)); // [B, 1, d]
        let first_proj = self.query_first.forward(h.clone());
        let last_proj = self.query_last.forward(h.clone());
        let keys = self.keys.forward(h);
        let split = |k: usize| keys.clone().narrow(2, k * d, d);
        let by_head = |t: Tensor<3>| t.reshape([b, n, heads, dk]).swap_dims(1, 2); // [B, H, n, dk]
        let glimpse_keys = by_head(split(0)).swap_dims(2, 3); // [B, H, dk, n]
        let glimpse_values = by_head(split(1));
        let logit_keys = split(2).swap_dims(1, 2); // [B, d, n]

        let one_hot = |cities: &[usize]| {
            let mut v = vec![0f32; b * s * n];
            for (k, &c) in cities.iter().enumerate() {
                v[k * n + c] = 1.0;
            }
            Tensor::<3>::from_data(TensorData::new(v, [b, s, n]), &device)
        };
        let start_cities: Vec<usize> = starts.iter().flatten().copied().collect();
        let mut tours: Vec<Vec<usize>> = start_cities.iter().map(|&c| vec![c]).collect();
        let mut visited = vec![false; b * s * n];
        for (k, &c) in start_cities.iter().enumerate() {
            visited[k * n + c] = true;
        }
        let query_fixed = graph + one_hot(&start_cities).matmul(first_proj.clone());
        let mut log_prob = Tensor::<2>::zeros([b, s], &device);
        let mut probabilities = Vec::new();
        for step in 1..n {
            let last: Vec<usize> = tours.iter().map(|t| t[t.len() - 1]).collect();
            let query = query_fixed.clone() + one_hot(&last).matmul(last_proj.clone()); // [B, S, d]
            let penalty: Vec<f32> = visited
                .iter()
                .map(|&v| if v { -1e9 } else { 0.0 })
                .collect();
            let penalty = Tensor::<3>::from_data(TensorData::new(penalty, [b, s, n]), &device);
            let q = query.reshape([b, s, heads, dk]).swap_dims(1, 2); // [B, H, S, dk]
            let compat = q.matmul(glimpse_keys.clone()) / (dk as f64).sqrt()
                + penalty.clone().reshape([b, 1, s, n]);
            let glimpse = softmax(compat, 3)
                .matmul(glimpse_values.clone())
                .swap_dims(1, 2)
                .reshape([b, s, d]);
            let glimpse = self.glimpse_out.forward(glimpse);
            let logits = glimpse.matmul(logit_keys.clone()) / (d as f64).sqrt();
            let logits = tanh(logits) * f64::from(self.clip) + penalty;
            let step_log_prob = log_softmax(logits, 2);
            let values: Vec<f32> = step_log_prob
                .clone()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap_or_default();
            let chosen: Vec<usize> = (0..b * s)
                .map(|k| {
                    let row = &values[k * n..(k + 1) * n];
                    let open = |c: usize| !visited[k * n + c];
                    choose(k, step, row, &open)
                })
                .collect();
            if record {
                probabilities.push(values[..n].iter().map(|l| l.exp()).collect());
            }
            let picked = (step_log_prob * one_hot(&chosen))
                .sum_dim(2)
                .reshape([b, s]);
            log_prob = log_prob + picked;
            for (k, &c) in chosen.iter().enumerate() {
                visited[k * n + c] = true;
                tours[k].push(c);
            }
        }
        let mut per_instance = Vec::with_capacity(b);
        let mut it = tours.into_iter();
        for _ in 0..b {
            per_instance.push(it.by_ref().take(s).collect());
        }
        Rollouts {
            tours: per_instance,
            log_prob,
            probabilities,
        }
    }
}

/// The 8 symmetries of the unit square applied to `[n]` coordinates (POMO's augmentation).
pub fn symmetries(coords: &[[f32; 2]]) -> Vec<Vec<[f32; 2]>> {
    let maps: [fn(f32, f32) -> [f32; 2]; 8] = [
        |x, y| [x, y],
        |x, y| [y, x],
        |x, y| [1.0 - x, y],
        |x, y| [y, 1.0 - x],
        |x, y| [x, 1.0 - y],
        |x, y| [1.0 - y, x],
        |x, y| [1.0 - x, 1.0 - y],
        |x, y| [1.0 - y, 1.0 - x],
    ];
    maps.iter()
        .map(|f| coords.iter().map(|c| f(c[0], c[1])).collect())
        .collect()
}

/// `[B][n]` coordinates as a `[B, n, 2]` tensor.
pub fn coords_tensor(batch: &[Vec<[f32; 2]>], device: &Device) -> Tensor<3> {
    let n = batch.first().map_or(0, Vec::len);
    let flat: Vec<f32> = batch.iter().flatten().flat_map(|c| [c[0], c[1]]).collect();
    Tensor::from_data(TensorData::new(flat, [batch.len(), n, 2]), device)
}

/// `count` start cities spread over n (all of them when count ≥ n).
pub fn spread_starts(n: usize, count: usize) -> Vec<usize> {
    let count = count.clamp(1, n.max(1));
    (0..count).map(|k| k * n / count).collect()
}

/// What a model file stores to rebuild an attention model.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredAm {
    model: AmConfig,
    trained_n: usize,
}

/// The one kind of model this demo trains.
pub const KIND: &str = "am";

const SHIPPED_AM20: &[u8] = include_bytes!("../../../assets/tsp-am20.mpk");
const SHIPPED_AM50: &[u8] = include_bytes!("../../../assets/tsp-am50.mpk");

/// The model file of an attention model.
impl StoredModel for LearnedModel {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[(KIND, SHIPPED_AM20), (KIND, SHIPPED_AM50)];
    type Net = AttentionModel;
    type Stored = StoredAm;

    fn kind(&self) -> &'static str {
        KIND
    }
    fn net(&self) -> &AttentionModel {
        &self.net
    }
    fn stored(&self) -> StoredAm {
        StoredAm {
            model: self.config.clone(),
            trained_n: self.trained_n,
        }
    }
    fn validate(stored: &StoredAm) -> Result<(), String> {
        stored.model.validate()
    }
    fn build(stored: &StoredAm, device: &Device) -> AttentionModel {
        AttentionModel::new(&stored.model, device)
    }
    fn assemble(net: AttentionModel, stored: StoredAm) -> Self {
        Self {
            net,
            config: stored.model,
            trained_n: stored.trained_n,
        }
    }
}

/// The shipped model trained on the n nearest to `n` (made by `tsp train`, docs/tsp.md).
pub fn shipped_for(n: usize, device: &Device) -> anyhow::Result<LearnedModel> {
    let (trained_n, bytes) = [(20usize, SHIPPED_AM20), (50, SHIPPED_AM50)]
        .into_iter()
        .min_by_key(|(m, _)| m.abs_diff(n))
        .ok_or_else(|| anyhow::anyhow!("no tsp model is shipped yet: pass --model F"))?;
    let origin = format!("the shipped tsp model for n = {trained_n}");
    stored_model::from_bytes(bytes, &origin, Some(KIND), device)
}

/// `--model F` when given, else the shipped model nearest in n.
pub fn load_or_shipped(
    path: Option<&std::path::Path>,
    n: usize,
    device: &Device,
) -> anyhow::Result<LearnedModel> {
    match path {
        Some(path) => stored_model::load(path, KIND, device),
        None => shipped_for(n, device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::tsp::sim::is_permutation;
    use rand::SeedableRng;

    fn tiny() -> AmConfig {
        AmConfig {
            dim: 16,
            heads: 4,
            layers: 1,
            feed_forward: 32,
            clip: 10.0,
        }
    }

    #[test]
    fn rollouts_are_tours_and_never_revisit_a_city() {
        let device = Device::flex();
        let model = AttentionModel::new(&tiny(), &device);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let batch: Vec<Vec<[f32; 2]>> = (0..3)
            .map(|_| (0..9).map(|_| [rng.random(), rng.random()]).collect())
            .collect();
        for pick in [Pick::Greedy, Pick::Sample] {
            let starts = vec![spread_starts(9, 4); 3];
            let out = model.rollout(
                coords_tensor(&batch, &device),
                &starts,
                pick,
                &mut rng,
                false,
            );
            assert_eq!(out.log_prob.dims(), [3, 4]);
            for (b, tours) in out.tours.iter().enumerate() {
                for (s, tour) in tours.iter().enumerate() {
                    assert!(is_permutation(tour, 9), "{tour:?}");
                    assert_eq!(tour[0], starts[b][s]);
                }
            }
            let lp: Vec<f32> = out.log_prob.into_data().try_to_vec().expect("f32");
            assert!(lp.iter().all(|l| l.is_finite() && *l <= 1e-4));
        }
        let one = model.rollout(
            coords_tensor(&batch[..1], &device),
            &[vec![0]],
            Pick::Greedy,
            &mut rng,
            true,
        );
        assert_eq!(one.probabilities.len(), 8);
        for (step, p) in one.probabilities.iter().enumerate() {
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            // The cities already on the tour have no probability.
            for &c in &one.tours[0][0][..=step] {
                assert!(p[c] < 1e-6);
            }
        }
    }

    #[test]
    fn symmetries_stay_in_the_square_and_keep_distances() {
        let c = vec![[0.1, 0.2], [0.7, 0.4]];
        let all = symmetries(&c);
        assert_eq!(all.len(), 8);
        let d =
            |p: &Vec<[f32; 2]>| ((p[0][0] - p[1][0]).powi(2) + (p[0][1] - p[1][1]).powi(2)).sqrt();
        for s in &all {
            assert!((d(s) - d(&c)).abs() < 1e-6);
        }
        assert_eq!(spread_starts(10, 4), vec![0, 2, 5, 7]);
        assert_eq!(spread_starts(3, 10), vec![0, 1, 2]);
    }
}
