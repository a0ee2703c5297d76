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
