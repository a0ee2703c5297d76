//! The panel's painting: its controls, figures, plots and figure export, drawn from the
//! state and results `view/mod.rs` keeps.

use super::*;

impl LorenzDemo {
    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        let learned = &mut self.learned;
        ui.horizontal_wrapped(|ui| {
            ui.label("learned model");
            ui.selectable_value(&mut learned.hybrid, true, Method::Hybrid.name())
                .on_hover_text(Method::Hybrid.hint());
            ui.selectable_value(&mut learned.hybrid, false, Method::Gnn.label())
                .on_hover_text(Method::Gnn.hint());
            ui.label("training samples");
            ui.add(egui::Slider::new(&mut learned.train_samples, 20..=100_000).logarithmic(true))
                .on_hover_text("Time steps of simulated training data");
            ui.label("iterations");
            ui.add(egui::Slider::new(&mut learned.iterations, 1..=100))
                .on_hover_text("Unrolled inference iterations (the paper uses 100; 20 keeps CPU training to minutes)");
            if learned.training.buttons_ui(ui) {
                let seed = self.config.seed;
                learned.start_training(seed, ui.ctx(), ctx);
            }
        });
        let terms = [("loss", "unrolled MSE loss", learned_color(learned.kind()))];
        let validation = MethodKind::Classical.color();
        learned.training.curves_ui(ui, "lorenz", &terms, validation);
        let kind = learned.kind().name();
        if let Some(model) = learned.training.files_ui(ui, kind, &ctx.compute.device) {
            learned.add_model(model);
        }
    }

    pub(super) fn simulation_controls_ui(&mut self, ui: &mut Ui) {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "observation noise σ");
            changed |= ui
                .add(egui::Slider::new(&mut self.config.obs_std, 0.0..=3.0).step_by(0.05))
                .on_hover_text("y_t = z_t + N(0, σ² I)")
                .changed();
            slider_label(ui, "time steps");
            changed |= ui
                .add(egui::Slider::new(&mut self.config.steps, 50..=5000).logarithmic(true))
                .on_hover_text("Samples every Δt = 0.05, RK4 with 10 sub-steps")
                .changed();
            let seed_label = ui.label("seed");
            changed |= ui
                .add(egui::DragValue::new(&mut self.config.seed))
                .labelled_by(seed_label.id)
                .on_hover_text("Seed of the initial state and the observation noise")
                .changed();
            if ui
                .button("Re-simulate (new seed)")
                .on_hover_text("A new trajectory: the next seed")
                .clicked()
            {
                self.config.seed = self.config.seed.wrapping_add(1);
                changed = true;
            }
        });
        let mut inverse_changed = false;
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "Taylor order J");
            inverse_changed |= ui
                .add(egui::Slider::new(&mut self.classical.taylor_order, 1..=5))
                .on_hover_text("The smoother's dynamics: x' = Σ_{i≤J} (A(x)Δt)^i / i! · x, an imperfect model")
                .changed();
            slider_label(ui, "process noise q");
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

pub(super) fn learned_color(kind: ChainKind) -> Color32 {
    Method::learned(kind).kind().color()
}

/// What each color in the figure means.
pub(super) fn legend_ui(ui: &mut Ui) {
    crate::ui::legend_ui(
        ui,
        [
            ("■ truth", TRUTH_COLOR),
            ("■ observations", OBSERVATION_COLOR),
            ("■ current time step", MARKER_COLOR),
            ("■ classical (EKS)", MethodKind::Classical.color()),
            ("■ amortized (GNN)", MethodKind::Amortized.color()),
            ("■ augmented (hybrid)", MethodKind::Augmented.color()),
        ],
    );
}

/// MSE against the number of training samples, log–log, from the shipped sweep.
pub(super) fn sweep_plot_ui(ui: &mut Ui) {
    let sweep: super::super::bench::Sweep = match serde_json::from_str(SHIPPED_SWEEP) {
        Ok(s) => s,
        Err(e) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("the shipped sweep is unreadable: {e}"),
            );
            return;
        }
    };
    ui.label(format!(
        "Test MSE on a held-out trajectory of {} steps against the training-set size, measured by \
         `inference-lab bench --demo lorenz` on {} (2 cores). The smoothers' Taylor order and \
         process noise are tuned on validation data.",
        sweep.test_steps, sweep.device
    ));
    let series = |f: SweepField| -> Vec<[f64; 2]> {
        sweep
            .points
            .iter()
            .filter(|p| f(p) > 0.0)
            .map(|p| [(p.train_samples as f64).log10(), f(p).log10()])
            .collect()
    };
    let lines: [(&str, Color32, SweepField); 4] = [
        ("best EKS (Taylor)", MethodKind::Classical.color(), |p| {
            p.eks_mse
        }),
        (
            "best UKS (Taylor)",
            MethodKind::Classical.color().gamma_multiply(0.5),
            |p| p.uks_mse,
        ),
        (Method::Gnn.label(), Method::Gnn.kind().color(), |p| {
            p.gnn_mse
        }),
        (Method::Hybrid.name(), Method::Hybrid.kind().color(), |p| {
            p.hybrid_mse
        }),
    ];
    let names: Vec<String> = lines
        .iter()
        .map(|(name, _, _)| format!("— {name}"))
        .collect();
    crate::ui::legend_ui(
        ui,
        names
            .iter()
            .map(String::as_str)
            .zip(lines.iter().map(|l| l.1)),
    );
    Plot::new("lorenz-sweep")
        .height(220.0)
        .x_axis_label("training samples")
        .y_axis_label("test MSE")
        .x_axis_formatter(|mark, _| format!("{:.0}", 10f64.powf(mark.value)))
        .y_axis_formatter(|mark, _| format!("{:.3}", 10f64.powf(mark.value)))
        .allow_scroll(false)
        .show(ui, |plot| {
            for (name, color, f) in lines {
                let points = series(f);
                plot.line(
                    Line::new(name, PlotPoints::from(points.clone()))
                        .color(color)
                        .width(2.0),
                );
                plot.points(
                    Points::new(name, PlotPoints::from(points))
                        .color(color)
                        .radius(3.0),
                );
            }
            if sweep.oracle_mse > 0.0 {
                plot.hline(
                    egui_plot::HLine::new("oracle EKS (exact dynamics)", sweep.oracle_mse.log10())
                        .color(MethodKind::Oracle.color()),
                );
            }
        });
}

/// The trajectory behind the figure: states and observations per time step.
pub(super) fn figure_data(trajectory: &Option<Trajectory>) -> FigureData {
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

pub(super) fn coordinate_plots_ui(
    ui: &mut Ui,
    tr: &Trajectory,
    results: &[MethodResult],
    learned: Option<(ChainKind, &[State])>,
    k: usize,
    size: egui::Vec2,
) {
    let now = tr.t.get(k).copied().unwrap_or(0.0);
    for (i, name) in ["x₁", "x₂", "x₃"].iter().enumerate() {
        Plot::new(("lorenz-coord", i))
            .width(size.x)
            .height(size.y)
            .y_axis_label(*name)
            // The same axis width on all three, so their time axes line up.
            .y_axis_min_width(44.0)
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
                if let Some((kind, estimate)) = learned {
                    let points: Vec<[f64; 2]> =
                        tr.t.iter().zip(estimate).map(|(t, e)| [*t, e[i]]).collect();
                    plot.line(
                        Line::new(kind.name(), PlotPoints::from(points))
                            .color(learned_color(kind))
                            .width(1.2),
                    );
                }
                plot.vline(VLine::new("now", now).color(MARKER_COLOR));
            });
    }
}
