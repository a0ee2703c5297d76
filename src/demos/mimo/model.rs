//! The MIMO demo's learned detectors in burn (one code path on every device).
//!
//! - **OAMP-Net2** (He, Wen, Jin & Li 2020): OAMP of [`super::oamp`] unrolled for T iterations,
//!   with four learned scalars per iteration (γ, θ, φ, ξ): 4T numbers in all.
//! - **DetNet** (Samuel, Diskin & Wiesel 2019): a deep unfolded network with many weights. Each
//!   layer reads a learned gradient step q = x̂ + δ₁Hᵀy − δ₂HᵀHx̂ and its state v, and a
//!   fully connected layer (ReLU) gives the next soft estimate and state; for QAM the estimate
//!   is a softmax over each dimension's levels (the paper's one-hot variant), and each layer's
//!   output is mixed 0.9/0.1 with the previous one, as in the paper. It never runs the forward
//!   model's inverse or checks its estimate against y beyond that gradient: the amortized
//!   detector of the comparison, scaled to these cores (10 layers, 4n hidden units, n = 2N_t).
//!
//! - **RE-MIMO of our scale** (after Pratik, Rao & Welling 2021): a recurrent,
//!   permutation-equivariant network over users. At every iteration each user is a token that
//!   reads OAMP's linear stage on the residual (r = x̂ + Ŵ(y − Hx̂), its own predicted error along
//!   its two real dimensions), the matched residual [Hᵀ(y − Hx̂)]_k, its channel gain ‖h_k‖² and
//!   the noise; one self-attention layer over the users (its scores biased by how strongly two
//!   users' channels overlap, |h_kᴴh_j| / ‖h_k‖‖h_j‖) and a gated recurrent update of each user's
//!   state, the same weights at every iteration, give corrections to the log-posterior of each
//!   level. Its logits start at zero, so an untrained RE-MIMO is OAMP-Net2's iteration; γ, θ, φ,
//!   ξ are learned beside it. The paper's network reads y and h_k raw and learns the channel
//!   inverse itself (d_model 512, days on a GPU); on two cores a blind network does not learn
//!   that (DetNet's row in docs/mimo.md), so ours keeps OAMP's linear stage and learns the
//!   denoiser and the users' interplay.
//!
//! Each is trained on simulated channels of one size, modulation and channel model: one model
//! per setting.

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor, TensorData};

use super::classical::{
    Prepared, correction_row, extrinsic, iterate, level_logits, level_moments, level_tensor,
    linear_stage,
};
use super::sim::Modulation;
use crate::activation::{sigmoid, tanh};
use crate::stored_model::{Learned, NetSpec, Shipped};

/// Which learned detector a model is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NetKind {
    #[default]
    OampNet,
    DetNet,
    ReMimo,
}

impl NetKind {
    /// The file kind.
    pub fn file_kind(self) -> &'static str {
        match self {
            Self::OampNet => "oampnet",
            Self::DetNet => "detnet",
            Self::ReMimo => "remimo",
        }
    }
}

/// What a model was trained for, and its size: stored in its file's header, checked on load and
/// against the vectors it is asked to detect.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MimoConfig {
    #[serde(default)]
    pub kind: NetKind,
    pub users: usize,
    pub antennas: usize,
    pub modulation: Modulation,
    /// The channel model it was trained on (exponential correlation; 0: i.i.d.).
    pub rho: f64,
    /// Unrolled iterations (layers).
    pub iterations: usize,
    /// DetNet's hidden units per layer, RE-MIMO's state per user (0 for OAMP-Net2).
    #[serde(default)]
    pub hidden: usize,
}

impl MimoConfig {
    /// A detector of `kind` for this setting: 10 iterations; DetNet with 4n hidden units,
    /// RE-MIMO with a state of 32 per user.
    pub fn new(
        kind: NetKind,
        users: usize,
        antennas: usize,
        modulation: Modulation,
        rho: f64,
    ) -> Self {
        Self {
            kind,
            users,
            antennas,
            modulation,
            rho,
            iterations: super::methods::OAMP_ITERATIONS,
            hidden: match kind {
                NetKind::OampNet => 0,
                NetKind::DetNet => 8 * users,
                NetKind::ReMimo => REMIMO_STATE,
            },
        }
    }

