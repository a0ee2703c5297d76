//! The methods, typed, and the one comparison the panel, `vae eval` and `bench --demo vae` call:
//! each method's q for every image, its trace (one q per iteration) and its ELBO, beside the
//! exact log p(x).

use std::time::Instant;

use burn::tensor::Device;

use super::classical::{
    Decoder, Expectation, ForwardModel, Gaussians, SviSettings, fit_with_restarts, gradient_step,
};
use super::metrics::{Exact, Grid, Proposal, exact_posteriors, importance_log_px};
use super::model::{VaeModel, VaeNet, rows_tensor, tensor_rows};
use super::sim::PIXELS;
use crate::demos::{DemoMethod, MethodKind};

/// An inverse of the decoder.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Method {
    /// p(z|x) on a grid (2-D only).
    Exact,
    /// Per-image variational inference from the prior.
    Svi,
    /// The encoder, one pass.
    Encoder,
    /// The encoder's q refined by k gradient steps on the image's ELBO (semi-amortized).
    #[value(name = "encoder+svi")]
    EncoderSvi,
    /// The encoder's q refined by k steps of the trained refiner (iterative amortized).
    Iterative,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Exact,
        Method::Svi,
        Method::Encoder,
        Method::EncoderSvi,
        Method::Iterative,
    ];
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Svi => "svi",
            Self::Encoder => "encoder",
            Self::EncoderSvi => "encoder+svi",
            Self::Iterative => "iterative",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Exact => "Exact Bayes (grid)",
            Self::Svi => "Per-image VI",
            Self::Encoder => "Encoder",
            Self::EncoderSvi => "Encoder + gradient steps",
            Self::Iterative => "Iterative amortized",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Self::Exact => MethodKind::Oracle,
            Self::Svi => MethodKind::Classical,
            Self::Encoder => MethodKind::Amortized,
            Self::EncoderSvi | Self::Iterative => MethodKind::Augmented,
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Exact => {
                "p(z|x) ∝ p(x|z)p(z) and log p(x) = log ∫ p(x|z)p(z)dz by quadrature on a \
                 401² grid over [−6, 6]² (2-D latent only)"
            }
            Self::Svi => {
                "q = N(μ, diag σ²) fitted to this image alone by Adam on its ELBO, 500 steps \
                 from the prior and from four other starts, the best kept: slow, but the best \
                 Gaussian"
            }
            Self::Encoder => {
                "q_φ(z|x): the VAE's encoder, one pass, trained on every image at once"
            }
            Self::EncoderSvi => {
                "the encoder's q, then k natural-gradient steps on this image's ELBO through the \
                 decoder: precision ← (1−ρ)·precision + ρ·(−E_q ∂²log p(x,z)), μ += ρ·∂ELBO/∂μ / \
                 precision (semi-amortized, Kim et al. 2018)"
            }
            Self::Iterative => {
                "the encoder's q, then k steps of a network fed the ELBO's gradient through the \
                 decoder (iterative amortized inference, Marino et al. 2018)"
            }
        }
    }
}

/// The encoder's q for every image.
pub fn encoder_q(net: &VaeNet, images: &[Vec<f32>], device: &Device) -> Gaussians {
    let mut q = Gaussians::prior(0, 0);
    for chunk in images.chunks(256) {
        let (mu, log_sigma) = net.encode(rows_tensor(chunk, PIXELS, device));
        q.mu.extend(tensor_rows(mu));
        q.log_sigma.extend(tensor_rows(log_sigma));
    }
    q
}

/// `steps` refiner steps from `start`, each fed the ELBO's gradient (over `nodes`): q before
/// and after every step.
pub fn refined(
    decoder: &Decoder<'_>,
    images: &[Vec<f32>],
    start: Gaussians,
    steps: usize,
    nodes: &super::model::Nodes,
    stop: &dyn Fn() -> bool,
) -> Vec<Gaussians> {
    let latent = start.latent();
    let mut trace = vec![start];
    for _ in 0..steps {
        if stop() {
            break;
        }
        let Some(q) = trace.last() else { break };
        let (_, grad) = decoder.elbo_gradients(images, q, nodes);
        let device = decoder.device;
        let (mu, log_sigma) = decoder.net.refine(
            (
                rows_tensor(&q.mu, latent, device),
                rows_tensor(&q.log_sigma, latent, device),
            ),
            (
                rows_tensor(&grad.mu, latent, device),
                rows_tensor(&grad.log_sigma, latent, device),
            ),
        );
        trace.push(Gaussians {
            mu: tensor_rows(mu),
            log_sigma: tensor_rows(log_sigma),
        });
    }
    trace
}

