//! MIMO detection (Pratik, Rao & Welling's RE-MIMO; He et al.'s OAMP-Net2; Samuel et al.'s
//! DetNet): N_t users sending QAM symbols to N_r antennas through a Rayleigh channel,
//! y = Hx + n, detected by the textbook detectors (zero forcing, LMMSE, V-BLAST, OAMP, exact ML
//! by a sphere decoder), by a deep unfolded network, and by the OAMP iteration with a few learned
//! numbers or with a recurrent, permutation-equivariant network correcting it at every step.

pub mod bench;
pub mod classical;
pub mod cli;
pub mod io;
pub mod methods;
pub mod metrics;
pub mod model;
pub mod sim;
pub mod train;
pub mod view;

use super::{About, DemoEntry};

pub const NAME: &str = "mimo";

pub const ABOUT: About = About {
    name: NAME,
    title: "MIMO detection",
    summary: "Many users on many antennas: MMSE, OAMP, the sphere decoder",
    explanation: "Forward model: y = Hx + n, N_t users sending QAM symbols to N_r antennas \
                  through a random channel. Inverses: zero forcing, LMMSE and V-BLAST \
                  (classical), OAMP (classical, iterative: a linear step and the \
                  constellation's posterior mean), exact ML by a sphere decoder (the reference), \
                  DetNet (a deep unfolded network: amortized), OAMP-Net2 (OAMP with four \
                  learned numbers per iteration) and RE-MIMO (a recurrent network over the \
                  users that reads the residual at every step; both augmented).",
};

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::MimoCli,
        panel: || Box::new(view::MimoDemo::default()),
    }
}
