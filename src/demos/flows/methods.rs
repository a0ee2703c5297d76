//! The methods, typed; a fitted density whichever method made it (a Gaussian mixture or a flow
//! stack) with its model file (`flows fit` writes one, `flows density` and the panel read it);
//! and the one call `flows eval` and `bench --demo flows` share: fit on training points, score
//! on test points.

use std::time::Instant;

use burn::tensor::Device;

use std::path::Path;

use anyhow::Context;
use burn::module::Module;

use super::classical::{Mixture, fit as em_fit};
use super::model::{FlowConfig, FlowModel, points_tensor};
use super::sim::Point;
use super::train::{TrainConfig, train};
use crate::demos::{DemoMethod, MethodKind};
use crate::stored_model::{self, StoredModel};
use crate::training::Schedule;
use crate::training::TrainJob;

/// A density estimator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A Gaussian mixture fitted by EM.
    Gmm,
    /// RealNVP: affine couplings with swaps.
    Flow,
    /// The same flow behind an abs surjection.
    Survae,
    /// The same flow behind a VAE layer: its log-likelihood a bound (the ELBO).
    Vae,
}

impl Method {
    pub const ALL: [Method; 4] = [Self::Gmm, Self::Flow, Self::Survae, Self::Vae];
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Self::Gmm => "gmm",
            Self::Flow => "flow",
            Self::Survae => "survae",
            Self::Vae => "vae",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Gmm => "Gaussian mixture (EM)",
            Self::Flow => "RealNVP flow",
            Self::Survae => "abs surjection + flow",
            Self::Vae => "VAE layer + flow (ELBO)",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Self::Gmm => MethodKind::Classical,
            Self::Flow => MethodKind::Amortized,
            Self::Survae | Self::Vae => MethodKind::Augmented,
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Gmm => {
                "K Gaussians with full covariances, fitted by EM from k-means starts, the best \
                 of 3 (as scikit-learn's GaussianMixture)"
            }
            Self::Flow => {
                "8 affine coupling layers (MLPs of [200, 100]) with swaps between, trained by \
                 maximum likelihood: log p(x) exact by the change of variables"
            }
            Self::Survae => {
                "the same flow behind |x| (SurVAE's abs surjection): the signs' −2 ln 2 builds \
                 in that the data are symmetric under x to −x per coordinate; still exact"
            }
            Self::Vae => {
                "the same flow behind a stochastic layer (an encoder q(z|x) and a decoder \
                 p(x|z)): its term ln p(x|z) − ln q(z|x) makes log p(x) a bound, the ELBO"
            }
        }
    }
}

/// How each method is fitted.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FitSettings {
    pub components: usize,
    pub starts: usize,
    /// Flow training steps and the couplings' MLP.
    pub steps: u64,
    pub couplings: usize,
    pub hidden: Vec<usize>,
    pub budget_secs: Option<f64>,
    pub seed: u64,
}

impl Default for FitSettings {
    /// The flows: 8 affine couplings with SurVAE's MLPs ([200, 100]), 30,000 steps — chosen on
    /// validation points (docs/flows.md: SurVAE's 4 couplings and 10,000 steps left the plain
    /// flow 0.2–0.5 nats further from the truth); K = 8 and 3 starts for the mixture.
    fn default() -> Self {
        Self {
            components: 8,
            starts: 3,
            steps: 30_000,
            couplings: 8,
            hidden: vec![200, 100],
            budget_secs: None,
            seed: 0,
        }
    }
}

