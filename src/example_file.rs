//! Prepared examples: what a panel shows (its problem, its settings, the method shown and the
//! timeline's step) in a small JSON file, saved before class and opened in it — by the dialog,
//! by dropping the file on the window, or as `inference-lab FILE`.
//!
//! ```json
//! {"format": "inference-lab example", "version": 1, "demo": "tsp", "step": 12, "state": {…}}
//! ```
//! `state` is the panel's own; fields a reader does not know are ignored, so a later release may
//! add some. A file of a newer version, or of another format, is refused with a message.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::files::write_atomic;

pub const FORMAT: &str = "inference-lab example";
/// The version this release writes and the newest it reads.
pub const VERSION: u32 = 1;
/// Extension of example files.
pub const EXTENSION: &str = "ilab";
/// Larger files are not examples (a panel's state is a few hundred kilobytes at most).
const MAX_BYTES: u64 = 64 << 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleFile {
    pub format: String,
    pub version: u32,
    /// The panel's registry name.
    pub demo: String,
    /// The timeline's step shown (from 0), once the panel's runs are done.
    #[serde(default)]
    pub step: Option<usize>,
    pub state: serde_json::Value,
}

impl ExampleFile {
    pub fn new(demo: &str, step: Option<usize>, state: serde_json::Value) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            demo: demo.to_owned(),
            step,
            state,
        }
    }

    /// Writes the file atomically (pretty JSON: small, and readable in a text editor).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self).context("encoding the example")?;
        write_atomic(path, text.as_bytes())
    }

    /// Reads and checks a file; the message says what is wrong with one that is not an example
    /// this release can open.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("{}", path.display()))?
            .len();
        if size > MAX_BYTES {
            anyhow::bail!(
                "{}: {size} bytes is too large for an example file",
                path.display()
            );
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: Self = serde_json::from_str(text).context(
            "not an inference-lab example (a JSON object with format, version, demo, state)",
        )?;
        if file.format != FORMAT {
            anyhow::bail!("its format is \"{}\", not \"{FORMAT}\"", file.format);
        }
        if file.version > VERSION {
            anyhow::bail!(
                "it was written by a newer release (example version {}; this one reads up to {VERSION})",
                file.version
            );
        }
        Ok(file)
    }

    /// The panel's state as its own type; unknown fields are ignored.
    pub fn state<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_value(self.state.clone()).map_err(|e| {
            format!(
                "the {} example's state does not fit this panel: {e}",
                self.demo
            )
        })
    }
}

/// A panel's state as the `state` of an example file.
pub fn state_value(state: &impl Serialize) -> Result<serde_json::Value, String> {
    serde_json::to_value(state).map_err(|e| format!("encoding the example: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Panel {
        cities: Vec<[f64; 2]>,
        method: String,
    }

    #[test]
    fn an_example_round_trips_and_ignores_fields_it_does_not_know() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.ilab");
        let panel = Panel {
            cities: vec![[0.0, 1.0], [0.5, 0.25]],
            method: "two-opt".into(),
        };
        let file = ExampleFile::new("tsp", Some(3), state_value(&panel).expect("json"));
        file.save(&path).expect("saved");
        let read = ExampleFile::open(&path).expect("read");
        assert_eq!(read, file);
        assert_eq!(read.state::<Panel>().expect("state"), panel);
        let later = r#"{"format": "inference-lab example", "version": 1, "demo": "tsp",
            "theme": "dark", "state": {"cities": [], "method": "am", "zoom": 2}}"#;
        let read = ExampleFile::parse(later).expect("unknown fields are ignored");
        assert_eq!(read.step, None);
        assert_eq!(read.state::<Panel>().expect("state").method, "am");
    }

    #[test]
    fn newer_foreign_and_malformed_files_are_refused_with_a_reason() {
        let newer =
            r#"{"format": "inference-lab example", "version": 99, "demo": "tsp", "state": {}}"#;
        let err = ExampleFile::parse(newer).expect_err("newer").to_string();
        assert!(err.contains("newer release"), "{err}");
        let other = r#"{"format": "something else", "version": 1, "demo": "tsp", "state": {}}"#;
        assert!(ExampleFile::parse(other).is_err());
        for bad in ["", "{", "[1, 2]", "{\"format\": 3}"] {
            let err = format!("{:#}", ExampleFile::parse(bad).expect_err(bad));
            assert!(err.contains("not an inference-lab example"), "{bad}: {err}");
        }
        let file = ExampleFile::new("tsp", None, serde_json::json!({"cities": "no"}));
        assert!(
            file.state::<Panel>()
                .is_err_and(|e| e.contains("does not fit"))
        );
    }
}
