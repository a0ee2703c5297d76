//! The benchmark plumbing that is not a demo's own (a demo's comparison table is its
//! `bench --demo NAME`, in its folder).

/// `inference-lab bench` without `--demo`: the compute device's matmul and training-step speed.
pub mod device;
/// `--bench-frames N`: the window's start-up and frame times while a training job runs.
pub mod frames;
/// The real training loop both benchmarks above run as load.
pub mod load;
/// `inference-lab bench --train`: every network's training step, steps and samples per second.
pub mod train_speed;

/// The `q`-quantile (nearest rank) of `values`.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_use_nearest_rank() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.95), 5.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
