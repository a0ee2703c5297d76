//! The ACD/NRI model in burn (one code path on every device):
//!
//! - **Encoder** (NRI's MLP encoder): each particle's whole trajectory, flattened, through an
//!   MLP; node→edge (concatenate target and source), an MLP; edge→node (mean over incoming
//!   edges), an MLP; node→edge again, concatenated with the first edge embedding (skip), an MLP;
//!   a linear layer to the edge-type logits `[B, E, 2]`. Edge type 0 is "no spring": its
//!   messages are skipped in the decoder (NRI's `skip_first`), so type 1's probability is the
//!   edge's.
//! - **Decoder** (NRI's MLP decoder): from frame t and the sampled edge weights, a message per
//!   edge `MLP([x_source, x_target])` scaled by the edge's type-1 weight, summed into the target,
//!   and `x_{t+1} = x_t + MLP([x_t, messages])`; ten steps from every tenth true frame.
//! - **ELBO**: Gaussian negative log-likelihood of the predicted frames (variance 5·10⁻⁵, as
//!   NRI) plus the KL divergence of the edge posteriors to a sparse prior, both per particle.
//!
//! Batch norm as NRI's: it centres every feature over the batch, so the encoder cannot raise
//! every edge's logit at once through its weights (with LayerNorm instead, measured here, it
//! did so within 250 steps and saturated at "every edge", where no gradient is left). At test
//! time the encoder runs once with its running statistics (ACD adapts q(z), not the encoder).
//! Series are `[B, T, N, 4]`, standardized by the config's `scale`.

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{elu, log_softmax, relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::RngExt;

use super::sim::{FEATURES, Series};
use crate::stored_model::{NetSpec, Shipped};

/// Everything needed to rebuild a model (saved in its file's header).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AcdConfig {
    /// Particles the model reads (its encoder's edges are this graph's ordered pairs).
    pub nodes: usize,
    /// Frames per series (the encoder reads them all at once).
    pub frames: usize,
    pub encoder_hidden: usize,
    pub decoder_hidden: usize,
    /// Standard deviations of x, y, vx, vy in the training data: inputs are divided by them.
    pub scale: [f32; FEATURES],
    /// Prior probability of an edge in the KL term.
    pub prior_edge: f64,
    /// Gumbel-softmax temperature.
    pub temperature: f64,
    /// Decoder steps from each true frame (teacher forcing every this many frames).
    pub prediction_steps: usize,
    /// Variance of the decoder's Gaussian likelihood (in standardized units).
    pub output_variance: f64,
}

impl Default for AcdConfig {
    fn default() -> Self {
        Self {
            nodes: 5,
            frames: 49,
            encoder_hidden: 256,
            decoder_hidden: 256,
            scale: [1.0; FEATURES],
            prior_edge: 0.1,
            temperature: 0.5,
            prediction_steps: 10,
            output_variance: 5e-5,
        }
    }
}

impl AcdConfig {
    pub fn edges(&self) -> usize {
        self.nodes * (self.nodes - 1)
    }
}

/// Two layers with ELU, then batch norm over every row of the batch (NRI's MLP block).
#[derive(Module, Debug)]
pub struct Mlp {
    first: Linear,
    second: Linear,
    norm: BatchNorm,
}

impl Mlp {
    fn new(input: usize, hidden: usize, device: &Device) -> Self {
        Self {
            first: LinearConfig::new(input, hidden).init(device),
            second: LinearConfig::new(hidden, hidden).init(device),
            norm: BatchNormConfig::new(hidden).init(device),
        }
    }

    /// `[B, X, input]` → `[B, X, hidden]`, normalized over all B·X rows.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = elu(self.first.forward(x), 1.0);
        let h = elu(self.second.forward(h), 1.0);
        let [b, rows, d] = h.dims();
        self.norm
            .forward(h.reshape([b * rows, d]))
            .reshape([b, rows, d])
    }
}

/// `h[:, source of every edge]`: `[B, N, H]` → `[B, E, H]`, edges target-major.
fn sources<const D: usize>(h: Tensor<D>, nodes: usize, node_dim: usize) -> Tensor<D> {
    let index: Vec<i64> = super::sim::pairs(nodes).map(|(_, s)| s as i64).collect();
    let device = h.device();
    let len = index.len();
    h.select(
        node_dim,
        Tensor::<1, Int>::from_data(TensorData::new(index, [len]), &device),
    )
}