    /// Whether this model detects `users` × `antennas` vectors of `modulation`, or why not.
    pub fn fits(
        &self,
        users: usize,
        antennas: usize,
        modulation: Modulation,
    ) -> Result<(), String> {
        if (self.users, self.antennas, self.modulation) != (users, antennas, modulation) {
            return Err(format!(
                "the model was trained for {}×{} {} (N_r × N_t), not {antennas}×{users} {}",
                self.antennas,
                self.users,
                self.modulation.name(),
                modulation.name()
            ));
        }
        Ok(())
    }

    /// Real dimensions n = 2N_t.
    pub fn dims(&self) -> usize {
        2 * self.users
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {}×{} {}, {}",
            self.kind.file_kind(),
            self.antennas,
            self.users,
            self.modulation.name(),
            super::sim::channel_name(self.rho)
        )
    }
}

/// One DetNet layer.
#[derive(Module, Debug)]
pub struct DetNetLayer {
    /// (δ₁, δ₂): the learned gradient step's sizes.
    step: Param<Tensor<1>>,
    hidden: Linear,
    symbols: Linear,
    state: Linear,
}

/// RE-MIMO's state per user by default.
pub const REMIMO_STATE: usize = 32;

/// What a RE-MIMO token reads per user at each iteration (see [`ReMimoCell::features`]).
const REMIMO_FEATURES: usize = 15;

/// RE-MIMO's cell, shared by every iteration and every user.
#[derive(Module, Debug)]
pub struct ReMimoCell {
    embed: Linear,
    query: Linear,
    key: Linear,
    value: Linear,
    /// The weight of the channels' overlap in the attention scores.
    overlap: Param<Tensor<1>>,
    gate: Linear,
    candidate: Linear,
    /// State → corrections to the log-posterior of each level of the user's two dimensions.
    logits: Linear,
}

/// What RE-MIMO reads of a channel once: the users' channel gains and their overlaps.
struct Geometry {
    /// (V ⊙ V), `[B, n, n]`: maps a spectrum along eigenvectors to variances per dimension.
    squared_basis: Tensor<3>,
    /// ln ‖h_k‖², `[B, U, 1]`.
    log_gain: Tensor<3>,
    /// |h_kᴴh_j| / (‖h_k‖‖h_j‖), `[B, U, U]`.
    overlap: Tensor<3>,
}

impl Geometry {
    fn new(prepared: &Prepared) -> Self {
        let (b, n) = (prepared.batch(), prepared.dims());
        let users = n / 2;
        let basis = prepared.eigenvectors.clone();
        // HᵀH = V diag(λ) Vᵀ; in the real form its blocks are [[A, −B], [B, A]] with
        // HᴴH = A + jB.
        let gram = (basis.clone() * prepared.eigenvalues.clone().unsqueeze_dim::<3>(1))
            .matmul(basis.clone().swap_dims(1, 2));
        let real = gram.clone().slice([0..b, 0..users, 0..users]);
        let imaginary = gram.slice([0..b, users..n, 0..users]);
        let squared_basis = basis.clone() * basis;
        let gains = squared_basis
            .clone()
            .matmul(prepared.eigenvalues.clone().unsqueeze_dim::<3>(2))
            .slice([0..b, 0..users, 0..1])
            .clamp_min(1e-12);
        let norms = gains.clone().sqrt();
        let overlap = (real.clone() * real + imaginary.clone() * imaginary).sqrt()
            / (norms.clone() * norms.swap_dims(1, 2));
        Self {
            squared_basis,
            log_gain: gains.log(),
            overlap,
        }
    }
}

/// `[B, n]` in the real form ([Re x; Im x]) as tokens `[B, U, 2]`, one per user.
fn per_user(x: Tensor<2>) -> Tensor<3> {
    let [b, n] = x.dims();
    x.reshape([b, 2, n / 2]).swap_dims(1, 2)
}

