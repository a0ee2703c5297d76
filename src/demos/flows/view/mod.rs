//! The flows panel: the data beside samples of the shown model, its density as a heat map,
//! and the walk — the data cloud and a grid pushed through the layers as the timeline moves
//! (for the mixture: its EM iterations); "Algorithm 1"'s ledger for a clicked point; every
//! fitted model's test nats beside the true density's. The stack is edited in the side panel
//! and trained there with live curves. No math here: it calls `sim`, `classical`, `inspect`
//! and `train`.

use egui::{Pos2, Rect, Ui};

use super::classical::{EmTrace, check as check_mixture, fit as em_fit};
use super::inspect::{Detail, Inspection, View, inspect};
use super::methods::Fitted;
use super::methods::{FitSettings, Method};
use super::model::{FlowConfig, FlowModel, LayerKind};
use super::sim::{Dataset, Point};
use super::train::{TrainConfig, train};
use crate::demos::{About, Demo, DemoCtx, DemoMethod, MethodKind};
use crate::jobs::JobError;
use crate::training::Stream;
use crate::ui::export::FigureData;
use crate::ui::job_slot::JobSlot;
use crate::ui::metrics::{Metric, MetricsTable};
use crate::ui::texture_cache::TextureCache;
use crate::ui::timeline::Timeline;
use crate::ui::training_section::TrainingSection;

mod example;
mod paint;

/// Training points drawn per data set at first (the bench draws 10,000), and the slider's range;
/// as many test points are drawn.
const POINTS: usize = 5_000;
const POINTS_RANGE: std::ops::RangeInclusive<usize> = 50..=20_000;
/// The shipped flows were trained on this data set (`docs/flows.md` has the commands).
const SHIPPED_DATASET: Dataset = Dataset::Rings;
/// The fewest drawn points a fit takes.
const MIN_DRAWN: usize = 20;

/// Where the points come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    Set(Dataset),
    Drawn,
}

impl Data {
    fn label(self) -> &'static str {
        match self {
            Self::Set(d) => d.label(),
            Self::Drawn => "drawn with the brush",
        }
    }
}

/// One fitted density in the table.
struct Entry {
    label: String,
    kind: MethodKind,
    fitted: Fitted,
    /// EM's iterations (the mixture's timeline).
    em: Option<EmTrace>,
    test_nats: Option<f64>,
    seconds: Option<f64>,
}

/// What the inspection job hands back: the shown entry's inspection and the test scores of
/// the entries that had none.
struct Inspected {
    inspection: Inspection,
    scores: Vec<(usize, f64)>,
}

pub struct FlowsDemo {
    data: Data,
    seed: u64,
    /// Training points drawn from a data set (as many test points).
    points: usize,
    training_points: Vec<Point>,
    test_points: Vec<Point>,
    /// The true density's mean log-likelihood of the test points (a data set's), once per draw.
    true_nats: Option<f64>,
    drawn: Vec<Point>,
    brush: bool,
    components: usize,
    stack: Vec<LayerKind>,
    /// The kind the "add layer" box adds.
    adding: LayerKind,
    entries: Vec<Entry>,
    shipped: Vec<FlowModel>,
    /// The label of the model the figures show (the first one while it has none).
    shown: String,
    clicked: Option<Point>,
    inspection: Option<Inspection>,
    inspecting: JobSlot<Inspected>,
    mixture_job: JobSlot<(EmTrace, f64)>,
    step: Timeline,
    table: MetricsTable,
    training: TrainingSection<FlowModel, TrainConfig>,
    textures: TextureCache,
    generation: u64,
    error: Option<String>,
}