/// `h[:, target of every edge]`: each node repeated for its n − 1 incoming edges.
fn targets(h: Tensor<3>, nodes: usize) -> Tensor<3> {
    let [b, n, d] = h.dims();
    h.unsqueeze_dim::<4>(2)
        .expand([b, n, nodes - 1, d])
        .reshape([b, n * (nodes - 1), d])
}

/// The mean over each node's incoming edges: `[B, E, H]` → `[B, N, H]`.
fn incoming_mean(edges: Tensor<3>, nodes: usize) -> Tensor<3> {
    let [b, _, d] = edges.dims();
    edges
        .reshape([b, nodes, nodes - 1, d])
        .mean_dim(2)
        .reshape([b, nodes, d])
}

#[derive(Module, Debug)]
pub struct Encoder {
    node_in: Mlp,
    edge_first: Mlp,
    node_mid: Mlp,
    edge_out: Mlp,
    logits: Linear,
    nodes: usize,
}

impl Encoder {
    fn new(config: &AcdConfig, device: &Device) -> Self {
        let h = config.encoder_hidden;
        Self {
            node_in: Mlp::new(config.frames * FEATURES, h, device),
            edge_first: Mlp::new(2 * h, h, device),
            node_mid: Mlp::new(h, h, device),
            edge_out: Mlp::new(3 * h, h, device),
            logits: LinearConfig::new(h, 2).init(device),
            nodes: config.nodes,
        }
    }

    /// Edge-type logits `[B, E, 2]` of series `[B, T, N, 4]`.
    pub fn forward(&self, series: Tensor<4>) -> Tensor<3> {
        let [b, t, n, f] = series.dims();
        let per_node = series.swap_dims(1, 2).reshape([b, n, t * f]);
        let h = self.node_in.forward(per_node);
        let edge_input = Tensor::cat(
            vec![targets(h.clone(), self.nodes), sources(h, self.nodes, 1)],
            2,
        );
        let skip = self.edge_first.forward(edge_input);
        let h = self
            .node_mid
            .forward(incoming_mean(skip.clone(), self.nodes));
        let edge_input = Tensor::cat(
            vec![
                targets(h.clone(), self.nodes),
                sources(h, self.nodes, 1),
                skip,
            ],
            2,
        );
        self.logits.forward(self.edge_out.forward(edge_input))
    }
}

#[derive(Module, Debug)]
pub struct Decoder {
    message_first: Linear,
    message_second: Linear,
    out_first: Linear,
    out_second: Linear,
    out_last: Linear,
    nodes: usize,
}

impl Decoder {
    fn new(config: &AcdConfig, device: &Device) -> Self {
        let h = config.decoder_hidden;
        Self {
            message_first: LinearConfig::new(2 * FEATURES, h).init(device),
            message_second: LinearConfig::new(h, h).init(device),
            out_first: LinearConfig::new(FEATURES + h, h).init(device),
            out_second: LinearConfig::new(h, h).init(device),
            out_last: LinearConfig::new(h, FEATURES).init(device),
            nodes: config.nodes,
        }
    }

    /// One step `[M, N, 4]` → `[M, N, 4]` given each edge's spring weight `[M, E, 1]`.
    fn step(&self, x: Tensor<3>, weights: Tensor<3>) -> Tensor<3> {
        let pre = Tensor::cat(
            vec![
                sources(x.clone(), self.nodes, 1),
                targets(x.clone(), self.nodes),
            ],
            2,
        );
        let messages = relu(
            self.message_second
                .forward(relu(self.message_first.forward(pre))),
        ) * weights;
        let [m, e, h] = messages.dims();
        let summed = messages
            .reshape([m, self.nodes, e / self.nodes, h])
            .sum_dim(2)
            .reshape([m, self.nodes, h]);
        let hidden = relu(
            self.out_first
                .forward(Tensor::cat(vec![x.clone(), summed], 2)),
        );
        let hidden = relu(self.out_second.forward(hidden));
        x + self.out_last.forward(hidden)
    }

