//! `tanh` and the logistic sigmoid, with their gradients, as one vectorised pass on the CPU.
//!
//! Why: burn's CPU backend (flex 0.22) calls the scalar `f32::tanh` per element (15 ns each
//! here), so the conv-GRU of the MRI RIM spent more time in its gates' activations than in its
//! convolutions. Here tanh is Eigen's rational approximation (the one XLA uses: a degree-13/6
//! rational function on [−7.9, 7.9], within a few ulp of `f32::tanh`), which the compiler
//! vectorises, split over threads; `σ(x) = ½ + ½·tanh(x/2)`. The backward pass reads the saved
//! output: `tanh' = 1 − y²`, `σ' = y(1 − y)`. Other devices (wgpu) use burn's own kernels.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Device, Tensor};
use rayon::prelude::*;

use crate::channels_last::{flex_tensor, values};

/// `tanh(x)` (`burn::tensor::activation::tanh` off the CPU).
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation(x, false)
}

/// `1 / (1 + e^{−x})` (`burn::tensor::activation::sigmoid` off the CPU).
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation(x, true)
}

fn activation<const D: usize>(x: Tensor<D>, logistic: bool) -> Tensor<D> {
    if x.device().without_autodiff() != Device::flex() {
        return if logistic {
            burn::tensor::activation::sigmoid(x)
        } else {
            burn::tensor::activation::tanh(x)
        };
    }
    Tensor::from_dispatch(<Dispatch as FastActivation>::fast_activation(
        x.into_dispatch(),
        logistic,
    ))
}

/// The operation, on the backends that have it (the CPU's, with and without autodiff).
#[backend_extension(Flex, Autodiff)]
pub trait FastActivation: Backend {
    /// `σ(x)` when `logistic`, else `tanh(x)`, element-wise.
    fn fast_activation(x: FloatTensor<Self>, logistic: bool) -> FloatTensor<Self>;
}

/// Eigen's `generic_fast_tanh_float`.
fn fast_tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const ALPHA: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const BETA: [f32; 4] = [4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    // Below this the rational function's rounding exceeds x's own last bit.
    if x.abs() < 4e-4 {
        return x;
    }
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let p = ALPHA.iter().rev().fold(0.0, |p, &a| p * x2 + a) * x;
    let q = BETA.iter().rev().fold(0.0, |q, &b| q * x2 + b);
    p / q
}

fn fast_sigmoid(x: f32) -> f32 {
    0.5 + 0.5 * fast_tanh(0.5 * x)
}

/// Element-wise `f` over `input` in chunks, on every core.
fn map(input: &[f32], output: &mut [f32], f: impl Fn(usize, f32) -> f32 + Sync) {
    const CHUNK: usize = 16 * 1024;
    output
        .par_chunks_mut(CHUNK)
        .zip(input.par_chunks(CHUNK))
        .enumerate()
        .for_each(|(chunk, (out, inp))| {
            for (i, (o, &x)) in out.iter_mut().zip(inp).enumerate() {
                *o = f(chunk * CHUNK + i, x);
            }
        });
}

fn forward(x: &FloatTensor<Flex>, logistic: bool) -> FloatTensor<Flex> {
    let input = values(x);
    let mut output = vec![0.0; input.len()];
    if logistic {
        map(&input, &mut output, |_, v| fast_sigmoid(v));
    } else {
        map(&input, &mut output, |_, v| fast_tanh(v));
    }
    flex_tensor(output, x.shape())
}

impl FastActivation for Flex {
    fn fast_activation(x: FloatTensor<Self>, logistic: bool) -> FloatTensor<Self> {
        forward(&x, logistic)
    }
}

#[derive(Debug)]
struct FastActivationBackward;

impl Backward<Flex, 1> for FastActivationBackward {
    /// The output and which function it is.
    type State = (FloatTensor<Flex>, bool);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [parent] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let Some(node) = parent else {
            return;
        };
        let (output, logistic) = ops.state;
        let y = values(&output);
        let g = values(&grad);
        let mut input_grad = vec![0.0; g.len()];
        if logistic {
            map(&g, &mut input_grad, |i, g| g * y[i] * (1.0 - y[i]));
        } else {
            map(&g, &mut input_grad, |i, g| g * (1.0 - y[i] * y[i]));
        }
        grads.register::<Flex>(node.id, flex_tensor(input_grad, grad.shape()));
    }
}

impl<C: CheckpointStrategy> FastActivation for Autodiff<Flex, C> {
    fn fast_activation(x: FloatTensor<Self>, logistic: bool) -> FloatTensor<Self> {
        match FastActivationBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = forward(x.primitive(), logistic);
                prep.finish((y.clone(), logistic), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive(), logistic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, TensorData};

    use super::*;

    #[test]
    fn the_approximations_are_within_a_few_ulp_of_the_standard_functions() {
        let mut worst = (0.0f32, 0.0f32);
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            worst.0 = worst.0.max((fast_tanh(x) - x.tanh()).abs());
            worst.1 = worst
                .1
                .max((fast_sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs());
        }
        assert!(worst.0 < 1e-6 && worst.1 < 1e-6, "{worst:?}");
        for x in [f32::INFINITY, 1e30, 40.0] {
            assert!((fast_tanh(x) - 1.0).abs() < 1e-6 && (fast_tanh(-x) + 1.0).abs() < 1e-6);
            assert!(fast_sigmoid(-x).abs() < 1e-6 && (fast_sigmoid(x) - 1.0).abs() < 1e-6);
        }
        assert!(fast_tanh(f32::NAN).is_nan());
    }

    #[test]
    fn values_and_gradients_match_burns() {
        let device = Device::flex().autodiff();
        device.seed(9);
        let x = (Tensor::<3>::random([3, 40, 50], Distribution::Default, &device) * 12.0 - 6.0)
            .require_grad();
        let weights = Tensor::<3>::random([3, 40, 50], Distribution::Default, &device);
        let pairs: [(Tensor<3>, Tensor<3>); 2] = [
            (tanh(x.clone()), burn::tensor::activation::tanh(x.clone())),
            (
                sigmoid(x.clone()),
                burn::tensor::activation::sigmoid(x.clone()),
            ),
        ];
        for (ours, reference) in pairs {
            let difference = (ours.clone() - reference.clone()).abs().max();
            assert!(difference.into_scalar::<f32>() < 1e-5);
            let ours_grad = x
                .grad(&(ours * weights.clone()).sum().backward())
                .expect("gradient");
            let reference_grad = x
                .grad(&(reference * weights.clone()).sum().backward())
                .expect("gradient");
            let difference = (ours_grad - reference_grad).abs().max();
            assert!(difference.into_scalar::<f32>() < 1e-5);
        }
        let plain = Tensor::<1>::from_data(TensorData::from([0.0f32, 1.0]), &Device::flex());
        let y: Vec<f32> = tanh(plain).into_data().try_to_vec().expect("f32");
        assert!((y[1] - 1.0f32.tanh()).abs() < 1e-6 && y[0] == 0.0);
    }
}
