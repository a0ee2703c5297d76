//! `inference-lab bench --train`: the training step of every network the demos train, on the
//! chosen device, as steps and samples per second, so that a regression in a kernel, a feature
//! or a model change shows as a number. Each demo hands its steps over through
//! `DemoCli::training_steps`; they are the same step functions its training loop calls
//! (`training::step`).

use std::time::Instant;

use anyhow::bail;

use super::quantile;
use crate::backend::{BackendRequest, compute_for};
use crate::demos::DemoEntry;
use crate::demos::cli::BenchArgs;
use crate::jobs::{JobContext, JobError, spawn};
use crate::terminal::wait_with_progress;
use crate::training::step::TrainingStep;

/// How many steps to measure.
#[derive(Clone, Copy, Debug)]
pub struct StepPlan {
    /// Untimed first steps (kernel compilation on wgpu, allocator warm-up).
    pub warm_up: usize,
    /// At least this many timed steps…
    pub min_steps: usize,
    /// …and more until this much time was spent (up to `max_steps`).
    pub min_secs: f64,
    pub max_steps: usize,
}

impl StepPlan {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                warm_up: 1,
                min_steps: 3,
                min_secs: 1.0,
                max_steps: 20,
            }
        } else {
            Self {
                warm_up: 2,
                min_steps: 5,
                min_secs: 8.0,
                max_steps: 200,
            }
        }
    }
}

/// One network's measured speed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrainSpeed {
    pub network: String,
    pub batch: String,
    pub samples_per_step: usize,
    pub steps_timed: usize,
    /// The first step, compilation included on wgpu.
    pub first_step_ms: f64,
    pub median_step_ms: f64,
    pub steps_per_s: f64,
    pub samples_per_s: f64,
    pub last_loss: f64,
}

/// Runs `plan` on `step`, reporting progress as the fraction `done..done + share` of the job.
pub fn measure(
    step: &mut dyn TrainingStep,
    plan: StepPlan,
    job: &JobContext,
    (done, share): (f32, f32),
) -> Result<TrainSpeed, JobError> {
    let network = step.network();
    let failed = |e: String| JobError::Failed(format!("{network}: {e}"));
    let started = Instant::now();
    let mut last_loss = step.step().map_err(failed)?;
    let first_step_ms = started.elapsed().as_secs_f64() * 1e3;
    for _ in 1..plan.warm_up {
        job.check_cancelled()?;
        last_loss = step.step().map_err(failed)?;
    }
    let timing = Instant::now();
    let mut times_ms = Vec::new();
    while times_ms.len() < plan.min_steps
        || (timing.elapsed().as_secs_f64() < plan.min_secs && times_ms.len() < plan.max_steps)
    {
        job.check_cancelled()?;
        let t = Instant::now();
        last_loss = step.step().map_err(failed)?;
        times_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let spent = (timing.elapsed().as_secs_f64() / plan.min_secs)
            .max(times_ms.len() as f64 / plan.min_steps as f64)
            .min(1.0);
        job.report_fraction(done + share * spent as f32);
    }
    if !last_loss.is_finite() {
        return Err(failed(format!("the loss became {last_loss}")));
    }
    let median_step_ms = quantile(&times_ms, 0.5);
    Ok(TrainSpeed {
        network,
        batch: step.batch(),
        samples_per_step: step.samples(),
        steps_timed: times_ms.len(),
        first_step_ms,
        median_step_ms,
        steps_per_s: 1e3 / median_step_ms,
        samples_per_s: step.samples() as f64 * 1e3 / median_step_ms,
        last_loss,
    })
}

/// Measures every step in turn, in one job.
pub fn measure_all(
    steps: &mut [Box<dyn TrainingStep>],
    plan: StepPlan,
    job: &JobContext,
) -> Result<Vec<TrainSpeed>, JobError> {
    let share = 1.0 / steps.len().max(1) as f32;
    steps
        .iter_mut()
        .enumerate()
        .map(|(i, step)| {
            job.set_message(step.network());
            measure(step.as_mut(), plan, job, (i as f32 * share, share))
        })
        .collect()
}

/// What `bench --train` prints and saves.
#[derive(Debug, serde::Serialize)]
pub struct TrainSpeeds {
    pub device: String,
    pub reason: String,
    pub speeds: Vec<TrainSpeed>,
}

