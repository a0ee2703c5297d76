//! The images the MRI models train and are tested on: seeded phantoms, and training images from
//! a folder of grayscale PNGs (photographs, or a researcher's own slices):
//! every tenth file by name is held out for validation; a training image is a crop at a random
//! scale, resized to the training side, flipped and rotated by a multiple of 90° at random, its
//! intensity scaled inside [0, 1]. The folder is read at the start of training and never
//! embedded: only the models trained on it ship.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::{DynamicImage, ImageBuffer, Luma};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::sim::Image;
use std::f64::consts::PI;

/// A grayscale picture of any shape, values in [0, 1].
#[derive(Clone, Debug)]
pub struct Gray(ImageBuffer<Luma<f32>, Vec<f32>>);

/// A folder's pictures, split into training and validation.
#[derive(Clone, Debug)]
pub struct ImageFolder {
    pub train: Vec<Gray>,
    pub validation: Vec<Gray>,
}

/// The PNG files of `dir`, sorted by name.
pub fn png_paths(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("{}: no .png images", dir.display());
    }
    Ok(paths)
}

/// An 8- or 16-bit grayscale PNG of any shape (value/255 or value/65535).
pub fn read_gray(path: &Path) -> anyhow::Result<Gray> {
    let origin = path.display().to_string();
    let decoded = image::open(path).with_context(|| format!("{origin}: not a readable image"))?;
    let buffer = match decoded {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLuma16(_) => decoded.to_luma32f(),
        other => bail!(
            "{origin}: the image is {:?}; training reads 8- or 16-bit grayscale PNG only",
            other.color()
        ),
    };
    if buffer.width() < 8 || buffer.height() < 8 {
        bail!(
            "{origin}: {}×{} is too small to train on",
            buffer.width(),
            buffer.height()
        );
    }
    Ok(Gray(buffer))
}

/// The blocks of `brain-mr` (file numbers, inclusive) never trained or validated on: the last
/// sixteen slices of each tumour class (neighbouring files are often one patient's).
pub const MR_HELD_OUT: [(u32, u32); 3] = [(693, 708), (2119, 2134), (3049, 3064)];

/// Whether `path` is a `brain_NNNN.png` of a held-out block.
pub fn is_held_out_mr(path: &Path) -> bool {
    let number = path
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("brain_"))
        .and_then(|n| n.parse::<u32>().ok());
    number.is_some_and(|n| MR_HELD_OUT.iter().any(|&(a, b)| (a..=b).contains(&n)))
}

/// Eight held-out slices shipped as examples (assets/mri/mr/README.md: Cheng et al. 2015,
/// CC BY 4.0): the panel opens on them and `bench --demo mri` scores every method on them.
pub const MR_EXAMPLES: [(&str, &[u8]); 8] = [
    (
        "brain_0696",
        include_bytes!("../../../assets/mri/mr/brain_0696.png"),
    ),
    (
        "brain_0700",
        include_bytes!("../../../assets/mri/mr/brain_0700.png"),
    ),
    (
        "brain_0704",
        include_bytes!("../../../assets/mri/mr/brain_0704.png"),
    ),
    (
        "brain_2122",
        include_bytes!("../../../assets/mri/mr/brain_2122.png"),
    ),
    (
        "brain_2126",
        include_bytes!("../../../assets/mri/mr/brain_2126.png"),
    ),
    (
        "brain_2130",
        include_bytes!("../../../assets/mri/mr/brain_2130.png"),
    ),
    (
        "brain_3052",
        include_bytes!("../../../assets/mri/mr/brain_3052.png"),
    ),
    (
        "brain_3060",
        include_bytes!("../../../assets/mri/mr/brain_3060.png"),
    ),
];

/// The credit a figure or model of brain-mr carries.
pub const MR_CREDIT: &str = "MR slices: Cheng et al., PLoS ONE 2015 (figshare 1512427, CC BY 4.0)";

/// Example slice `index` at its own 160×160.
pub fn mr_example(index: usize) -> anyhow::Result<(String, Image)> {
    let (name, bytes) = MR_EXAMPLES[index % MR_EXAMPLES.len()];
    Ok((
        name.to_owned(),
        super::io::decode_image(bytes, &format!("the shipped {name}"))?,
    ))
}

