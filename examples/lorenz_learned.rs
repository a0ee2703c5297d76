//! Trains the hybrid and the GNN-only Lorenz models for a time budget and scores them on a test
//! trajectory beside the tuned EKS. Not yet the paper's sweep: a first measurement.
//! `cargo run --release --example lorenz_learned -- [train_samples] [budget_secs]`
use inference_lab::demos::lorenz::methods::{
    ClassicalMethod, ClassicalSettings, mse, run_classical,
};
use inference_lab::demos::lorenz::model::ChainModelConfig;
use inference_lab::demos::lorenz::sim::{SimConfig, simulate};
use inference_lab::demos::lorenz::train::{TrainConfig, evaluate, train};
use inference_lab::jobs::spawn;
use inference_lab::training::TrainJob;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let train_samples: usize = args.get(1).map_or(Ok(2000), |a| a.parse())?;
    let budget: f64 = args.get(2).map_or(Ok(120.0), |a| a.parse())?;
    let test = simulate(&SimConfig {
        steps: 4000,
        seed: 2,
        ..SimConfig::default()
    })
    .map_err(anyhow::Error::msg)?;
    let settings = ClassicalSettings {
        taylor_order: 2,
        process_std: 3.0,
        obs_std: 0.5,
    };
    let eks = run_classical(ClassicalMethod::Eks, &test.t, &test.observations, &settings)?;
    println!("train samples {train_samples}, budget {budget} s per model");
    println!(
        "EKS (Taylor J=2, q=3)   test MSE {:.5}",
        mse(&eks, &test.states)
    );
    for model in [ChainModelConfig::hybrid(), ChainModelConfig::gnn_only()] {
        let kind = model.kind().name();
        let mut config = TrainConfig::new(model, train_samples);
        config.schedule.for_panel(budget);
        let handle = spawn(
            kind,
            || {},
            move |ctx| train(TrainJob::new(ctx, &burn::tensor::Device::flex()), &config),
        )?;
        let trained = handle.wait().map_err(anyhow::Error::msg)?;
        let test_mse = evaluate(&trained.model, &test, &burn::tensor::Device::flex());
        println!(
            "{kind:<8} {} steps in {:.0} s   val MSE {:.5}   test MSE {test_mse:.5}",
            trained.steps, trained.seconds, trained.score
        );
    }
    Ok(())
}
