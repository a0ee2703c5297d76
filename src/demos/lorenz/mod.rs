//! Lorenz-attractor filtering. Built so far: the forward model (simulation and noisy
//! observations) with its views. The inverses (EKF/EKS, GNN, hybrid) come with their own issue.

pub mod bench;
pub mod classical;
pub mod infer;
pub mod model;
pub mod model_io;
pub mod sim;
pub mod train;
mod view;

pub use view::LorenzDemo;
