//! Export of a figure as PNG (cropped from a screenshot of the window, resampled to a chosen
//! scale) and of its data as CSV.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use anyhow::Context;
use egui::{ColorImage, Rect, Ui};

use super::file_dialog::{DialogKind, PathField};
use crate::csv_table::write_csv;
use crate::files::write_atomic;

/// Scales offered for figure export.
pub const EXPORT_SCALES: [f32; 4] = [1.0, 2.0, 3.0, 4.0];

/// The figure's pixels, resampled by `scale` (Lanczos), as an RGBA buffer.
pub fn scaled_rgba(image: &ColorImage, scale: f32) -> anyhow::Result<image::RgbaImage> {
    let [w, h] = image.size;
    let raw: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let rgba = image::RgbaImage::from_raw(w as u32, h as u32, raw)
        .context("image buffer does not match its size")?;
    if !(scale.is_finite() && scale > 0.0 && scale <= 16.0) {
        anyhow::bail!("export scale {scale} is outside 0–16");
    }
    if (scale - 1.0).abs() < f32::EPSILON {
        return Ok(rgba);
    }
    let sw = ((w as f32 * scale).round() as u32).max(1);
    let sh = ((h as f32 * scale).round() as u32).max(1);
    Ok(image::imageops::resize(
        &rgba,
        sw,
        sh,
        image::imageops::FilterType::Lanczos3,
    ))
}

/// PNG bytes of a figure at `scale`.
pub fn encode_png(image: &ColorImage, scale: f32) -> anyhow::Result<Vec<u8>> {
    let rgba = scaled_rgba(image, scale)?;
    let mut bytes = Vec::new();
    rgba.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .context("PNG encoding failed")?;
    Ok(bytes)
}

/// Saves a figure as PNG, atomically.
pub fn save_png(path: &Path, image: &ColorImage, scale: f32) -> anyhow::Result<()> {
    write_atomic(path, &encode_png(image, scale)?)
}

/// The part of a window screenshot covered by `rect` (in points), clipped to the screenshot.
pub fn crop(screenshot: &ColorImage, rect: Rect, pixels_per_point: f32) -> ColorImage {
    let ppp = pixels_per_point.max(1e-3);
    let whole = Rect::from_min_size(
        egui::Pos2::ZERO,
        egui::vec2(screenshot.size[0] as f32, screenshot.size[1] as f32) / ppp,
    );
    let rect = rect.intersect(whole);
    if !rect.is_positive() {
        return ColorImage::new([0, 0], Vec::new());
    }
    screenshot.region(&rect, Some(ppp))
}

/// The data behind a figure, for CSV export.
#[derive(Default)]
pub struct FigureData {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

/// The export controls of one figure: a PNG (with scale) and its data as CSV.
pub struct FigureExporter {
    png: PathField,
    csv: PathField,
    animation: PathField,
    pub scale: f32,
    /// The animation's frame rate, scale and step range (first, last).
    pub animation_fps: f32,
    pub animation_scale: f32,
    pub animation_steps: (usize, usize),
    /// A screenshot on its way: where to save the figure, and the figure's rect.
    waiting: Option<(PathBuf, Rect, Receiver<Arc<ColorImage>>)>,
    pub status: Option<Result<String, String>>,
}

impl FigureExporter {
    pub fn new(stem: &str) -> Self {
        Self {
            png: PathField::new(
                DialogKind::Save,
                "PNG image",
                &["png"],
                &format!("{stem}.png"),
            ),
            csv: PathField::new(
                DialogKind::Save,
                "CSV table",
                &["csv"],
                &format!("{stem}.csv"),
            ),
            animation: PathField::new(
                DialogKind::Save,
                "Animated GIF (or .png: a numbered PNG sequence)",
                &["gif", "png"],
                &format!("{stem}.gif"),
            ),
            scale: 2.0,
            animation_fps: 4.0,
            animation_scale: 1.0,
            animation_steps: (0, super::animation::TO_THE_END),
            waiting: None,
            status: None,
        }
    }

    /// Controls for exporting the figure drawn in `figure_rect`; `data` gives its CSV.
    /// The "Export figure" section a panel's controls end with.
    pub fn section_ui(
        &mut self,
        ui: &mut Ui,
        figure_rect: Rect,
        data: impl FnOnce() -> FigureData,
    ) {
        ui.collapsing("Export figure", |ui| self.ui(ui, figure_rect, data));
    }

