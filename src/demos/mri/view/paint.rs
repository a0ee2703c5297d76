//! The panel's painting: its controls, figures, plots and figure export, drawn from the
//! state and results `view/mod.rs` keeps.

use super::*;

impl MriDemo {
    pub(super) fn measurement_controls_ui(&mut self, ui: &mut Ui) {
        let mut remeasure = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("mask");
            for kind in MaskKind::ALL {
                remeasure |= ui
                    .selectable_value(&mut self.config.mask, kind, kind.label())
                    .on_hover_text(mask_hint(kind))
                    .changed();
            }
            slider_label(ui, "acceleration");
            let accel = ui
                .add(
                    egui::Slider::new(&mut self.config.accel, 2.0..=16.0)
                        .suffix("×")
                        .step_by(0.5),
                )
                .on_hover_text("1 / the fraction of k-space measured");
            if accel.changed() {
                self.config.center_fraction = default_center_fraction(self.config.accel);
                remeasure = true;
            }
            wrap_before_slider(ui, "centre fraction");
            ui.add_enabled_ui(self.config.mask == MaskKind::Cartesian, |ui| {
                ui.label("centre fraction");
                remeasure |= ui
                    .add(egui::Slider::new(
                        &mut self.config.center_fraction,
                        0.0..=0.5,
                    ))
                    .on_hover_text("fastMRI: 0.08 at 4×, 0.04 at 8×")
                    .changed();
            });
            slider_label(ui, "noise σ");
            remeasure |= ui
                .add(egui::Slider::new(&mut self.config.noise_std, 0.0..=0.1).logarithmic(true))
                .on_hover_text("complex Gaussian noise, E|n|² = σ², on each measured sample")
                .changed();
            slider_label(ui, "mask seed");
            remeasure |= ui
                .add(egui::Slider::new(&mut self.config.seed, 0..=999))
                .on_hover_text("Seed of the mask's random lines and of the noise")
                .changed();
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("image");
            if ui
                .selectable_label(matches!(self.source, Source::Example(_)), "MR slice")
                .on_hover_text(format!(
                    "A real MR slice of the brain, one of eight never trained on ({MR_CREDIT})"
                ))
                .clicked()
            {
                self.source = Source::Example(0);
                remeasure = true;
            }
            if ui
                .selectable_label(matches!(self.source, Source::Phantom), "random phantom")
                .on_hover_text("A generated test image (dead leaves or shapes, drawn from a seed)")
                .clicked()
            {
                self.source = Source::Phantom;
                remeasure = true;
            }
            if let Source::Example(index) = self.source
                && ui
                    .button("Next slice")
                    .on_hover_text("The next of the eight shipped MR slices")
                    .clicked()
            {
                self.source = Source::Example((index + 1) % MR_EXAMPLES.len());
                remeasure = true;
            }
            if matches!(self.source, Source::Phantom | Source::Example(_)) {
                ui.label("side");
                for side in super::SIDES {
                    remeasure |= ui
                        .selectable_value(&mut self.side, side, format!("{side}²"))
                        .on_hover_text("The image's side in pixels (the nets run at any size)")
                        .changed();
                }
                if matches!(self.source, Source::Phantom)
                    && ui
                        .button("New phantom")
                        .on_hover_text("Draw the next phantom")
                        .clicked()
                {
                    self.phantom_seed += 1;
                    remeasure = true;
                }
            }
            if let Source::Image(name, _) | Source::KSpace(name) = &self.source {
                ui.label(RichText::new(name).strong());
            }
            if let Source::Example(index) = self.source {
                let (name, _) = MR_EXAMPLES[index % MR_EXAMPLES.len()];
                ui.label(RichText::new(format!("{name}. {MR_CREDIT}")).small());
            }
        });
        ui.collapsing("Load an image or a measured k-space", |ui| {
            if let Some(path) = self.image_field.ui(ui, "Load image") {
                match read_image(&path) {
                    Ok(image) => {
                        self.source = Source::Image(path.display().to_string(), image);
                        remeasure = true;
                    }
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
            ui.label(
                "k-space (.npy, complex, centred, orthonormal) and its mask (PNG, 255 = sampled):",
            );
            let k = self.kspace_field.ui(ui, "Use k-space");
            let m = self.mask_field.ui(ui, "Use mask");
            if k.is_some() || m.is_some() {
                if let (Some(k), Some(m)) = (self.kspace_field.path(), self.mask_field.path()) {
                    match load_measurement(&k, &m) {
                        Ok((kspace, mask)) => {
                            self.source = Source::KSpace(k.display().to_string());
                            self.truth = None;
                            self.kspace = kspace;
                            self.mask = Some(mask);
                            self.error = None;
                            self.mark_stale();
                        }
                        Err(e) => self.error = Some(e),
                    }
                } else {
                    self.error = Some("give both the k-space and the mask".into());
                }
            }
        });
        if remeasure {
            self.remeasure();
        }
    }

    pub(super) fn training_ui(&mut self, ui: &mut Ui, ctx: &mut DemoCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            ui.label("model");
            for method in Method::LEARNED {
                ui.selectable_value(&mut self.train_method, method, method.name())
                    .on_hover_text(method.hint());
            }
            if self.training.buttons_ui(ui) {
                self.start_training(ui, ctx);
            }
        });
        ui.horizontal_wrapped(|ui| {
            let on = match &self.training_images {
                Some(dir) => format!("on {} (a quarter phantoms)", dir.display()),
                None => "on random phantoms".to_owned(),
            };
            ui.label(on).on_hover_text(
                "A folder of grayscale PNGs (your slices, or photographs): random crops, flips, \
                 rotations and intensity scaling; every tenth file is held out for validation",
            );
            if self.training_images.is_some() && ui.button("phantoms only").clicked() {
                self.training_images = None;
            }
        });
        if let Some(dir) = self.images_field.ui(ui, "Train on this folder") {
            self.training_images = Some(dir);
        }
        if let Some(note) = &self.images_field.note {
            ui.label(note);
        }
        let terms = [(
            "loss",
            "loss (ln MSE summed over steps)",
            self.train_method.kind().color(),
        )];
        self.training
            .curves_ui(ui, "mri", &terms, Method::Tv.kind().color());
        let kind = self
            .train_method
            .model_kind()
            .unwrap_or(MriKind::Rim)
            .name();
        if let Some(model) = self.training.files_ui(ui, kind, &ctx.compute.device) {
            self.add_model(model);
        }
        ui.label(RichText::new("Shipped models, trained on:").small());
        for kind in MriKind::ALL {
            ui.label(RichText::new(format!("{}: {}", kind.name(), shipped_training(kind))).small());
        }
    }

    /// Truth, k-space, estimate and error, as large as the width and the height allow.
    pub(super) fn images_ui(&mut self, ui: &mut Ui) -> egui::Rect {
        if self.textures_dirty {
            self.refresh_textures(ui.ctx());
        }
        let available = ui.available_width();
        let spacing = ui.spacing().item_spacing;
        let caption = ui.text_style_height(&egui::TextStyle::Body) + spacing.y;
        // Leave the per-step plot its smallest height below when the window is tall enough.
        let height = ui.available_height() - caption - spacing.y;
        let below = if height > 2.0 * MIN_PLOT_HEIGHT {
            MIN_PLOT_HEIGHT
        } else {
            0.0
        };
        let side = ((available - 3.0 * spacing.x) / 4.0)
            .min(height - below)
            .max(MIN_IMAGE_SIDE);
        let size = egui::vec2(side, side);
        let step_label = self
            .shown_run()
            .map(|r| {
                format!(
                    "{} step {} of {}",
                    r.method.label(),
                    self.step.position() + 1,
                    r.trace.len()
                )
            })
            .unwrap_or_else(|| "reconstructing…".into());
        let panels = [
            (
                "ground truth",
                self.textures.truth.as_ref(),
                "no truth: a measured k-space".to_owned(),
            ),
            (
                "k-space (log |y|), mask",
                self.textures.kspace.as_ref(),
                String::new(),
            ),
            (
                step_label.as_str(),
                self.textures.estimate.as_ref(),
                String::new(),
            ),
            (
                "error (estimate − truth, ±0.2)",
                self.textures.error.as_ref(),
                String::new(),
            ),
        ];
        ui.horizontal(|ui| {
            for (title, texture, missing) in panels {
                ui.vertical(|ui| {
                    ui.set_width(side);
                    // One line whatever the image's width, so the four images stay level.
                    ui.add(egui::Label::new(RichText::new(title).strong()).truncate())
                        .on_hover_text(title);
                    match texture {
                        Some(t) => {
                            ui.add(egui::Image::new((t.id(), size)));
                        }
                        None => {
                            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                            ui.painter()
                                .rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
                            ui.painter().text(
                                rect.center(),
                                egui::Align2::CENTER_CENTER,
                                missing,
                                egui::FontId::proportional(14.0),
                                ui.visuals().weak_text_color(),
                            );
                        }
                    }
                });
            }
        })
        .response
        .rect
    }

    /// Every method's score after each step, with its legend above (never over the curves).
    pub(super) fn metric_plot_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("per step:").on_hover_text(
                "Each method's score after every step, on a log step axis: the RIM's 8 steps \
                 beside TV's iterations; one-shot methods are level lines",
            );
            ui.selectable_value(&mut self.plot_metric, PlotMetric::Psnr, "PSNR")
                .on_hover_text(PSNR_HINT);
            ui.selectable_value(&mut self.plot_metric, PlotMetric::Ssim, "SSIM")
                .on_hover_text(SSIM_HINT);
            ui.selectable_value(&mut self.plot_metric, PlotMetric::Nmse, "NMSE")
                .on_hover_text(NMSE_HINT);
            ui.separator();
            for run in &self.runs {
                let mark = match run.method {
                    Method::ZeroFilled => "·····",
                    Method::GradientAscent | Method::RimZf => "- - -",
                    _ => "——",
                };
                ui.label(
                    RichText::new(format!("{mark} {}", run.method.label()))
                        .color(run.method.kind().color()),
                );
            }
            ui.label(RichText::new("| current step").color(CURRENT_STEP_COLOR));
        });
        if let Some(worth) = self.learned_steps_worth() {
            ui.label(worth);
        }
        let metric = self.plot_metric;
        let value = move |q: &Quality| match metric {
            PlotMetric::Psnr => q.psnr,
            PlotMetric::Ssim => q.ssim,
            PlotMetric::Nmse => q.nmse,
        };
        let shown_step = self.step.position() as f64 + 1.0;
        let longest = self.runs.iter().map(|r| r.scores.len()).max().unwrap_or(1);
        Plot::new("mri-steps")
            .height(ui.available_height().max(MIN_PLOT_HEIGHT))
            .x_axis_label("step (log scale)")
            .x_grid_spacer(log_step_marks)
            .x_axis_formatter(|mark, _| step_label(mark))
            .label_formatter(step_hover_label)
            .allow_scroll(false)
            .show(ui, |plot| {
                for run in &self.runs {
                    if run.scores.is_empty() {
                        continue;
                    }
                    let mut points: Vec<[f64; 2]> = run
                        .scores
                        .iter()
                        .enumerate()
                        .map(|(k, q)| [log_position(k as f64 + 1.0), value(q)])
                        .collect();
                    if points.len() == 1 {
                        // One-shot methods: a level line across the plot.
                        points.push([log_position(longest.max(2) as f64), points[0][1]]);
                    }
                    // Classical methods share their family's color; the line style tells them apart.
                    let style = match run.method {
                        Method::ZeroFilled => LineStyle::dotted_dense(),
                        Method::GradientAscent | Method::RimZf => LineStyle::dashed_dense(),
                        _ => LineStyle::Solid,
                    };
                    plot.line(
                        Line::new(run.method.label(), PlotPoints::from(points))
                            .color(run.method.kind().color())
                            .style(style)
                            .width(2.0),
                    );
                }
                plot.vline(
                    VLine::new("current step", log_position(shown_step)).color(CURRENT_STEP_COLOR),
                );
            });
    }
}

