//! `inference-lab bench` without a demo: how fast the chosen compute device is, measured.
//! A 512² matmul (median of repeats) and Adam steps of a 3-64-64-3 MLP on batches of 256.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

use super::quantile;
use crate::backend::{BackendRequest, compute_for};
use crate::jobs::{JobError, spawn};
use crate::terminal::wait_with_progress;

#[derive(Debug, serde::Serialize)]
pub struct DeviceSpeed {
    pub device: String,
    pub reason: String,
    pub matmul_512_ms_median: f64,
    pub matmul_gflops: f64,
    /// Mean over the timed run (each step reads its loss back, as the app's training loops do).
    pub mlp_train_step_ms: f64,
    /// The first step includes kernel compilation on wgpu.
    pub first_step_ms: f64,
}

fn sync(t: Tensor<2>) -> Result<(), JobError> {
    // Reading one value forces the device to finish the queued work.
    let _ = t.slice([0..1, 0..1]).into_scalar::<f32>();
    Ok(())
}

fn measure(
    device: &Device,
    repeats: usize,
    job: &crate::jobs::JobContext,
) -> Result<(f64, f64, f64), JobError> {
    let a = Tensor::<2>::random([512, 512], Distribution::Default, device);
    let b = Tensor::<2>::random([512, 512], Distribution::Default, device);
    let first = Instant::now();
    sync(a.clone().matmul(b.clone()))?;
    let first_ms = first.elapsed().as_secs_f64() * 1e3;
    let mut matmul = Vec::new();
    for i in 0..repeats {
        job.check_cancelled()?;
        let t = Instant::now();
        sync(a.clone().matmul(b.clone()))?;
        matmul.push(t.elapsed().as_secs_f64() * 1e3);
        job.report_fraction(0.5 * (i + 1) as f32 / repeats as f32);
    }
    // Training steps: a short warm-up (kernel compilation on wgpu), then a timed run.
    super::load::train_vector_field(job, device, Some(3))?;
    let steps = (repeats * 20) as u64;
    let t = Instant::now();
    super::load::train_vector_field(job, device, Some(steps))?;
    let step_ms = t.elapsed().as_secs_f64() * 1e3 / steps as f64;
    job.report_fraction(1.0);
    Ok((quantile(&matmul, 0.5), step_ms, first_ms))
}

pub fn run(request: BackendRequest, quick: bool) -> anyhow::Result<()> {
    let compute = compute_for(request);
    let repeats = if quick { 5 } else { 30 };
    let device = compute.device.clone();
    let handle = spawn(
        "device speed",
        || {},
        move |job| measure(&device, repeats, job),
    )?;
    let (matmul_ms, step_ms, first_ms) = wait_with_progress(handle)?;
    let speed = DeviceSpeed {
        device: compute.label.clone(),
        reason: compute.reason.clone(),
        matmul_512_ms_median: matmul_ms,
        matmul_gflops: 2.0 * 512f64.powi(3) / (matmul_ms * 1e-3) / 1e9,
        mlp_train_step_ms: step_ms,
        first_step_ms: first_ms,
    };
    println!("{}", serde_json::to_string_pretty(&speed)?);
    Ok(())
}
