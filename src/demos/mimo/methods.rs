//! The methods, typed, and the one detection call the panel, `mimo detect`, `mimo ser`, `eval`
//! and `bench --demo mimo` share: each method's soft estimate after every iteration, its
//! decisions and its time per vector.

use std::time::Instant;

use burn::tensor::{Device, Tensor};
use nalgebra::DVector;

use super::classical::{Prepared, classical_corrections, iterate};
use super::classical::{lmmse, ml_supported, sphere_decoder, vblast, zero_forcing};
use super::metrics::Tally;
use super::model::{MimoModel, NetKind};
use super::sim::{Batch, Setup, decide, simulate};
use crate::demos::{DemoMethod, MethodKind};
use crate::stored_model::StoredModel;

/// A detector.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Method {
    Zf,
    Mmse,
    Vblast,
    Oamp,
    Ml,
    Detnet,
    Oampnet,
    Remimo,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Self::Zf,
        Self::Mmse,
        Self::Vblast,
        Self::Oamp,
        Self::Ml,
        Self::Detnet,
        Self::Oampnet,
        Self::Remimo,
    ];

    /// Whether it refines an estimate over iterations (its trace has one entry per iteration).
    pub fn is_iterative(self) -> bool {
        matches!(
            self,
            Self::Oamp | Self::Oampnet | Self::Detnet | Self::Remimo
        )
    }

    /// The trained model it needs, if any.
    pub fn net_kind(self) -> Option<NetKind> {
        match self {
            Self::Oampnet => Some(NetKind::OampNet),
            Self::Detnet => Some(NetKind::DetNet),
            Self::Remimo => Some(NetKind::ReMimo),
            _ => None,
        }
    }

    /// The method a model of `kind` detects with.
    pub fn trained_as(kind: NetKind) -> Method {
        match kind {
            NetKind::OampNet => Self::Oampnet,
            NetKind::DetNet => Self::Detnet,
            NetKind::ReMimo => Self::Remimo,
        }
    }

    pub fn is_learned(self) -> bool {
        self.net_kind().is_some()
    }
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Self::Zf => "zf",
            Self::Mmse => "mmse",
            Self::Vblast => "vblast",
            Self::Oamp => "oamp",
            Self::Ml => "ml",
            Self::Oampnet => "oampnet",
            Self::Detnet => "detnet",
            Self::Remimo => "remimo",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Zf => "Zero forcing",
            Self::Mmse => "LMMSE",
            Self::Vblast => "MMSE-SIC (V-BLAST)",
            Self::Oamp => "OAMP",
            Self::Ml => "ML (sphere decoder)",
            Self::Oampnet => "OAMP-Net2",
            Self::Detnet => "DetNet",
            Self::Remimo => "RE-MIMO",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Self::Ml => MethodKind::Oracle,
            Self::Oampnet | Self::Remimo => MethodKind::Augmented,
            Self::Detnet => MethodKind::Amortized,
            _ => MethodKind::Classical,
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Zf => {
                "x̂ = (HᴴH)⁻¹Hᴴy, then the nearest symbol: inverts the channel, amplifies the noise"
            }
            Self::Mmse => "x̂ = (HᴴH + σ²I)⁻¹Hᴴy, then the nearest symbol: the best linear estimate",
            Self::Vblast => {
                "MMSE successive interference cancellation: the most reliable user is decided \
                 first, its signal subtracted, and so on (V-BLAST ordering)"
            }
            Self::Oamp => {
                "Orthogonal AMP (Ma & Ping 2017): a de-correlated LMMSE step and the \
                 constellation's divergence-free posterior mean, alternated; 10 iterations"
            }
            Self::Ml => {
                "arg min ‖y − Hx‖² over every symbol vector, by a Schnorr–Euchner sphere \
                 decoder: exact, exponential in the users (up to 16×16 QPSK, 8×8 16-QAM)"
            }
            Self::Oampnet => {
                "OAMP unrolled with four learned numbers per iteration (step size γ, error \
                 scale θ, denoiser factors φ and ξ), trained on simulated channels (He et al. 2020)"
            }
            Self::Detnet => {
                "a deep unfolded network (Samuel et al. 2019): 10 fully connected layers that \
                 read a learned gradient step and their state, trained on simulated channels"
            }
            Self::Remimo => {
                "recurrent and permutation equivariant (after Pratik et al. 2021): every user \
                 reads OAMP's step on the residual y − Hx̂ and attends to the users whose \
                 channels overlap its own; one shared cell corrects the posterior at each step"
            }
        }
    }
}

