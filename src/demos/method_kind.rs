//! Which family of inverse a method belongs to: a domain idea every demo's methods carry, read by
//! training, inference and the command line alike (the widgets only give each kind its color).

/// Which family of inverse a method belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodKind {
    /// Hand-engineered inverse ("logic").
    Classical,
    /// A network trained to answer at once ("intuition").
    Amortized,
    /// The classical iteration unrolled with a learned correction (both).
    Augmented,
    /// Uses knowledge no real method has (e.g. the exact dynamics): a reference line only.
    Oracle,
}

impl MethodKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Classical => "classical",
            Self::Amortized => "amortized",
            Self::Augmented => "augmented",
            Self::Oracle => "oracle",
        }
    }
}

/// What a demo's method enum says of each method. The panel (its buttons, tooltips and colors),
/// the command line (`--method` names, JSON) and the tables all read it.
pub trait DemoMethod: Copy + PartialEq + 'static {
    /// Its name on the command line and in JSON, e.g. `acd+tta`.
    fn name(self) -> &'static str;
    /// Its label in tables and plots.
    fn label(self) -> &'static str;
    /// Its family, which gives it its color.
    fn kind(self) -> MethodKind;
    /// What it does, in a sentence (with its formula where there is one): its tooltip.
    fn hint(self) -> &'static str;
}
