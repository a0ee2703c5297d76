//! The panel's painting: its controls, figures, plots and figure export, drawn from the
//! state and results `view/mod.rs` keeps.

use super::*;

impl LdpcDemo {
    pub(super) fn channel_controls_ui(&mut self, ui: &mut Ui) {
        let mut resend = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("code");
            for (name, _) in code::SHIPPED {
                if ui
                    .selectable_label(self.code.name == name, name)
                    .on_hover_text(code_hint(name))
                    .clicked()
                {
                    match code::shipped(name) {
                        Ok(code) => self.set_code(code),
                        Err(e) => self.error = Some(e),
                    }
                }
            }
        });
        ui.collapsing("Load an alist code", |ui| {
            if let Some(path) = self.code_field.ui(ui, "Load code") {
                match code::read_alist(&path) {
                    Ok(code) => self.set_code(code),
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "Eb/N0");
            resend |= ui
                .add(egui::Slider::new(&mut self.channel.eb_n0_db, -2.0..=8.0).suffix(" dB").step_by(0.1))
                .on_hover_text("Energy per information bit over noise density, at the design rate 1 − m/n")
                .changed();
            slider_label(ui, "burst σ_b");
            resend |= ui
                .add(egui::Slider::new(&mut self.channel.burst_sigma, 0.0..=5.0).step_by(0.1))
                .on_hover_text(format!(
                    "Each bit is hit with probability {BURST_PROBABILITY} by extra noise N(0, σ_b²); \
                     the decoders are not told"
                ))
                .changed();
            slider_label(ui, "iterations");
            resend |= ui
                .add(egui::Slider::new(&mut self.iters, 0..=100))
                .on_hover_text("The most iterations each decoder runs")
                .changed();
            if ui.button("New frame").on_hover_text("Send another random codeword").clicked() {
                self.frame_seed += 1;
                resend = true;
            }
        });
        if resend {
            self.resend();
        }
    }

    pub(super) fn curve_controls_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            slider_label(ui, "curves: σ_b");
            if ui
                .add(egui::Slider::new(&mut self.curve_sigma, 0.0..=5.0).step_by(0.5))
                .on_hover_text("The burst noise of the BER/FER curves (0: plain AWGN)")
                .drag_stopped()
            {
                self.curve_job.mark_stale();
            }
            slider_label(ui, "frames per point");
            ui.add(egui::Slider::new(&mut self.curve_frames, 50..=20_000).logarithmic(true))
                .on_hover_text("More frames: smoother curves, longer to compute");
            if self.curve_job.start_button_ui(
                ui,
                "Compute curves",
                "BER and FER of every decoder over Eb/N0, as a job",
            ) {
                self.start_curves(ui, ctx);
            }
        });
    }

    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            ui.label("model");
            ui.selectable_value(&mut self.train_kind, NetKind::Nebp, "NEBP")
                .on_hover_text(Method::Nebp.hint());
            ui.selectable_value(&mut self.train_kind, NetKind::Nbp, "NBP")
                .on_hover_text(Method::Nbp.hint());
            if self.training.buttons_ui(ui) {
                self.start_training(ui, ctx);
            }
        });
        let method = Method::learned(self.train_kind);
        let terms = [(
            "loss",
            "loss (cross-entropy summed over iterations)",
            method.kind().color(),
        )];
        self.training
            .curves_ui(ui, "ldpc", &terms, Method::Bp.kind().color());
        let kind = self.train_kind.name();
        if let Some(decoder) = self.training.files_ui(ui, kind, &ctx.compute.device) {
            self.add_model(decoder);
        }
    }

    /// The Tanner graph: checks on top, variables below, the shown iteration's messages.
    pub(super) fn graph_ui(&self, ui: &mut Ui, height: f32) -> Rect {
        let (rect, response) =
            ui.allocate_exact_size(vec2(ui.available_width(), height), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let Some((run, frame, step, state)) = self.shown_state() else {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "decoding…",
                egui::FontId::proportional(18.0),
                ui.visuals().weak_text_color(),
            );
            return rect;
        };
        let code = &self.code;
        let margin = 16.0;
        let x_of = |i: usize, count: usize| {
            rect.left() + margin + (rect.width() - 2.0 * margin) * (i as f32 + 0.5) / count as f32
        };
        let check_y = rect.top() + margin + 6.0;
        let var_y = rect.bottom() - margin - 6.0;
        let check_pos = |c: usize| Pos2::new(x_of(c, code.m), check_y);
        let var_pos = |v: usize| Pos2::new(x_of(v, code.n), var_y);
        let values: Option<&[f32]> = match self.edge_view {
            EdgeView::CheckToVariable => Some(&state.c2v),
            EdgeView::VariableToCheck => Some(&state.v2c),
            EdgeView::Correction => state.correction.as_deref(),
        };
        let thin = (rect.width() / code.edges().max(1) as f32 * 2.0).clamp(0.3, 1.0);
        let widest = (rect.width() / code.n as f32 * 0.5).clamp(1.0, 4.0);
        for e in 0..code.edges() {
            let (c, v) = (code.edge_check[e] as usize, code.edge_var[e] as usize);
            let value = values.and_then(|vals| vals.get(e)).copied().unwrap_or(0.0);
            let strength = (value.abs() / FULL_MAGNITUDE).min(1.0);
            let base = if value >= 0.0 { ZERO_COLOR } else { ONE_COLOR };
            let color = base.gamma_multiply(0.25 + 0.75 * strength);
            painter.line_segment(
                [check_pos(c), var_pos(v)],
                Stroke::new(thin + (widest - thin) * strength, color),
            );
        }
        let bits = run.trace.bits(step);
        let unsatisfied = code.unsatisfied_checks(&bits);
        // Half a square's spacing: every check its own square, with a gap to the next.
        let check_side = ((rect.width() - 2.0 * margin) / code.m as f32 * 0.3).clamp(1.0, 9.0);
        for (c, &bad) in unsatisfied.iter().enumerate() {
            let square = Rect::from_center_size(check_pos(c), vec2(check_side, check_side) * 2.0);
            let fill = if bad {
                UNSATISFIED_COLOR
            } else {
                ui.visuals().widgets.inactive.bg_fill
            };
            painter.rect_filled(square, 1.0, fill);
        }
        let radius = (rect.width() / code.n as f32 * 0.45).clamp(1.5, 7.0);
        for v in 0..code.n {
            let belief = state.posterior.get(v).copied().unwrap_or(0.0);
            let color = belief_color(belief);
            painter.circle_filled(var_pos(v), radius, color);
            if bits.get(v) != frame.bits.get(v) {
                painter.circle_stroke(var_pos(v), radius + 2.5, Stroke::new(2.0, WRONG_COLOR));
            }
        }
        if let Some(hover) = response.hover_pos() {
            let v = (((hover.x - rect.left() - margin) / (rect.width() - 2.0 * margin))
                * code.n as f32)
                .floor();
            if (0.0..code.n as f32).contains(&v) && hover.y > rect.center().y {
                let v = v as usize;
                response.on_hover_text(format!(
                    "bit {}: sent {}, LLR in {:.2}, posterior {:.2}{}",
                    v + 1,
                    frame.bits[v],
                    frame.llr[v],
                    state.posterior[v],
                    if frame.burst[v] {
                        ", hit by a burst"
                    } else {
                        ""
                    }
                ));
            }
        }
        rect
    }

    /// The codeword as a strip of beliefs, sent bits and bursts marked.
    pub(super) fn strip_ui(&self, ui: &mut Ui) -> Rect {
        let height = 34.0;
        let (rect, _) =
            ui.allocate_exact_size(vec2(ui.available_width(), height), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let Some((_, frame, _, state)) = self.shown_state() else {
            return rect;
        };
        let n = self.code.n;
        let width = rect.width() / n as f32;
        for v in 0..n {
            let x = rect.left() + width * v as f32;
            let sent = Rect::from_min_size(Pos2::new(x, rect.top()), vec2(width.max(1.0), 8.0));
            painter.rect_filled(
                sent,
                0.0,
                if frame.bits[v] == 0 {
                    ZERO_COLOR
                } else {
                    ONE_COLOR
                },
            );
            let cell =
                Rect::from_min_size(Pos2::new(x, rect.top() + 10.0), vec2(width.max(1.0), 16.0));
            painter.rect_filled(cell, 0.0, belief_color(state.posterior[v]));
            let decided = u8::from(state.posterior[v] < 0.0);
            if decided != frame.bits[v] {
                painter.rect_stroke(
                    cell,
                    0.0,
                    Stroke::new(2.0, WRONG_COLOR),
                    egui::StrokeKind::Inside,
                );
            }
            if frame.burst[v] {
                painter.circle_filled(
                    Pos2::new(x + width / 2.0, rect.bottom() - 3.0),
                    2.5,
                    UNSATISFIED_COLOR,
                );
            }
        }
        rect
    }

    /// BER (solid) and FER (dashed) against Eb/N0, on a log axis.
    /// The curves' caption and plot, or what to do to get them.
    pub(super) fn curves_column_ui(&self, ui: &mut Ui) {
        if self.curves.is_empty() {
            ui.label(if self.curve_job.is_running() {
                "computing BER/FER curves…"
            } else {
                "BER/FER curves: “Compute curves” in the controls"
            });
        } else {
            ui.label(format!(
                "BER (solid) and FER (dotted) over Eb/N0, σ_b {:.1}",
                self.curve_sigma
            ));
            self.curves_ui(ui, ui.available_height().max(160.0));
        }
    }

    pub(super) fn curves_ui(&self, ui: &mut Ui, height: f32) {
        let plot = Plot::new("ldpc-curves")
            .height(height)
            .x_axis_label("Eb/N0 (dB)")
            .y_axis_label("error rate")
            .y_axis_formatter(|mark, _| format!("1e{:.0}", mark.value))
            .label_formatter(crate::ui::log_axis::error_rate_hover_label)
            .allow_scroll(false)
            .legend(egui_plot::Legend::default());
        plot.show(ui, |plot| {
            for (method, points) in &self.curves {
                let color = method.kind().color();
                let series = |f: fn(&BerPoint) -> f64| -> Vec<[f64; 2]> {
                    points
                        .iter()
                        .filter(|p| f(p) > 0.0)
                        .map(|p| [p.eb_n0_db, f(p).log10()])
                        .collect()
                };
                let style = if *method == Method::Minsum {
                    LineStyle::dashed_dense()
                } else {
                    LineStyle::Solid
                };
                let ber = series(|p| p.ber);
                plot.line(
                    Line::new(
                        format!("{} BER", method.label()),
                        PlotPoints::from(ber.clone()),
                    )
                    .color(color)
                    .style(style)
                    .width(2.0),
                );
                plot.points(
                    Points::new(format!("{} BER", method.label()), PlotPoints::from(ber))
                        .color(color)
                        .radius(3.0),
                );
                plot.line(
                    Line::new(
                        format!("{} FER", method.label()),
                        PlotPoints::from(series(|p| p.fer)),
                    )
                    .color(color.gamma_multiply(0.5))
                    .style(LineStyle::dotted_dense())
                    .width(1.5),
                );
            }
        });
    }
}

