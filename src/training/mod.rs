//! Training, written once for every demo: the loop (`runner`), a loop's step as a value for
//! `bench --train` (`step`), and the seeds of the training, validation and test data
//! (`streams`). `bench` calls into this module, never the reverse.

pub mod runner;
pub mod step;
pub mod streams;
#[cfg(test)]
pub mod testing;

pub use runner::{
    Better, Curves, Devices, Metric, NetOf, Schedule, Scored, StepReport, TrainFn, TrainJob,
    TrainSettings, Trained, Trainee, cosine_learning_rate, same_shape,
};
pub use step::{LoopStep, TrainingStep, descend, descend_model};
pub use streams::Stream;
