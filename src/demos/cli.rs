//! What every demo's command line shares: the [`DemoCli`] trait a demo's `cli.rs` implements,
//! the options every `DEMO train`, `DEMO eval` and `bench --demo` take. The top-level
//! `src/cli.rs` builds the subcommands from the registry and routes to the demo by name; nothing
//! here knows any demo.

use std::path::PathBuf;

use burn::tensor::Device;

use crate::backend::BackendRequest;
use crate::stored_model::StoredModel;
use crate::training::{Schedule, TrainFn, TrainJob, TrainSettings, TrainingStep};

/// The global options a demo's actions read.
#[derive(Clone, Copy, Debug)]
pub struct Globals {
    pub backend: BackendRequest,
    pub seed: u64,
}

/// A demo's command line: `inference-lab NAME ACTION ...` and `inference-lab bench --demo NAME`.
pub trait DemoCli: Sync {
    /// The demo's actions: a `#[derive(clap::Subcommand)]` enum.
    type Action: clap::Subcommand;
    /// The `NAME` subcommand's line in `inference-lab --help`.
    const ABOUT: &'static str;
    /// Runs one action.
    fn run(&self, action: Self::Action, globals: Globals) -> anyhow::Result<()>;
    /// `bench --demo NAME`: the demo's comparison table.
    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()>;
    /// `bench --train`: the training step of every network the demo trains, on `device`,
    /// each as its training loop runs it (none until the demo is built).
    fn training_steps(&self, _device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        Ok(Vec::new())
    }
}

/// What the registry holds of a [`DemoCli`]: the same, with its actions behind clap's builder
/// API, so that `src/cli.rs` can list demos whose action types differ.
pub trait DemoCommand: Sync {
    /// The `name` subcommand with its actions, as clap's derive makes it for a variant holding
    /// `#[command(subcommand)] action: Action` (an action is required; none prints the help).
    fn command(&self, name: &'static str) -> clap::Command;
    /// Runs the action in `matches` (the demo subcommand's own matches).
    fn run_matches(&self, matches: &clap::ArgMatches, globals: Globals) -> anyhow::Result<()>;
    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()>;
    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>>;
}

impl<T: DemoCli> DemoCommand for T {
    fn command(&self, name: &'static str) -> clap::Command {
        use clap::Subcommand;
        T::Action::augment_subcommands(
            clap::Command::new(name)
                .about(T::ABOUT)
                .subcommand_required(true)
                .arg_required_else_help(true),
        )
    }

    fn run_matches(&self, matches: &clap::ArgMatches, globals: Globals) -> anyhow::Result<()> {
        use clap::FromArgMatches;
        let action = T::Action::from_arg_matches(matches).map_err(|e| anyhow::anyhow!("{e}"))?;
        self.run(action, globals)
    }

    fn bench(&self, args: &BenchArgs, globals: Globals) -> anyhow::Result<()> {
        DemoCli::bench(self, args, globals)
    }

    fn training_steps(&self, device: &Device) -> anyhow::Result<Vec<Box<dyn TrainingStep>>> {
        DemoCli::training_steps(self, device)
    }
}

/// Options every `DEMO train` takes.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Where to save the trained model (written atomically).
    #[arg(long, default_value = "model.mpk")]
    pub out: PathBuf,
    /// Stop training after this many seconds.
    #[arg(long, value_name = "S")]
    pub budget_s: Option<f64>,
}

impl TrainArgs {
    /// The schedule of a `DEMO train` run: the common options, the action's own `steps`,
    /// `lr` (when given) and `init`, the global seed, and a checkpoint at `--out`.
    pub fn schedule(
        &self,
        mut schedule: Schedule,
        steps: u64,
        lr: Option<f64>,
        init: Option<PathBuf>,
        seed: u64,
    ) -> Schedule {
        schedule.max_steps = steps;
        schedule.budget_secs = self.budget_s;
        schedule.learning_rate = lr.unwrap_or(schedule.learning_rate);
        schedule.init = init;
        schedule.seed = seed;
        schedule.checkpoint = Some(self.out.clone());
        schedule
    }

