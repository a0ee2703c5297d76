//! `inference-lab tsp ...`: the documented actions parse; each answers that it is not built yet.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::demos::cli::{EvalArgs, TrainArgs};
use crate::demos::not_built::NotBuiltCli;

pub static CLI: NotBuiltCli<TspAction> = NotBuiltCli::new(super::NAME, "Travelling-salesman tours");

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TspMethod {
    Nn,
    Insertion,
    #[value(name = "2opt")]
    TwoOpt,
    Exact,
    Am,
    #[value(name = "am+2opt")]
    AmTwoOpt,
}

#[derive(Subcommand, Debug)]
pub enum TspAction {
    /// Solve a TSPLIB instance; write a TSPLIB tour.
    Solve {
        #[arg(long)]
        instance: PathBuf,
        #[arg(long, value_enum)]
        method: TspMethod,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    Train(TrainArgs),
    Eval(EvalArgs),
}
