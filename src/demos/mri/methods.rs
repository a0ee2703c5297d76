//! Every MRI reconstruction method behind one call, returning its trace of iterates: the
//! command line, the benchmark and the panel all run methods through here.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use burn::tensor::Device;
use rustfft::num_complex::Complex64;

use super::classical::{TvSettings, gradient_ascent, tv_reconstruct, zero_filled};
use super::metrics::{Quality, iterations_to_reach, quality};
use super::model::{MriKind, MriModel, MriModelConfig};
use super::sim::{Fourier, Image, Mask};
use crate::demos::{DemoMethod, MethodKind};
use crate::stored_model;

/// Every reconstruction method; `--method` takes all but gradient ascent (shown in the panel
/// only), by the names of [`Method::name`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum Method {
    #[value(name = "zf")]
    ZeroFilled,
    #[value(skip)]
    GradientAscent,
    Tv,
    #[value(name = "unet")]
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

    /// The model kind a learned method needs.
    pub fn model_kind(self) -> Option<MriKind> {
        match self {
            Method::UNet => Some(MriKind::Unet),
            Method::Rim => Some(MriKind::Rim),
            Method::RimZf => Some(MriKind::RimZf),
            _ => None,
        }
    }

    /// The method a learned model serves.
    pub fn learned(kind: MriKind) -> Self {
        match kind {
            MriKind::Unet => Method::UNet,
            MriKind::Rim => Method::Rim,
            MriKind::RimZf => Method::RimZf,
        }
    }

    /// The architecture `mri train` gives a learned method by default.
    pub fn default_model(self) -> Option<MriModelConfig> {
        match self.model_kind()? {
            MriKind::Unet => Some(MriModelConfig::unet()),
            MriKind::Rim => Some(MriModelConfig::rim()),
            MriKind::RimZf => Some(MriModelConfig::rim_zf()),
        }
    }

    /// The model this method uses: the file given, else the shipped one (`None` for a
    /// classical method, which refuses a file).
    pub fn model(self, path: Option<&Path>, device: &Device) -> anyhow::Result<Option<MriModel>> {
        let Some(kind) = self.model_kind() else {
            if let Some(path) = path {
                bail!("{}: {} takes no model", path.display(), self.label());
            }
            return Ok(None);
        };
        stored_model::load_or_shipped(path, kind.name(), device).map(Some)
    }
}

impl DemoMethod for Method {
    /// The command line's name (`--method`), also used in JSON output.
    fn name(self) -> &'static str {
        match self {
            Method::ZeroFilled => "zf",
            Method::GradientAscent => "ga",
            Method::Tv => "tv",
            Method::UNet => "unet",
            Method::Rim => "rim",
            Method::RimZf => "rim-zf",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Method::ZeroFilled => "zero-filled",
            Method::GradientAscent => "gradient ascent",
            Method::Tv => "TV (MFISTA)",
            Method::UNet => "U-Net",
            Method::Rim => "RIM from TV",
            Method::RimZf => "RIM from zero filling",
        }
    }

    /// Its family: classical, amortized (the U-Net) or augmented (the RIMs).
    fn kind(self) -> MethodKind {
        match self {
            Method::UNet => MethodKind::Amortized,
            Method::Rim | Method::RimZf => MethodKind::Augmented,
            _ => MethodKind::Classical,
        }
    }

    /// What the method does, in a sentence: its tooltip in the panel.
    fn hint(self) -> &'static str {
        match self {
            Method::ZeroFilled => "x = F^-1 y with the unsampled frequencies set to 0 (classical)",
            Method::GradientAscent => {
                "x := x + η F^H M^H (y − M F x): gradient ascent on log p(y|x), no prior (classical)"
            }
            Method::Tv => {
                "min over x in [0, 1] of ½ |M F x − y|² + λ TV(x), by MFISTA until the objective \
                 settles; λ tuned on validation phantoms (classical)"
            }
            Method::UNet => {
                "x = x_zf + UNet(x_zf): one pass from the zero-filled image (amortized)"
            }
            Method::Rim => {
                "x(t+1) = x(t) + g(grad log p(y|x(t)), x(t), s(t)): a convolutional GRU fed the data \
                 term's gradient, 8 steps from the TV estimate (augmented)"
            }
            Method::RimZf => {
                "the same recurrent update, 8 steps from the zero-filled image with no TV anywhere: \
                 a learned optimizer in place of TV's iterations (augmented)"
            }
        }
    }
}

/// Iterations of gradient ascent shown.
pub const GRADIENT_ASCENT_ITERATIONS: usize = 30;

/// One method's reconstruction of one measurement: its trace, each step's scores against the
/// truth (when it is known), and its time.
#[derive(Clone, Debug)]
pub struct Run {
    pub method: Method,
    pub trace: Vec<Image>,
    pub scores: Vec<Quality>,
    pub seconds: f64,
}

/// Runs `method` (with `model` when it is learned) on a measurement and scores every step
/// against `truth` when given: the one call the panel's job, `eval` and `bench` make.
pub fn run(
    method: Method,
    kspace: &[Complex64],
    mask: &Mask,
    truth: Option<&Image>,
    model: Option<&MriModel>,
    device: &Device,
) -> Result<Run, String> {
    let started = Instant::now();
    let trace = reconstruct(method, kspace, mask, model, device)?;
    let seconds = started.elapsed().as_secs_f64();
    let scores = truth
        .map(|t| trace.iter().map(|x| quality(&x.clamped(), t)).collect())
        .unwrap_or_default();
    Ok(Run {
        method,
        trace,
        scores,
        seconds,
    })
}

/// What rim-zf's steps are worth in TV iterations on one image: the PSNR its last step reaches,
/// and how many of TV's iterations reach it (`None`: TV never does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TvWorth {
    pub reached_psnr: f64,
    pub tv_iterations: Option<usize>,
}

/// [`TvWorth`] of one image from the per-step PSNR of rim-zf and of TV.
pub fn worth_in_tv(rim_zf_psnr: &[f64], tv_psnr: &[f64]) -> Option<TvWorth> {
    let reached_psnr = *rim_zf_psnr.last()?;
    Some(TvWorth {
        reached_psnr,
        tv_iterations: iterations_to_reach(tv_psnr, reached_psnr),
    })
}

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
