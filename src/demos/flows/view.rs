//! The flows panel: not built yet. It says so (the command line and the math are in place;
//! docs/flows.md lists what the panel will show).

use super::ABOUT;
use crate::demos::{Demo, NotBuilt};

pub fn panel() -> Box<dyn Demo> {
    Box::new(NotBuilt { about: ABOUT })
}
