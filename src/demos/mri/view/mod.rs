//! The MRI panel: truth | k-space with the mask | reconstruction at the current step | error,
//! every method's PSNR/SSIM/NMSE per step, training, model files, export. No math here: it
//! calls `sim`, `methods` and `train` and draws what they return.

use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions, Ui};
use egui_plot::{Line, LineStyle, Plot, PlotPoints, VLine};

use super::images::{MR_CREDIT, MR_EXAMPLES, mr_example, phantom, resized};
use super::io::{read_image, read_kspace, read_mask};
use super::methods::{Method, Run, run, worth_in_tv};
use super::metrics::Quality;

use super::model::{MriKind, MriModel, shipped_training};
use super::sim::{
    Fourier, Image, Mask, MaskKind, MeasureConfig, default_center_fraction, simulate,
};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx};
use crate::jobs::JobError;
use crate::stored_model::StoredModel;
use crate::ui::colormap::{Colormap, ValueRange, colorize};
use crate::ui::export::FigureData;
use crate::ui::file_dialog::{DialogKind, PathField};
use crate::ui::job_slot::JobSlot;
use crate::ui::log_axis::{log_position, log_step_marks, step_hover_label, step_label};
use crate::ui::metrics::{KindColor, MethodRow, Metric, MetricsTable, metrics_table_ui};
use crate::ui::timeline::{Timeline, timeline_ui};
use crate::ui::training_section::TrainingSection;
use crate::ui::{slider_label, wrap_before_slider};

mod example;
mod paint;

use crate::demos::DemoMethod;
use paint::*;

/// Where the measured image comes from.
#[derive(Clone, Debug)]
enum Source {
    Phantom,
    /// A shipped MR slice (held out of training), resized to the side.
    Example(usize),
    /// A loaded image (its path, for the label).
    Image(String, Image),
    /// A loaded measurement: no truth, so no scores.
    KSpace(String),
}

/// A mask type in one line (the tooltip of its button).
fn mask_hint(kind: MaskKind) -> &'static str {
    match kind {
        MaskKind::Cartesian => {
            "Whole k-space columns, random but a fully sampled centre (fastMRI's RandomMaskFunc)"
        }
        MaskKind::Radial => "Spokes through the centre of k-space, as in radial MRI",
        MaskKind::Uv => {
            "Radio interferometry's uv coverage: antenna baselines rotated by the Earth"
        }
    }
}

const PSNR_HINT: &str = "PSNR = 10 log₁₀(1 / MSE) in dB, data range 1: higher is better";
const SSIM_HINT: &str = "SSIM as scikit-image computes it (7×7 uniform windows, K1 0.01, K2 0.03, \
                         data range 1): 1 is a perfect match";
const NMSE_HINT: &str = "NMSE = |estimate − truth|² / |truth|²: lower is better";
const CURRENT_STEP_COLOR: Color32 = Color32::from_rgb(255, 196, 0);
/// Below these sizes (points) the figure scrolls rather than shrinks.
/// The image sides offered for a phantom or a shipped MR slice.
const SIDES: [usize; 4] = [32, 64, 128, 256];
const MIN_IMAGE_SIDE: f32 = 96.0;
const MIN_PLOT_HEIGHT: f32 = 150.0;
/// Narrower than this, the per-step plot takes the whole width and the table goes under it.
const MIN_PLOT_WIDTH: f32 = 360.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum PlotMetric {
    Psnr,
    Ssim,
    Nmse,
}

struct Textures {
    truth: Option<TextureHandle>,
    kspace: Option<TextureHandle>,
    estimate: Option<TextureHandle>,
    error: Option<TextureHandle>,
}

