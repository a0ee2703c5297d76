//! LDPC decoding on a factor graph (Garcia Satorras & Welling, "Neural Enhanced Belief
//! Propagation on Factor Graphs", AISTATS 2021): a codeword of an LDPC code sent as BPSK over a
//! noisy (possibly bursty) channel, decoded by sum-product and min-sum BP, weighted (neural) BP,
//! and BP with a graph network correcting its messages.

pub mod bench;
pub mod classical;
pub mod cli;
pub mod code;
pub mod methods;
pub mod model;
pub mod sim;
pub mod train;
pub mod view;

use super::DemoEntry;

pub const NAME: &str = "ldpc";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::LdpcCli,
        panel: || Box::new(view::LdpcDemo::default()),
    }
}
