//! The three inverses on the same series, each returning per-sample edge probabilities in
//! [`pairs`](super::sim::pairs) order and, for the panel's timeline, a trace:
//!
//! - `granger`: the pairwise lag-1 F-test (classical.rs), score s/(1+s) with s = −log10 p;
//! - `acd`: the trained encoder, at once;
//! - `acd+tta`: ACD's test-time adaptation (its code's `test_time_adapt`): for each sample,
//!   q(z) starts at the encoder's answer and Adam steps on its logits descend that sample's
//!   negative ELBO, the frozen decoder predicting the sample's own frames from the graph (the
//!   forward model checking the amortized answer). The trace is the graph after every step.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::classical::granger_scores;
use super::metrics::pooled_auroc;
use super::model::{AcdConfig, decoder_elbo, edge_probability, series_tensor};
use super::sim::Series;
use crate::demos::{DemoMethod, MethodKind};
use crate::stored_model::Learned;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Method {
    Granger,
    Acd,
    #[value(name = "acd+tta")]
    AcdTta,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Granger, Method::Acd, Method::AcdTta];

    pub fn is_learned(self) -> bool {
        self != Method::Granger
    }
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Method::Granger => "granger",
            Method::Acd => "acd",
            Method::AcdTta => "acd+tta",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Method::Granger => "Granger (F-test)",
            Method::Acd => "ACD encoder",
            Method::AcdTta => "ACD + test-time adaptation",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Method::Granger => MethodKind::Classical,
            Method::Acd => MethodKind::Amortized,
            Method::AcdTta => MethodKind::Augmented,
        }
    }

    /// What the method does, in a sentence: its tooltip in the panel.
    fn hint(self) -> &'static str {
        match self {
            Method::Granger => {
                "Pairwise Granger causality, lag 1: does the source's past improve an OLS prediction of \
                 the target's next frame beyond the target's own past? F-test, Bonferroni over the four \
                 series, score s/(1+s) with s = −log10 p (classical)"
            }
            Method::Acd => {
                "The ACD encoder: message passing over the fully connected graph reads the whole \
                 trajectory and gives every pair's edge probability at once (amortized)"
            }
            Method::AcdTta => {
                "The encoder's answer, then Adam steps on each sample's edge logits so that the trained \
                 decoder predicts this sample's own frames better (augmented: the forward model checks \
                 the amortized answer)"
            }
        }
    }
}

/// A trained model ready for inference (plain device).
pub type LearnedModel = Learned<AcdConfig>;

impl LearnedModel {
    /// Whether `series` fits the model: its particle and frame counts.
    pub fn check(&self, series: &Series) -> Result<(), String> {
        if series.nodes() != self.config.nodes || series.frames != self.config.frames {
            return Err(format!(
                "sample {} has {} particles × {} frames; the model was trained for {} × {}",
                series.id,
                series.nodes(),
                series.frames,
                self.config.nodes,
                self.config.frames
            ));
        }
        Ok(())
    }
}

/// Test-time adaptation's settings.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Adaptation {
    pub steps: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for Adaptation {
    /// ACD's: 100 Adam steps at lr 0.01 (`--num_tta_steps`, `--lr_logits`).
    fn default() -> Self {
        Self {
            steps: 100,
            learning_rate: 0.01,
            seed: 0,
        }
    }
}

fn rows(probabilities: burn::tensor::Tensor<2>) -> Vec<Vec<f64>> {
    let [_, e] = probabilities.dims();
    probabilities
        .into_data()
        .try_to_vec::<f32>()
        .unwrap_or_default()
        .chunks(e.max(1))
        .map(|c| c.iter().map(|&p| f64::from(p)).collect())
        .collect()
}

/// The encoder's edge probabilities of every series (batches of 256).
pub fn acd_probabilities(
    model: &LearnedModel,
    series: &[&Series],
    device: &Device,
) -> Vec<Vec<f64>> {
    series
        .chunks(256)
        .flat_map(|chunk| {
            rows(
                model
                    .net
                    .edge_probabilities(series_tensor(chunk, &model.config, device)),
            )
        })
        .collect()
}

/// The adapted variable of test-time adaptation: every sample's edge logits `[B, E, 2]`.
#[derive(Module, Debug)]
struct EdgeLogits {
    value: Param<Tensor<3>>,
}

