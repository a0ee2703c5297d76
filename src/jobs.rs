//! Background jobs: training and inference off the UI thread.
//!
//! A job runs on its own named thread. It reports progress into a shared state (so the latest
//! figures and the whole loss history are never dropped, and the UI never blocks on the worker),
//! checks a cancel flag between steps, and delivers its result over a bounded channel of
//! capacity one. A panic inside the job is caught and becomes an error message.
//! The command line drives the same jobs and draws the same progress with a terminal bar.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why a job ended without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

impl JobError {
    pub fn failed(err: impl std::fmt::Display) -> Self {
        Self::Failed(err.to_string())
    }
}

impl From<anyhow::Error> for JobError {
    fn from(err: anyhow::Error) -> Self {
        Self::Failed(format!("{err:#}"))
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobPhase {
    Running,
    Finished,
    Cancelled,
    Failed(String),
}

impl JobPhase {
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running)
    }
}

/// The figures a running job shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// 0..=1.
    pub fraction: f32,
    pub step: u64,
    pub total_steps: Option<u64>,
    pub loss: Option<f64>,
    pub steps_per_sec: Option<f64>,
    pub eta_secs: Option<f64>,
    /// e.g. "warming up (compiling GPU kernels)".
    pub message: String,
}

/// Everything the UI and the terminal read about a job.
#[derive(Debug, Clone)]
pub struct JobState {
    pub phase: JobPhase,
    pub progress: Progress,
    /// (step, loss) of every reported step that had a loss.
    pub loss_history: Vec<[f64; 2]>,
    pub started: Instant,
    pub finished: Option<Instant>,
}

/// The part of a job shared by the worker, its owner and the status bar.
#[derive(Debug)]
pub struct JobShared {
    pub id: u64,
    pub name: String,
    cancel: AtomicBool,
    state: Mutex<JobState>,
}

impl JobShared {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// A snapshot of the state (clones the loss history: call once a frame, not per point).
    pub fn state(&self) -> JobState {
        self.lock().clone()
    }

