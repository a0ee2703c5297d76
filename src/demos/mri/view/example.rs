//! A prepared MRI example: the image (a shipped MR slice by number, a phantom by its seed, or a
//! loaded image's pixels), the side, the mask and noise settings and the method shown. Measured
//! k-space is not kept (there is no truth to show); trained models are saved on their own.

use super::{MriDemo, Source};
use crate::demos::Prepared;
use crate::demos::mri::images::MR_EXAMPLES;
use crate::demos::mri::methods::Method;
use crate::demos::mri::sim::{Image, MeasureConfig};
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum ExampleSource {
    MrSlice(usize),
    Phantom(u64),
    /// A loaded image: its name, side and pixels in [0, 1].
    Image {
        name: String,
        side: usize,
        pixels: Vec<f64>,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct MriExample {
    source: ExampleSource,
    side: usize,
    measure: MeasureConfig,
    shown: Method,
}

impl Prepared for MriDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        let source = match &self.source {
            Source::Example(index) => ExampleSource::MrSlice(*index),
            Source::Phantom => ExampleSource::Phantom(self.phantom_seed),
            Source::Image(name, image) => ExampleSource::Image {
                name: name.clone(),
                side: image.side,
                pixels: image.pixels.clone(),
            },
            Source::KSpace(_) => {
                return Err(
                    "a measured k-space is not kept in an example (it has no truth to show)".into(),
                );
            }
        };
        state_value(&MriExample {
            source,
            side: self.side,
            measure: self.config,
            shown: self.shown,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: MriExample = file.state()?;
        let sides = super::SIDES;
        if !sides.contains(&example.side) {
            return Err(format!(
                "the example's side {} is not one the panel offers ({sides:?})",
                example.side
            ));
        }
        example.measure.validate()?;
        let source = match example.source {
            ExampleSource::MrSlice(index) if index < MR_EXAMPLES.len() => Source::Example(index),
            ExampleSource::MrSlice(index) => {
                return Err(format!(
                    "MR slice {index}: the panel ships {}",
                    MR_EXAMPLES.len()
                ));
            }
            ExampleSource::Phantom(seed) => {
                self.phantom_seed = seed;
                Source::Phantom
            }
            ExampleSource::Image { name, side, pixels } => {
                if side * side != pixels.len() || pixels.iter().any(|p| !p.is_finite()) {
                    return Err(format!(
                        "the example's image holds {} values, not {side}² finite ones",
                        pixels.len()
                    ));
                }
                Source::Image(name, Image { side, pixels })
            }
        };
        self.source = source;
        self.side = example.side;
        self.config = example.measure;
        self.shown = example.shown;
        self.remeasure();
        Ok(())
    }
}
