//! The learned inverses of the MRI demo (burn), both fully convolutional so they run at any
//! square size (the U-Net: a multiple of 4):
//! - **U-Net** (amortized): `x = x_zf + UNet(x_zf)`, two poolings, from the zero-filled image;
//! - **RIM** (augmented), after Putzky & Welling (2017): `x_{t+1} = x_t + g_θ(∇_t, x_t, s_t)`
//!   with a convolutional GRU state `s_t`, where `∇_t = Aᴴ(A x_t − y)` is the data term's
//!   gradient computed inside the graph by the centred orthonormal DFT as matrix products
//!   (so the forward model is differentiable and checked at every step). `rim` starts from the
//!   TV estimate (`start_from_tv`): the learned steps correct the classical inverse, and with
//!   the last layer zero-initialised an untrained RIM is exactly TV. `rim-zf` is the same net
//!   started from the zero-filled image, as in the paper: a learned optimizer with no TV in it.
//!
//! Tensors are `[batch, 1, side, side]`; k-space is held as real and imaginary parts.

use std::f64::consts::PI;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rustfft::num_complex::Complex64;

use super::classical::tv_estimate;
use super::sim::{Fourier, Image, Mask};
use crate::activation::{sigmoid, tanh};
use crate::channels_last::{avg_pool2, conv_transpose2, conv2d};
use crate::stored_model::{Learned, NetSpec, Shipped};

/// The three learned MRI models.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum MriKind {
    // The RIM from TV. (Plain comments: a doc comment would add a line to `--help`.)
    #[serde(rename = "rim")]
    Rim,
    // The RIM from zero filling.
    #[serde(rename = "rim-zf")]
    RimZf,
    #[serde(rename = "unet")]
    Unet,
}

impl MriKind {
    pub const ALL: [MriKind; 3] = [MriKind::Rim, MriKind::RimZf, MriKind::Unet];

    /// The name on the command line and in model files.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rim => "rim",
            Self::RimZf => "rim-zf",
            Self::Unet => "unet",
        }
    }
}

/// What a model file records to rebuild the network.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MriModelConfig {
    pub kind: MriKind,
    /// Feature channels (the U-Net doubles them at each level).
    pub channels: usize,
    /// RIM steps.
    pub steps: usize,
    /// RIM recurrent layers: 1 (one conv-GRU) or 2 (a second conv-GRU after a dilated
    /// convolution, as the RIMs for MRI of Lønning et al. 2019). Files from before this field
    /// have one.
    #[serde(default = "one_layer")]
    pub layers: usize,
    /// The RIM starts from the TV estimate (the classical inverse it augments) instead of the
    /// zero-filled image.
    #[serde(default)]
    pub start_from_tv: bool,
}

fn one_layer() -> usize {
    1
}

impl MriModelConfig {
    pub fn rim() -> Self {
        Self {
            kind: MriKind::Rim,
            channels: 24,
            steps: 8,
            layers: 1,
            start_from_tv: true,
        }
    }

    /// Putzky & Welling's RIM proper: 8 learned steps from the zero-filled image, driven by
    /// the data term's gradient alone (no TV anywhere): a learned optimizer.
    pub fn rim_zf() -> Self {
        Self {
            kind: MriKind::RimZf,
            start_from_tv: false,
            ..Self::rim()
        }
    }

    pub fn unet() -> Self {
        Self {
            kind: MriKind::Unet,
            channels: 16,
            steps: 1,
            layers: 1,
            start_from_tv: false,
        }
    }

    pub fn is_rim(&self) -> bool {
        self.kind != MriKind::Unet
    }
}

/// He initialisation: keeps the signal's scale through ReLU layers. (burn's default, PyTorch's,
/// shrinks it about 2.4× per layer: through the U-Net's dozen layers the features reached the
/// output 10⁻⁴ too small, and it barely trained.)
fn he_init() -> Initializer {
    Initializer::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
        fan_out_only: false,
    }
}

