//! `inference-lab causal ...`: the documented actions parse; each answers that it is not built yet.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::demos::cli::{EvalArgs, TrainArgs};
use crate::demos::not_built::NotBuiltCli;

pub static CLI: NotBuiltCli<CausalAction> =
    NotBuiltCli::new(super::NAME, "Causal graphs of interacting particles");

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CausalMethod {
    Granger,
    Acd,
    #[value(name = "acd+tta")]
    AcdTta,
}

#[derive(Subcommand, Debug)]
pub enum CausalAction {
    /// Simulate interacting particles (long CSV: sample,t,node,x,y,vx,vy).
    Simulate {
        #[arg(long)]
        samples: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Infer edge probabilities (sample,source,target,probability).
    Infer {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum)]
        method: CausalMethod,
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
