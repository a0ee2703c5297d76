//! A prepared causal-discovery example: the simulated springs (samples, noise, hidden particle,
//! seed), the sample shown and the method whose graph is drawn. Series loaded from a file are
//! not copied into the example (open the file itself).

use super::CausalDemo;
use crate::demos::Prepared;
use crate::demos::causal::methods::Method;
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct CausalExample {
    samples: usize,
    noise: f64,
    hidden_particle: bool,
    seed: u64,
    shown_sample: usize,
    shown: Method,
}

impl Prepared for CausalDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        if self.source != "simulated" {
            return Err(format!(
                "series loaded from {} are not copied into an example: open that file in class",
                self.source
            ));
        }
        state_value(&CausalExample {
            samples: self.batch,
            noise: self.noise,
            hidden_particle: self.hidden,
            seed: self.seed,
            shown_sample: self.shown_sample,
            shown: self.shown,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: CausalExample = file.state()?;
        if !example.noise.is_finite() {
            return Err("the example's noise is not a number".into());
        }
        self.batch = example.samples;
        self.noise = example.noise;
        self.hidden = example.hidden_particle;
        self.seed = example.seed;
        self.shown = example.shown;
        self.shown_sample = example.shown_sample;
        // Clamps the sample count and noise to what the panel offers.
        self.simulate();
        Ok(())
    }
}
