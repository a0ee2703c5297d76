//! `bench --demo flows`: every method's test log-likelihood on fresh points of each data set,
//! beside the true density's (with its 95% interval), and each gap.

use burn::tensor::Device;

use super::methods::{FitSettings, Method, Score, evaluate};
use super::sim::Dataset;
use crate::demos::DemoMethod;
use crate::training::Stream;

/// One data set's row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub dataset: Dataset,
    /// The true density's mean log-likelihood on the test points and its 95% half-width.
    pub true_nats: f64,
    pub true_half_width: f64,
    pub scores: Vec<Score>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub device: String,
    pub training_points: usize,
    pub test_points: usize,
    pub settings: FitSettings,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn table(&self) -> String {
        let mut out = format!(
            "Flows on fresh test points ({}; {} training, {} test points; flows of {} \
             couplings, MLPs {:?}, {} steps)\n\
             test nats (gap to the true density)\n  {:<16}{:>18}",
            self.device,
            self.training_points,
            self.test_points,
            self.settings.couplings,
            self.settings.hidden,
            self.settings.steps,
            "data",
            "true ± 95%"
        );
        for method in Method::ALL {
            out += &format!("{:>24}", method.name());
        }
        out += "\n";
        for row in &self.rows {
            out += &format!(
                "  {:<16}{:>11.3} ± {:.3}",
                row.dataset.name(),
                row.true_nats,
                row.true_half_width
            );
            for method in Method::ALL {
                match row.scores.iter().find(|s| s.method == method) {
                    Some(s) => {
                        out += &format!(
                            "{:>13.3} ({:.3}) {:>3.0}s",
                            s.nats,
                            row.true_nats - s.nats,
                            s.seconds
                        )
                    }
                    None => out += &format!("{:>24}", "—"),
                }
            }
            out += "\n";
        }
        out += "  (— : the abs surjection is only fitted where the data are symmetric under one \
                coordinate's sign flip; vae: a bound, the ELBO)\n";
        out
    }
}

/// Fits every method on each data set and scores it on fresh points.
pub fn run(
    datasets: &[Dataset],
    points: usize,
    settings: &FitSettings,
    device: &Device,
    device_label: &str,
) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    for (i, &dataset) in datasets.iter().enumerate() {
        let training = dataset.sample(points, Stream::Train.seed(settings.seed, i as u64));
        let test = dataset.sample(points, Stream::Test.seed(settings.seed, i as u64));
        let logs: Vec<f64> = test.iter().map(|&p| dataset.log_density(p)).collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        let variance =
            logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1).max(1) as f64;
        let mut scores = Vec::new();
        for method in Method::ALL {
            if method == Method::Survae && !dataset.is_sign_symmetric() {
                continue;
            }
            eprintln!("flows: {} {}", dataset.name(), method.name());
            scores.push(evaluate(method, &training, &test, settings, device)?);
        }
        rows.push(Row {
            dataset,
            true_nats: mean,
            true_half_width: 1.96 * (variance / logs.len() as f64).sqrt(),
            scores,
        });
    }
    Ok(Report {
        device: device_label.to_owned(),
        training_points: points,
        test_points: points,
        settings: settings.clone(),
        rows,
    })
}

/// The acceptance run: every data set, 10,000 points each, SurVAE's settings (`quick`: three
/// data sets, 2,000 points, 2,000 steps).
pub fn run_acceptance(quick: bool, device: &Device, device_label: &str) -> anyhow::Result<Report> {
    let mut settings = FitSettings::default();
    let (datasets, points): (&[Dataset], usize) = if quick {
        settings.steps = 2_000;
        (
            &[
                Dataset::Eightgaussians,
                Dataset::Checkerboard,
                Dataset::Rings,
            ],
            2_000,
        )
    } else {
        (&Dataset::ALL, 10_000)
    };
    run(datasets, points, &settings, device, device_label)
}
