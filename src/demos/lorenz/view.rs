//! The Lorenz panel: reads a simulated trajectory and draws it; no math here.

use egui::{Color32, RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints, Points, VLine};

use super::infer::{ClassicalSettings, MethodResult, compare_classical};
use super::sim::{SimConfig, Trajectory, simulate};
use crate::demos::{Demo, DemoCtx};
use crate::render::{Points3d, Polyline3d, Scene3d, View3d};
use crate::ui::export::{FigureData, FigureExporter};
use crate::ui::metrics::{MethodKind, MethodRow, Metric, MetricsTable, metrics_table_ui};
use crate::ui::timeline::{Timeline, timeline_ui};

// Mid gray reads on both the dark and the light theme.
const TRUTH_COLOR: Color32 = Color32::from_rgb(150, 150, 150);
const OBSERVATION_COLOR: Color32 = Color32::from_rgb(230, 80, 60);
const MARKER_COLOR: Color32 = Color32::from_rgb(255, 196, 0);

pub struct LorenzDemo {
    config: SimConfig,
    trajectory: Option<Trajectory>,
    classical: ClassicalSettings,
    results: Vec<MethodResult>,
    table: MetricsTable,
    error: Option<String>,
    view3d: View3d,
    timeline: Timeline,
    exporter: FigureExporter,
    figure_rect: egui::Rect,
}

impl Default for LorenzDemo {
    fn default() -> Self {
        let mut demo = Self {
            config: SimConfig {
                steps: 400,
                ..SimConfig::default()
            },
            trajectory: None,
            classical: ClassicalSettings {
                taylor_order: 2,
                process_std: 3.0,
                obs_std: 0.5,
            },
            results: Vec::new(),
            table: MetricsTable::new(vec![Metric::new("mse", false, 4)]),
            error: None,
            view3d: View3d::new(egui::Id::unique("lorenz-3d")),
            timeline: Timeline::new(0),
            exporter: FigureExporter::new("lorenz"),
            figure_rect: egui::Rect::NOTHING,
        };
        demo.resimulate();
        demo
    }
}

