//! Flows and surjections (Rezende & Mohamed 2015; Nielsen et al., SurVAE flows 2020): 2-D
//! densities fitted by a Gaussian mixture (EM), a normalizing flow and a flow with a surjective
//! layer or a VAE layer, each layer's term in log p(x) shown ("Algorithm 1").

pub mod bench;
pub mod classical;
pub mod cli;
pub mod inspect;
pub mod io;
pub mod methods;
pub mod model;
pub mod sim;
pub mod train;
pub mod view;

use super::{About, DemoEntry};

pub const NAME: &str = "flows";

pub const ABOUT: About = About {
    name: NAME,
    title: "Flows and surjections",
    summary: "Densities by EM, a flow, and flows with a surjection or a VAE layer",
    explanation: "Forward model: a base Gaussian pushed through a stack of layers. Inverses: a \
                  Gaussian mixture fitted by EM (classical), a RealNVP flow trained by maximum \
                  likelihood, and the flow behind an abs surjection that builds in the data's \
                  symmetry, or behind a VAE layer whose term makes log p(x) a bound (augmented). \
                  Algorithm 1: log p(x) is the sum of every layer's term; click a point for its \
                  ledger, and scrub the layers from the data to the base.",
};

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::FlowsCli,
        panel: view::panel,
    }
}
