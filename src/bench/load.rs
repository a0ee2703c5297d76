//! A real burn training loop used as background load when measuring the window's frame time
//! (`--bench-frames`): an MLP learns the Lorenz vector field from sampled states.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::demos::lorenz::sim::vector_field;
use crate::jobs::{JobContext, JobError};

#[derive(Module, Debug)]
pub struct VectorFieldMlp {
    input: Linear,
    hidden: Linear,
    output: Linear,
}

impl VectorFieldMlp {
    pub fn new(width: usize, device: &Device) -> Self {
        Self {
            input: LinearConfig::new(3, width).init(device),
            hidden: LinearConfig::new(width, width).init(device),
            output: LinearConfig::new(width, 3).init(device),
        }
    }

    /// `states`: [batch, 3], scaled by 1/20 → [batch, 3] vector field scaled by 1/100.
    pub fn forward(&self, states: Tensor<2>) -> Tensor<2> {
        let h = relu(self.input.forward(states));
        let h = relu(self.hidden.forward(h));
        self.output.forward(h)
    }
}

const BATCH: usize = 256;

fn batch(rng: &mut StdRng, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let mut xs = Vec::with_capacity(BATCH * 3);
    let mut ys = Vec::with_capacity(BATCH * 3);
    for _ in 0..BATCH {
        let z = [
            rng.random_range(-20.0..20.0),
            rng.random_range(-25.0..25.0),
            rng.random_range(0.0..50.0),
        ];
        let f = vector_field(z);
        xs.extend(z.iter().map(|v| (*v / 20.0) as f32));
        ys.extend(f.iter().map(|v| (*v / 100.0) as f32));
    }
    (
        Tensor::from_data(TensorData::new(xs, [BATCH, 3]), device),
        Tensor::from_data(TensorData::new(ys, [BATCH, 3]), device),
    )
}

/// Trains for `steps` Adam steps (`None`: until cancelled); returns the final loss.
pub fn train_vector_field(
    ctx: &JobContext,
    device: &Device,
    steps: Option<u64>,
) -> Result<f64, JobError> {
    let compiles = crate::backend::compiles_kernels(device);
    let device = device.clone().autodiff();
    let mut model = VectorFieldMlp::new(64, &device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(0);
    let mut last = f64::NAN;
    for step in 1..=steps.unwrap_or(u64::MAX) {
        ctx.check_cancelled()?;
        ctx.note_warm_up(step, compiles);
        let (x, y) = batch(&mut rng, &device);
        let loss = (model.forward(x) - y).powf_scalar(2.0).mean();
        last = f64::from(loss.clone().into_scalar::<f32>());
        if !last.is_finite() {
            return Err(JobError::Failed(format!(
                "the loss became {last} at step {step}"
            )));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
        ctx.report_step(step, steps, Some(last));
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mlp_learns_the_vector_field() {
        let handle = crate::jobs::spawn(
            "test load",
            || {},
            |ctx| {
                let first = { train_vector_field(ctx, &Device::flex(), Some(1))? };
                let last = train_vector_field(ctx, &Device::flex(), Some(300))?;
                Ok((first, last))
            },
        )
        .expect("spawn");
        let (first, last) = handle.wait().expect("training");
        assert!(last < first * 0.2, "loss went from {first} to {last}");
    }
}
