//! Our own wgpu drawing: a 3-D view of polylines and points with an orbit camera.
//! Where the window renders with glow (software adapters), the same view is painted with egui.

pub mod camera;
pub mod curves;
pub mod scene;

use std::sync::Arc;

use egui::{Sense, Shape, Stroke, Ui, Vec2};
use glam::Vec3;

pub use camera::OrbitCamera;
pub use scene::{Points3d, Polyline3d, Scene3d, SegmentInstance};

/// How 3-D views are drawn in this window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaintMode {
    /// Our WGSL pipeline inside egui-wgpu's render pass.
    Wgpu,
    /// Plain egui shapes (glow renderer, tests).
    Egui,
}

/// A 3-D view's state: its scene (with a version number for GPU uploads) and camera.
pub struct View3d {
    id: egui::Id,
    scene: Scene3d,
    instances: Arc<Vec<SegmentInstance>>,
    generation: u64,
    pub camera: OrbitCamera,
}

impl View3d {
    pub fn new(id: egui::Id) -> Self {
        Self {
            id,
            scene: Scene3d::default(),
            instances: Arc::new(Vec::new()),
            generation: 0,
            camera: OrbitCamera::framing(Vec3::splat(-1.0), Vec3::splat(1.0)),
        }
    }

    /// Replaces what is drawn; `reframe` points the camera at the new scene.
    pub fn set_scene(&mut self, scene: Scene3d, reframe: bool) {
        if reframe && let Some((lo, hi)) = scene.bounds() {
            self.camera = OrbitCamera::framing(lo, hi);
        }
        self.instances = Arc::new(scene.instances());
        self.scene = scene;
        self.generation += 1;
    }

    pub fn scene(&self) -> &Scene3d {
        &self.scene
    }

    /// Draws the view in a `size` area; returns its response (for hover, export...).
    pub fn ui(&mut self, ui: &mut Ui, size: Vec2, mode: PaintMode) -> egui::Response {
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        self.camera.handle_input(ui, &response);
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let view_proj = self.camera.view_proj(rect.aspect_ratio());
        match mode {
            PaintMode::Wgpu => {
                painter.add(eframe::egui_wgpu::Callback::new_paint_callback(
                    rect,
                    curves::CurvesCallback {
                        view: self.id,
                        view_proj,
                        size_points: rect.size(),
                        instances: Arc::clone(&self.instances),
                        generation: self.generation,
                    },
                ));
            }
            PaintMode::Egui => {
                let project = |p: &[f32; 3]| self.camera.project(&view_proj, Vec3::from(*p), rect);
                for line in &self.scene.lines {
                    let stroke = Stroke::new(line.width_pt, line.color);
                    // A polyline breaks where a point falls behind the camera.
                    let mut run = Vec::new();
                    for p in &line.points {
                        match project(p) {
                            Some(q) => run.push(q),
                            None => {
                                if run.len() > 1 {
                                    painter.add(Shape::line(std::mem::take(&mut run), stroke));
                                }
                                run.clear();
                            }
                        }
                    }
                    if run.len() > 1 {
                        painter.add(Shape::line(run, stroke));
                    }
                }
                for cloud in &self.scene.points {
                    for p in &cloud.points {
                        if let Some(q) = project(p) {
                            painter.circle_filled(q, cloud.radius_pt, cloud.color);
                        }
                    }
                }
            }
        }
        let drawn_by = match mode {
            PaintMode::Wgpu => "wgpu shader",
            PaintMode::Egui => "egui painter",
        };
        painter.text(
            rect.left_bottom() + egui::vec2(6.0, -4.0),
            egui::Align2::LEFT_BOTTOM,
            format!("3-D · {drawn_by}"),
            egui::FontId::proportional(11.0),
            ui.visuals().weak_text_color(),
        );
        response.on_hover_text("Drag to orbit, scroll to zoom, double-click to reset the view")
    }
}
