//! Granger causality, lag 1, pairwise: for each ordered pair source → target and each of the
//! target's four series (x, y, vx, vy), OLS of the series at t on the target's own four series
//! at t − 1 (restricted) and on those plus the source's four (unrestricted); the F-test of the
//! source's four coefficients; the pair's p-value the Bonferroni-corrected smallest over the
//! equations. Series that the target's own past predicts exactly are skipped (nothing left to
//! explain). Scores rank even p-values far below f64's range: s = −log10 p is computed from the
//! F tail in log space and reported as s/(1+s) (never 1 − p, which ties them all at 1).

use nalgebra::{DMatrix, DVector};

use super::sim::{FEATURES, Series, pairs};

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..1000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln I_x(a, b), the regularized incomplete beta function, accurate where it underflows f64.
pub fn ln_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if x >= 1.0 {
        return 0.0;
    }
    let ln_front = a * x.ln() + b * (-x).ln_1p() - (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front + beta_continued_fraction(a, b, x).ln() - a.ln()
    } else {
        // Here the complement is the small one: I = 1 − I_{1−x}(b, a).
        let complement = (ln_front + beta_continued_fraction(b, a, 1.0 - x).ln() - b.ln()).exp();
        (-complement).ln_1p()
    }
}

/// log10 of the F distribution's upper tail P(F(d1, d2) > f).
pub fn log10_f_tail(f: f64, d1: f64, d2: f64) -> f64 {
    if f <= 0.0 {
        return 0.0;
    }
    if f.is_infinite() {
        return f64::NEG_INFINITY;
    }
    ln_incomplete_beta(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f)) / std::f64::consts::LN_10
}

/// The residual sum of squares of the least-squares fit of `y` on `x` (SVD, rank-revealing).
pub fn residual_sum_of_squares(x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let svd = x.clone().svd(true, true);
    match svd.solve(y, 1e-12) {
        Ok(beta) => (y - x * beta).norm_squared(),
        Err(_) => y.norm_squared(),
    }
}

/// The F statistic of the `extra` columns of `unrestricted` (which begin with `restricted`'s),
/// with its degrees of freedom; `None` when the restricted fit is already exact.
pub fn f_statistic(
    restricted: &DMatrix<f64>,
    unrestricted: &DMatrix<f64>,
    y: &DVector<f64>,
) -> Option<(f64, f64, f64)> {
    let rss_r = residual_sum_of_squares(restricted, y);
    let rss_u = residual_sum_of_squares(unrestricted, y);
    // Exact up to rounding, relative to the series' own size.
    if rss_r <= 1e-20 * y.norm_squared().max(f64::MIN_POSITIVE) {
        return None;
    }
    let q = (unrestricted.ncols() - restricted.ncols()) as f64;
    let d2 = (y.len() - unrestricted.ncols()) as f64;
    let f = if rss_u <= 0.0 {
        f64::INFINITY
    } else {
        ((rss_r - rss_u).max(0.0) / q) / (rss_u / d2)
    };
    Some((f, q, d2))
}

/// The design matrix: an intercept, then the given particles' four series at t − 1.
fn lagged_design(series: &Series, particles: &[usize]) -> DMatrix<f64> {
    let rows = series.frames - 1;
    DMatrix::from_fn(rows, 1 + FEATURES * particles.len(), |t, c| {
        if c == 0 {
            1.0
        } else {
            let (p, f) = ((c - 1) / FEATURES, (c - 1) % FEATURES);
            series.state(t, particles[p])[f]
        }
    })
}

/// The pairwise test's −log10 p for source → target (Bonferroni over the target's series);
/// `None` when every series is skipped or there are too few frames.
pub fn granger_neg_log10_p(series: &Series, source: usize, target: usize) -> Option<f64> {
    let rows = series.frames.checked_sub(1)?;
    if rows <= 1 + 2 * FEATURES {
        return None;
    }
    let restricted = lagged_design(series, &[target]);
    let unrestricted = lagged_design(series, &[target, source]);
    let mut smallest = f64::INFINITY;
    let mut tested = 0;
    for f in 0..FEATURES {
        let y = DVector::from_fn(rows, |t, _| series.state(t + 1, target)[f]);
        if let Some((stat, d1, d2)) = f_statistic(&restricted, &unrestricted, &y) {
            smallest = smallest.min(log10_f_tail(stat, d1, d2));
            tested += 1;
        }
    }
    (tested > 0).then(|| -(smallest + f64::from(tested).log10()).min(0.0))
}

