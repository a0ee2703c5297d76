//! MIMO detection (Pratik, Rao & Welling's RE-MIMO; He et al.'s OAMP-Net2; Samuel et al.'s
//! DetNet): N_t users sending QAM symbols to N_r antennas through a Rayleigh channel,
//! y = Hx + n, detected by the textbook detectors (zero forcing, LMMSE, V-BLAST, OAMP, exact ML
//! by a sphere decoder), and by the OAMP iteration with a few learned numbers.

pub mod classical;
pub mod methods;
pub mod metrics;
pub mod oamp;
pub mod sim;
