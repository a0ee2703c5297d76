//! Running the Lorenz inverses on series read from files (the command line and the panel).

use std::path::Path;

use anyhow::bail;
use nalgebra::Vector3;

use super::classical::{
    NoiseModel, TaylorDynamics, Unscented, default_prior, ekf, rts_smoother, ukf,
};
use super::model::{ChainKind, ChainModel, load_or_shipped};
use super::sim::State;
use crate::csv_table::read_numeric_csv;
use crate::demos::{DemoMethod, MethodKind};
use burn::tensor::Device;

/// Settings of the classical inverse (EKF / EKS on the Taylor model).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassicalSettings {
    pub taylor_order: usize,
    pub process_std: f64,
    pub obs_std: f64,
}

impl Default for ClassicalSettings {
    /// The best Taylor-model smoother on validation data (`examples/lorenz_classical.rs`,
    /// `bench --demo lorenz`): order J = 3, q = 3.
    fn default() -> Self {
        Self {
            taylor_order: 3,
            process_std: 3.0,
            obs_std: 0.5,
        }
    }
}

/// Reads `t` and three named columns; the time steps must be uniform and increasing.
pub fn read_series(path: &Path, columns: [&str; 3]) -> anyhow::Result<(Vec<f64>, Vec<State>)> {
    let table = read_numeric_csv(path, &["t", columns[0], columns[1], columns[2]])?;
    let index = |name: &str| table.column_index(name).unwrap_or_default();
    let (ti, c) = (index("t"), columns.map(index));
    let t: Vec<f64> = table.rows.iter().map(|r| r[ti]).collect();
    let values: Vec<State> = table
        .rows
        .iter()
        .map(|r| [r[c[0]], r[c[1]], r[c[2]]])
        .collect();
    if t.len() >= 2 {
        let dt = t[1] - t[0];
        if dt <= 0.0 {
            bail!("{}, line 3, column `t`: time must increase", path.display());
        }
        for (i, pair) in t.windows(2).enumerate() {
            if ((pair[1] - pair[0]) - dt).abs() > 1e-6 * dt.max(1.0) {
                bail!(
                    "{}, line {}, column `t`: the time step {} differs from the first one, {dt}",
                    path.display(),
                    i + 3,
                    pair[1] - pair[0]
                );
            }
        }
    }
    Ok((t, values))
}

/// The sampling interval of a uniform series (0.05 when there is a single sample).
pub fn sampling_interval(t: &[f64]) -> f64 {
    if t.len() >= 2 { t[1] - t[0] } else { 0.05 }
}

/// Every inverse, on the command line, in the panel and in `eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    Ekf,
    Eks,
    /// Unscented RTS smoother (an addition to design.md's list).
    Uks,
    Gnn,
    Hybrid,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Ekf,
        Method::Eks,
        Method::Uks,
        Method::Gnn,
        Method::Hybrid,
    ];

    pub fn classical(self) -> Option<ClassicalMethod> {
        match self {
            Self::Ekf => Some(ClassicalMethod::Ekf),
            Self::Eks => Some(ClassicalMethod::Eks),
            Self::Uks => Some(ClassicalMethod::Uks),
            Self::Gnn | Self::Hybrid => None,
        }
    }

    /// The model a learned method runs.
    pub fn model_kind(self) -> Option<ChainKind> {
        match self {
            Self::Gnn => Some(ChainKind::Gnn),
            Self::Hybrid => Some(ChainKind::Hybrid),
            _ => None,
        }
    }

    pub fn learned(kind: ChainKind) -> Self {
        match kind {
            ChainKind::Gnn => Self::Gnn,
            ChainKind::Hybrid => Self::Hybrid,
        }
    }

    /// The model a learned method runs: the file given, else the shipped one (`None` for a
    /// classical method).
    pub fn model(self, path: Option<&Path>, device: &Device) -> anyhow::Result<Option<ChainModel>> {
        self.model_kind()
            .map(|kind| load_or_shipped(path, kind, device))
            .transpose()
    }

    /// The final estimate of `observations` (taken at times `t`): a classical method with
    /// `settings`, a learned one with `model`.
    pub fn estimate(
        self,
        t: &[f64],
        observations: &[State],
        settings: &ClassicalSettings,
        model: Option<&ChainModel>,
        device: &Device,
    ) -> anyhow::Result<Vec<State>> {
        match (self.classical(), model) {
            (Some(classical), _) => run_classical(classical, t, observations, settings),
            (None, Some(model)) => Ok(model.infer(observations, device).pop().unwrap_or_default()),
            (None, None) => bail!("{} needs a model", self.name()),
        }
    }
}