impl Default for FlowsDemo {
    fn default() -> Self {
        let mut demo = Self {
            data: Data::Set(SHIPPED_DATASET),
            seed: 0,
            points: POINTS,
            training_points: Vec::new(),
            test_points: Vec::new(),
            true_nats: None,
            drawn: Vec::new(),
            brush: false,
            components: FitSettings::default().components,
            stack: FitSettings::default().flow(Method::Survae).layers,
            adding: LayerKind::Coupling,
            entries: Vec::new(),
            shipped: Vec::new(),
            shown: Method::Survae.label().to_owned(),
            // On the middle ring, off the axes (where the abs layer's |x| folds).
            clicked: Some([1.5, 1.3]),
            inspection: None,
            inspecting: JobSlot::new(false),
            mixture_job: JobSlot::new(true),
            step: Timeline::new(0),
            table: MetricsTable::new(vec![
                Metric::new("test nats", true, 3).with_hint(
                    "Mean log-likelihood of fresh test points, in nats (higher is better); a \
                     stack with a VAE layer gives a bound (the ELBO)",
                ),
                Metric::new("gap", false, 3).with_hint(
                    "The true density's mean log-likelihood on the same points minus the \
                     model's: how far the model is from the truth (≥ 0 up to sampling noise)",
                ),
            ]),
            training: TrainingSection::new(30.0, 5.0..=3600.0, "flow.mpk"),
            textures: TextureCache::default(),
            generation: 0,
            error: None,
        };
        demo.draw_points();
        demo
    }
}

impl FlowsDemo {
    /// Training and test points of the chosen data (drawn points: a seeded tenth tests).
    fn draw_points(&mut self) {
        match self.data {
            Data::Set(dataset) => {
                let n = self.points;
                self.training_points = dataset.sample(n, Stream::Train.seed(self.seed, 0));
                self.test_points = dataset.sample(n, Stream::Test.seed(self.seed, 0));
            }
            Data::Drawn => match super::train::split(&self.drawn, self.seed) {
                Ok((training, test)) => {
                    self.training_points = training;
                    self.test_points = test;
                }
                Err(_) => {
                    self.training_points = self.drawn.clone();
                    self.test_points = Vec::new();
                }
            },
        }
        self.true_nats = match self.data {
            Data::Set(d) if !self.test_points.is_empty() => {
                Some(d.mean_log_density(&self.test_points))
            }
            _ => None,
        };
        // The mixture refits; the flows stay (models of the same data), scored again on the
        // new test points.
        self.entries.retain(|e| e.em.is_none());
        for entry in &mut self.entries {
            entry.test_nats = None;
        }
        self.update_table();
        self.inspection = None;
        self.inspecting.mark_stale();
        self.mixture_job.mark_stale();
    }

    fn set_data(&mut self, data: Data) {
        if data != self.data {
            self.entries.clear();
        }
        self.data = data;
        self.brush = data == Data::Drawn && self.drawn.len() < MIN_DRAWN;
        self.draw_points();
        self.add_shipped();
    }

    /// The square the figures show.
    fn view(&self) -> View {
        let (centre, half_width) = match self.data {
            Data::Set(d) => d.extent(),
            Data::Drawn => ([0.0, 0.0], 4.5),
        };
        View { centre, half_width }
    }

    /// A model for this data, replacing one of the same label.
    fn add_entry(&mut self, entry: Entry) {
        self.entries.retain(|e| e.label != entry.label);
        self.entries.push(entry);
        self.entries.sort_by_key(|e| order_of(&e.label));
        self.update_table();
        self.inspecting.mark_stale();
    }

    /// A flow trained or loaded here: added and shown.
    fn show_flow(&mut self, model: FlowModel, seconds: Option<f64>) {
        self.shown = self.add_flow(model, seconds);
        self.inspection = None;
    }

    /// Adds a flow; its label.
    fn add_flow(&mut self, model: FlowModel, seconds: Option<f64>) -> String {
        let label = label_of(&model.config);
        let kind = Method::ALL
            .into_iter()
            .find(|m| m.name() == label)
            .map_or(MethodKind::Augmented, |m| m.kind());
        let label = Method::ALL
            .into_iter()
            .find(|m| m.name() == label)
            .map_or(label.clone(), |m| m.label().to_owned());
        self.add_entry(Entry {
            label: label.clone(),
            kind,
            fitted: Fitted::Flow(model),
            em: None,
            test_nats: None,
            seconds,
        });
        label
    }

    fn start_mixture(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let points = self.training_points.clone();
        let components = self.components;
        let seed = self.seed;
        if let Err(e) = check_mixture(&points, components) {
            self.error = Some(format!("the mixture: {e}"));
            return;
        }
        let started = self
            .mixture_job
            .start("flows EM", (), ui.ctx(), ctx.jobs, move |job| {
                let started = std::time::Instant::now();
                let trace = em_fit(&points, components, FitSettings::default().starts, seed);
                job.check_cancelled()?;
                Ok((trace, started.elapsed().as_secs_f64()))
            });
        if let Err(e) = started {
            self.error = Some(format!("cannot start EM: {e}"));
        }
    }

