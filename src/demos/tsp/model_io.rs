//! Saving and loading attention models as model files (config + weights); the shipped ones.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

use super::methods::LearnedModel;
use super::model::{AmConfig, AttentionModel};
use super::train::{TrainConfig, TrainedModel};
use crate::model_file::{self, ModelHeader};

const KIND: &str = "am";

/// What the header stores to rebuild the model.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    model: AmConfig,
    trained_n: usize,
}

#[derive(serde::Serialize)]
struct TrainingInfo<'a> {
    config: &'a TrainConfig,
    steps: u64,
    seconds: f64,
    val_gap_percent: f64,
}

pub fn save(path: &Path, trained: &TrainedModel, config: &TrainConfig) -> anyhow::Result<()> {
    let model = &trained.model;
    let header = ModelHeader::new(
        "tsp",
        KIND,
        &Stored {
            model: model.config.clone(),
            trained_n: model.trained_n,
        },
        &TrainingInfo {
            config,
            steps: trained.steps,
            seconds: trained.seconds,
            val_gap_percent: trained.val_gap,
        },
    )?;
    model_file::save(path, &header, model.net.clone())
}

fn rebuild(
    header: &ModelHeader,
    record: burn::store::ModuleRecord,
    origin: &str,
    device: &Device,
) -> anyhow::Result<LearnedModel> {
    let stored: Stored = header.config_as()?;
    stored
        .model
        .validate()
        .map_err(anyhow::Error::msg)
        .with_context(|| origin.to_owned())?;
    let net = model_file::apply(AttentionModel::new(&stored.model, device), record, origin)
        .with_context(|| format!("loading {origin}"))?;
    Ok(LearnedModel {
        net,
        config: stored.model,
        trained_n: stored.trained_n,
    })
}

pub fn load(path: &Path, device: &Device) -> anyhow::Result<LearnedModel> {
    let (header, record) = model_file::read(path, "tsp", KIND)?;
    rebuild(&header, record, &path.display().to_string(), device)
}

/// The shipped models, by the n they were trained on (made by `tsp train`, docs/tsp.md).
const SHIPPED: &[(usize, &[u8])] = &[
    (20, include_bytes!("../../../assets/tsp-am20.mpk")),
    (50, include_bytes!("../../../assets/tsp-am50.mpk")),
];

/// The shipped model trained on the n nearest to `n`.
pub fn shipped(n: usize, device: &Device) -> anyhow::Result<LearnedModel> {
    let (trained_n, bytes) = SHIPPED
        .iter()
        .min_by_key(|(m, _)| m.abs_diff(n))
        .ok_or_else(|| anyhow::anyhow!("no tsp model is shipped yet: pass --model F"))?;
    let origin = format!("the shipped tsp model for n = {trained_n}");
    let (header, record) = model_file::read_bytes(bytes, &origin, "tsp", KIND)?;
    rebuild(&header, record, &origin, device)
}

/// `--model F` when given, else the shipped model nearest in n.
pub fn load_or_shipped(
    path: Option<&Path>,
    n: usize,
    device: &Device,
) -> anyhow::Result<LearnedModel> {
    match path {
        Some(path) => load(path, device),
        None => shipped(n, device),
    }
}