/// s/(1 + s) of every ordered pair in [`pairs`] order (0 where nothing could be tested).
pub fn granger_scores(series: &Series) -> Vec<f64> {
    pairs(series.nodes())
        .map(|(t, s)| {
            granger_neg_log10_p(series, s, t)
                .map_or(0.0, |s| if s.is_infinite() { 1.0 } else { s / (1.0 + s) })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_f_tail_matches_scipy_far_below_f64s_range() {
        // scipy.stats.f.logsf(F, d1, d2) / ln 10.
        let cases = [
            (1.0, 4.0, 39.0, -0.377_558_132_048_339_27),
            (3.5, 4.0, 39.0, -1.808_677_889_731_501_5),
            (50.0, 4.0, 39.0, -14.114_501_706_019_327),
            (1e4, 4.0, 39.0, -57.411_311_709_825_63),
            (1e8, 4.0, 39.0, -135.402_656_998_803_28),
            (0.2, 3.0, 10.0, -0.048_653_682_982_153_2),
        ];
        for (f, d1, d2, expected) in cases {
            let got = log10_f_tail(f, d1, d2);
            assert!(
                (got - expected).abs() < 1e-9 * expected.abs().max(1.0),
                "F {f}: {got} vs {expected}"
            );
        }
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }

    #[test]
    fn the_f_statistic_matches_a_hand_computed_case() {
        // y = 1, 2, 4, 3 on an intercept (restricted) and on intercept + x with x = 0, 1, 2, 3.
        // Restricted: mean 2.5, RSS 2.25 + 0.25 + 2.25 + 0.25 = 5.
        // Unrestricted: slope 0.8, intercept 1.3; fitted 1.3, 2.1, 2.9, 3.7; RSS 0.09 + 0.01 +
        // 1.21 + 0.49 = 1.8. F = (5 − 1.8)/1 / (1.8/2) = 32/9.
        let y = DVector::from_vec(vec![1.0, 2.0, 4.0, 3.0]);
        let restricted = DMatrix::from_element(4, 1, 1.0);
        let unrestricted = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0]);
        let (f, d1, d2) = f_statistic(&restricted, &unrestricted, &y).expect("testable");
        assert_eq!((d1, d2), (1.0, 2.0));
        assert!((f - 32.0 / 9.0).abs() < 1e-12, "{f}");
        // An exact restricted fit is skipped.
        let constant = DVector::from_element(4, 2.0);
        assert!(f_statistic(&restricted, &unrestricted, &constant).is_none());
    }

    #[test]
    fn a_known_causal_linear_var_is_found_and_its_non_edges_are_not() {
        use rand::{RngExt, SeedableRng};
        use rand_distr::{Distribution, Normal};
        // Three particles, each series an AR(1); particle 0 drives particle 1's four series.
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let normal = Normal::new(0.0, 1.0).expect("normal");
        let (n, frames) = (3, 200);
        let mut values = vec![0.0; frames * n * FEATURES];
        for t in 1..frames {
            for node in 0..n {
                for f in 0..FEATURES {
                    let previous = values[((t - 1) * n + node) * FEATURES + f];
                    let drive = if node == 1 {
                        0.8 * values[((t - 1) * n) * FEATURES + f]
                    } else {
                        0.0
                    };
                    values[(t * n + node) * FEATURES + f] =
                        0.5 * previous + drive + normal.sample(&mut rng);
                }
            }
        }
        let _: f64 = rng.random();
        let series = Series {
            id: "var".into(),
            node_ids: vec!["0".into(), "1".into(), "2".into()],
            frames,
            values,
            edges: None,
        };
        let strong = granger_neg_log10_p(&series, 0, 1).expect("testable");
        assert!(strong > 20.0, "0 → 1: {strong}");
        for (target, source) in pairs(3).filter(|&p| p != (1, 0)) {
            let s = granger_neg_log10_p(&series, source, target).expect("testable");
            assert!(s < 2.0, "{source} → {target}: {s}");
        }
        let scores = granger_scores(&series);
        // Pair order: (0,1) (0,2) (1,0) (1,2) (2,0) (2,1).
        assert!(scores[2] > 0.9 && scores.iter().all(|s| (0.0..=1.0).contains(s)));
    }
}
