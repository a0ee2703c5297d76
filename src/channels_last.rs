//! Convolutions on channels-last tensors `[batch, height, width, channels]`, each as one matrix
//! product over the shifted copies of its input (im2col), forward and backward.
//!
//! Why: burn's CPU backend (flex 0.22) computes a convolution's weight gradient as a convolution
//! whose kernel is the whole feature map, far slower than its GEMM (burn issues #5424, #5428);
//! composing the same im2col from burn's own slices and `cat` is slower still (flex copies
//! strided views element by element). So on the CPU this is one autodiff operation of its own:
//! im2col written here, products by flex's GEMM, and its backward pass by hand — the weight
//! gradient `colsᵀ · g` (split by batch), the input gradient the same convolution of `g` with
//! the taps flipped and the channels swapped. On other devices (wgpu) burn's `Conv2d` runs,
//! where autotune picks its kernels. The weights stay burn `Conv2d` modules (`[out, in, k, k]`),
//! so model files do not change. Measured in docs/speed.md.

use std::borrow::Cow;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{Device, Shape, Tensor, TensorData};
use rayon::prelude::*;

/// The zero padding `conv` applies on each side, if it is one this module handles: stride 1,
/// one group, square odd kernel, "same" output size.
fn same_padding(conv: &Conv2d) -> Result<usize, String> {
    let [kh, kw] = conv.kernel_size;
    let [dh, dw] = conv.dilation;
    let pad = dh * (kh / 2);
    let same = match &conv.padding {
        PaddingConfig2d::Same => true,
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            [*top, *left, *bottom, *right].iter().all(|&p| p == pad)
        }
        PaddingConfig2d::Valid => kh == 1,
    };
    if kh != kw || dh != dw || kh % 2 == 0 || conv.stride != [1, 1] || conv.groups != 1 || !same {
        return Err(format!(
            "a channels-last convolution needs stride 1, one group and a square odd kernel \
             with 'same' padding, not {conv:?}"
        ));
    }
    Ok(pad)
}

/// `conv` applied to `x` `[b, h, w, in]` → `[b, h, w, out]`; the same numbers as
/// `conv.forward` on the channels-first tensor.
///
/// # Panics
/// If `conv` is not one [`same_padding`] accepts (a programming error: the models build theirs).
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if let Err(e) = same_padding(conv) {
        panic!("{e}");
    }
    if x.device().without_autodiff() != Device::flex() {
        return from_channels_first(conv.forward(to_channels_first(x)));
    }
    let weight = conv.weight.val();
    let [out, inputs, k, _] = weight.dims();
    // Rows ordered (tap, input channel), as the columns are.
    let matrix = weight.permute([2, 3, 1, 0]).reshape([k * k * inputs, out]);
    let y = Tensor::<4>::from_dispatch(<Dispatch as ChannelsLastConv>::conv_channels_last(
        x.into_dispatch(),
        matrix.into_dispatch(),
        k,
        conv.dilation[0],
    ));
    match &conv.bias {
        Some(bias) => y + bias.val().reshape([1, 1, 1, out]),
        None => y,
    }
}

/// The operation, on the backends that have it (the CPU's, with and without autodiff).
#[backend_extension(Flex, Autodiff)]
pub trait ChannelsLastConv: Backend {
    /// `x` `[b, h, w, c]`, `weight` `[k·k·c, o]` (rows: tap, then channel) → `[b, h, w, o]`,
    /// taps `dilation` apart, zero padding keeping the size.
    fn conv_channels_last(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        kernel: usize,
        dilation: usize,
    ) -> FloatTensor<Self>;
}

type FlexTensor = FloatTensor<Flex>;

/// A flex tensor's values, in row-major order (copied only when it is a strided view).
pub(crate) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .map(<[f32]>::to_vec)
                .unwrap_or_default(),
        ),
    }
}

/// A flex tensor of `values`.
pub(crate) fn flex_tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    Flex::float_from_data(TensorData::new(values, shape), &Default::default())
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    let shape = t.shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// `x` `[b, h, w, c]` → the columns `[b·h·w, k·k·c]`: at each pixel, the `k²` taps' channels.
fn im2col(x: &[f32], [b, h, w, c]: [usize; 4], kernel: usize, dilation: usize) -> Vec<f32> {
    let row = kernel * kernel * c;
    let pad = (dilation * (kernel / 2)) as isize;
    let mut columns = vec![0.0; b * h * w * row];
    if columns.is_empty() {
        return columns;
    }
    columns
        .par_chunks_mut(w * row)
        .enumerate()
        .for_each(|(image_row, out)| {
            let (image, i) = (image_row / h, image_row % h);
            for tap in 0..kernel * kernel {
                let source_row = i as isize + ((tap / kernel) * dilation) as isize - pad;
                if !(0..h as isize).contains(&source_row) {
                    continue;
                }
                let base = (image * h + source_row as usize) * w;
                let shift = ((tap % kernel) * dilation) as isize - pad;
                for j in 0..w {
                    let source_column = j as isize + shift;
                    if !(0..w as isize).contains(&source_column) {
                        continue;
                    }
                    let from = (base + source_column as usize) * c;
                    let to = j * row + tap * c;
                    let (target, source) = (&mut out[to..to + c], &x[from..from + c]);
                    if c < 8 {
                        // A call to memcpy costs more than the copy of a few values.
                        for (t, s) in target.iter_mut().zip(source) {
                            *t = *s;
                        }
                    } else {
                        target.copy_from_slice(source);
                    }
                }
            }
        });
    columns
}

