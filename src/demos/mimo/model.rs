//! The MIMO demo's learned detectors in burn (one code path on every device).
//!
//! - **OAMP-Net2** (He, Wen, Jin & Li 2020): OAMP of [`super::oamp`] unrolled for T iterations,
//!   with four learned scalars per iteration (γ, θ, φ, ξ): 4T numbers in all.
//! - **DetNet** (Samuel, Diskin & Wiesel 2019): a deep unfolded network with many weights. Each
//!   layer reads a learned gradient step q = x̂ + δ₁Hᵀy − δ₂HᵀHx̂ and its state v, and a
//!   fully connected layer (ReLU) gives the next soft estimate and state; for QAM the estimate
//!   is a softmax over each dimension's levels (the paper's one-hot variant), and each layer's
//!   output is mixed 0.9/0.1 with the previous one, as in the paper. It never runs the forward
//!   model's inverse or checks its estimate against y beyond that gradient: the amortized
//!   detector of the comparison, scaled to these cores (10 layers, 4n hidden units, n = 2N_t).
//!
//! Both are trained on simulated channels of one size, modulation and channel model: one model
//! per setting.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor, TensorData};

use super::classical::{Prepared, iterate};
use super::sim::Modulation;
use crate::stored_model::{Shipped, StoredModel};

/// Which learned detector a model is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NetKind {
    #[default]
    OampNet,
    DetNet,
}

impl NetKind {
    /// The file kind.
    pub fn file_kind(self) -> &'static str {
        match self {
            Self::OampNet => "oampnet",
            Self::DetNet => "detnet",
        }
    }
}

/// What a model was trained for, and its size: stored in its file's header, checked on load and
/// against the vectors it is asked to detect.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MimoConfig {
    #[serde(default)]
    pub kind: NetKind,
    pub users: usize,
    pub antennas: usize,
    pub modulation: Modulation,
    /// The channel model it was trained on (exponential correlation; 0: i.i.d.).
    pub rho: f64,
    /// Unrolled iterations (layers).
    pub iterations: usize,
    /// DetNet's hidden units per layer (0 for OAMP-Net2).
    #[serde(default)]
    pub hidden: usize,
}

impl MimoConfig {
    /// A detector of `kind` for this setting: 10 iterations; DetNet with 4n hidden units.
    pub fn new(
        kind: NetKind,
        users: usize,
        antennas: usize,
        modulation: Modulation,
        rho: f64,
    ) -> Self {
        Self {
            kind,
            users,
            antennas,
            modulation,
            rho,
            iterations: super::methods::OAMP_ITERATIONS,
            hidden: if kind == NetKind::DetNet {
                8 * users
            } else {
                0
            },
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let setup = super::sim::Setup {
            users: self.users,
            antennas: self.antennas,
            modulation: self.modulation,
            snr_db: 0.0,
            rho: self.rho,
        };
        setup.validate()?;
        if !(1..=50).contains(&self.iterations) {
            return Err(format!("iterations {} must be in 1..=50", self.iterations));
        }
        if self.kind == NetKind::DetNet && !(4..=4096).contains(&self.hidden) {
            return Err(format!(
                "DetNet's hidden units {} must be in 4..=4096",
                self.hidden
            ));
        }
        Ok(())
    }

    /// Whether this model detects `users` × `antennas` vectors of `modulation`, or why not.
    pub fn fits(
        &self,
        users: usize,
        antennas: usize,
        modulation: Modulation,
    ) -> Result<(), String> {
        if (self.users, self.antennas, self.modulation) != (users, antennas, modulation) {
            return Err(format!(
                "the model was trained for {}×{} {} (N_r × N_t), not {antennas}×{users} {}",
                self.antennas,
                self.users,
                self.modulation.name(),
                modulation.name()
            ));
        }
        Ok(())
    }

    /// Real dimensions n = 2N_t.
    pub fn dims(&self) -> usize {
        2 * self.users
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {}×{} {}, {}",
            self.kind.file_kind(),
            self.antennas,
            self.users,
            self.modulation.name(),
            super::sim::channel_name(self.rho)
        )
    }
}

