//! The MRI demo's files: grayscale PNG images and masks, and k-space as NumPy `.npy`
//! (complex64 or complex128, H×W, C order, centred orthonormal DFT). Every error names the
//! file and what is wrong with it.

use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, bail};
use image::{DynamicImage, ImageBuffer, Luma};
use rustfft::num_complex::Complex64;

use super::sim::{Image, MAX_SIDE, MIN_SIDE, Mask};
use crate::files::write_atomic;
use crate::npy::{decode_complex, encode_complex};

fn check_side(width: u32, height: u32, origin: &str) -> anyhow::Result<usize> {
    if width == 0 || height == 0 {
        bail!("{origin}: the image is empty ({width}×{height})");
    }
    if width != height {
        bail!("{origin}: the image is {width}×{height}; the MRI demo needs a square image");
    }
    let side = width as usize;
    if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
        bail!("{origin}: side {side} is outside {MIN_SIDE}..={MAX_SIDE} pixels");
    }
    Ok(side)
}

/// A grayscale PNG as values in [0, 1]: 8-bit as value/255, 16-bit as value/65535.
pub fn decode_image(bytes: &[u8], origin: &str) -> anyhow::Result<Image> {
    let decoded = image::load_from_memory(bytes)
        .with_context(|| format!("{origin}: not a readable image"))?;
    let side = check_side(decoded.width(), decoded.height(), origin)?;
    let pixels: Vec<f64> = match decoded {
        DynamicImage::ImageLuma8(img) => img.pixels().map(|p| f64::from(p[0]) / 255.0).collect(),
        DynamicImage::ImageLuma16(img) => img.pixels().map(|p| f64::from(p[0]) / 65535.0).collect(),
        other => bail!(
            "{origin}: the image is {:?}; the MRI demo reads 8- or 16-bit grayscale PNG only \
             (convert it first, e.g. with `magick in.png -colorspace Gray out.png`)",
            other.color()
        ),
    };
    Ok(Image { side, pixels })
}

pub fn read_image(path: &Path) -> anyhow::Result<Image> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{origin}: cannot read"))?;
    decode_image(&bytes, &origin)
}

/// A 16-bit grayscale PNG (value·65535, clipped to [0, 1]), written atomically.
pub fn encode_image(image: &Image) -> anyhow::Result<Vec<u8>> {
    let side = image.side as u32;
    let buffer: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(side, side, |c, r| {
        let v = image.pixels[(r * side + c) as usize];
        Luma([(v.clamp(0.0, 1.0) * 65535.0).round() as u16])
    });
    let mut bytes = Vec::new();
    DynamicImage::ImageLuma16(buffer)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .context("encoding PNG")?;
    Ok(bytes)
}

pub fn write_image(path: &Path, image: &Image) -> anyhow::Result<()> {
    write_atomic(path, &encode_image(image)?)
}

/// A mask as an 8-bit PNG: 255 where sampled, 0 elsewhere.
pub fn write_mask(path: &Path, mask: &Mask) -> anyhow::Result<()> {
    let side = mask.side as u32;
    let buffer: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_fn(side, side, |c, r| {
        Luma([if mask.sampled[(r * side + c) as usize] {
            255
        } else {
            0
        }])
    });
    let mut bytes = Vec::new();
    DynamicImage::ImageLuma8(buffer)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .context("encoding PNG")?;
    write_atomic(path, &bytes)
}

/// A mask PNG: any pixel above half range counts as sampled.
pub fn read_mask(path: &Path) -> anyhow::Result<Mask> {
    let image = read_image(path)?;
    Ok(Mask {
        side: image.side,
        sampled: image.pixels.iter().map(|&v| v > 0.5).collect(),
    })
}

/// k-space from `.npy` bytes: complex64 or complex128, 2-D, square, C order, finite.
pub fn decode_kspace(bytes: &[u8], origin: &str) -> anyhow::Result<(usize, Vec<Complex64>)> {
    let (shape, values) = decode_complex(bytes, origin, "k-space")?;
    if shape.len() != 2 {
        bail!("{origin}: k-space must be a 2-D array (H×W); this one has shape {shape:?}");
    }
    let (h, w) = (shape[0], shape[1]);
    if h != w {
        bail!("{origin}: k-space is {h}×{w}; the MRI demo needs a square k-space");
    }
    if !(MIN_SIDE..=MAX_SIDE).contains(&h) {
        bail!("{origin}: side {h} is outside {MIN_SIDE}..={MAX_SIDE}");
    }
    Ok((h, values))
}

