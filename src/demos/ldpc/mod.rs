//! LDPC decoding on a factor graph: registered, not built yet. Its issue fills this folder on the pattern of
//! `lorenz/` and `mri/`; until then the panel and the command line say it is not built.

pub mod cli;

use super::{DemoEntry, NotBuilt};

pub const NAME: &str = "ldpc";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::CLI,
        panel: || {
            Box::new(NotBuilt {
                name: NAME,
                title: "Factor graphs / LDPC",
                summary: "Belief-propagation messages decoding a noisy codeword",
                explanation: "Forward model: a codeword of an LDPC code sent as BPSK over a noisy \
                      channel. Inverses: sum-product and min-sum belief propagation, weighted \
                      (neural) BP, and a graph network running beside BP.",
            })
        },
    }
}
