//! The MRI comparison: every method on the same measurements, scored against the truth.
//! - `mri eval`: generated held-out phantoms (seeds no training or validation run uses);
//! - `bench --demo mri [--images DIR] [--model F]`: the TV weight tuned on validation phantoms (printed),
//!   then every method on held-out images (yours, from DIR, resized to 64² and 128²; or
//!   generated phantoms) at 4× and 8× Cartesian sampling.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

use super::classical::{TvSettings, tv_reconstruct};
use super::images::phantom;
use super::images::{MR_CREDIT, MR_EXAMPLES, mr_example, png_paths, resized};
use super::io::decode_image;
use super::methods::{Method, run, worth_in_tv};
use super::metrics::psnr;
use super::model::MriModel;
use super::sim::{Fourier, Image, MaskKind, MeasureConfig};
use super::train::{Example, example, validation_set};
use crate::backend::BackendRequest;
use crate::demos::DemoMethod;
use crate::stored_model;
use crate::training::Stream;

/// Seeds of the held-out test phantoms (training draws below 2^62, validation from 2^62).
const TEST_SEED: u64 = 3 << 62;

#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodScore {
    pub method: String,
    pub accel: f64,
    pub side: usize,
    pub metrics: Scores,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Scores {
    pub psnr: f64,
    pub ssim: f64,
    pub nmse: f64,
    pub seconds: f64,
    /// Each image's PSNR, in input order.
    pub per_image_psnr: Vec<f64>,
    /// Each image's PSNR after every step of its trace (to count what a step is worth).
    #[serde(skip)]
    pub per_image_steps_psnr: Vec<Vec<f64>>,
}

/// Mean scores of `method` over `examples`.
pub fn score_method(
    method: Method,
    examples: &[Example],
    model: Option<&MriModel>,
    device: &Device,
) -> Result<Scores, String> {
    let mut total = Scores::default();
    for e in examples {
        let run = run(method, &e.kspace, &e.mask, Some(&e.truth), model, device)?;
        total.seconds += run.seconds;
        let q = *run.scores.last().ok_or("no estimate")?;
        total
            .per_image_steps_psnr
            .push(run.scores.iter().map(|q| q.psnr).collect());
        total.per_image_psnr.push(q.psnr);
        total.psnr += q.psnr;
        total.ssim += q.ssim;
        total.nmse += q.nmse;
    }
    let n = examples.len().max(1) as f64;
    Ok(Scores {
        psnr: total.psnr / n,
        ssim: total.ssim / n,
        nmse: total.nmse / n,
        seconds: total.seconds / n,
        per_image_psnr: total.per_image_psnr,
        per_image_steps_psnr: total.per_image_steps_psnr,
    })
}

/// Measures each truth at `accel` (Cartesian, noise 0.01, seeded by position).
pub fn measure_all(truths: &[Image], accel: f64, seed: u64) -> Result<Vec<Example>, String> {
    truths
        .iter()
        .enumerate()
        .map(|(i, t)| {
            example(
                t.clone(),
                &Fourier::new(t.side),
                &MeasureConfig {
                    seed: Stream::test(seed + i as u64),
                    ..MeasureConfig::new(MaskKind::Cartesian, accel)
                },
            )
        })
        .collect()
}

/// The learned methods' models: the shipped ones, a given file replacing the one of its kind.
pub struct LearnedModels(Vec<MriModel>);

impl LearnedModels {
    pub fn load(model: Option<&Path>, device: &Device) -> anyhow::Result<Self> {
        let mut models = Method::LEARNED
            .iter()
            .filter_map(|m| m.model(None, device).transpose())
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(path) = model {
            let given: MriModel = stored_model::load_any(path, device)?;
            models.retain(|m| m.config.kind != given.config.kind);
            models.push(given);
        }
        Ok(Self(models))
    }

    pub fn get(&self, method: Method) -> Option<&MriModel> {
        let kind = method.model_kind()?;
        self.0.iter().find(|m| m.config.kind == kind)
    }
}

