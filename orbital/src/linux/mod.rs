//! The Linux backend: namespaces, a sealed copy of orbital-init, a pipe for the configuration,
//! one for failure reports, a socket for the pty master, and a cgroup when limits ask for one.
//!
//! ```text
//! orbital --clone(new UTS, PID, mount, IPC [, net] namespaces)--> child --execveat--> init
//!   | (moves the init into the container's cgroup, if any)         |
//!   | fd 3, config pipe: the configuration ----------------------> | cgroup ns, mounts, root,
//!   | fd 5, console socket: <-- the pty master (with a pty)        | /proc /dev /sys, console,
//!   | fd 4, report pipe: <-- one failure report, or EOF once the   | hostname, user, limits,
//!   |                        command runs                          | fork + exec the command
//!   +- relays the pty, forwards signals, waits, removes the cgroup +- forwards signals, reaps
//! ```

pub mod cgroups;
mod init_image;
mod rootfs;
mod spawn;
mod supervise;
mod terminal;

use alloc::ffi::CString;
use alloc::vec::Vec;

use orbital_rt::out::{Level, Line, Log};
use orbital_rt::wire::{self, Config, Mount, MountKind, Rlimit};
use orbital_rt::{sys, Error, Result};

use crate::backend::Backend;
use crate::cli::{self, RunOptions};
use crate::values::{self, MountSpec};
use cgroups::Cgroup;

/// The backend for Linux.
pub struct Linux;

/// Namespaces every container gets.
/// (orbital-init adds a cgroup namespace of its own once it is in the container's cgroup.)
const NAMESPACES: u64 =
    (libc::CLONE_NEWUTS | libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWIPC) as u64;

impl Backend for Linux {
    fn name(&self) -> &'static str {
        "linux (namespaces)"
    }

    fn run(&self, opts: &RunOptions, log: &Log) -> Result<i32> {
        check_root()?;
        let root = rootfs::open(&opts.rootfs)?;
        check_volume_sources(opts)?;
        check_ulimits(opts)?;
        let capabilities = capabilities_within_reach(opts)?;
        let tty = opts.tty.unwrap_or_else(|| sys::is_terminal(sys::STDIN));
        let config = wire::encode(&config_for(opts, tty, capabilities, log)?)?;
        let mut cgroup = Cgroup::create(&opts.limits, log)?;
        let status = start_and_wait(opts, &root, &config, tty, cgroup.as_ref(), log);
        if let Some(cgroup) = cgroup.as_mut() {
            report_oom(cgroup, opts, log);
            cgroup.remove(log);
        }
        status
    }

    fn cleanup(&self, parent: Option<&[u8]>, log: &Log) -> Result<usize> {
        check_root()?;
        cgroups::cleanup(parent, log)
    }
}

/// Starts the container, in `cgroup` if there is one, and waits for its end.
fn start_and_wait(
    opts: &RunOptions,
    root: &rootfs::Rootfs,
    config: &[u8],
    tty: bool,
    cgroup: Option<&Cgroup>,
    log: &Log,
) -> Result<i32> {
    // Signals are blocked before the clone so that none is lost between the start of the
    // container and the supervisor's signalfd; the child inherits the mask, and orbital-init
    // takes over its own.
    let signals = supervise::block_signals()?;
    let init = init_image::prepare(root, log)?;
    let network = if opts.net_none {
        libc::CLONE_NEWNET as u64
    } else {
        0
    };
    let container = spawn::start(NAMESPACES | network, &init, tty, log)?;
    sys::close(init.memfd)?;
    if let Some(mut line) = log.line(Level::Debug) {
        line.push("container init is pid ")
            .push_i64(container.pid as i64)
            .push(" on the host");
        line.print();
    }

    // Into the cgroup before the configuration goes out: orbital-init waits for it, so the
    // command cannot start unlimited.
    if let Some(Err(err)) = cgroup.map(|c| c.add(container.pid)) {
        let _ = sys::kill(container.pid, libc::SIGKILL);
        let _ = sys::wait(container.pid, 0);
        return Err(err);
    }
    supervise::send_config(&container, config)?;
    Ok(supervise::wait(&container, signals, log))
}

/// Says so when the kernel's OOM killer acted in the container, from the cgroup's counter.
fn report_oom(cgroup: &Cgroup, opts: &RunOptions, log: &Log) {
    let kills = cgroup.oom_kills();
    if kills == 0 {
        return;
    }
    let mut line = Line::new();
    line.push(log.prefix)
        .push(": the container ran out of memory (--memory ");
    line.push_u64(opts.limits.memory.unwrap_or(0))
        .push(" bytes): the OOM killer ended ");
    line.push_u64(kills)
        .push(if kills == 1 { " process" } else { " processes" })
        .print();
}

