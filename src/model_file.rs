//! Model files: one file holding the hyper-parameters needed to rebuild a module and its burn
//! record (burnpack). Keeping both in one file, rather than two side by side, means a model can
//! never be separated from its config; the file is written atomically.
//!
//! Layout: `MAGIC` (7 bytes) | format version (1 byte) | header length (u32, little endian) |
//! header (JSON) | burnpack. From format 2 on, the header carries a CRC-32 of the header (without
//! the checksum) and the record: a corrupted download or a half-copied file is refused instead of
//! giving wrong pictures. (CRC-32 finds every change of up to 32 consecutive bits and almost every
//! other accident; these files need no defence against a forger. crc32fast is already built, for
//! PNG.) Format-1 files, from before, still load, with a note that they cannot be verified.

use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::files::write_atomic;

const MAGIC: &[u8; 7] = b"INFLAB\0";
/// What `save` writes: with a checksum.
const FORMAT_VERSION: u32 = 2;
/// Files from before the checksum.
const UNCHECKED_FORMAT_VERSION: u32 = 1;
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
    /// CRC-32 (8 hex digits) of the header without this field, then the record (format ≥ 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
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
            checksum: None,
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
    let record = module
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("cannot serialize the model: {e}"))?;
    encode_record(header, &record)
}

/// The checksum's value while the checksum is computed: as wide as the real one, so the
/// header keeps its length.
const CHECKSUM_PLACEHOLDER: &str = "00000000";

/// The CRC-32 of the header's JSON as written, its checksum's digits read as the placeholder,
/// followed by the record. Computed on the bytes, not on a parsed header: two spellings of one
/// number (a flipped last digit that rounds to the same float) must not pass as the same file.
fn checksum(header_json: &[u8], record: &[u8]) -> Option<String> {
    let key = br#""checksum":""#;
    let start = header_json.windows(key.len()).rposition(|w| w == key)? + key.len();
    let end = start + CHECKSUM_PLACEHOLDER.len();
    let mut unsummed = header_json.get(..end)?.to_vec();
    unsummed[start..].copy_from_slice(CHECKSUM_PLACEHOLDER.as_bytes());
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&unsummed);
    hasher.update(&header_json[end..]);
    hasher.update(record);
    Some(format!("{:08x}", hasher.finalize()))
}

/// The bytes of a model file of the current format holding `record` (burnpack bytes).
pub fn encode_record(header: &ModelHeader, record: &[u8]) -> anyhow::Result<Vec<u8>> {
    let header = ModelHeader {
        format_version: FORMAT_VERSION,
        checksum: Some(CHECKSUM_PLACEHOLDER.to_owned()),
        ..header.clone()
    };
    let unsummed = serde_json::to_vec(&header).context("model header")?;
    let sum = checksum(&unsummed, record).context("model header without its checksum")?;
    let header_json = serde_json::to_vec(&ModelHeader {
        checksum: Some(sum),
        ..header
    })
    .context("model header")?;
    let header_len = u32::try_from(header_json.len()).context("model header too large")?;
    let mut bytes = Vec::with_capacity(12 + header_json.len() + record.len());
    bytes.extend_from_slice(MAGIC);
    bytes.push(FORMAT_VERSION as u8);
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(&header_json);
    bytes.extend_from_slice(record);
    Ok(bytes)
}

/// Saves atomically: the old file survives any failure.
pub fn save(path: &Path, header: &ModelHeader, module: impl Module) -> anyhow::Result<()> {
    write_atomic(path, &encode(header, module)?)
}

/// Splits a model file into its header and its record's bytes, refusing anything that is not
/// one, or whose checksum does not match.
pub fn split<'a>(bytes: &'a [u8], origin: &str) -> anyhow::Result<(ModelHeader, &'a [u8])> {
    if bytes.len() < 12 || &bytes[..7] != MAGIC {
        bail!("{origin}: not an inference-lab model file");
    }
    let version = u32::from(bytes[7]);
    if version != FORMAT_VERSION && version != UNCHECKED_FORMAT_VERSION {
        bail!(
            "{origin}: model file format {version} is not supported (this version reads \
             {UNCHECKED_FORMAT_VERSION} and {FORMAT_VERSION})"
        );
    }
    let header_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    if header_len > MAX_HEADER_BYTES || 12 + header_len > bytes.len() {
        bail!("{origin}: the model file is truncated or corrupt (header length {header_len})");
    }
    let header_json = &bytes[12..12 + header_len];
    let header: ModelHeader = serde_json::from_slice(header_json)
        .with_context(|| format!("{origin}: the model file's header is corrupt"))?;
    // Both say the format: one changed byte cannot turn a checked file into an unchecked one.
    if header.format_version != version {
        bail!(
            "{origin}: the model file is corrupt (format {version}, but its header says {})",
            header.format_version
        );
    }
    let record = &bytes[12 + header_len..];
    if version == UNCHECKED_FORMAT_VERSION {
        log::warn!(
            "{origin}: written before model files carried a checksum, so damage to it cannot be \
             detected; saving it again (or retraining) adds one"
        );
    } else if header.checksum.is_none() || header.checksum != checksum(header_json, record) {
        bail!(
            "{origin}: the model file is damaged (its checksum does not match; a corrupted \
             download or an unfinished copy?)"
        );
    }
    Ok((header, record))
}