pub(super) fn code_hint(name: &str) -> &'static str {
    match name {
        "96.3.963" => {
            "MacKay's (96, 48) regular code, column weight 3, row weight 6 (rank 46: two checks are redundant); the paper's"
        }
        "ccsds-128-64" => "CCSDS short-block (128, 64) code (CCSDS 231.1-O-1)",
        "peg-48-24" => {
            "A small (48, 24) regular code, column weight 3, row weight 6, built by progressive edge growth (scripts/ldpc_codes.py): every check and message can be followed"
        }
        _ => "IEEE 802.16e (WiMAX) rate-1/2 code, n = 576, z = 24",
    }
}

/// A belief as a colour: blue for bit 0, orange for bit 1, pale when unsure.
pub(super) fn belief_color(llr: f32) -> Color32 {
    let p_one = 1.0 / (1.0 + llr.clamp(-30.0, 30.0).exp());
    let certainty = (2.0 * (p_one - 0.5)).abs();
    let base = if p_one > 0.5 { ONE_COLOR } else { ZERO_COLOR };
    let pale = Color32::from_gray(200);
    lerp_color(pale, base, certainty)
}

pub(super) fn lerp_color(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

pub(super) fn figure_data(runs: &[Run], curves: &Curves) -> FigureData {
    let mut rows = Vec::new();
    for (m, run) in runs.iter().enumerate() {
        for (i, state) in run.trace.iterations.iter().enumerate() {
            for (v, p) in state.posterior.iter().enumerate() {
                rows.push(vec![
                    0.0,
                    m as f64,
                    i as f64,
                    v as f64,
                    f64::from(*p),
                    f64::NAN,
                    f64::NAN,
                ]);
            }
        }
    }
    for (method, points) in curves {
        let m = Method::ALL.iter().position(|x| x == method).unwrap_or(0);
        for p in points {
            rows.push(vec![
                1.0,
                m as f64,
                f64::NAN,
                f64::NAN,
                p.eb_n0_db,
                p.ber,
                p.fer,
            ]);
        }
    }
    FigureData {
        headers: [
            "table_0_posterior_1_curve",
            "method_index",
            "iteration",
            "bit",
            "posterior_or_eb_n0_db",
            "ber",
            "fer",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}