/// ACD's test-time adaptation of a batch of samples: q(z) starts at the encoder's logits and
/// Adam descends each sample's negative ELBO through the frozen decoder (the per-sample terms
/// are independent, so a batch adapts as its samples would one by one). Returns the edge
/// probabilities before and after every step (`steps + 1` entries of `[B][E]`).
pub fn adapt(
    model: &LearnedModel,
    series: &[&Series],
    adaptation: Adaptation,
    device: &Device,
    cancelled: &dyn Fn() -> bool,
) -> Vec<Vec<Vec<f64>>> {
    let ad_device = device.clone().autodiff();
    let config = &model.config;
    let initial = model
        .net
        .encoder
        .forward(series_tensor(series, config, device));
    let mut logits = EdgeLogits {
        value: Param::from_tensor(Tensor::from_data(initial.into_data(), &ad_device)),
    };
    let decoder = model.net.decoder.clone().to_device(&ad_device).no_grad();
    let input = series_tensor(series, config, &ad_device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(adaptation.seed);
    let probabilities = |logits: &EdgeLogits| rows(edge_probability(logits.value.val()));
    let mut trace = vec![probabilities(&logits)];
    for _ in 0..adaptation.steps {
        if cancelled() {
            break;
        }
        let elbo = decoder_elbo(
            &decoder,
            config,
            logits.value.val(),
            input.clone(),
            &mut rng,
        );
        let loss = elbo.loss();
        if !f64::from(loss.clone().into_scalar::<f32>()).is_finite() {
            break;
        }
        let mut grads = loss.backward();
        let grads = GradientsParams::from_module(&mut grads, &logits);
        logits = optimizer.step(adaptation.learning_rate, logits, grads);
        trace.push(probabilities(&logits));
    }
    trace
}

/// Samples adapted in one batch: the per-sample terms are independent, and this bounds memory.
const ADAPT_CHUNK: usize = 256;

/// [`adapt`] in chunks of samples: the probabilities before and after every step.
fn adapt_all(
    model: &LearnedModel,
    series: &[&Series],
    adaptation: Adaptation,
    device: &Device,
    cancelled: &dyn Fn() -> bool,
) -> Vec<Vec<Vec<f64>>> {
    let mut trace: Vec<Vec<Vec<f64>>> = Vec::new();
    for chunk in series.chunks(ADAPT_CHUNK) {
        for (k, step) in adapt(model, chunk, adaptation, device, cancelled)
            .into_iter()
            .enumerate()
        {
            match trace.get_mut(k) {
                Some(samples) => samples.extend(step),
                None => trace.push(step),
            }
        }
    }
    trace
}

/// Every sample's edge probabilities by `method`; TTA adapts each sample on its own (in
/// parallel over samples).
pub fn infer(
    method: Method,
    series: &[&Series],
    model: Option<&LearnedModel>,
    adaptation: Adaptation,
    device: &Device,
) -> Result<Vec<Vec<f64>>, String> {
    if method == Method::Granger {
        return Ok(series.iter().map(|s| granger_scores(s)).collect());
    }
    let model = model.ok_or_else(|| format!("{} needs a model", method.name()))?;
    for s in series {
        model.check(s)?;
    }
    Ok(match method {
        Method::Acd => acd_probabilities(model, series, device),
        _ => adapt_all(model, series, adaptation, device, &|| false)
            .pop()
            .unwrap_or_default(),
    })
}

/// One method's answer on every sample.
#[derive(Clone, Debug)]
pub struct Run {
    pub method: Method,
    /// Per sample, per ordered pair; for `acd+tta` after the last step.
    pub probabilities: Vec<Vec<f64>>,
    /// The AUROC pooled over every pair of every sample (when every sample has its graph).
    pub auroc: Option<f64>,
    /// Wall time per sample.
    pub seconds: f64,
}

/// Every method on the same samples: what the panel's job and `eval` both run.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub runs: Vec<Run>,
    /// TTA's probabilities after each step (0: the encoder's answer), per sample, per pair.
    pub adaptation: Vec<Vec<Vec<f64>>>,
    /// The pooled AUROC after each adaptation step (when the graphs are known).
    pub adaptation_auroc: Vec<[f64; 2]>,
    /// Why the learned methods did not run, if they did not.
    pub skipped: Option<String>,
}

/// Granger, the encoder and its adaptation on `series` (the learned ones when `model` is given
/// and fits the samples); `progress` after each method, `cancelled` checked between TTA steps.
pub fn compare(
    series: &[&Series],
    model: Option<&LearnedModel>,
    adaptation: Adaptation,
    device: &Device,
    progress: &dyn Fn(f32),
    cancelled: &dyn Fn() -> bool,
) -> Comparison {
    let labels: Vec<Vec<bool>> = series.iter().filter_map(|s| s.edge_labels()).collect();
    let truth = (labels.len() == series.len()).then_some(labels);
    let score = |p: &[Vec<f64>]| truth.as_ref().and_then(|l| pooled_auroc(p, l));
    let per_sample =
        |started: Instant| started.elapsed().as_secs_f64() / series.len().max(1) as f64;
    let mut out = Comparison::default();
    let mut push = |method, probabilities: Vec<Vec<f64>>, seconds| {
        let auroc = score(&probabilities);
        out.runs.push(Run {
            method,
            probabilities,
            auroc,
            seconds,
        });
    };
    let started = Instant::now();
    let granger = series.iter().map(|s| granger_scores(s)).collect();
    push(Method::Granger, granger, per_sample(started));
    progress(0.05);
    let Some(model) = model else {
        out.skipped = Some("no model loaded".into());
        return out;
    };
    if let Some(bad) = series.iter().find_map(|s| model.check(s).err()) {
        out.skipped = Some(bad);
        return out;
    }
    let started = Instant::now();
    let acd = acd_probabilities(model, series, device);
    push(Method::Acd, acd, per_sample(started));
    progress(0.1);
    let started = Instant::now();
    let trace = adapt_all(model, series, adaptation, device, cancelled);
    let seconds = per_sample(started);
    push(
        Method::AcdTta,
        trace.last().cloned().unwrap_or_default(),
        seconds,
    );
    out.adaptation_auroc = (0..trace.len())
        .filter_map(|k| score(&trace[k]).map(|a| [k as f64, a]))
        .collect();
    out.adaptation = trace;
    out
}