    fn start_inspection(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let Some(entry) = self.shown_entry() else {
            return;
        };
        let device = ctx.compute.device.clone();
        let fitted = entry.fitted.clone();
        let unscored: Vec<(usize, Fitted)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.test_nats.is_none())
            .map(|(i, e)| (i, e.fitted.clone()))
            .collect();
        let (data, test) = (self.training_points.clone(), self.test_points.clone());
        let (view, clicked, seed) = (self.view(), self.clicked, self.seed);
        let started =
            self.inspecting
                .start("flows inspection", (), ui.ctx(), ctx.jobs, move |job| {
                    let inspection = inspect(
                        &fitted,
                        &data,
                        view,
                        clicked,
                        Detail::default(),
                        seed,
                        &device,
                    );
                    job.check_cancelled()?;
                    let scores = if test.is_empty() {
                        Vec::new()
                    } else {
                        unscored
                            .iter()
                            .map(|(i, f)| (*i, f.mean_log_density(&test, &device)))
                            .collect()
                    };
                    Ok::<_, JobError>(Inspected { inspection, scores })
                });
        if let Err(e) = started {
            self.error = Some(format!("cannot start the inspection: {e}"));
        }
    }

    fn start_training(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        if self.training_points.len() < 10 {
            self.training.status = Some(Err(format!(
                "{} points: draw at least {MIN_DRAWN} to train on",
                self.training_points.len()
            )));
            return;
        }
        let mut model = FlowConfig::real_nvp(0, &FitSettings::default().hidden);
        model.layers.clone_from(&self.stack);
        let mut config = TrainConfig::new(model, self.training_points.clone());
        config.schedule.for_panel(self.training.budget_secs);
        config.schedule.seed = self.seed;
        let name = format!("train {}", label_of(&config.model));
        self.training.start(name, config, ui.ctx(), ctx, train);
    }

    /// The shipped flows are models of the rings (their test points, drawn from the test
    /// stream, were never trained on).
    fn add_shipped(&mut self) {
        if self.data == Data::Set(SHIPPED_DATASET) {
            for model in self.shipped.clone() {
                self.add_flow(model, None);
            }
        }
    }

    fn shown_index(&self) -> usize {
        self.entries
            .iter()
            .position(|e| e.label == self.shown)
            .unwrap_or(0)
    }

    fn shown_entry(&self) -> Option<&Entry> {
        self.entries.get(self.shown_index())
    }

    /// The timeline: EM's iterations for the mixture, the layers (0 = x) for a flow.
    fn reset_timeline(&mut self) {
        let (len, end) = match self.shown_entry() {
            Some(Entry { em: Some(em), .. }) => (em.mixtures.len(), true),
            Some(_) => (self.inspection.as_ref().map_or(0, |i| i.cloud.len()), false),
            None => (0, false),
        };
        if len != self.step.len() {
            self.step.set_len(len);
            if end {
                self.step.go_to_end();
            } else {
                self.step.reset();
            }
        }
    }

    fn update_table(&mut self) {
        let truth = self.true_nats;
        self.table.rows = self
            .entries
            .iter()
            .map(|e| crate::ui::metrics::MethodRow {
                method: if e.fitted.is_exact() {
                    e.label.clone()
                } else {
                    format!("{} — a bound", e.label)
                },
                kind: e.kind,
                values: vec![e.test_nats, truth.zip(e.test_nats).map(|(t, n)| t - n)],
                seconds: e.seconds,
            })
            .collect();
    }

    /// A click on a figure at data coordinates `at`: a brush stroke, or the ledger's point.
    fn clicked_at(&mut self, at: Point) {
        if self.brush {
            self.drawn.push(at);
        } else {
            self.clicked = Some(at);
            self.inspecting.mark_stale();
        }
    }

    fn finish_drawing(&mut self) {
        self.brush = false;
        if self.data == Data::Drawn {
            self.draw_points();
        }
    }
}

