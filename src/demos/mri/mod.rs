//! MRI reconstruction: `y = M F x + n` inverted by zero filling, gradient ascent and TV
//! (classical), a U-Net from the zero-filled image (amortized) and a recurrent inference
//! machine (augmented), after Putzky & Welling (2017).

pub mod classical;
pub mod io;
pub mod metrics;
pub mod sim;
