//! The top-level command line (docs/cli.md): the global options, and a subcommand per
//! registered demo, built from the registry and routed to the demo by name. Each demo owns its
//! actions in `src/demos/NAME/cli.rs`; no subcommand opens the window. Errors go to stderr with a
//! non-zero exit code and name the file, line and field.

use anyhow::bail;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::backend::BackendRequest;
use crate::demos::cli::{BenchArgs, Globals};

/// The global options. The demos' subcommands are added by [`command`].
#[derive(Parser, Debug)]
#[command(
    name = "inference-lab",
    version,
    about = "Classical, amortized and hybrid inference, side by side"
)]
pub struct Cli {
    // Its help, "Open the window on one panel: NAMES.", is written by `command` from the registry.
    #[arg(long, value_name = "NAME")]
    pub demo: Option<String>,
    /// A prepared example (.ilab, saved from a panel) to open in the window.
    #[arg(value_name = "FILE")]
    pub example: Option<std::path::PathBuf>,
    /// Where burn computes: wgpu on a hardware GPU (auto), wgpu even on a software adapter (gpu), or the CPU.
    #[arg(long, value_enum, default_value_t = BackendRequest::Auto, global = true)]
    pub backend: BackendRequest,
    /// Seed of every random draw (data, initialization, masks).
    #[arg(long, default_value_t = 0, global = true)]
    pub seed: u64,
    /// How the window draws: wgpu on a hardware GPU and glow otherwise (auto), or forced.
    #[arg(long, value_enum, default_value_t = RendererRequest::Auto)]
    pub renderer: RendererRequest,
    /// Open the window, run a training job, record N frames, print start-up and frame times as JSON, exit.
    #[arg(long, value_name = "N")]
    pub bench_frames: Option<usize>,
    /// Open the window on --demo, wait for its first run, write the figure at every step of its timeline (.gif, or .png for a numbered PNG sequence), exit.
    #[arg(long, value_name = "OUT", requires = "demo")]
    pub animate: Option<std::path::PathBuf>,
    /// With --animate: frames per second (0.5–30).
    #[arg(long, value_name = "FPS", default_value_t = 4.0, requires = "animate")]
    pub animate_fps: f32,
    /// With --animate: pixels of the file per pixel of the screen (1–2).
    #[arg(
        long,
        value_name = "SCALE",
        default_value_t = 1.0,
        requires = "animate"
    )]
    pub animate_scale: f32,
    /// With --animate: the steps written, FIRST:LAST (from 0; LAST may be left out for the end).
    #[arg(long, value_name = "FIRST:LAST", value_parser = parse_steps, requires = "animate")]
    pub animate_steps: Option<(usize, Option<usize>)>,
}

/// `FIRST:LAST` or `FIRST:` (to the timeline's end).
fn parse_steps(text: &str) -> Result<(usize, Option<usize>), String> {
    let bad = || format!("`{text}`: steps are FIRST:LAST or FIRST: (whole numbers from 0)");
    let (first, last) = text.split_once(':').ok_or_else(bad)?;
    let first = first.trim().parse().map_err(|_| bad())?;
    let last = match last.trim() {
        "" => None,
        last => Some(last.parse().map_err(|_| bad())?),
    };
    Ok((first, last))
}

impl Cli {
    /// What `--animate` asks for, checked.
    pub fn animation(&self) -> Option<Result<crate::ui::animation::AnimationSettings, String>> {
        let path = self.animate.clone()?;
        let (first, last) = self.animate_steps.unwrap_or((0, None));
        let settings = crate::ui::animation::AnimationSettings {
            path,
            fps: self.animate_fps,
            scale: self.animate_scale,
            first,
            last,
        };
        Some(settings.validate().map(|()| settings))
    }

