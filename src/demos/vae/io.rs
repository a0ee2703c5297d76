//! The demo's files: images as CSV (784 values in [0, 1] a line, no header), a PNG digit, the
//! inferred q as CSV, and the decoder as NumPy arrays (`.npz`) for outside checks.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use super::classical::Gaussians;
use super::model::VaeModel;
use super::sim::{PIXELS, SIDE};

/// Images from CSV text: one a line, 784 comma-separated values in [0, 1]; an error names the
/// line and field at fault.
pub fn parse_images(text: &str, origin: &str) -> anyhow::Result<Vec<Vec<f32>>> {
    let mut images = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != PIXELS {
            bail!(
                "{origin}: line {line_no} has {} values, not {PIXELS} (one 28×28 image a line)",
                fields.len()
            );
        }
        let mut pixels = Vec::with_capacity(PIXELS);
        for (f, field) in fields.iter().enumerate() {
            let value: f32 = field.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "{origin}: line {line_no}, field {}: {field:?} is not a number",
                    f + 1
                )
            })?;
            if !(0.0..=1.0).contains(&value) {
                bail!(
                    "{origin}: line {line_no}, field {}: {value} is outside [0, 1]",
                    f + 1
                );
            }
            pixels.push(value);
        }
        images.push(pixels);
    }
    if images.is_empty() {
        bail!("{origin}: no images (one line of {PIXELS} values in [0, 1] per image)");
    }
    Ok(images)
}

pub fn read_images(path: &Path) -> anyhow::Result<Vec<Vec<f32>>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{origin}: cannot read"))?;
    parse_images(&text, &origin)
}

/// Images as CSV text (the format `parse_images` reads).
pub fn images_csv(images: &[Vec<f32>]) -> String {
    images
        .iter()
        .map(|image| {
            let values: Vec<String> = image.iter().map(f32::to_string).collect();
            values.join(",") + "\n"
        })
        .collect()
}

/// A digit from a PNG: grey, resized to 28×28, white on black (a dark-on-light scan is
/// inverted, judged by its border).
pub fn read_png(path: &Path) -> anyhow::Result<Vec<f32>> {
    let origin = path.display().to_string();
    let image = image::open(path)
        .with_context(|| format!("{origin}: not an image this app reads (PNG)"))?
        .to_luma8();
    if image.width() == 0 || image.height() == 0 {
        bail!("{origin}: the image is empty");
    }
    let small = image::imageops::resize(
        &image,
        SIDE as u32,
        SIDE as u32,
        image::imageops::FilterType::Triangle,
    );
    let mut pixels: Vec<f32> = small.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let border: Vec<f32> = (0..SIDE)
        .flat_map(|i| [i, (SIDE - 1) * SIDE + i, i * SIDE, i * SIDE + SIDE - 1])
        .map(|i| pixels[i])
        .collect();
    if border.iter().sum::<f32>() / border.len() as f32 > 0.5 {
        for p in &mut pixels {
            *p = 1.0 - *p;
        }
    }
    Ok(pixels)
}

/// `q.csv`: `image,mu_1..,log_sigma_1..,elbo,log_px`, a row per image.
pub fn q_csv(q: &Gaussians, elbo: &[f64], log_px: &[f64]) -> String {
    let latent = q.latent();
    let mut headers = vec!["image".to_owned()];
    headers.extend((1..=latent).map(|d| format!("mu_{d}")));
    headers.extend((1..=latent).map(|d| format!("log_sigma_{d}")));
    headers.extend(["elbo".to_owned(), "log_px".to_owned()]);
    let rows: Vec<Vec<f64>> = (0..q.len())
        .map(|n| {
            let mut row = vec![n as f64];
            row.extend(q.mu[n].iter().map(|&v| f64::from(v)));
            row.extend(q.log_sigma[n].iter().map(|&v| f64::from(v)));
            row.extend([elbo[n], log_px[n]]);
            row
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    crate::csv_table::to_csv_text(&headers, &rows)
}

fn npy_f32(values: &[f32], shape: &[u64]) -> anyhow::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let mut bytes = Vec::new();
    let mut writer = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut bytes)
        .begin_nd()?;
    writer.extend(values.iter().copied())?;
    writer.finish()?;
    Ok(bytes)
}