/// Every method on `truths` at 4× and 8×.
pub fn compare(
    truths: &[Image],
    models: &LearnedModels,
    device: &Device,
) -> Result<Vec<MethodScore>, String> {
    let mut rows = Vec::new();
    for accel in [4.0, 8.0] {
        let examples = measure_all(truths, accel, TEST_SEED)?;
        for method in Method::ALL {
            rows.push(MethodScore {
                method: method.name().to_owned(),
                accel,
                side: truths.first().map_or(0, |t| t.side),
                metrics: score_method(method, &examples, models.get(method), device)?,
            });
        }
    }
    Ok(rows)
}

pub fn eval_cli(model: Option<&Path>, json: bool, backend: BackendRequest) -> anyhow::Result<()> {
    let compute = crate::backend::compute_for(backend);
    let device = compute.device.clone();
    let models = LearnedModels::load(model, &device)?;
    let truths: Vec<Image> = (0..8)
        .map(|i| phantom(64, Stream::test(TEST_SEED + i)))
        .collect();
    let rows = compare(&truths, &models, &device).map_err(anyhow::Error::msg)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"demo": "mri", "test_images": truths.len(), "methods": rows})
        );
    } else {
        print!("{}", table(&rows));
    }
    Ok(())
}

pub fn table(rows: &[MethodScore]) -> String {
    let mut out = String::from("side  accel  method  PSNR dB   SSIM     NMSE      s/image\n");
    for r in rows {
        out.push_str(&format!(
            "{:>4}  {:>4.0}×  {:<6} {:>8.2}  {:>6.4}  {:>8.5}  {:>7.3}\n",
            r.side,
            r.accel,
            r.method,
            r.metrics.psnr,
            r.metrics.ssim,
            r.metrics.nmse,
            r.metrics.seconds
        ));
    }
    out
}

/// What rim-zf's learned steps are worth in TV iterations, at one size and acceleration.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StepsWorth {
    pub side: usize,
    pub accel: f64,
    pub rim_zf_steps: usize,
    pub rim_zf_seconds: f64,
    /// Per image: the TV iterations that first reach rim-zf's final PSNR (`None`: never).
    pub tv_iterations: Vec<Option<usize>>,
    pub tv_iterations_run: Vec<usize>,
    pub tv_seconds: f64,
}

/// For every size and acceleration in `rows`, how many TV iterations reach what rim-zf's
/// steps reach on each image.
pub fn steps_worth(rows: &[MethodScore]) -> Vec<StepsWorth> {
    let find = |name: &str, side: usize, accel: f64| {
        rows.iter()
            .find(|r| r.method == name && r.side == side && r.accel == accel)
    };
    rows.iter()
        .filter(|r| r.method == Method::RimZf.name())
        .filter_map(|zf| {
            let tv = find(Method::Tv.name(), zf.side, zf.accel)?;
            let tv_traces = &tv.metrics.per_image_steps_psnr;
            Some(StepsWorth {
                side: zf.side,
                accel: zf.accel,
                rim_zf_steps: zf.metrics.per_image_steps_psnr.first().map_or(0, Vec::len),
                rim_zf_seconds: zf.metrics.seconds,
                tv_iterations: tv_traces
                    .iter()
                    .zip(&zf.metrics.per_image_steps_psnr)
                    .map(|(tv, zf)| worth_in_tv(zf, tv).and_then(|w| w.tv_iterations))
                    .collect(),
                tv_iterations_run: tv_traces.iter().map(Vec::len).collect(),
                tv_seconds: tv.metrics.seconds,
            })
        })
        .collect()
}

