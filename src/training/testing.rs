//! What every demo's training tests check, written once: a short run trains and validates, an
//! endless one cancels, and the step `bench --train` times learns its batch.

use std::sync::{Arc, Mutex};

use burn::tensor::Device;

use super::{Curves, TrainFn, TrainJob, Trained, TrainingStep};
use crate::jobs::JobError;

/// Runs `train` on `config` on the CPU as a job, with curves: the run, and its curves.
pub fn short_run<M, C>(train: TrainFn<M, C>, config: C) -> (Trained<M>, Curves)
where
    M: Send + 'static,
    C: Send + 'static,
{
    let curves = Arc::new(Mutex::new(Curves::default()));
    let job_curves = curves.clone();
    let handle = crate::jobs::spawn(
        "short run",
        || {},
        move |ctx| {
            train(
                TrainJob::new(ctx, &Device::flex()).with_curves(&job_curves),
                &config,
            )
        },
    )
    .expect("spawn");
    let trained = handle.wait().expect("training");
    let curves = curves.lock().expect("curves").clone();
    (trained, curves)
}

/// Starts `train` on `endless` (a config with no step limit), cancels it after a moment and
/// checks that the job says it was cancelled.
pub fn assert_cancels<M, C>(train: TrainFn<M, C>, endless: C)
where
    M: Send + 'static,
    C: Send + 'static,
{
    let handle = crate::jobs::spawn(
        "endless run",
        || {},
        move |ctx| train(TrainJob::new(ctx, &Device::flex()), &endless),
    )
    .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(300));
    handle.cancel();
    assert!(matches!(handle.wait(), Err(JobError::Cancelled)));
}

/// Takes `steps` steps of `step` on its one batch: the loss must fall.
pub fn assert_step_learns(step: &mut dyn TrainingStep, steps: usize) {
    let first = step.step().expect("loss");
    let mut last = first;
    for _ in 0..steps {
        last = step.step().expect("loss");
    }
    assert!(first.is_finite() && last < first, "{first} → {last}");
}
