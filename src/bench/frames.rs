//! `--bench-frames N`: opens the window, starts a real training job, records N frames and
//! prints the start-up time and frame times (median, p95) as JSON on stdout, then exits.

use std::time::{Duration, Instant};

use super::load::train_vector_field;
use super::quantile;
use crate::backend::ComputeChoice;
use crate::jobs::{JobHandle, spawn};

pub struct FrameBench {
    frames_wanted: usize,
    process_start: Instant,
    first_frame: Option<Duration>,
    /// Time spent in our UI code per frame.
    ui_secs: Vec<f64>,
    /// Time between frame starts: the whole frame as the user sees it.
    interval_secs: Vec<f64>,
    last_start: Option<Instant>,
    load: Option<JobHandle<f64>>,
    load_error: Option<String>,
    reported: bool,
}

/// The summary printed at the end.
#[derive(Debug, serde::Serialize)]
pub struct FrameReport {
    pub frames: usize,
    pub start_to_first_frame_secs: f64,
    pub ui_ms_median: f64,
    pub ui_ms_p95: f64,
    pub frame_interval_ms_median: f64,
    pub frame_interval_ms_p95: f64,
    pub load_job_running_throughout: bool,
    pub load_job_steps: u64,
}

impl FrameBench {
    pub fn new(frames_wanted: usize, process_start: Instant) -> Self {
        Self {
            frames_wanted: frames_wanted.max(1),
            process_start,
            first_frame: None,
            ui_secs: Vec::new(),
            interval_secs: Vec::new(),
            last_start: None,
            load: None,
            load_error: None,
            reported: false,
        }
    }

    /// Starts the training job; returns its shared state for the status bar.
    pub fn start_load(
        &mut self,
        ctx: &egui::Context,
        compute: &ComputeChoice,
    ) -> Option<std::sync::Arc<crate::jobs::JobShared>> {
        let device = compute.device.clone();
        let waker_ctx = ctx.clone();
        match spawn(
            "frame-bench load: MLP training",
            move || waker_ctx.request_repaint(),
            move |job| train_vector_field(job, &device, None),
        ) {
            Ok(handle) => {
                let shared = std::sync::Arc::clone(handle.shared());
                self.load = Some(handle);
                Some(shared)
            }
            Err(e) => {
                self.load_error = Some(e.to_string());
                None
            }
        }
    }

    /// Records one frame; returns true when enough frames were seen (the report is printed).
    pub fn record_frame(&mut self, frame_started: Instant, ctx: &egui::Context) -> bool {
        if self.reported {
            // The window takes a frame to close after the report.
            return true;
        }
        let now = Instant::now();
        if self.first_frame.is_none() {
            self.first_frame = Some(frame_started.duration_since(self.process_start));
        }
        self.ui_secs
            .push(now.duration_since(frame_started).as_secs_f64());
        if let Some(last) = self.last_start {
            self.interval_secs
                .push(frame_started.duration_since(last).as_secs_f64());
        }
        self.last_start = Some(frame_started);
        ctx.request_repaint();
        if self.ui_secs.len() < self.frames_wanted {
            return false;
        }
        let (running, steps) = match &self.load {
            Some(job) => (
                job.is_running(),
                job.shared().with_state(|s| s.progress.step),
            ),
            None => (false, 0),
        };
        if let Some(job) = &self.load {
            job.cancel();
        }
        let ms = |v: &[f64], q| quantile(v, q) * 1000.0;
        let report = FrameReport {
            frames: self.ui_secs.len(),
            start_to_first_frame_secs: self.first_frame.map_or(f64::NAN, |d| d.as_secs_f64()),
            ui_ms_median: ms(&self.ui_secs, 0.5),
            ui_ms_p95: ms(&self.ui_secs, 0.95),
            frame_interval_ms_median: ms(&self.interval_secs, 0.5),
            frame_interval_ms_p95: ms(&self.interval_secs, 0.95),
            load_job_running_throughout: running,
            load_job_steps: steps,
        };
        if let Some(e) = &self.load_error {
            eprintln!("the load job did not start: {e}");
        }
        match serde_json::to_string(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => eprintln!("cannot print the frame report: {e}"),
        }
        self.reported = true;
        true
    }
}