pub struct MriDemo {
    source: Source,
    side: usize,
    phantom_seed: u64,
    config: MeasureConfig,
    truth: Option<Image>,
    kspace: Vec<rustfft::num_complex::Complex64>,
    mask: Option<Mask>,
    runs: Vec<Run>,
    shown: Method,
    step: Timeline,
    plot_metric: PlotMetric,
    table: MetricsTable,
    /// The metrics table's width last frame: the per-step plot beside it gets the rest.
    table_width: f32,
    error: Option<String>,
    /// Every method on the current measurement; stale once the measurement or the models change.
    inference: JobSlot<Vec<Run>>,
    textures: Textures,
    textures_dirty: bool,
    image_field: PathField,
    kspace_field: PathField,
    mask_field: PathField,
    models: Vec<MriModel>,
    train_method: Method,
    /// Train on this folder's PNGs instead of phantoms alone.
    training_images: Option<std::path::PathBuf>,
    images_field: PathField,
    training: TrainingSection<MriModel, TrainConfig>,
}

impl Default for MriDemo {
    fn default() -> Self {
        let mut demo = Self {
            source: Source::Example(0),
            side: 64,
            phantom_seed: 1,
            config: MeasureConfig::new(MaskKind::Cartesian, 4.0),
            truth: None,
            kspace: Vec::new(),
            mask: None,
            runs: Vec::new(),
            // On MR slices the RIM from zero filling (fine-tuned on brain-mr) is the best (docs/mri.md).
            shown: Method::RimZf,
            step: Timeline::new(0),
            plot_metric: PlotMetric::Psnr,
            table_width: 480.0,
            table: MetricsTable::new(vec![
                Metric::new("PSNR dB", true, 2).with_hint(PSNR_HINT),
                Metric::new("SSIM", true, 4).with_hint(SSIM_HINT),
                Metric::new("NMSE", false, 5).with_hint(NMSE_HINT),
            ]),
            error: None,
            inference: JobSlot::new(true),
            textures: Textures {
                truth: None,
                kspace: None,
                estimate: None,
                error: None,
            },
            textures_dirty: true,
            image_field: PathField::new(DialogKind::Open, "PNG image", &["png"], ""),
            kspace_field: PathField::new(DialogKind::Open, "NumPy k-space", &["npy"], ""),
            mask_field: PathField::new(DialogKind::Open, "mask PNG", &["png"], ""),
            models: Vec::new(),
            train_method: Method::Rim,
            training_images: None,
            images_field: PathField::new(DialogKind::Folder, "folder of PNGs", &[], ""),
            // The loss is a log already (and negative).
            training: TrainingSection::new(300.0, 10.0..=3600.0, "mri-rim.mpk").log_scale(false),
        };
        demo.remeasure();
        demo
    }
}

impl MriDemo {
    /// Measures the current image with the current mask settings (milliseconds).
    fn remeasure(&mut self) {
        let image = match &self.source {
            Source::Phantom => phantom(self.side, self.phantom_seed),
            Source::Example(index) => match mr_example(*index) {
                Ok((_, image)) => resized(&image, self.side),
                Err(e) => {
                    self.error = Some(format!("{e:#}"));
                    return;
                }
            },
            Source::Image(_, image) => image.clone(),
            Source::KSpace(_) => {
                self.mark_stale();
                return;
            }
        };
        match simulate(&image, &Fourier::new(image.side), &self.config) {
            Ok(m) => {
                self.truth = Some(image);
                self.kspace = m.kspace;
                self.mask = Some(m.mask);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
        self.mark_stale();
    }

    fn mark_stale(&mut self) {
        self.inference.mark_stale();
        self.runs.clear();
        self.table.rows.clear();
        self.textures_dirty = true;
    }

    fn add_model(&mut self, model: MriModel) {
        let kind = model.config.kind;
        self.models.retain(|m| m.config.kind != kind);
        self.models.push(model);
        self.mark_stale();
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let Some(mask) = self.mask.clone() else {
            return;
        };
        let device = ctx.compute.device.clone();
        let models: Vec<MriModel> = self.models.iter().map(|m| m.to_device(&device)).collect();
        let kspace = self.kspace.clone();
        let truth = self.truth.clone();
        let started =
            self.inference
                .start("mri reconstruction", (), ui.ctx(), ctx.jobs, move |job| {
                    let mut runs = Vec::new();
                    for (i, method) in Method::ALL.into_iter().enumerate() {
                        job.check_cancelled()?;
                        let model = method
                            .model_kind()
                            .map(|kind| models.iter().find(|m| m.config.kind == kind));
                        let model = match model {
                            Some(None) => continue,
                            Some(Some(m)) => Some(m),
                            None => None,
                        };
                        if model.is_some_and(|m| m.check_side(mask.side).is_err()) {
                            continue;
                        }
                        runs.push(
                            run(method, &kspace, &mask, truth.as_ref(), model, &device)
                                .map_err(JobError::Failed)?,
                        );
                        job.report_fraction((i + 1) as f32 / Method::ALL.len() as f32);
                    }
                    Ok(runs)
                });
        if let Err(e) = started {
            self.error = Some(format!("cannot start reconstruction: {e}"));
        }
    }

    fn update_table(&mut self) {
        self.table.rows = self
            .runs
            .iter()
            .map(|run| {
                let last = run.scores.last();
                MethodRow {
                    method: run.method.label().to_owned(),
                    kind: run.method.kind(),
                    values: vec![
                        last.map(|q| q.psnr),
                        last.map(|q| q.ssim),
                        last.map(|q| q.nmse),
                    ],
                    seconds: Some(run.seconds),
                }
            })
            .collect();
    }

    fn select(&mut self, method: Method) {
        self.shown = method;
        let len = self.shown_run().map_or(0, |r| r.trace.len());
        self.step.set_len(len);
        self.step.go_to_end();
        self.textures_dirty = true;
    }

    fn shown_run(&self) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.method == self.shown)
            .or_else(|| self.runs.last())
    }

