//! `inference-lab ldpc ...`: the documented actions parse; each answers that it is not built yet.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::demos::cli::{EvalArgs, TrainArgs};
use crate::demos::not_built::NotBuiltCli;

pub static CLI: NotBuiltCli<LdpcAction> =
    NotBuiltCli::new(super::NAME, "LDPC decoding on a factor graph");

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LdpcMethod {
    Bp,
    Minsum,
    Nbp,
    Nebp,
}

#[derive(Subcommand, Debug)]
pub enum LdpcAction {
    /// Decode LLR frames (one a line, positive = bit 0) into codewords.
    Decode {
        #[arg(long)]
        code: PathBuf,
        #[arg(long)]
        llr: PathBuf,
        #[arg(long, value_enum)]
        method: LdpcMethod,
        #[arg(long)]
        iters: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Bit and frame error rates over SNRs.
    Ber {
        #[arg(long)]
        code: PathBuf,
        #[arg(long, value_delimiter = ',')]
        snr_db: Vec<f64>,
        #[arg(long)]
        frames: usize,
        #[arg(long, value_enum)]
        method: LdpcMethod,
        #[arg(long)]
        json: bool,
    },
    Train(TrainArgs),
    Eval(EvalArgs),
}