/// Namespaces and mounts need CAP_SYS_ADMIN; a clear message beats a bare EPERM from clone.
fn check_root() -> Result<()> {
    let euid = sys::geteuid();
    if euid != 0 {
        let mut uid = Line::new();
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
fn config_for(opts: &RunOptions, tty: bool, capabilities: u64, log: &Log) -> Result<Config> {
    let argv = opts
        .argv
        .iter()
        .map(|a| cstring("argument", a))
        .collect::<Result<Vec<_>>>()?;
    let env = cli::container_env(opts)
        .iter()
        .map(|e| cstring("--env", e))
        .collect::<Result<Vec<_>>>()?;
    let flag = |on: bool, flag: u32| if on { flag } else { 0 };
    Ok(Config {
        flags: flag(opts.no_init, wire::FLAG_NO_INIT)
            | flag(tty, wire::FLAG_TTY)
            | flag(opts.read_only, wire::FLAG_READ_ONLY)
            | flag(opts.net_none, wire::FLAG_NET_NONE)
            | flag(opts.seccomp_unconfined, wire::FLAG_SECCOMP_OFF),
        log_level: log.level.as_u8(),
        rootfs: cstring("--rootfs", &opts.rootfs)?,
        hostname: cstring("--hostname", &opts.hostname)?,
        workdir: cstring("--workdir", &opts.workdir)?,
        argv,
        env,
        user: cstring("--user", &opts.user)?,
        capabilities,
        mounts: opts
            .mounts
            .iter()
            .map(wire_mount)
            .collect::<Result<Vec<_>>>()?,
        rlimits: opts
            .ulimits
            .iter()
            .map(|u| Rlimit {
                resource: u.resource,
                soft: u.soft,
                hard: u.hard,
            })
            .collect(),
    })
}

fn wire_mount(spec: &MountSpec) -> Result<Mount> {
    Ok(match spec {
        MountSpec::Volume {
            source,
            target,
            read_only,
        } => Mount {
            kind: MountKind::Bind,
            read_only: *read_only,
            source: cstring("--volume", source)?,
            target: cstring("--volume", target)?,
            options: CString::default(),
        },
        MountSpec::Tmpfs {
            target,
            options,
            read_only,
        } => Mount {
            kind: MountKind::Tmpfs,
            read_only: *read_only,
            source: CString::default(),
            target: cstring("--tmpfs", target)?,
            options: cstring("--tmpfs", options)?,
        },
    })
}

/// The container cannot hold a capability orbital lacks (a host or sandbox may keep some out
/// of every process's bounding set). `--cap-add ALL` means every one orbital has; a
/// capability named on its own that orbital lacks is an error.
fn capabilities_within_reach(opts: &RunOptions) -> Result<u64> {
    let own = sys::capget()?.permitted;
    let missing = opts.capabilities & !own;
    if missing == 0 || opts.cap_add_all {
        return Ok(opts.capabilities & own);
    }
    let name = orbital_rt::caps::NAMES
        .get(missing.trailing_zeros() as usize)
        .copied();
    Err(Error::refused(
        "--cap-add",
        name.unwrap_or("?").as_bytes(),
        "orbital itself does not hold this capability, so it cannot pass it on",
    ))
}

/// A volume whose source is missing fails here, with the host path in the message, rather
/// than halfway through the container's setup.
fn check_volume_sources(opts: &RunOptions) -> Result<()> {
    for spec in &opts.mounts {
        if let MountSpec::Volume { source, .. } = spec {
            let path = cstring("--volume", source)?;
            sys::stat(&path).map_err(|mut err| {
                err.op = "--volume";
                err
            })?;
        }
    }
    Ok(())
}

/// Raising a hard limit needs CAP_SYS_RESOURCE, which orbital may not have (many hosts and
/// sandboxes drop it from every process): say so before starting anything.
fn check_ulimits(opts: &RunOptions) -> Result<()> {
    for limit in &opts.ulimits {
        let (_, hard) = sys::get_rlimit(limit.resource)?;
        if limit.hard > hard {
            let name = values::ULIMIT_NAMES
                .iter()
                .find(|(_, n)| *n == limit.resource);
            let name = name.map_or(&b"?"[..], |(name, _)| name.as_bytes());
            return Err(Error::refused(
                "--ulimit",
                name,
                "hard limit above orbital's own, which only CAP_SYS_RESOURCE may raise",
            ));
        }
    }
    Ok(())
}