/// Every tenth file by name (the 10th, 20th, ...) is validation; at least one of each. The
/// held-out MR slices ([`MR_HELD_OUT`]) are skipped.
pub fn load_folder(dir: &Path) -> anyhow::Result<ImageFolder> {
    let all = png_paths(dir)?;
    let paths: Vec<PathBuf> = all.iter().filter(|p| !is_held_out_mr(p)).cloned().collect();
    if paths.len() < all.len() {
        log::info!(
            "{}: {} held-out MR slices skipped (never trained or validated on)",
            dir.display(),
            all.len() - paths.len()
        );
    }
    if paths.len() < 2 {
        bail!(
            "{}: one image cannot be split into training and validation",
            dir.display()
        );
    }
    let mut folder = ImageFolder {
        train: Vec::new(),
        validation: Vec::new(),
    };
    for (i, path) in paths.iter().enumerate() {
        let gray = read_gray(path)?;
        if i % 10 == 9 || (paths.len() < 10 && i == paths.len() - 1) {
            folder.validation.push(gray);
        } else {
            folder.train.push(gray);
        }
    }
    Ok(folder)
}

fn to_image(buffer: &ImageBuffer<Luma<f32>, Vec<f32>>) -> Image {
    Image {
        side: buffer.width() as usize,
        pixels: buffer
            .pixels()
            .map(|p| f64::from(p[0]).clamp(0.0, 1.0))
            .collect(),
    }
}

/// A square buffer resized (area-averaging, the Triangle filter) to `side`.
fn resized_buffer(
    buffer: ImageBuffer<Luma<f32>, Vec<f32>>,
    side: usize,
) -> ImageBuffer<Luma<f32>, Vec<f32>> {
    if buffer.width() as usize == side && buffer.height() as usize == side {
        return buffer;
    }
    image::imageops::resize(
        &buffer,
        side as u32,
        side as u32,
        image::imageops::FilterType::Triangle,
    )
}

/// A square image resized (area-averaging, the Triangle filter) to `side`.
pub fn resized(image: &Image, side: usize) -> Image {
    if image.side == side {
        return image.clone();
    }
    let buffer = ImageBuffer::from_fn(image.side as u32, image.side as u32, |c, r| {
        Luma([image.pixels[(r as usize) * image.side + c as usize] as f32])
    });
    to_image(&resized_buffer(buffer, side))
}

impl Gray {
    fn crop(&self, x: u32, y: u32, size: u32) -> ImageBuffer<Luma<f32>, Vec<f32>> {
        image::imageops::crop_imm(&self.0, x, y, size, size).to_image()
    }

    /// The largest centred square, resized to `side`: a validation image.
    pub fn centre(&self, side: usize) -> Image {
        let size = self.0.width().min(self.0.height());
        let x = (self.0.width() - size) / 2;
        let y = (self.0.height() - size) / 2;
        to_image(&resized_buffer(self.crop(x, y, size), side))
    }

    /// A training image drawn from `seed`: a square crop whose side is log-uniform between
    /// `side` (or the picture's, if smaller) and the picture's shorter side, resized to `side`,
    /// one of the 8 flips and rotations, its brightest pixel scaled to 0.5–1.
    pub fn augmented(&self, side: usize, seed: u64) -> Image {
        let mut rng = StdRng::seed_from_u64(seed);
        let (w, h) = (self.0.width(), self.0.height());
        let largest = w.min(h);
        let smallest = (side as u32).min(largest);
        let size = if smallest == largest {
            largest
        } else {
            let t: f64 = rng.random();
            let log = f64::from(smallest).ln() * (1.0 - t) + f64::from(largest).ln() * t;
            (log.exp().round() as u32).clamp(smallest, largest)
        };
        let x = rng.random_range(0..=w - size);
        let y = rng.random_range(0..=h - size);
        let mut buffer = resized_buffer(self.crop(x, y, size), side);
        if rng.random::<bool>() {
            buffer = image::imageops::flip_horizontal(&buffer);
        }
        buffer = match rng.random_range(0..4) {
            1 => image::imageops::rotate90(&buffer),
            2 => image::imageops::rotate180(&buffer),
            3 => image::imageops::rotate270(&buffer),
            _ => buffer,
        };
        let mut image = to_image(&buffer);
        let brightest = image.pixels.iter().copied().fold(0.0, f64::max);
        // At most ×2, so that a dark crop is not a stretched quantisation pattern.
        let gain = (rng.random_range(0.5..=1.0) / brightest.max(1e-6)).min(2.0);
        for v in &mut image.pixels {
            *v = (*v * gain).clamp(0.0, 1.0);
        }
        image
    }
}