    /// Predictions of frames 1..T `[B, T − 1, N, 4]` from series `[B, T, N, 4]`: `steps`
    /// decoder steps from every `steps`-th true frame; `weights` `[B, E]` (the edges' type-1
    /// samples).
    pub fn forward(&self, series: Tensor<4>, weights: Tensor<2>, steps: usize) -> Tensor<4> {
        let [b, t, n, f] = series.dims();
        let device = series.device();
        let starts: Vec<i64> = (0..t - 1).step_by(steps).map(|s| s as i64).collect();
        let chunks = starts.len();
        let mut x = series
            .select(
                1,
                Tensor::<1, Int>::from_data(TensorData::new(starts, [chunks]), &device),
            )
            .reshape([b * chunks, n, f]);
        let e = weights.dims()[1];
        let weights = weights
            .unsqueeze_dim::<3>(1)
            .expand([b, chunks, e])
            .reshape([b * chunks, e, 1]);
        let mut predictions = Vec::with_capacity(steps);
        for _ in 0..steps {
            x = self.step(x, weights.clone());
            predictions.push(x.clone().reshape([b, chunks, 1, n, f]));
        }
        Tensor::cat(predictions, 2)
            .reshape([b, chunks * steps, n, f])
            .slice([0..b, 0..t - 1, 0..n, 0..f])
    }
}

#[derive(Module, Debug)]
pub struct AcdModel {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

/// The two ELBO terms of a batch (per particle, averaged over the batch).
pub struct Elbo {
    pub nll: Tensor<1>,
    pub kl: Tensor<1>,
}

impl Elbo {
    pub fn loss(&self) -> Tensor<1> {
        self.nll.clone() + self.kl.clone()
    }
}

impl AcdModel {
    pub fn new(config: &AcdConfig, device: &Device) -> Self {
        Self {
            encoder: Encoder::new(config, device),
            decoder: Decoder::new(config, device),
        }
    }

    /// The ELBO of standardized series `[B, T, N, 4]`, edges sampled by Gumbel-softmax from
    /// host noise `rng` (so runs are the same on every device).
    pub fn elbo(&self, config: &AcdConfig, series: Tensor<4>, rng: &mut impl RngExt) -> Elbo {
        let logits = self.encoder.forward(series.clone());
        decoder_elbo(&self.decoder, config, logits, series, rng)
    }

    /// Edge probabilities `[B, E]` (type 1's posterior) of standardized series.
    pub fn edge_probabilities(&self, series: Tensor<4>) -> Tensor<2> {
        edge_probability(self.encoder.forward(series))
    }
}

/// Type 1's probability `[B, E]` from edge-type logits `[B, E, 2]`.
pub fn edge_probability(logits: Tensor<3>) -> Tensor<2> {
    let [b, e, _] = logits.dims();
    softmax(logits, 2).slice([0..b, 0..e, 1..2]).reshape([b, e])
}

/// The ELBO of series `[B, T, N, 4]` under edge logits `[B, E, 2]` (from the encoder in
/// training; free variables in test-time adaptation).
pub fn decoder_elbo(
    decoder: &Decoder,
    config: &AcdConfig,
    logits: Tensor<3>,
    series: Tensor<4>,
    rng: &mut impl RngExt,
) -> Elbo {
    let [b, t, n, f] = series.dims();
    let e = config.edges();
    let device = series.device();
    let gumbel: Vec<f32> = (0..b * e * 2)
        .map(|_| {
            let u: f32 = rng.random_range(1e-10..1.0);
            -(-u.ln()).ln()
        })
        .collect();
    let noise = Tensor::<3>::from_data(TensorData::new(gumbel, [b, e, 2]), &device);
    let sample = softmax((logits.clone() + noise) / config.temperature, 2);
    let weights = sample.slice([0..b, 0..e, 1..2]).reshape([b, e]);
    let predicted = decoder.forward(series.clone(), weights, config.prediction_steps);
    let truth = series.slice([0..b, 1..t, 0..n, 0..f]);
    let per_particle = (b * n) as f64;
    let nll =
        (predicted - truth).powi_scalar(2).sum() / (2.0 * config.output_variance) / per_particle;
    let probabilities = softmax(logits.clone(), 2);
    let log_prior = Tensor::<1>::from_data(
        TensorData::new(
            vec![
                (1.0 - config.prior_edge).ln() as f32,
                config.prior_edge.ln() as f32,
            ],
            [2],
        ),
        &device,
    )
    .reshape([1, 1, 2]);
    let kl = (probabilities * (log_softmax(logits, 2) - log_prior)).sum() / per_particle;
    Elbo { nll, kl }
}

/// Series as the standardized `[B, T, N, 4]` tensor the model reads. Every series must have
/// the config's frames and nodes (checked by the callers).
pub fn series_tensor(series: &[&Series], config: &AcdConfig, device: &Device) -> Tensor<4> {
    let (t, n) = (config.frames, config.nodes);
    let mut data = Vec::with_capacity(series.len() * t * n * FEATURES);
    for s in series {
        for (i, v) in s.values.iter().enumerate() {
            data.push(*v as f32 / config.scale[i % FEATURES]);
        }
    }
    Tensor::from_data(
        TensorData::new(data, [series.len(), t, n, FEATURES]),
        device,
    )
}

/// The model file of an ACD model (its kind: `acd`).
impl NetSpec for AcdConfig {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[(KIND, include_bytes!("../../../assets/causal-acd.mpk"))];
    type Net = AcdModel;