    /// Reads the state without cloning it.
    pub fn with_state<R>(&self, read: impl FnOnce(&JobState) -> R) -> R {
        read(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, JobState> {
        // A poisoned lock only means a panic happened while a figure was written: the figures
        // are still readable, and the panic itself is reported through the job's phase.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

type Waker = Arc<dyn Fn() + Send + Sync>;

/// What the job's closure gets: its cancel flag and its progress reporter.
pub struct JobContext {
    shared: Arc<JobShared>,
    waker: Waker,
    last_wake: Mutex<Option<Instant>>,
}

/// Steps that may include kernel compilation on wgpu.
const WARM_UP_STEPS: u64 = 3;
pub const WARMING_UP: &str = "warming up (compiling GPU kernels)";

/// Below this interval progress reports do not wake the UI again (it repaints at most ~30 Hz).
const WAKE_INTERVAL: Duration = Duration::from_millis(33);

impl JobContext {
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel_requested()
    }

    /// `Err(Cancelled)` once cancel was asked for: use with `?` between steps.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.is_cancelled() {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Reports step `step` of `total_steps` (when known), with the loss of that step.
    pub fn report_step(&self, step: u64, total_steps: Option<u64>, loss: Option<f64>) {
        self.update(|state| {
            let elapsed = state.started.elapsed().as_secs_f64();
            let progress = &mut state.progress;
            progress.step = step;
            progress.total_steps = total_steps;
            progress.loss = loss.or(progress.loss);
            progress.steps_per_sec = (elapsed > 0.0 && step > 0).then(|| step as f64 / elapsed);
            if let Some(total) = total_steps.filter(|&t| t > 0) {
                progress.fraction = (step as f64 / total as f64).clamp(0.0, 1.0) as f32;
                progress.eta_secs = progress
                    .steps_per_sec
                    .map(|rate| total.saturating_sub(step) as f64 / rate);
            }
            if let Some(loss) = loss {
                state.loss_history.push([step as f64, loss]);
            }
        });
    }

    /// For jobs bounded by time or by an unknown amount of work: sets the fraction directly.
    pub fn report_fraction(&self, fraction: f32) {
        self.update(|state| {
            let fraction = fraction.clamp(0.0, 1.0);
            state.progress.fraction = fraction;
            let elapsed = state.started.elapsed().as_secs_f64();
            state.progress.eta_secs =
                (fraction > 0.0).then(|| elapsed * f64::from(1.0 - fraction) / f64::from(fraction));
        });
    }

    /// The head of a training loop: `Ok(false)` once the step limit or the time budget are
    /// used up, `Err(Cancelled)` when cancelled; otherwise counts the step and notes the warm-up.
    pub fn begin_training_step(
        &self,
        step: &mut u64,
        bounds: &TrainingBounds,
        compiles_kernels: bool,
    ) -> Result<bool, JobError> {
        if *step >= bounds.max_steps || bounds.budget_spent() {
            return Ok(false);
        }
        self.check_cancelled()?;
        *step += 1;
        self.note_warm_up(*step, compiles_kernels);
        Ok(true)
    }

    /// A training loop's report after `step`: whichever bound comes first decides the progress
    /// shown.
    pub fn report_training_step(&self, step: u64, bounds: &TrainingBounds, loss: f64) {
        let total = (bounds.max_steps != u64::MAX).then_some(bounds.max_steps);
        self.report_step(step, total, Some(loss));
        if bounds.budget_secs.is_some() {
            self.report_fraction(bounds.progress(step) as f32);
        }
    }

    /// Call before each step: on a device that compiles kernels on first use (wgpu), the first
    /// steps take seconds, and the status bar says "warming up" instead of looking frozen.
    pub fn note_warm_up(&self, step: u64, compiles_kernels: bool) {
        if !compiles_kernels {
            return;
        }
        if step <= WARM_UP_STEPS {
            self.set_message(WARMING_UP);
        } else if step == WARM_UP_STEPS + 1 {
            self.set_message("");
        }
    }

    pub fn set_message(&self, message: impl Into<String>) {
        let message = message.into();
        self.update(|state| state.progress.message = message);
    }

    fn update(&self, write: impl FnOnce(&mut JobState)) {
        write(&mut self.shared.lock());
        let now = Instant::now();
        let mut last = self
            .last_wake
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|t| now.duration_since(t) >= WAKE_INTERVAL) {
            *last = Some(now);
            (self.waker)();
        }
    }
}

/// The owner's side of a job: typed result, cancel, and its shared state.
pub struct JobHandle<T> {
    shared: Arc<JobShared>,
    result: Receiver<Result<T, JobError>>,
}

impl<T> JobHandle<T> {
    pub fn shared(&self) -> &Arc<JobShared> {
        &self.shared
    }

    pub fn cancel(&self) {
        self.shared.cancel();
    }

    pub fn is_running(&self) -> bool {
        self.shared.with_state(|s| s.phase.is_running())
    }

    /// The result once the job has ended; `None` while it runs (and after it was taken).
    pub fn try_take(&mut self) -> Option<Result<T, JobError>> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => None,
        }
    }

    /// Blocks until the job ends (for the command line and tests).
    pub fn wait(self) -> Result<T, JobError> {
        self.result.recv().unwrap_or_else(|_| {
            Err(JobError::Failed(
                "the job's thread ended without a result".into(),
            ))
        })
    }
}

static NEXT_JOB_ID: AtomicU64 = AtomicU64::new(1);

/// Starts `work` on a thread named after the job. `waker` is called (throttled) when progress
/// changes and when the job ends, e.g. `egui::Context::request_repaint`.
pub fn spawn<T, F>(
    name: impl Into<String>,
    waker: impl Fn() + Send + Sync + 'static,
    work: F,
) -> std::io::Result<JobHandle<T>>
where
    T: Send + 'static,
    F: FnOnce(&JobContext) -> Result<T, JobError> + Send + 'static,
{
    let name = name.into();
    let shared = Arc::new(JobShared {
        id: NEXT_JOB_ID.fetch_add(1, Ordering::Relaxed),
        name: name.clone(),
        cancel: AtomicBool::new(false),
        state: Mutex::new(JobState {
            phase: JobPhase::Running,
            progress: Progress::default(),
            loss_history: Vec::new(),
            started: Instant::now(),
            finished: None,
        }),
    });
    let (tx, rx): (SyncSender<Result<T, JobError>>, _) = sync_channel(1);
    let context = JobContext {
        shared: Arc::clone(&shared),
        waker: Arc::new(waker),
        last_wake: Mutex::new(None),
    };
    std::thread::Builder::new()
        .name(format!("job: {name}"))
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| work(&context)))
                .unwrap_or_else(|panic| Err(JobError::Failed(panic_message(&*panic))));
            {
                let mut state = context.shared.lock();
                state.phase = match &outcome {
                    Ok(_) => JobPhase::Finished,
                    Err(JobError::Cancelled) => JobPhase::Cancelled,
                    Err(JobError::Failed(msg)) => JobPhase::Failed(msg.clone()),
                };
                if outcome.is_ok() {
                    state.progress.fraction = 1.0;
                    state.progress.eta_secs = Some(0.0);
                }
                state.finished = Some(Instant::now());
            }
            // The owner may have dropped its handle; then nobody wants the result.
            let _ = tx.send(outcome);
            (context.waker)();
        })?;
    Ok(JobHandle { shared, result: rx })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    format!("the job crashed: {}", panic_text(panic))
}