fn conv3(input: usize, output: usize, dilation: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [3, 3])
        .with_initializer(he_init())
        .with_dilation([dilation, dilation])
        .with_padding(PaddingConfig2d::Explicit(
            dilation, dilation, dilation, dilation,
        ))
        .init(device)
}

fn conv1(input: usize, output: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [1, 1])
        .with_initializer(he_init())
        .init(device)
}

/// The centred orthonormal DFT matrix `W[k, m] = e^{−2πi (k−c)(m−c)/n} / √n` (c = n/2), which
/// equals numpy's `fftshift(fft(ifftshift(·), norm="ortho"))` for even n; symmetric.
pub struct DftMatrices {
    real: Tensor<2>,
    imag: Tensor<2>,
}

impl DftMatrices {
    pub fn new(side: usize, device: &Device) -> Self {
        let c = (side / 2) as f64;
        let scale = 1.0 / (side as f64).sqrt();
        let mut re = Vec::with_capacity(side * side);
        let mut im = Vec::with_capacity(side * side);
        for k in 0..side {
            for m in 0..side {
                let phase = -2.0 * PI * (k as f64 - c) * (m as f64 - c) / side as f64;
                re.push((phase.cos() * scale) as f32);
                im.push((phase.sin() * scale) as f32);
            }
        }
        Self {
            real: Tensor::from_data(TensorData::new(re, [side, side]), device),
            imag: Tensor::from_data(TensorData::new(im, [side, side]), device),
        }
    }

    /// `X W` for a stack of `[b, n, n]` matrices (2-D matmuls on `[b·n, n]`).
    fn right(&self, x: Tensor<3>, w: &Tensor<2>) -> Tensor<3> {
        let [b, n, _] = x.dims();
        x.reshape([b * n, n]).matmul(w.clone()).reshape([b, n, n])
    }

    /// `W X` (W symmetric: `(Xᵀ W)ᵀ`).
    fn left(&self, x: Tensor<3>, w: &Tensor<2>) -> Tensor<3> {
        self.right(x.swap_dims(1, 2), w).swap_dims(1, 2)
    }

    /// `F x` of a real `[b, n, n]` stack, as (real, imaginary).
    pub fn forward_real(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let (wr, wi) = (&self.real, &self.imag);
        let ar = self.right(x.clone(), wr);
        let ai = self.right(x, wi);
        let kr = self.left(ar.clone(), wr) - self.left(ai.clone(), wi);
        let ki = self.left(ai, wr) + self.left(ar, wi);
        (kr, ki)
    }

    /// `Re(Fᴴ k)` with `Fᴴ k = W̄ k W̄`.
    pub fn adjoint_real(&self, kr: Tensor<3>, ki: Tensor<3>) -> Tensor<3> {
        let (wr, wi) = (&self.real, &self.imag);
        let br = self.right(kr.clone(), wr) + self.right(ki.clone(), wi);
        let bi = self.right(ki, wr) - self.right(kr, wi);
        self.left(br, wr) + self.left(bi, wi)
    }
}

/// A batch of measurements as tensors: k-space `[b, n, n]` (real, imaginary), mask `[b, n, n]`.
pub struct MeasurementBatch {
    pub side: usize,
    pub kspace_real: Tensor<3>,
    pub kspace_imag: Tensor<3>,
    pub mask: Tensor<3>,
    /// Where the RIM starts (`[b, 1, n, n]`); the zero-filled image when `None`.
    pub start: Option<Tensor<4>>,
}

impl MeasurementBatch {
    pub fn new(items: &[(&[Complex64], &Mask)], device: &Device) -> Self {
        let side = items.first().map_or(0, |(_, m)| m.side);
        let b = items.len();
        let mut re = Vec::with_capacity(b * side * side);
        let mut im = Vec::with_capacity(b * side * side);
        let mut mask = Vec::with_capacity(b * side * side);
        for (k, m) in items {
            for (v, &s) in k.iter().zip(&m.sampled) {
                let keep = if s { 1.0 } else { 0.0 };
                re.push((v.re * keep) as f32);
                im.push((v.im * keep) as f32);
                mask.push(keep as f32);
            }
        }
        let t = |data: Vec<f32>| Tensor::from_data(TensorData::new(data, [b, side, side]), device);
        Self {
            side,
            kspace_real: t(re),
            kspace_imag: t(im),
            mask: t(mask),
            start: None,
        }
    }