/// The forward pass on flex: im2col, then one GEMM.
fn forward(x: &FlexTensor, weight: &FlexTensor, kernel: usize, dilation: usize) -> FlexTensor {
    let [b, h, w, c] = dims4(x);
    let out = weight.shape()[1];
    let columns = flex_tensor(
        im2col(&values(x), [b, h, w, c], kernel, dilation),
        [b * h * w, kernel * kernel * c],
    );
    // Contiguous: flex's GEMM is several times slower on a transposed operand.
    let matrix = flex_tensor(values(weight).into_owned(), [kernel * kernel * c, out]);
    Flex::float_reshape(
        Flex::float_matmul(columns, matrix),
        Shape::new([b, h, w, out]),
    )
}

impl ChannelsLastConv for Flex {
    fn conv_channels_last(
        x: FlexTensor,
        weight: FlexTensor,
        kernel: usize,
        dilation: usize,
    ) -> FlexTensor {
        forward(&x, &weight, kernel, dilation)
    }
}

#[derive(Debug)]
struct ChannelsLastConvBackward;

impl Backward<Flex, 2> for ChannelsLastConvBackward {
    /// The input, the weight matrix, the kernel size and the dilation.
    type State = (FlexTensor, FlexTensor, usize, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [x_node, weight_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight, kernel, dilation) = ops.state;
        let [b, h, w, out] = dims4(&grad);
        let c = x.shape()[3];
        let taps = kernel * kernel;
        if let Some(node) = weight_node {
            // colsᵀ · g, one GEMM per image (flex runs them in parallel), summed.
            let columns = flex_tensor(
                im2col(&values(&x), [b, h, w, c], kernel, dilation),
                [b, h * w, taps * c],
            );
            let per_image = Flex::float_matmul(
                Flex::float_swap_dims(columns, 1, 2),
                Flex::float_reshape(grad.clone(), Shape::new([b, h * w, out])),
            );
            let weight_grad = Flex::float_reshape(
                Flex::float_sum_dim(per_image, 0),
                Shape::new([taps * c, out]),
            );
            grads.register::<Flex>(node.id, weight_grad);
        }
        if let Some(node) = x_node {
            // The input gradient is the convolution of g with each tap's mirror image and the
            // channels swapped: weight [tap, c, o] → flipped [k²−1−tap, o, c].
            let values = values(&weight);
            let mut flipped = vec![0.0; taps * out * c];
            for tap in 0..taps {
                for channel in 0..c {
                    for o in 0..out {
                        flipped[(tap * out + o) * c + channel] =
                            values[((taps - 1 - tap) * c + channel) * out + o];
                    }
                }
            }
            let flipped = flex_tensor(flipped, [taps * out, c]);
            grads.register::<Flex>(node.id, forward(&grad, &flipped, kernel, dilation));
        }
    }
}

impl<C: CheckpointStrategy> ChannelsLastConv for Autodiff<Flex, C> {
    fn conv_channels_last(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        kernel: usize,
        dilation: usize,
    ) -> FloatTensor<Self> {
        match ChannelsLastConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let y = forward(&x, &weight, kernel, dilation);
                prep.finish((x, weight, kernel, dilation), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(forward(x.primitive(), weight.primitive(), kernel, dilation))
            }
        }
    }
}

/// 2×2 average pooling of `x` `[b, h, w, c]` (h, w even) → `[b, h/2, w/2, c]`.
pub fn avg_pool2(x: Tensor<4>) -> Tensor<4> {
    let [b, h, w, c] = x.dims();
    x.reshape([b, h / 2, 2, w / 2, 2 * c])
        .mean_dim(2)
        .reshape([b, h / 2, w / 2, 2, c])
        .mean_dim(3)
        .reshape([b, h / 2, w / 2, c])
}