impl FitSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=64).contains(&self.components) {
            return Err(format!(
                "--components {}: must be in 1..=64",
                self.components
            ));
        }
        if !(1..=10_000_000).contains(&self.steps) {
            return Err(format!("--steps {}: must be in 1..=10000000", self.steps));
        }
        Ok(())
    }

    /// The flow a method fits.
    pub fn flow(&self, method: Method) -> FlowConfig {
        let flow = FlowConfig::real_nvp(self.couplings, &self.hidden);
        match method {
            Method::Survae => flow.with_abs(),
            Method::Vae => flow.with_vae(),
            _ => flow,
        }
    }

    /// A flow's training config for `stack` on `training` (its schedule from these settings).
    pub fn train_config(&self, stack: FlowConfig, training: &[Point]) -> TrainConfig {
        let mut config = TrainConfig::new(stack, training.to_vec());
        config.schedule = Schedule::new(self.steps, config.schedule.learning_rate, 500);
        config.schedule.budget_secs = self.budget_secs;
        config.schedule.seed = self.seed;
        config
    }
}

/// A method's test score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Score {
    pub method: Method,
    /// Mean test log-likelihood, nats (higher is better).
    pub nats: f64,
    /// Whether `nats` is exact (false: a bound, the ELBO).
    pub exact: bool,
    /// Seconds to fit.
    pub seconds: f64,
}

/// Fits `method` on `training`: the mixture by EM, a flow on the shared runner (as a job, so
/// that it can be followed and cancelled like any).
pub fn fit(
    method: Method,
    training: &[Point],
    settings: &FitSettings,
    device: &Device,
) -> anyhow::Result<Fitted> {
    settings.validate().map_err(anyhow::Error::msg)?;
    Ok(match method {
        Method::Gmm => {
            super::classical::check(training, settings.components).map_err(anyhow::Error::msg)?;
            let trace = em_fit(
                training,
                settings.components,
                settings.starts,
                settings.seed,
            );
            Fitted::Mixture(trace.last().clone())
        }
        Method::Flow | Method::Survae | Method::Vae => {
            let config = settings.train_config(settings.flow(method), training);
            let handle = crate::jobs::spawn("flows fit", || {}, {
                let device = device.clone();
                move |ctx| train(TrainJob::new(ctx, &device), &config)
            })?;
            let trained = handle.wait().map_err(|e| anyhow::anyhow!("{e}"))?;
            Fitted::Flow(trained.model)
        }
    })
}

/// Fits `method` on `training` and scores it on `test`.
pub fn evaluate(
    method: Method,
    training: &[Point],
    test: &[Point],
    settings: &FitSettings,
    device: &Device,
) -> anyhow::Result<Score> {
    let started = Instant::now();
    let fitted = fit(method, training, settings, device)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Score {
        method,
        nats: fitted.mean_log_density(test, device),
        exact: fitted.is_exact(),
        seconds,
    })
}

/// The file kind of a Gaussian mixture.
pub const MIXTURE_KIND: &str = "gmm";

/// A mixture has no network weights: its parameters live in the file's header.
#[derive(Module, Debug)]
pub struct NoWeights {
    components: usize,
}

/// A Gaussian mixture as a model file.
#[derive(Clone, Debug)]
pub struct MixtureModel {
    net: NoWeights,
    pub mixture: Mixture,
}

impl MixtureModel {
    pub fn new(mixture: Mixture) -> Self {
        Self {
            net: NoWeights {
                components: mixture.components.len(),
            },
            mixture,
        }
    }
}

impl StoredModel for MixtureModel {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [stored_model::Shipped] = &[];
    type Net = NoWeights;
    type Stored = Mixture;

    fn kind(&self) -> &'static str {
        MIXTURE_KIND
    }
    fn net(&self) -> &NoWeights {
        &self.net
    }
    fn stored(&self) -> Mixture {
        self.mixture.clone()
    }
    fn validate(stored: &Mixture) -> Result<(), String> {
        stored.validate()
    }
    fn build(stored: &Mixture, _device: &Device) -> NoWeights {
        NoWeights {
            components: stored.components.len(),
        }
    }
    fn assemble(_net: NoWeights, mixture: Mixture) -> Self {
        Self::new(mixture)
    }
}

/// A density fitted by one of the methods.
#[derive(Clone, Debug)]
pub enum Fitted {
    Mixture(Mixture),
    Flow(FlowModel),
}