fn npy_strings(values: &[&str]) -> anyhow::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let width = values.iter().map(|v| v.chars().count()).max().unwrap_or(1);
    let type_str: npyz::TypeStr = format!("<U{width}").parse()?;
    let mut bytes = Vec::new();
    let mut writer = npyz::WriteOptions::<String>::new()
        .dtype(npyz::DType::Plain(type_str))
        .shape(&[values.len() as u64])
        .writer(&mut bytes)
        .begin_nd()?;
    writer.extend(values.iter().map(|v| (*v).to_owned()))?;
    writer.finish()?;
    Ok(bytes)
}

fn npy_i64_scalar(value: i64) -> anyhow::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let mut bytes = Vec::new();
    let mut writer = npyz::WriteOptions::<i64>::new()
        .default_dtype()
        .shape(&[])
        .writer(&mut bytes)
        .begin_nd()?;
    writer.push(&value)?;
    writer.finish()?;
    Ok(bytes)
}

/// The decoder as `.npz` bytes: `W0, b0, W1, b1, …` (float32, `Wi` of shape (inputs, outputs),
/// applied as `h @ Wi + bi`), `activations` (after each layer but the last) and `latent`.
pub fn decoder_npz(model: &VaeModel) -> anyhow::Result<Vec<u8>> {
    let layers = model.net.decoder().arrays();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (i, (weight, dims, bias)) in layers.iter().enumerate() {
        zip.start_file(format!("W{i}.npy"), options)?;
        zip.write_all(&npy_f32(weight, &[dims[0] as u64, dims[1] as u64])?)?;
        zip.start_file(format!("b{i}.npy"), options)?;
        zip.write_all(&npy_f32(bias, &[bias.len() as u64])?)?;
    }
    let activations = vec!["tanh"; layers.len().saturating_sub(1)];
    zip.start_file("activations.npy", options)?;
    zip.write_all(&npy_strings(&activations)?)?;
    zip.start_file("latent.npy", options)?;
    zip.write_all(&npy_i64_scalar(model.config.latent as i64)?)?;
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(values: &[&str]) -> String {
        values.join(",")
    }

    #[test]
    fn images_round_trip_and_bad_lines_are_named() {
        let images = vec![vec![0.25f32; PIXELS], vec![1.0; PIXELS]];
        let back = parse_images(&images_csv(&images), "x.csv").expect("reads");
        assert_eq!(back, images);
        let short = line(&["0.5"; 10]);
        let err = format!("{:#}", parse_images(&short, "x.csv").expect_err("short"));
        assert!(err.contains("line 1") && err.contains("10 values"), "{err}");
        let mut fields = vec!["0"; PIXELS];
        fields[6] = "1.5";
        let err = format!(
            "{:#}",
            parse_images(
                &format!("{}\n{}", line(&["0"; PIXELS]), line(&fields)),
                "x.csv"
            )
            .expect_err("range")
        );
        assert!(
            err.contains("line 2, field 7") && err.contains("outside"),
            "{err}"
        );
        fields[6] = "NaN";
        let err = format!(
            "{:#}",
            parse_images(&line(&fields), "x.csv").expect_err("nan")
        );
        assert!(err.contains("field 7"), "{err}");
        fields[6] = "abc";
        assert!(parse_images(&line(&fields), "x.csv").is_err());
        assert!(parse_images("\n\n", "x.csv").is_err());
    }

    #[test]
    fn the_q_table_has_the_contract_header() {
        let q = Gaussians {
            mu: vec![vec![0.5, -1.0]],
            log_sigma: vec![vec![-2.0, -2.5]],
        };
        let text = q_csv(&q, &[-100.5], &[-99.0]);
        assert_eq!(
            text,
            "image,mu_1,mu_2,log_sigma_1,log_sigma_2,elbo,log_px\n0,0.5,-1,-2,-2.5,-100.5,-99\n"
        );
    }

    #[test]
    fn the_decoder_archive_holds_every_array() {
        let model = VaeModel {
            net: super::super::model::VaeNet::new(
                &super::super::model::VaeConfig {
                    latent: 2,
                    hidden: 8,
                    refiner_hidden: 4,
                },
                &burn::tensor::Device::flex(),
            ),
            config: super::super::model::VaeConfig {
                latent: 2,
                hidden: 8,
                refiner_hidden: 4,
            },
        };
        let bytes = decoder_npz(&model).expect("npz");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "W0.npy",
                "W1.npy",
                "W2.npy",
                "activations.npy",
                "b0.npy",
                "b1.npy",
                "b2.npy",
                "latent.npy"
            ]
        );
        let mut w2 = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_name("W2.npy").expect("W2"), &mut w2)
            .expect("read");
        let npy = npyz::NpyFile::new(&w2[..]).expect("npy");
        assert_eq!(npy.shape(), &[8, PIXELS as u64]);
    }
}