/// One line per size and acceleration: rim-zf's steps against TV's iterations, with times.
pub fn steps_worth_table(worth: &[StepsWorth]) -> String {
    let mut out = String::from(
        "rim-zf's steps in TV iterations (per image: iterations TV needs to reach rim-zf's PSNR)\n",
    );
    for w in worth {
        let mut reached: Vec<usize> = w.tv_iterations.iter().flatten().copied().collect();
        reached.sort_unstable();
        let median = reached.get(reached.len() / 2).copied();
        let mut run = w.tv_iterations_run.clone();
        run.sort_unstable();
        out.push_str(&format!(
            "{:>4}  {:>2.0}×  {} steps ({:.3} s/image) = TV's {} (median; {} of {} images reached; \
             TV runs {} iterations, median, {:.3} s/image)\n",
            w.side,
            w.accel,
            w.rim_zf_steps,
            w.rim_zf_seconds,
            median.map_or("—".to_owned(), |k| k.to_string()),
            reached.len(),
            w.tv_iterations.len(),
            run.get(run.len() / 2).copied().unwrap_or(0),
            w.tv_seconds,
        ));
    }
    out
}

/// Each image's PSNR (dB) by method, one block per size and acceleration, with each learned
/// method's margin over TV.
pub fn per_image_table(rows: &[MethodScore], names: &[&str]) -> String {
    let mut out = String::new();
    let mut blocks: Vec<(usize, u32)> = rows.iter().map(|r| (r.side, r.accel as u32)).collect();
    blocks.dedup();
    for (side, accel) in blocks {
        let block: Vec<&MethodScore> = rows
            .iter()
            .filter(|r| r.side == side && r.accel as u32 == accel)
            .collect();
        out.push_str(&format!(
            "\nper image, {side}² {accel}× (PSNR dB)\n{:<24}",
            "image"
        ));
        for r in &block {
            out.push_str(&format!(" {:>7}", r.method));
        }
        out.push('\n');
        for (i, name) in names.iter().enumerate() {
            out.push_str(&format!("{name:<24}"));
            for r in &block {
                let value = r.metrics.per_image_psnr.get(i).copied().unwrap_or(f64::NAN);
                out.push_str(&format!(" {value:>7.2}"));
            }
            out.push('\n');
        }
    }
    out
}

/// The TV weights tried in tuning.
pub const LAMBDA_GRID: [f64; 11] = [
    0.0002, 0.0003, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.006, 0.008, 0.012,
];

/// Mean validation PSNR of TV for each λ of the grid at `accel` (validation phantoms only).
pub fn tune_tv(side: usize, accel: f64, images: usize) -> Result<Vec<(f64, f64)>, String> {
    let validation: Vec<Example> = validation_set(side, 2 * images, 0.01, 0)?
        .into_iter()
        .filter(|e| (e.mask.acceleration() > 6.0) == (accel > 6.0))
        .collect();
    let fourier = Fourier::new(side);
    Ok(LAMBDA_GRID
        .iter()
        .map(|&lambda| {
            let settings = TvSettings {
                lambda,
                ..TvSettings::tuned_for(accel)
            };
            let mean = validation
                .iter()
                .map(|e| {
                    let trace = tv_reconstruct(&e.kspace, &e.mask, &fourier, &settings);
                    trace
                        .last()
                        .map_or(f64::NEG_INFINITY, |x| psnr(x, &e.truth))
                })
                .sum::<f64>()
                / validation.len().max(1) as f64;
            (lambda, mean)
        })
        .collect())
}

/// The square grayscale PNGs of `dir` (sorted by name), read as `mri reconstruct` reads them.
fn read_dir_images(dir: &Path) -> anyhow::Result<Vec<(String, Image)>> {
    png_paths(dir)?
        .iter()
        .map(|p| {
            let bytes =
                std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, decode_image(&bytes, &p.display().to_string())?))
        })
        .collect()
}

