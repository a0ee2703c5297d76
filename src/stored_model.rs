//! Model files, typed: save, load, the shipped models and "the file given, else the shipped
//! one", written once for every demo. A demo's model type implements [`StoredModel`]: its
//! demo's name, the config a file stores, how to check and rebuild the module from it, and its
//! shipped bytes. The config is checked on every load, a file of another demo or kind is
//! refused by name, and the bytes on disk are those of `model_file` (unchanged).

use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::Device;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model_file::{self, ModelHeader};

/// A shipped model: its kind and the file's bytes, embedded in the binary.
pub type Shipped = (&'static str, &'static [u8]);

/// A demo's learned model: a module and the config that rebuilds it.
pub trait StoredModel: Sized {
    /// The demo's name, as registered (a file's `demo`).
    const DEMO: &'static str;
    /// The models shipped in the binary, made by `DEMO train` (commands in docs/DEMO.md).
    const SHIPPED: &'static [Shipped];
    type Net: Module;
    /// What a file's header stores to rebuild the module.
    type Stored: Serialize + DeserializeOwned;

    /// This model's kind (a file's `kind`).
    fn kind(&self) -> &'static str;
    fn net(&self) -> &Self::Net;
    fn stored(&self) -> Self::Stored;
    /// Refuses a stored config this version cannot build (a hand-edited or damaged file).
    fn validate(stored: &Self::Stored) -> Result<(), String>;
    fn build(stored: &Self::Stored, device: &Device) -> Self::Net;
    fn assemble(net: Self::Net, stored: Self::Stored) -> Self;

    /// A copy on `device` (shipped and loaded models live on the CPU until a job runs them).
    fn to_device(&self, device: &Device) -> Self {
        Self::assemble(self.net().clone().to_device(device), self.stored())
    }
}

/// The config a model file stores, for the demos whose model is a module and its config (every
/// demo but flows' mixture and TSP's, which also keep what they were fitted to): the demo's file
/// facts, how to check the config and how to build the module from it. [`Learned`] is then the
/// model, and its file code is [`StoredModel`]'s, written once.
pub trait NetSpec: Clone + Serialize + DeserializeOwned {
    /// The demo's name, as registered (a file's `demo`).
    const DEMO: &'static str;
    /// The models shipped in the binary, made by `DEMO train` (commands in docs/DEMO.md).
    const SHIPPED: &'static [Shipped];
    type Net: Module;

    /// The model's kind (a file's `kind`).
    fn file_kind(&self) -> &'static str;
    /// Refuses a config this version cannot build (a hand-edited or damaged file, a bad flag).
    fn validate(&self) -> Result<(), String>;
    fn build(&self, device: &Device) -> Self::Net;
}

/// A trained module with the config that rebuilds it.
#[derive(Clone, Debug)]
pub struct Learned<S: NetSpec> {
    pub net: S::Net,
    pub config: S,
}

impl<S: NetSpec> StoredModel for Learned<S> {
    const DEMO: &'static str = S::DEMO;
    const SHIPPED: &'static [Shipped] = S::SHIPPED;
    type Net = S::Net;
    type Stored = S;

    fn kind(&self) -> &'static str {
        self.config.file_kind()
    }
    fn net(&self) -> &S::Net {
        &self.net
    }
    fn stored(&self) -> S {
        self.config.clone()
    }
    fn validate(stored: &S) -> Result<(), String> {
        stored.validate()
    }
    fn build(stored: &S, device: &Device) -> S::Net {
        stored.build(device)
    }
    fn assemble(net: S::Net, config: S) -> Self {
        Self { net, config }
    }
}

/// Saves `model` with `training` (how it was trained, free-form) in its header, atomically.
pub fn save<M: StoredModel>(
    path: &Path,
    model: &M,
    training: &impl Serialize,
) -> anyhow::Result<()> {
    let header = ModelHeader::new(M::DEMO, model.kind(), &model.stored(), training)?;
    model_file::save(path, &header, model.net().clone())
}