/// One DetNet layer.
#[derive(Module, Debug)]
pub struct DetNetLayer {
    /// (δ₁, δ₂): the learned gradient step's sizes.
    step: Param<Tensor<1>>,
    hidden: Linear,
    symbols: Linear,
    state: Linear,
}

/// The learned detectors: OAMP-Net2's rows (γ, θ, φ, ξ) per iteration, ones being OAMP, or
/// DetNet's layers (one of the two, as the config's kind says).
#[derive(Module, Debug)]
pub struct MimoNet {
    pub corrections: Option<Param<Tensor<2>>>,
    pub layers: Vec<DetNetLayer>,
}

/// The share of a DetNet layer's new output in its estimate and state (the rest: the old).
const DETNET_MIX: f32 = 0.9;

impl MimoNet {
    pub fn new(config: &MimoConfig, device: &Device) -> Self {
        match config.kind {
            NetKind::OampNet => Self {
                corrections: Some(Param::from_tensor(Tensor::ones(
                    [config.iterations, 4],
                    device,
                ))),
                layers: Vec::new(),
            },
            NetKind::DetNet => {
                let n = config.dims();
                let levels = config.modulation.levels().len();
                let layers = (0..config.iterations)
                    .map(|_| DetNetLayer {
                        step: Param::from_tensor(Tensor::from_data(
                            TensorData::new(vec![0.5f32, 0.5], [2]),
                            device,
                        )),
                        hidden: LinearConfig::new(2 * n, config.hidden).init(device),
                        symbols: LinearConfig::new(config.hidden, n * levels).init(device),
                        state: LinearConfig::new(config.hidden, n).init(device),
                    })
                    .collect();
                Self {
                    corrections: None,
                    layers,
                }
            }
        }
    }

    /// OAMP-Net2's rows (γ, θ, φ, ξ), for the panel and the docs (empty for DetNet).
    pub fn rows(&self) -> Vec<[f32; 4]> {
        self.corrections
            .as_ref()
            .map(|c| c.val().into_data().try_to_vec::<f32>().unwrap_or_default())
            .unwrap_or_default()
            .chunks(4)
            .map(|r| [r[0], r[1], r[2], r[3]])
            .collect()
    }

    /// The soft estimate after each of the first `iterations` iterations (layers).
    pub fn estimates(
        &self,
        prepared: &Prepared,
        modulation: Modulation,
        iterations: usize,
    ) -> Vec<Tensor<2>> {
        match &self.corrections {
            Some(corrections) => {
                let [trained, _] = corrections.val().dims();
                let kept = iterations.clamp(1, trained);
                let rows = corrections.val().slice([0..kept, 0..4]);
                iterate(prepared, rows, modulation)
                    .into_iter()
                    .map(|s| s.estimate)
                    .collect()
            }
            None => self.detnet(prepared, modulation, iterations),
        }
    }

