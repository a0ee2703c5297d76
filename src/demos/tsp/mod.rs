//! Travelling-salesman tours (Kool, van Hoof & Welling, "Attention, Learn to Solve Routing
//! Problems!", ICLR 2019; POMO, Kwon et al., NeurIPS 2020): cities in the unit square or from
//! TSPLIB, toured by nearest neighbour, farthest insertion, 2-opt and Held–Karp, by an attention
//! model trained with REINFORCE, and by that model's tour improved by 2-opt.

pub mod bench;
pub mod classical;
pub mod cli;
pub mod methods;
pub mod model;
pub mod sim;
pub mod train;
pub mod view;

use super::DemoEntry;

pub const NAME: &str = "tsp";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::TspCli,
        panel: || Box::new(view::TspDemo::default()),
    }
}