    /// Starts the RIM from these images instead of the zero-filled ones.
    pub fn with_start(mut self, start: &[Image], device: &Device) -> Self {
        self.start = Some(images_tensor(start, device));
        self
    }

    fn start_or_zero_filled(&self, dft: &DftMatrices) -> Tensor<4> {
        self.start.clone().unwrap_or_else(|| self.zero_filled(dft))
    }

    /// The zero-filled images `Re(Fᴴ y)`, `[b, 1, n, n]`.
    pub fn zero_filled(&self, dft: &DftMatrices) -> Tensor<4> {
        dft.adjoint_real(self.kspace_real.clone(), self.kspace_imag.clone())
            .unsqueeze_dim(1)
    }

    /// `Aᴴ(A x − y)` for `x` `[b, 1, n, n]`.
    pub fn data_gradient(&self, x: Tensor<4>, dft: &DftMatrices) -> Tensor<4> {
        let (kr, ki) = dft.forward_real(x.squeeze_dim(1));
        let rr = (kr - self.kspace_real.clone()) * self.mask.clone();
        let ri = (ki - self.kspace_imag.clone()) * self.mask.clone();
        dft.adjoint_real(rr, ri).unsqueeze_dim(1)
    }
}

/// A convolutional GRU's weights: `[z, r] = σ(gates([input, s]))`,
/// `s̃ = tanh(candidate([input, r ⊙ s]))`, `s ← s + z ⊙ (s̃ − s)`.
/// Channels last: `input`, `state` `[b, n, n, c]`.
fn gru_step(gates: &Conv2d, candidate: &Conv2d, input: Tensor<4>, state: Tensor<4>) -> Tensor<4> {
    let channels = state.dims()[3];
    let gate_values = sigmoid(conv2d(
        gates,
        Tensor::cat(vec![input.clone(), state.clone()], 3),
    ));
    let update = gate_values.clone().narrow(3, 0, channels);
    let reset = gate_values.narrow(3, channels, channels);
    let fresh = tanh(conv2d(
        candidate,
        Tensor::cat(vec![input, reset * state.clone()], 3),
    ));
    state.clone() + update * (fresh - state)
}

/// The second recurrent layer of a two-layer RIM: a dilated convolution, then a conv-GRU.
#[derive(Module, Debug)]
pub struct RimSecondLayer {
    input: Conv2d,
    gates: Conv2d,
    candidate: Conv2d,
}

/// The RIM's update network: features of (x, ∇), one or two convolutional GRUs, the step.
/// The first layer's weights sit at the top level so that one-layer files keep loading.
#[derive(Module, Debug)]
pub struct Rim {
    features: Conv2d,
    gates: Conv2d,
    candidate: Conv2d,
    second: Option<RimSecondLayer>,
    out_hidden: Conv2d,
    out_step: Conv2d,
}

