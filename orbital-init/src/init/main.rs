//! `orbital-init`: PID 1 of an Orbital container.
//!
//! `orbital` executes it in the container's new namespaces with the configuration on fd 3 and
//! a report pipe on fd 4. It sets up the container, starts the command, then forwards signals
//! and reaps zombies until the command exits, and exits with the command's status. Every
//! failure goes back to `orbital` as one report; this program never panics on its own path.
#![no_std]
#![no_main]

extern crate alloc;

mod command;
mod config;
mod console;
mod dev;
mod mounts;
mod privileges;
mod reaper;
mod volumes;

use orbital_rt::out::{Level, Log};
use orbital_rt::rt::Process;
use orbital_rt::status::ORBITAL_FAILED;
use orbital_rt::wire::{Config, FLAG_NET_NONE, FLAG_NO_INIT, FLAG_READ_ONLY, FLAG_TTY, REPORT_FD};
use orbital_rt::{report, sys, Result};

orbital_rt::program!("orbital-init", main);

fn main(_process: Process) -> i32 {
    let mut log = Log {
        prefix: "orbital-init",
        level: Level::Quiet,
    };
    match run(&mut log) {
        Ok(status) => status,
        Err(err) => {
            report::send(REPORT_FD, ORBITAL_FAILED, &err);
            ORBITAL_FAILED as i32
        }
    }
}

fn run(log: &mut Log) -> Result<i32> {
    // The descriptors from orbital must not reach the command.
    sys::set_cloexec(orbital_rt::wire::CONFIG_FD, true)?;
    sys::set_cloexec(REPORT_FD, true)?;
    let _ = sys::set_process_name(c"orbital-init");

    let config = config::receive()?;
    // orbital has put this process into the container's cgroup before sending the
    // configuration; a cgroup namespace made now has that cgroup as its root, so the container
    // sees itself at "/" of the cgroup tree.
    sys::unshare(libc::CLONE_NEWCGROUP)?;
    log.level = Level::from_u8(config.log_level);
    log.say_number(
        Level::Debug,
        "in the container as pid ",
        sys::getpid() as i64,
    );
    let user = set_up(&config, log)?;

    if config.flags & FLAG_NO_INIT != 0 {
        log.debug("--no-init: the command becomes pid 1");
        return Ok(command::exec(&config, user.as_ref()));
    }
    let signals = reaper::take_signals()?;
    let pid = command::spawn(&config, user.as_ref())?;
    log.say_number(Level::Debug, "command started as pid ", pid as i64);
    // The report pipe went to the command's process at the fork, so a failure here is said on
    // stderr, and the container ends: an init that kept its privileges must not run on.
    if let Err(err) = privileges::confine_init(&config) {
        log.error(&err);
        let _ = sys::kill(pid, libc::SIGKILL);
        return Ok(ORBITAL_FAILED as i32);
    }
    Ok(reaper::run(pid, signals, log))
}

/// The container's setup, in order: its own session, private mounts, the volume sources, the
/// new root with /proc, /dev and /sys, the masks, the volumes, the console, the hostname, the
/// network, the user, the limits and the working directory. Returns the user to run as.
fn set_up(config: &Config, log: &Log) -> Result<Option<privileges::User>> {
    // A session of its own keeps the host terminal's job-control signals (Ctrl-C) away from
    // the container: they reach orbital, which forwards them, so the command gets each once.
    sys::setsid()?;
    mounts::make_private(log)?;
    let volume_sources = volumes::take_sources(&config.mounts)?;
    mounts::switch_root(&config.rootfs, log)?;
    mounts::mount_proc(log)?;
    dev::mount_dev(config.flags & FLAG_TTY != 0, log)?;
    mounts::mount_sys(log)?;
    mounts::mask_kernel_files(log)?;
    volumes::attach(&config.mounts, volume_sources, log)?;
    if config.flags & FLAG_READ_ONLY != 0 {
        mounts::make_root_read_only(log)?;
    }
    if config.flags & FLAG_TTY != 0 {
        console::create(log)?;
    }

    sys::sethostname(config.hostname.as_bytes())?;
    log.say(Level::Debug, "hostname ", config.hostname.as_bytes());
    if config.flags & FLAG_NET_NONE != 0 {
        sys::bring_up_loopback()?;
        log.debug("lo up in a network namespace of its own");
    }
    let user = privileges::resolve_user(config.user.as_bytes())?;
    privileges::set_rlimits(config)?;
    sys::chdir(&config.workdir)?;
    Ok(user)
}
