//! Saving and loading the MRI models (RIM, U-Net) as model files (config + weights).

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

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

/// Loads a `kind` ("rim" or "unet") model, refusing any other file.
pub fn load(path: &Path, kind: &str, device: &Device) -> anyhow::Result<MriModel> {
    let (header, record) = model_file::read(path, "mri", kind)?;
    rebuild(&header, record, &path.display().to_string(), device)
}

/// The models shipped inside the binary, made by `mri train` (commands in README.md).
const SHIPPED_RIM: &[u8] = include_bytes!("../../../assets/mri-rim.mpk");
const SHIPPED_UNET: &[u8] = include_bytes!("../../../assets/mri-unet.mpk");

/// A shipped model of `kind` ("rim" or "unet").
pub fn shipped(kind: &str, device: &Device) -> anyhow::Result<MriModel> {
    let bytes = match kind {
        "rim" => SHIPPED_RIM,
        "unet" => SHIPPED_UNET,
        other => anyhow::bail!("no shipped MRI model of kind `{other}`"),
    };
    let origin = format!("the shipped MRI {kind} model");
    let (header, record) = model_file::read_bytes(bytes, &origin, "mri", kind)?;
    rebuild(&header, record, &origin, device)
}