impl LorenzDemo {
    fn resimulate(&mut self) {
        match simulate(&self.config) {
            Ok(trajectory) => {
                self.timeline.set_len(trajectory.t.len());
                self.trajectory = Some(trajectory);
                self.error = None;
                self.rerun_inverses();
                self.rebuild_scene(true);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Runs every available inverse on the current trajectory (milliseconds: no job needed).
    fn rerun_inverses(&mut self) {
        let Some(tr) = &self.trajectory else { return };
        self.classical.obs_std = self.config.obs_std.max(1e-3);
        match compare_classical(tr, &self.classical, self.config.substeps) {
            Ok(results) => {
                self.table.rows = results
                    .iter()
                    .map(|r| MethodRow {
                        method: r.name.clone(),
                        kind: r.kind,
                        values: vec![Some(r.mse)],
                        seconds: Some(r.seconds),
                    })
                    .collect();
                self.results = results;
            }
            Err(e) => {
                self.results.clear();
                self.table.rows.clear();
                self.error = Some(format!("{e:#}"));
            }
        }
    }

    /// The smoother's estimate, the one drawn in 3-D.
    fn eks_estimate(&self) -> Option<&MethodResult> {
        self.results
            .iter()
            .find(|r| r.kind == MethodKind::Classical && r.name.starts_with("EKS"))
    }

    fn rebuild_scene(&mut self, reframe: bool) {
        let Some(tr) = &self.trajectory else { return };
        let to_f32 = |s: &[f64; 3]| s.map(|v| v as f32);
        let k = self
            .timeline
            .position()
            .min(tr.states.len().saturating_sub(1));
        let mut lines = vec![Polyline3d {
            points: tr.states.iter().map(to_f32).collect(),
            color: TRUTH_COLOR,
            width_pt: 1.5,
        }];
        if let Some(eks) = self.eks_estimate() {
            lines.push(Polyline3d {
                points: eks.estimates.iter().map(to_f32).collect(),
                color: MethodKind::Classical.color(),
                width_pt: 1.5,
            });
        }
        let scene = Scene3d {
            lines,
            points: vec![
                Points3d {
                    points: tr.observations.iter().map(to_f32).collect(),
                    color: OBSERVATION_COLOR.gamma_multiply(0.6),
                    radius_pt: 1.6,
                },
                Points3d {
                    points: vec![to_f32(&tr.states[k])],
                    color: MARKER_COLOR,
                    radius_pt: 6.0,
                },
            ],
        };
        self.view3d.set_scene(scene, reframe);
    }

    fn controls_ui(&mut self, ui: &mut Ui) {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("observation noise σ");
            changed |= ui
                .add(egui::Slider::new(&mut self.config.obs_std, 0.0..=3.0).step_by(0.05))
                .on_hover_text("y_t = z_t + N(0, σ² I)")
                .changed();
            ui.label("time steps");
            changed |= ui
                .add(egui::Slider::new(&mut self.config.steps, 50..=5000).logarithmic(true))
                .on_hover_text("Samples every Δt = 0.05, RK4 with 10 sub-steps")
                .changed();
            let seed_label = ui.label("seed");
            changed |= ui
                .add(egui::DragValue::new(&mut self.config.seed))
                .labelled_by(seed_label.id)
                .changed();
            if ui.button("Re-simulate (new seed)").clicked() {
                self.config.seed = self.config.seed.wrapping_add(1);
                changed = true;
            }
        });
        let mut inverse_changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("Taylor order J");
            inverse_changed |= ui
                .add(egui::Slider::new(&mut self.classical.taylor_order, 1..=5))
                .on_hover_text("The smoother's dynamics: x' = Σ_{i≤J} (A(x)Δt)^i / i! · x, an imperfect model")
                .changed();
            ui.label("process noise q");
            inverse_changed |= ui
                .add(egui::Slider::new(&mut self.classical.process_std, 0.5..=10.0).logarithmic(true))
                .on_hover_text("Q = q² Δt I. 3.0 was best on validation trajectories (examples/lorenz_classical.rs)")
                .changed();
        });
        if changed {
            self.resimulate();
        } else if inverse_changed {
            self.rerun_inverses();
            self.rebuild_scene(false);
        }
    }
}

/// The trajectory behind the figure: states and observations per time step.
fn figure_data(trajectory: &Option<Trajectory>) -> FigureData {
    let headers = ["t", "x1", "x2", "x3", "y1", "y2", "y3"]
        .map(String::from)
        .to_vec();
    let rows = trajectory
        .iter()
        .flat_map(|tr| {
            tr.t.iter()
                .zip(&tr.states)
                .zip(&tr.observations)
                .map(|((t, x), y)| vec![*t, x[0], x[1], x[2], y[0], y[1], y[2]])
        })
        .collect();
    FigureData { headers, rows }
}

fn coordinate_plots_ui(
    ui: &mut Ui,
    tr: &Trajectory,
    results: &[MethodResult],
    k: usize,
    size: egui::Vec2,
) {
    let now = tr.t.get(k).copied().unwrap_or(0.0);
    for (i, name) in ["x₁", "x₂", "x₃"].iter().enumerate() {
        Plot::new(("lorenz-coord", i))
            .width(size.x)
            .height(size.y)
            .y_axis_label(*name)
            .allow_scroll(false)
            .show(ui, |plot| {
                let truth: Vec<[f64; 2]> =
                    tr.t.iter()
                        .zip(&tr.states)
                        .map(|(t, s)| [*t, s[i]])
                        .collect();
                let obs: Vec<[f64; 2]> =
                    tr.t.iter()
                        .zip(&tr.observations)
                        .map(|(t, o)| [*t, o[i]])
                        .collect();
                plot.points(
                    Points::new("observation", PlotPoints::from(obs))
                        .color(OBSERVATION_COLOR)
                        .radius(1.5),
                );
                plot.line(
                    Line::new("truth", PlotPoints::from(truth))
                        .color(TRUTH_COLOR)
                        .width(1.5),
                );
                // The smoother only: the filter and the oracle would hide it at this size.
                for r in results.iter().filter(|r| r.name.starts_with("EKS (Taylor")) {
                    let estimate: Vec<[f64; 2]> =
                        tr.t.iter()
                            .zip(&r.estimates)
                            .map(|(t, e)| [*t, e[i]])
                            .collect();
                    plot.line(
                        Line::new(r.name.clone(), PlotPoints::from(estimate))
                            .color(r.kind.color())
                            .width(1.2),
                    );
                }
                plot.vline(VLine::new("now", now).color(MARKER_COLOR));
            });
    }
}

