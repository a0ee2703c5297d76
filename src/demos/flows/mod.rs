//! Flows and surjections (Rezende & Mohamed 2015; Nielsen et al., SurVAE flows 2020): 2-D
//! densities fitted by a Gaussian mixture (EM), a normalizing flow and a flow with a surjective
//! layer, each layer's term in log p(x) shown ("Algorithm 1"). Being built: the data, the
//! fits, `flows sample|eval` and `bench --demo flows` are here; the panel is not yet.

pub mod bench;
pub mod classical;
pub mod cli;
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
    summary: "Densities by EM, a flow, and a flow with a surjection",
    explanation: "Forward model: a base Gaussian pushed through a stack of layers. Inverses: a \
                  Gaussian mixture fitted by EM (classical), a RealNVP flow trained by maximum \
                  likelihood, and the flow behind an abs surjection that builds in the data's \
                  symmetry (augmented); log p(x) as the sum of every layer's term.",
};

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::FlowsCli,
        panel: view::panel,
    }
}