/// What a panic said.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Every job the app has started, for the status bar. Finished jobs stay listed for a while so
/// their outcome (an error above all) can be read.
#[derive(Default)]
pub struct JobRegistry {
    jobs: Vec<Arc<JobShared>>,
}

/// How long a finished job stays in the status bar.
const KEEP_FINISHED: Duration = Duration::from_secs(8);

impl JobRegistry {
    pub fn register(&mut self, job: &Arc<JobShared>) {
        self.jobs.push(Arc::clone(job));
    }

    /// Drops finished jobs older than [`KEEP_FINISHED`]; failed ones stay until dismissed.
    pub fn prune(&mut self) {
        self.jobs.retain(|job| {
            job.with_state(|s| match (&s.phase, s.finished) {
                (JobPhase::Failed(_), _) => true,
                (_, Some(t)) => t.elapsed() < KEEP_FINISHED,
                _ => true,
            })
        });
    }

    pub fn dismiss(&mut self, id: u64) {
        self.jobs.retain(|job| job.id != id);
    }

    pub fn jobs(&self) -> &[Arc<JobShared>] {
        &self.jobs
    }

    pub fn any_running(&self) -> bool {
        self.jobs
            .iter()
            .any(|job| job.with_state(|s| s.phase.is_running()))
    }
}

/// "1 h 02 min", "3 min 05 s", "12 s".
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".to_owned();
    }
    let secs = secs.round() as u64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// Where a training run stops: after `max_steps` (`u64::MAX`: no step limit) or once
/// `budget_secs` have passed since `started`, whichever comes first.
#[derive(Clone, Copy, Debug)]
pub struct TrainingBounds {
    pub max_steps: u64,
    pub budget_secs: Option<f64>,
    pub started: Instant,
}

impl TrainingBounds {
    /// Bounds for a run that starts now.
    pub fn new(max_steps: u64, budget_secs: Option<f64>) -> Self {
        Self {
            max_steps,
            budget_secs,
            started: Instant::now(),
        }
    }

    pub fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn budget_spent(&self) -> bool {
        self.budget_secs.is_some_and(|b| self.seconds() >= b)
    }

    /// How far the run is after `step`, in [0, 1]: by steps or by time, whichever is further.
    pub fn progress(&self, step: u64) -> f64 {
        let by_steps = if self.max_steps == u64::MAX {
            0.0
        } else {
            step as f64 / self.max_steps.max(1) as f64
        };
        let by_time = self
            .budget_secs
            .map_or(0.0, |b| self.seconds() / b.max(1e-9));
        by_steps.max(by_time).clamp(0.0, 1.0)
    }

