//! Starting the container: the child's stack, clone(2) into new namespaces, and the exec of
//! orbital-init with its two pipes on fixed descriptors.

use orbital_rt::out::Log;
use orbital_rt::sys::{self, Fd, Stack};
use orbital_rt::wire::{CONFIG_FD, CONSOLE_FD, REPORT_FD};
use orbital_rt::{report, Result};

use super::init_image::InitImage;
use orbital_rt::status::ORBITAL_FAILED;

/// Stack of the cloned child. It only moves descriptors and calls execveat, and that exec
/// replaces the stack, so a few pages are plenty.
const CHILD_STACK_BYTES: usize = 64 * 1024;
/// Descriptor orbital-init's image sits on in the child until the exec.
const IMAGE_FD: Fd = 6;
/// Descriptors are first moved at or above this, clear of the fixed numbers they end up on.
const SCRATCH_FD_MIN: Fd = 10;

/// A started container, seen from `orbital`.
pub struct Container {
    /// Host pid of orbital-init.
    pub pid: i32,
    /// Write end of the configuration pipe, held open until the container ends.
    pub config: Fd,
    /// Read end of the report pipe.
    pub reports: Fd,
    /// orbital's end of the console socket, when the container gets a pty.
    pub console: Option<Fd>,
}

/// What the cloned child needs; it lives in the parent's frame and the child reads its copy.
struct ChildFds {
    config: Fd,
    report: Fd,
    image: Fd,
    console: Option<Fd>,
}

/// Clones a child into `namespaces` and has it execute orbital-init; with `tty`, a socket for
/// the pty master goes along.
pub fn start(namespaces: u64, init: &InitImage, tty: bool, log: &Log) -> Result<Container> {
    let (config_read, config_write) = sys::pipe()?;
    let (report_read, report_write) = sys::pipe()?;
    let console = if tty { Some(sys::socketpair()?) } else { None };
    let stack = Stack::new(CHILD_STACK_BYTES)?;
    let child = ChildFds {
        config: config_read,
        report: report_write,
        image: init.memfd,
        console: console.map(|(_, theirs)| theirs),
    };

    log.debug("clone with new uts, pid, mount and ipc namespaces");
    let pid = sys::clone_into(namespaces | sys::SIGCHLD as u64, &stack, exec_init, &child);
    // The child has its own copies of its ends; the parent keeps only the other ones.
    let _ = sys::close(config_read);
    let _ = sys::close(report_write);
    if let Some(theirs) = child.console {
        let _ = sys::close(theirs);
    }
    let ours = console.map(|(ours, _)| ours);
    match pid {
        Ok(pid) => Ok(Container {
            pid,
            config: config_write,
            reports: report_read,
            console: ours,
        }),
        Err(err) => {
            let _ = sys::close(config_write);
            let _ = sys::close(report_read);
            if let Some(ours) = ours {
                let _ = sys::close(ours);
            }
            Err(err)
        }
    }
}

/// The cloned child: runs in the new namespaces on its own stack, and either becomes
/// orbital-init or reports why it could not.
fn exec_init(fds: &ChildFds) -> i32 {
    let (err, report_fd) = match place_fds(fds) {
        Ok(()) => {
            let argv = [c"orbital-init".as_ptr(), core::ptr::null()];
            let envp = [core::ptr::null()];
            (sys::execve_fd(IMAGE_FD, &argv, &envp), REPORT_FD)
        }
        // Placing failed before the descriptors above stderr were closed: the original report
        // descriptor is still open.
        Err(err) => (err, fds.report),
    };
    report::send(report_fd, ORBITAL_FAILED, &err);
    ORBITAL_FAILED as i32
}

/// Puts the pipes on the descriptors orbital-init expects and closes everything else above
/// stderr, so that no descriptor of orbital's reaches the container.
fn place_fds(fds: &ChildFds) -> Result<()> {
    // If orbital dies, the container must die with it. A death before this line is caught by
    // orbital-init, which sees end of file on the configuration pipe.
    sys::prctl(
        "prctl PR_SET_PDEATHSIG",
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as usize,
        0,
    )?;

    // Moving every descriptor clear of 3..=6 first means placing one cannot overwrite another.
    let config = sys::dup_above(fds.config, SCRATCH_FD_MIN)?;
    let report = sys::dup_above(fds.report, SCRATCH_FD_MIN)?;
    let image = sys::dup_above(fds.image, SCRATCH_FD_MIN)?;
    let console = fds
        .console
        .map(|fd| sys::dup_above(fd, SCRATCH_FD_MIN))
        .transpose()?;
    sys::dup_to(config, CONFIG_FD)?;
    sys::dup_to(report, REPORT_FD)?;
    sys::dup_to(image, IMAGE_FD)?;
    match console {
        Some(console) => sys::dup_to(console, CONSOLE_FD)?,
        // Whatever orbital had there must not reach the container.
        None => {
            let _ = sys::close(CONSOLE_FD);
        }
    }
    // The image is executed through its descriptor and needs no inheriting.
    sys::set_cloexec(IMAGE_FD, true)?;
    sys::close_from(IMAGE_FD + 1)
}
