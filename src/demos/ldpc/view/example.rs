//! A prepared LDPC example: the code (its parity checks, so a loaded alist comes along), the
//! channel, the frame's seed, the iteration limit and the decoder shown.

use super::LdpcDemo;
use crate::demos::Prepared;
use crate::demos::ldpc::code::Code;
use crate::demos::ldpc::methods::Method;
use crate::demos::ldpc::sim::Channel;
use crate::example_file::{ExampleFile, state_value};

#[derive(serde::Serialize, serde::Deserialize)]
struct LdpcExample {
    code_name: String,
    bits: usize,
    /// Each parity check's bits (rows of H).
    checks: Vec<Vec<usize>>,
    channel: Channel,
    frame_seed: u64,
    iterations: usize,
    shown: Method,
}

impl Prepared for LdpcDemo {
    fn example_state(&self) -> Result<serde_json::Value, String> {
        state_value(&LdpcExample {
            code_name: self.code.name.clone(),
            bits: self.code.n,
            checks: self.code.rows(),
            channel: self.channel,
            frame_seed: self.frame_seed,
            iterations: self.iters,
            shown: self.shown,
        })
    }

    fn open_example(&mut self, file: &ExampleFile) -> Result<(), String> {
        let example: LdpcExample = file.state()?;
        example.channel.validate()?;
        if example.iterations > 100 {
            return Err(format!(
                "{} iterations: the panel runs up to 100",
                example.iterations
            ));
        }
        let code = Code::from_rows(&example.code_name, example.bits, &example.checks)?;
        self.channel = example.channel;
        self.frame_seed = example.frame_seed;
        self.iters = example.iterations;
        self.shown = example.shown;
        self.set_code(code);
        Ok(())
    }
}
