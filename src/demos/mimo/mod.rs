//! MIMO detection (Pratik, Rao & Welling's RE-MIMO; He et al.'s OAMP-Net2; Samuel et al.'s
//! DetNet): N_t users sending QAM symbols to N_r antennas through a Rayleigh channel,
//! y = Hx + n, detected by the textbook detectors (zero forcing, LMMSE, V-BLAST, OAMP, exact ML
//! by a sphere decoder), and by the OAMP iteration with a few learned numbers.

pub mod bench;
pub mod classical;
pub mod cli;
pub mod io;
pub mod methods;
pub mod metrics;
pub mod model;
pub mod oamp;
pub mod sim;
pub mod train;

use super::{About, DemoEntry, NotBuilt};

pub const NAME: &str = "mimo";

pub const ABOUT: About = About {
    name: NAME,
    title: "MIMO detection",
    summary: "Many users on many antennas: MMSE, OAMP, the sphere decoder",
    explanation: "y = Hx + n: N_t users send QAM symbols to N_r antennas through a random \
                  channel. Linear detectors invert H; OAMP alternates a linear step and the \
                  constellation's posterior mean; the sphere decoder finds the exact ML answer.",
};

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::MimoCli,
        panel: || Box::new(NotBuilt { about: ABOUT }),
    }
}
