//! The forward model: random messages encoded into codewords, sent as BPSK (bit 0 → +1) over
//! AWGN, optionally with the bursty channel of Garcia Satorras & Welling (2021): each bit gets,
//! with probability 0.05, extra noise N(0, σ_b²). The receiver sees the channel LLRs 2y/σ²
//! (positive = bit 0) computed as if the channel were plain AWGN: it is not told of bursts.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use super::code::Code;

/// The probability that a bit is hit by a burst.
pub const BURST_PROBABILITY: f64 = 0.05;

/// The channel: Eb/N0 at the code's design rate, and the burst noise's standard deviation.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Channel {
    pub eb_n0_db: f64,
    /// σ_b (0: plain AWGN).
    pub burst_sigma: f64,
}

impl Channel {
    pub fn awgn(eb_n0_db: f64) -> Self {
        Self {
            eb_n0_db,
            burst_sigma: 0.0,
        }
    }

    /// The AWGN noise variance σ² = 1 / (2 R 10^(Eb/N0 / 10)).
    pub fn noise_variance(&self, rate: f64) -> f64 {
        1.0 / (2.0 * rate * 10f64.powf(self.eb_n0_db / 10.0))
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.eb_n0_db.is_finite() && (-20.0..=40.0).contains(&self.eb_n0_db)) {
            return Err(format!(
                "Eb/N0 must be in −20..=40 dB, not {}",
                self.eb_n0_db
            ));
        }
        if !(self.burst_sigma.is_finite() && (0.0..=100.0).contains(&self.burst_sigma)) {
            return Err(format!("σ_b must be in 0..=100, not {}", self.burst_sigma));
        }
        Ok(())
    }
}

/// Frames sent over a channel: `count` codewords of `n` bits and their channel LLRs, row-major.
#[derive(Clone, Debug, Default)]
pub struct Frames {
    pub n: usize,
    pub bits: Vec<u8>,
    pub llr: Vec<f32>,
    /// Which bits a burst hit (for the panel; decoders never see it).
    pub burst: Vec<bool>,
}

impl Frames {
    pub fn count(&self) -> usize {
        self.bits.len().checked_div(self.n).unwrap_or(0)
    }

    pub fn frame_bits(&self, i: usize) -> &[u8] {
        &self.bits[i * self.n..(i + 1) * self.n]
    }

    pub fn frame_llr(&self, i: usize) -> &[f32] {
        &self.llr[i * self.n..(i + 1) * self.n]
    }

    /// Appends another set of frames of the same length.
    pub fn extend(&mut self, other: Frames) {
        if self.n == 0 {
            self.n = other.n;
        }
        self.bits.extend(other.bits);
        self.llr.extend(other.llr);
        self.burst.extend(other.burst);
    }
}

/// The seed of frame `index` of a run seeded `seed` (frames are independent of thread count).
fn frame_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
        ^ 0x5851_F42D_4C95_7F2D
}

/// One frame: a random message, its codeword, the received LLRs.
pub fn send_frame(code: &Code, channel: &Channel, seed: u64) -> (Vec<u8>, Vec<f32>, Vec<bool>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let message: Vec<u8> = (0..code.dimension())
        .map(|_| rng.random_range(0..2u8))
        .collect();
    let bits = code.encode(&message);
    let sigma2 = channel.noise_variance(code.design_rate());
    let sigma = sigma2.sqrt();
    let mut burst = vec![false; code.n];
    let llr = bits
        .iter()
        .zip(&mut burst)
        .map(|(&b, hit)| {
            let x = 1.0 - 2.0 * f64::from(b);
            let noise: f64 = StandardNormal.sample(&mut rng);
            let mut y = x + sigma * noise;
            if channel.burst_sigma > 0.0 && rng.random_bool(BURST_PROBABILITY) {
                let extra: f64 = StandardNormal.sample(&mut rng);
                y += channel.burst_sigma * extra;
                *hit = true;
            }
            (2.0 * y / sigma2) as f32
        })
        .collect();
    (bits, llr, burst)
}

/// `count` frames over `channel`, seeded, made in parallel.
pub fn send_frames(code: &Code, channel: &Channel, count: usize, seed: u64) -> Frames {
    let frames: Vec<_> = (0..count)
        .into_par_iter()
        .map(|i| send_frame(code, channel, frame_seed(seed, i)))
        .collect();
    let mut out = Frames {
        n: code.n,
        bits: Vec::with_capacity(count * code.n),
        llr: Vec::with_capacity(count * code.n),
        burst: Vec::with_capacity(count * code.n),
    };
    for (bits, llr, burst) in frames {
        out.bits.extend(bits);
        out.llr.extend(llr);
        out.burst.extend(burst);
    }
    out
}