    /// Runs `train` on `config` as a job followed on the terminal, saves the best model at
    /// `--out` and says so on stderr.
    pub fn run<M, C>(
        &self,
        job_name: String,
        config: C,
        backend: BackendRequest,
        train: TrainFn<M, C>,
    ) -> anyhow::Result<()>
    where
        M: StoredModel + Send + 'static,
        C: TrainSettings + Clone + Send + 'static,
    {
        config.validate().map_err(anyhow::Error::msg)?;
        let compute = crate::backend::compute_for(backend);
        let device = compute.device.clone();
        let job_config = config.clone();
        let handle = crate::jobs::spawn(
            job_name,
            || {},
            move |ctx| train(TrainJob::new(ctx, &device), &job_config),
        )?;
        let trained = crate::terminal::wait_with_progress(handle)?;
        trained.save(&self.out, &config)?;
        eprintln!(
            "saved {} ({} on {})",
            self.out.display(),
            trained.summary(),
            compute.label
        );
        Ok(())
    }
}

/// `DEMO eval`'s output: the report as one JSON object on stdout with `--json`, else its table.
pub fn print_report(
    report: &impl serde::Serialize,
    table: String,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print!("{table}");
    }
    Ok(())
}

/// `bench --demo NAME`'s output: the table, and the report as JSON at `--out` when given.
pub fn print_bench(
    report: &impl serde::Serialize,
    table: String,
    args: &BenchArgs,
) -> anyhow::Result<()> {
    print!("{table}");
    if let Some(path) = &args.out {
        crate::files::write_atomic(path, serde_json::to_string_pretty(report)?.as_bytes())?;
    }
    Ok(())
}

/// `bench --demo NAME` of a demo whose acceptance run takes (quick, device, its label) and whose
/// report prints as `table`: the table on stdout, the report as JSON at `--out`.
pub fn run_bench<R: serde::Serialize>(
    args: &BenchArgs,
    globals: Globals,
    run: impl FnOnce(bool, &burn::tensor::Device, &str) -> anyhow::Result<R>,
    table: impl FnOnce(&R) -> String,
) -> anyhow::Result<()> {
    let compute = crate::backend::compute_for(globals.backend);
    let report = run(args.quick, &compute.device, &compute.label)?;
    print_bench(&report, table(&report), args)
}

/// Runs `inference-lab --backend cpu NAME ARGS…` (ARGS without `NAME`) through `cli`, as the
/// command line would: the demos' command-line tests call this.
#[cfg(test)]
pub fn run_args(name: &str, args: &[&str]) -> anyhow::Result<()> {
    let entry = super::registry()
        .into_iter()
        .find(|entry| entry.name == name)
        .ok_or_else(|| anyhow::anyhow!("no demo {name}"))?;
    let matches = entry
        .cli
        .command(entry.name)
        .try_get_matches_from(std::iter::once(name).chain(args.iter().copied()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let globals = Globals {
        backend: BackendRequest::Cpu,
        seed: 0,
    };
    entry.cli.run_matches(&matches, globals)
}

/// Options every `DEMO eval` takes.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The model to evaluate (default: the shipped one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `inference-lab bench`'s options: without `--demo`, the compute device's speed.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[arg(long, value_name = "NAME")]
    pub demo: Option<String>,
    /// The training step of every network (of --demo's only, if given): steps and samples per second.
    #[arg(long)]
    pub train: bool,
    /// Smaller problems, for a quick look.
    #[arg(long)]
    pub quick: bool,
    /// Also save the results as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// mri: held-out grayscale PNG images to measure (default: generated test phantoms).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// mri: a model file measured in place of the shipped one of its kind.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
}