impl DemoMethod for Method {
    /// The name on the command line and in `eval`'s JSON.
    fn name(self) -> &'static str {
        match self {
            Self::Ekf => "ekf",
            Self::Eks => "eks",
            Self::Uks => "uks",
            Self::Gnn => ChainKind::Gnn.name(),
            Self::Hybrid => ChainKind::Hybrid.name(),
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Self::Ekf | Self::Eks | Self::Uks => MethodKind::Classical,
            Self::Gnn => MethodKind::Amortized,
            Self::Hybrid => MethodKind::Augmented,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Ekf => "EKF",
            Self::Eks => "EKS",
            Self::Uks => "UKS",
            Self::Gnn => "GNN only",
            Self::Hybrid => "Hybrid (EKS messages + GNN)",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Ekf => {
                "Extended Kalman filter on the Taylor model: each estimate uses the observations up to its time (classical)"
            }
            Self::Eks => "Extended RTS smoother on the Taylor model: every observation (classical)",
            Self::Uks => "Unscented RTS smoother on the Taylor model (classical)",
            Self::Gnn => "x = y + ε_GNN: the same network without the model's messages",
            Self::Hybrid => {
                "x := x + γ(ε_GNN + model messages), unrolled; the messages are the gradient of log p(y, x) under the Taylor model"
            }
        }
    }
}

/// The classical inverses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassicalMethod {
    /// Extended Kalman filter: each estimate uses the observations up to its time.
    Ekf,
    /// Extended RTS smoother: every observation.
    Eks,
    /// Unscented RTS smoother.
    Uks,
}

impl ClassicalMethod {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ekf => "EKF",
            Self::Eks => "EKS",
            Self::Uks => "UKS",
        }
    }
}

/// Estimates of the states by a classical inverse on the Taylor model.
pub fn run_classical(
    method: ClassicalMethod,
    t: &[f64],
    observations: &[State],
    settings: &ClassicalSettings,
) -> anyhow::Result<Vec<State>> {
    if !(1..=10).contains(&settings.taylor_order) {
        bail!(
            "--taylor-order must be between 1 and 10, not {}",
            settings.taylor_order
        );
    }
    for (name, v) in [
        ("--process-std", settings.process_std),
        ("--obs-std", settings.obs_std),
    ] {
        if !(v.is_finite() && v > 0.0 && v < 1e6) {
            bail!("{name} must be a positive number, not {v}");
        }
    }
    let Some(first) = observations.first() else {
        bail!("no observations");
    };
    let dt = sampling_interval(t);
    let dynamics = TaylorDynamics {
        order: settings.taylor_order,
        dt,
    };
    let noise = NoiseModel {
        process_std: settings.process_std,
        obs_std: settings.obs_std,
        dt,
    };
    let prior = default_prior(first);
    let estimates = match method {
        ClassicalMethod::Ekf => ekf(&dynamics, &noise, observations, prior)?.filtered,
        ClassicalMethod::Eks => rts_smoother(&ekf(&dynamics, &noise, observations, prior)?)?,
        ClassicalMethod::Uks => rts_smoother(&ukf(
            &dynamics,
            &noise,
            observations,
            prior,
            Unscented::default(),
        )?)?,
    };
    Ok(estimates
        .iter()
        .map(|g| [g.mean[0], g.mean[1], g.mean[2]])
        .collect())
}