/// Reads LLR frames: one frame a line, `n` comma-separated numbers, no header.
pub fn parse_llr_csv(text: &str, n: usize, origin: &str) -> anyhow::Result<Vec<f32>> {
    let mut llr = Vec::new();
    let mut frames = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let start = llr.len();
        for (field, token) in line.split(',').enumerate() {
            let token = token.trim();
            let value: f32 = token.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{origin}: line {}: field {} is `{}`, not a number",
                    number + 1,
                    field + 1,
                    token.chars().take(40).collect::<String>()
                )
            })?;
            if !value.is_finite() {
                anyhow::bail!(
                    "{origin}: line {}: field {} is {value}; LLRs must be finite",
                    number + 1,
                    field + 1
                );
            }
            llr.push(value);
        }
        let got = llr.len() - start;
        if got != n {
            anyhow::bail!(
                "{origin}: line {}: {got} LLRs, but the code has n = {n}",
                number + 1
            );
        }
        frames += 1;
    }
    if frames == 0 {
        anyhow::bail!("{origin}: no frames (the file is empty)");
    }
    Ok(llr)
}

pub fn read_llr_csv(path: &std::path::Path, n: usize) -> anyhow::Result<Vec<f32>> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| anyhow::anyhow!("{origin}: not UTF-8 text ({e})"))?;
    parse_llr_csv(text, n, &origin)
}

/// Frames of bits as CSV: one line per frame, 0/1 comma-separated.
pub fn bits_csv(bits: &[u8], n: usize) -> String {
    let mut text = String::with_capacity(bits.len() * 2);
    for frame in bits.chunks(n.max(1)) {
        for (i, b) in frame.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push(if *b == 0 { '0' } else { '1' });
        }
        text.push('\n');
    }
    text
}

/// Frames of LLRs as CSV, the format `ldpc decode --llr` reads.
pub fn llr_csv(llr: &[f32], n: usize) -> String {
    llr.chunks(n.max(1))
        .map(|f| {
            f.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::ldpc::code::shipped;

    #[test]
    fn frames_are_codewords_with_the_noise_the_channel_says() {
        let code = shipped("96.3.963").expect("code");
        let channel = Channel::awgn(2.0);
        let frames = send_frames(&code, &channel, 400, 7);
        assert_eq!(frames.count(), 400);
        let sigma2 = channel.noise_variance(0.5);
        let mut ones = 0usize;
        let mut sum_sq = 0.0;
        for i in 0..frames.count() {
            let bits = frames.frame_bits(i);
            assert!(code.is_codeword(bits));
            ones += bits.iter().filter(|&&b| b == 1).count();
            for (b, l) in bits.iter().zip(frames.frame_llr(i)) {
                let y = f64::from(*l) * sigma2 / 2.0;
                let x = 1.0 - 2.0 * f64::from(*b);
                sum_sq += (y - x) * (y - x);
            }
        }
        let total = (400 * 96) as f64;
        // Random messages: about half the bits are ones (never only the all-zero word).
        assert!((ones as f64 / total - 0.5).abs() < 0.03, "{ones}");
        let var = sum_sq / total;
        assert!((var / sigma2 - 1.0).abs() < 0.05, "{var} vs {sigma2}");
        // Seeded: the same frames again.
        assert_eq!(send_frames(&code, &channel, 400, 7).llr, frames.llr);
    }

    #[test]
    fn bursts_hit_about_one_bit_in_twenty() {
        let code = shipped("96.3.963").expect("code");
        let frames = send_frames(
            &code,
            &Channel {
                eb_n0_db: 3.0,
                burst_sigma: 3.0,
            },
            500,
            1,
        );
        let hits = frames.burst.iter().filter(|&&b| b).count() as f64 / frames.burst.len() as f64;
        assert!((hits - BURST_PROBABILITY).abs() < 0.01, "{hits}");
    }

    #[test]
    fn llr_files_are_read_or_refused_with_their_line() {
        assert_eq!(
            parse_llr_csv("1,-2,3\n\n0.5, 1e3 ,-7\n", 3, "f").expect("ok"),
            vec![1.0, -2.0, 3.0, 0.5, 1000.0, -7.0]
        );
        for (text, needle) in [
            ("", "empty"),
            ("1,2\n", "line 1: 2 LLRs"),
            ("1,2,3\n1,x,3\n", "line 2: field 2"),
            ("1,NaN,3\n", "finite"),
            ("1,2,3,4\n", "n = 3"),
        ] {
            let e = parse_llr_csv(text, 3, "f").expect_err(text).to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