/// A random training image, one of three families (all from the seed):
/// - a dead-leaves image (occluding shapes with power-law sizes, flat, shaded or textured):
///   the synthetic model whose statistics match natural images (Lee, Mumford & Huang 2001),
///   known to train restoration networks that generalize to photographs;
/// - a few ellipses and polygons of varied size, angle and intensity on a smooth background;
/// - a Shepp-Logan-like head with jittered ellipses, plus shapes.
///
/// Each is drawn at up to 4× the side and averaged down, then half the time blurred a little:
/// edges fall between pixels with partial volume, as in a downsampled photograph or an MR
/// voxel. (Drawn on the pixel grid, every edge is a hard step: TV's ideal image and nobody
/// else's, and a network trained on such steps learns to sharpen what it should not.)
pub fn phantom(side: usize, seed: u64) -> Image {
    let mut rng = StdRng::seed_from_u64(seed);
    let factor = (256 / side.max(1)).clamp(1, 4);
    let fine = side * factor;
    let family = rng.random::<f64>();
    let mut img = Image::zeros(fine);
    if family < 0.5 {
        dead_leaves(&mut img, &mut rng, factor as f64);
    } else {
        // Smooth background: a low-frequency random field.
        let background = rng.random::<f64>() * 0.4;
        let field = smooth_field(fine, &mut rng, 3.0);
        for (p, f) in img.pixels.iter_mut().zip(&field) {
            *p = background * (0.5 + 0.5 * f);
        }
        if family > 0.8 {
            shepp_logan_like(&mut img, &mut rng);
        }
        let shapes = 3 + (rng.random::<f64>() * 12.0) as usize;
        for _ in 0..shapes {
            let a = (0.03 + rng.random::<f64>().powi(2) * 0.4) * fine as f64;
            paint_shape(&mut img, &mut rng, a);
        }
    }
    let mut img = box_downsample(&img, factor);
    // Fine texture over the whole image at a random strength.
    if rng.random::<f64>() < 0.5 {
        let texture = smooth_field(side, &mut rng, 24.0);
        let strength = 0.1 * rng.random::<f64>();
        for (p, f) in img.pixels.iter_mut().zip(&texture) {
            *p += strength * (f - 0.5);
        }
    }
    if rng.random::<f64>() < 0.5 {
        img = gaussian_blur(&img, 0.3 + 0.9 * rng.random::<f64>());
    }
    img.clamped()
}

/// The mean of each `factor × factor` block.
fn box_downsample(img: &Image, factor: usize) -> Image {
    let side = img.side / factor;
    let scale = 1.0 / (factor * factor) as f64;
    let pixels = (0..side * side)
        .map(|i| {
            let (r, c) = (i / side, i % side);
            let mut sum = 0.0;
            for dr in 0..factor {
                let row = (r * factor + dr) * img.side;
                sum += img.pixels[row + c * factor..row + (c + 1) * factor]
                    .iter()
                    .sum::<f64>();
            }
            sum * scale
        })
        .collect();
    Image { side, pixels }
}

/// A separable Gaussian blur of standard deviation `sigma` pixels, borders clamped.
fn gaussian_blur(img: &Image, sigma: f64) -> Image {
    let radius = (3.0 * sigma).ceil() as isize;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let n = img.side as isize;
    let pass = |src: &[f64], along_rows: bool| -> Vec<f64> {
        (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                weights
                    .iter()
                    .zip(-radius..=radius)
                    .map(|(w, d)| {
                        let (rr, cc) = if along_rows {
                            (r, (c + d).clamp(0, n - 1))
                        } else {
                            ((r + d).clamp(0, n - 1), c)
                        };
                        w * src[(rr * n + cc) as usize]
                    })
                    .sum::<f64>()
                    / total
            })
            .collect()
    };
    let pixels = pass(&pass(&img.pixels, true), false);
    Image {
        side: img.side,
        pixels,
    }
}

