//! Model files: one file holding the hyper-parameters needed to rebuild a module and its burn
//! record (burnpack). Keeping both in one file, rather than two side by side, means a model can
//! never be separated from its config; the file is written atomically.
//!
//! Layout: `MAGIC` (8 bytes) | header length (u32, little endian) | header (JSON) | burnpack.

use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::files::write_atomic;

const MAGIC: &[u8; 8] = b"INFLAB\0\x01";
const FORMAT_VERSION: u32 = 1;
/// A header is a few kilobytes; anything far larger means a corrupt length field.
const MAX_HEADER_BYTES: usize = 1 << 20;

/// What a model file says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    pub format_version: u32,
    /// The demo the model belongs to, e.g. `lorenz`.
    pub demo: String,
    /// Which of the demo's models, e.g. `hybrid`.
    pub kind: String,
    /// The module's config (its `#[derive(Config)]` struct), enough to rebuild it.
    pub config: serde_json::Value,
    /// How it was trained: seed, steps, data sizes, final loss... Free-form, shown to the user.
    pub training: serde_json::Value,
    pub app_version: String,
}

impl ModelHeader {
    pub fn new(
        demo: &str,
        kind: &str,
        config: &impl Serialize,
        training: &impl Serialize,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            format_version: FORMAT_VERSION,
            demo: demo.to_owned(),
            kind: kind.to_owned(),
            config: serde_json::to_value(config).context("model config")?,
            training: serde_json::to_value(training).context("training info")?,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    /// The config as the demo's own type.
    pub fn config_as<C: for<'de> Deserialize<'de>>(&self) -> anyhow::Result<C> {
        serde_json::from_value(self.config.clone()).with_context(|| {
            format!(
                "the {} {} model's config does not fit this version",
                self.demo, self.kind
            )
        })
    }
}

/// The bytes of a model file.
pub fn encode(header: &ModelHeader, module: impl Module) -> anyhow::Result<Vec<u8>> {
    let header_json = serde_json::to_vec(header).context("model header")?;
    let record = module
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("cannot serialize the model: {e}"))?;
    let header_len = u32::try_from(header_json.len()).context("model header too large")?;
    let mut bytes = Vec::with_capacity(12 + header_json.len() + record.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(&header_json);
    bytes.extend_from_slice(&record);
    Ok(bytes)
}

/// Saves atomically: the old file survives any failure.
pub fn save(path: &Path, header: &ModelHeader, module: impl Module) -> anyhow::Result<()> {
    write_atomic(path, &encode(header, module)?)
}

/// Splits a model file into its header and record, refusing anything that is not one.
pub fn decode(bytes: &[u8], origin: &str) -> anyhow::Result<(ModelHeader, ModuleRecord)> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        bail!("{origin}: not an inference-lab model file");
    }
    let header_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    if header_len > MAX_HEADER_BYTES || 12 + header_len > bytes.len() {
        bail!("{origin}: the model file is truncated or corrupt (header length {header_len})");
    }
    let header: ModelHeader = serde_json::from_slice(&bytes[12..12 + header_len])
        .with_context(|| format!("{origin}: the model file's header is corrupt"))?;
    if header.format_version != FORMAT_VERSION {
        bail!(
            "{origin}: model file format {} is not supported (this version reads {FORMAT_VERSION})",
            header.format_version
        );
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes[12 + header_len..].to_vec()))
        .map_err(|e| anyhow::anyhow!("{origin}: the model's weights are corrupt: {e}"))?;
    Ok((header, record))
}

/// Reads a model file and checks that it is a `demo`/`kind` model.
pub fn read(path: &Path, demo: &str, kind: &str) -> anyhow::Result<(ModelHeader, ModuleRecord)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    read_bytes(&bytes, &path.display().to_string(), demo, kind)
}

/// As [`read`], for a model already in memory (e.g. one embedded in the binary).
pub fn read_bytes(
    bytes: &[u8],
    origin: &str,
    demo: &str,
    kind: &str,
) -> anyhow::Result<(ModelHeader, ModuleRecord)> {
    let (header, record) = decode(bytes, origin)?;
    if header.demo != demo || header.kind != kind {
        bail!(
            "{origin}: this is a {} {} model, but a {demo} {kind} model is needed",
            header.demo,
            header.kind
        );
    }
    Ok((header, record))
}

/// Applies a record to a freshly built module, turning a shape mismatch into a clear message.
pub fn apply<M: Module>(module: M, record: ModuleRecord, origin: &str) -> anyhow::Result<M> {
    module
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{origin}: the weights do not fit the model: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, Tensor};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct TinyConfig {
        inputs: usize,
        outputs: usize,
    }

    fn build(config: &TinyConfig, device: &Device) -> Linear {
        LinearConfig::new(config.inputs, config.outputs).init(device)
    }

    fn outputs(model: &Linear, device: &Device) -> Vec<f32> {
        let x = Tensor::<2>::from_floats([[1.0, -2.0, 0.5]], device);
        model
            .forward(x)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 output")
    }

    #[test]
    fn round_trip_restores_config_and_weights() {
        let device = Device::flex();
        let config = TinyConfig {
            inputs: 3,
            outputs: 2,
        };
        let model = build(&config, &device);
        let expected = outputs(&model, &device);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tiny.mpk");
        let header = ModelHeader::new("lorenz", "tiny", &config, &serde_json::json!({"seed": 7}))
            .expect("header");
        save(&path, &header, model).expect("save");

        let (loaded_header, record) = read(&path, "lorenz", "tiny").expect("read");
        assert_eq!(loaded_header, header);
        let loaded_config: TinyConfig = loaded_header.config_as().expect("config");
        assert_eq!(loaded_config, config);
        let restored = apply(build(&loaded_config, &device), record, "tiny").expect("apply");
        assert_eq!(outputs(&restored, &device), expected);
    }

    #[test]
    fn corrupt_wrong_and_misshapen_files_are_refused() {
        let device = Device::flex();
        let config = TinyConfig {
            inputs: 3,
            outputs: 2,
        };
        let header = ModelHeader::new("lorenz", "tiny", &config, &()).expect("header");
        let bytes = encode(&header, build(&config, &device)).expect("encode");

        let err = decode(b"hello world, not a model", "x").expect_err("garbage");
        assert!(err.to_string().contains("not an inference-lab model"));

        let truncated = &bytes[..bytes.len() / 2];
        assert!(
            decode(truncated, "x").is_err(),
            "a truncated file is refused"
        );

        let mut flipped = bytes.clone();
        flipped[14] ^= 0xff;
        assert!(
            decode(&flipped, "x").is_err(),
            "a corrupt header is refused"
        );

        let err = read_bytes(&bytes, "x", "mri", "rim").expect_err("wrong demo");
        assert!(err.to_string().contains("lorenz tiny model"), "{err}");

        let (_, record) = read_bytes(&bytes, "x", "lorenz", "tiny").expect("read");
        let wrong_shape = build(
            &TinyConfig {
                inputs: 4,
                outputs: 2,
            },
            &device,
        );
        let err = apply(wrong_shape, record, "x").expect_err("wrong shape");
        assert!(err.to_string().contains("do not fit"), "{err}");
    }
}