/// `bench --train`: measures the training steps of `demos` on the requested device, prints a
/// table and saves the JSON to `--out`.
pub fn run(demos: &[DemoEntry], request: BackendRequest, args: &BenchArgs) -> anyhow::Result<()> {
    let compute = compute_for(request);
    let mut steps = Vec::new();
    for demo in demos {
        steps.extend(demo.cli.training_steps(&compute.device)?);
    }
    if steps.is_empty() {
        let names: Vec<&str> = demos.iter().map(|d| d.name).collect();
        bail!("{} trains no network yet", names.join(", "));
    }
    let plan = StepPlan::new(args.quick);
    let handle = spawn(
        "training steps",
        || {},
        move |job| measure_all(&mut steps, plan, job),
    )?;
    let result = TrainSpeeds {
        device: compute.label.clone(),
        reason: compute.reason.clone(),
        speeds: wait_with_progress(handle)?,
    };
    print!("{}", table(&result.device, &result.speeds));
    if let Some(path) = &args.out {
        crate::files::write_atomic(path, serde_json::to_string_pretty(&result)?.as_bytes())?;
    }
    Ok(())
}

/// The measurements as a plain-text table (one row per network).
pub fn table(device: &str, speeds: &[TrainSpeed]) -> String {
    let mut out = format!(
        "training steps on {device}\n{:<16} {:<26} {:>10} {:>10} {:>12} {:>10}\n",
        "network", "batch", "ms/step", "steps/s", "samples/s", "first ms"
    );
    for s in speeds {
        out.push_str(&format!(
            "{:<16} {:<26} {:>10.1} {:>10.2} {:>12.1} {:>10.0}\n",
            s.network, s.batch, s.median_step_ms, s.steps_per_s, s.samples_per_s, s.first_step_ms
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step that sleeps a fixed time, so the arithmetic can be checked.
    struct Sleeper {
        calls: usize,
    }

    impl TrainingStep for Sleeper {
        fn network(&self) -> String {
            "test sleeper".into()
        }
        fn batch(&self) -> String {
            "3 naps".into()
        }
        fn samples(&self) -> usize {
            3
        }
        fn step(&mut self) -> Result<f64, String> {
            self.calls += 1;
            std::thread::sleep(std::time::Duration::from_millis(10));
            Ok(1.0 / self.calls as f64)
        }
    }

    fn run(step: Box<dyn TrainingStep>, plan: StepPlan) -> Result<Vec<TrainSpeed>, JobError> {
        let handle = crate::jobs::spawn(
            "speed test",
            || {},
            move |job| {
                let mut steps = vec![step];
                measure_all(&mut steps, plan, job)
            },
        )
        .expect("spawn");
        handle.wait()
    }

    #[test]
    fn speeds_are_counted_per_step_and_per_sample() {
        let plan = StepPlan {
            warm_up: 2,
            min_steps: 4,
            min_secs: 0.0,
            max_steps: 10,
        };
        let speeds = run(Box::new(Sleeper { calls: 0 }), plan).expect("measured");
        let s = &speeds[0];
        assert_eq!(s.steps_timed, 4);
        assert!(s.median_step_ms >= 10.0, "{s:?}");
        assert!((s.samples_per_s - 3.0 * s.steps_per_s).abs() < 1e-9);
        assert!((s.last_loss - 1.0 / 6.0).abs() < 1e-12, "{s:?}");
        assert!(table("cpu", &speeds).contains("test sleeper"));
    }

    struct Failing;

    impl TrainingStep for Failing {
        fn network(&self) -> String {
            "test failing".into()
        }
        fn batch(&self) -> String {
            String::new()
        }
        fn samples(&self) -> usize {
            1
        }
        fn step(&mut self) -> Result<f64, String> {
            Ok(f64::NAN)
        }
    }

    #[test]
    fn a_step_whose_loss_is_not_finite_fails_with_its_name() {
        let err = run(Box::new(Failing), StepPlan::new(true)).expect_err("NaN");
        assert!(
            matches!(&err, JobError::Failed(m) if m.starts_with("test failing")),
            "{err:?}"
        );
    }
}