/// Dead leaves: 40–1000 shapes with radii drawn from p(r) ∝ r⁻³ between `r_min` pixels and
/// half the image, painted one over another.
fn dead_leaves(img: &mut Image, rng: &mut StdRng, r_min: f64) {
    let side = img.side as f64;
    let background = rng.random::<f64>();
    img.pixels.iter_mut().for_each(|p| *p = background);
    // From a sparse scatter over the background to a fully covered plane.
    let leaves = 40 + (rng.random::<f64>().powi(2) * 960.0) as usize;
    let r_max = side / 2.0;
    for _ in 0..leaves {
        let u = rng.random::<f64>();
        let r = (r_min.powi(-2) - u * (r_min.powi(-2) - r_max.powi(-2))).powf(-0.5);
        paint_shape(img, rng, r);
    }
}

/// One ellipse or regular polygon of semi-axis `a` at a random place and angle: flat, shaded
/// by a linear ramp, or textured; it replaces what is under it, or (sometimes) adds to it.
fn paint_shape(img: &mut Image, rng: &mut StdRng, a: f64) {
    let side = img.side;
    let n = side as f64;
    let cx = rng.random::<f64>() * n;
    let cy = rng.random::<f64>() * n;
    let b = a * (0.2 + 0.8 * rng.random::<f64>());
    let theta = rng.random::<f64>() * PI;
    let value = rng.random::<f64>();
    let additive = rng.random::<f64>() < 0.2;
    let style = rng.random::<f64>();
    // Evaluated inside the shape only: a whole-image field per leaf is most of the cost.
    let texture = (style < 0.2).then(|| Waves::new(side, rng, 16.0));
    let ramp = (0.2..0.45)
        .contains(&style)
        .then(|| (rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5));
    let polygon = rng.random::<f64>() < 0.35;
    let sides = 3 + (rng.random::<f64>() * 4.0) as usize;
    let (ct, st) = (theta.cos(), theta.sin());
    let reach = a.max(b) + 1.0;
    let rows = (cy - reach).max(0.0) as usize..((cy + reach).ceil() as usize).min(side);
    let cols = (cx - reach).max(0.0) as usize..((cx + reach).ceil() as usize).min(side);
    for r in rows {
        for c in cols.clone() {
            let dx = c as f64 + 0.5 - cx;
            let dy = r as f64 + 0.5 - cy;
            let u = (dx * ct + dy * st) / a;
            let v = (-dx * st + dy * ct) / b;
            let inside = if polygon {
                inside_regular_polygon(u, v, sides)
            } else {
                u * u + v * v <= 1.0
            };
            if !inside {
                continue;
            }
            let i = r * side + c;
            let mut val = value;
            if let Some(t) = &texture {
                val *= 0.6 + 0.4 * t.at(r, c);
            }
            if let Some((gx, gy)) = ramp {
                val += 0.5 * (gx * u + gy * v);
            }
            img.pixels[i] = if additive {
                img.pixels[i] + 0.5 * (val - 0.5)
            } else {
                val
            };
        }
    }
}

/// `|u|, |v|` inside a regular polygon of `sides` inscribed in the unit circle.
fn inside_regular_polygon(u: f64, v: f64, sides: usize) -> bool {
    let k = sides as f64;
    let angle = v.atan2(u);
    let sector = (angle / (2.0 * PI / k)).floor();
    let mid = (sector + 0.5) * 2.0 * PI / k;
    let r = u.hypot(v);
    r * (angle - mid).cos() <= (PI / k).cos()
}

/// A random field of 12 sinusoids of frequency up to `max_freq` cycles per image with 1/f
/// amplitudes (natural images' spectrum), evaluated where it is needed.
struct Waves {
    waves: Vec<(f64, f64, f64, f64)>,
    amplitude: f64,
}