/// log(1 + |y|) in gray, the unsampled samples tinted blue, so the mask reads at a glance.
pub(super) fn kspace_image(kspace: &[rustfft::num_complex::Complex64], mask: &Mask) -> ColorImage {
    let logs: Vec<f32> = kspace
        .iter()
        .map(|v| (1.0 + 50.0 * v.norm()).ln() as f32)
        .collect();
    let range = ValueRange::of(&logs);
    let pixels = logs
        .iter()
        .zip(&mask.sampled)
        .map(|(&v, &s)| {
            if s {
                Colormap::Magma.map(range.normalize(v))
            } else {
                Color32::from_rgb(20, 30, 70)
            }
        })
        .collect();
    ColorImage::new([mask.side, mask.side], pixels)
}

pub(super) fn load_measurement(
    kspace: &std::path::Path,
    mask: &std::path::Path,
) -> Result<(Vec<rustfft::num_complex::Complex64>, Mask), String> {
    let (side, values) = read_kspace(kspace).map_err(|e| format!("{e:#}"))?;
    let mask_image = read_mask(mask).map_err(|e| format!("{e:#}"))?;
    if mask_image.side != side {
        return Err(format!(
            "the mask is {}×{} but the k-space is {side}×{side}",
            mask_image.side, mask_image.side
        ));
    }
    Ok((values, mask_image))
}

pub(super) fn figure_data(runs: &[Run]) -> FigureData {
    let mut rows = Vec::new();
    for (m, run) in runs.iter().enumerate() {
        for (k, q) in run.scores.iter().enumerate() {
            rows.push(vec![m as f64, k as f64 + 1.0, q.psnr, q.ssim, q.nmse]);
        }
    }
    FigureData {
        headers: ["method_index", "step", "psnr", "ssim", "nmse"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}
