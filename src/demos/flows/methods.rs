//! The methods, typed, and the one call `flows eval` and `bench --demo flows` share: fit on
//! training points, score on test points.

use std::time::Instant;

use burn::tensor::Device;

use super::classical::fit;
use super::model::{FlowConfig, points_tensor};
use super::sim::Point;
use super::train::{TrainConfig, mean_log_density, train};
use crate::demos::{DemoMethod, MethodKind};
use crate::training::Schedule;

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
}

impl Method {
    pub const ALL: [Method; 3] = [Self::Gmm, Self::Flow, Self::Survae];
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Self::Gmm => "gmm",
            Self::Flow => "flow",
            Self::Survae => "survae",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Gmm => "Gaussian mixture (EM)",
            Self::Flow => "RealNVP flow",
            Self::Survae => "abs surjection + flow",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Self::Gmm => MethodKind::Classical,
            Self::Flow => MethodKind::Amortized,
            Self::Survae => MethodKind::Augmented,
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Gmm => {
                "K Gaussians with full covariances, fitted by EM from k-means starts, the best \
                 of 3 (as scikit-learn's GaussianMixture)"
            }
            Self::Flow => {
                "4 affine coupling layers (MLPs of [200, 100]) with swaps between, trained by \
                 maximum likelihood: log p(x) exact by the change of variables"
            }
            Self::Survae => {
                "the same flow behind |x| (SurVAE's abs surjection): the signs' −2 ln 2 builds \
                 in that the data are symmetric under x → −x per coordinate; still exact"
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
    /// SurVAE's 2-D settings for the flows; K = 8 and 3 starts for the mixture.
    fn default() -> Self {
        Self {
            components: 8,
            starts: 3,
            steps: 10_000,
            couplings: 4,
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
            _ => flow,
        }
    }
}

/// A method's test score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Score {
    pub method: Method,
    /// Mean test log-likelihood, nats (higher is better).
    pub nats: f64,
    /// Whether `nats` is exact (every method here is; a stochastic layer would give a bound).
    pub exact: bool,
    /// Seconds to fit.
    pub seconds: f64,
}

/// Fits `method` on `training` and scores it on `test`.
pub fn evaluate(
    method: Method,
    training: &[Point],
    test: &[Point],
    settings: &FitSettings,
    device: &Device,
) -> anyhow::Result<Score> {
    settings.validate().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let exact = method == Method::Gmm || settings.flow(method).is_exact();
    let nats = match method {
        Method::Gmm => {
            super::classical::check(training, settings.components).map_err(anyhow::Error::msg)?;
            fit(
                training,
                settings.components,
                settings.starts,
                settings.seed,
            )
            .last()
            .mean_log_density(test)
        }
        Method::Flow | Method::Survae => {
            let mut config = TrainConfig::new(settings.flow(method), training.to_vec());
            config.schedule = Schedule::new(settings.steps, config.schedule.learning_rate, 500);
            config.schedule.budget_secs = settings.budget_secs;
            config.schedule.seed = settings.seed;
            let handle = crate::jobs::spawn("flows fit", || {}, {
                let device = device.clone();
                move |ctx| train(ctx, &config, &device, None)
            })?;
            let trained = handle.wait().map_err(|e| anyhow::anyhow!("{e}"))?;
            mean_log_density(&trained.model, points_tensor(test, device))
        }
    };
    Ok(Score {
        method,
        nats,
        exact,
        seconds: started.elapsed().as_secs_f64(),
    })
}