    /// Whether to validate after `step`: every `every` steps and after the last.
    pub fn validation_due(&self, step: u64, every: u64) -> bool {
        step.is_multiple_of(every) || step == self.max_steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_progress_is_the_further_of_steps_and_time() {
        let now = Instant::now();
        let training_progress = |step, max_steps, budget_secs, started| {
            TrainingBounds {
                max_steps,
                budget_secs,
                started,
            }
            .progress(step)
        };
        assert_eq!(training_progress(0, 100, None, now), 0.0);
        assert!((training_progress(25, 100, None, now) - 0.25).abs() < 1e-12);
        assert_eq!(training_progress(500, 100, None, now), 1.0);
        assert_eq!(training_progress(5, u64::MAX, None, now), 0.0);
        let earlier = now - std::time::Duration::from_secs(30);
        let by_time = training_progress(1, 100, Some(60.0), earlier);
        assert!((0.5..0.6).contains(&by_time), "{by_time}");
        assert_eq!(training_progress(1, u64::MAX, Some(10.0), earlier), 1.0);
    }

    fn no_wake() {}

    #[test]
    fn progress_and_result_are_delivered() {
        let handle = spawn("count", no_wake, |ctx| {
            for step in 1..=10u64 {
                ctx.report_step(step, Some(10), Some(1.0 / step as f64));
            }
            Ok(42)
        })
        .expect("spawn");
        let shared = Arc::clone(handle.shared());
        assert_eq!(handle.wait(), Ok(42));
        let state = shared.state();
        assert_eq!(state.phase, JobPhase::Finished);
        assert_eq!(state.progress.step, 10);
        assert_eq!(state.progress.fraction, 1.0);
        assert_eq!(state.loss_history.len(), 10);
        assert_eq!(state.loss_history[9], [10.0, 0.1]);
    }

    #[test]
    fn cancel_is_honoured_within_100_ms() {
        let handle = spawn("forever", no_wake, |ctx| -> Result<(), JobError> {
            loop {
                ctx.check_cancelled()?;
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .expect("spawn");
        std::thread::sleep(Duration::from_millis(20));
        let shared = Arc::clone(handle.shared());
        let asked = Instant::now();
        handle.cancel();
        assert_eq!(handle.wait(), Err(JobError::Cancelled));
        assert!(asked.elapsed() < Duration::from_millis(100));
        assert_eq!(shared.state().phase, JobPhase::Cancelled);
    }

    #[test]
    fn a_panic_becomes_an_error_message() {
        let handle = spawn("crash", no_wake, |_ctx| -> Result<(), JobError> {
            panic!("index out of bounds in the test job")
        })
        .expect("spawn");
        let shared = Arc::clone(handle.shared());
        match handle.wait() {
            Err(JobError::Failed(msg)) => assert!(msg.contains("index out of bounds")),
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(matches!(shared.state().phase, JobPhase::Failed(_)));
    }

    #[test]
    fn try_take_is_none_while_running_and_waker_fires() {
        let woken = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&woken);
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let mut handle = spawn(
            "gate",
            move || {
                counter.fetch_add(1, Ordering::Relaxed);
            },
            move |_ctx| {
                go_rx.recv().map_err(JobError::failed)?;
                Ok("done")
            },
        )
        .expect("spawn");
        assert!(handle.try_take().is_none());
        assert!(handle.is_running());
        go_tx.send(()).expect("send");
        let deadline = Instant::now() + Duration::from_secs(5);
        let result = loop {
            if let Some(r) = handle.try_take() {
                break r;
            }
            assert!(Instant::now() < deadline, "job never finished");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(result, Ok("done"));
        assert!(woken.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn registry_keeps_failures_until_dismissed() {
        let mut registry = JobRegistry::default();
        let handle = spawn("bad", no_wake, |_| -> Result<(), JobError> {
            Err(JobError::Failed("NaN loss".into()))
        })
        .expect("spawn");
        registry.register(handle.shared());
        let id = handle.shared().id;
        let _ = handle.wait();
        registry.prune();
        assert_eq!(registry.jobs().len(), 1);
        assert!(!registry.any_running());
        registry.dismiss(id);
        assert!(registry.jobs().is_empty());
    }

    #[test]
    fn warm_up_is_shown_only_for_the_first_steps_of_compiling_devices() {
        let handle = spawn("warm", no_wake, |ctx| {
            ctx.note_warm_up(1, true);
            let during = ctx.shared.state().progress.message;
            ctx.note_warm_up(WARM_UP_STEPS + 1, true);
            let after = ctx.shared.state().progress.message;
            ctx.note_warm_up(1, false);
            let cpu = ctx.shared.state().progress.message;
            Ok((during, after, cpu))
        })
        .expect("spawn");
        let (during, after, cpu) = handle.wait().expect("job");
        assert_eq!(during, WARMING_UP);
        assert!(after.is_empty() && cpu.is_empty());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(12.2), "12 s");
        assert_eq!(format_duration(185.0), "3 min 05 s");
        assert_eq!(format_duration(3720.0), "1 h 02 min");
        assert_eq!(format_duration(f64::NAN), "?");
    }
}
