//! Classical baselines on the Lorenz demo: the extended and the unscented RTS smoother on the
//! Taylor model of order J = 1..5, each with its process noise tuned on a validation trajectory,
//! and the oracle EKS on the exact RK4 transition. Scored on a separate test trajectory.
//! `cargo run --release --example lorenz_classical`
use inference_lab::demos::lorenz::classical::{
    Dynamics, ExactDynamics, FilterError, Gaussian, NoiseModel, TaylorDynamics, default_prior, eks,
    mse, uks,
};
use inference_lab::demos::lorenz::sim::{SimConfig, State, Trajectory, simulate};
use nalgebra::Vector3;

type Smoother<D> = fn(&D, &NoiseModel, &[State], Gaussian) -> Result<Vec<Gaussian>, FilterError>;

fn smoother_mse<D: Dynamics>(smoother: Smoother<D>, d: &D, q: f64, tr: &Trajectory) -> f64 {
    let noise = NoiseModel {
        process_std: q,
        obs_std: 0.5,
        dt: 0.05,
    };
    match smoother(
        d,
        &noise,
        &tr.observations,
        default_prior(&tr.observations[0]),
    ) {
        Ok(g) => mse(
            &g.iter().map(|g| g.mean).collect::<Vec<Vector3<f64>>>(),
            &tr.states,
        ),
        Err(_) => f64::INFINITY,
    }
}

/// The process noise with the lowest validation MSE, then the test MSE with it.
fn tuned<D: Dynamics>(
    name: &str,
    smoother: Smoother<D>,
    d: &D,
    grid: &[f64],
    validation: &Trajectory,
    test: &Trajectory,
) {
    let (q, val) = grid
        .iter()
        .map(|&q| (q, smoother_mse(smoother, d, q, validation)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((f64::NAN, f64::NAN));
    let test_mse = smoother_mse(smoother, d, q, test);
    println!("{name:<20} {q:7.3}  {val:.5}   {test_mse:.5}");
}

fn main() -> anyhow::Result<()> {
    let base = SimConfig {
        steps: 2000,
        ..SimConfig::default()
    };
    let validation = simulate(&SimConfig {
        seed: 1,
        ..base.clone()
    })
    .map_err(anyhow::Error::msg)?;
    let test = simulate(&SimConfig {
        seed: 2,
        steps: 4000,
        ..base.clone()
    })
    .map_err(anyhow::Error::msg)?;
    let grid: Vec<f64> = (0..=16).map(|i| 0.5 * 1.25f64.powi(i)).collect();
    println!("model                     q*   val MSE   test MSE");
    for order in 1..=5 {
        let d = TaylorDynamics { order, dt: 0.05 };
        tuned(
            &format!("EKS Taylor J={order}"),
            eks,
            &d,
            &grid,
            &validation,
            &test,
        );
        tuned(
            &format!("UKS Taylor J={order}"),
            uks,
            &d,
            &grid,
            &validation,
            &test,
        );
    }
    let exact = ExactDynamics {
        dt: 0.05,
        substeps: 10,
    };
    let oracle_grid = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
    tuned(
        "EKS exact (oracle)",
        eks,
        &exact,
        &oracle_grid,
        &validation,
        &test,
    );
    let raw: Vec<Vector3<f64>> = test
        .observations
        .iter()
        .map(|y| Vector3::from(*y))
        .collect();
    println!(
        "observations                        {:.5}",
        mse(&raw, &test.states)
    );
    Ok(())
}