/// A model from a file's bytes; `kind` when one is required.
pub fn from_bytes<M: StoredModel>(
    bytes: &[u8],
    origin: &str,
    kind: Option<&str>,
    device: &Device,
) -> anyhow::Result<M> {
    let (header, record) = model_file::decode(bytes, origin)?;
    match kind {
        Some(kind) if header.demo != M::DEMO || header.kind != kind => bail!(
            "{origin}: this is a {} {} model, but a {} {kind} model is needed",
            header.demo,
            header.kind,
            M::DEMO
        ),
        None if header.demo != M::DEMO => bail!(
            "{origin}: this is a {} {} model, not a {} one",
            header.demo,
            header.kind,
            M::DEMO
        ),
        _ => {}
    }
    let stored: M::Stored = header.config_as()?;
    M::validate(&stored)
        .map_err(anyhow::Error::msg)
        .with_context(|| origin.to_owned())?;
    let net = model_file::apply(M::build(&stored, device), record, origin)
        .with_context(|| format!("loading {origin}"))?;
    Ok(M::assemble(net, stored))
}

fn read(path: &Path) -> anyhow::Result<(Vec<u8>, String)> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{origin}: cannot read"))?;
    Ok((bytes, origin))
}

/// Loads a `kind` model, refusing any other file.
pub fn load<M: StoredModel>(path: &Path, kind: &str, device: &Device) -> anyhow::Result<M> {
    let (bytes, origin) = read(path)?;
    from_bytes(&bytes, &origin, Some(kind), device)
}

/// Loads a model of whichever of the demo's kinds the file holds.
pub fn load_any<M: StoredModel>(path: &Path, device: &Device) -> anyhow::Result<M> {
    let (bytes, origin) = read(path)?;
    from_bytes(&bytes, &origin, None, device)
}

/// The shipped model of `kind` (the first, where several are shipped).
pub fn shipped<M: StoredModel>(kind: &str, device: &Device) -> anyhow::Result<M> {
    let Some((_, bytes)) = M::SHIPPED.iter().find(|(k, _)| *k == kind) else {
        bail!("no shipped {} model of kind `{kind}`", M::DEMO);
    };
    let origin = format!("the shipped {} {kind} model", M::DEMO);
    from_bytes(bytes, &origin, Some(kind), device)
}

/// `--model F` when given, else the shipped model of `kind`.
pub fn load_or_shipped<M: StoredModel>(
    path: Option<&Path>,
    kind: &str,
    device: &Device,
) -> anyhow::Result<M> {
    match path {
        Some(path) => load(path, kind, device),
        None => shipped(kind, device),
    }
}

/// Every shipped model of `M`, loaded (for tests and `bench`).
pub fn all_shipped<M: StoredModel>(device: &Device) -> anyhow::Result<Vec<M>> {
    M::SHIPPED
        .iter()
        .map(|(kind, bytes)| {
            let origin = format!("the shipped {} {kind} model", M::DEMO);
            from_bytes(bytes, &origin, Some(kind), device)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::{causal, flows, ldpc, lorenz, mimo, mri, tsp, vae};

    /// `M`'s shipped models load, each by its kind, and a file of another demo is refused by name.
    fn check<M: StoredModel>(foreign: &[u8]) -> usize {
        let device = Device::flex();
        let models = all_shipped::<M>(&device).expect("every shipped model loads");
        for ((kind, _), model) in M::SHIPPED.iter().zip(&models) {
            assert_eq!(model.kind(), *kind);
            assert!(shipped::<M>(kind, &device).is_ok());
        }
        let Err(err) = from_bytes::<M>(foreign, "foreign", None, &device) else {
            panic!("a file of another demo was taken for a {} model", M::DEMO);
        };
        assert!(
            format!("{err:#}").contains(&format!("not a {} one", M::DEMO)),
            "{err:#}"
        );
        assert!(shipped::<M>("no such kind", &device).is_err());
        models.len()
    }

    #[test]
    fn every_demos_shipped_models_load_and_other_demos_files_are_refused() {
        let mri_rim = include_bytes!("../assets/mri-rim.mpk");
        let lorenz_gnn = include_bytes!("../assets/lorenz-gnn.mpk");
        let shipped = check::<lorenz::model::ChainModel>(mri_rim)
            + check::<mri::model::MriModel>(lorenz_gnn)
            + check::<ldpc::methods::LearnedDecoder>(lorenz_gnn)
            + check::<tsp::methods::LearnedModel>(lorenz_gnn)
            + check::<causal::methods::LearnedModel>(lorenz_gnn)
            + check::<vae::model::VaeModel>(lorenz_gnn)
            + check::<mimo::model::MimoModel>(lorenz_gnn)
            + check::<flows::model::FlowModel>(lorenz_gnn);
        // Every .mpk in assets/ is some demo's shipped model.
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets"))
            .expect("assets/")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "mpk"))
            .count();
        assert_eq!(shipped, files);
    }
}
