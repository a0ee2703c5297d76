//! Saving and loading the NBP and NEBP models as model files (config + weights).

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

use super::methods::LearnedDecoder;
use super::model::{DecoderNet, NetConfig, NetKind};
use super::train::{TrainConfig, TrainedDecoder};
use crate::model_file::{self, ModelHeader};

#[derive(serde::Serialize)]
struct TrainingInfo<'a> {
    config: &'a TrainConfig,
    steps: u64,
    seconds: f64,
    val_ber: f64,
    bp_val_ber: f64,
}

pub fn save(path: &Path, trained: &TrainedDecoder, config: &TrainConfig) -> anyhow::Result<()> {
    let model = &trained.decoder;
    let header = ModelHeader::new(
        "ldpc",
        model.config.kind.name(),
        &model.config,
        &TrainingInfo {
            config,
            steps: trained.steps,
            seconds: trained.seconds,
            val_ber: trained.val_ber,
            bp_val_ber: trained.bp_val_ber,
        },
    )?;
    model_file::save(path, &header, model.net.clone())
}

fn rebuild(
    header: &ModelHeader,
    record: burn::store::ModuleRecord,
    origin: &str,
    device: &Device,
) -> anyhow::Result<LearnedDecoder> {
    let config: NetConfig = header.config_as()?;
    config
        .validate()
        .map_err(anyhow::Error::msg)
        .with_context(|| origin.to_owned())?;
    let net = model_file::apply(DecoderNet::new(&config, device), record, origin)
        .with_context(|| format!("loading {origin}"))?;
    Ok(LearnedDecoder { net, config })
}

/// Loads a `kind` model, refusing any other file.
pub fn load(path: &Path, kind: NetKind, device: &Device) -> anyhow::Result<LearnedDecoder> {
    let (header, record) = model_file::read(path, "ldpc", kind.name())?;
    rebuild(&header, record, &path.display().to_string(), device)
}

/// The model shipped for `kind`, made by `ldpc train` (commands in docs/ldpc.md).
pub fn shipped(kind: NetKind, device: &Device) -> anyhow::Result<LearnedDecoder> {
    let bytes: &[u8] = match kind {
        NetKind::Nbp => SHIPPED_NBP,
        NetKind::Nebp => SHIPPED_NEBP,
    };
    let origin = format!("the shipped ldpc {} model", kind.name());
    let (header, record) = model_file::read_bytes(bytes, &origin, "ldpc", kind.name())?;
    rebuild(&header, record, &origin, device)
}

/// `--model F` when given, else the shipped model of `kind`.
pub fn load_or_shipped(
    path: Option<&Path>,
    kind: NetKind,
    device: &Device,
) -> anyhow::Result<LearnedDecoder> {
    match path {
        Some(path) => load(path, kind, device),
        None => shipped(kind, device),
    }
}

const SHIPPED_NBP: &[u8] = include_bytes!("../../../assets/ldpc-nbp.mpk");
const SHIPPED_NEBP: &[u8] = include_bytes!("../../../assets/ldpc-nebp.mpk");

/// The kind of an ldpc model file (to pick the method it serves).
pub fn kind_of(path: &Path) -> anyhow::Result<NetKind> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| origin.clone())?;
    let (header, _) = model_file::split(&bytes, &origin)?;
    match (header.demo.as_str(), header.kind.as_str()) {
        ("ldpc", "nbp") => Ok(NetKind::Nbp),
        ("ldpc", "nebp") => Ok(NetKind::Nebp),
        (demo, kind) => {
            anyhow::bail!("{origin}: a {demo} {kind} model, not an ldpc nbp or nebp model")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::ldpc::code::shipped as shipped_code;
    use crate::demos::ldpc::methods::{ErrorCounts, Method, decode_frames};
    use crate::demos::ldpc::sim::{Channel, send_frames};

    #[test]
    fn shipped_models_load_and_nebp_beats_bp_under_bursts_on_another_code() {
        let device = Device::flex();
        let code = shipped_code("ccsds-128-64").expect("code");
        let frames = send_frames(
            &code,
            &Channel {
                eb_n0_db: 4.0,
                burst_sigma: 3.0,
            },
            400,
            77,
        );
        let errors = |method: Method| {
            let learned = method
                .net_kind()
                .map(|k| shipped(k, &device).expect("shipped model"));
            let (bits, _) =
                decode_frames(method, &code, &frames.llr, 20, learned.as_ref(), &device)
                    .expect("decode");
            ErrorCounts::count(&bits, &frames.bits, code.n).bit_errors
        };
        let (bp, nbp, nebp) = (
            errors(Method::Bp),
            errors(Method::Nbp),
            errors(Method::Nebp),
        );
        assert!(nbp <= bp + bp / 10, "nbp {nbp} vs bp {bp}");
        assert!(nebp < bp, "nebp {nebp} vs bp {bp}");
    }

    #[test]
    fn a_model_of_another_kind_or_demo_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nbp.mpk");
        std::fs::write(&path, SHIPPED_NBP).expect("write");
        let e = load(&path, NetKind::Nebp, &Device::flex()).expect_err("kind");
        assert!(format!("{e:#}").contains("nbp"), "{e:#}");
        assert_eq!(kind_of(&path).expect("kind"), NetKind::Nbp);
        let lorenz = dir.path().join("lorenz.mpk");
        std::fs::write(&lorenz, include_bytes!("../../../assets/lorenz-gnn.mpk")).expect("write");
        assert!(kind_of(&lorenz).is_err());
    }
}