/// OAMP's default iteration count (He et al. use 10 layers for OAMP-Net2).
pub const OAMP_ITERATIONS: usize = 10;

/// One method's answer on a batch.
#[derive(Clone, Debug)]
pub struct Run {
    pub method: Method,
    /// The soft estimate of every vector after each iteration (one entry for one-shot methods):
    /// `trace[t][v]` holds the 2N_t real dimensions.
    pub trace: Vec<Vec<DVector<f64>>>,
    /// The hard decision of every vector (level indices per real dimension).
    pub decided: Vec<Vec<u8>>,
    pub seconds_per_vector: f64,
    /// Vectors on which the sphere decoder ran out of its node budget (its answer is then the
    /// best found, not certified ML).
    pub uncertified: usize,
}

/// Runs `method` on every vector of `batch`; `iterations` for the iterative ones (a learned one
/// runs at most as many as it was trained for); `model` for the learned ones.
pub fn detect(
    batch: &Batch,
    method: Method,
    iterations: usize,
    model: Option<&MimoModel>,
    device: &Device,
) -> Result<Run, String> {
    let setup = &batch.setup;
    let modulation = setup.modulation;
    let noise = batch.dimension_noise();
    if method == Method::Ml {
        ml_supported(setup.users, setup.antennas, modulation)?;
    }
    let model = match (method.net_kind(), model) {
        (None, _) => None,
        (Some(kind), Some(model)) => {
            if model.config.kind != kind {
                return Err(format!(
                    "{} needs a {} model; this one is a {}",
                    method.label(),
                    kind.file_kind(),
                    model.config.kind.file_kind()
                ));
            }
            model.config.fits(setup.users, setup.antennas, modulation)?;
            Some(model.to_device(device))
        }
        (Some(_), None) => return Err(format!("{} needs a trained model", method.label())),
    };
    let started = Instant::now();
    let mut uncertified = 0;
    let trace: Vec<Vec<DVector<f64>>> = match method {
        Method::Oamp | Method::Oampnet | Method::Detnet | Method::Remimo => {
            let prepared = Prepared::new(&batch.vectors, noise, device);
            let estimates = match &model {
                Some(model) => model.net.estimates(&prepared, modulation, iterations),
                None => iterate(
                    &prepared,
                    classical_corrections(iterations.max(1), device),
                    modulation,
                )
                .into_iter()
                .map(|s| s.estimate)
                .collect(),
            };
            estimates.into_iter().map(rows).collect()
        }
        _ => vec![
            batch
                .vectors
                .iter()
                .map(|v| match method {
                    Method::Zf => zero_forcing(&v.channel, &v.received),
                    Method::Mmse => lmmse(&v.channel, &v.received, noise),
                    Method::Vblast => vblast(&v.channel, &v.received, noise, modulation),
                    _ => {
                        let answer = sphere_decoder(&v.channel, &v.received, modulation);
                        uncertified += usize::from(!answer.certified);
                        answer.levels
                    }
                })
                .collect(),
        ],
    };
    let seconds_per_vector = started.elapsed().as_secs_f64() / batch.vectors.len().max(1) as f64;
    let decided = trace
        .last()
        .map(|last| last.iter().map(|x| decide(modulation, x)).collect())
        .unwrap_or_default();
    Ok(Run {
        method,
        trace,
        decided,
        seconds_per_vector,
        uncertified,
    })
}

/// What the panel shows: every method on a batch of fresh vectors of one setup (the first one
/// drawn in detail), its errors, and the methods it could not run, with why.
#[derive(Clone, Debug)]
pub struct Inspection {
    pub batch: Batch,
    pub runs: Vec<Run>,
    /// Each run's errors over the batch, in the order of `runs`.
    pub tallies: Vec<Tally>,
    pub skipped: Vec<(Method, String)>,
}

impl Inspection {
    pub fn run(&self, method: Method) -> Option<(&Run, &Tally)> {
        self.runs
            .iter()
            .zip(&self.tallies)
            .find(|(r, _)| r.method == method)
    }
}