pub fn bench_cli(
    quick: bool,
    out: Option<&Path>,
    images: Option<&Path>,
    model: Option<&Path>,
    backend: BackendRequest,
) -> anyhow::Result<()> {
    let compute = crate::backend::compute_for(backend);
    let device = compute.device.clone();
    let tune_images = if quick { 4 } else { 24 };
    let mut tuning = Vec::new();
    for accel in [4.0, 8.0] {
        let scores = tune_tv(64, accel, tune_images).map_err(anyhow::Error::msg)?;
        println!("TV λ tuning at {accel}× (64², {tune_images} validation phantoms, mean PSNR):");
        for (lambda, p) in &scores {
            println!("  λ {lambda:<7} {p:.2} dB");
        }
        tuning.push((accel, scores));
    }
    let truths: Vec<(String, Image)> = match images {
        Some(dir) => read_dir_images(dir)?,
        None => (0..8)
            .map(|i| {
                (
                    format!("phantom {i}"),
                    phantom(128, Stream::test(TEST_SEED + i)),
                )
            })
            .collect(),
    };
    println!(
        "test images: {}",
        truths
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let models = LearnedModels::load(model, &device)?;
    if let Some(path) = model {
        println!("model: {} in place of the shipped one", path.display());
    }
    let sizes: &[usize] = if quick { &[64] } else { &[64, 128] };
    let mut all = Vec::new();
    for &side in sizes {
        let set: Vec<Image> = truths.iter().map(|(_, t)| resized(t, side)).collect();
        let rows = compare(&set, &models, &device).map_err(anyhow::Error::msg)?;
        print!("{}", table(&rows));
        all.extend(rows);
    }
    let names: Vec<&str> = truths.iter().map(|(n, _)| n.as_str()).collect();
    print!("{}", per_image_table(&all, &names));
    let worth = steps_worth(&all);
    print!("{}", steps_worth_table(&worth));
    // Our own held-out MR slices (never trained or validated on), beside the table above.
    let mr: Vec<(String, Image)> = (0..MR_EXAMPLES.len())
        .map(mr_example)
        .collect::<anyhow::Result<_>>()?;
    let mr_names: Vec<&str> = mr.iter().map(|(n, _)| n.as_str()).collect();
    println!(
        "\nheld-out MR slices of brain-mr ({MR_CREDIT}; never trained or validated on): {}",
        mr_names.join(", ")
    );
    let mut mr_rows = Vec::new();
    for &side in sizes {
        let set: Vec<Image> = mr.iter().map(|(_, t)| resized(t, side)).collect();
        let rows = compare(&set, &models, &device).map_err(anyhow::Error::msg)?;
        print!("{}", table(&rows));
        mr_rows.extend(rows);
    }
    print!("{}", per_image_table(&mr_rows, &mr_names));
    if let Some(path) = out {
        crate::files::write_atomic(
            path,
            serde_json::to_string_pretty(&serde_json::json!({
                "tv_tuning": tuning,
                "test_images": truths.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                "device": compute.label,
                "model": model.map(|p| p.display().to_string()),
                "rim_zf_steps_worth": worth,
                "rows": all,
                "mr_test_images": mr_names,
                "mr_rows": mr_rows,
            }))?
            .as_bytes(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: Method, steps_psnr: Vec<Vec<f64>>, seconds: f64) -> MethodScore {
        MethodScore {
            method: method.name().to_owned(),
            accel: 4.0,
            side: 64,
            metrics: Scores {
                per_image_psnr: steps_psnr.iter().map(|t| t[t.len() - 1]).collect(),
                per_image_steps_psnr: steps_psnr,
                seconds,
                ..Scores::default()
            },
        }
    }

    #[test]
    fn steps_worth_counts_tv_iterations_per_image() {
        let rows = vec![
            row(
                Method::Tv,
                vec![vec![20.0, 25.0, 27.0, 28.0], vec![18.0, 19.0, 20.0]],
                0.2,
            ),
            row(
                Method::RimZf,
                vec![vec![22.0, 26.0], vec![19.0, 21.0]],
                0.05,
            ),
        ];
        let worth = steps_worth(&rows);
        assert_eq!(worth.len(), 1);
        let w = &worth[0];
        // Image 1: TV first reaches 26 dB at its 3rd iteration; image 2 never reaches 21 dB.
        assert_eq!(w.tv_iterations, vec![Some(3), None]);
        assert_eq!(w.tv_iterations_run, vec![4, 3]);
        assert_eq!(
            (w.rim_zf_steps, w.rim_zf_seconds, w.tv_seconds),
            (2, 0.05, 0.2)
        );
        let line = steps_worth_table(&worth);
        assert!(
            line.contains("2 steps (0.050 s/image) = TV's 3 (median; 1 of 2"),
            "{line}"
        );
    }
}
