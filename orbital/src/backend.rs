//! The isolation backend: the one interface between the engine and an OS's container
//! primitives. Linux is the only backend today; elsewhere `orbital` builds and says so.

use orbital_rt::out::Log;
use orbital_rt::Result;

use crate::cli::RunOptions;

/// Something that can run a container.
pub trait Backend {
    /// A short name for `--verbose`.
    fn name(&self) -> &'static str;

    /// Runs the container described by `opts` to its end and returns the exit status orbital
    /// should exit with. Failures of orbital's own steps come back as errors; a failure inside
    /// the container is reported and turned into 125, 126 or 127.
    fn run(&self, opts: &RunOptions, log: &Log) -> Result<i32>;

    /// Removes what containers of killed orbitals left behind (cgroups), under `parent` or
    /// orbital's own place; returns how many were removed.
    fn cleanup(&self, parent: Option<&[u8]>, log: &Log) -> Result<usize>;
}

/// The backend of the OS orbital was built for, if there is one.
pub fn for_this_os() -> Option<&'static dyn Backend> {
    #[cfg(target_os = "linux")]
    {
        Some(&crate::linux::Linux)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
