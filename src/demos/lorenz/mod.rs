//! Lorenz-attractor filtering. Built so far: the forward model (simulation and noisy
//! observations) with its views. The inverses (EKF/EKS, GNN, hybrid) come with their own issue.

pub mod classical;
pub mod infer;
pub mod model;
pub mod sim;
mod view;

pub use view::LorenzDemo;
