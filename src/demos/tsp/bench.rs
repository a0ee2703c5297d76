//! Measured tour lengths: `tsp eval` and the acceptance benchmark `bench --demo tsp` (every
//! method on fresh random instances of 20, 50 and 100 cities, gaps to the optimum, and the
//! shipped TSPLIB instances against their proven optima).
//!
//! The optimum: Held–Karp (ours, exact) up to 20 cities; above, LKH-3's tour (the `elkai`
//! package, an independent solver, run by `scripts/tsp_reference.py` on the instances this
//! benchmark writes to `target/tsp-bench/`) when its file is there, else the best tour any
//! method here found (then the gaps are said to be to that, not to the optimum).

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use rayon::prelude::*;

use super::classical;
use super::methods::{
    AmDecoding, LearnedModel, Method, best_rollouts, gap_percent, improve_candidates,
    rollout_candidates, solve,
};
use super::sim::{self, Instance};
use crate::demos::DemoMethod;
use crate::training::Stream;

/// Seeds of held-out instances: no training or validation run uses them.
const TEST_SEED: u64 = 0x7E57_0000;

#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodResult {
    pub method: String,
    pub mean_length: f64,
    /// Mean of per-instance gaps, percent.
    pub mean_gap: f64,
    /// Mean seconds per instance.
    pub seconds: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SizeReport {
    pub n: usize,
    pub instances: usize,
    /// What the gaps are measured against.
    pub reference: String,
    pub mean_reference: f64,
    /// Up to 20 cities, when the independent solver's file is there: how often its tours are as
    /// short as Held–Karp's optimum (a check of both).
    pub independent_check: Option<String>,
    pub methods: Vec<MethodResult>,
}

/// The fresh test instances of n cities.
pub fn test_instances(n: usize, count: usize, seed: u64) -> Vec<Instance> {
    (0..count)
        .map(|i| {
            Instance::random(
                n,
                Stream::test(
                    TEST_SEED
                        ^ seed
                            .wrapping_mul(7_919)
                            .wrapping_add((n * 1_000_003 + i) as u64),
                ),
            )
        })
        .collect()
}

/// Where the benchmark writes its instances of n cities (for an independent solver).
pub fn instances_path(n: usize) -> PathBuf {
    PathBuf::from(format!("target/tsp-bench/random-{n}.json"))
}

