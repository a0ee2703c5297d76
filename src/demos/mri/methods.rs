//! Every MRI reconstruction method behind one call, returning its trace of iterates: the
//! command line, the benchmark and the panel all run methods through here.

use burn::tensor::Device;
use rustfft::num_complex::Complex64;

use super::classical::{TvSettings, gradient_ascent, tv_reconstruct, zero_filled};
use super::model::{MriModel, MriModelConfig};
use super::sim::{Fourier, Image, Mask};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Method {
    ZeroFilled,
    GradientAscent,
    Tv,
    UNet,
    Rim,
    RimZf,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::ZeroFilled,
        Method::GradientAscent,
        Method::Tv,
        Method::UNet,
        Method::Rim,
        Method::RimZf,
    ];

    /// The methods that run a trained network.
    pub const LEARNED: [Method; 3] = [Method::UNet, Method::Rim, Method::RimZf];

    pub fn label(self) -> &'static str {
        match self {
            Method::ZeroFilled => "zero-filled",
            Method::GradientAscent => "gradient ascent",
            Method::Tv => "TV (MFISTA)",
            Method::UNet => "U-Net",
            Method::Rim => "RIM from TV",
            Method::RimZf => "RIM from zero filling",
        }
    }

    /// The command line's name (`--method`), also used in JSON output.
    pub fn cli_name(self) -> &'static str {
        match self {
            Method::ZeroFilled => "zf",
            Method::GradientAscent => "ga",
            Method::Tv => "tv",
            Method::UNet => "unet",
            Method::Rim => "rim",
            Method::RimZf => "rim-zf",
        }
    }

    /// The model kind a learned method needs.
    pub fn model_kind(self) -> Option<&'static str> {
        match self {
            Method::UNet => Some("unet"),
            Method::Rim => Some("rim"),
            Method::RimZf => Some("rim-zf"),
            _ => None,
        }
    }

    /// The architecture `mri train` gives a learned method by default.
    pub fn default_model(self) -> Option<MriModelConfig> {
        match self {
            Method::UNet => Some(MriModelConfig::unet()),
            Method::Rim => Some(MriModelConfig::rim()),
            Method::RimZf => Some(MriModelConfig::rim_zf()),
            _ => None,
        }
    }
}

/// Iterations of gradient ascent shown.
pub const GRADIENT_ASCENT_ITERATIONS: usize = 30;

/// Runs `method` on one measurement. Learned methods need `model` of their kind.
pub fn reconstruct(
    method: Method,
    kspace: &[Complex64],
    mask: &Mask,
    model: Option<&MriModel>,
    device: &Device,
) -> Result<Vec<Image>, String> {
    if kspace.len() != mask.side * mask.side {
        return Err(format!(
            "k-space has {} values but the mask is {}×{}",
            kspace.len(),
            mask.side,
            mask.side
        ));
    }
    let fourier = Fourier::new(mask.side);
    match method {
        Method::ZeroFilled => Ok(vec![zero_filled(kspace, mask, &fourier)]),
        Method::GradientAscent => Ok(gradient_ascent(
            kspace,
            mask,
            &fourier,
            GRADIENT_ASCENT_ITERATIONS,
        )),
        Method::Tv => Ok(tv_reconstruct(
            kspace,
            mask,
            &fourier,
            &TvSettings::tuned_for(mask.acceleration()),
        )),
        Method::UNet | Method::Rim | Method::RimZf => {
            let model = model.ok_or_else(|| format!("{} needs a model", method.label()))?;
            model.reconstruct(kspace, mask, device)
        }
    }
}
