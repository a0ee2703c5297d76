//! A prepared MIMO example: the system (users, antennas, modulation, SNR, correlation), the
//! seed of its channel and symbols, and the detector shown.

use super::MimoDemo;
use crate::demos::Prepared;
use crate::demos::mimo::methods::Method;
use crate::demos::mimo::sim::Setup;
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct MimoExample {
    setup: Setup,
    seed: u64,
    shown: Method,
}

impl Prepared for MimoDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        state_value(&MimoExample {
            setup: self.setup,
            seed: self.seed,
            shown: self.shown,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: MimoExample = file.state()?;
        example.setup.validate()?;
        self.setup = example.setup;
        self.seed = example.seed;
        self.shown = example.shown;
        self.changed();
        Ok(())
    }
}
