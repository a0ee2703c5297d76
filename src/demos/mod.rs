//! The demos: one folder each, registered in [`registry`].

pub mod lorenz;
pub mod mri;
mod not_built;

use crate::backend::ComputeChoice;
use crate::jobs::JobRegistry;
use crate::render::PaintMode;

pub use not_built::NotBuilt;

/// What a panel gets from the app each frame.
pub struct DemoCtx<'a> {
    /// burn's device for training and inference jobs.
    pub compute: &'a ComputeChoice,
    /// Register every job here so the status bar lists it.
    pub jobs: &'a mut JobRegistry,
    /// How 3-D views are drawn in this window.
    pub paint_mode: PaintMode,
}

/// A panel of the app. Each demo owns its state; the app only routes frames to it.
pub trait Demo {
    /// The command-line name, e.g. `lorenz` (`--demo lorenz`).
    fn name(&self) -> &'static str;
    /// The side bar's entry.
    fn title(&self) -> &'static str;
    /// One line under the title in the side bar.
    fn summary(&self) -> &'static str;
    /// A paragraph at the top of the panel: the forward model and the inverses shown.
    fn explanation(&self) -> &'static str;
    /// Whether the panel does what its explanation says (unbuilt panels say so plainly).
    fn is_built(&self) -> bool {
        true
    }
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut DemoCtx<'_>);
}

/// Every demo, in side-bar order. Adding a demo is one line here.
pub fn registry() -> Vec<Box<dyn Demo>> {
    vec![
        Box::new(lorenz::LorenzDemo::default()),
        Box::new(mri::MriDemo::default()),
        Box::new(NotBuilt {
            name: "ldpc",
            title: "Factor graphs / LDPC",
            summary: "Belief-propagation messages decoding a noisy codeword",
            explanation: "Forward model: a codeword of an LDPC code sent as BPSK over a noisy \
                          channel. Inverses: sum-product and min-sum belief propagation, weighted \
                          (neural) BP, and a graph network running beside BP.",
        }),
        Box::new(NotBuilt {
            name: "tsp",
            title: "TSP tours",
            summary: "Cities in the unit square, tours by search and by attention",
            explanation: "Forward model: a tour's length over cities. Inverses: nearest neighbour, \
                          insertion, 2-opt and exact search, an attention model trained with \
                          REINFORCE, and the attention model followed by 2-opt.",
        }),
        Box::new(NotBuilt {
            name: "causal",
            title: "Causal graphs",
            summary: "Which particles are joined by springs, from their motion",
            explanation: "Forward model: particles joined by hidden springs. Inverses: Granger \
                          causality (VAR F-test), an amortized causal-discovery encoder, and the \
                          encoder with test-time adaptation of its decoder.",
        }),
    ]
}

/// The command-line names of every demo.
pub fn names() -> Vec<&'static str> {
    registry().iter().map(|d| d.name()).collect()
}