/// The semi-amortized steps' size ρ (a natural-gradient step's share; 1 is Newton's step).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GradientSteps {
    pub rate: f64,
}

impl Default for GradientSteps {
    /// Tuned on the validation digits (`bench --demo vae` prints the search).
    fn default() -> Self {
        Self { rate: 0.5 }
    }
}

/// How many times a step that lowers an image's ELBO is halved before that image stays put.
const BACKTRACKS: usize = 3;

/// `steps` natural-gradient steps from `start`: q before and after every step. A step that
/// would lower an image's ELBO (on the same `nodes`) is halved, up to three times, and then
/// skipped, so the trace never goes downhill however large the rate.
pub fn gradient_steps(
    model: &dyn ForwardModel,
    images: &[Vec<f32>],
    start: Gaussians,
    steps: usize,
    sizes: GradientSteps,
    nodes: &super::model::Nodes,
    stop: &dyn Fn() -> bool,
) -> Vec<Gaussians> {
    let mut trace = vec![start];
    for _ in 0..steps {
        if stop() {
            break;
        }
        let Some(q) = trace.last() else { break };
        let (current, grad) = model.elbo_gradients(images, q, nodes);
        let mut next = q.clone();
        let mut pending: Vec<bool> = vec![true; images.len()];
        let mut rate = sizes.rate;
        for _ in 0..=BACKTRACKS {
            let candidate = gradient_step(q, &grad, rate);
            let scores = model.elbos(images, &candidate, nodes);
            for (n, waiting) in pending.iter_mut().enumerate() {
                if *waiting && scores[n] >= current[n] {
                    next.mu[n].clone_from(&candidate.mu[n]);
                    next.log_sigma[n].clone_from(&candidate.log_sigma[n]);
                    *waiting = false;
                }
            }
            if !pending.contains(&true) {
                break;
            }
            rate *= 0.5;
        }
        trace.push(next);
    }
    trace
}

/// How a comparison runs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct CompareSettings {
    pub svi: SviSettings,
    /// k: the augmented methods' steps.
    pub steps: usize,
    pub gradient: GradientSteps,
    /// E_q when scoring every method's ELBO.
    pub scoring: Expectation,
    /// The exact posterior's grid (2-D).
    pub grid: Grid,
    /// Importance samples per image for log p(x) beyond 2-D.
    pub importance_samples: usize,
}

impl CompareSettings {
    pub fn new(latent: usize) -> Self {
        Self {
            svi: SviSettings::converged(latent),
            steps: super::train::REFINER_STEPS,
            gradient: GradientSteps::default(),
            scoring: Expectation::for_latent(latent, 16, 2000),
            grid: Grid::EXACT,
            importance_samples: 10_000,
        }
    }
}

/// The rule the gradient-fed steps read the ELBO's gradient by (as the refiner was trained).
pub fn gradient_rule(latent: usize) -> Expectation {
    Expectation::for_latent(latent, 3, 8)
}

/// One method's answer on every image.
#[derive(Clone, Debug)]
pub struct Run {
    pub method: Method,
    /// q at each iteration (one entry for one-pass methods).
    pub trace: Vec<Gaussians>,
    /// The final q's ELBO per image.
    pub elbo: Vec<f64>,
    /// Wall time per image.
    pub seconds: f64,
}

impl Run {
    pub fn last(&self) -> Option<&Gaussians> {
        self.trace.last()
    }
}

/// Every asked method on the same images, and log p(x).
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The exact posterior per image (2-D models).
    pub exact: Option<Vec<Exact>>,
    /// log p(x) per image: the quadrature's in 2-D, else importance-sampled.
    pub log_px: Vec<f64>,
    pub log_px_is_exact: bool,
    pub runs: Vec<Run>,
    /// The per-image fit's final q from each of its starts (empty when it did not run): the
    /// modes importance sampling's proposal mixes.
    pub restarts: Vec<Gaussians>,
}

impl Comparison {
    pub fn run(&self, method: Method) -> Option<&Run> {
        self.runs.iter().find(|r| r.method == method)
    }
}

