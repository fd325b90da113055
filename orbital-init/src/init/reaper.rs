//! PID 1's duty once the command runs: forward every signal to it, reap every child that
//! exits (orphans of the command included), and end when the command ends.

use orbital_rt::out::{Level, Log};
use orbital_rt::sys::{self, Fd, SigSet};
use orbital_rt::wire::CONFIG_FD;
use orbital_rt::Result;

/// Blocks every signal and returns a signalfd that receives them.
///
/// The kernel drops signals that PID 1 has no handler for, but not blocked ones: blocked, they
/// queue, and the signalfd turns them into reads in one loop, with no handler running at an
/// arbitrary point (signalfd(2)).
pub fn take_signals() -> Result<Fd> {
    sys::sigprocmask(libc::SIG_BLOCK, SigSet::ALL)?;
    sys::signalfd(SigSet::ALL)
}

/// Runs until the command `pid` exits; returns its status (128+N for signal N).
pub fn run(pid: i32, signals: Fd, log: &Log) -> i32 {
    loop {
        // The configuration pipe hangs up only when orbital is gone.
        let mut fds = [
            libc::pollfd {
                fd: signals,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: CONFIG_FD,
                events: 0,
                revents: 0,
            },
        ];
        if sys::poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds[1].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            log.debug("orbital is gone");
            let _ = sys::kill(-1, libc::SIGKILL);
            return 128 + libc::SIGKILL;
        }
        while let Ok(Some(sig)) = sys::read_signal(signals) {
            if sig != libc::SIGCHLD {
                forward(pid, sig, log);
            } else if let Some(status) = reap_children(pid, log) {
                return status;
            }
        }
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
    let _ = sys::kill(pid, sig);
}

/// Reaps every child that has exited. Returns the command's status once it is among them.
fn reap_children(command: i32, log: &Log) -> Option<i32> {
    let mut command_status = None;
    while let Ok(Some(waited)) = sys::wait(-1, libc::WNOHANG) {
        log.say_number(Level::Trace, "reaped pid ", waited.pid as i64);
        if waited.pid == command {
            command_status = Some(waited.shell_status());
        }
    }
    command_status
}
