//! Rewrites model files in the current format, with the checksum that format carries (the
//! shipped models were written before it): `cargo run --release --example model_checksum --
//! assets/*.mpk`. A file that is already current is rewritten unchanged; a damaged one is refused.

use anyhow::Context;
use inference_lab::model_file::{encode_record, split};

fn main() -> anyhow::Result<()> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).with_context(|| format!("{path}: cannot read"))?;
        let (header, record) = split(&bytes, &path)?;
        let current = encode_record(&header, record)?;
        inference_lab::files::write_atomic(std::path::Path::new(&path), &current)?;
        let (checked, _) = split(&current, &path)?;
        println!(
            "{path}: {} {} model, checksum {}",
            checked.demo,
            checked.kind,
            checked.checksum.unwrap_or_default()
        );
    }
    Ok(())
}
