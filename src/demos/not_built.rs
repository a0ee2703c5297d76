//! A registered demo that is not built yet: its panel says so in one plain sentence, and its
//! command line parses the documented actions and answers `... is not built yet` (exit code 1).

use std::marker::PhantomData;

use super::cli::{BenchArgs, DemoCli, Globals, not_built};
use super::{Demo, DemoCtx};

pub struct NotBuilt {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub explanation: &'static str,
}

/// The sentence an unbuilt panel shows.
pub const NOT_BUILT_SENTENCE: &str = "This panel is not built yet.";

impl Demo for NotBuilt {
    fn name(&self) -> &'static str {
        self.name
    }
    fn title(&self) -> &'static str {
        self.title
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn explanation(&self) -> &'static str {
        self.explanation
    }
    fn is_built(&self) -> bool {
        false
    }
    fn controls_ui(&mut self, _ui: &mut egui::Ui, _ctx: &mut DemoCtx<'_>) {}
    fn figures_ui(&mut self, ui: &mut egui::Ui, _ctx: &mut DemoCtx<'_>) {
        ui.add_space(12.0);
        ui.heading(NOT_BUILT_SENTENCE);
    }
}

/// The command line of an unbuilt demo whose actions are the variants of `A`.
pub struct NotBuiltCli<A> {
    name: &'static str,
    about: &'static str,
    actions: PhantomData<fn() -> A>,
}

impl<A> NotBuiltCli<A> {
    pub const fn new(name: &'static str, about: &'static str) -> Self {
        Self {
            name,
            about,
            actions: PhantomData,
        }
    }
}

impl<A: clap::Subcommand> DemoCli for NotBuiltCli<A> {
    type Action = A;

    fn about(&self) -> &'static str {
        self.about
    }

    fn run(&self, _action: A, _globals: Globals) -> anyhow::Result<()> {
        Err(not_built(self.name))
    }

    fn bench(&self, _args: &BenchArgs, _globals: Globals) -> anyhow::Result<()> {
        Err(not_built(&format!("bench --demo {}", self.name)))
    }
}
