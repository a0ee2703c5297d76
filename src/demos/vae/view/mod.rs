//! The VAE panel: a test digit (picked from a strip, drawn with the mouse, or loaded from a
//! PNG); the latent plane with the exact posterior p(z|x) as a heat map and every method's q as
//! its 1σ and 2σ ellipses, the timeline moving the shown method's q step by step onto the
//! posterior; the input beside the images decoded at each method's mean; the table of
//! log p(x), ELBO, gap and time; a second view of the decoder's manifold with the encoder's
//! means of the test digits by class. No math here: it calls `sim`, `methods` and `train`.

use egui::{Color32, Pos2, Rect, RichText, Ui, vec2};

use super::methods::{CompareSettings, Inspection, Method, encoder_q, inspect, manifold};
use super::model::{KIND, VaeModel};
use super::sim::{self, Digit, PIXELS, Split};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx, DemoMethod};
use crate::stored_model::StoredModel;
use crate::ui::export::FigureData;
use crate::ui::file_dialog::{DialogKind, PathField};
use crate::ui::job_slot::JobSlot;
use crate::ui::metrics::{MethodRow, Metric, MetricsTable};
use crate::ui::timeline::Timeline;
use crate::ui::training_section::TrainingSection;

mod example;
mod paint;

/// The largest k of the augmented methods on the slider.
const MAX_STEPS: usize = 20;
/// Decoded digits across the manifold view.
const MANIFOLD_SIDE: usize = 15;
const MANIFOLD_EXTENT: f64 = 3.0;

/// What the figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Posterior,
    Manifold,
}

/// The manifold view's data: decoded digits on a grid and the encoder's test means by class.
#[derive(Clone, Debug, Default)]
struct ManifoldData {
    digits: Vec<Vec<f32>>,
    means: Vec<([f32; 2], u8)>,
}

pub struct VaeDemo {
    test: Vec<Digit>,
    /// The digit inferred: a test digit's index, or drawn/loaded pixels.
    picked: usize,
    canvas: Vec<f32>,
    drawing: bool,
    /// Where the image came from, for the status line.
    source: String,
    steps: usize,
    model: Option<VaeModel>,
    inspection: Option<Inspection>,
    inferring: JobSlot<Inspection>,
    manifold: Option<ManifoldData>,
    mapping: JobSlot<ManifoldData>,
    view: View,
    shown: Method,
    step: Timeline,
    table: MetricsTable,
    training: TrainingSection<VaeModel, TrainConfig>,
    png_field: PathField,
    textures: crate::ui::texture_cache::TextureCache,
    /// Counts the results that landed: the big textures are made again when it moves.
    generation: u64,
    error: Option<String>,
}

