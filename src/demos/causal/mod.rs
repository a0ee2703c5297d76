//! Causal graphs of interacting particles (Löwe, Madras, Zemel & Welling, "Amortized Causal
//! Discovery", CLeaR 2022, on NRI, Kipf et al., ICML 2018): springs that pull one way, inferred
//! from the particles' motion by pairwise Granger causality, by the ACD encoder at once, and by
//! the encoder adapted at test time to each sample through its decoder.

pub mod bench;
pub mod classical;
pub mod cli;
pub mod methods;
pub mod metrics;
pub mod model;
pub mod sim;
pub mod train;
pub mod view;

use super::DemoEntry;

pub const NAME: &str = "causal";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::CausalCli,
        panel: || Box::new(view::CausalDemo::default()),
    }
}
