//! Flows and surjections (Rezende & Mohamed 2015; Nielsen et al., SurVAE flows 2020): 2-D
//! densities fitted by a Gaussian mixture (EM), a normalizing flow and a flow with surjective and
//! stochastic layers, each layer's term in log p(x) shown ("Algorithm 1"). Being built: the data
//! and the classical fit are here; the flows, the command line and the panel are not yet.

pub mod classical;
pub mod model;
pub mod sim;
pub mod train;

pub const NAME: &str = "flows";
