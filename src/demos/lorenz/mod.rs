//! Lorenz-attractor filtering: the Lorenz ODE observed in noise, inverted by the extended and
//! unscented Kalman smoothers (classical), a graph network on the chain of time steps
//! (amortized) and hybrid inference, smoother messages plus a learned correction (augmented).

pub mod bench;
pub mod classical;
pub mod cli;
pub mod methods;
pub mod model;
pub mod sim;
pub mod train;
mod view;

pub use view::LorenzDemo;

use super::DemoEntry;

pub const NAME: &str = "lorenz";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::LorenzCli,
        panel: || Box::new(LorenzDemo::default()),
    }
}
