//! A prepared TSP example: the cities (drawn, dragged or from a file), the sampling setting and
//! the method shown. A trained model is not kept (its file is saved on its own).

use super::TspDemo;
use crate::demos::Prepared;
use crate::demos::tsp::methods::Method;
use crate::demos::tsp::sim::{Instance, Metric};
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct TspExample {
    name: String,
    cities: Vec<[f64; 2]>,
    metric: Metric,
    /// A proven optimum that came with the instance (TSPLIB).
    #[serde(default)]
    optimum: Option<f64>,
    seed: u64,
    samples: usize,
    shown: Method,
}

impl Prepared for TspDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        if self.instance.metric == Metric::Explicit {
            return Err(
                "an instance of explicit distances is not kept in an example: open its TSPLIB file"
                    .into(),
            );
        }
        state_value(&TspExample {
            name: self.instance.name.clone(),
            cities: self.instance.coords.clone(),
            metric: self.instance.metric,
            optimum: self.optimum,
            seed: self.seed,
            samples: self.samples,
            shown: self.shown,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: TspExample = file.state()?;
        let n = example.cities.len();
        if !(3..=super::MAX_CITIES).contains(&n) || example.metric == Metric::Explicit {
            return Err(format!(
                "the example holds {n} cities of {}: the panel takes 3–{} with coordinates",
                example.metric.name(),
                super::MAX_CITIES
            ));
        }
        if example.cities.iter().flatten().any(|c| !c.is_finite()) {
            return Err("the example's cities are not all finite numbers".into());
        }
        self.n = n;
        self.seed = example.seed;
        self.samples = example.samples.min(super::MAX_SAMPLES);
        self.shown = example.shown;
        self.set_instance(
            Instance::from_coords(&example.name, example.cities, example.metric),
            example.optimum,
        );
        // The shipped model for this size (the trained one, if any, is not in the file).
        self.loaded_shipped = false;
        Ok(())
    }
}