/// Splits a model file into its header and record, refusing anything that is not one.
pub fn decode(bytes: &[u8], origin: &str) -> anyhow::Result<(ModelHeader, ModuleRecord)> {
    let (header, record) = split(bytes, origin)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(record.to_vec()))
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

    /// A 3→2 model, its config and its outputs on a fixed input.
    fn tiny(device: &Device) -> (TinyConfig, Linear, Vec<f32>) {
        let config = TinyConfig {
            inputs: 3,
            outputs: 2,
        };
        let model = build(&config, device);
        let expected = outputs(&model, device);
        (config, model, expected)
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
        let (config, model, expected) = tiny(&device);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tiny.mpk");
        let header = ModelHeader::new("lorenz", "tiny", &config, &serde_json::json!({"seed": 7}))
            .expect("header");
        save(&path, &header, model).expect("save");

        let (loaded_header, record) = read(&path, "lorenz", "tiny").expect("read");
        assert!(loaded_header.checksum.is_some());
        assert_eq!(
            ModelHeader {
                checksum: None,
                ..loaded_header.clone()
            },
            header
        );
        let loaded_config: TinyConfig = loaded_header.config_as().expect("config");
        assert_eq!(loaded_config, config);
        let restored = apply(build(&loaded_config, &device), record, "tiny").expect("apply");
        assert_eq!(outputs(&restored, &device), expected);
    }

    /// `bytes` with the last byte of the record changed.
    fn flipped_in_record(bytes: &[u8]) -> Vec<u8> {
        let mut damaged = bytes.to_vec();
        if let Some(last) = damaged.last_mut() {
            *last ^= 0x10;
        }
        damaged
    }

    #[test]
    fn a_byte_changed_anywhere_in_a_shipped_model_is_refused() {
        // Every model file in assets/, so a new demo's models are checked without a line here.
        let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let shipped: Vec<Vec<u8>> = std::fs::read_dir(&assets)
            .expect("assets/")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "mpk"))
            .map(|p| std::fs::read(p).expect("model file"))
            .collect();
        assert!(
            shipped.len() >= 6,
            "{} model files in assets/",
            shipped.len()
        );
        for bytes in &shipped {
            let (header, _) = split(bytes, "shipped").expect("a shipped model is valid");
            assert_eq!(header.format_version, FORMAT_VERSION);
            // Every position of the header, and positions spread over the record.
            let positions = (0..bytes.len().min(2048)).chain((2048..bytes.len()).step_by(101));
            for at in positions {
                let mut damaged = bytes.to_vec();
                damaged[at] ^= 1 << (at % 8);
                assert!(
                    split(&damaged, "x").is_err(),
                    "byte {at} of {}",
                    header.kind
                );
            }
        }
    }

    #[test]
    fn files_from_before_the_checksum_still_load() {
        let device = Device::flex();
        let (config, model, expected) = tiny(&device);
        let header = ModelHeader {
            format_version: UNCHECKED_FORMAT_VERSION,
            ..ModelHeader::new("lorenz", "tiny", &config, &()).expect("header")
        };
        let record = model.into_record().into_bytes().expect("record");
        // The format-1 layout: magic with version 1, header without a checksum, record.
        let json = serde_json::to_vec(&header).expect("json");
        let mut old = MAGIC.to_vec();
        old.push(1);
        old.extend_from_slice(&(json.len() as u32).to_le_bytes());
        old.extend_from_slice(&json);
        old.extend_from_slice(&record);
        let (loaded, record) = read_bytes(&old, "old", "lorenz", "tiny").expect("old file");
        assert_eq!(loaded.checksum, None);
        let restored = apply(build(&config, &device), record, "old").expect("apply");
        assert_eq!(outputs(&restored, &device), expected);
        // Saved again, it carries a checksum.
        let (header, record) = split(&old, "old").expect("split");
        let resaved = encode_record(&header, record).expect("encode");
        assert!(split(&resaved, "new").expect("new").0.checksum.is_some());
        // A checked file cannot pass for an old one by a changed version byte.
        let mut downgraded = resaved.clone();
        downgraded[7] = 1;
        assert!(decode(&downgraded, "x").is_err());
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

        // Any one byte changed, anywhere, is refused.
        for at in (0..bytes.len()).step_by(7) {
            for change in [0x01, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] ^= change;
                assert!(decode(&damaged, "x").is_err(), "byte {at} ^ {change:#x}");
            }
        }
        let err = decode(&flipped_in_record(&bytes), "x").expect_err("damaged");
        assert!(err.to_string().contains("checksum does not match"), "{err}");

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
