//! `vae eval` and `bench --demo vae`: every method on the test 500, scored in nats against
//! log p(x), and the acceptance checks (the quadrature's accuracy, ELBO ≤ log p(x), the
//! per-image fit's convergence, how much of the amortization gap the augmented methods close).

use std::time::Instant;

use burn::tensor::Device;

use super::classical::{Decoder, ForwardModel, Gaussians, fit_with_restarts};
use super::methods::{
    CompareSettings, Comparison, GradientSteps, Method, compare, encoder_q, gradient_steps,
};
use super::metrics::{Proposal, exact_posteriors, importance_log_px};
use super::model::VaeModel;
use super::sim::{self, Split};
use super::train::mean;
use crate::demos::DemoMethod;

/// Mean and standard deviation.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Self {
        let m = mean(values);
        let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len().max(1) as f64;
        Self {
            mean: m,
            sd: var.sqrt(),
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodMetrics {
    pub elbo: f64,
    /// log p(x) − ELBO: KL(q ‖ p(z|x)) (exactly, in 2-D).
    pub gap: f64,
    /// Images whose ELBO exceeds log p(x) by more than 10⁻³ nats (should be none).
    pub above_log_px: usize,
    /// Wall time per image.
    pub seconds: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalMethod {
    pub method: &'static str,
    pub metrics: MethodMetrics,
}

/// `vae eval`'s report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalReport {
    pub demo: &'static str,
    pub latent: usize,
    pub images: usize,
    /// Whether log p(x) is the quadrature's (2-D) or importance-sampled.
    pub log_px_exact: bool,
    pub log_px: f64,
    pub methods: Vec<EvalMethod>,
    /// ELBO(per-image fit) − ELBO(encoder), over images.
    pub amortization_gap: Spread,
    /// log p(x) − ELBO(per-image fit), over images.
    pub approximation_gap: Spread,
}

impl EvalReport {
    pub fn from_comparison(c: &Comparison, latent: usize) -> Self {
        let methods = c
            .runs
            .iter()
            .map(|run| EvalMethod {
                method: run.method.name(),
                metrics: MethodMetrics {
                    elbo: mean(&run.elbo),
                    gap: mean(&gaps(&c.log_px, &run.elbo)),
                    above_log_px: c
                        .log_px
                        .iter()
                        .zip(&run.elbo)
                        .filter(|(l, e)| **e > **l + 1e-3)
                        .count(),
                    seconds: run.seconds,
                },
            })
            .collect();
        let elbo_of = |m| c.run(m).map(|r| r.elbo.clone()).unwrap_or_default();
        let (svi, encoder) = (elbo_of(Method::Svi), elbo_of(Method::Encoder));
        Self {
            demo: super::NAME,
            latent,
            images: c.log_px.len(),
            log_px_exact: c.log_px_is_exact,
            log_px: mean(&c.log_px),
            methods,
            amortization_gap: Spread::of(&differences(&svi, &encoder)),
            approximation_gap: Spread::of(&gaps(&c.log_px, &svi)),
        }
    }

    pub fn table(&self) -> String {
        let estimate = if self.log_px_exact {
            "by quadrature"
        } else {
            "importance-sampled, 10⁴ draws"
        };
        let mut out = format!(
            "{}-D latent, {} test digits: log p(x) {:.2} nats ({estimate})\n{:<26} {:>10} {:>10} {:>12}\n",
            self.latent, self.images, self.log_px, "method", "ELBO", "gap", "s / image"
        );
        for m in &self.methods {
            out.push_str(&format!(
                "{:<26} {:>10.3} {:>10.3} {:>12.5}\n",
                m.method, m.metrics.elbo, m.metrics.gap, m.metrics.seconds
            ));
        }
        out.push_str(&format!(
            "amortization gap {:.3} ± {:.3} nats, approximation gap {:.3} ± {:.3} nats\n",
            self.amortization_gap.mean,
            self.amortization_gap.sd,
            self.approximation_gap.mean,
            self.approximation_gap.sd
        ));
        out
    }

    /// The share of the amortization gap `method` closes.
    pub fn closed(&self, method: Method) -> f64 {
        let elbo = |m: Method| {
            self.methods
                .iter()
                .find(|e| e.method == m.name())
                .map_or(f64::NAN, |e| e.metrics.elbo)
        };
        (elbo(method) - elbo(Method::Encoder)) / (elbo(Method::Svi) - elbo(Method::Encoder))
    }

    pub fn seconds(&self, method: Method) -> f64 {
        self.methods
            .iter()
            .find(|e| e.method == method.name())
            .map_or(f64::NAN, |e| e.metrics.seconds)
    }
}

pub fn gaps(log_px: &[f64], elbo: &[f64]) -> Vec<f64> {
    differences(log_px, elbo)
}

fn differences(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// The test digits, binarized at 0.5 (the first `count`).
pub fn test_images(count: usize) -> anyhow::Result<Vec<Vec<f32>>> {
    let mut digits = sim::digits(Split::Test).map_err(anyhow::Error::msg)?;
    if count < digits.len() {
        // An even share of every class.
        let per_class = count.div_ceil(10);
        digits = (0..10)
            .flat_map(|c| digits[c * 50..c * 50 + per_class.min(50)].to_vec())
            .take(count)
            .collect();
    }
    Ok(sim::binarized(&digits))
}

/// `vae eval`: every method that applies on the first `count` test digits.
pub fn evaluate(model: &VaeModel, count: usize, device: &Device) -> anyhow::Result<EvalReport> {
    let images = test_images(count)?;
    let latent = model.config.latent;
    let methods: Vec<Method> = Method::ALL
        .into_iter()
        .filter(|m| latent == 2 || *m != Method::Exact)
        .collect();
    let settings = CompareSettings::new(latent);
    let comparison = compare(
        model,
        &images,
        &methods,
        &settings,
        device,
        &|m| {
            log::info!("vae eval: {m}");
        },
        &|| false,
    )
    .map_err(anyhow::Error::msg)?
    .ok_or_else(|| anyhow::anyhow!("stopped"))?;
    Ok(EvalReport::from_comparison(&comparison, latent))
}

/// What the acceptance run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Acceptance {
    pub device: String,
    /// The 2-D model's evaluation.
    pub two_d: EvalReport,
    /// The 16-D model's (log p(x) importance-sampled).
    pub sixteen_d: Option<EvalReport>,
    /// Mean |log p(x) by quadrature − importance-sampled (10⁴ draws)|, nats.
    pub quadrature_vs_importance: f64,
    /// Mean and largest |Δ log p(x)| when the grid's spacing is halved.
    pub halving_mean: f64,
    pub halving_max: f64,
    /// The largest posterior mass near the grid's edge.
    pub edge_mass_max: f64,
    /// Mean ELBO gained by running the per-image fit four times as long.
    pub svi_four_times: f64,
    /// The semi-amortized steps' sizes chosen on the validation digits, and the search.
    pub gradient_steps: GradientSteps,
    pub gradient_search: Vec<(f64, f64)>,
    pub closed_encoder_svi: f64,
    pub closed_iterative: f64,
    pub time_ratio_encoder_svi: f64,
    pub time_ratio_iterative: f64,
}

impl Acceptance {
    pub fn table(&self) -> String {
        let mut out = self.two_d.table();
        out.push_str(&format!(
            "quadrature vs importance sampling: {:.4} nats mean |Δ|\n\
             grid halving: mean |Δ log p(x)| {:.5}, max {:.5} nats; edge mass ≤ {:.1e}\n\
             per-image fit ×4 steps: mean ELBO +{:.4} nats\n\
             natural-gradient step size ρ (validation): {}\n\
             gap closed in {} steps: encoder+svi {:.1}% at {:.3}× the fit's time, iterative {:.1}% at {:.3}×\n",
            self.quadrature_vs_importance,
            self.halving_mean,
            self.halving_max,
            self.edge_mass_max,
            self.svi_four_times,
            self.gradient_steps.rate,
            super::train::REFINER_STEPS,
            100.0 * self.closed_encoder_svi,
            self.time_ratio_encoder_svi,
            100.0 * self.closed_iterative,
            self.time_ratio_iterative,
        ));
        if let Some(s) = &self.sixteen_d {
            out.push('\n');
            out.push_str(&s.table());
        }
        out.push_str(&format!("device: {}\n", self.device));
        out
    }
}

/// Picks α, β for the semi-amortized steps by the validation digits' mean ELBO after k steps.
pub fn tune_gradient_steps(
    model: &VaeModel,
    count: usize,
    device: &Device,
) -> anyhow::Result<(GradientSteps, Vec<(f64, f64)>)> {
    let val = sim::binarized(&sim::digits(Split::Validation).map_err(anyhow::Error::msg)?);
    let val: Vec<Vec<f32>> = val
        .into_iter()
        .step_by((500 / count.max(1)).max(1))
        .collect();
    let latent = model.config.latent;
    let decoder = Decoder {
        net: &model.net,
        latent,
        device,
    };
    let settings = CompareSettings::new(latent);
    let scoring = settings.scoring.nodes(latent);
    let nodes = super::classical::Expectation::for_latent(latent, 5, 16).nodes(latent);
    let start = encoder_q(&model.net, &val, device);
    let mut search = Vec::new();
    let mut best = (GradientSteps::default(), f64::NEG_INFINITY);
    for rate in [0.2, 0.35, 0.5, 0.7, 0.85, 1.0] {
        let sizes = GradientSteps { rate };
        let trace = gradient_steps(
            &decoder,
            &val,
            start.clone(),
            settings.steps,
            sizes,
            &nodes,
            &|| false,
        );
        let q = trace.last().cloned().unwrap_or_else(|| start.clone());
        let score = mean(&decoder.elbos(&val, &q, &scoring));
        search.push((rate, score));
        if score > best.1 {
            best = (sizes, score);
        }
    }
    Ok((best.0, search))
}

/// The acceptance run on the shipped (or given) 2-D and 16-D models.
pub fn run_acceptance(
    two_d: &VaeModel,
    sixteen_d: Option<&VaeModel>,
    quick: bool,
    device: &Device,
    device_label: &str,
) -> anyhow::Result<Acceptance> {
    let count = if quick { 50 } else { 500 };
    let images = test_images(count)?;
    let decoder = Decoder {
        net: &two_d.net,
        latent: 2,
        device,
    };
    let (gradient, search) = tune_gradient_steps(two_d, if quick { 50 } else { 200 }, device)?;
    let mut settings = CompareSettings::new(2);
    settings.gradient = gradient;
    let started = Instant::now();
    let comparison = compare(
        two_d,
        &images,
        &Method::ALL,
        &settings,
        device,
        &|m| {
            eprintln!("vae bench: {m} ({:.0} s)", started.elapsed().as_secs_f64());
        },
        &|| false,
    )
    .map_err(anyhow::Error::msg)?
    .ok_or_else(|| anyhow::anyhow!("stopped"))?;
    let report = EvalReport::from_comparison(&comparison, 2);
    let exact = comparison.exact.clone().unwrap_or_default();
    eprintln!("vae bench: grid halving");
    let halved = exact_posteriors(&decoder, &images, &settings.grid.halved(), None, &|| false)
        .unwrap_or_default();
    let halving: Vec<f64> = exact
        .iter()
        .zip(&halved)
        .map(|(a, b)| (a.log_px - b.log_px).abs())
        .collect();
    eprintln!("vae bench: importance sampling");
    let svi_q = comparison
        .run(Method::Svi)
        .and_then(|r| r.last())
        .cloned()
        .unwrap_or_else(|| Gaussians::prior(images.len(), 2));
    let is = importance_log_px(
        &decoder,
        &images,
        &Proposal::defensive(&comparison.restarts),
        10_000,
        0x1e_5a3b,
    );
    let is_diff: Vec<f64> = is
        .iter()
        .zip(&comparison.log_px)
        .map(|(a, b)| (a - b).abs())
        .collect();
    eprintln!("vae bench: the per-image fit, four times as long");
    let subset: Vec<Vec<f32>> = images.iter().step_by(5).cloned().collect();
    let short_q = svi_q.clone();
    let mut long = settings.svi;
    long.steps *= 4;
    let long_trace = fit_with_restarts(&decoder, &subset, &long, &|| false).trace;
    let scoring = settings.scoring.nodes(2);
    let short_elbo: Vec<f64> = decoder.elbos(&subset, &short_q_subset(&short_q, 5), &scoring);
    let long_elbo = long_trace
        .last()
        .map(|q| decoder.elbos(&subset, q, &scoring))
        .unwrap_or_default();
    let sixteen = match sixteen_d {
        Some(model) => {
            eprintln!("vae bench: the 16-D model");
            let mut r = evaluate(model, count, device)?;
            r.latent = model.config.latent;
            Some(r)
        }
        None => None,
    };
    let svi_seconds = report.seconds(Method::Svi);
    Ok(Acceptance {
        device: device_label.to_owned(),
        quadrature_vs_importance: mean(&is_diff),
        halving_mean: mean(&halving),
        halving_max: halving.iter().copied().fold(0.0, f64::max),
        edge_mass_max: exact.iter().map(|e| e.edge_mass).fold(0.0, f64::max),
        svi_four_times: mean(&long_elbo) - mean(&short_elbo),
        gradient_steps: gradient,
        gradient_search: search,
        closed_encoder_svi: report.closed(Method::EncoderSvi),
        closed_iterative: report.closed(Method::Iterative),
        time_ratio_encoder_svi: report.seconds(Method::EncoderSvi) / svi_seconds,
        time_ratio_iterative: report.seconds(Method::Iterative) / svi_seconds,
        two_d: report,
        sixteen_d: sixteen,
    })
}

fn short_q_subset(q: &Gaussians, every: usize) -> Gaussians {
    Gaussians {
        mu: q.mu.iter().step_by(every).cloned().collect(),
        log_sigma: q.log_sigma.iter().step_by(every).cloned().collect(),
    }
}
