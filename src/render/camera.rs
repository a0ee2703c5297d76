//! An orbit camera: drag rotates, the wheel zooms, a double-click resets.

use egui::{Pos2, Rect, Response, Ui};
use glam::{Mat4, Vec3, Vec4};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitCamera {
    /// Around the vertical (z) axis, radians.
    pub yaw: f32,
    /// Above the horizontal plane, radians, within ±89°.
    pub pitch: f32,
    pub distance: f32,
    pub target: Vec3,
    pub fov_y: f32,
    home: (f32, f32, f32, Vec3),
}

const PITCH_LIMIT: f32 = 89.0 * std::f32::consts::PI / 180.0;

impl OrbitCamera {
    /// A camera looking at the box `[min, max]` from a three-quarter view, the whole box in sight.
    pub fn framing(min: Vec3, max: Vec3) -> Self {
        let target = (min + max) * 0.5;
        let radius = ((max - min).length() * 0.5).max(1e-3);
        let fov_y = 40f32.to_radians();
        let distance = radius / (fov_y * 0.5).sin() * 1.05;
        // Nearly along the y axis, a little from above: the classic butterfly of the Lorenz attractor.
        let (yaw, pitch) = (-1.35, 0.25);
        Self {
            yaw,
            pitch,
            distance,
            target,
            fov_y,
            home: (yaw, pitch, distance, target),
        }
    }

    pub fn reset(&mut self) {
        (self.yaw, self.pitch, self.distance, self.target) = self.home;
    }

    pub fn eye(&self) -> Vec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        self.target + self.distance * Vec3::new(cp * cy, cp * sy, sp)
    }

    /// Clip-space transform (wgpu depth range 0..1), z up.
    pub fn view_proj(&self, aspect: f32) -> Mat4 {
        let view = Mat4::look_at_rh(self.eye(), self.target, Vec3::Z);
        let near = (self.distance * 0.01).max(1e-4);
        let far = self.distance * 10.0;
        let aspect = aspect.max(1e-3);
        Mat4::perspective_rh(fov_for_aspect(self.fov_y, aspect), aspect, near, far) * view
    }

    /// Where a world point lands in `rect`; `None` behind the camera.
    pub fn project(&self, view_proj: &Mat4, p: Vec3, rect: Rect) -> Option<Pos2> {
        let clip = *view_proj * Vec4::new(p.x, p.y, p.z, 1.0);
        if clip.w <= 1e-6 {
            return None;
        }
        let ndc = clip / clip.w;
        Some(Pos2::new(
            rect.left() + (ndc.x * 0.5 + 0.5) * rect.width(),
            rect.top() + (0.5 - ndc.y * 0.5) * rect.height(),
        ))
    }

    /// Orbit on drag, zoom on the wheel while hovered, reset on double-click.
    /// Returns whether the view changed.
    pub fn handle_input(&mut self, ui: &Ui, response: &Response) -> bool {
        let before = *self;
        if response.dragged() {
            let delta = response.drag_delta();
            self.yaw -= delta.x * 0.01;
            self.pitch = (self.pitch + delta.y * 0.01).clamp(-PITCH_LIMIT, PITCH_LIMIT);
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                self.distance = (self.distance * (-scroll * 0.002).exp()).clamp(1e-3, 1e6);
            }
        }
        if response.double_clicked() {
            self.reset();
        }
        *self != before
    }
}

/// The vertical field of view that shows, in a view taller than wide, what `fov_y` shows
/// across a square one: a narrow view widens its vertical angle instead of cropping the sides.
fn fov_for_aspect(fov_y: f32, aspect: f32) -> f32 {
    if aspect >= 1.0 {
        fov_y
    } else {
        2.0 * ((fov_y / 2.0).tan() / aspect).atan()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narrow_view_keeps_the_horizontal_angle_of_a_square_one() {
        let fov = 0.8_f32;
        assert_eq!(fov_for_aspect(fov, 1.5), fov);
        let narrow = fov_for_aspect(fov, 0.5);
        // The horizontal half-angle of the narrow view equals the square view's.
        let horizontal = ((narrow / 2.0).tan() * 0.5).atan() * 2.0;
        assert!((horizontal - fov).abs() < 1e-5, "{horizontal} vs {fov}");
    }

    #[test]
    fn target_projects_to_the_centre_and_the_box_is_in_view() {
        let cam = OrbitCamera::framing(Vec3::new(-20.0, -25.0, 0.0), Vec3::new(20.0, 25.0, 50.0));
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(400.0, 300.0));
        let vp = cam.view_proj(400.0 / 300.0);
        let centre = cam.project(&vp, cam.target, rect).expect("in front");
        assert!((centre.x - 200.0).abs() < 1e-3 && (centre.y - 150.0).abs() < 1e-3);
        for corner in [Vec3::new(-20.0, -25.0, 0.0), Vec3::new(20.0, 25.0, 50.0)] {
            let p = cam.project(&vp, corner, rect).expect("in front");
            assert!(rect.expand(1.0).contains(p), "{corner} lands at {p:?}");
        }
    }

    #[test]
    fn points_behind_the_camera_are_not_projected() {
        let cam = OrbitCamera::framing(Vec3::splat(-1.0), Vec3::splat(1.0));
        let behind = cam.eye() + (cam.eye() - cam.target);
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(10.0, 10.0));
        assert!(cam.project(&cam.view_proj(1.0), behind, rect).is_none());
    }

    #[test]
    fn reset_returns_home() {
        let mut cam = OrbitCamera::framing(Vec3::ZERO, Vec3::ONE);
        let home = cam;
        cam.yaw += 1.0;
        cam.distance *= 3.0;
        cam.reset();
        assert_eq!(cam, home);
    }
}
