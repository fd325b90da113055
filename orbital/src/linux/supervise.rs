//! `orbital` while the container runs: it sends the configuration, forwards the signals a user
//! sends to orbital, collects a failure report if there is one, and waits for the container.

use orbital_rt::out::{Level, Line, Log};
use orbital_rt::report::Report;
use orbital_rt::sys::{self, Fd, SigSet};
use orbital_rt::Result;

use super::spawn::Container;
use super::terminal::{self, RawMode, Relay};
use orbital_rt::status::ORBITAL_FAILED;

/// Signals a user sends to orbital that are meant for the container's command.
pub const FORWARDED: SigSet = SigSet::of(&[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
]);

/// Blocks the forwarded signals, SIGCHLD and SIGWINCH, and returns a signalfd that receives
/// them.
///
/// SIGPIPE is blocked too, not received: a container that dies before reading its
/// configuration must turn orbital's write into an EPIPE error, not kill orbital.
pub fn block_signals() -> Result<Fd> {
    let received = SigSet(FORWARDED.0 | SigSet::of(&[libc::SIGCHLD, libc::SIGWINCH]).0);
    sys::sigprocmask(
        libc::SIG_BLOCK,
        SigSet(received.0 | SigSet::of(&[libc::SIGPIPE]).0),
    )?;
    sys::signalfd(received)
}

/// Writes the configuration down the pipe. orbital-init may already have died (a failed exec
/// is reported on the other pipe), so a broken pipe is not an error of its own.
pub fn send_config(container: &Container, config: &[u8]) -> Result<()> {
    match sys::write_all(container.config, config) {
        Err(err) if err.errno_value() == Some(libc::EPIPE) => Ok(()),
        other => other,
    }
}

/// Forwards signals and relays the terminal until the container ends, then returns the status
/// orbital exits with: the one a failure report asks for, or the container's own.
pub fn wait(container: &Container, signals: Fd, log: &Log) -> i32 {
    let mut status = None;
    let mut report = None;
    let mut reports_open = true;
    let mut console = container.console;
    let mut relay: Option<Relay> = None;
    let mut raw_mode = None;
    while status.is_none() {
        let off = libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        };
        let relay_fds = relay.as_ref().map_or([off, off], Relay::poll_fds);
        let mut fds = [
            libc::pollfd {
                fd: signals,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if reports_open { container.reports } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: console.unwrap_or(-1),
                events: libc::POLLIN,
                revents: 0,
            },
            relay_fds[0],
            relay_fds[1],
        ];
        if sys::poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds[1].revents != 0 {
            // One report at most, and end of file once the command runs: read it whole.
            report = Report::receive(container.reports);
            reports_open = false;
        }
        if let (Some(socket), true) = (console, fds[2].revents != 0) {
            // The pty arrives once; after it, or after a failure, the socket has no more use.
            if let Ok(Some(master)) = sys::receive_fd(socket) {
                raw_mode = RawMode::enter().ok().flatten();
                relay = Relay::new(master).ok();
            }
            let _ = sys::close(socket);
            console = None;
        }
        // Signals first: a resize that happened before the user typed a command reaches the
        // container's pty before that command does.
        while let Ok(Some(sig)) = sys::read_signal(signals) {
            match (sig, relay.as_ref()) {
                (libc::SIGCHLD, _) => status = reap(container.pid),
                (libc::SIGWINCH, Some(relay)) => terminal::copy_window_size(relay.master),
                (libc::SIGWINCH, None) => {}
                _ => forward(container.pid, sig, log),
            }
        }
        if let Some(relay) = relay.as_mut() {
            relay.handle(&[fds[3], fds[4]], log);
        }
    }
    if reports_open {
        report = Report::receive(container.reports);
    }
    if let Some(mut relay) = relay {
        relay.drain(log);
    }
    // The user's terminal is itself again before anything more is printed on it.
    drop(raw_mode);
    if let Some(socket) = console {
        let _ = sys::close(socket);
    }
    let _ = sys::close(container.reports);
    let _ = sys::close(container.config);
    finish(status.unwrap_or(ORBITAL_FAILED as i32), report, log)
}

fn reap(pid: i32) -> Option<i32> {
    match sys::wait(pid, libc::WNOHANG) {
        Ok(Some(waited)) => Some(waited.shell_status()),
        Ok(None) => None,
        // The child is gone without a status: nothing left to wait for.
        Err(_) => Some(ORBITAL_FAILED as i32),
    }
}

fn forward(pid: i32, sig: i32, log: &Log) {
    if let Some(mut line) = log.line(Level::Trace) {
        line.push("forwarding signal ")
            .push_i64(sig as i64)
            .push(" to pid ")
            .push_i64(pid as i64);
        line.print();
    }
    // The container may be exiting already; then there is nobody left to tell.
    let _ = sys::kill(pid, sig);
}

fn finish(container_status: i32, report: Option<Report>, log: &Log) -> i32 {
    if let Some(report) = report {
        Line::new()
            .push("orbital: ")
            .push_bytes(report.text())
            .print();
        return report.status();
    }
    if let Some(mut line) = log.line(Level::Debug) {
        line.push("container exited with status ")
            .push_i64(container_status as i64)
            .print();
    }
    container_status
}