impl Demo for LorenzDemo {
    fn name(&self) -> &'static str {
        "lorenz"
    }
    fn title(&self) -> &'static str {
        "Lorenz filtering"
    }
    fn summary(&self) -> &'static str {
        "Tracking a chaotic attractor from noisy observations"
    }
    fn explanation(&self) -> &'static str {
        "Forward model: the Lorenz system dz/dt = (10(z₂−z₁), z₁(28−z₃)−z₂, z₁z₂−8/3 z₃), \
         integrated with RK4 and observed every Δt = 0.05 with Gaussian noise: y_t = z_t + N(0, σ²I). \
         Inverses: the extended Kalman smoother on a Taylor-expanded model (classical), a graph \
         network over the chain (amortized), and hybrid inference that adds learned graph-network \
         messages to the smoother's messages at every unrolled step (augmented)."
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.label(
            RichText::new(
                "Shown so far: the forward model and the classical inverse. The learned inverses (GNN, hybrid) are not built yet.",
            )
            .color(ui.visuals().warn_fg_color),
        );
        self.controls_ui(ui);
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, err);
        }
        let before = self.timeline.position();
        timeline_ui(ui, &mut self.timeline, "time step");
        if self.timeline.position() != before {
            self.rebuild_scene(false);
        }
        let Some(tr) = &self.trajectory else { return };
        let k = self.timeline.position();
        ui.label(format!(
            "t = {:.2}   truth ({:.2}, {:.2}, {:.2})   observation ({:.2}, {:.2}, {:.2})",
            tr.t[k],
            tr.states[k][0],
            tr.states[k][1],
            tr.states[k][2],
            tr.observations[k][0],
            tr.observations[k][1],
            tr.observations[k][2]
        ));
        let available = ui.available_size();
        let figure = ui.horizontal(|ui| {
            // Leave room below for the legend and the metrics table.
            let side = (available.x * 0.45).min(available.y - 190.0).max(240.0);
            self.view3d.ui(ui, egui::vec2(side, side), ctx.paint_mode);
            ui.vertical(|ui| {
                let spacing = ui.spacing().item_spacing;
                let plot_size = egui::vec2(
                    (available.x - side - 2.0 * spacing.x).max(200.0),
                    ((side - 2.0 * spacing.y) / 3.0).max(60.0),
                );
                coordinate_plots_ui(ui, tr, &self.results, k, plot_size);
            });
        });
        self.figure_rect = figure.response.rect;
        ui.horizontal(|ui| {
            ui.label(RichText::new("■ truth").color(TRUTH_COLOR));
            ui.label(RichText::new("■ observations").color(OBSERVATION_COLOR));
            ui.label(RichText::new("■ current time step").color(MARKER_COLOR));
            ui.label(RichText::new("■ classical (EKF/EKS)").color(MethodKind::Classical.color()));
        });
        metrics_table_ui(ui, "lorenz-metrics", &self.table);
        ui.collapsing("Export figure", |ui| {
            let rect = self.figure_rect;
            let trajectory = &self.trajectory;
            self.exporter.ui(ui, rect, || figure_data(trajectory));
        });
    }
}