    pub fn ui(&mut self, ui: &mut Ui, figure_rect: Rect, data: impl FnOnce() -> FigureData) {
        self.receive_screenshot(ui);
        ui.horizontal(|ui| {
            ui.label("scale");
            for s in EXPORT_SCALES {
                ui.selectable_value(&mut self.scale, s, format!("×{s}"))
                    .on_hover_text("The PNG's resolution: this many pixels per screen pixel");
            }
        });
        if let Some(path) = self.png.ui(ui, "Export PNG") {
            let (tx, rx) = channel();
            let ctx = ui.ctx().clone();
            ui.ctx().request_screenshot(move |image| {
                let _ = tx.send(image);
                ctx.request_repaint();
            });
            self.waiting = Some((path, figure_rect, rx));
        }
        ui.separator();
        ui.label("Animation: the figure at every step of the timeline").on_hover_text(
            "Written while the recorder steps the timeline; progress and Cancel in the status bar",
        );
        super::animation::settings_ui(
            ui,
            &mut self.animation_fps,
            &mut self.animation_scale,
            &mut self.animation_steps,
        );
        if let Some(path) = self.animation.ui(ui, "Export animation") {
            let settings = super::animation::AnimationSettings {
                path,
                fps: self.animation_fps,
                scale: self.animation_scale,
                first: self.animation_steps.0,
                last: Some(self.animation_steps.1),
            };
            match settings.validate() {
                Ok(()) => super::animation::request(ui.ctx(), settings),
                Err(e) => self.status = Some(Err(e)),
            }
        }
        ui.separator();
        if let Some(path) = self.csv.ui(ui, "Export CSV") {
            let data = data();
            let headers: Vec<&str> = data.headers.iter().map(String::as_str).collect();
            self.status = Some(
                write_csv(&path, &headers, &data.rows)
                    .map(|()| format!("saved {}", path.display()))
                    .map_err(|e| format!("{e:#}")),
            );
        }
        super::outcome_ui(ui, self.status.as_ref());
    }

    fn receive_screenshot(&mut self, ui: &Ui) {
        let Some((path, rect, rx)) = &self.waiting else {
            return;
        };
        let Ok(image) = rx.try_recv() else {
            return;
        };
        let figure = crop(&image, *rect, ui.ctx().pixels_per_point());
        self.status = Some(
            save_png(path, &figure, self.scale)
                .map(|()| {
                    format!(
                        "saved {} ({}×{} px)",
                        path.display(),
                        (figure.size[0] as f32 * self.scale).round(),
                        (figure.size[1] as f32 * self.scale).round()
                    )
                })
                .map_err(|e| format!("{e:#}")),
        );
        self.waiting = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::Color32;

    fn checker(w: usize, h: usize) -> ColorImage {
        let pixels = (0..w * h)
            .map(|i| {
                if (i % w + i / w).is_multiple_of(2) {
                    Color32::from_rgb(200, 10, 10)
                } else {
                    Color32::from_rgb(10, 10, 200)
                }
            })
            .collect();
        ColorImage::new([w, h], pixels)
    }

    #[test]
    fn png_round_trip_is_lossless_at_scale_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fig.png");
        let image = checker(7, 5);
        save_png(&path, &image, 1.0).expect("save");
        let back = image::open(&path).expect("open").to_rgba8();
        assert_eq!(back.dimensions(), (7, 5));
        for (i, px) in back.pixels().enumerate() {
            assert_eq!(px.0, image.pixels[i].to_array());
        }
    }

    #[test]
    fn scale_changes_the_size_and_absurd_scales_are_refused() {
        let image = checker(10, 4);
        let big = scaled_rgba(&image, 3.0).expect("scale 3");
        assert_eq!(big.dimensions(), (30, 12));
        assert!(scaled_rgba(&image, f32::NAN).is_err());
        assert!(scaled_rgba(&image, 1000.0).is_err());
    }

    #[test]
    fn crop_takes_the_figure_region_in_pixels() {
        let image = checker(20, 20);
        let rect = Rect::from_min_size(egui::pos2(2.0, 3.0), egui::vec2(4.0, 5.0));
        let figure = crop(&image, rect, 2.0);
        assert_eq!(figure.size, [8, 10]);
        assert_eq!(figure.pixels[0], image.pixels[6 * 20 + 4]);
    }
}
