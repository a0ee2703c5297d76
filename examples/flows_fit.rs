//! A first measurement for the flows demo (its panel and command line are not built yet): on
//! fresh test points of a data set, the test log-likelihood of a Gaussian mixture fitted by EM, a
//! RealNVP flow and the same flow behind an abs surjection, beside the true density's.
//!
//! `cargo run --release --example flows_fit -- [DATASET] [STEPS] [POINTS]`
//! (defaults: eightgaussians, 10000 steps, 10000 training and 10000 test points; SurVAE's 2-D
//! flow: 4 affine couplings with MLPs of [200, 100], Adam 1e-3, batch 128.)

use std::time::Instant;

use burn::tensor::Device;
use clap::ValueEnum;
use inference_lab::demos::flows::classical::fit;
use inference_lab::demos::flows::model::{FlowConfig, points_tensor};
use inference_lab::demos::flows::sim::Dataset;
use inference_lab::demos::flows::train::{TrainConfig, mean_log_density, train};
use inference_lab::training::{Schedule, Stream};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dataset = match args.next() {
        Some(name) => Dataset::from_str(&name, true).map_err(anyhow::Error::msg)?,
        None => Dataset::Eightgaussians,
    };
    let steps: u64 = args.next().map_or(Ok(10_000), |s| s.parse())?;
    let count: usize = args.next().map_or(Ok(10_000), |s| s.parse())?;
    let training = dataset.sample(count, Stream::Train.seed(0, 0));
    let test = dataset.sample(count, Stream::Test.seed(0, 0));
    let device = Device::flex();
    let truth = dataset.mean_log_density(&test);
    println!(
        "{}: true density {truth:.4} nats on {count} test points",
        dataset.name()
    );

    let started = Instant::now();
    let mixture = fit(&training, 8, 3, 0);
    println!(
        "  gmm K=8 (best of 3)  {:.4} nats (gap {:.4})  {:.1} s",
        mixture.last().mean_log_density(&test),
        truth - mixture.last().mean_log_density(&test),
        started.elapsed().as_secs_f64()
    );

    let plain = FlowConfig::real_nvp(4, &[200, 100]);
    let stacks = if dataset.is_sign_symmetric() {
        vec![("flow", plain.clone()), ("abs + flow", plain.with_abs())]
    } else {
        vec![("flow", plain)]
    };
    for (name, model) in stacks {
        let mut config = TrainConfig::new(model, training.clone());
        config.schedule = Schedule::new(steps, 1e-3, 500);
        let started = Instant::now();
        let handle = inference_lab::jobs::spawn("flows fit", || {}, {
            let device = device.clone();
            move |ctx| train(ctx, &config, &device, None)
        })?;
        let trained = handle.wait().map_err(|e| anyhow::anyhow!("{e}"))?;
        let nats = mean_log_density(&trained.model, points_tensor(&test, &device));
        println!(
            "  {name:<20} {nats:.4} nats (gap {:.4}, validation {:.4})  {:.1} s",
            truth - nats,
            trained.score,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