/// Runs every method on `vectors` fresh vectors of `setup` drawn from `seed`; a learned method
/// runs with the model in `models` made for this setup, or is skipped. `None` when stopped.
pub fn inspect(
    setup: &Setup,
    vectors: usize,
    seed: u64,
    models: &[MimoModel],
    iterations: usize,
    device: &Device,
    stop: &dyn Fn() -> bool,
) -> Option<Inspection> {
    let batch = simulate(setup, vectors.max(1), seed);
    let mut runs = Vec::new();
    let mut tallies = Vec::new();
    let mut skipped = Vec::new();
    for method in Method::ALL {
        if stop() {
            return None;
        }
        let model = match method.net_kind() {
            Some(kind) => match model_for(models, kind, setup) {
                Some(model) => Some(model),
                None => {
                    skipped.push((
                        method,
                        format!(
                            "no {} model for {}×{} {}: train one or load a file",
                            kind.file_kind(),
                            setup.antennas,
                            setup.users,
                            setup.modulation.name()
                        ),
                    ));
                    continue;
                }
            },
            None => None,
        };
        match detect(&batch, method, iterations, model, device) {
            Ok(run) => {
                let mut tally = Tally::new(setup.modulation, setup.users);
                for (v, decided) in batch.vectors.iter().zip(&run.decided) {
                    if let Some(sent) = &v.sent {
                        tally.add(setup.modulation, sent, decided);
                    }
                }
                runs.push(run);
                tallies.push(tally);
            }
            Err(why) => skipped.push((method, why)),
        }
    }
    Some(Inspection {
        batch,
        runs,
        tallies,
        skipped,
    })
}

/// The model of `kind` among `models` that detects `setup`'s size and modulation, the one
/// trained on the nearest channel correlation ρ first.
pub fn model_for<'a>(
    models: &'a [MimoModel],
    kind: NetKind,
    setup: &Setup,
) -> Option<&'a MimoModel> {
    models
        .iter()
        .filter(|m| {
            m.config.kind == kind
                && m.config
                    .fits(setup.users, setup.antennas, setup.modulation)
                    .is_ok()
        })
        .min_by(|a, b| {
            let distance = |m: &MimoModel| (m.config.rho - setup.rho).abs();
            distance(a).total_cmp(&distance(b))
        })
}

/// The rows of a `[B, n]` tensor.
pub fn rows(t: Tensor<2>) -> Vec<DVector<f64>> {
    let [_, n] = t.dims();
    let values = t.into_data().try_to_vec::<f32>().unwrap_or_default();
    values
        .chunks(n.max(1))
        .map(|row| DVector::from_iterator(n, row.iter().map(|&v| f64::from(v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mimo::sim::Modulation;

    fn ser(batch: &Batch, method: Method) -> f64 {
        let run = detect(batch, method, OAMP_ITERATIONS, None, &Device::flex()).expect("ran");
        let mut tally = Tally::new(batch.setup.modulation, batch.setup.users);
        for (v, decided) in batch.vectors.iter().zip(&run.decided) {
            tally.add(
                batch.setup.modulation,
                v.sent.as_deref().expect("sent"),
                decided,
            );
        }
        tally.ser()
    }

    #[test]
    fn the_detectors_rank_as_the_textbook_says() {
        // 8×8 QPSK at 12 dB: ML ≤ OAMP and V-BLAST ≤ LMMSE ≤ zero forcing.
        let setup = Setup {
            users: 8,
            antennas: 8,
            modulation: Modulation::Qpsk,
            snr_db: 12.0,
            rho: 0.0,
        };
        let batch = simulate(&setup, 400, 21);
        let [zf, mmse, vblast, oamp, ml] = [
            Method::Zf,
            Method::Mmse,
            Method::Vblast,
            Method::Oamp,
            Method::Ml,
        ]
        .map(|m| ser(&batch, m));
        assert!(
            ml <= oamp && ml <= vblast,
            "ML {ml}, OAMP {oamp}, V-BLAST {vblast}"
        );
        assert!(
            vblast < mmse && mmse < zf,
            "V-BLAST {vblast}, LMMSE {mmse}, ZF {zf}"
        );
        assert!(oamp < mmse, "OAMP {oamp} vs LMMSE {mmse}");
    }

    #[test]
    fn inspection_runs_what_it_can_and_says_why_not_the_rest() {
        let setup = Setup {
            users: 4,
            antennas: 8,
            modulation: Modulation::Qam16,
            snr_db: 14.0,
            rho: 0.0,
        };
        let inspection = inspect(
            &setup,
            20,
            3,
            &[],
            OAMP_ITERATIONS,
            &Device::flex(),
            &|| false,
        )
        .expect("ran");
        assert_eq!(inspection.runs.len(), 5);
        assert_eq!(inspection.skipped.len(), 3, "{:?}", inspection.skipped);
        let (oamp, tally) = inspection.run(Method::Oamp).expect("oamp ran");
        assert_eq!(oamp.trace.len(), OAMP_ITERATIONS);
        assert_eq!(tally.vectors(), 20);
    }
}
