//! Named data streams: every demo draws its training, validation and test data from seeds this
//! one function hands out, so that the three never share a seed is a property of this file,
//! tested here once, rather than of literals chosen per demo.
//!
//! The 64-bit seed space is cut in four by its top two bits: training seeds have `01`,
//! validation seeds `10`, and test seeds the other two quarters (`00`, `11`). The test quarters
//! are where every demo's held-out data already lay for the seeds in use (small offsets, and
//! MRI's `3 << 62`), so [`Stream::test`] leaves those seeds as they were and `DEMO eval` still
//! measures the same problems.

/// Which data a seed draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Fresh training batches.
    Train,
    /// The fixed problems a run keeps its best model by.
    Validation,
    /// Held-out problems for `eval` and `bench`: never trained or validated on.
    Test,
}

/// The top two bits of a training seed (and of a validation seed, one more).
const TRAIN_TAG: u64 = 1 << 62;
const VALIDATION_TAG: u64 = 2 << 62;
/// Below the tag: 61 bits drawn, so a stream's seed plus a count (`seed + i` per item, as the
/// simulators do) stays inside its quarter.
const DRAWN_BITS: u64 = (1 << 61) - 1;

/// SplitMix64's finalizer: nearby inputs give unrelated outputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Stream {
    /// The seed of item `index` of this stream in a run seeded `run_seed`.
    pub fn seed(self, run_seed: u64, index: u64) -> u64 {
        let drawn = mix(mix(run_seed ^ self.salt()).wrapping_add(index)) & DRAWN_BITS;
        match self {
            Self::Train => TRAIN_TAG | drawn,
            Self::Validation => VALIDATION_TAG | drawn,
            Self::Test => drawn,
        }
    }

    /// A held-out seed made by a demo's own formula, moved into the test quarters when it
    /// falls in the training or validation ones (no seed in use today does).
    pub fn test(seed: u64) -> u64 {
        match Self::of(seed) {
            Self::Test => seed,
            _ => seed ^ TRAIN_TAG,
        }
    }

    /// The stream a seed belongs to.
    pub fn of(seed: u64) -> Self {
        match seed >> 62 {
            1 => Self::Train,
            2 => Self::Validation,
            _ => Self::Test,
        }
    }

    fn salt(self) -> u64 {
        match self {
            Self::Train => 0x7261_696e,
            Self::Validation => 0x7661_6c69,
            Self::Test => 0x7465_7374,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_streams_never_share_a_seed(run in any::<u64>(), other in any::<u64>(),
                                          index in 0u64..1 << 40, offset in 0u64..1 << 20,
                                          legacy in any::<u64>()) {
            let train = Stream::Train.seed(run, index);
            let validation = Stream::Validation.seed(other, index);
            let test = Stream::test(legacy);
            prop_assert_eq!(Stream::of(train), Stream::Train);
            prop_assert_eq!(Stream::of(validation), Stream::Validation);
            prop_assert_eq!(Stream::of(test), Stream::Test);
            prop_assert_eq!(Stream::of(Stream::Test.seed(run, index)), Stream::Test);
            // Counting up from a seed (one seed per item) stays in its stream.
            prop_assert_eq!(Stream::of(train + offset), Stream::Train);
            prop_assert_eq!(Stream::of(validation + offset), Stream::Validation);
        }
    }

    #[test]
    fn todays_held_out_seeds_are_kept() {
        for seed in [
            2,
            0xE7A1_0000,
            0x7E57_0000,
            0x7e57_0000_0000,
            3 << 62,
            (3 << 62) + 7,
        ] {
            assert_eq!(Stream::test(seed), seed);
        }
    }

    #[test]
    fn runs_and_items_draw_different_seeds() {
        let seeds: std::collections::HashSet<u64> = (0..4)
            .flat_map(|run| (0..256).map(move |i| Stream::Train.seed(run, i)))
            .collect();
        assert_eq!(seeds.len(), 4 * 256);
        assert_eq!(Stream::Train.seed(3, 9), Stream::Train.seed(3, 9));
    }
}
