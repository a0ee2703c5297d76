//! SER curves on fresh channels and `bench --demo mimo`: every detector at the sizes and
//! SNRs, with 95% intervals and microseconds per vector, and the sphere decoder checked against
//! brute force.

use std::time::Instant;

use burn::tensor::Device;

use super::classical::{brute_force_ml, sphere_decoder};
use super::methods::{Method, OAMP_ITERATIONS, detect};
use super::metrics::Tally;
use super::model::{MimoModel, shipped_for};
use super::sim::{Modulation, Setup, simulate};
use crate::demos::DemoMethod;
use crate::training::streams::Stream;

/// Vectors simulated and detected at once (bounds the memory of OAMP's `[B, n, n]` tensors).
const CHUNK: usize = 2000;

/// One point of a SER curve.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SerPoint {
    pub snr_db: f64,
    pub vectors: usize,
    pub ser: f64,
    /// 95% interval (Wilson, clustered by vector).
    pub ser_low: f64,
    pub ser_high: f64,
    pub ber: f64,
    pub microseconds_per_vector: f64,
    pub seconds: f64,
    /// Vectors where the sphere decoder stopped at its node budget.
    pub uncertified: usize,
}

impl SerPoint {
    pub fn table(method: Method, points: &[SerPoint]) -> String {
        let mut out = format!(
            "{}\n  SNR dB   SER        95% interval          BER        µs/vector\n",
            method.label()
        );
        for p in points {
            out += &format!(
                "  {:>6.1}   {:<9.3e}  [{:.2e}, {:.2e}]  {:<9.3e}  {:.1}\n",
                p.snr_db, p.ser, p.ser_low, p.ser_high, p.ber, p.microseconds_per_vector
            );
        }
        out
    }
}

/// The held-out seed of chunk `chunk` of a curve (a setup's SNR and sizes mixed in, so points
/// never share channels).
fn test_seed(seed: u64, setup: &Setup, chunk: usize) -> u64 {
    let tag = ((setup.users as u64) << 40)
        ^ ((setup.antennas as u64) << 32)
        ^ ((setup.snr_db * 100.0).round() as i64 as u64)
        ^ ((setup.rho * 1000.0).round() as u64 * 0x9e37)
        ^ (setup.modulation.bits_per_symbol() as u64 * 0x51);
    Stream::Test.seed(seed ^ tag, chunk as u64)
}

/// `method`'s SER and BER on `vectors` fresh vectors of `setup`.
pub fn ser_curve(
    setup: &Setup,
    vectors: usize,
    method: Method,
    iterations: usize,
    model: Option<&MimoModel>,
    seed: u64,
    device: &Device,
) -> anyhow::Result<SerPoint> {
    let mut tally = Tally::new(setup.modulation, setup.users);
    let mut detecting = 0.0;
    let mut uncertified = 0;
    let started = Instant::now();
    let mut done = 0;
    let mut chunk = 0;
    while done < vectors {
        let count = CHUNK.min(vectors - done);
        let batch = simulate(setup, count, test_seed(seed, setup, chunk));
        let run = detect(&batch, method, iterations, model, device).map_err(anyhow::Error::msg)?;
        detecting += run.seconds_per_vector * count as f64;
        uncertified += run.uncertified;
        for (v, decided) in batch.vectors.iter().zip(&run.decided) {
            if let Some(sent) = &v.sent {
                tally.add(setup.modulation, sent, decided);
            }
        }
        done += count;
        chunk += 1;
    }
    let (ser_low, ser_high) = tally.ser_interval();
    Ok(SerPoint {
        snr_db: setup.snr_db,
        vectors,
        ser: tally.ser(),
        ser_low,
        ser_high,
        ber: tally.ber(),
        microseconds_per_vector: 1e6 * detecting / vectors.max(1) as f64,
        seconds: started.elapsed().as_secs_f64(),
        uncertified,
    })
}

/// One size, modulation and channel model of the acceptance table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Panel {
    pub antennas: usize,
    pub users: usize,
    pub modulation: Modulation,
    pub rho: f64,
    /// Each method's curve over the SNRs.
    pub curves: Vec<(String, Vec<SerPoint>)>,
    /// The learned models' parameter counts.
    pub parameters: Vec<(String, usize)>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Acceptance {
    pub device: String,
    /// 4×4 vectors on which the sphere decoder's distance equals brute force's (of `ml_checked`).
    pub ml_agree: usize,
    pub ml_checked: usize,
    pub panels: Vec<Panel>,
}

impl Acceptance {
    pub fn table(&self) -> String {
        let mut out = format!("MIMO detection on fresh channels ({})\n", self.device);
        if self.ml_checked > 0 {
            out += &format!(
                "sphere decoder vs brute force at 4×4: {} of {} vectors agree\n",
                self.ml_agree, self.ml_checked
            );
        }
        for panel in &self.panels {
            out += &format!(
                "\n{}×{} {} {}\n",
                panel.antennas,
                panel.users,
                panel.modulation.name(),
                super::sim::channel_name(panel.rho)
            );
            let snrs: Vec<f64> = panel
                .curves
                .first()
                .map(|(_, c)| c.iter().map(|p| p.snr_db).collect())
                .unwrap_or_default();
            out += &format!("  {:<22}", "SER at SNR (dB)");
            for s in &snrs {
                out += &format!("{s:>11.1}");
            }
            out += "   µs/vector\n";
            for (name, curve) in &panel.curves {
                out += &format!("  {name:<22}");
                for p in curve {
                    out += &format!("{:>11.2e}", p.ser);
                }
                let us = curve.iter().map(|p| p.microseconds_per_vector).sum::<f64>()
                    / curve.len().max(1) as f64;
                out += &format!("   {us:.1}\n");
            }
            for (name, count) in &panel.parameters {
                out += &format!("  {name}: {count} parameters\n");
            }
        }
        out
    }
}

