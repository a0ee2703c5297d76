//! A prepared flows example: the data (a data set and its seed, or the points drawn with the
//! brush), the number of points, the mixture's components, the layer stack being edited and the
//! model shown. Trained stacks are not kept (their model files are); the shipped ones return.

use super::{Data, FlowsDemo, POINTS_RANGE};
use crate::demos::Prepared;
use crate::demos::flows::model::LayerKind;
use crate::demos::flows::sim::{Dataset, Point};
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct FlowsExample {
    /// `None`: the drawn points.
    dataset: Option<Dataset>,
    drawn: Vec<Point>,
    seed: u64,
    points: usize,
    components: usize,
    stack: Vec<LayerKind>,
    shown: String,
}

impl Prepared for FlowsDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        state_value(&FlowsExample {
            dataset: match self.data {
                Data::Set(d) => Some(d),
                Data::Drawn => None,
            },
            drawn: self.drawn.clone(),
            seed: self.seed,
            points: self.points,
            components: self.components,
            stack: self.stack.clone(),
            shown: self.shown.clone(),
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: FlowsExample = file.state()?;
        if example.drawn.iter().flatten().any(|c| !c.is_finite()) {
            return Err("the example's drawn points are not all finite".into());
        }
        if !(1..=32).contains(&example.components) || !POINTS_RANGE.contains(&example.points) {
            return Err(format!(
                "{} components or {} points: the panel takes 1–32 and {POINTS_RANGE:?}",
                example.components, example.points
            ));
        }
        self.drawn = example.drawn;
        self.seed = example.seed;
        self.points = example.points;
        self.components = example.components;
        self.stack = example.stack;
        self.set_data(example.dataset.map_or(Data::Drawn, Data::Set));
        self.shown = example.shown;
        Ok(())
    }
}