    fn shown_estimate(&self) -> Option<&Image> {
        self.shown_run()
            .and_then(|r| r.trace.get(self.step.position()).or(r.trace.last()))
    }

    fn refresh_textures(&mut self, ctx: &egui::Context) {
        let gray = |image: &Image| {
            let values: Vec<f32> = image.pixels.iter().map(|&v| v as f32).collect();
            colorize(
                &values,
                image.side,
                image.side,
                ValueRange::new(0.0, 1.0),
                Colormap::Gray,
            )
        };
        let load =
            |name: &str, image: ColorImage| ctx.load_texture(name, image, TextureOptions::NEAREST);
        self.textures.truth = self.truth.as_ref().map(|t| load("mri-truth", gray(t)));
        self.textures.kspace = self
            .mask
            .as_ref()
            .map(|mask| load("mri-kspace", kspace_image(&self.kspace, mask)));
        let estimate = self.shown_estimate().cloned();
        self.textures.estimate = estimate.as_ref().map(|e| load("mri-estimate", gray(e)));
        self.textures.error = match (&estimate, &self.truth) {
            (Some(e), Some(t)) if e.side == t.side => {
                let diff: Vec<f32> = e
                    .pixels
                    .iter()
                    .zip(&t.pixels)
                    .map(|(a, b)| (a - b) as f32)
                    .collect();
                Some(load(
                    "mri-error",
                    colorize(
                        &diff,
                        t.side,
                        t.side,
                        ValueRange::new(-0.2, 0.2),
                        Colormap::Diverging,
                    ),
                ))
            }
            _ => None,
        };
        self.textures_dirty = false;
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let Some(model) = self.train_method.default_model() else {
            return;
        };
        let mut config = TrainConfig::new(model);
        config.images = self.training_images.clone();
        config.schedule.for_panel(self.training.budget_secs);
        config.schedule.seed = self.phantom_seed;
        let name = format!("train {}", config.model.kind.name());
        self.training.start(name, config, ui.ctx(), ctx, train);
    }

