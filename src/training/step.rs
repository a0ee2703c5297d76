//! A training loop's step as a value: the step function every demo's loop calls, with its
//! model, optimizer and one batch, so that `bench --train` can time exactly what training runs.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;

use crate::stored_model::StoredModel;

/// One network's training step, ready to run on a fixed batch that is already made (a training
/// loop makes its batches on other threads while the device trains).
pub trait TrainingStep: Send {
    /// The network, as `demo network`, e.g. `mri rim`.
    fn network(&self) -> String;
    /// What one step trains on, in words (e.g. `4 images 64²`).
    fn batch(&self) -> String;
    /// Training samples per step (images, windows, frames…), for samples per second.
    fn samples(&self) -> usize;
    /// One step: forward, loss, backward, optimizer; the loss (read back, as the loops do).
    fn step(&mut self) -> Result<f64, String>;
}

/// A training loop's own step function with its model, optimizer and one batch: the
/// [`TrainingStep`] each demo hands over.
pub struct LoopStep<M> {
    network: String,
    batch: String,
    samples: usize,
    model: Option<M>,
    optimizer: ModuleOptimizer,
    step: StepFn<M>,
}

/// A loop's step on the batch it captured: model in, model and loss out.
type StepFn<M> = Box<dyn FnMut(M, &mut ModuleOptimizer) -> (M, f64) + Send>;

impl<M> LoopStep<M> {
    pub fn new(
        network: &str,
        batch: String,
        samples: usize,
        model: M,
        optimizer: ModuleOptimizer,
        step: impl FnMut(M, &mut ModuleOptimizer) -> (M, f64) + Send + 'static,
    ) -> Self {
        Self {
            network: network.to_owned(),
            batch,
            samples,
            model: Some(model),
            optimizer,
            step: Box::new(step),
        }
    }
}

impl<M: Send> TrainingStep for LoopStep<M> {
    fn network(&self) -> String {
        self.network.clone()
    }

    fn batch(&self) -> String {
        self.batch.clone()
    }

    fn samples(&self) -> usize {
        self.samples
    }

    fn step(&mut self) -> Result<f64, String> {
        let model = self.model.take().ok_or("an earlier step panicked")?;
        let (model, loss) = (self.step)(model, &mut self.optimizer);
        self.model = Some(model);
        Ok(loss)
    }
}

/// The end of every training loop's step: reads the loss back and, when it is finite, takes the
/// optimizer's step on `net`'s gradients. A loss that is not finite comes back without a step,
/// for the loop to report.
pub fn descend<M: Module>(
    net: M,
    loss: Tensor<1>,
    optimizer: &mut ModuleOptimizer,
    rate: f64,
) -> (M, f64) {
    let loss_value = f64::from(loss.clone().into_scalar::<f32>());
    if !loss_value.is_finite() {
        return (net, loss_value);
    }
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    (optimizer.step(rate, net, grads), loss_value)
}

/// `descend` on a model's net, keeping its config.
pub fn descend_model<M: StoredModel>(
    model: M,
    loss: Tensor<1>,
    optimizer: &mut ModuleOptimizer,
    rate: f64,
) -> (M, f64) {
    let stored = model.stored();
    let (net, loss_value) = descend(model.net().clone(), loss, optimizer, rate);
    (M::assemble(net, stored), loss_value)
}

/// A demo's step, boxed for the list `DemoCli::training_steps` returns.
pub fn boxed<M: Send + 'static>(
    step: Result<LoopStep<M>, String>,
) -> anyhow::Result<Box<dyn TrainingStep>> {
    Ok(Box::new(step.map_err(anyhow::Error::msg)?))
}
