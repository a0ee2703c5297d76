//! Training images from a folder of grayscale PNGs (photographs, or a researcher's own slices):
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

/// Every tenth file by name (the 10th, 20th, ...) is validation; at least one of each.
pub fn load_folder(dir: &Path) -> anyhow::Result<ImageFolder> {
    let paths = png_paths(dir)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(dir: &Path, name: &str, w: u32, h: u32) {
        let buffer = ImageBuffer::from_fn(w, h, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]));
        buffer.save(dir.join(name)).expect("png");
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
}
