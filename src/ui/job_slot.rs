//! How a panel follows a background job: one [`JobSlot`] per kind of job (training, inference)
//! holds the running job with what it was started with, and yields its outcome once. A slot
//! also knows whether the panel's inputs changed since its job started, so that a result for
//! replaced inputs is dropped and a fresh run is due.

use std::sync::Arc;

use crate::jobs::{JobContext, JobError, JobHandle, JobRegistry, JobShared};

/// How a followed job ended.
#[derive(Debug)]
pub enum JobOutcome<T> {
    Finished(T),
    Cancelled,
    Failed(String),
    /// It finished, but the inputs it ran on were replaced meanwhile: the result was dropped.
    Stale,
}

impl<T> JobOutcome<T> {
    /// The status line of a job that did not finish (`what` names it: "training cancelled").
    pub fn unfinished_status(&self, what: &str) -> Option<Result<String, String>> {
        match self {
            Self::Cancelled => Some(Ok(format!("{what} cancelled"))),
            Self::Failed(msg) => Some(Err(msg.clone())),
            Self::Finished(_) | Self::Stale => None,
        }
    }
}

/// A panel's slot for one kind of background job. `S` is what the job was started with (a
/// training config, say), handed back with the outcome.
pub struct JobSlot<T, S = ()> {
    running: Option<(S, JobHandle<T>)>,
    /// The inputs changed since the last start: a running job's result is stale, a run is due.
    inputs_changed: bool,
}

