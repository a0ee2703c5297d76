//! Causal graphs of interacting particles: registered, not built yet. Its issue fills this folder on the pattern of
//! `lorenz/` and `mri/`; until then the panel and the command line say it is not built.

pub mod cli;

use super::{DemoEntry, NotBuilt};

pub const NAME: &str = "causal";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::CLI,
        panel: || {
            Box::new(NotBuilt {
                name: NAME,
                title: "Causal graphs",
                summary: "Which particles are joined by springs, from their motion",
                explanation: "Forward model: particles joined by hidden springs. Inverses: Granger \
                      causality (VAR F-test), an amortized causal-discovery encoder, and the \
                      encoder with test-time adaptation of its decoder.",
            })
        },
    }
}