    fn file_kind(&self) -> &'static str {
        KIND
    }
    fn validate(&self) -> Result<(), String> {
        if !(2..=50).contains(&self.nodes) || !(3..=1000).contains(&self.frames) {
            return Err(format!(
                "nodes {} must be in 2..=50 and frames {} in 3..=1000",
                self.nodes, self.frames
            ));
        }
        if !(4..=2048).contains(&self.encoder_hidden) || !(4..=2048).contains(&self.decoder_hidden)
        {
            return Err("hidden sizes must be in 4..=2048".into());
        }
        if self.scale.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(format!("scale {:?} must be positive", self.scale));
        }
        let usable = (self.prior_edge > 0.0 && self.prior_edge < 1.0)
            && (self.temperature > 0.0 && self.temperature <= 10.0)
            && (self.output_variance > 0.0 && self.output_variance.is_finite())
            && (1..=self.frames).contains(&self.prediction_steps);
        if !usable {
            return Err(
                "prior_edge in (0, 1), temperature in (0, 10], a positive variance and \
                        prediction steps in 1..=frames are needed"
                    .into(),
            );
        }
        Ok(())
    }
    fn build(&self, device: &Device) -> AcdModel {
        AcdModel::new(self, device)
    }
}

/// The one kind of model this demo trains.
pub const KIND: &str = "acd";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::causal::sim::{SpringsConfig, simulate};

    fn tiny() -> AcdConfig {
        AcdConfig {
            frames: 12,
            encoder_hidden: 16,
            decoder_hidden: 16,
            prediction_steps: 4,
            ..AcdConfig::default()
        }
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    #[test]
    fn the_encoder_gives_one_probability_per_ordered_pair_and_permutes_with_the_particles() {
        let config = tiny();
        let device = Device::flex();
        device.seed(1);
        let model = AcdModel::new(&config, &device);
        let sim = SpringsConfig {
            frames: 12,
            ..SpringsConfig::default()
        };
        let a = simulate(&sim, 3);
        // Relabel the particles: new particle k is old particle perm[k].
        let perm = [3, 0, 4, 1, 2];
        let mut b = a.clone();
        for t in 0..12 {
            for (k, &old) in perm.iter().enumerate() {
                let at = (t * 5 + k) * 4;
                b.values[at..at + 4].copy_from_slice(a.state(t, old));
            }
        }
        let p = values(model.edge_probabilities(series_tensor(&[&a, &b], &config, &device)));
        assert_eq!(p.len(), 2 * 20);
        let index = |t: usize, s: usize| t * 4 + if s < t { s } else { s - 1 };
        for (t, s) in crate::demos::causal::sim::pairs(5) {
            let original = p[index(perm[t], perm[s])];
            let permuted = p[20 + index(t, s)];
            assert!((original - permuted).abs() < 1e-5, "{t}←{s}");
            assert!(original > 0.0 && original < 1.0);
        }
        let predicted = model.decoder.forward(
            series_tensor(&[&a], &config, &device),
            Tensor::ones([1, 20], &device),
            4,
        );
        assert_eq!(predicted.dims(), [1, 11, 5, 4]);
    }
}
