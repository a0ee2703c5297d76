//! `causal eval` and `bench --demo causal`: every method on fresh simulated samples (seeds
//! apart from training's and validation's), AUROC pooled over every ordered pair of every
//! sample, and the time per sample.

use burn::tensor::Device;

use super::methods::{Adaptation, LearnedModel, Method, compare};
use super::sim::{Series, SpringsConfig, simulate_many};
use crate::demos::DemoMethod;
use crate::training::Stream;

/// What to evaluate on.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct EvalSettings {
    pub samples: usize,
    pub noise: f64,
    pub hidden: bool,
    pub seed: u64,
    pub adaptation: Adaptation,
}

/// Held-out samples: their seeds never meet training's (step-derived) or validation's.
pub fn test_set(settings: &EvalSettings) -> Vec<Series> {
    let config = SpringsConfig {
        noise: settings.noise,
        hidden_particle: settings.hidden,
        ..SpringsConfig::default()
    };
    simulate_many(
        &config,
        settings.samples,
        Stream::test(settings.seed.wrapping_add(0x7e57_0000_0000)),
    )
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodMetrics {
    pub method: &'static str,
    pub metrics: Metrics,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Metrics {
    pub auroc: f64,
    /// Wall time per sample.
    pub seconds: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Evaluation {
    pub demo: &'static str,
    pub variant: String,
    pub settings: EvalSettings,
    pub methods: Vec<MethodMetrics>,
}

impl Evaluation {
    pub fn auroc(&self, method: Method) -> f64 {
        self.methods
            .iter()
            .find(|m| m.method == method.name())
            .map_or(f64::NAN, |m| m.metrics.auroc)
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "{} ({} samples)\n{:<30} {:>8} {:>12}\n",
            self.variant, self.settings.samples, "method", "AUROC", "s / sample"
        );
        for m in &self.methods {
            out.push_str(&format!(
                "{:<30} {:>8.4} {:>12.4}\n",
                m.method, m.metrics.auroc, m.metrics.seconds
            ));
        }
        out
    }
}

fn variant_name(settings: &EvalSettings) -> String {
    match (settings.noise > 0.0, settings.hidden) {
        (false, false) => "springs".into(),
        (true, false) => format!("springs, noise σ {}", settings.noise),
        (false, true) => "springs, one hidden particle".into(),
        (true, true) => format!("springs, noise σ {}, one hidden particle", settings.noise),
    }
}

/// Every method on one test set.
pub fn evaluate(
    model: &LearnedModel,
    settings: &EvalSettings,
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let series = test_set(settings);
    let refs: Vec<&Series> = series.iter().collect();
    let comparison = compare(
        &refs,
        Some(model),
        settings.adaptation,
        device,
        &|_| {},
        &|| false,
    );
    if let Some(why) = comparison.skipped {
        anyhow::bail!("{why}");
    }
    let methods = comparison
        .runs
        .iter()
        .map(|run| MethodMetrics {
            method: run.method.name(),
            metrics: Metrics {
                auroc: run.auroc.unwrap_or(f64::NAN),
                seconds: run.seconds,
            },
        })
        .collect();
    Ok(Evaluation {
        demo: super::NAME,
        variant: variant_name(settings),
        settings: *settings,
        methods,
    })
}

/// The acceptance run: clean springs, observation noise, a hidden particle.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub device: String,
    pub evaluations: Vec<Evaluation>,
}

/// The noise of the noisy variant (in the simulator's units: positions spread ~1.5, speeds ~0.5).
pub const BENCH_NOISE: f64 = 0.05;

impl Report {
    pub fn table(&self) -> String {
        let mut out = String::new();
        for e in &self.evaluations {
            out.push_str(&e.table());
            out.push_str(&format!(
                "  acd − granger {:+.4}, tta − acd {:+.4}\n\n",
                e.auroc(Method::Acd) - e.auroc(Method::Granger),
                e.auroc(Method::AcdTta) - e.auroc(Method::Acd)
            ));
        }
        out.push_str(&format!("device: {}\n", self.device));
        out
    }
}

pub fn run_acceptance(
    model: &LearnedModel,
    quick: bool,
    seed: u64,
    device: &Device,
    device_label: &str,
) -> anyhow::Result<Report> {
    let samples = if quick { 20 } else { 200 };
    let adaptation = Adaptation {
        seed,
        ..Adaptation::default()
    };
    let mut evaluations = Vec::new();
    for (noise, hidden) in [(0.0, false), (BENCH_NOISE, false), (0.0, true)] {
        let settings = EvalSettings {
            samples,
            noise,
            hidden,
            seed,
            adaptation,
        };
        let evaluation = evaluate(model, &settings, device)?;
        eprint!("{}", evaluation.table());
        evaluations.push(evaluation);
    }
    Ok(Report {
        device: device_label.to_owned(),
        evaluations,
    })
}