    /// What the zero-filled RIM's steps are worth in TV iterations, with both wall times.
    fn learned_steps_worth(&self) -> Option<String> {
        let run = |m: Method| {
            self.runs
                .iter()
                .find(|r| r.method == m && !r.scores.is_empty())
        };
        let (rim, tv) = (run(Method::RimZf)?, run(Method::Tv)?);
        let psnr = |r: &Run| -> Vec<f64> { r.scores.iter().map(|q| q.psnr).collect() };
        let tv_psnr = psnr(tv);
        let worth = worth_in_tv(&psnr(rim), &tv_psnr)?;
        let (steps, reached) = (rim.scores.len(), worth.reached_psnr);
        Some(match worth.tv_iterations {
            Some(k) => format!(
                "{}: {steps} steps ({:.3} s) reach {reached:.2} dB, where TV needs {k} \
                 iterations ({:.3} s of its {:.3} s)",
                Method::RimZf.name(),
                rim.seconds,
                tv.seconds * k as f64 / tv_psnr.len() as f64,
                tv.seconds
            ),
            None => format!(
                "{}: {steps} steps ({:.3} s) reach {reached:.2} dB, beyond TV's {:.2} dB after \
                 all its {} iterations ({:.3} s)",
                Method::RimZf.name(),
                rim.seconds,
                tv_psnr.last().copied().unwrap_or(f64::NAN),
                tv_psnr.len(),
                tv.seconds
            ),
        })
    }
}

const ABOUT: About = About {
    name: super::NAME,
    title: "MRI reconstruction",
    summary: "Undersampled k-space to image, across RIM iterations",
    explanation: "Forward model: an image is measured through a subsampled, centred, orthonormal Fourier \
     transform with noise, y = M F x + n. Inverses: zero filling, gradient ascent on \
     log p(y|x) and TV-regularized reconstruction (classical), a U-Net from the zero-filled \
     image (amortized), and two recurrent inference machines driven by the data-term \
     gradient at every step (augmented): one refines TV's estimate, the other starts from \
     zero filling with no TV inside, a learned optimizer.",
};

impl Demo for MriDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        for model in self.training.new_models(&ctx.compute.device) {
            self.add_model(model);
        }
        if let Some(runs) = self.inference.finished(&mut self.error) {
            self.runs = runs;
            self.update_table();
            self.select(self.shown);
        }
        if self.inference.is_due() && self.mask.is_some() {
            self.start_inference(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.measurement_controls_ui(ui);
        ui.collapsing("Learned inverses: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            let methods: Vec<Method> = self.runs.iter().map(|r| r.method).collect();
            let shown = self.shown;
            if let Some(method) = crate::ui::method_buttons_ui(
                ui,
                "Which method's steps the timeline and the pictures show",
                &methods,
                shown,
                false,
            ) {
                self.select(method);
            }
        });
        let before = self.step.position();
        timeline_ui(ui, &mut self.step, "step", true);
        if self.step.position() != before {
            self.textures_dirty = true;
        }
        let figure_top = ui.cursor().min;
        let this_step = self
            .shown_run()
            .and_then(|r| r.scores.get(self.step.position()))
            .map(|q| {
                format!(
                    "this step: PSNR {:.2} dB   SSIM {:.4}   NMSE {:.5}",
                    q.psnr, q.ssim, q.nmse
                )
            });
        ui.label(this_step.unwrap_or_else(|| "reconstructing…".to_owned()));
        let images = self.images_ui(ui);
        let spacing = ui.spacing().item_spacing.x;
        let plot_width = ui.available_width() - self.table_width - spacing;
        // The table beside the plot when both fit; above it on a narrow window.
        let below = if plot_width >= MIN_PLOT_WIDTH {
            ui.horizontal_top(|ui| {
                let plot = ui.vertical(|ui| {
                    ui.set_width(plot_width);
                    self.metric_plot_ui(ui);
                });
                let table = ui.vertical(|ui| metrics_table_ui(ui, "mri-metrics", &self.table));
                self.table_width = table.response.rect.width();
                plot.response.rect
            })
            .inner
        } else {
            // The scores first; the plot takes the height that is left.
            let table = ui.vertical(|ui| metrics_table_ui(ui, "mri-metrics", &self.table));
            self.table_width = table.response.rect.width();
            ui.vertical(|ui| self.metric_plot_ui(ui)).response.rect
        };
        ctx.figure_rect = egui::Rect::from_min_max(figure_top, images.max.max(below.max));
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(&self.runs)
    }
}