/// Where the independent solver's lengths of those instances are read from.
pub fn reference_path(n: usize) -> PathBuf {
    PathBuf::from(format!("docs/tsp-lkh-{n}.json"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct InstanceFile {
    n: usize,
    /// Per instance, n [x, y].
    coords: Vec<Vec<[f64; 2]>>,
}

#[derive(serde::Deserialize)]
struct ReferenceFile {
    n: usize,
    solver: String,
    /// The first coordinate of every instance, to check they are these instances.
    first: Vec<[f64; 2]>,
    lengths: Vec<f64>,
}

fn write_instances(path: &Path, instances: &[Instance]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = InstanceFile {
        n: instances.first().map_or(0, Instance::len),
        coords: instances.iter().map(|i| i.coords.clone()).collect(),
    };
    crate::files::write_atomic(path, serde_json::to_string(&file)?.as_bytes())
}

/// The independent solver's lengths, if its file is for exactly these instances.
fn read_reference(path: &Path, instances: &[Instance]) -> Option<(String, Vec<f64>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let file: ReferenceFile = serde_json::from_str(&text).ok()?;
    let same = file.n == instances.first()?.len()
        && file.lengths.len() == instances.len()
        && file.first.len() == instances.len()
        && file.first.iter().zip(instances).all(|(c, i)| {
            (c[0] - i.coords[0][0]).abs() < 1e-9 && (c[1] - i.coords[0][1]).abs() < 1e-9
        });
    same.then_some((file.solver, file.lengths))
}

fn lengths_of(instances: &[Instance], tours: &[Vec<usize>]) -> Vec<f64> {
    tours
        .iter()
        .zip(instances)
        .map(|(t, i)| i.tour_length(t))
        .collect()
}

/// Lengths of every method (and the single-start greedy model) on `instances`.
fn measure(
    learned: Option<&LearnedModel>,
    instances: &[Instance],
    device: &Device,
) -> anyhow::Result<Vec<(String, Vec<f64>, f64)>> {
    let n = instances.first().map_or(0, Instance::len);
    let mut rows = Vec::new();
    for method in [Method::Nn, Method::Insertion, Method::TwoOpt] {
        let started = Instant::now();
        let lengths: Vec<f64> = instances
            .par_iter()
            .map(|i| solve(method, i, None, AmDecoding::single(), device).map(|s| s.length))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?;
        rows.push((
            method.name().to_owned(),
            lengths,
            started.elapsed().as_secs_f64(),
        ));
    }
    if let Some(model) = learned {
        let refs: Vec<&Instance> = instances.iter().collect();
        let started = Instant::now();
        let single = best_rollouts(model, &refs, AmDecoding::single(), device);
        rows.push((
            "am (single start, greedy)".to_owned(),
            lengths_of(instances, &single),
            started.elapsed().as_secs_f64(),
        ));
        let started = Instant::now();
        let candidates = rollout_candidates(model, &refs, AmDecoding::multi_start(n), device);
        let decoding_secs = started.elapsed().as_secs_f64();
        let best: Vec<f64> = candidates
            .iter()
            .zip(instances)
            .map(|(c, i)| {
                c.iter()
                    .map(|t| i.tour_length(t))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        rows.push(("am".to_owned(), best, decoding_secs));
        let started = Instant::now();
        let improved: Vec<f64> = candidates
            .into_par_iter()
            .zip(instances)
            .map(|(c, i)| i.tour_length(&improve_candidates(i, c).2))
            .collect();
        rows.push((
            "am+2opt".to_owned(),
            improved,
            decoding_secs + started.elapsed().as_secs_f64(),
        ));
    }
    Ok(rows)
}

/// Every method on `count` random instances of n cities.
pub fn measure_size(
    learned: Option<&LearnedModel>,
    n: usize,
    count: usize,
    seed: u64,
    device: &Device,
) -> anyhow::Result<SizeReport> {
    let instances = test_instances(n, count, seed);
    let rows = measure(learned, &instances, device)?;
    let independent = read_reference(&reference_path(n), &instances);
    let mut independent_check = None;
    let (reference, lengths) = if n <= classical::EXACT_MAX {
        let opt: Vec<f64> = instances
            .par_iter()
            .map(|i| classical::held_karp(i).map(|t| i.tour_length(&t)))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?;
        if let Some((solver, theirs)) = &independent {
            let equal = opt
                .iter()
                .zip(theirs)
                .filter(|(a, b)| (*a - *b).abs() <= 1e-6 * a.abs().max(1.0))
                .count();
            let worst = opt
                .iter()
                .zip(theirs)
                .map(|(a, b)| b - a)
                .fold(f64::NEG_INFINITY, f64::max);
            independent_check = Some(format!(
                "{solver}: as short as Held–Karp on {equal} of {count} instances (largest excess \
                 {worst:.2e}; never shorter: {})",
                opt.iter()
                    .zip(theirs)
                    .all(|(a, b)| *b >= a - 1e-6 * a.abs().max(1.0))
            ));
        }
        ("optimum (Held–Karp, ours)".to_owned(), opt)
    } else {
        match independent {
            Some((solver, lengths)) => (format!("{solver} (independent)"), lengths),
            None => {
                let best: Vec<f64> = (0..count)
                    .map(|k| rows.iter().map(|r| r.1[k]).fold(f64::INFINITY, f64::min))
                    .collect();
                (
                    "best tour found here (no independent solver's file; not the optimum)"
                        .to_owned(),
                    best,
                )
            }
        }
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let methods = rows
        .into_iter()
        .map(|(method, l, seconds)| MethodResult {
            mean_gap: mean(
                &l.iter()
                    .zip(&lengths)
                    .map(|(a, r)| gap_percent(*a, *r))
                    .collect::<Vec<_>>(),
            ),
            mean_length: mean(&l),
            seconds: seconds / count.max(1) as f64,
            method,
        })
        .collect();
    Ok(SizeReport {
        n,
        instances: count,
        reference,
        mean_reference: mean(&lengths),
        independent_check,
        methods,
    })
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TsplibRow {
    pub instance: String,
    pub optimum: f64,
    pub method: String,
    pub length: f64,
    pub gap: f64,
    pub valid: bool,
    pub seconds: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct AcceptanceReport {
    pub sizes: Vec<SizeReport>,
    pub tsplib: Vec<TsplibRow>,
}

impl SizeReport {
    fn table(&self) -> String {
        let mut text = format!(
            "n = {}, {} instances, gaps to {} (mean {:.4})\n| method | mean length | mean gap % | s per instance |\n|---|---|---|---|\n",
            self.n, self.instances, self.reference, self.mean_reference
        );
        if let Some(check) = &self.independent_check {
            text += &format!("(check: {check})\n");
        }
        for m in &self.methods {
            text += &format!(
                "| {} | {:.4} | {:.3} | {:.2e} |\n",
                m.method, m.mean_length, m.mean_gap, m.seconds
            );
        }
        text
    }
}

impl AcceptanceReport {
    pub fn table(&self) -> String {
        let mut text = String::new();
        for s in &self.sizes {
            text += &s.table();
            text += "\n";
        }
        text += "| TSPLIB | optimum | method | length | gap % | valid | s |\n|---|---|---|---|---|---|---|\n";
        for r in &self.tsplib {
            text += &format!(
                "| {} | {} | {} | {} | {:.2} | {} | {:.3} |\n",
                r.instance, r.optimum, r.method, r.length, r.gap, r.valid, r.seconds
            );
        }
        text
    }
}

/// `bench --demo tsp`.
pub fn run_acceptance(quick: bool, seed: u64, device: &Device) -> anyhow::Result<AcceptanceReport> {
    let count = if quick { 50 } else { 1000 };
    const SIZES: [usize; 3] = [20, 50, 100];
    // First, for the independent solver (scripts/tsp_reference.py).
    for n in SIZES {
        write_instances(&instances_path(n), &test_instances(n, count, seed))?;
    }
    let mut sizes = Vec::new();
    for n in SIZES {
        let learned = super::model::shipped_for(n, device).ok();
        let report = measure_size(learned.as_ref(), n, count, seed, device)?;
        eprint!("{}", report.table());
        sizes.push(report);
    }
    let mut tsplib = Vec::new();
    for name in sim::SHIPPED {
        let Some((instance, optimum)) = sim::shipped(name) else {
            continue;
        };
        let learned = super::model::shipped_for(instance.len(), device).ok();
        for method in Method::ALL {
            if method == Method::Exact || (method.is_learned() && learned.is_none()) {
                continue;
            }
            let started = Instant::now();
            let decoding = AmDecoding::multi_start(instance.len());
            let solution = solve(method, &instance, learned.as_ref(), decoding, device)
                .map_err(anyhow::Error::msg)?;
            tsplib.push(TsplibRow {
                instance: name.to_owned(),
                optimum,
                method: method.name().to_owned(),
                length: solution.length,
                gap: gap_percent(solution.length, optimum),
                valid: sim::is_permutation(&solution.tour, instance.len()),
                seconds: started.elapsed().as_secs_f64(),
            });
        }
    }
    Ok(AcceptanceReport { sizes, tsplib })
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalReport {
    pub demo: &'static str,
    pub n: usize,
    pub instances: usize,
    pub reference: String,
    pub methods: Vec<EvalMethod>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalMethod {
    pub method: String,
    pub metrics: EvalMetrics,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalMetrics {
    pub length: f64,
    pub gap: f64,
    pub seconds: f64,
}

impl EvalReport {
    pub fn table(&self) -> String {
        let mut text = format!(
            "n = {}, {} instances, gaps to {}\n",
            self.n, self.instances, self.reference
        );
        for m in &self.methods {
            text += &format!(
                "{:<28} length {:.4}   gap {:.3}%   {:.4} s\n",
                m.method, m.metrics.length, m.metrics.gap, m.metrics.seconds
            );
        }
        text
    }
}

/// `tsp eval`: every method on held-out random instances of n cities.
pub fn evaluate(
    learned: &LearnedModel,
    n: usize,
    count: usize,
    seed: u64,
    device: &Device,
) -> anyhow::Result<EvalReport> {
    let report = measure_size(Some(learned), n, count, seed.wrapping_add(1), device)?;
    Ok(EvalReport {
        demo: "tsp",
        n,
        instances: count,
        reference: report.reference,
        methods: report
            .methods
            .into_iter()
            .map(|m| EvalMethod {
                method: m.method,
                metrics: EvalMetrics {
                    length: m.mean_length,
                    gap: m.mean_gap,
                    seconds: m.seconds,
                },
            })
            .collect(),
    })
}
