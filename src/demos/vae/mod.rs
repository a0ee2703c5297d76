//! Learning to infer (Kingma & Welling 2014; Cremer, Li & Duvenaud 2018): a VAE on MNIST-5k
//! with a 2-D latent, where p(z|x) and log p(x) are exact by quadrature, so that the per-image
//! variational fit (classical), the encoder (amortized) and the encoder refined by gradient
//! steps or by a trained refiner (augmented) are each drawn over the exact posterior and scored
//! in nats against it: the amortization gap, made visible.

pub mod bench;
pub mod classical;
pub mod cli;
pub mod io;
pub mod methods;
pub mod metrics;
pub mod model;
pub mod sim;
pub mod train;
pub mod view;

use super::DemoEntry;

pub const NAME: &str = "vae";

pub fn entry() -> DemoEntry {
    DemoEntry {
        name: NAME,
        cli: &cli::VaeCli,
        panel: || Box::new(view::VaeDemo::default()),
    }
}
