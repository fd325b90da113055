//! The Linux backend: namespaces, a sealed copy of orbital-init, a pipe for the configuration
//! and one for failure reports.
//!
//! ```text
//! orbital --clone(new UTS, PID, mount, IPC namespaces)--> child --execveat(memfd)--> orbital-init
//!   | fd 3, config pipe: the configuration ----------------------> | private mounts, pivot_root,
//!   | fd 4, report pipe: <-- one failure report, or EOF once the   | /proc, hostname, workdir,
//!   |                        command runs                          | fork + exec the command
//!   +- forwards signals, waits, exits with the container's status  +- forwards signals, reaps
//! ```

mod init_image;
mod rootfs;
mod spawn;
mod supervise;
mod terminal;

use alloc::ffi::CString;
use alloc::vec::Vec;

use orbital_rt::out::{Level, Log};
use orbital_rt::wire::{self, Config};
use orbital_rt::{sys, Error, Result};

use crate::backend::Backend;
use crate::cli::{self, RunOptions};

/// The backend for Linux.
pub struct Linux;

/// Namespaces every container gets.
const NAMESPACES: u64 =
    (libc::CLONE_NEWUTS | libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWIPC) as u64;

impl Backend for Linux {
    fn name(&self) -> &'static str {
        "linux (namespaces)"
    }

    fn run(&self, opts: &RunOptions, log: &Log) -> Result<i32> {
        check_root()?;
        let root = rootfs::open(&opts.rootfs)?;
        let tty = opts.tty.unwrap_or_else(|| sys::is_terminal(sys::STDIN));
        let config = wire::encode(&config_for(opts, tty, log)?)?;

        // Signals are blocked before the clone so that none is lost between the start of the
        // container and the supervisor's signalfd; the child inherits the mask, and
        // orbital-init takes over its own.
        let signals = supervise::block_signals()?;
        let init = init_image::prepare(&root, log)?;
        let container = spawn::start(NAMESPACES, &init, tty, log)?;
        sys::close(init.memfd)?;
        if let Some(mut line) = log.line(Level::Debug) {
            line.push("container init is pid ")
                .push_i64(container.pid as i64)
                .push(" on the host");
            line.print();
        }
        supervise::send_config(&container, &config)?;
        Ok(supervise::wait(&container, signals, log))
    }
}

/// Namespaces and mounts need CAP_SYS_ADMIN; a clear message beats a bare EPERM from clone.
fn check_root() -> Result<()> {
    let euid = sys::geteuid();
    if euid != 0 {
        let mut uid = orbital_rt::out::Line::new();
        uid.push_u64(euid as u64);
        return Err(Error::refused(
            "run as uid",
            uid.as_bytes(),
            "orbital must run as root",
        ));
    }
    Ok(())
}

fn cstring(field: &'static str, bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::refused(field, bytes, "contains a NUL byte"))
}

/// The configuration orbital-init receives.
fn config_for(opts: &RunOptions, tty: bool, log: &Log) -> Result<Config> {
    let argv = opts
        .argv
        .iter()
        .map(|a| cstring("argument", a))
        .collect::<Result<Vec<_>>>()?;
    let env = cli::container_env(opts)
        .iter()
        .map(|e| cstring("--env", e))
        .collect::<Result<Vec<_>>>()?;
    Ok(Config {
        flags: if opts.no_init { wire::FLAG_NO_INIT } else { 0 }
            | if tty { wire::FLAG_TTY } else { 0 },
        log_level: log.level.as_u8(),
        rootfs: cstring("--rootfs", &opts.rootfs)?,
        hostname: cstring("--hostname", &opts.hostname)?,
        workdir: cstring("--workdir", &opts.workdir)?,
        argv,
        env,
    })
}