pub fn read_kspace(path: &Path) -> anyhow::Result<(usize, Vec<Complex64>)> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{origin}: cannot read"))?;
    decode_kspace(&bytes, &origin)
}

/// k-space as `.npy` bytes of complex64 (`wide`: complex128).
pub fn encode_kspace(side: usize, values: &[Complex64], wide: bool) -> anyhow::Result<Vec<u8>> {
    encode_complex(&[side, side], values, wide)
}

/// Writes k-space as complex64 `.npy`, atomically.
pub fn write_kspace(path: &Path, side: usize, values: &[Complex64]) -> anyhow::Result<()> {
    write_atomic(path, &encode_kspace(side, values, false)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(side: usize) -> Vec<Complex64> {
        (0..side * side)
            .map(|i| Complex64::new(i as f64 * 0.25 - 3.0, 1.0 / (i as f64 + 1.0)))
            .collect()
    }

    #[test]
    fn npy_round_trips_complex64_and_complex128() {
        let values = sample(8);
        for wide in [false, true] {
            let bytes = encode_kspace(8, &values, wide).expect("encode");
            // The header names numpy's dtype.
            let header = String::from_utf8_lossy(&bytes[..64]).to_string();
            assert!(
                header.contains(if wide { "<c16" } else { "<c8" }),
                "{header}"
            );
            let (side, back) = decode_kspace(&bytes, "test").expect("decode");
            assert_eq!(side, 8);
            let tol = if wide { 0.0 } else { 1e-6 };
            assert!(
                values
                    .iter()
                    .zip(&back)
                    .all(|(a, b)| (a - b).norm() <= tol * a.norm().max(1.0))
            );
        }
    }

    #[test]
    fn bad_kspace_files_are_refused_with_a_reason() {
        let err =
            |bytes: &[u8]| format!("{:#}", decode_kspace(bytes, "y.npy").expect_err("refused"));
        assert!(err(b"not numpy").contains("not a NumPy"));
        // Wrong dtype: float64.
        let mut floats = Vec::new();
        {
            use npyz::WriterBuilder;
            let mut w = npyz::WriteOptions::<f64>::new()
                .default_dtype()
                .shape(&[8, 8])
                .writer(&mut floats)
                .begin_nd()
                .expect("writer");
            w.extend((0..64).map(f64::from)).expect("write");
            w.finish().expect("finish");
        }
        assert!(err(&floats).contains("complex64 or complex128"));
        // Not square.
        let rect =
            crate::npy::encode_complex(&[8, 16], &vec![Complex64::new(1.0, 0.0); 128], false)
                .expect("encode");
        assert!(err(&rect).contains("8×16"));
        // NaN.
        let mut values = sample(8);
        values[10].re = f64::NAN;
        let bytes = encode_kspace(8, &values, true).expect("encode");
        assert!(err(&bytes).contains("[1, 2]"));
        // Truncated.
        let good = encode_kspace(8, &sample(8), true).expect("encode");
        assert!(decode_kspace(&good[..good.len() - 10], "y.npy").is_err());
    }

    #[test]
    fn images_round_trip_and_bad_images_are_refused() {
        let img = Image {
            side: 16,
            pixels: (0..256).map(|i| i as f64 / 255.0).collect(),
        };
        let bytes = encode_image(&img).expect("encode");
        let back = decode_image(&bytes, "x.png").expect("decode");
        assert!(
            img.pixels
                .iter()
                .zip(&back.pixels)
                .all(|(a, b)| (a - b).abs() < 1e-5)
        );
        let err =
            |bytes: &[u8]| format!("{:#}", decode_image(bytes, "x.png").expect_err("refused"));
        assert!(err(b"").contains("not a readable image"));
        let encode = |img: DynamicImage| {
            let mut out = Vec::new();
            img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
                .expect("png");
            out
        };
        let rgb = encode(DynamicImage::new_rgb8(16, 16));
        assert!(err(&rgb).contains("grayscale"));
        let wide = encode(DynamicImage::new_luma8(16, 8));
        assert!(err(&wide).contains("square"));
        let huge = encode(DynamicImage::new_luma8(2048, 2048));
        assert!(err(&huge).contains("outside"));
        // 8-bit reads as value/255.
        let mut gray = image::GrayImage::new(8, 8);
        gray.put_pixel(1, 0, Luma([51]));
        let back = decode_image(&encode(DynamicImage::ImageLuma8(gray)), "x.png").expect("8-bit");
        assert!((back.pixels[1] - 0.2).abs() < 1e-12);
    }
}
