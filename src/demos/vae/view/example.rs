//! A prepared VAE example: the digit (a test digit by number, or the drawn or loaded pixels),
//! the number of refinement steps and the method whose steps the timeline plays.

use super::{MAX_STEPS, VaeDemo};
use crate::demos::Prepared;
use crate::demos::vae::methods::Method;
use crate::demos::vae::sim::PIXELS;
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct VaeExample {
    /// The digit's description (a test digit's number, "drawn", a file's name).
    source: String,
    /// Grey values in [0, 1], 28 × 28, row-major.
    pixels: Vec<f32>,
    steps: usize,
    shown: Method,
}

impl Prepared for VaeDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        state_value(&VaeExample {
            source: self.source.clone(),
            pixels: self.canvas.clone(),
            steps: self.steps,
            shown: self.shown,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: VaeExample = file.state()?;
        if example.pixels.len() != PIXELS || example.pixels.iter().any(|p| !(0.0..=1.0).contains(p))
        {
            return Err(format!(
                "the example's digit holds {} values; the panel takes {PIXELS} in [0, 1]",
                example.pixels.len()
            ));
        }
        self.steps = example.steps.clamp(1, MAX_STEPS);
        self.shown = example.shown;
        self.set_canvas(example.pixels, example.source);
        Ok(())
    }
}