/// A 2×2, stride-2 transposed convolution (burn's weights `[in, out, 2, 2]`) of `x`
/// `[b, h, w, in]` → `[b, 2h, 2w, out]`: each pixel's 2×2 block of outputs is one matmul row.
///
/// # Panics
/// If `conv` is not 2×2 with stride 2 and one group (a programming error).
pub fn conv_transpose2(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    assert!(
        conv.kernel_size == [2, 2] && conv.stride == [2, 2] && conv.groups == 1,
        "conv_transpose2 needs a 2×2 kernel, stride 2 and one group, not {conv:?}"
    );
    let weight = conv.weight.val();
    let [inputs, out, _, _] = weight.dims();
    let [b, h, w, _] = x.dims();
    // Columns ordered (row offset, column offset, output channel).
    let matrix = weight.permute([0, 2, 3, 1]).reshape([inputs, 4 * out]);
    let mut blocks = x.reshape([b * h * w, inputs]).matmul(matrix);
    if let Some(bias) = &conv.bias {
        blocks = blocks + bias.val().repeat_dim(0, 4).unsqueeze_dim(0);
    }
    blocks
        .reshape([b, h, w, 2, 2 * out])
        .swap_dims(2, 3)
        .reshape([b, 2 * h, 2 * w, out])
}

/// `[b, c, h, w]` → `[b, h, w, c]`.
pub fn from_channels_first(x: Tensor<4>) -> Tensor<4> {
    x.permute([0, 2, 3, 1])
}

/// `[b, h, w, c]` → `[b, c, h, w]`.
pub fn to_channels_first(x: Tensor<4>) -> Tensor<4> {
    x.permute([0, 3, 1, 2])
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::{Initializer, PaddingConfig2d};
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;

    fn max_difference(a: Tensor<4>, b: Tensor<4>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    fn conv(inputs: usize, outputs: usize, k: usize, dilation: usize, device: &Device) -> Conv2d {
        let pad = dilation * (k / 2);
        Conv2dConfig::new([inputs, outputs], [k, k])
            .with_dilation([dilation, dilation])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 0.5,
            })
            .init(device)
    }

    #[test]
    fn matches_burns_convolution_forward_and_backward() {
        let device = Device::flex().autodiff();
        device.seed(3);
        for (inputs, outputs, k, dilation, side) in [
            (2, 5, 3, 1, 7),
            (4, 3, 3, 2, 9),
            (6, 4, 1, 1, 5),
            (3, 2, 5, 1, 6),
        ] {
            let layer = conv(inputs, outputs, k, dilation, &device);
            let x = Tensor::<4>::random([2, inputs, side, side], Distribution::Default, &device)
                .require_grad();
            let reference = layer.forward(x.clone());
            let ours = to_channels_first(conv2d(&layer, from_channels_first(x.clone())));
            assert!(max_difference(reference.clone(), ours.clone()) < 1e-4);
            // The same gradients for the input, the weights and the bias.
            let weights = Tensor::<4>::random(reference.dims(), Distribution::Default, &device);
            let grads_reference = (reference * weights.clone()).sum().backward();
            let grads_ours = (ours * weights).sum().backward();
            let pairs = [
                (x.grad(&grads_reference), x.grad(&grads_ours)),
                (
                    layer.weight.val().grad(&grads_reference),
                    layer.weight.val().grad(&grads_ours),
                ),
            ];
            for (a, b) in pairs {
                let (a, b) = (a.expect("gradient"), b.expect("gradient"));
                assert!(max_difference(a, b) < 1e-3, "k {k}, dilation {dilation}");
            }
            let bias = layer.bias.as_ref().expect("bias").val();
            let (a, b) = (
                bias.grad(&grads_reference).expect("gradient"),
                bias.grad(&grads_ours).expect("gradient"),
            );
            assert!((a - b).abs().max().into_scalar::<f32>() < 1e-3);
        }
    }

    #[test]
    fn pooling_and_the_transposed_convolution_match_burns() {
        use burn::nn::conv::ConvTranspose2dConfig;
        use burn::nn::pool::AvgPool2dConfig;
        let device = Device::flex().autodiff();
        device.seed(5);
        let x = Tensor::<4>::random([2, 3, 6, 4], Distribution::Default, &device);
        let pooled = AvgPool2dConfig::new([2, 2]).init().forward(x.clone());
        let ours = to_channels_first(avg_pool2(from_channels_first(x.clone())));
        assert!(max_difference(pooled, ours) < 1e-6);
        let up = ConvTranspose2dConfig::new([3, 5], [2, 2])
            .with_stride([2, 2])
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 0.5,
            })
            .init(&device);
        let reference = up.forward(x.clone());
        let ours = to_channels_first(conv_transpose2(&up, from_channels_first(x)));
        assert_eq!(reference.dims(), [2, 5, 12, 8]);
        assert!(max_difference(reference, ours) < 1e-5);
    }

    #[test]
    fn strided_or_even_kernels_are_refused() {
        let device = Device::flex();
        let strided = Conv2dConfig::new([1, 1], [3, 3])
            .with_stride([2, 2])
            .init(&device);
        assert!(same_padding(&strided).is_err());
        let even = Conv2dConfig::new([1, 1], [2, 2]).init(&device);
        assert!(same_padding(&even).is_err());
        let same = Conv2dConfig::new([1, 1], [3, 3])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        assert_eq!(same_padding(&same), Ok(1));
    }
}