/// The table's order: the mixture, then the presets as `Method::ALL` lists them, then stacks.
fn order_of(label: &str) -> usize {
    Method::ALL
        .iter()
        .position(|m| m.label() == label)
        .unwrap_or(Method::ALL.len())
}

/// A preset's method name when the stack is one, else the stack's description.
fn label_of(config: &FlowConfig) -> String {
    let settings = FitSettings::default();
    Method::ALL
        .into_iter()
        .filter(|&m| m != Method::Gmm)
        .find(|&m| settings.flow(m).layers == config.layers)
        .map_or_else(|| config.describe(), |m| m.name().to_owned())
}

const ABOUT: About = super::ABOUT;

pub fn panel() -> Box<dyn Demo> {
    Box::new(FlowsDemo::default())
}

impl Demo for FlowsDemo {
    fn poll(&mut self, ui: &Ui, ctx: &mut DemoCtx<'_>) {
        let shipped = self.training.shipped_once(&ctx.compute.device);
        if !shipped.is_empty() {
            self.shipped = shipped;
            self.add_shipped();
        }
        if let Some(model) = self.training.poll() {
            let seconds = self.training.last_trained().map(|t| t.seconds);
            self.show_flow(model, seconds);
        }
        if let Some((trace, seconds)) = self.mixture_job.finished(&mut self.error) {
            let fitted = Fitted::Mixture(trace.last().clone());
            self.add_entry(Entry {
                label: Method::Gmm.label().to_owned(),
                kind: Method::Gmm.kind(),
                fitted,
                em: Some(trace),
                test_nats: None,
                seconds: Some(seconds),
            });
        }
        if let Some(inspected) = self.inspecting.finished(&mut self.error) {
            for (i, nats) in inspected.scores {
                if let Some(entry) = self.entries.get_mut(i) {
                    entry.test_nats = Some(nats);
                }
            }
            self.inspection = Some(inspected.inspection);
            self.generation += 1;
            self.update_table();
            self.reset_timeline();
        }
        if self.mixture_job.is_due() && !self.brush {
            self.start_mixture(ui, ctx);
        }
        if self.inspecting.is_due() && !self.brush {
            self.start_inspection(ui, ctx);
        }
    }

    fn about(&self) -> &About {
        &ABOUT
    }

    fn controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.data_controls_ui(ui);
        self.stack_ui(ui);
        ui.collapsing("Train the stack, save, load", |ui| {
            self.training_ui(ui, ctx)
        });
    }

    fn figures_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        self.header_ui(ui);
        let top = ui.cursor().min;
        let rect = self.figure_ui(ui);
        ctx.figure_rect = Rect::from_min_max(top, rect.max);
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn figure_data(&self) -> FigureData {
        figure_data(self.inspection.as_ref())
    }
}

/// The samples and the walk's last stage, for CSV export.
fn figure_data(inspection: Option<&Inspection>) -> FigureData {
    let mut rows = Vec::new();
    if let Some(inspection) = inspection {
        for p in &inspection.samples {
            rows.push(vec![0.0, p[0], p[1]]);
        }
        if let Some(base) = inspection.cloud.last() {
            for p in base {
                rows.push(vec![1.0, p[0], p[1]]);
            }
        }
    }
    FigureData {
        headers: ["set (0 samples, 1 data at the base)", "x", "y"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

/// Screen position of data point `p` in `rect`, which shows `view`.
fn to_screen(rect: Rect, view: View, p: Point) -> Pos2 {
    let u = ((p[0] - view.centre[0]) / (2.0 * view.half_width) + 0.5) as f32;
    let v = ((p[1] - view.centre[1]) / (2.0 * view.half_width) + 0.5) as f32;
    Pos2::new(
        rect.left() + u * rect.width(),
        rect.bottom() - v * rect.height(),
    )
}

/// Data coordinates of screen position `pos` in `rect`.
fn from_screen(rect: Rect, view: View, pos: Pos2) -> Point {
    let u = f64::from((pos.x - rect.left()) / rect.width()) - 0.5;
    let v = f64::from((rect.bottom() - pos.y) / rect.height()) - 0.5;
    [
        view.centre[0] + u * 2.0 * view.half_width,
        view.centre[1] + v * 2.0 * view.half_width,
    ]
}
