//! The MIMO demo's learned detectors in burn (one code path on every device).
//!
//! - **OAMP-Net2** (He, Wen, Jin & Li 2020): OAMP of [`super::oamp`] unrolled for T iterations,
//!   with four learned scalars per iteration (γ, θ, φ, ξ): 4T numbers in all, trained on
//!   simulated channels of one size, modulation and channel model (one model per setting).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use super::sim::Modulation;
use crate::stored_model::{Shipped, StoredModel};

/// The file kind of an OAMP-Net2 model.
pub const OAMPNET: &str = "oampnet";

/// What a model was trained for, and its size: stored in its file's header, checked on load and
/// against the vectors it is asked to detect.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MimoConfig {
    pub users: usize,
    pub antennas: usize,
    pub modulation: Modulation,
    /// The channel model it was trained on (exponential correlation; 0: i.i.d.).
    pub rho: f64,
    /// Unrolled iterations (layers).
    pub iterations: usize,
}

impl MimoConfig {
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

    pub fn describe(&self) -> String {
        format!(
            "{}×{} {}{}",
            self.antennas,
            self.users,
            self.modulation.name(),
            if self.rho > 0.0 {
                format!(", ρ = {}", self.rho)
            } else {
                String::new()
            }
        )
    }
}

/// OAMP-Net2's learned numbers: one row (γ, θ, φ, ξ) per iteration, ones being OAMP.
#[derive(Module, Debug)]
pub struct OampNet {
    pub corrections: Param<Tensor<2>>,
}

impl OampNet {
    pub fn new(config: &MimoConfig, device: &Device) -> Self {
        Self {
            corrections: Param::from_tensor(Tensor::ones([config.iterations, 4], device)),
        }
    }

    /// The rows (γ, θ, φ, ξ), for the panel and the docs.
    pub fn rows(&self) -> Vec<[f32; 4]> {
        self.corrections
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default()
            .chunks(4)
            .map(|r| [r[0], r[1], r[2], r[3]])
            .collect()
    }
}

/// A trained OAMP-Net2 with what it was trained for.
#[derive(Clone, Debug)]
pub struct MimoModel {
    pub net: OampNet,
    pub config: MimoConfig,
}

impl StoredModel for MimoModel {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[];
    type Net = OampNet;
    type Stored = MimoConfig;

    fn kind(&self) -> &'static str {
        OAMPNET
    }
    fn net(&self) -> &OampNet {
        &self.net
    }
    fn stored(&self) -> MimoConfig {
        self.config.clone()
    }
    fn validate(stored: &MimoConfig) -> Result<(), String> {
        stored.validate()
    }
    fn build(stored: &MimoConfig, device: &Device) -> OampNet {
        OampNet::new(stored, device)
    }
    fn assemble(net: OampNet, config: MimoConfig) -> Self {
        Self { net, config }
    }
}

/// The shipped model trained for this size, modulation and ρ, if there is one.
pub fn shipped_for(
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
            m.config.fits(users, antennas, modulation).is_ok() && (m.config.rho - rho).abs() < 1e-9
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no shipped OAMP-Net2 for {antennas}×{users} {} with ρ = {rho} (shipped: 32×16 \
                 QPSK, 64×32 16-QAM, 64×32 16-QAM ρ = 0.7); train one with `mimo train` and \
                 pass it with --model",
                modulation.name()
            )
        })
}
