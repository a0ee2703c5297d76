//! Saving and loading the MRI models (RIM, U-Net) as model files (config + weights).

use std::path::Path;

use anyhow::{Context, bail};
use burn::tensor::Device;

use super::methods::Method;
use super::model::{MriModel, MriModelConfig, MriNet};
use super::train::{TrainConfig, TrainedMri};
use crate::model_file::{self, ModelHeader};

#[derive(serde::Serialize)]
struct TrainingInfo<'a> {
    config: &'a TrainConfig,
    steps: u64,
    seconds: f64,
    val_psnr: f64,
}

pub fn save(path: &Path, trained: &TrainedMri, config: &TrainConfig) -> anyhow::Result<()> {
    let header = ModelHeader::new(
        "mri",
        &trained.model.config.kind,
        &trained.model.config,
        &TrainingInfo {
            config,
            steps: trained.steps,
            seconds: trained.seconds,
            val_psnr: trained.val_psnr,
        },
    )?;
    model_file::save(path, &header, trained.model.net.clone())
}

fn rebuild(
    header: &ModelHeader,
    record: burn::store::ModuleRecord,
    origin: &str,
    device: &Device,
) -> anyhow::Result<MriModel> {
    let config: MriModelConfig = header.config_as()?;
    config
        .check()
        .map_err(anyhow::Error::msg)
        .with_context(|| origin.to_owned())?;
    let net = model_file::apply(MriNet::new(&config, device), record, origin)
        .with_context(|| format!("loading {origin}"))?;
    Ok(MriModel { net, config })
}

/// Loads a `kind` ("rim", "rim-zf" or "unet") model, refusing any other file.
pub fn load(path: &Path, kind: &str, device: &Device) -> anyhow::Result<MriModel> {
    let (header, record) = model_file::read(path, "mri", kind)?;
    rebuild(&header, record, &path.display().to_string(), device)
}

/// Loads an MRI model of whichever kind the file holds.
pub fn load_any(path: &Path, device: &Device) -> anyhow::Result<MriModel> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{origin}: cannot read"))?;
    let (header, record) = model_file::decode(&bytes, &origin)?;
    if header.demo != "mri" {
        bail!(
            "{origin}: this is a {} {} model, not an MRI one",
            header.demo,
            header.kind
        );
    }
    rebuild(&header, record, &origin, device)
}

/// The models shipped inside the binary, made by `mri train` (commands in README.md).
const SHIPPED_RIM: &[u8] = include_bytes!("../../../assets/mri-rim.mpk");
const SHIPPED_RIM_ZF: &[u8] = include_bytes!("../../../assets/mri-rim-zf.mpk");
const SHIPPED_UNET: &[u8] = include_bytes!("../../../assets/mri-unet.mpk");

/// A shipped model of `kind` ("rim", "rim-zf" or "unet").
pub fn shipped(kind: &str, device: &Device) -> anyhow::Result<MriModel> {
    let bytes = match kind {
        "rim" => SHIPPED_RIM,
        "rim-zf" => SHIPPED_RIM_ZF,
        "unet" => SHIPPED_UNET,
        other => anyhow::bail!("no shipped MRI model of kind `{other}`"),
    };
    let origin = format!("the shipped MRI {kind} model");
    let (header, record) = model_file::read_bytes(bytes, &origin, "mri", kind)?;
    rebuild(&header, record, &origin, device)
}

/// The model a learned method uses: the file given, else the shipped one.
pub fn model_for(
    method: Method,
    path: Option<&Path>,
    device: &Device,
) -> anyhow::Result<Option<MriModel>> {
    let Some(kind) = method.model_kind() else {
        if let Some(path) = path {
            bail!("{}: {} takes no model", path.display(), method.label());
        }
        return Ok(None);
    };
    Ok(Some(match path {
        Some(path) => load(path, kind, device)?,
        None => shipped(kind, device)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mri::classical::zero_filled;
    use crate::demos::mri::metrics::psnr;
    use crate::demos::mri::sim::{Fourier, MaskKind, MeasureConfig, phantom, simulate};

    #[test]
    fn shipped_models_load_and_improve_on_zero_filling() {
        let device = Device::flex();
        let fourier = Fourier::new(64);
        let truth = phantom(64, 123_456);
        let m = simulate(
            &truth,
            &fourier,
            &MeasureConfig::new(MaskKind::Cartesian, 4.0),
        )
        .expect("simulate");
        let zf = psnr(&zero_filled(&m.kspace, &m.mask, &fourier), &truth);
        // The RIM starts from TV: far above zero filling. The U-Net and the zero-filled RIM
        // start from zero filling and must not fall below it.
        for (kind, margin) in [("rim", 2.0), ("rim-zf", 0.0), ("unet", 0.0)] {
            let model = shipped(kind, &device).expect("shipped model");
            let trace = model.reconstruct(&m.kspace, &m.mask, &device).expect("run");
            let got = psnr(&trace.last().expect("steps").clamped(), &truth);
            assert!(
                got > zf + margin,
                "{kind}: {got:.2} dB vs zero-filled {zf:.2} dB"
            );
        }
    }

    #[test]
    fn a_lorenz_model_is_refused_as_an_mri_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lorenz.mpk");
        std::fs::write(&path, include_bytes!("../../../assets/lorenz-gnn.mpk")).expect("write");
        let err = load(&path, "rim", &Device::flex()).expect_err("refused");
        assert!(format!("{err:#}").contains("lorenz gnn model"), "{err:#}");
    }
}