    pub fn globals(&self) -> Globals {
        Globals {
            backend: self.backend,
            seed: self.seed,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RendererRequest {
    Auto,
    Wgpu,
    Glow,
}

// The subcommands that are not a demo's. (A `///` comment here would become the program's about.)
#[derive(Subcommand, Debug)]
enum SharedCommand {
    /// The comparison tables; without --demo, the compute device's speed.
    Bench(BenchArgs),
}

/// The whole command line: the global options, every registered demo's subcommand (in registry
/// order), then `bench`.
pub fn command() -> clap::Command {
    let panels = format!(
        "Open the window on one panel: {}",
        crate::demos::names().join(", ")
    );
    let with_demos = crate::demos::registry().iter().fold(
        Cli::command().mut_arg("demo", |arg| arg.help(panels)),
        |cmd, entry| cmd.subcommand(entry.cli.command(entry.name)),
    );
    SharedCommand::augment_subcommands(with_demos)
}

/// What the command line asks for: the global options, and the matches of a subcommand, if any.
pub struct Invocation {
    pub cli: Cli,
    matches: ArgMatches,
}

impl Invocation {
    /// Whether a subcommand was given (none opens the window).
    pub fn has_action(&self) -> bool {
        self.matches.subcommand().is_some()
    }
}

/// Parses the process's arguments; on `--help` or a usage error clap prints and exits.
pub fn parse() -> Invocation {
    let matches = command().get_matches();
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Invocation { cli, matches },
        Err(e) => e.exit(),
    }
}

/// Parses `args` (the program name first), for tests.
pub fn try_parse_from<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(Invocation { cli, matches })
}

/// Runs the subcommand the invocation names. `Ok(())` is exit code 0.
pub fn run(invocation: &Invocation) -> anyhow::Result<()> {
    let globals = invocation.cli.globals();
    let Some((name, matches)) = invocation.matches.subcommand() else {
        bail!("no action given");
    };
    if let Some(entry) = crate::demos::registry()
        .into_iter()
        .find(|e| e.name == name)
    {
        return entry.cli.run_matches(matches, globals);
    }
    let SharedCommand::Bench(args) =
        SharedCommand::from_arg_matches(&invocation.matches).map_err(|e| anyhow::anyhow!("{e}"))?;
    let demos = match &args.demo {
        None => crate::demos::registry(),
        Some(demo) => vec![find_demo(demo)?],
    };
    if args.train {
        return crate::bench::train_speed::run(&demos, globals.backend, &args);
    }
    match (&args.demo, demos.first()) {
        (Some(_), Some(entry)) => entry.cli.bench(&args, globals),
        _ => crate::bench::device::run(globals.backend, args.quick),
    }
}

fn find_demo(name: &str) -> anyhow::Result<crate::demos::DemoEntry> {
    match crate::demos::registry()
        .into_iter()
        .find(|e| e.name == name)
    {
        Some(entry) => Ok(entry),
        None => bail!(
            "unknown demo `{name}` (known: {})",
            crate::demos::names().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_opens_an_example_and_subcommands_stay_subcommands() {
        let opened = try_parse_from(["inference-lab", "class/tsp-50.ilab"]).expect("a file");
        assert!(!opened.has_action());
        assert_eq!(
            opened.cli.example.as_deref(),
            Some(std::path::Path::new("class/tsp-50.ilab"))
        );
        let action = try_parse_from(["inference-lab", "tsp", "solve", "--help"]);
        assert!(action.is_err_and(|e| e.kind() == clap::error::ErrorKind::DisplayHelp));
        let animate = |steps: &str| {
            let args = [
                "--demo",
                "mri",
                "--animate",
                "a.gif",
                "--animate-steps",
                steps,
            ];
            try_parse_from(std::iter::once("inference-lab").chain(args))
        };
        let settings = animate("2:")
            .expect("animate")
            .cli
            .animation()
            .expect("asked")
            .expect("valid");
        assert_eq!((settings.first, settings.last), (2, None));
        assert!(animate("x").is_err());
        assert!(try_parse_from(["inference-lab", "--animate", "a.gif"]).is_err());
    }

    #[test]
    fn the_contract_parses() {
        command().debug_assert();
        let parse = |args: &[&str]| try_parse_from(args);
        assert!(parse(&["inference-lab"]).is_ok());
        assert!(parse(&["inference-lab", "--demo", "lorenz", "--backend", "cpu"]).is_ok());
        assert!(
            parse(&[
                "inference-lab",
                "--seed",
                "3",
                "lorenz",
                "simulate",
                "--steps",
                "10",
                "--out",
                "a.csv"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "lorenz",
                "infer",
                "--input",
                "o.csv",
                "--method",
                "hybrid",
                "--out",
                "e.csv",
                "--json"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "mri",
                "reconstruct",
                "--kspace",
                "y.npy",
                "--mask",
                "m.png",
                "--method",
                "rim",
                "--out",
                "r.png"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "ldpc",
                "ber",
                "--code",
                "H.alist",
                "--snr-db",
                "1,2,3",
                "--frames",
                "10",
                "--method",
                "nebp",
                "--json"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "tsp",
                "solve",
                "--instance",
                "a.tsp",
                "--method",
                "am+2opt",
                "--out",
                "a.tour"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "inference-lab",
                "causal",
                "infer",
                "--input",
                "s.csv",
                "--method",
                "acd+tta",
                "--out",
                "e.csv"
            ])
            .is_ok()
        );
        assert!(parse(&["inference-lab", "bench", "--demo", "lorenz", "--quick"]).is_ok());
        assert!(parse(&["inference-lab", "bench", "--train", "--out", "t.json"]).is_ok());
        assert!(
            parse(&[
                "inference-lab",
                "lorenz",
                "train",
                "--out",
                "m.mpk",
                "--budget-s",
                "60"
            ])
            .is_ok()
        );
        assert!(parse(&["inference-lab", "--backend", "tpu"]).is_err());
        assert!(parse(&["inference-lab", "lorenz", "infer", "--method", "magic"]).is_err());
    }

    #[test]
    fn an_unknown_demo_is_named() {
        let unknown = try_parse_from(["inference-lab", "bench", "--demo", "x"]).expect("parses");
        let err = run(&unknown).expect_err("unknown");
        assert!(err.to_string().starts_with("unknown demo `x`"), "{err}");
    }

    #[test]
    fn global_options_reach_the_demo_wherever_they_stand() {
        let invocation = try_parse_from([
            "inference-lab",
            "mri",
            "eval",
            "--seed",
            "5",
            "--backend",
            "cpu",
        ])
        .expect("parses");
        assert_eq!(invocation.cli.seed, 5);
        assert_eq!(invocation.cli.backend, BackendRequest::Cpu);
        assert!(invocation.has_action());
        assert!(
            !try_parse_from(["inference-lab"])
                .expect("parses")
                .has_action()
        );
    }
}
