//! `inference-lab bench --demo lorenz`: the paper's sweep over the number of training samples.
//! For each size, the GNN-only and the hybrid model are trained on that many simulated time
//! steps; the smoothers' process noise is tuned on the validation trajectory; everything is
//! scored on one held-out test trajectory that no run trains or tunes on.

use std::time::Instant;

use burn::tensor::Device;

use super::methods::{
    ClassicalMethod, ClassicalSettings, Method, mse, oracle_smoother, run_classical,
};
use super::model::{ChainModel, ChainModelConfig};
use super::sim::{SimConfig, Trajectory, simulate};
use super::train::{TrainConfig, datasets, evaluate, train};
use crate::demos::DemoMethod;
use crate::jobs::{JobContext, JobError};
use crate::stored_model;
use crate::training::Stream;
use crate::training::TrainJob;

/// One row of the sweep.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepPoint {
    pub train_samples: usize,
    pub eks_mse: f64,
    /// The EKS's Taylor order and process noise, tuned on validation data.
    pub eks_order: usize,
    pub eks_process_std: f64,
    pub uks_mse: f64,
    pub gnn_mse: f64,
    pub hybrid_mse: f64,
    pub gnn_train_secs: f64,
    pub hybrid_train_secs: f64,
    pub train_steps: u64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sweep {
    pub test_steps: usize,
    /// The Taylor order of the hybrid's model messages.
    pub hybrid_taylor_order: usize,
    pub oracle_mse: f64,
    pub points: Vec<SweepPoint>,
    pub device: String,
}

/// The held-out test trajectory (seed 2, never used by training or tuning seeds).
pub fn test_trajectory(steps: usize) -> Result<Trajectory, String> {
    simulate(&SimConfig {
        steps,
        seed: Stream::test(2),
        ..SimConfig::default()
    })
}

/// Process-noise grid for tuning the smoothers.
const PROCESS_STD_GRID: [f64; 9] = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0];

fn smoother_mse(method: ClassicalMethod, q: f64, order: usize, tr: &Trajectory) -> f64 {
    let settings = ClassicalSettings {
        taylor_order: order,
        process_std: q,
        obs_std: 0.5,
    };
    run_classical(method, &tr.t, &tr.observations, &settings)
        .map_or(f64::INFINITY, |e| mse(&e, &tr.states))
}