/// Runs `methods` on `images` (0/1 pixels) with `model`; `progress` hears each method's name.
/// `None` when stopped.
pub fn compare(
    model: &VaeModel,
    images: &[Vec<f32>],
    methods: &[Method],
    settings: &CompareSettings,
    device: &Device,
    progress: &dyn Fn(&str),
    stop: &dyn Fn() -> bool,
) -> Result<Option<Comparison>, String> {
    let latent = model.config.latent;
    let decoder = Decoder {
        net: &model.net,
        latent,
        device,
    };
    let two_d = latent == 2;
    if methods.contains(&Method::Exact) && !two_d {
        return Err(format!(
            "the exact posterior needs the 2-D latent; this model's is {latent}-D"
        ));
    }
    let scoring = settings.scoring.nodes(latent);
    let n = images.len().max(1) as f64;
    let exact = if two_d {
        progress("exact");
        let started = Instant::now();
        let Some(exact) = exact_posteriors(&decoder, images, &settings.grid, None, stop) else {
            return Ok(None);
        };
        Some((exact, started.elapsed().as_secs_f64() / n))
    } else {
        None
    };
    let mut runs = Vec::new();
    let mut restarts = Vec::new();
    let encoder = || encoder_q(&model.net, images, device);
    for &method in methods {
        progress(method.name());
        if stop() {
            return Ok(None);
        }
        let started = Instant::now();
        let trace = match method {
            Method::Exact => {
                let Some((exact, _)) = &exact else { continue };
                let (mu, log_sigma) = exact.iter().map(Exact::as_gaussian).unzip();
                vec![Gaussians { mu, log_sigma }]
            }
            Method::Svi => {
                let fitted = fit_with_restarts(&decoder, images, &settings.svi, stop);
                restarts = fitted.finals;
                fitted.trace
            }
            Method::Encoder => vec![encoder()],
            Method::EncoderSvi => gradient_steps(
                &decoder,
                images,
                encoder(),
                settings.steps,
                settings.gradient,
                &Expectation::for_latent(latent, 5, 16).nodes(latent),
                stop,
            ),
            Method::Iterative => refined(
                &decoder,
                images,
                encoder(),
                settings.steps,
                &gradient_rule(latent).nodes(latent),
                stop,
            ),
        };
        let seconds = match (&exact, method) {
            (Some((_, s)), Method::Exact) => *s,
            _ => started.elapsed().as_secs_f64() / n,
        };
        if stop() {
            return Ok(None);
        }
        let Some(last) = trace.last() else { continue };
        let elbo = decoder.elbos(images, last, &scoring);
        runs.push(Run {
            method,
            trace,
            elbo,
            seconds,
        });
    }
    let (log_px, log_px_is_exact) = match &exact {
        Some((exact, _)) => (exact.iter().map(|e| e.log_px).collect(), true),
        None => {
            progress("importance sampling");
            let encoded = [encoder()];
            let fits = if restarts.is_empty() {
                &encoded[..]
            } else {
                &restarts[..]
            };
            let log_px = importance_log_px(
                &decoder,
                images,
                &Proposal::defensive(fits),
                settings.importance_samples,
                0x1e_5a3b,
            );
            (log_px, false)
        }
    };
    Ok(Some(Comparison {
        exact: exact.map(|(e, _)| e),
        log_px,
        log_px_is_exact,
        runs,
        restarts,
    }))
}

/// One image looked at closely (the panel): every method's trace, each step's ELBO and decoded
/// mean, and the exact posterior's density on a window around it.
#[derive(Clone, Debug)]
pub struct Inspection {
    pub comparison: Comparison,
    /// Per run (same order): the ELBO after each step (E_q by a lighter rule than the table's).
    pub step_elbos: Vec<Vec<f64>>,
    /// Per run: the decoded image (784 probabilities) at the final q's mean.
    pub decoded: Vec<Vec<f32>>,
    /// log p(x, z) on `window` (row-major, z₂ the row), normalized to the posterior density.
    pub density: Vec<f32>,
    pub window: Grid,
    /// The window's centre.
    pub centre: [f64; 2],
}

impl Inspection {
    /// The image's log p(x).
    pub fn log_px(&self) -> f64 {
        self.comparison.log_px.first().copied().unwrap_or(f64::NAN)
    }
}

/// Points across the display window.
const WINDOW_SIDE: usize = 121;

