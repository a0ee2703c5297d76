//! Travelling-salesman tours: registered, not built yet. Its issue fills this folder on the pattern of
//! `lorenz/` and `mri/`; until then the panel and the command line say it is not built.

pub mod cli;

use super::{DemoEntry, NotBuilt};

pub const NAME: &str = "tsp";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::CLI,
        panel: || {
            Box::new(NotBuilt {
                name: NAME,
                title: "TSP tours",
                summary: "Cities in the unit square, tours by search and by attention",
                explanation: "Forward model: a tour's length over cities. Inverses: nearest neighbour, \
                      insertion, 2-opt and exact search, an attention model trained with \
                      REINFORCE, and the attention model followed by 2-opt.",
            })
        },
    }
}