impl Default for VaeDemo {
    fn default() -> Self {
        let (test, error) = match sim::digits(Split::Test) {
            Ok(test) => (test, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let canvas = test.first().map_or(vec![0.0; PIXELS], |d| d.pixels.clone());
        Self {
            test,
            picked: 0,
            canvas,
            drawing: false,
            source: "test digit 1".to_owned(),
            steps: super::train::REFINER_STEPS,
            model: None,
            inspection: None,
            inferring: JobSlot::new(false),
            manifold: None,
            mapping: JobSlot::new(false),
            view: View::Posterior,
            shown: Method::Svi,
            step: Timeline::new(0),
            table: MetricsTable::new(vec![
                Metric::new("ELBO", true, 2).with_hint(
                    "E_q[log p(x|z)] − KL(q ‖ p(z)), in nats, by Gauss–Hermite quadrature in q's \
                     coordinates (16² points)",
                ),
                Metric::new("gap", false, 3).with_hint(
                    "log p(x) − ELBO = KL(q ‖ p(z|x)) ≥ 0, in nats: how far q is from the exact \
                     posterior",
                ),
            ]),
            training: TrainingSection::new(240.0, 20.0..=7200.0, "vae-2d.mpk"),
            png_field: PathField::new(DialogKind::Open, "PNG image", &["png"], ""),
            textures: crate::ui::texture_cache::TextureCache::default(),
            generation: 0,
            error,
        }
    }
}

impl VaeDemo {
    /// The image inferred, binarized at 0.5.
    fn observation(&self) -> Vec<f32> {
        sim::binarize(&self.canvas)
    }

    fn pick(&mut self, index: usize) {
        if let Some(digit) = self.test.get(index) {
            self.picked = index;
            self.canvas = digit.pixels.clone();
            self.source = format!("test digit {} of {}", index + 1, self.test.len());
            self.inferring.mark_stale();
        }
    }

    fn set_canvas(&mut self, pixels: Vec<f32>, source: String) {
        self.canvas = pixels;
        self.source = source;
        self.inferring.mark_stale();
    }

    fn set_model(&mut self, model: VaeModel) {
        if model.config.latent != 2 {
            self.error = Some(format!(
                "the panel draws the 2-D latent; this model's is {}-D (vae eval scores it)",
                model.config.latent
            ));
            return;
        }
        self.model = Some(model);
        self.manifold = None;
        self.inferring.mark_stale();
        self.mapping.mark_stale();
    }

    fn start_inference(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let Some(model) = &self.model else { return };
        let device = ctx.compute.device.clone();
        let model = model.to_device(&device);
        let image = self.observation();
        let mut settings = CompareSettings::new(2);
        settings.steps = self.steps.clamp(1, MAX_STEPS);
        let started = self
            .inferring
            .start("vae inference", (), ui.ctx(), ctx.jobs, move |job| {
                let progress = |m: &str| job.set_message(format!("vae: {m}"));
                let stop = || job.is_cancelled();
                let inspection = inspect(&model, &image, &settings, &device, &progress, &stop)
                    .map_err(crate::jobs::JobError::Failed)?;
                job.check_cancelled()?;
                inspection.ok_or(crate::jobs::JobError::Cancelled)
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start inferring: {e}"));
        }
    }

    fn start_mapping(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let Some(model) = &self.model else { return };
        let device = ctx.compute.device.clone();
        let model = model.to_device(&device);
        let test = self.test.clone();
        let started = self
            .mapping
            .start("vae manifold", (), ui.ctx(), ctx.jobs, move |job| {
                let digits = manifold(&model, MANIFOLD_SIDE, MANIFOLD_EXTENT, &device);
                job.check_cancelled()?;
                let q = encoder_q(&model.net, &sim::binarized(&test), &device);
                let means =
                    q.mu.iter()
                        .zip(&test)
                        .map(|(m, d)| ([m[0], m[1]], d.label.unwrap_or(0)))
                        .collect();
                Ok(ManifoldData { digits, means })
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start the manifold: {e}"));
        }
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let mut config = TrainConfig::new(2);
        config.schedule.for_panel(self.training.budget_secs);
        config.refiner_steps = u64::MAX;
        self.training
            .start("train vae".to_owned(), config, ui.ctx(), ctx, train);
    }

    fn shown_run(&self) -> Option<(usize, &super::methods::Run)> {
        let inspection = self.inspection.as_ref()?;
        inspection
            .comparison
            .runs
            .iter()
            .enumerate()
            .find(|(_, r)| r.method == self.shown)
    }

    fn reset_timeline(&mut self) {
        let len = self.shown_run().map_or(0, |(_, r)| r.trace.len());
        self.step.set_len(len);
        self.step.go_to_end();
    }

    fn update_table(&mut self) {
        let Some(inspection) = &self.inspection else {
            return;
        };
        let log_px = inspection.log_px();
        self.table.rows = inspection
            .comparison
            .runs
            .iter()
            .map(|run| {
                let elbo = run.elbo.first().copied();
                MethodRow {
                    method: run.method.label().to_owned(),
                    kind: run.method.kind(),
                    values: vec![elbo, elbo.map(|e| log_px - e)],
                    seconds: Some(run.seconds),
                }
            })
            .collect();
    }
}

const ABOUT: About = About {
    name: super::NAME,
    title: "Learning to infer (VAE)",
    summary: "Bayes' rule per image, or one pass of an encoder",
    explanation: "Forward model: a digit decoded from a 2-D latent z ~ N(0, I), pixels \
     Bernoulli(σ(f_θ(z))). Inverses: the exact posterior p(z|x) by quadrature (oracle), a \
     Gaussian q fitted to each image by gradient ascent on its ELBO (classical), the VAE's \
     encoder in one pass (amortized), and the encoder's q refined by a few gradient steps or by \
     a trained refiner fed the ELBO's gradient (augmented). The gap between the encoder's ELBO \
     and the per-image fit's is the amortization gap.",
};

impl Demo for VaeDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        for model in self.training.new_models(&ctx.compute.device) {
            if model.config.latent == 2 {
                self.set_model(model);
            }
        }
        if let Some(inspection) = self.inferring.finished(&mut self.error) {
            self.inspection = Some(inspection);
            self.generation += 1;
            self.error = None;
            self.update_table();
            self.reset_timeline();
        }
        if let Some(data) = self.mapping.finished(&mut self.error) {
            self.manifold = Some(data);
            self.generation += 1;
        }
        if self.inferring.is_due() && !self.drawing {
            self.start_inference(ui, ctx);
        }
        if self.view == View::Manifold && self.manifold.is_none() && !self.mapping.is_running() {
            self.mapping.mark_stale();
        }
        if self.mapping.is_due() && self.view == View::Manifold {
            self.start_mapping(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.data_controls_ui(ui);
        ui.collapsing("VAE model: train, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.header_ui(ui);
        let figure_top = ui.cursor().min;
        self.status_ui(ui);
        let rect = match self.view {
            View::Posterior => self.posterior_view_ui(ui),
            View::Manifold => self.manifold_view_ui(ui),
        };
        ctx.figure_rect = Rect::from_min_max(figure_top, rect.max);
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(self.inspection.as_ref())
    }
}

/// Each method's final q and ELBO, for CSV export.
fn figure_data(inspection: Option<&Inspection>) -> FigureData {
    let mut rows = Vec::new();
    if let Some(inspection) = inspection {
        let log_px = inspection.log_px();
        for (m, run) in inspection.comparison.runs.iter().enumerate() {
            if let Some(q) = run.last() {
                let mut row = vec![m as f64];
                row.extend(q.mu[0].iter().map(|&v| f64::from(v)));
                row.extend(q.log_sigma[0].iter().map(|&v| f64::from(v)));
                row.extend([run.elbo[0], log_px]);
                rows.push(row);
            }
        }
    }
    FigureData {
        headers: [
            "method_index",
            "mu_1",
            "mu_2",
            "log_sigma_1",
            "log_sigma_2",
            "elbo",
            "log_px",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// Screen position of latent point `z` in `rect`, which shows `centre ± half_width`.
fn to_screen(rect: Rect, centre: [f64; 2], half_width: f64, z: [f64; 2]) -> Pos2 {
    let u = ((z[0] - centre[0]) / (2.0 * half_width) + 0.5) as f32;
    let v = ((z[1] - centre[1]) / (2.0 * half_width) + 0.5) as f32;
    Pos2::new(
        rect.left() + u * rect.width(),
        rect.bottom() - v * rect.height(),
    )
}

/// The colors of the ten classes in the manifold view.
const CLASS_COLORS: [Color32; 10] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
];