/// Runs every method on one image (0/1 pixels) with a 2-D model and gathers what the panel draws.
pub fn inspect(
    model: &VaeModel,
    image: &[f32],
    settings: &CompareSettings,
    device: &Device,
    progress: &dyn Fn(&str),
    stop: &dyn Fn() -> bool,
) -> Result<Option<Inspection>, String> {
    let images = vec![image.to_vec()];
    let Some(comparison) = compare(
        model,
        &images,
        &Method::ALL,
        settings,
        device,
        progress,
        stop,
    )?
    else {
        return Ok(None);
    };
    let decoder = Decoder {
        net: &model.net,
        latent: 2,
        device,
    };
    progress("traces");
    let light = Expectation::Hermite { order: 6 }.nodes(2);
    let mut step_elbos = Vec::new();
    let mut decoded = Vec::new();
    for run in &comparison.runs {
        if stop() {
            return Ok(None);
        }
        let steps = Gaussians {
            mu: run.trace.iter().map(|q| q.mu[0].clone()).collect(),
            log_sigma: run.trace.iter().map(|q| q.log_sigma[0].clone()).collect(),
        };
        let repeated = vec![image.to_vec(); steps.len()];
        step_elbos.push(decoder.elbos(&repeated, &steps, &light));
        let mean = run
            .last()
            .map_or_else(|| vec![0.0, 0.0], |q| q.mu[0].clone());
        let logits = model.net.decode(rows_tensor(&[mean], 2, device));
        decoded.push(
            burn::tensor::activation::sigmoid(logits)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap_or_default(),
        );
    }
    let exact = comparison
        .exact
        .as_ref()
        .and_then(|e| e.first())
        .cloned()
        .ok_or("no exact posterior")?;
    // A window six posterior standard deviations each way (at least ±0.25) around the mean.
    let half_width = (6.0 * exact.std[0].max(exact.std[1])).max(0.25);
    let window = Grid {
        half_width,
        spacing: 2.0 * half_width / (WINDOW_SIDE - 1) as f64,
    };
    let points: Vec<Vec<f32>> = (0..WINDOW_SIDE * WINDOW_SIDE)
        .map(|i| {
            vec![
                (exact.mean[0] + window.coordinate(i % WINDOW_SIDE)) as f32,
                (exact.mean[1] + window.coordinate(i / WINDOW_SIDE)) as f32,
            ]
        })
        .collect();
    let log_lik = decoder.log_lik(&images, &points);
    let density = log_lik[0]
        .iter()
        .zip(&points)
        .map(|(ll, z)| {
            let prior = -0.5 * (f64::from(z[0]).powi(2) + f64::from(z[1]).powi(2))
                - (2.0 * std::f64::consts::PI).ln();
            (ll + prior - exact.log_px).exp() as f32
        })
        .collect();
    Ok(Some(Inspection {
        comparison,
        step_elbos,
        decoded,
        density,
        window,
        centre: exact.mean,
    }))
}

/// The decoder's manifold: the decoded image (probabilities) at each point of a `side × side`
/// grid over z ∈ [−extent, extent]² (row-major, z₂ down from the top), 2-D models only.
pub fn manifold(model: &VaeModel, side: usize, extent: f64, device: &Device) -> Vec<Vec<f32>> {
    let coordinate = |i: usize| -extent + 2.0 * extent * i as f64 / (side.max(2) - 1) as f64;
    let z: Vec<Vec<f32>> = (0..side * side)
        .map(|i| {
            vec![
                coordinate(i % side) as f32,
                coordinate(side - 1 - i / side) as f32,
            ]
        })
        .collect();
    let logits = model.net.decode(rows_tensor(&z, 2, device));
    tensor_rows(burn::tensor::activation::sigmoid(logits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::vae::classical::hermite_nodes;
    use crate::demos::vae::classical::testing::{LinearGaussian, X, random_decoder};

    #[test]
    fn natural_gradient_steps_reach_the_best_diagonal_gaussian() {
        let model = LinearGaussian::example();
        let (mean, precision, _) = model.exact(&X);
        let trace = gradient_steps(
            &model,
            &[X.to_vec()],
            Gaussians::prior(1, 2),
            40,
            GradientSteps { rate: 1.0 },
            &hermite_nodes(2, 3),
            &|| false,
        );
        let q = trace.last().expect("q");
        for d in 0..2 {
            assert!(
                (f64::from(q.mu[0][d]) - mean[d]).abs() < 1e-3,
                "{q:?} vs {mean}"
            );
            let want = -0.5 * precision[(d, d)].ln();
            assert!((f64::from(q.log_sigma[0][d]) - want).abs() < 1e-3, "{q:?}");
        }
    }

    #[test]
    fn natural_gradient_steps_never_lower_an_elbo_however_large_the_rate() {
        let device = burn::tensor::Device::flex();
        let nodes = hermite_nodes(2, 5);
        for seed in 0..3 {
            let (net, images) = random_decoder(seed);
            let decoder = Decoder {
                net: &net,
                latent: 2,
                device: &device,
            };
            let trace = gradient_steps(
                &decoder,
                &images,
                Gaussians::prior(images.len(), 2),
                8,
                GradientSteps { rate: 1.0 },
                &nodes,
                &|| false,
            );
            let elbos: Vec<Vec<f64>> = trace
                .iter()
                .map(|q| decoder.elbos(&images, q, &nodes))
                .collect();
            for pair in elbos.windows(2) {
                for (before, after) in pair[0].iter().zip(&pair[1]) {
                    assert!(after >= before, "seed {seed}: {before} → {after}");
                }
            }
            assert!(elbos[8].iter().sum::<f64>() > elbos[0].iter().sum::<f64>());
        }
    }
}
