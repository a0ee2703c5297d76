//! Saving and loading ACD models as model files (config + weights); the shipped one.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

use super::methods::LearnedModel;
use super::model::{AcdConfig, AcdModel};
use super::train::{TrainConfig, TrainedModel};
use crate::model_file::{self, ModelHeader};

const KIND: &str = "acd";

#[derive(serde::Serialize)]
struct TrainingInfo<'a> {
    config: &'a TrainConfig,
    steps: u64,
    seconds: f64,
    val_auroc: f64,
}

pub fn save(path: &Path, trained: &TrainedModel, config: &TrainConfig) -> anyhow::Result<()> {
    let header = ModelHeader::new(
        super::NAME,
        KIND,
        &trained.model.config,
        &TrainingInfo {
            config,
            steps: trained.steps,
            seconds: trained.seconds,
            val_auroc: trained.val_auroc,
        },
    )?;
    model_file::save(path, &header, trained.model.net.clone())
}

fn rebuild(
    header: &ModelHeader,
    record: burn::store::ModuleRecord,
    origin: &str,
    device: &Device,
) -> anyhow::Result<LearnedModel> {
    let config: AcdConfig = header.config_as()?;
    config
        .validate()
        .map_err(anyhow::Error::msg)
        .with_context(|| origin.to_owned())?;
    let net = model_file::apply(AcdModel::new(&config, device), record, origin)
        .with_context(|| format!("loading {origin}"))?;
    Ok(LearnedModel { net, config })
}

pub fn load(path: &Path, device: &Device) -> anyhow::Result<LearnedModel> {
    let (header, record) = model_file::read(path, super::NAME, KIND)?;
    rebuild(&header, record, &path.display().to_string(), device)
}

/// The shipped model (made by `causal train`, docs/causal.md).
const SHIPPED: &[u8] = include_bytes!("../../../assets/causal-acd.mpk");

pub fn shipped(device: &Device) -> anyhow::Result<LearnedModel> {
    let origin = "the shipped causal model";
    let (header, record) = model_file::read_bytes(SHIPPED, origin, super::NAME, KIND)?;
    rebuild(&header, record, origin, device)
}

/// `--model F` when given, else the shipped model.
pub fn load_or_shipped(path: Option<&Path>, device: &Device) -> anyhow::Result<LearnedModel> {
    match path {
        Some(path) => load(path, device),
        None => shipped(device),
    }
}
