//! Starting the user's command: as a child of orbital-init, or in its place with `--no-init`.

use alloc::vec::Vec;
use core::ffi::{c_char, CStr};

use orbital_rt::out::Line;
use orbital_rt::sys::{self, SigSet};
use orbital_rt::wire::{Config, FLAG_TTY, REPORT_FD};

use crate::console;
use crate::privileges::{self, User};
use orbital_rt::{report, status, Error, Result};

/// Search path when the container's environment has no PATH.
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Forks the command's process; returns its pid. An exec failure is reported by the child.
pub fn spawn(config: &Config, user: Option<&User>) -> Result<i32> {
    let argv = pointers(&config.argv);
    let envp = pointers(&config.env);
    let pid = sys::fork()?;
    if pid == 0 {
        // With a console, the command leads a session of its own with the console as its
        // controlling terminal, so that a shell gets job control.
        if config.flags & FLAG_TTY != 0 {
            if let Err(err) = sys::setsid().and_then(|()| console::take_as_controlling_terminal()) {
                report::send(REPORT_FD, status::ORBITAL_FAILED, &err);
                sys::exit(status::ORBITAL_FAILED as i32);
            }
        }
        sys::exit(exec_with(config, user, &argv, &envp));
    }
    // The child holds its own copy of the report pipe until its exec succeeds; orbital sees end
    // of file once the last copy is gone.
    let _ = sys::close(REPORT_FD);
    Ok(pid)
}

/// Replaces orbital-init with the command. Returns only on failure, which it has reported,
/// with the status to exit with.
pub fn exec(config: &Config, user: Option<&User>) -> i32 {
    // orbital-init already leads its own session.
    if config.flags & FLAG_TTY != 0 {
        if let Err(err) = console::take_as_controlling_terminal() {
            report::send(REPORT_FD, status::ORBITAL_FAILED, &err);
            return status::ORBITAL_FAILED as i32;
        }
    }
    let argv = pointers(&config.argv);
    let envp = pointers(&config.env);
    exec_with(config, user, &argv, &envp)
}

/// A NULL-terminated array of pointers to `strings`, which must outlive it.
fn pointers(strings: &[alloc::ffi::CString]) -> Vec<*const c_char> {
    let mut array: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    array.push(core::ptr::null());
    array
}

/// Execs the command as `user`, with the container's privileges, and with the signal mask
/// cleared (orbital-init blocks everything for its signalfd, and a mask survives exec). On
/// failure, reports and returns the status to exit with.
fn exec_with(
    config: &Config,
    user: Option<&User>,
    argv: &[*const c_char],
    envp: &[*const c_char],
) -> i32 {
    let prepared = privileges::become_command(config, user)
        .and_then(|()| sys::sigprocmask(libc::SIG_SETMASK, SigSet::EMPTY));
    if let Err(err) = prepared {
        report::send(REPORT_FD, status::ORBITAL_FAILED, &err);
        return status::ORBITAL_FAILED as i32;
    }
    let name = &config.argv[0];
    let err = if name.to_bytes().contains(&b'/') {
        sys::execve(name, argv, envp)
    } else {
        search_path(name, path_of(&config.env), argv, envp)
    };
    let status = status::for_exec_errno(err.errno_value());
    report::send(REPORT_FD, status, &err);
    status as i32
}

/// The container's PATH.
fn path_of(env: &[alloc::ffi::CString]) -> &[u8] {
    env.iter()
        .rev()
        .find_map(|e| e.to_bytes().strip_prefix(b"PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// Tries `name` in each directory of `path`, as a shell does: a directory where it is not
/// found is skipped, one where it exists but cannot be executed is remembered, and the first
/// other failure ends the search.
fn search_path(name: &CStr, path: &[u8], argv: &[*const c_char], envp: &[*const c_char]) -> Error {
    let mut denied = None;
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let mut candidate = Line::new();
        candidate
            .push_bytes(dir)
            .push("/")
            .push_bytes(name.to_bytes());
        let Some(candidate) = candidate.as_cstr() else {
            continue;
        };
        let err = sys::execve(candidate, argv, envp);
        match err.errno_value() {
            Some(libc::ENOENT | libc::ENOTDIR) => {}
            Some(libc::EACCES) => denied = Some(err),
            _ => return err,
        }
    }
    denied.unwrap_or_else(|| Error::errno("exec", name.to_bytes(), libc::ENOENT))
}