impl Waves {
    fn new(side: usize, rng: &mut StdRng, max_freq: f64) -> Self {
        let n = side as f64;
        let waves: Vec<(f64, f64, f64, f64)> = (0..12)
            .map(|_| {
                let f = 0.5 + rng.random::<f64>() * max_freq;
                let dir = rng.random::<f64>() * 2.0 * PI;
                let phase = rng.random::<f64>() * 2.0 * PI;
                (
                    f * dir.cos() * 2.0 * PI / n,
                    f * dir.sin() * 2.0 * PI / n,
                    phase,
                    1.0 / f,
                )
            })
            .collect();
        let amplitude = waves.iter().map(|w| w.3).sum();
        Self { waves, amplitude }
    }

    /// The raw sum at pixel (row, column), in [−amplitude, amplitude].
    fn sum_at(&self, r: usize, c: usize) -> f64 {
        let (r, c) = (r as f64, c as f64);
        self.waves
            .iter()
            .map(|(kx, ky, p, a)| a * (kx * c + ky * r + p).sin())
            .sum()
    }

    /// The field at (row, column) in [0, 1].
    fn at(&self, r: usize, c: usize) -> f64 {
        0.5 + 0.5 * self.sum_at(r, c) / self.amplitude
    }
}

/// A `Waves` field over the whole image, stretched to [0, 1].
fn smooth_field(side: usize, rng: &mut StdRng, max_freq: f64) -> Vec<f64> {
    let waves = Waves::new(side, rng, max_freq);
    let mut out: Vec<f64> = (0..side * side)
        .map(|i| waves.sum_at(i / side, i % side))
        .collect();
    let (lo, hi) = out
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let span = (hi - lo).max(1e-12);
    out.iter_mut().for_each(|v| *v = (*v - lo) / span);
    out
}