impl ReMimoCell {
    fn new(levels: usize, state: usize, device: &Device) -> Self {
        let linear = |from: usize, to: usize| LinearConfig::new(from, to).init(device);
        Self {
            embed: linear(REMIMO_FEATURES + state, state),
            query: linear(state, state),
            key: linear(state, state),
            value: linear(state, state),
            overlap: Param::from_tensor(Tensor::zeros([1], device)),
            gate: linear(2 * state, state),
            candidate: linear(2 * state, state),
            // Zero: an untrained RE-MIMO is OAMP-Net2's iteration.
            logits: LinearConfig::new(state, 2 * levels)
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    /// Each user's features `[B, U, 15]`: r (2), x̂ (2), the matched residual per unit gain (2),
    /// ln of its predicted error per dimension relative to τ² (2), the Gaussian posterior mean
    /// (2) and variance (2) of OAMP's denoiser, ln τ², ln σ², ln ‖h_k‖².
    #[allow(clippy::too_many_arguments)]
    fn features(
        prepared: &Prepared,
        geometry: &Geometry,
        estimate: &Tensor<2>,
        linear: &Tensor<2>,
        spectrum: &Tensor<2>,
        tau2: &Tensor<2>,
        mean: &Tensor<2>,
        variance: &Tensor<2>,
    ) -> Tensor<3> {
        let (b, n) = (prepared.batch(), prepared.dims());
        let users = n / 2;
        let residual = prepared.unrotate(
            prepared.projected.clone()
                - prepared.eigenvalues.clone() * prepared.rotate(estimate.clone()),
        );
        let gain = geometry.log_gain.clone().exp();
        let error = geometry
            .squared_basis
            .clone()
            .matmul(spectrum.clone().unsqueeze_dim::<3>(2))
            .reshape([b, n])
            .clamp_min(1e-12);
        let broadcast = |t: Tensor<2>| t.unsqueeze_dim::<3>(1).expand([b, users, 1]);
        Tensor::cat(
            vec![
                per_user(linear.clone()),
                per_user(estimate.clone()),
                per_user(residual) / gain,
                per_user((error / tau2.clone()).log()),
                per_user(mean.clone()),
                per_user(variance.clone()),
                broadcast(tau2.clone().log()),
                broadcast(Tensor::full([b, 1], prepared.noise.ln(), &tau2.device())),
                geometry.log_gain.clone(),
            ],
            2,
        )
    }

    /// One step of every user's state from its features: `[B, U, d]`.
    fn advance(&self, features: Tensor<3>, state: Tensor<3>, overlap: &Tensor<3>) -> Tensor<3> {
        let [_, _, width] = state.dims();
        let token = relu(
            self.embed
                .forward(Tensor::cat(vec![features, state.clone()], 2)),
        );
        let scores = self
            .query
            .forward(token.clone())
            .matmul(self.key.forward(token.clone()).swap_dims(1, 2))
            / (width as f64).sqrt()
            + overlap.clone() * self.overlap.val().reshape([1, 1, 1]);
        let context = softmax(scores, 2).matmul(self.value.forward(token.clone()));
        let input = Tensor::cat(vec![token, context], 2);
        let keep = sigmoid(self.gate.forward(input.clone()));
        let fresh = tanh(self.candidate.forward(input));
        keep.clone() * state + (keep.neg() + 1.0) * fresh
    }

    /// Corrections to the level logits of the real form's dimensions, `[B, n, L]`.
    fn corrections(&self, state: Tensor<3>) -> Tensor<3> {
        let [b, users, _] = state.dims();
        let out = self.logits.forward(state);
        let levels = out.dims()[2] / 2;
        out.reshape([b, users, 2, levels])
            .swap_dims(1, 2)
            .reshape([b, 2 * users, levels])
    }
}

/// The learned detectors: OAMP-Net2's rows (γ, θ, φ, ξ) per iteration, ones being OAMP; DetNet's
/// layers; RE-MIMO's cell beside its own rows (as the config's kind says).
#[derive(Module, Debug)]
pub struct MimoNet {
    pub corrections: Option<Param<Tensor<2>>>,
    pub layers: Vec<DetNetLayer>,
    pub cell: Option<ReMimoCell>,
}

/// The share of a DetNet layer's new output in its estimate and state (the rest: the old).
const DETNET_MIX: f32 = 0.9;

impl MimoNet {
    pub fn new(config: &MimoConfig, device: &Device) -> Self {
        match config.kind {
            NetKind::OampNet | NetKind::ReMimo => Self {
                corrections: Some(Param::from_tensor(Tensor::ones(
                    [config.iterations, 4],
                    device,
                ))),
                layers: Vec::new(),
                cell: (config.kind == NetKind::ReMimo).then(|| {
                    ReMimoCell::new(config.modulation.levels().len(), config.hidden, device)
                }),
            },
            NetKind::DetNet => {
                let n = config.dims();
                let levels = config.modulation.levels().len();
                let layers = (0..config.iterations)
                    .map(|_| DetNetLayer {
                        step: Param::from_tensor(Tensor::from_data(
                            TensorData::new(vec![0.5f32, 0.5], [2]),
                            device,
                        )),
                        hidden: LinearConfig::new(2 * n, config.hidden).init(device),
                        symbols: LinearConfig::new(config.hidden, n * levels).init(device),
                        state: LinearConfig::new(config.hidden, n).init(device),
                    })
                    .collect();
                Self {
                    corrections: None,
                    layers,
                    cell: None,
                }
            }
        }
    }

    /// OAMP-Net2's rows (γ, θ, φ, ξ), for the panel and the docs (empty for DetNet).
    pub fn rows(&self) -> Vec<[f32; 4]> {
        self.corrections
            .as_ref()
            .map(|c| c.val().into_data().try_to_vec::<f32>().unwrap_or_default())
            .unwrap_or_default()
            .chunks(4)
            .map(|r| [r[0], r[1], r[2], r[3]])
            .collect()
    }

    /// The soft estimate after each of the first `iterations` iterations (layers).
    pub fn estimates(
        &self,
        prepared: &Prepared,
        modulation: Modulation,
        iterations: usize,
    ) -> Vec<Tensor<2>> {
        match (&self.corrections, &self.cell) {
            (Some(corrections), cell) => {
                let [trained, _] = corrections.val().dims();
                let kept = iterations.clamp(1, trained);
                let rows = corrections.val().slice([0..kept, 0..4]);
                match cell {
                    Some(cell) => remimo(cell, prepared, rows, modulation),
                    None => iterate(prepared, rows, modulation)
                        .into_iter()
                        .map(|s| s.estimate)
                        .collect(),
                }
            }
            (None, _) => self.detnet(prepared, modulation, iterations),
        }
    }

    fn detnet(
        &self,
        prepared: &Prepared,
        modulation: Modulation,
        iterations: usize,
    ) -> Vec<Tensor<2>> {
        let device = prepared.eigenvalues.device();
        let (b, n) = (prepared.batch(), prepared.dims());
        let levels = level_tensor(modulation, &device);
        let count = modulation.levels().len();
        let matched = prepared.matched();
        let mut estimate = Tensor::<2>::zeros([b, n], &device);
        let mut state = Tensor::<2>::zeros([b, n], &device);
        let mut out = Vec::new();
        for layer in self.layers.iter().take(iterations.max(1)) {
            let step = layer.step.val();
            let (d1, d2) = (
                step.clone().narrow(0, 0, 1).unsqueeze::<2>(),
                step.narrow(0, 1, 1).unsqueeze::<2>(),
            );
            let q = estimate.clone() + d1 * matched.clone()
                - d2 * prepared.gram_times(estimate.clone());
            let z = relu(layer.hidden.forward(Tensor::cat(vec![q, state.clone()], 1)));
            let logits = layer.symbols.forward(z.clone()).reshape([b, n, count]);
            let soft = (softmax(logits, 2) * levels.clone())
                .sum_dim(2)
                .reshape([b, n]);
            estimate = soft * DETNET_MIX + estimate * (1.0 - DETNET_MIX);
            state = layer.state.forward(z) * DETNET_MIX + state * (1.0 - DETNET_MIX);
            out.push(estimate.clone());
        }
        out
    }
}

/// RE-MIMO's soft estimate after each iteration: OAMP-Net2's linear stage with `rows`, the
/// cell's corrections added to the denoiser's log-posterior of each level.
fn remimo(
    cell: &ReMimoCell,
    prepared: &Prepared,
    rows: Tensor<2>,
    modulation: Modulation,
) -> Vec<Tensor<2>> {
    let device = prepared.eigenvalues.device();
    let (b, n) = (prepared.batch(), prepared.dims());
    let [iterations, _] = rows.dims();
    let [_, width] = cell.embed.weight.val().dims();
    let levels = level_tensor(modulation, &device);
    let geometry = Geometry::new(prepared);
    let mut estimate = Tensor::<2>::zeros([b, n], &device);
    let mut state = Tensor::<3>::zeros([b, n / 2, width], &device);
    let mut out = Vec::with_capacity(iterations);
    for t in 0..iterations {
        let [gamma, theta, phi, xi] = correction_row(&rows, t);
        let stage = linear_stage(prepared, estimate.clone(), gamma, theta);
        let logits = level_logits(stage.linear.clone(), stage.tau2.clone(), levels.clone());
        let (mean, variance) = level_moments(logits.clone(), levels.clone());
        let features = ReMimoCell::features(
            prepared,
            &geometry,
            &estimate,
            &stage.linear,
            &stage.spectrum,
            &stage.tau2,
            &mean,
            &variance,
        );
        state = cell.advance(features, state, &geometry.overlap);
        let (mean, variance) =
            level_moments(logits + cell.corrections(state.clone()), levels.clone());
        estimate = extrinsic(mean.clone(), variance, stage.linear, stage.tau2, phi, xi);
        out.push(mean);
    }
    out
}

/// A trained detector with what it was trained for.
pub type MimoModel = Learned<MimoConfig>;

// Made by `mimo train` (the commands in docs/mimo.md).
const SHIPPED_OAMPNET_32X16_QPSK: &[u8] =
    include_bytes!("../../../assets/mimo-oampnet-32x16-qpsk.mpk");
const SHIPPED_OAMPNET_64X32_16QAM: &[u8] =
    include_bytes!("../../../assets/mimo-oampnet-64x32-16qam.mpk");
const SHIPPED_OAMPNET_64X32_16QAM_RHO: &[u8] =
    include_bytes!("../../../assets/mimo-oampnet-64x32-16qam-rho0.7.mpk");
const SHIPPED_DETNET_64X32_16QAM: &[u8] =
    include_bytes!("../../../assets/mimo-detnet-64x32-16qam.mpk");
const SHIPPED_DETNET_32X16_QPSK: &[u8] =
    include_bytes!("../../../assets/mimo-detnet-32x16-qpsk.mpk");
const SHIPPED_DETNET_64X32_16QAM_RHO: &[u8] =
    include_bytes!("../../../assets/mimo-detnet-64x32-16qam-rho0.7.mpk");
const SHIPPED_REMIMO_32X16_QPSK: &[u8] =
    include_bytes!("../../../assets/mimo-remimo-32x16-qpsk.mpk");
const SHIPPED_REMIMO_64X32_16QAM: &[u8] =
    include_bytes!("../../../assets/mimo-remimo-64x32-16qam.mpk");
const SHIPPED_REMIMO_64X32_16QAM_RHO: &[u8] =
    include_bytes!("../../../assets/mimo-remimo-64x32-16qam-rho0.7.mpk");

impl NetSpec for MimoConfig {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[
        ("oampnet", SHIPPED_OAMPNET_32X16_QPSK),
        ("oampnet", SHIPPED_OAMPNET_64X32_16QAM),
        ("oampnet", SHIPPED_OAMPNET_64X32_16QAM_RHO),
        ("detnet", SHIPPED_DETNET_32X16_QPSK),
        ("detnet", SHIPPED_DETNET_64X32_16QAM),
        ("detnet", SHIPPED_DETNET_64X32_16QAM_RHO),
        ("remimo", SHIPPED_REMIMO_32X16_QPSK),
        ("remimo", SHIPPED_REMIMO_64X32_16QAM),
        ("remimo", SHIPPED_REMIMO_64X32_16QAM_RHO),
    ];
    type Net = MimoNet;

    fn file_kind(&self) -> &'static str {
        self.kind.file_kind()
    }
    fn validate(&self) -> Result<(), String> {
        let setup = super::sim::Setup {
            users: self.users,
            antennas: self.antennas,
            modulation: self.modulation,
            snr_db: 0.0,
            rho: self.rho,
        };
        setup.validate()?;
        if !(1..=50).contains(&self.iterations) {
            return Err(format!("iterations {} must be in 1..=50", self.iterations));
        }
        if self.kind != NetKind::OampNet && !(4..=4096).contains(&self.hidden) {
            return Err(format!(
                "{}'s hidden units {} must be in 4..=4096",
                self.kind.file_kind(),
                self.hidden
            ));
        }
        Ok(())
    }
    fn build(&self, device: &Device) -> MimoNet {
        MimoNet::new(self, device)
    }
}

/// The shipped model of `kind` trained for this size, modulation and ρ, if there is one.
pub fn shipped_for(
    kind: NetKind,
    users: usize,
    antennas: usize,
    modulation: Modulation,
    rho: f64,
    device: &Device,
) -> anyhow::Result<MimoModel> {
    let models: Vec<MimoModel> = crate::stored_model::all_shipped(device)?;
    models
        .into_iter()
        .find(|m| {
            m.config.kind == kind
                && m.config.fits(users, antennas, modulation).is_ok()
                && (m.config.rho - rho).abs() < 1e-9
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no shipped {} model for {antennas}×{users} {} with ρ = {rho} (docs/mimo.md lists \
                 the shipped ones); train one with `mimo train` and pass it with --model",
                kind.file_kind(),
                modulation.name()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mimo::classical::classical_corrections;
    use crate::demos::mimo::sim::{Batch, Setup, Vector, simulate};

    fn batch() -> Batch {
        let setup = Setup {
            users: 4,
            antennas: 6,
            modulation: Modulation::Qam16,
            snr_db: 14.0,
            rho: 0.5,
        };
        simulate(&setup, 3, 11)
    }

    fn remimo_config() -> MimoConfig {
        MimoConfig::new(NetKind::ReMimo, 4, 6, Modulation::Qam16, 0.5)
    }

    fn rows(estimates: &[Tensor<2>]) -> Vec<Vec<f32>> {
        estimates
            .iter()
            .map(|e| e.clone().into_data().try_to_vec::<f32>().expect("f32"))
            .collect()
    }

    #[test]
    fn an_untrained_remimo_is_oamp() {
        let device = Device::flex();
        let batch = batch();
        let prepared = Prepared::new(&batch.vectors, batch.dimension_noise(), &device);
        let net = MimoNet::new(&remimo_config(), &device);
        let got = rows(&net.estimates(&prepared, Modulation::Qam16, 10));
        let want = rows(
            &iterate(
                &prepared,
                classical_corrections(10, &device),
                Modulation::Qam16,
            )
            .into_iter()
            .map(|s| s.estimate)
            .collect::<Vec<_>>(),
        );
        assert_eq!(got.len(), 10);
        for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
    }

    /// The users' order permuted: columns k and U + k of the real channel, and what was sent.
    fn permuted(v: &Vector, order: &[usize]) -> Vector {
        let users = order.len();
        let mut channel = v.channel.clone();
        for (k, &from) in order.iter().enumerate() {
            channel.set_column(k, &v.channel.column(from));
            channel.set_column(users + k, &v.channel.column(users + from));
        }
        Vector {
            channel,
            received: v.received.clone(),
            sent: None,
        }
    }

    #[test]
    fn permuting_the_users_permutes_remimos_estimates() {
        let device = Device::flex();
        let config = remimo_config();
        let mut net = MimoNet::new(&config, &device);
        // A cell whose corrections are not zero, and attention that weighs the overlaps.
        let cell = net.cell.as_mut().expect("a RE-MIMO has a cell");
        cell.logits = LinearConfig::new(config.hidden, 8).init(&device);
        cell.overlap = Param::from_tensor(Tensor::ones([1], &device));
        let batch = batch();
        let order = [2, 0, 3, 1];
        let estimate = |vectors: &[Vector]| {
            let prepared = Prepared::new(vectors, batch.dimension_noise(), &device);
            rows(&net.estimates(&prepared, Modulation::Qam16, 10))
        };
        let plain = estimate(&batch.vectors);
        let shuffled: Vec<Vector> = batch.vectors.iter().map(|v| permuted(v, &order)).collect();
        let moved = estimate(&shuffled);
        // A trained-looking net moves the estimates away from OAMP's, so the test has teeth.
        let oamp = {
            let prepared = Prepared::new(&batch.vectors, batch.dimension_noise(), &device);
            rows(&MimoNet::new(&config, &device).estimates(&prepared, Modulation::Qam16, 10))
        };
        let departure: f32 = plain[9]
            .iter()
            .zip(&oamp[9])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            departure > 1e-2,
            "the corrections changed nothing ({departure})"
        );
        let (users, n) = (4, 8);
        for (p, m) in plain.iter().zip(&moved) {
            for v in 0..batch.vectors.len() {
                for (k, &from) in order.iter().enumerate() {
                    for part in 0..2 {
                        let want = p[v * n + part * users + from];
                        let got = m[v * n + part * users + k];
                        assert!((want - got).abs() < 1e-3, "user {k}: {got} vs {want}");
                    }
                }
            }
        }
    }
}