    fn detnet(
        &self,
        prepared: &Prepared,
        modulation: Modulation,
        iterations: usize,
    ) -> Vec<Tensor<2>> {
        let device = prepared.eigenvalues.device();
        let (b, n) = (prepared.batch(), prepared.dims());
        let levels: Vec<f32> = modulation.levels().iter().map(|&v| v as f32).collect();
        let count = levels.len();
        let levels = Tensor::<1>::from_data(TensorData::new(levels, [count]), &device)
            .reshape([1, 1, count]);
        let matched = prepared.matched();
        let mut estimate = Tensor::<2>::zeros([b, n], &device);
        let mut state = Tensor::<2>::zeros([b, n], &device);
        let mut out = Vec::new();
        for layer in self.layers.iter().take(iterations.max(1)) {
            let step = layer.step.val();
            let (d1, d2) = (
                step.clone().narrow(0, 0, 1).unsqueeze::<2>(),
                step.narrow(0, 1, 1).unsqueeze::<2>(),
            );
            let q = estimate.clone() + d1 * matched.clone()
                - d2 * prepared.gram_times(estimate.clone());
            let z = relu(layer.hidden.forward(Tensor::cat(vec![q, state.clone()], 1)));
            let logits = layer.symbols.forward(z.clone()).reshape([b, n, count]);
            let soft = (softmax(logits, 2) * levels.clone())
                .sum_dim(2)
                .reshape([b, n]);
            estimate = soft * DETNET_MIX + estimate * (1.0 - DETNET_MIX);
            state = layer.state.forward(z) * DETNET_MIX + state * (1.0 - DETNET_MIX);
            out.push(estimate.clone());
        }
        out
    }
}

/// A trained detector with what it was trained for.
#[derive(Clone, Debug)]
pub struct MimoModel {
    pub net: MimoNet,
    pub config: MimoConfig,
}

// Made by `mimo train` (the commands in docs/mimo.md).
const SHIPPED_OAMPNET_32X16_QPSK: &[u8] =
    include_bytes!("../../../assets/mimo-oampnet-32x16-qpsk.mpk");
const SHIPPED_OAMPNET_64X32_16QAM: &[u8] =
    include_bytes!("../../../assets/mimo-oampnet-64x32-16qam.mpk");
const SHIPPED_OAMPNET_64X32_16QAM_RHO: &[u8] =
    include_bytes!("../../../assets/mimo-oampnet-64x32-16qam-rho0.7.mpk");
const SHIPPED_DETNET_64X32_16QAM: &[u8] =
    include_bytes!("../../../assets/mimo-detnet-64x32-16qam.mpk");
const SHIPPED_DETNET_32X16_QPSK: &[u8] =
    include_bytes!("../../../assets/mimo-detnet-32x16-qpsk.mpk");

impl StoredModel for MimoModel {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[
        ("oampnet", SHIPPED_OAMPNET_32X16_QPSK),
        ("oampnet", SHIPPED_OAMPNET_64X32_16QAM),
        ("oampnet", SHIPPED_OAMPNET_64X32_16QAM_RHO),
        ("detnet", SHIPPED_DETNET_32X16_QPSK),
        ("detnet", SHIPPED_DETNET_64X32_16QAM),
    ];
    type Net = MimoNet;
    type Stored = MimoConfig;

    fn kind(&self) -> &'static str {
        self.config.kind.file_kind()
    }
    fn net(&self) -> &MimoNet {
        &self.net
    }
    fn stored(&self) -> MimoConfig {
        self.config.clone()
    }
    fn validate(stored: &MimoConfig) -> Result<(), String> {
        stored.validate()
    }
    fn build(stored: &MimoConfig, device: &Device) -> MimoNet {
        MimoNet::new(stored, device)
    }
    fn assemble(net: MimoNet, config: MimoConfig) -> Self {
        Self { net, config }
    }
}

/// The shipped model of `kind` trained for this size, modulation and ρ, if there is one.
pub fn shipped_for(
    kind: NetKind,
    users: usize,
    antennas: usize,
    modulation: Modulation,
    rho: f64,
    device: &Device,
) -> anyhow::Result<MimoModel> {
    let models: Vec<MimoModel> = crate::stored_model::all_shipped(device)?;
    models
        .into_iter()
        .find(|m| {
            m.config.kind == kind
                && m.config.fits(users, antennas, modulation).is_ok()
                && (m.config.rho - rho).abs() < 1e-9
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no shipped {} model for {antennas}×{users} {} with ρ = {rho} (docs/mimo.md lists \
                 the shipped ones); train one with `mimo train` and pass it with --model",
                kind.file_kind(),
                modulation.name()
            )
        })
}