impl<T: Send + 'static, S> JobSlot<T, S> {
    /// An empty slot; `due`: whether a run is due at once (an inference on the first frame) or
    /// only when asked for (training).
    pub fn new(due: bool) -> Self {
        Self {
            running: None,
            inputs_changed: due,
        }
    }

    /// Spawns `work` as job `name`, which repaints `egui_ctx` as it progresses, lists it in the
    /// status bar and follows it. The run is no longer due, even when the thread cannot start
    /// (so a failing start is not retried every frame).
    pub fn start<F>(
        &mut self,
        name: impl Into<String>,
        started_with: S,
        egui_ctx: &egui::Context,
        jobs: &mut JobRegistry,
        work: F,
    ) -> std::io::Result<()>
    where
        F: FnOnce(&JobContext) -> Result<T, JobError> + Send + 'static,
    {
        self.inputs_changed = false;
        let waker = egui_ctx.clone();
        let handle = crate::jobs::spawn(name, move || waker.request_repaint(), work)?;
        jobs.register(handle.shared());
        self.running = Some((started_with, handle));
        Ok(())
    }

    /// The panel's inputs changed: the running job's result will be dropped, a new run is due.
    pub fn mark_stale(&mut self) {
        self.inputs_changed = true;
    }

    /// Whether the inputs changed since the last start and no job runs.
    pub fn is_due(&self) -> bool {
        self.inputs_changed && self.running.is_none()
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The running job's shared state (progress, loss history, cancel).
    /// A button that starts this slot's job (greyed while it runs) and, while it runs, Cancel;
    /// whether the button was clicked.
    pub fn start_button_ui(&self, ui: &mut egui::Ui, label: &str, hint: &str) -> bool {
        let running = self.is_running();
        let clicked = ui
            .add_enabled(!running, egui::Button::new(label))
            .on_hover_text(hint)
            .clicked();
        if running
            && ui.button("Cancel").clicked()
            && let Some(job) = self.shared()
        {
            job.cancel();
        }
        clicked
    }

    pub fn shared(&self) -> Option<&Arc<JobShared>> {
        self.running.as_ref().map(|(_, handle)| handle.shared())
    }

    /// Copies the running job's loss history into `history`, which keeps the last one for the
    /// plot once the job has ended.
    pub fn copy_loss_history(&self, history: &mut Vec<[f64; 2]>) {
        if let Some(job) = self.shared() {
            *history = job.with_state(|s| s.loss_history.clone());
        }
    }

    /// The job's result once it finished; a failure's message goes to `error` (cancelled and
    /// stale runs say nothing).
    pub fn finished(&mut self, error: &mut Option<String>) -> Option<T> {
        match self.poll()?.1 {
            JobOutcome::Finished(value) => Some(value),
            JobOutcome::Failed(msg) => {
                *error = Some(msg);
                None
            }
            JobOutcome::Cancelled | JobOutcome::Stale => None,
        }
    }

    /// How the job ended, once, with what it was started with; `None` while it runs or when
    /// none was started.
    pub fn poll(&mut self) -> Option<(S, JobOutcome<T>)> {
        let (started_with, mut handle) = self.running.take()?;
        let Some(result) = handle.try_take() else {
            self.running = Some((started_with, handle));
            return None;
        };
        let outcome = match result {
            Ok(_) if self.inputs_changed => JobOutcome::Stale,
            Ok(value) => JobOutcome::Finished(value),
            Err(JobError::Cancelled) => JobOutcome::Cancelled,
            Err(JobError::Failed(msg)) => JobOutcome::Failed(msg),
        };
        Some((started_with, outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_for<T: Send + 'static, S>(slot: &mut JobSlot<T, S>) -> (S, JobOutcome<T>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(outcome) = slot.poll() {
                return outcome;
            }
            assert!(Instant::now() < deadline, "the job did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn yields_the_result_once_with_what_it_started_with() {
        let (ctx, mut jobs) = (egui::Context::default(), JobRegistry::default());
        let mut slot = JobSlot::new(true);
        assert!(slot.is_due());
        slot.start("add", 7, &ctx, &mut jobs, |_| Ok(2 + 3))
            .expect("start");
        assert!(!slot.is_due());
        assert_eq!(jobs.jobs().len(), 1);
        let (started_with, outcome) = wait_for(&mut slot);
        assert_eq!(started_with, 7);
        assert!(matches!(outcome, JobOutcome::Finished(5)));
        assert!(slot.poll().is_none());
        assert!(!slot.is_running() && !slot.is_due());
    }

    #[test]
    fn a_result_for_replaced_inputs_is_stale_and_a_new_run_is_due() {
        let (ctx, mut jobs) = (egui::Context::default(), JobRegistry::default());
        let mut slot: JobSlot<u32> = JobSlot::new(false);
        let (go, wait) = std::sync::mpsc::channel::<()>();
        slot.start("slow", (), &ctx, &mut jobs, move |_| {
            wait.recv().map_err(JobError::failed)?;
            Ok(1)
        })
        .expect("start");
        slot.mark_stale();
        assert!(!slot.is_due(), "not due while the old run is still going");
        go.send(()).expect("send");
        assert!(matches!(wait_for(&mut slot).1, JobOutcome::Stale));
        assert!(slot.is_due());
    }

    #[test]
    fn cancelled_and_failed_jobs_say_so() {
        let (ctx, mut jobs) = (egui::Context::default(), JobRegistry::default());
        let mut slot: JobSlot<u32> = JobSlot::new(false);
        slot.start("fails", (), &ctx, &mut jobs, |_| {
            Err(JobError::failed("no data"))
        })
        .expect("start");
        let outcome = wait_for(&mut slot).1;
        assert_eq!(
            outcome.unfinished_status("training"),
            Some(Err("no data".to_owned()))
        );
        let (go, wait) = std::sync::mpsc::channel::<()>();
        slot.start("cancelled", (), &ctx, &mut jobs, move |job| {
            wait.recv().map_err(JobError::failed)?;
            job.check_cancelled()?;
            Ok(0)
        })
        .expect("start");
        slot.shared().expect("running").cancel();
        go.send(()).expect("send");
        let outcome = wait_for(&mut slot).1;
        assert_eq!(
            outcome.unfinished_status("training"),
            Some(Ok("training cancelled".to_owned()))
        );
    }

    #[test]
    fn finished_hands_over_the_value_and_a_failure_becomes_the_error() {
        let (ctx, mut jobs) = (egui::Context::default(), JobRegistry::default());
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut error = None;
        let mut slot: JobSlot<u32> = JobSlot::new(false);
        slot.start("ok", (), &ctx, &mut jobs, |_| Ok(4))
            .expect("start");
        let value = loop {
            if let Some(v) = slot.finished(&mut error) {
                break v;
            }
            assert!(Instant::now() < deadline, "the job did not end");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!((value, error.clone()), (4, None));
        slot.start("fails", (), &ctx, &mut jobs, |_| {
            Err(JobError::failed("no data"))
        })
        .expect("start");
        while error.is_none() {
            assert!(slot.finished(&mut error).is_none());
            assert!(Instant::now() < deadline, "the job did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(error.as_deref(), Some("no data"));
    }
}
