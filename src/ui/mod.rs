//! Widgets shared by every demo.

pub mod colormap;
pub mod export;
pub mod file_dialog;
pub mod loss_plot;
pub mod metrics;
pub mod model_io;
pub mod timeline;
