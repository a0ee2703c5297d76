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

/// The models shipped inside the binary, made by `lorenz train` (commands in README.md).
const SHIPPED_HYBRID: &[u8] = include_bytes!("../../../assets/lorenz-hybrid.mpk");
const SHIPPED_GNN: &[u8] = include_bytes!("../../../assets/lorenz-gnn.mpk");

/// A shipped model of `kind` ("gnn" or "hybrid").
pub fn shipped(kind: &str, device: &Device) -> anyhow::Result<ChainModel> {
    let bytes = match kind {
        "hybrid" => SHIPPED_HYBRID,
        "gnn" => SHIPPED_GNN,
        other => anyhow::bail!("no shipped lorenz model of kind `{other}`"),
    };
    let origin = format!("the shipped lorenz {kind} model");
    let (header, record) = model_file::read_bytes(bytes, &origin, "lorenz", kind)?;
    let config: ChainModelConfig = header.config_as()?;
    let net = model_file::apply(ChainGnn::new(&config, device), record, &origin)?;
    Ok(ChainModel { net, config })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_models_load_and_beat_the_observations() {
        let device = Device::flex();
        let tr = super::super::bench::test_trajectory(300).expect("simulate");
        for kind in ["gnn", "hybrid"] {
            let model = shipped(kind, &device).expect("shipped model");
            let estimate = model
                .infer(&tr.observations, &device)
                .pop()
                .expect("iterations");
            let raw = super::super::infer::mse(&tr.observations, &tr.states);
            let got = super::super::infer::mse(&estimate, &tr.states);
            assert!(got < 0.5 * raw, "{kind}: MSE {got} vs observations {raw}");
        }
    }
}