/// Points per batch when a flow scores many points (bounded memory).
const CHUNK: usize = 65_536;

impl Fitted {
    /// Whether its log p(x) is exact (a VAE layer makes a flow's a bound).
    pub fn is_exact(&self) -> bool {
        match self {
            Self::Mixture(_) => true,
            Self::Flow(model) => model.config.is_exact(),
        }
    }

    /// ln p(x) of each point (for a stack with a VAE layer, one draw of its bound).
    pub fn log_densities(&self, points: &[Point], device: &Device) -> Vec<f64> {
        match self {
            Self::Mixture(m) => points.iter().map(|&p| m.log_density(p)).collect(),
            Self::Flow(model) => points
                .chunks(CHUNK)
                .flat_map(|chunk| {
                    let x = points_tensor(chunk, device);
                    let logs = model.net.log_density(x).into_data();
                    logs.try_to_vec::<f32>().unwrap_or_default()
                })
                .map(f64::from)
                .collect(),
        }
    }

    /// The mean ln p over `points` (−∞ when any is not finite).
    pub fn mean_log_density(&self, points: &[Point], device: &Device) -> f64 {
        let logs = self.log_densities(points, device);
        let mean = logs.iter().sum::<f64>() / logs.len().max(1) as f64;
        if mean.is_finite() {
            mean
        } else {
            f64::NEG_INFINITY
        }
    }

    /// Saves it atomically with how it was fitted.
    pub fn save(&self, path: &Path, training: &impl serde::Serialize) -> anyhow::Result<()> {
        match self {
            Self::Mixture(m) => stored_model::save(path, &MixtureModel::new(m.clone()), training),
            Self::Flow(model) => stored_model::save(path, model, training),
        }
    }

    /// Reads a model file of either kind.
    pub fn load(path: &Path, device: &Device) -> anyhow::Result<Self> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("{origin}: cannot read"))?;
        let (header, _) = crate::model_file::split(&bytes, &origin)?;
        if header.kind == MIXTURE_KIND {
            let m: MixtureModel =
                stored_model::from_bytes(&bytes, &origin, Some(MIXTURE_KIND), device)?;
            Ok(Self::Mixture(m.mixture))
        } else {
            let model: FlowModel =
                stored_model::from_bytes(&bytes, &origin, Some(super::model::KIND), device)?;
            Ok(Self::Flow(model))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::flows::classical::fit;
    use crate::demos::flows::model::FlowNet;
    use crate::demos::flows::sim::Dataset;

    #[test]
    fn both_kinds_round_trip_through_a_file_and_score_the_same() {
        let device = Device::flex();
        let dir = tempfile::tempdir().expect("dir");
        let points = Dataset::Moons.sample(400, 3);
        let mixture = Fitted::Mixture(fit(&points, 4, 1, 2).last().clone());
        let config = FlowConfig::real_nvp(2, &[8]).with_vae();
        let flow = Fitted::Flow(FlowModel {
            net: FlowNet::new(&config, &device),
            config,
        });
        for (fitted, name) in [(&mixture, "gmm.mpk"), (&flow, "flow.mpk")] {
            let path = dir.path().join(name);
            fitted.save(&path, &"test").expect("saved");
            let back = Fitted::load(&path, &device).expect("loaded");
            assert_eq!(back.is_exact(), fitted.is_exact());
            if fitted.is_exact() {
                // serde_json's text round trip may move a float's last bit.
                let (a, b) = (
                    back.log_densities(&points, &device),
                    fitted.log_densities(&points, &device),
                );
                let worst = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f64::max);
                assert!(worst < 1e-9, "{name}: {worst}");
            }
        }
        assert!(!flow.is_exact(), "a VAE layer makes it a bound");
        std::fs::write(dir.path().join("bad.mpk"), b"not a model").expect("write");
        assert!(Fitted::load(&dir.path().join("bad.mpk"), &device).is_err());
    }
}
