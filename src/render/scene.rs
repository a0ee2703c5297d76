//! What a 3-D view shows: polylines and point clouds in world coordinates.

use bytemuck::{Pod, Zeroable};
use egui::Color32;
use glam::Vec3;

#[derive(Clone, Debug, PartialEq)]
pub struct Polyline3d {
    pub points: Vec<[f32; 3]>,
    pub color: Color32,
    pub width_pt: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Points3d {
    pub points: Vec<[f32; 3]>,
    pub color: Color32,
    pub radius_pt: f32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene3d {
    pub lines: Vec<Polyline3d>,
    pub points: Vec<Points3d>,
}

/// One capsule for the GPU: a segment, or a point when `p0 == p1`. Matches `shaders/curves3d.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct SegmentInstance {
    pub p0: [f32; 3],
    pub width_pt: f32,
    pub p1: [f32; 3],
    pub _pad: f32,
    /// Straight (non-premultiplied) RGBA in gamma space, 0..1.
    pub color: [f32; 4],
}

fn rgba(c: Color32) -> [f32; 4] {
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    [r, g, b, a].map(|v| f32::from(v) / 255.0)
}

impl Scene3d {
    /// Lines first, points on top, in the order given.
    pub fn instances(&self) -> Vec<SegmentInstance> {
        let mut out = Vec::new();
        for line in &self.lines {
            let color = rgba(line.color);
            out.extend(line.points.windows(2).map(|w| SegmentInstance {
                p0: w[0],
                width_pt: line.width_pt,
                p1: w[1],
                _pad: 0.0,
                color,
            }));
        }
        for cloud in &self.points {
            let color = rgba(cloud.color);
            out.extend(cloud.points.iter().map(|&p| SegmentInstance {
                p0: p,
                width_pt: 2.0 * cloud.radius_pt,
                p1: p,
                _pad: 0.0,
                color,
            }));
        }
        out
    }

    /// The axis-aligned box around every finite point; `None` for an empty scene.
    pub fn bounds(&self) -> Option<(Vec3, Vec3)> {
        let all = self
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .chain(self.points.iter().flat_map(|c| &c.points))
            .map(|&p| Vec3::from(p))
            .filter(|p| p.is_finite());
        all.fold(None, |acc, p| match acc {
            None => Some((p, p)),
            Some((lo, hi)) => Some((lo.min(p), hi.max(p))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polyline_of_n_points_is_n_minus_1_segments_and_points_are_zero_length() {
        let scene = Scene3d {
            lines: vec![Polyline3d {
                points: vec![[0.0; 3], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]],
                color: Color32::RED,
                width_pt: 2.0,
            }],
            points: vec![Points3d {
                points: vec![[5.0, 5.0, 5.0]],
                color: Color32::BLUE,
                radius_pt: 3.0,
            }],
        };
        let inst = scene.instances();
        assert_eq!(inst.len(), 3);
        assert_eq!(inst[1].p0, [1.0, 0.0, 0.0]);
        assert_eq!(inst[2].p0, inst[2].p1);
        assert_eq!(inst[2].width_pt, 6.0);
        assert_eq!(std::mem::size_of::<SegmentInstance>(), 48);
        let (lo, hi) = scene.bounds().expect("bounds");
        assert_eq!(lo, Vec3::ZERO);
        assert_eq!(hi, Vec3::splat(5.0));
    }
}
