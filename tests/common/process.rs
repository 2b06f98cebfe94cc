//! Child processes of a test (`civicpost worker`, …) that end with it: a test that fails
//! half-way must not leave them running against the next tests' databases.

use std::ops::{Deref, DerefMut};
use std::process::Child;

/// A child process, SIGKILLed and reaped when dropped.
pub struct KilledOnDrop(pub Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Deref for KilledOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for KilledOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}
