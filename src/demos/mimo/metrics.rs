//! Symbol and bit error rates with 95% intervals: Wilson's score interval on symbols, its
//! sample size shrunk by the design effect of errors clustered by vector (a bad channel takes
//! several users down at once, so symbols of one vector are not independent trials).

use super::sim::Modulation;

/// Errors of one decision against what was sent, both as level indices per real dimension
/// (the real parts of every user, then the imaginary parts).
pub fn errors(modulation: Modulation, sent: &[u8], decided: &[u8]) -> (usize, usize) {
    let users = sent.len() / 2;
    let mut symbol_errors = 0;
    let mut bit_errors = 0;
    for k in 0..users {
        let mut wrong = false;
        for d in [k, k + users] {
            let difference = modulation.gray(sent[d]) ^ modulation.gray(decided[d]);
            bit_errors += difference.count_ones() as usize;
            wrong |= difference != 0;
        }
        symbol_errors += usize::from(wrong);
    }
    (symbol_errors, bit_errors)
}

/// Error counts over many vectors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub symbols_per_vector: usize,
    pub bits_per_vector: usize,
    /// Symbol errors of each vector.
    pub symbol_errors: Vec<usize>,
    pub bit_errors: usize,
}

impl Tally {
    pub fn new(modulation: Modulation, users: usize) -> Self {
        Self {
            symbols_per_vector: users,
            bits_per_vector: users * modulation.bits_per_symbol(),
            ..Self::default()
        }
    }

    pub fn add(&mut self, modulation: Modulation, sent: &[u8], decided: &[u8]) {
        let (symbols, bits) = errors(modulation, sent, decided);
        self.symbol_errors.push(symbols);
        self.bit_errors += bits;
    }

    pub fn vectors(&self) -> usize {
        self.symbol_errors.len()
    }

    pub fn ser(&self) -> f64 {
        let n = self.vectors() * self.symbols_per_vector;
        if n == 0 {
            return f64::NAN;
        }
        self.symbol_errors.iter().sum::<usize>() as f64 / n as f64
    }

    pub fn ber(&self) -> f64 {
        let n = self.vectors() * self.bits_per_vector;
        if n == 0 {
            return f64::NAN;
        }
        self.bit_errors as f64 / n as f64
    }

    /// The 95% interval of the SER: Wilson's, with the effective number of symbols n / deff,
    /// deff = the cluster-robust variance of the rate over the binomial one (at least 1).
    pub fn ser_interval(&self) -> (f64, f64) {
        let vectors = self.vectors();
        let m = self.symbols_per_vector as f64;
        let n = vectors as f64 * m;
        if n == 0.0 {
            return (0.0, 1.0);
        }
        let p = self.ser();
        let binomial = p * (1.0 - p) / n;
        let clustered = if vectors > 1 {
            let spread: f64 = self
                .symbol_errors
                .iter()
                .map(|&e| (e as f64 - p * m).powi(2))
                .sum();
            spread / (n * n) * vectors as f64 / (vectors - 1) as f64
        } else {
            binomial
        };
        let design_effect = if binomial > 0.0 {
            (clustered / binomial).max(1.0)
        } else {
            1.0
        };
        wilson(p, n / design_effect)
    }
}

/// Wilson's 95% score interval for a proportion `p` observed on `n` trials.
pub fn wilson(p: f64, n: f64) -> (f64, f64) {
    const Z: f64 = 1.959_963_984_540_054;
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symbol_is_wrong_when_either_part_is_and_bits_count_gray_distances() {
        // Two users of 16-QAM: user 0's real part off by one level (one bit), user 1 right.
        let sent = [0, 3, 2, 1];
        let decided = [1, 3, 2, 1];
        assert_eq!(errors(Modulation::Qam16, &sent, &decided), (1, 1));
        // User 1's imaginary part two levels off: Gray 01 → 10, two bits.
        let decided = [0, 3, 2, 3];
        assert_eq!(errors(Modulation::Qam16, &sent, &decided), (1, 2));
        // Both parts of user 0 wrong (one symbol, 2 + 2 bits).
        let decided = [2, 3, 0, 1];
        assert_eq!(errors(Modulation::Qam16, &sent, &decided), (1, 4));
        // Each user wrong in one part.
        let decided = [2, 3, 2, 3];
        assert_eq!(errors(Modulation::Qam16, &sent, &decided), (2, 4));
    }

    #[test]
    fn wilson_matches_its_textbook_values() {
        // 10 of 100: Wilson's interval is (0.0552, 0.1744).
        let (lo, hi) = wilson(0.1, 100.0);
        assert!(
            (lo - 0.0552).abs() < 1e-4 && (hi - 0.1744).abs() < 1e-4,
            "{lo} {hi}"
        );
        // No errors still gives an upper bound near 3.84 / n.
        let (lo, hi) = wilson(0.0, 1000.0);
        assert!(lo.abs() < 1e-12);
        assert!((hi - 0.00383).abs() < 1e-4, "{hi}");
    }

    #[test]
    fn clustered_errors_widen_the_interval() {
        let mut spread = Tally::new(Modulation::Qpsk, 10);
        let mut clustered = Tally::new(Modulation::Qpsk, 10);
        for v in 0..100 {
            spread.symbol_errors.push(usize::from(v % 10 == 0));
            clustered.symbol_errors.push(if v == 0 { 10 } else { 0 });
        }
        assert_eq!(spread.ser(), clustered.ser());
        let width = |t: &Tally| {
            let (lo, hi) = t.ser_interval();
            hi - lo
        };
        assert!(width(&clustered) > 2.0 * width(&spread));
    }
}
