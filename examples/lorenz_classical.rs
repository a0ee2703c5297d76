//! Classical baselines on the Lorenz demo: EKS on the Taylor model of order J = 1..5, with the
//! process noise tuned on a validation trajectory, and the oracle EKS on the exact RK4 transition.
//! `cargo run --release --example lorenz_classical`
use inference_lab::demos::lorenz::classical::{
    Dynamics, ExactDynamics, NoiseModel, TaylorDynamics, default_prior, eks, mse,
};
use inference_lab::demos::lorenz::sim::{SimConfig, Trajectory, simulate};
use nalgebra::Vector3;

fn eks_mse(d: &impl Dynamics, noise: &NoiseModel, tr: &Trajectory) -> f64 {
    match eks(
        d,
        noise,
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
    println!("model            q*     val MSE   test MSE");
    for order in 1..=5 {
        let d = TaylorDynamics { order, dt: 0.05 };
        let noise = |q| NoiseModel {
            process_std: q,
            obs_std: 0.5,
            dt: 0.05,
        };
        let (q, val) = grid
            .iter()
            .map(|&q| (q, eks_mse(&d, &noise(q), &validation)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((f64::NAN, f64::NAN));
        println!(
            "EKS Taylor J={order}  {q:6.3}  {val:.5}   {:.5}",
            eks_mse(&d, &noise(q), &test)
        );
    }
    let exact = ExactDynamics {
        dt: 0.05,
        substeps: 10,
    };
    let noise = |q| NoiseModel {
        process_std: q,
        obs_std: 0.5,
        dt: 0.05,
    };
    let (q, val) = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
        .iter()
        .map(|&q| (q, eks_mse(&exact, &noise(q), &validation)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((f64::NAN, f64::NAN));
    println!(
        "EKS exact (oracle) {q:6.3}  {val:.5}   {:.5}",
        eks_mse(&exact, &noise(q), &test)
    );
    let raw: Vec<Vector3<f64>> = test
        .observations
        .iter()
        .map(|y| Vector3::from(*y))
        .collect();
    println!("observations               {:.5}", mse(&raw, &test.states));
    Ok(())
}