/// A head-like phantom after Shepp & Logan (1974), with each ellipse's size, place and
/// intensity jittered so no two are the same.
fn shepp_logan_like(img: &mut Image, rng: &mut StdRng) {
    // (value, a, b, x0, y0, angle in degrees), in the unit square [-1, 1]².
    const ELLIPSES: [(f64, f64, f64, f64, f64, f64); 10] = [
        (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
        (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
        (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
        (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
        (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
        (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
        (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
        (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
        (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
        (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
    ];
    let side = img.side;
    let scale = 0.7 + 0.3 * rng.random::<f64>();
    let jitter = |rng: &mut StdRng, s: f64| 1.0 + s * (rng.random::<f64>() - 0.5);
    let params: Vec<_> = ELLIPSES
        .iter()
        .map(|&(v, a, b, x0, y0, deg)| {
            (
                v * jitter(rng, 0.6),
                a * scale * jitter(rng, 0.3),
                b * scale * jitter(rng, 0.3),
                x0 * scale,
                y0 * scale,
                (deg + 20.0 * (rng.random::<f64>() - 0.5)).to_radians(),
            )
        })
        .collect();
    for r in 0..side {
        for c in 0..side {
            let x = 2.0 * (c as f64 + 0.5) / side as f64 - 1.0;
            let y = 1.0 - 2.0 * (r as f64 + 0.5) / side as f64;
            let mut value = 0.0;
            for &(v, a, b, x0, y0, th) in &params {
                let (dx, dy) = (x - x0, y - y0);
                let u = dx * th.cos() + dy * th.sin();
                let w = -dx * th.sin() + dy * th.cos();
                if (u / a).powi(2) + (w / b).powi(2) <= 1.0 {
                    value += v;
                }
            }
            if value != 0.0 {
                img.pixels[r * side + c] = value.clamp(0.0, 1.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(dir: &Path, name: &str, w: u32, h: u32) {
        let buffer = ImageBuffer::from_fn(w, h, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]));
        buffer.save(dir.join(name)).expect("png");
    }

    #[test]
    fn the_held_out_mr_slices_are_never_loaded_for_training() {
        assert!(is_held_out_mr(Path::new("x/brain_0693.png")));
        assert!(is_held_out_mr(Path::new("brain_3064.png")));
        assert!(!is_held_out_mr(Path::new("brain_0692.png")));
        assert!(!is_held_out_mr(Path::new("brain_2135.png")));
        assert!(!is_held_out_mr(Path::new("photo_0700.png")));
        for (name, _) in MR_EXAMPLES {
            assert!(is_held_out_mr(Path::new(&format!("{name}.png"))), "{name}");
        }
        let dir = tempfile::tempdir().expect("dir");
        for name in ["brain_0001", "brain_0002", "brain_0700", "brain_2125"] {
            write_png(dir.path(), &format!("{name}.png"), 40, 40);
        }
        let folder = load_folder(dir.path()).expect("loaded");
        assert_eq!(folder.train.len() + folder.validation.len(), 2);
        let (name, image) = mr_example(0).expect("decoded");
        assert_eq!((name.as_str(), image.side), ("brain_0696", 160));
    }

    #[test]
    fn a_folder_splits_every_tenth_file_for_validation() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..20 {
            write_png(dir.path(), &format!("im{i:02}.png"), 40, 30);
        }
        std::fs::write(dir.path().join("notes.txt"), "not an image").expect("txt");
        let folder = load_folder(dir.path()).expect("folder");
        assert_eq!((folder.train.len(), folder.validation.len()), (18, 2));
    }

    #[test]
    fn augmented_crops_are_the_side_asked_in_range_and_repeat_from_the_seed() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_png(dir.path(), "a.png", 50, 37);
        let gray = read_gray(&dir.path().join("a.png")).expect("read");
        let a = gray.augmented(16, 3);
        assert_eq!(a.side, 16);
        assert_eq!(a.pixels.len(), 256);
        assert!(a.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(a, gray.augmented(16, 3));
        assert_ne!(a, gray.augmented(16, 4));
        assert_eq!(gray.centre(24).side, 24);
    }

    #[test]
    fn colour_and_tiny_pictures_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let colour = ImageBuffer::from_pixel(20, 20, image::Rgb([1u8, 2, 3]));
        colour.save(dir.path().join("c.png")).expect("png");
        let err = read_gray(&dir.path().join("c.png")).expect_err("colour");
        assert!(format!("{err:#}").contains("c.png"), "{err:#}");
        write_png(dir.path(), "t.png", 4, 4);
        assert!(read_gray(&dir.path().join("t.png")).is_err());
    }

    #[test]
    fn downsampling_and_blur_keep_the_mean_and_constants() {
        let mut rng = StdRng::seed_from_u64(4);
        let fine = Image {
            side: 16,
            pixels: (0..256).map(|_| rng.random::<f64>()).collect(),
        };
        let mean = |i: &Image| i.pixels.iter().sum::<f64>() / i.pixels.len() as f64;
        let small = box_downsample(&fine, 4);
        assert_eq!(small.side, 4);
        assert!((mean(&small) - mean(&fine)).abs() < 1e-12);
        // Block (1, 2) is the mean of rows 4..8, columns 8..12.
        let block: f64 = (4..8)
            .flat_map(|r| (8..12).map(move |c| (r, c)))
            .map(|(r, c)| fine.pixels[r * 16 + c])
            .sum::<f64>()
            / 16.0;
        assert!((small.pixels[4 + 2] - block).abs() < 1e-12);
        let flat = Image {
            side: 8,
            pixels: vec![0.3; 64],
        };
        assert!(
            gaussian_blur(&flat, 1.0)
                .pixels
                .iter()
                .all(|v| (v - 0.3).abs() < 1e-12)
        );
        // A blur spreads a point: the centre drops, a neighbour rises, the interior sum holds.
        let mut point = Image::zeros(16);
        point.pixels[8 * 16 + 8] = 1.0;
        let blurred = gaussian_blur(&point, 1.0);
        assert!(blurred.pixels[8 * 16 + 8] < 0.3 && blurred.pixels[8 * 16 + 9] > 0.05);
        assert!((blurred.pixels.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn phantoms_are_seeded_and_in_range() {
        let a = phantom(32, 7);
        assert_eq!(a, phantom(32, 7));
        assert_ne!(a, phantom(32, 8));
        assert!(a.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        let spread = a.pixels.iter().cloned().fold(0.0, f64::max)
            - a.pixels.iter().cloned().fold(1.0, f64::min);
        assert!(spread > 0.1);
    }
}
