//! Colormaps for images and matrices: perceptually uniform ones for magnitudes, a diverging one
//! for signed values (errors, weights), plain gray for images that are gray in reality.

use egui::{Color32, ColorImage};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Colormap {
    #[default]
    Gray,
    Viridis,
    Magma,
    /// Blue (low) – white (middle) – red (high).
    Diverging,
}

// Matplotlib's maps sampled at 9 evenly spaced points; linear interpolation between them stays
// within a couple of 8-bit levels of the full tables.
const VIRIDIS: [[u8; 3]; 9] = [
    [68, 1, 84],
    [72, 40, 120],
    [62, 73, 137],
    [49, 104, 142],
    [38, 130, 142],
    [31, 158, 137],
    [53, 183, 121],
    [110, 206, 88],
    [253, 231, 37],
];
const MAGMA: [[u8; 3]; 9] = [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
];
const RDBU_REVERSED: [[u8; 3]; 9] = [
    [33, 102, 172],
    [67, 147, 195],
    [146, 197, 222],
    [209, 229, 240],
    [247, 247, 247],
    [253, 219, 199],
    [244, 165, 130],
    [214, 96, 77],
    [178, 24, 43],
];

/// Shown for NaN and infinite values, so that they never pass for data.
pub const INVALID_COLOR: Color32 = Color32::from_rgb(255, 0, 255);

impl Colormap {
    pub const ALL: [Self; 4] = [Self::Gray, Self::Viridis, Self::Magma, Self::Diverging];

    pub fn name(self) -> &'static str {
        match self {
            Self::Gray => "gray",
            Self::Viridis => "viridis",
            Self::Magma => "magma",
            Self::Diverging => "diverging",
        }
    }

    /// The color of `t` in [0, 1] (clamped); NaN gets [`INVALID_COLOR`].
    pub fn map(self, t: f32) -> Color32 {
        if !t.is_finite() {
            return INVALID_COLOR;
        }
        let t = t.clamp(0.0, 1.0);
        let table = match self {
            Self::Gray => {
                let v = (t * 255.0).round() as u8;
                return Color32::from_gray(v);
            }
            Self::Viridis => &VIRIDIS,
            Self::Magma => &MAGMA,
            Self::Diverging => &RDBU_REVERSED,
        };
        let x = t * (table.len() - 1) as f32;
        let i = (x.floor() as usize).min(table.len() - 2);
        let f = x - i as f32;
        let lerp = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * f).round() as u8;
        let (a, b) = (table[i], table[i + 1]);
        Color32::from_rgb(lerp(a[0], b[0]), lerp(a[1], b[1]), lerp(a[2], b[2]))
    }
}

/// The value range a colormap spans.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    pub low: f32,
    pub high: f32,
}

impl ValueRange {
    pub fn new(low: f32, high: f32) -> Self {
        Self { low, high }
    }

    /// Min and max of the finite values; (0, 1) when there are none.
    pub fn of(values: &[f32]) -> Self {
        let (low, high) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if low.is_finite() {
            Self { low, high }
        } else {
            Self::new(0.0, 1.0)
        }
    }

    /// Symmetric around zero, for signed maps: ±max|v|.
    pub fn symmetric(values: &[f32]) -> Self {
        let r = Self::of(values);
        let m = r.low.abs().max(r.high.abs());
        Self::new(-m, m)
    }

    pub fn normalize(self, v: f32) -> f32 {
        let span = self.high - self.low;
        if span.abs() < f32::EPSILON {
            0.5
        } else {
            (v - self.low) / span
        }
    }
}

/// A row-major `width × height` field of values as an image.
pub fn colorize(
    values: &[f32],
    width: usize,
    height: usize,
    range: ValueRange,
    colormap: Colormap,
) -> ColorImage {
    debug_assert_eq!(values.len(), width * height);
    let pixels = values
        .iter()
        .map(|&v| colormap.map(range.normalize(v)))
        .collect();
    ColorImage::new([width, height], pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_the_tables() {
        assert_eq!(Colormap::Viridis.map(0.0), Color32::from_rgb(68, 1, 84));
        assert_eq!(Colormap::Viridis.map(1.0), Color32::from_rgb(253, 231, 37));
        assert_eq!(Colormap::Gray.map(0.5), Color32::from_gray(128));
        assert_eq!(Colormap::Diverging.map(0.5), Color32::from_gray(247));
    }

    #[test]
    fn out_of_range_clamps_and_nan_is_flagged() {
        assert_eq!(Colormap::Magma.map(-3.0), Colormap::Magma.map(0.0));
        assert_eq!(Colormap::Magma.map(7.0), Colormap::Magma.map(1.0));
        assert_eq!(Colormap::Viridis.map(f32::NAN), INVALID_COLOR);
    }

    #[test]
    fn viridis_gets_brighter() {
        let luminance =
            |c: Color32| 0.2126 * c.r() as f32 + 0.7152 * c.g() as f32 + 0.0722 * c.b() as f32;
        let mut last = -1.0;
        for i in 0..=100 {
            let l = luminance(Colormap::Viridis.map(i as f32 / 100.0));
            assert!(l >= last - 0.5, "viridis not monotone at {i}");
            last = l;
        }
    }

    #[test]
    fn ranges_ignore_nan_and_handle_constants() {
        let r = ValueRange::of(&[f32::NAN, 2.0, -1.0]);
        assert_eq!((r.low, r.high), (-1.0, 2.0));
        assert_eq!(ValueRange::new(3.0, 3.0).normalize(3.0), 0.5);
        let s = ValueRange::symmetric(&[-0.5, 2.0]);
        assert_eq!((s.low, s.high), (-2.0, 2.0));
        let img = colorize(&[0.0, 1.0], 2, 1, ValueRange::new(0.0, 1.0), Colormap::Gray);
        assert_eq!(img.pixels[1], Color32::WHITE);
    }
}