/// The sizes of the acceptance table: (N_r, N_t, modulation, ρ, SNRs).
fn panels() -> Vec<PanelSpec> {
    vec![
        (8, 8, Modulation::Qpsk, 0.0, vec![10.0, 14.0, 18.0]),
        (32, 16, Modulation::Qpsk, 0.0, vec![4.0, 6.0, 8.0, 10.0]),
        (64, 32, Modulation::Qam16, 0.0, vec![10.0, 12.0, 14.0, 16.0]),
        (64, 32, Modulation::Qam16, 0.7, vec![18.0, 20.0, 22.0]),
    ]
}

/// What one row of the table is run on: (N_r, N_t, modulation, ρ, SNRs).
pub type PanelSpec = (usize, usize, Modulation, f64, Vec<f64>);

/// Every method's SER at each spec's SNRs on `vectors` fresh vectors (the sphere decoder on a
/// tenth of them, where it is offered); a learned method runs `model` when it fits the spec,
/// else the shipped model for it, else is left out.
pub fn evaluate_panels(
    specs: &[PanelSpec],
    vectors: usize,
    model: Option<&MimoModel>,
    device: &Device,
) -> anyhow::Result<Vec<Panel>> {
    let mut out = Vec::new();
    for (antennas, users, modulation, rho, snrs) in specs.iter().cloned() {
        let mut curves = Vec::new();
        let mut parameters = Vec::new();
        for method in Method::ALL {
            let given = model.filter(|m| {
                Some(m.config.kind) == method.net_kind()
                    && m.config.fits(users, antennas, modulation).is_ok()
            });
            let model = match (method.net_kind(), given) {
                (None, _) => None,
                (Some(_), Some(m)) => Some(m.clone()),
                (Some(kind), None) => {
                    match shipped_for(kind, users, antennas, modulation, rho, device) {
                        Ok(model) => Some(model),
                        Err(_) => continue,
                    }
                }
            };
            if let Some(model) = &model {
                use burn::module::Module;
                parameters.push((method.name().to_owned(), model.net.num_params()));
            }
            if method == Method::Ml
                && super::classical::ml_supported(users, antennas, modulation).is_err()
            {
                continue;
            }
            eprintln!(
                "mimo: {antennas}×{users} {} ρ {rho}: {}",
                modulation.name(),
                method.name()
            );
            let mut curve = Vec::new();
            for &snr_db in &snrs {
                let setup = Setup {
                    users,
                    antennas,
                    modulation,
                    snr_db,
                    rho,
                };
                // The sphere decoder is slow at low SNR: a tenth of the vectors.
                let count = if method == Method::Ml {
                    (vectors / 10).max(1)
                } else {
                    vectors
                };
                curve.push(ser_curve(
                    &setup,
                    count,
                    method,
                    OAMP_ITERATIONS,
                    model.as_ref(),
                    0,
                    device,
                )?);
            }
            curves.push((method.name().to_owned(), curve));
        }
        out.push(Panel {
            antennas,
            users,
            modulation,
            rho,
            curves,
            parameters,
        });
    }
    Ok(out)
}

/// `mimo eval`: every method at one SNR of each acceptance setting (where the papers report),
/// 2,000 fresh vectors each.
pub fn evaluate(
    model: Option<&MimoModel>,
    device: &Device,
    device_label: &str,
) -> anyhow::Result<Acceptance> {
    let specs: Vec<PanelSpec> = vec![
        (32, 16, Modulation::Qpsk, 0.0, vec![8.0]),
        (64, 32, Modulation::Qam16, 0.0, vec![16.0]),
        (64, 32, Modulation::Qam16, 0.7, vec![22.0]),
    ];
    Ok(Acceptance {
        device: device_label.to_owned(),
        ml_agree: 0,
        ml_checked: 0,
        panels: evaluate_panels(&specs, 2_000, model, device)?,
    })
}

/// The acceptance run: the sphere decoder against brute force, then every method's curve.
pub fn run_acceptance(
    quick: bool,
    device: &Device,
    device_label: &str,
) -> anyhow::Result<Acceptance> {
    let vectors = if quick { 2_000 } else { 20_000 };
    let mut ml_agree = 0;
    let mut ml_checked = 0;
    for (modulation, snr) in [(Modulation::Qpsk, 8.0), (Modulation::Qam16, 14.0)] {
        let setup = Setup {
            users: 4,
            antennas: 4,
            modulation,
            snr_db: snr,
            rho: 0.0,
        };
        let count = if quick { 50 } else { 200 };
        let batch = simulate(&setup, count, test_seed(0, &setup, 0));
        for v in &batch.vectors {
            let ml = sphere_decoder(&v.channel, &v.received, modulation);
            let (_, exhaustive) = brute_force_ml(&v.channel, &v.received, modulation);
            ml_checked += 1;
            ml_agree += usize::from(
                ml.certified && (ml.distance - exhaustive).abs() <= 1e-9 * exhaustive.max(1.0),
            );
        }
    }
    let out = evaluate_panels(&panels(), vectors, None, device)?;
    Ok(Acceptance {
        device: device_label.to_owned(),
        ml_agree,
        ml_checked,
        panels: out,
    })
}