/// The Taylor order J (1..=5) and process noise with the lowest validation MSE: the best
/// Taylor-model smoother, chosen without seeing the test data.
fn tune(method: ClassicalMethod, validation: &Trajectory) -> (usize, f64) {
    (1..=5)
        .flat_map(|order| PROCESS_STD_GRID.iter().map(move |&q| (order, q)))
        .map(|(order, q)| ((order, q), smoother_mse(method, q, order, validation)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or((2, 3.0), |(best, _)| best)
}

/// Training steps for a given data size: more data, more steps (bounded for the CPU).
pub fn steps_for(train_samples: usize, quick: bool) -> u64 {
    let steps = (300 + train_samples / 4).min(2000) as u64;
    if quick { steps.min(300) } else { steps }
}

/// Runs the sweep; `sizes` in time steps.
pub fn run_sweep(
    ctx: &JobContext,
    sizes: &[usize],
    quick: bool,
    device: &Device,
    device_label: &str,
) -> Result<Sweep, JobError> {
    let test = test_trajectory(4000).map_err(JobError::Failed)?;
    let oracle = mse(&oracle_smoother(&test, 0.5, 10)?, &test.states);
    let mut points = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        ctx.check_cancelled()?;
        ctx.set_message(format!("{size} training samples"));
        let mut point = SweepPoint {
            train_samples: size,
            eks_mse: f64::NAN,
            eks_order: 0,
            eks_process_std: f64::NAN,
            uks_mse: f64::NAN,
            gnn_mse: f64::NAN,
            hybrid_mse: f64::NAN,
            gnn_train_secs: f64::NAN,
            hybrid_train_secs: f64::NAN,
            train_steps: steps_for(size, quick),
        };
        for model in [ChainModelConfig::gnn_only(), ChainModelConfig::hybrid()] {
            let mut config = TrainConfig::new(model, size);
            config.window = config.window.min(size);
            config.schedule.max_steps = point.train_steps;
            config.schedule.validate_every = 50;
            let started = Instant::now();
            let trained = train(TrainJob::new(ctx, device), &config)?;
            let test_mse = evaluate(&trained.model, &test, device);
            let secs = started.elapsed().as_secs_f64();
            if config.model.use_prior {
                (point.hybrid_mse, point.hybrid_train_secs) = (test_mse, secs);
            } else {
                (point.gnn_mse, point.gnn_train_secs) = (test_mse, secs);
            }
            // The smoothers are tuned on the same validation trajectory the models were chosen on.
            if point.eks_mse.is_nan() {
                let (_, validation) = datasets(&config).map_err(JobError::Failed)?;
                let (j, q) = tune(ClassicalMethod::Eks, &validation);
                (point.eks_order, point.eks_process_std) = (j, q);
                point.eks_mse = smoother_mse(ClassicalMethod::Eks, q, j, &test);
                let (j, q) = tune(ClassicalMethod::Uks, &validation);
                point.uks_mse = smoother_mse(ClassicalMethod::Uks, q, j, &test);
            }
        }
        points.push(point);
        ctx.report_fraction((i + 1) as f32 / sizes.len() as f32);
    }
    Ok(Sweep {
        test_steps: test.t.len(),
        hybrid_taylor_order: ChainModelConfig::hybrid().taylor_order,
        oracle_mse: oracle,
        points,
        device: device_label.to_owned(),
    })
}

/// The sizes of the sweep (time steps of training data), after the paper's.
pub fn sweep_sizes(quick: bool) -> Vec<usize> {
    if quick {
        vec![20, 200, 2000]
    } else {
        // The paper's sizes (time steps of training data).
        vec![
            20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
        ]
    }
}

/// A human-readable table of a sweep.
pub fn table(sweep: &Sweep) -> String {
    let mut out = format!(
        "Lorenz, test trajectory of {} steps; hybrid messages from Taylor J={}; oracle EKS (exact dynamics) MSE {:.4}; device {}\n",
        sweep.test_steps, sweep.hybrid_taylor_order, sweep.oracle_mse, sweep.device
    );
    out.push_str("train samples   best EKS MSE (J, q)   best UKS MSE   GNN MSE   hybrid MSE   steps   train s (gnn, hybrid)\n");
    for p in &sweep.points {
        out.push_str(&format!(
            "{:>13}   {:.4} ({}, {:.1})      {:.4}         {:.4}    {:.4}       {:>5}   {:.0}, {:.0}\n",
            p.train_samples,
            p.eks_mse,
            p.eks_order,
            p.eks_process_std,
            p.uks_mse,
            p.gnn_mse,
            p.hybrid_mse,
            p.train_steps,
            p.gnn_train_secs,
            p.hybrid_train_secs
        ));
    }
    out
}

/// A method's scores in `lorenz eval --json`.
#[derive(Debug, serde::Serialize)]
pub struct EvalMetrics {
    pub mse: f64,
    pub seconds: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct EvalMethod {
    pub method: String,
    pub metrics: EvalMetrics,
}

/// `lorenz eval`: every method on the held-out test trajectory.
#[derive(Debug, serde::Serialize)]
pub struct EvalReport {
    pub demo: &'static str,
    pub test_steps: usize,
    pub methods: Vec<EvalMethod>,
}

impl EvalReport {
    /// A line per method.
    pub fn table(&self) -> String {
        self.methods
            .iter()
            .map(|m| {
                format!(
                    "{:<8} MSE {:.4}   {:.3} s\n",
                    m.method, m.metrics.mse, m.metrics.seconds
                )
            })
            .collect()
    }
}

/// Scores EKF, EKS, UKS (Taylor J=3, q=3) and the GNN and hybrid (shipped, or the model file
/// given, which replaces the shipped model of its kind).
pub fn evaluate_all(model: Option<&std::path::Path>) -> anyhow::Result<EvalReport> {
    let test = test_trajectory(4000).map_err(anyhow::Error::msg)?;
    let settings = ClassicalSettings::default();
    let mut methods = Vec::new();
    let mut push = |name: &str, started: Instant, estimates: &[[f64; 3]]| {
        methods.push(EvalMethod {
            method: name.to_owned(),
            metrics: EvalMetrics {
                mse: mse(estimates, &test.states),
                seconds: started.elapsed().as_secs_f64(),
            },
        });
    };
    let device = Device::flex();
    let loaded: Option<ChainModel> = model
        .map(|path| stored_model::load_any(path, &device))
        .transpose()?;
    for method in Method::ALL {
        let chain = match (method.model_kind(), &loaded) {
            (Some(kind), Some(m)) if m.config.kind() == kind => Some(m.clone()),
            _ => method.model(None, &device)?,
        };
        let started = Instant::now();
        let estimates = method.estimate(
            &test.t,
            &test.observations,
            &settings,
            chain.as_ref(),
            &device,
        )?;
        push(method.name(), started, &estimates);
    }
    Ok(EvalReport {
        demo: "lorenz",
        test_steps: test.t.len(),
        methods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_scores_every_method_and_the_shipped_hybrid_beats_the_smoother() {
        let report = evaluate_all(None).expect("eval");
        let names: Vec<&str> = report.methods.iter().map(|m| m.method.as_str()).collect();
        assert_eq!(names, ["ekf", "eks", "uks", "gnn", "hybrid"]);
        let mse = |name: &str| {
            report
                .methods
                .iter()
                .find(|m| m.method == name)
                .map(|m| m.metrics.mse)
                .unwrap_or(f64::NAN)
        };
        assert!(mse("eks") < mse("ekf"));
        assert!(
            mse("hybrid") < mse("eks"),
            "shipped hybrid {} vs EKS {}",
            mse("hybrid"),
            mse("eks")
        );
    }
}
