//! MRI reconstruction: `y = M F x + n` inverted by zero filling, gradient ascent and TV
//! (classical), a U-Net from the zero-filled image (amortized) and a recurrent inference
//! machine (augmented), after Putzky & Welling (2017).

pub mod bench;
pub mod classical;
pub mod cli;
pub mod images;
pub mod io;
pub mod methods;
pub mod metrics;
pub mod model;
pub mod sim;
pub mod train;
mod view;

pub use view::MriDemo;

use super::DemoEntry;

pub const NAME: &str = "mri";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::MriCli,
        panel: || Box::new(MriDemo::default()),
    }
}