impl Rim {
    pub fn new(config: &MriModelConfig, device: &Device) -> Self {
        let c = config.channels;
        Self {
            features: conv3(2, c, 1, device),
            gates: conv1(2 * c, 2 * c, device),
            // Dilated: the state sees further at the same cost.
            candidate: conv3(2 * c, c, 2, device),
            second: (config.layers > 1).then(|| RimSecondLayer {
                input: conv3(c, c, 2, device),
                gates: conv1(2 * c, 2 * c, device),
                candidate: conv3(2 * c, c, 1, device),
            }),
            out_hidden: conv3(c, c, 1, device),
            // Zero: the untrained RIM stays at its start.
            out_step: Conv2dConfig::new([c, 1], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    /// Estimates after every step, each `[b, 1, n, n]`. Inside, the features are channels
    /// last (`[b, n, n, c]`), where a convolution is one matmul (`crate::channels_last`); an
    /// image's one channel is the same memory either way.
    pub fn forward(
        &self,
        batch: &MeasurementBatch,
        dft: &DftMatrices,
        steps: usize,
    ) -> Vec<Tensor<4>> {
        let start = batch.start_or_zero_filled(dft);
        let [b, _, n, _] = start.dims();
        let mut x = start.reshape([b, n, n, 1]);
        let channels = self.features.weight.dims()[0];
        let zeros = || Tensor::<4>::zeros([b, n, n, channels], &x.device());
        let mut state = zeros();
        let mut second_state = self.second.as_ref().map(|_| zeros());
        let mut outputs = Vec::with_capacity(steps);
        for _ in 0..steps {
            let gradient = batch
                .data_gradient(x.clone().reshape([b, 1, n, n]), dft)
                .reshape([b, n, n, 1]);
            let features = relu(conv2d(
                &self.features,
                Tensor::cat(vec![x.clone(), gradient], 3),
            ));
            state = gru_step(&self.gates, &self.candidate, features, state);
            let mut top = state.clone();
            if let (Some(layer), Some(s2)) = (&self.second, second_state.take()) {
                let input = relu(conv2d(&layer.input, top));
                top = gru_step(&layer.gates, &layer.candidate, input, s2);
                second_state = Some(top.clone());
            }
            let step = conv2d(&self.out_step, relu(conv2d(&self.out_hidden, top)));
            x = x + step;
            outputs.push(x.clone().reshape([b, 1, n, n]));
        }
        outputs
    }
}

#[derive(Module, Debug)]
pub struct DoubleConv {
    first: Conv2d,
    second: Conv2d,
}

impl DoubleConv {
    fn new(input: usize, output: usize, device: &Device) -> Self {
        Self {
            first: conv3(input, output, 1, device),
            second: conv3(output, output, 1, device),
        }
    }

    /// Channels last.
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(conv2d(&self.second, relu(conv2d(&self.first, x))))
    }
}

/// A small U-Net (two levels down, residual on the zero-filled image).
#[derive(Module, Debug)]
pub struct UNet {
    enc0: DoubleConv,
    enc1: DoubleConv,
    bottom: DoubleConv,
    /// 2×2 average pooling (`channels_last::avg_pool2` computes it; kept so that model files
    /// keep their layout).
    pool: AvgPool2d,
    up1: ConvTranspose2d,
    dec1: DoubleConv,
    up0: ConvTranspose2d,
    dec0: DoubleConv,
    out: Conv2d,
}

impl UNet {
    pub fn new(config: &MriModelConfig, device: &Device) -> Self {
        let c = config.channels;
        let up = |i: usize, o: usize| {
            ConvTranspose2dConfig::new([i, o], [2, 2])
                .with_initializer(he_init())
                .with_stride([2, 2])
                .init(device)
        };
        Self {
            enc0: DoubleConv::new(1, c, device),
            enc1: DoubleConv::new(c, 2 * c, device),
            bottom: DoubleConv::new(2 * c, 4 * c, device),
            pool: AvgPool2dConfig::new([2, 2]).init(),
            up1: up(4 * c, 2 * c),
            dec1: DoubleConv::new(4 * c, 2 * c, device),
            up0: up(2 * c, c),
            dec0: DoubleConv::new(2 * c, c, device),
            out: Conv2dConfig::new([c, 1], [1, 1])
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    /// `[b, 1, n, n]` → `[b, 1, n, n]`, n a multiple of 4. The features inside are channels
    /// last, as in the RIM.
    pub fn forward(&self, zero_filled: Tensor<4>) -> Tensor<4> {
        let [b, _, n, _] = zero_filled.dims();
        let e0 = self.enc0.forward(zero_filled.clone().reshape([b, n, n, 1]));
        let e1 = self.enc1.forward(avg_pool2(e0.clone()));
        let bottom = self.bottom.forward(avg_pool2(e1.clone()));
        let d1 = self
            .dec1
            .forward(Tensor::cat(vec![conv_transpose2(&self.up1, bottom), e1], 3));
        let d0 = self
            .dec0
            .forward(Tensor::cat(vec![conv_transpose2(&self.up0, d1), e0], 3));
        zero_filled + conv2d(&self.out, d0).reshape([b, 1, n, n])
    }
}

/// A network of either kind, with its config.
// One or two of these live at a time: their size does not matter, boxing would fight the derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum MriNet {
    Rim(Rim),
    UNet(UNet),
}

pub type MriModel = Learned<MriModelConfig>;

impl MriNet {
    pub fn new(config: &MriModelConfig, device: &Device) -> Self {
        if config.is_rim() {
            MriNet::Rim(Rim::new(config, device))
        } else {
            MriNet::UNet(UNet::new(config, device))
        }
    }
}

impl MriModel {
    pub fn new(config: MriModelConfig, device: &Device) -> Self {
        Self {
            net: MriNet::new(&config, device),
            config,
        }
    }

    /// Why this model cannot run at `side`, if it cannot.
    pub fn check_side(&self, side: usize) -> Result<(), String> {
        if !self.config.is_rim() && !side.is_multiple_of(4) {
            return Err(format!(
                "the U-Net needs a side that is a multiple of 4; this image is {side}×{side}"
            ));
        }
        Ok(())
    }

    /// Estimates after every step (the U-Net has one), each `[b, 1, n, n]`.
    pub fn forward(&self, batch: &MeasurementBatch, dft: &DftMatrices) -> Vec<Tensor<4>> {
        match &self.net {
            MriNet::Rim(rim) => rim.forward(batch, dft, self.config.steps),
            MriNet::UNet(unet) => vec![unet.forward(batch.zero_filled(dft))],
        }
    }

    /// Reconstructs one measurement; the trace of estimates as images.
    pub fn reconstruct(
        &self,
        kspace: &[Complex64],
        mask: &Mask,
        device: &Device,
    ) -> Result<Vec<Image>, String> {
        self.check_side(mask.side)?;
        let dft = DftMatrices::new(mask.side, device);
        let mut batch = MeasurementBatch::new(&[(kspace, mask)], device);
        if self.config.start_from_tv {
            let start = tv_estimate(kspace, mask, &Fourier::new(mask.side));
            batch = batch.with_start(&[start], device);
        }
        self.forward(&batch, &dft)
            .iter()
            .map(|x| tensor_image(x, mask.side))
            .collect()
    }
}

/// The first image of a `[b, 1, n, n]` tensor.
pub fn tensor_image(x: &Tensor<4>, side: usize) -> Result<Image, String> {
    tensor_images(&x.clone().narrow(0, 0, 1), side)?
        .pop()
        .flatten()
        .ok_or_else(|| "the model produced a non-finite value".into())
}

/// Every image of a `[b, 1, n, n]` tensor; `None` for one with a non-finite value.
pub fn tensor_images(x: &Tensor<4>, side: usize) -> Result<Vec<Option<Image>>, String> {
    let values: Vec<f32> = x
        .clone()
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("reading a tensor: {e:?}"))?;
    Ok(values
        .chunks(side * side)
        .map(|v| {
            v.iter().all(|p| p.is_finite()).then(|| Image {
                side,
                pixels: v.iter().map(|&p| f64::from(p)).collect(),
            })
        })
        .collect())
}

/// Images as a `[b, 1, n, n]` tensor.
pub fn images_tensor(images: &[Image], device: &Device) -> Tensor<4> {
    let side = images.first().map_or(0, |i| i.side);
    let data: Vec<f32> = images
        .iter()
        .flat_map(|i| i.pixels.iter().map(|&v| v as f32))
        .collect();
    Tensor::from_data(TensorData::new(data, [images.len(), 1, side, side]), device)
}

/// The training loss, summed over steps as Putzky & Welling do: the mean over images of
/// ln(MSE), i.e. minus the mean PSNR up to a factor, so an easy 4× image and a hard 8× one
/// weigh the same (a plain MSE lets the hard images drown out the easy ones).
pub fn step_loss(outputs: &[Tensor<4>], truth: &Tensor<4>) -> Tensor<1> {
    let [b, _, _, _] = truth.dims();
    outputs
        .iter()
        .map(|x| {
            (x.clone() - truth.clone())
                .square()
                .mean_dim(3)
                .mean_dim(2)
                .reshape([b])
                .add_scalar(1e-8)
                .log()
                .mean()
        })
        .reduce(|a, b| a + b)
        .expect("at least one step")
}

/// What the shipped model of `kind` learned from (the panel's model info; the commands are in
/// docs/mri.md, the whole training config in each file's header).
pub fn shipped_training(kind: MriKind) -> String {
    let credit = super::images::MR_CREDIT;
    match kind {
        MriKind::RimZf => format!(
            "random phantoms, then 3,081 steps on the brain-mr MR slices with a quarter phantoms \
             ({credit})"
        ),
        MriKind::Unet => format!(
            "random phantoms, then 8,060 steps on the brain-mr MR slices with a quarter phantoms \
             ({credit})"
        ),
        MriKind::Rim => format!(
            "two conv-GRU layers, from TV, 3,842 steps on the brain-mr MR slices with a third \
             phantoms ({credit})"
        ),
    }
}

/// The model file of an MRI model (its kind: `rim`, `rim-zf` or `unet`).
impl NetSpec for MriModelConfig {
    const DEMO: &'static str = super::NAME;
    const SHIPPED: &'static [Shipped] = &[
        (
            MriKind::Rim.name(),
            include_bytes!("../../../assets/mri-rim.mpk"),
        ),
        (
            MriKind::RimZf.name(),
            include_bytes!("../../../assets/mri-rim-zf.mpk"),
        ),
        (
            MriKind::Unet.name(),
            include_bytes!("../../../assets/mri-unet.mpk"),
        ),
    ];
    type Net = MriNet;

    fn file_kind(&self) -> &'static str {
        self.kind.name()
    }
    fn validate(&self) -> Result<(), String> {
        if self.kind == MriKind::RimZf && self.start_from_tv {
            return Err("a rim-zf model starts from zero filling, not from TV".into());
        }
        if !(1..=128).contains(&self.channels)
            || !(1..=64).contains(&self.steps)
            || !(1..=2).contains(&self.layers)
        {
            return Err(format!(
                "channels {} (1–128), steps {} (1–64) or layers {} (1–2) out of range",
                self.channels, self.steps, self.layers
            ));
        }
        Ok(())
    }
    fn build(&self, device: &Device) -> MriNet {
        MriNet::new(self, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mri::classical::{data_gradient, zero_filled};
    use crate::demos::mri::images::phantom;
    use crate::demos::mri::sim::{MaskKind, MeasureConfig, simulate};
    use burn::optim::{AdamConfig, GradientsParams};

    fn measured(side: usize, seed: u64) -> (Image, Vec<Complex64>, Mask) {
        let truth = phantom(side, seed);
        let m = simulate(
            &truth,
            &Fourier::new(side),
            &MeasureConfig {
                seed,
                ..MeasureConfig::new(MaskKind::Cartesian, 4.0)
            },
        )
        .expect("simulate");
        (truth, m.kspace, m.mask)
    }

    #[test]
    fn tensor_operator_matches_the_fft_operator() {
        let device = Device::flex();
        let side = 16;
        let (truth, y, mask) = measured(side, 2);
        let fourier = Fourier::new(side);
        let dft = DftMatrices::new(side, &device);
        let batch = MeasurementBatch::new(&[(&y, &mask)], &device);
        let zf = tensor_image(&batch.zero_filled(&dft), side).expect("zf");
        let expected = zero_filled(&y, &mask, &fourier);
        assert!(
            zf.pixels
                .iter()
                .zip(&expected.pixels)
                .all(|(a, b)| (a - b).abs() < 1e-4)
        );
        let x = images_tensor(std::slice::from_ref(&truth), &device);
        let g = tensor_image(&batch.data_gradient(x, &dft), side).expect("grad");
        let expected = data_gradient(&truth, &y, &mask, &fourier);
        assert!(
            g.pixels
                .iter()
                .zip(&expected.pixels)
                .all(|(a, b)| (a - b).abs() < 1e-4)
        );
    }

    #[test]
    fn models_keep_the_shape_at_every_size() {
        let device = Device::flex();
        let two_layers = MriModelConfig {
            layers: 2,
            ..MriModelConfig::rim()
        };
        for config in [MriModelConfig::rim(), two_layers, MriModelConfig::unet()] {
            let config = MriModelConfig {
                channels: 4,
                steps: 2,
                ..config
            };
            let model = MriModel::new(config, &device);
            for side in [32, 64] {
                let (_, y, mask) = measured(side, 1);
                let trace = model.reconstruct(&y, &mask, &device).expect("run");
                assert!(!trace.is_empty() && trace.iter().all(|i| i.side == side));
            }
        }
        let unet = MriModel::new(MriModelConfig::unet(), &device);
        assert!(unet.check_side(30).is_err());
    }

    #[test]
    fn rim_loss_decreases_on_a_tiny_problem() {
        assert_loss_decreases(MriModelConfig {
            channels: 8,
            steps: 3,
            ..MriModelConfig::rim()
        });
    }

    #[test]
    fn unet_loss_decreases_on_a_tiny_problem() {
        assert_loss_decreases(MriModelConfig {
            channels: 8,
            ..MriModelConfig::unet()
        });
    }

    fn assert_loss_decreases(config: MriModelConfig) {
        let device = Device::flex().autodiff();
        device.seed(5);
        let side = 16;
        let items: Vec<_> = (0..2).map(|s| measured(side, s)).collect();
        let pairs: Vec<(&[Complex64], &Mask)> =
            items.iter().map(|(_, y, m)| (y.as_slice(), m)).collect();
        let batch = MeasurementBatch::new(&pairs, &device);
        let truths: Vec<Image> = items.iter().map(|(t, _, _)| t.clone()).collect();
        let truth = images_tensor(&truths, &device);
        let dft = DftMatrices::new(side, &device);
        let mut model = MriModel::new(config, &device);
        let mut optimizer = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..80 {
            let loss = step_loss(&model.forward(&batch, &dft), &truth);
            losses.push(f64::from(loss.clone().into_scalar::<f32>()));
            let grads = GradientsParams::from_grads(loss.backward(), &model.net);
            model.net = optimizer.step(5e-3, model.net, grads);
        }
        // The loss is Σ_steps ln MSE: a drop of 0.5 is a 1.6× smaller error at some steps.
        let last = losses[75..].iter().sum::<f64>() / 5.0;
        assert!(last < losses[0] - 0.5, "{} → {last}: {losses:?}", losses[0]);
    }

    #[test]
    fn shipped_models_load_and_improve_on_zero_filling() {
        use crate::demos::mri::classical::zero_filled;
        use crate::demos::mri::images::phantom;
        use crate::demos::mri::metrics::psnr;
        use crate::demos::mri::sim::{Fourier, MaskKind, MeasureConfig, simulate};
        let device = Device::flex();
        let fourier = Fourier::new(64);
        let truth = phantom(64, 123_456);
        let m = simulate(
            &truth,
            &fourier,
            &MeasureConfig::new(MaskKind::Cartesian, 4.0),
        )
        .expect("simulate");
        let zf = psnr(&zero_filled(&m.kspace, &m.mask, &fourier), &truth);
        // The RIM starts from TV: far above zero filling. The U-Net and the zero-filled RIM
        // start from zero filling and must not fall below it.
        for (kind, margin) in [
            (MriKind::Rim, 2.0),
            (MriKind::RimZf, 0.0),
            (MriKind::Unet, 0.0),
        ] {
            let model: MriModel =
                crate::stored_model::shipped(kind.name(), &device).expect("shipped model");
            let trace = model.reconstruct(&m.kspace, &m.mask, &device).expect("run");
            let got = psnr(&trace.last().expect("steps").clamped(), &truth);
            assert!(
                got > zf + margin,
                "{kind:?}: {got:.2} dB vs zero-filled {zf:.2} dB"
            );
        }
    }
}
