//! The learned-model section every panel shares: a time budget, Train and Cancel, the live
//! curves of the run (every term the demo's step reports, and the validation score), the
//! outcome, and saving and loading model files with dialogs. The training itself is the demo's
//! `train` (the shared runner); the models trained in this session are kept here, by kind,
//! with their configs, so that Save writes what `DEMO train` would.

use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use burn::tensor::Device;
use egui::{Color32, Ui};

use super::job_slot::{JobOutcome, JobSlot};
use super::loss_plot::{LossSeries, loss_plot_ui};
use super::model_io::{ModelAction, ModelFilesUi};
use crate::demos::DemoCtx;
use crate::stored_model::{self, StoredModel};
use crate::training::{Curves, TrainFn, TrainJob, TrainSettings, Trained};

/// How a panel draws one term its runs report: the term's name, its label and color.
pub type TermStyle = (&'static str, &'static str, Color32);

pub struct TrainingSection<M, C> {
    pub budget_secs: f64,
    budget_range: RangeInclusive<f64>,
    job: JobSlot<Trained<M>, C>,
    curves: Arc<Mutex<Curves>>,
    /// The last run's outcome, or why it could not start.
    pub status: Option<Result<String, String>>,
    files: ModelFilesUi,
    log_loss: bool,
    /// The models trained in this session, one per kind, with the config each was trained on.
    trained: Vec<(C, Trained<M>)>,
    shipped_loaded: bool,
}

impl<M, C> TrainingSection<M, C>
where
    M: StoredModel + Clone + Send + 'static,
    C: TrainSettings + Clone + Send + 'static,
{
    /// `budget_secs` within `budget_range` (seconds); `file_name`: the dialogs' default.
    pub fn new(budget_secs: f64, budget_range: RangeInclusive<f64>, file_name: &str) -> Self {
        Self {
            budget_secs,
            budget_range,
            job: JobSlot::new(false),
            curves: Arc::default(),
            status: None,
            files: ModelFilesUi::new(file_name),
            log_loss: true,
            trained: Vec::new(),
            shipped_loaded: false,
        }
    }

    /// Whether the loss curves start on a log scale (they do unless told).
    pub fn log_scale(mut self, log: bool) -> Self {
        self.log_loss = log;
        self
    }

    pub fn is_running(&self) -> bool {
        self.job.is_running()
    }

    /// The budget slider with Train and Cancel; whether Train was clicked.
    pub fn buttons_ui(&mut self, ui: &mut Ui) -> bool {
        super::slider_label(ui, "budget");
        ui.add(
            egui::Slider::new(&mut self.budget_secs, self.budget_range.clone())
                .logarithmic(true)
                .suffix(" s"),
        )
        .on_hover_text(format!(
            "Training stops after this many seconds; the model with the best {} is kept",
            C::METRIC.label
        ));
        let job = self.job.shared().cloned();
        super::train_buttons_ui(ui, job.as_deref())
    }

    /// Starts `train` on `config` as job `name` on the panel's device, with fresh curves.
    pub fn start(
        &mut self,
        name: String,
        config: C,
        egui_ctx: &egui::Context,
        ctx: &mut DemoCtx<'_>,
        train: TrainFn<M, C>,
    ) {
        let device = ctx.compute.device.clone();
        let job_config = config.clone();
        self.curves = Arc::default();
        let curves = self.curves.clone();
        let started = self
            .job
            .start(name, config, egui_ctx, ctx.jobs, move |job| {
                train(
                    TrainJob::new(job, &device).with_curves(&curves),
                    &job_config,
                )
            });
        self.status = started
            .err()
            .map(|e| Err(format!("cannot start training: {e}")));
    }

    /// The finished run's model, once (kept here for Save); says how the run ended.
    pub fn poll(&mut self) -> Option<M> {
        match self.job.poll()? {
            (config, JobOutcome::Finished(trained)) => {
                self.status = Some(Ok(format!(
                    "trained the {} model: {}",
                    trained.model.kind(),
                    trained.summary()
                )));
                let model = trained.model.clone();
                self.forget(model.kind());
                self.trained.push((config, trained));
                Some(model)
            }
            (_, outcome) => {
                self.status = outcome.unfinished_status("training");
                None
            }
        }
    }

    /// The last run trained here (its score, steps and seconds).
    pub fn last_trained(&self) -> Option<&Trained<M>> {
        self.trained.last().map(|(_, t)| t)
    }

    /// Every shipped model, on `device`, on the first call only: they load when the panel is
    /// first drawn, not when the app starts.
    pub fn shipped_once(&mut self, device: &Device) -> Vec<M> {
        if std::mem::replace(&mut self.shipped_loaded, true) {
            return Vec::new();
        }
        stored_model::all_shipped(device).unwrap_or_else(|e| {
            self.status = Some(Err(format!("{e:#}")));
            Vec::new()
        })
    }

    /// What the panel gets new this frame: the shipped models on the first call, a finished
    /// run's model.
    pub fn new_models(&mut self, device: &Device) -> Vec<M> {
        let mut models = self.shipped_once(device);
        models.extend(self.poll());
        models
    }

    /// A model of `kind` replaced by one not trained here (loaded, or shipped): Save no longer
    /// has a run to write for it.
    pub fn forget(&mut self, kind: &str) {
        self.trained.retain(|(_, t)| t.model.kind() != kind);
    }

    /// The outcome and the curves of the current (or last) run: `terms` as styled, and the
    /// validation score in `validation_color`.
    pub fn curves_ui(
        &mut self,
        ui: &mut Ui,
        id: &str,
        terms: &[TermStyle],
        validation_color: Color32,
    ) {
        super::outcome_ui(ui, self.status.as_ref());
        let shared = self.curves.clone();
        let Ok(curves) = shared.lock() else {
            return;
        };
        if curves.terms.is_empty() {
            return;
        }
        let series: Vec<LossSeries<'_>> = terms
            .iter()
            .map(|&(term, label, color)| LossSeries {
                name: label,
                points: curves.term(term),
                color,
            })
            .collect();
        let loss_id = format!("{id}-loss");
        let log = Some(&mut self.log_loss);
        loss_plot_ui(ui, &loss_id, "training loss", &series, log, 120.0);
        let validation = [LossSeries {
            name: C::METRIC.label,
            points: &curves.validation,
            color: validation_color,
        }];
        let title = format!("{} (the best model is kept)", C::METRIC.label);
        loss_plot_ui(
            ui,
            &format!("{id}-validation"),
            &title,
            &validation,
            None,
            100.0,
        );
    }

    /// Save (the model of `kind` trained in this session) and Load (a model of `kind`, onto
    /// `device`); the model loaded, for the panel to use.
    pub fn files_ui(&mut self, ui: &mut Ui, kind: &str, device: &Device) -> Option<M> {
        let run = self.trained.iter().find(|(_, t)| t.model.kind() == kind);
        let action = self.files.ui(ui, run.is_some())?;
        let (status, loaded) = match action {
            ModelAction::Save(path) => (
                match run {
                    Some((config, trained)) => trained
                        .save(&path, config)
                        .map(|()| format!("saved the {kind} model to {}", path.display()))
                        .map_err(|e| format!("{e:#}")),
                    None => Err(format!("no {kind} model trained in this session to save")),
                },
                None,
            ),
            ModelAction::Load(path) => match stored_model::load::<M>(&path, kind, device) {
                Ok(model) => (Ok(format!("loaded {}", path.display())), Some(model)),
                Err(e) => (Err(format!("{e:#}")), None),
            },
        };
        self.files.status = Some(status);
        if loaded.is_some() {
            self.forget(kind);
        }
        loaded
    }
}
