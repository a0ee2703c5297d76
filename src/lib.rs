//! inference-lab: one forward model per demo, inverted by classical, amortized and hybrid
//! methods side by side. The library holds everything; `main.rs` only parses and dispatches.

pub mod activation;
pub mod app;
pub mod backend;
pub mod bench;
pub mod channels_last;
pub mod cli;
pub mod csv_table;
pub mod demos;
pub mod example_file;
pub mod files;
pub mod jobs;
pub mod model_file;
pub mod npy;
pub mod render;
pub mod stored_model;
pub mod terminal;
pub mod training;
pub mod ui;
