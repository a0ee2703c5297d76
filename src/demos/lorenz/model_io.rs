//! Saving and loading the Lorenz chain models as model files (config + weights).

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

use super::model::{ChainGnn, ChainModel, ChainModelConfig};
use super::train::{TrainConfig, TrainedChain};
use crate::model_file::{self, ModelHeader};

/// What the header records about the training run.
#[derive(serde::Serialize)]
struct TrainingInfo<'a> {
    config: &'a TrainConfig,
    steps: u64,
    seconds: f64,
    val_mse: f64,
}

pub fn save(path: &Path, trained: &TrainedChain, config: &TrainConfig) -> anyhow::Result<()> {
    let header = ModelHeader::new(
        "lorenz",
        trained.model.config.kind(),
        &trained.model.config,
        &TrainingInfo {
            config,
            steps: trained.steps,
            seconds: trained.seconds,
            val_mse: trained.val_mse,
        },
    )?;
    model_file::save(path, &header, trained.model.net.clone())
}

/// Loads a `kind` ("gnn" or "hybrid") model, refusing any other file.
pub fn load(path: &Path, kind: &str, device: &Device) -> anyhow::Result<ChainModel> {
    let (header, record) = model_file::read(path, "lorenz", kind)?;
    let config: ChainModelConfig = header.config_as()?;
    let origin = path.display().to_string();
    let net = model_file::apply(ChainGnn::new(&config, device), record, &origin)
        .with_context(|| format!("loading {origin}"))?;
    Ok(ChainModel { net, config })
}
