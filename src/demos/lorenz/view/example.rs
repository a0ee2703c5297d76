//! A prepared Lorenz example: the simulation (its seed, length, noise) and the classical
//! smoother's settings; the methods run again on opening.

use super::LorenzDemo;
use crate::demos::Prepared;
use crate::demos::lorenz::methods::ClassicalSettings;
use crate::demos::lorenz::sim::SimConfig;
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct LorenzExample {
    simulation: SimConfig,
    classical: ClassicalSettings,
}

impl Prepared for LorenzDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        state_value(&LorenzExample {
            simulation: self.config.clone(),
            classical: self.classical,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: LorenzExample = file.state()?;
        example.simulation.validate()?;
        self.config = example.simulation;
        self.classical = example.classical;
        self.resimulate();
        Ok(())
    }
}