/// Mean squared error over time steps and coordinates.
pub fn mse(estimates: &[State], truth: &[State]) -> f64 {
    let e: Vec<Vector3<f64>> = estimates.iter().map(|x| Vector3::from(*x)).collect();
    super::classical::mse(&e, truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irregular_time_steps_are_refused_with_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("obs.csv");
        std::fs::write(&path, "t,y1,y2,y3\n0,1,2,3\n0.05,1,2,3\n0.2,1,2,3\n").expect("write");
        let err = read_series(&path, ["y1", "y2", "y3"]).expect_err("irregular");
        assert!(err.to_string().contains("line 4, column `t`"), "{err}");
    }

    #[test]
    fn absurd_settings_are_refused() {
        let obs = [[0.0; 3]; 3];
        let t = [0.0, 0.05, 0.1];
        let bad = ClassicalSettings {
            taylor_order: 0,
            process_std: 3.0,
            obs_std: 0.5,
        };
        assert!(run_classical(ClassicalMethod::Eks, &t, &obs, &bad).is_err());
        let bad = ClassicalSettings {
            taylor_order: 2,
            process_std: f64::NAN,
            obs_std: 0.5,
        };
        assert!(run_classical(ClassicalMethod::Eks, &t, &obs, &bad).is_err());
    }
}

/// One method's estimate of a trajectory, scored.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodResult {
    pub name: String,
    pub kind: crate::demos::MethodKind,
    pub estimates: Vec<State>,
    pub mse: f64,
    pub seconds: f64,
}

/// Every classical method, and the oracle, on one simulated trajectory.
pub fn compare_classical(
    trajectory: &super::sim::Trajectory,
    settings: &ClassicalSettings,
    substeps: usize,
) -> anyhow::Result<Vec<MethodResult>> {
    use std::time::Instant;
    let mut results = Vec::new();
    for method in [
        ClassicalMethod::Ekf,
        ClassicalMethod::Eks,
        ClassicalMethod::Uks,
    ] {
        let started = Instant::now();
        let estimates = run_classical(method, &trajectory.t, &trajectory.observations, settings)?;
        results.push(MethodResult {
            name: format!("{} (Taylor J={})", method.label(), settings.taylor_order),
            kind: MethodKind::Classical,
            mse: mse(&estimates, &trajectory.states),
            estimates,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let started = Instant::now();
    let estimates = oracle_smoother(trajectory, settings.obs_std, substeps)?;
    results.push(MethodResult {
        name: "EKS (exact RK4 dynamics)".to_owned(),
        kind: MethodKind::Oracle,
        mse: mse(&estimates, &trajectory.states),
        estimates,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(results)
}

/// The oracle: the extended RTS smoother on the exact (RK4) dynamics with `substeps` per
/// sample, a reference line no real method reaches.
pub fn oracle_smoother(
    trajectory: &super::sim::Trajectory,
    obs_std: f64,
    substeps: usize,
) -> anyhow::Result<Vec<State>> {
    let dt = sampling_interval(&trajectory.t);
    let smoothed = super::classical::eks(
        &super::classical::ExactDynamics { dt, substeps },
        &NoiseModel {
            process_std: ORACLE_PROCESS_STD,
            obs_std,
            dt,
        },
        &trajectory.observations,
        default_prior(&trajectory.observations[0]),
    )?;
    Ok(smoothed
        .iter()
        .map(|g| [g.mean[0], g.mean[1], g.mean[2]])
        .collect())
}

/// The oracle's process noise: its model is exact up to RK4 error (tuned on validation, see
/// `examples/lorenz_classical.rs`).
pub const ORACLE_PROCESS_STD: f64 = 0.02;
