//! The interactive terminal, driven the way a user drives it: each test opens a pseudo-terminal
//! of its own, starts orbital with the slave as its controlling terminal and standard streams,
//! types into the master and reads the screen from it. What a user sees (prompt, job control,
//! Ctrl-C, window size), the user's settings after every way out, output and input that must
//! not be lost, and a container that must not reach the user's terminal.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use orbital_tests::{
    assert_left_clean, busybox, orbital_run, output_with_stdin, run, unique_token, wait_until,
    HostState, Output, Rootfs, Running, TempDir, RUN_TIMEOUT, SETTLE_TIMEOUT,
};

/// The few terminal calls the tests need, declared against the C library std already links, so
/// that the test crate depends on nothing but std.
mod pty {
    use std::ffi::{c_char, c_int, c_ulong, CStr};
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    // Values from the Linux headers (asm-generic/fcntl.h, asm-generic/ioctls.h, poll.h).
    const O_RDWR: c_int = 0o2;
    const O_NOCTTY: c_int = 0o400;
    const O_CLOEXEC: c_int = 0o2000000;
    const TIOCSCTTY: c_ulong = 0x540E;
    const TIOCSWINSZ: c_ulong = 0x5414;
    const FIONREAD: c_ulong = 0x541B;
    const POLLIN: i16 = 0x1;

    /// `struct winsize`.
    #[repr(C)]
    struct Winsize {
        rows: u16,
        cols: u16,
        x_pixels: u16,
        y_pixels: u16,
    }

    /// `struct pollfd`.
    #[repr(C)]
    struct PollFd {
        fd: c_int,
        events: i16,
        revents: i16,
    }

    /// Room for glibc's `struct termios` (60 bytes, fields of at most 4 bytes) with some to
    /// spare, aligned for its fields.
    type TermiosBuffer = [u32; 32];

    extern "C" {
        fn posix_openpt(flags: c_int) -> c_int;
        fn grantpt(fd: c_int) -> c_int;
        fn unlockpt(fd: c_int) -> c_int;
        fn ptsname_r(fd: c_int, buf: *mut c_char, len: usize) -> c_int;
        fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
        fn tcgetattr(fd: c_int, termios: *mut TermiosBuffer) -> c_int;
        fn setsid() -> c_int;
        fn poll(fds: *mut PollFd, count: c_ulong, timeout_ms: c_int) -> c_int;
    }

    /// A pseudo-terminal: the master is the test's keyboard and screen, the slave the terminal
    /// orbital runs on.
    pub struct Pair {
        pub master: File,
        pub slave: File,
    }

    /// Opens a new pty whose window is `rows` x `cols`. Both ends are close-on-exec: no process
    /// the tests start may hold them but through its standard streams.
    pub fn open(rows: u16, cols: u16) -> Pair {
        // SAFETY: posix_openpt only opens /dev/ptmx with these flags; it touches no memory of
        // ours and returns a new descriptor or -1.
        let fd = unsafe { posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC) };
        assert!(fd >= 0, "posix_openpt: {}", io::Error::last_os_error());
        // SAFETY: fd was just opened and nothing else owns it, so the File is its only owner
        // and closes it exactly once.
        let master = unsafe { File::from_raw_fd(fd) };

        let mut name = [0u8; 128];
        // SAFETY: grantpt and unlockpt take only the descriptor, which `master` keeps open;
        // ptsname_r writes at most `name.len()` bytes, its NUL included, into `name`, which
        // lives until the end of this function.
        let ready = unsafe {
            grantpt(fd) == 0
                && unlockpt(fd) == 0
                && ptsname_r(fd, name.as_mut_ptr().cast(), name.len()) == 0
        };
        assert!(
            ready,
            "set up the pty slave: {}",
            io::Error::last_os_error()
        );
        let path = CStr::from_bytes_until_nul(&name)
            .expect("ptsname_r returned no NUL-terminated name")
            .to_str()
            .expect("pty name is not UTF-8")
            .to_owned();
        // O_NOCTTY: the test process must not take the terminal as its own controlling one.
        let slave = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(O_NOCTTY)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        set_window_size(&master, rows, cols);
        Pair { master, slave }
    }

    /// Sets the window size of the terminal `term`. The kernel sends SIGWINCH to the
    /// terminal's foreground process group.
    pub fn set_window_size(term: &File, rows: u16, cols: u16) {
        let size = Winsize {
            rows,
            cols,
            x_pixels: 0,
            y_pixels: 0,
        };
        // SAFETY: TIOCSWINSZ reads one `struct winsize` from `size`, a live value laid out as
        // the kernel's; `term` keeps the descriptor open during the call.
        let done = unsafe { ioctl(term.as_raw_fd(), TIOCSWINSZ, &size as *const Winsize) };
        assert!(done == 0, "TIOCSWINSZ: {}", io::Error::last_os_error());
    }

    /// The settings of the terminal `term`, as the bytes of the `struct termios` that
    /// tcgetattr fills in, for comparing before and after.
    pub fn settings(term: &File) -> Vec<u8> {
        let mut buffer: TermiosBuffer = [0; 32];
        // SAFETY: tcgetattr writes one `struct termios` (60 bytes, 4-byte aligned) into
        // `buffer`, a live 128-byte value aligned for u32; bytes it does not write stay zero,
        // so two calls on the same settings give the same bytes.
        let done = unsafe { tcgetattr(term.as_raw_fd(), &mut buffer) };
        assert!(done == 0, "tcgetattr: {}", io::Error::last_os_error());
        buffer.iter().flat_map(|word| word.to_ne_bytes()).collect()
    }

    /// How many bytes a read of the terminal `term` would return now: in canonical mode, those
    /// of the complete lines waiting in its input queue.
    pub fn bytes_waiting(term: &File) -> c_int {
        let mut count: c_int = 0;
        // SAFETY: FIONREAD writes one int to `count`, a live, writable value.
        let done = unsafe { ioctl(term.as_raw_fd(), FIONREAD, &mut count as *mut c_int) };
        assert!(done == 0, "FIONREAD: {}", io::Error::last_os_error());
        count
    }

    /// Whether `file` has something to read within `timeout_ms`.
    pub fn readable(file: &File, timeout_ms: c_int) -> bool {
        let mut entry = PollFd {
            fd: file.as_raw_fd(),
            events: POLLIN,
            revents: 0,
        };
        // SAFETY: poll reads and writes one `struct pollfd`, `entry`, live for the call;
        // `file` keeps the descriptor open.
        let ready = unsafe { poll(&mut entry, 1, timeout_ms) };
        ready > 0
    }

    /// Makes the started process a session leader with its stdin, a terminal, as its
    /// controlling terminal: a login shell's position, and what lets the kernel send SIGWINCH
    /// and Ctrl-C's SIGINT to it.
    pub fn as_controlling_terminal(cmd: &mut Command) {
        // The closure runs in the forked child before exec, after stdin is in place.
        // SAFETY: only async-signal-safe calls are allowed there: setsid and ioctl allocate
        // nothing and take no lock, TIOCSCTTY takes an integer and touches no memory, and
        // `last_os_error` only reads errno.
        unsafe {
            cmd.pre_exec(|| {
                if setsid() < 0 || ioctl(0, TIOCSCTTY, 0 as c_int) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// The rows of the window every session starts with.
const ROWS: u16 = 30;
/// The columns of the window every session starts with.
const COLUMNS: u16 = 100;

/// How often a wait looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Busybox sh's prompt for root in /.
const PROMPT: &str = "/ # ";

/// An orbital run on a terminal of the test's own: what was typed and what showed on the
/// screen so far.
struct Session {
    child: Child,
    pair: pty::Pair,
    screen: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    /// How far into the screen `expect` has matched: each expectation looks past the last.
    seen: usize,
    /// The number of the last pair of markers `command` used.
    markers: usize,
}

impl Session {
    /// Starts `cmd`, an orbital command, on a new terminal of [`ROWS`] x [`COLUMNS`].
    fn start(cmd: Command) -> Session {
        Session::start_on(pty::open(ROWS, COLUMNS), cmd)
    }

    /// Starts `cmd` with the slave of `pair` as its controlling terminal and its stdin, stdout
    /// and stderr, as a shell in a terminal emulator starts, and reads the master from then on.
    fn start_on(pair: pty::Pair, mut cmd: Command) -> Session {
        on_terminal(&mut cmd, &pair.slave);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));

        let screen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut master = pair.master.try_clone().expect("dup the pty master");
        let (shown, stopped) = (Arc::clone(&screen), Arc::clone(&stop));
        // Something must read the master all the time: a full pty blocks orbital's writes.
        // The poll's timeout lets the thread see the stop flag, as the master never reaches
        // end of file while the test holds the slave.
        let reader = thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while !stopped.load(Ordering::Relaxed) {
                if !pty::readable(&master, 50) {
                    continue;
                }
                match master.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => shown.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        Session {
            child,
            pair,
            screen,
            stop,
            reader: Some(reader),
            seen: 0,
            markers: 0,
        }
    }

    /// Types `keys`.
    fn send(&mut self, keys: &str) {
        self.pair
            .master
            .write_all(keys.as_bytes())
            .expect("write to the pty master");
    }

    /// Everything shown on the screen so far.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits, within a bound, until `text` shows after what the last expectation matched;
    /// returns the screen from there to the end of `text`. Panics with the whole screen.
    fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let found = {
                let screen = self.screen.lock().unwrap();
                find(&screen[self.seen..], text.as_bytes()).map(|at| {
                    let end = self.seen + at + text.len();
                    let stretch = String::from_utf8_lossy(&screen[self.seen..end]).into_owned();
                    (end, stretch)
                })
            };
            if let Some((end, stretch)) = found {
                self.seen = end;
                return stretch;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} did not show within {SETTLE_TIMEOUT:?}; the screen:\n{}",
                self.screen()
            );
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Runs the shell command `cmd` at the prompt and returns what it printed, `\r\n` line ends
    /// and all. The markers around it are quoted so that their echo, the typed line, never
    /// matches where their output does. The marker before it sets `$?`.
    fn command(&mut self, cmd: &str) -> String {
        self.markers += 1;
        let n = self.markers;
        self.send(&format!("echo B{n}''Q; {cmd}; echo E{n}''Q\n"));
        self.expect(&format!("B{n}Q\r\n"));
        let end = format!("E{n}Q\r\n");
        let out = self.expect(&end);
        out[..out.len() - end.len()].to_string()
    }

    /// Whether orbital still runs.
    fn running(&mut self) -> bool {
        self.child.try_wait().expect("wait for orbital").is_none()
    }

    /// Waits, within the run's time limit, for orbital to end.
    fn wait_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + RUN_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for orbital") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "orbital still runs after {RUN_TIMEOUT:?}; the screen:\n{}",
                self.screen()
            );
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits for orbital to end and panics unless it exited (was not killed) with `code`.
    fn assert_exit(&mut self, code: i32) {
        let status = self.wait_status();
        assert!(
            status.code() == Some(code),
            "orbital ended with {status:?}, not exit code {code}; the screen:\n{}",
            self.screen()
        );
    }

    /// Sends the signal `name` (`TERM`...) to orbital.
    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new(busybox())
            .args(["kill", "-s", name, &pid])
            .status()
            .expect("run busybox kill");
        assert!(status.success(), "kill -s {name} {pid} failed");
    }
}

impl Drop for Session {
    // A failing test must leave neither orbital (which takes the container with it) nor the
    // reading thread behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Makes the terminal `slave` the controlling terminal and standard streams of `cmd`.
fn on_terminal(cmd: &mut Command, slave: &File) {
    let stream = || Stdio::from(slave.try_clone().expect("dup the pty slave"));
    cmd.stdin(stream()).stdout(stream()).stderr(stream());
    pty::as_controlling_terminal(cmd);
}

/// Device and inode of an open file: what identifies a terminal across mount namespaces.
fn identity(file: &File) -> (u64, u64) {
    let meta = file.metadata().expect("fstat");
    (meta.dev(), meta.ino())
}

/// Waits until a process inside the container has exactly `argv` as its command line; returns
/// its host pid.
fn wait_for_process(rootfs: &Rootfs, argv: &[&str]) -> u32 {
    let mut pid = 0;
    wait_until(
        &format!("{argv:?} to run in the container"),
        SETTLE_TIMEOUT,
        || {
            let found = rootfs
                .container_processes()
                .into_iter()
                .find(|p| p.cmdline == argv);
            pid = found.map_or(0, |p| p.pid);
            pid != 0
        },
    );
    pid
}

/// Waits until no process inside the container has `argv` as its command line.
fn wait_for_no_process(rootfs: &Rootfs, argv: &[&str]) {
    wait_until(&format!("{argv:?} to end"), SETTLE_TIMEOUT, || {
        !rootfs
            .container_processes()
            .iter()
            .any(|p| p.cmdline == argv)
    });
}

/// Field `index` (1-based, as proc(5) numbers them) of /proc/PID/stat, a number.
fn stat_field(pid: u32, index: usize) -> Option<i64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, field 2, is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(index - 3)?.parse().ok()
}

/// Device and inode of every descriptor process `pid` holds, by descriptor number.
fn open_files(pid: u32) -> BTreeMap<String, (u64, u64)> {
    let mut files = BTreeMap::new();
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return files;
    };
    for entry in dir.flatten() {
        // stat follows the magic link to the open file, wherever its path lies.
        if let Ok(meta) = fs::metadata(entry.path()) {
            let fd = entry.file_name().to_string_lossy().into_owned();
            files.insert(fd, (meta.dev(), meta.ino()));
        }
    }
    files
}

#[test]
fn a_shell_gets_a_prompt_a_pty_of_its_own_and_its_exit_status() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let mut session = Session::start(orbital_run(&rootfs, &["/bin/sh"]));

    session.expect(PROMPT);
    assert_eq!(session.command("hostname"), "orbital-container\r\n");
    let tty = session.command("tty");
    let name = tty.strip_suffix("\r\n").unwrap_or(&tty);
    let number = name.strip_prefix("/dev/pts/").unwrap_or("");
    assert!(
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        "`tty` printed {tty:?}, not a /dev/pts/N name"
    );
    // The console is the container's pty: a character device of the Unix98 pty slave major.
    let console = session.command("ls -l /dev/console");
    assert!(
        console.starts_with('c') && console.contains(" 136, "),
        "/dev/console is not a pty slave: {console:?}"
    );
    session.send("exit 7\n");
    session.assert_exit(7);

    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn the_window_size_is_copied_at_start_and_on_every_resize() {
    let rootfs = Rootfs::new();
    let mut session = Session::start(orbital_run(&rootfs, &["/bin/sh"]));

    session.expect(PROMPT);
    assert_eq!(
        session.command("stty size"),
        format!("{ROWS} {COLUMNS}\r\n")
    );
    // The resize signals orbital before the next command is typed, and orbital reads its
    // signals before its input in the same round: the command sees the new size.
    pty::set_window_size(&session.pair.master, 40, 120);
    assert_eq!(session.command("stty size"), "40 120\r\n");
    pty::set_window_size(&session.pair.master, 24, 80);
    assert_eq!(session.command("stty size"), "24 80\r\n");
    session.send("exit\n");
    session.assert_exit(0);
}

#[test]
fn ctrl_c_interrupts_the_foreground_command_not_the_shell_or_orbital() {
    let rootfs = Rootfs::new();
    let token = unique_token();
    let mut session = Session::start(orbital_run(&rootfs, &["/bin/sh"]));

    session.expect(PROMPT);
    session.send(&format!("sleep {token}\n"));
    wait_for_process(&rootfs, &["sleep", &token]);
    session.send("\x03");
    // The container's line discipline echoes the key and sends SIGINT to the foreground group.
    // The next command is typed only at the next prompt: a shell whose foreground job died of
    // SIGINT abandons the rest of the line, as if it had been interrupted itself.
    session.expect("^C");
    session.expect(PROMPT);
    // Typed without `command`'s markers, whose own status would replace the sleep's. The
    // echo of the typed line shows `$?`, never the number.
    session.send("echo status=$?\n");
    session.expect("status=130\r\n");
    assert_eq!(session.command("echo al''ive"), "alive\r\n");
    assert!(session.running(), "orbital ended with the Ctrl-C");
    session.send("exit\n");
    session.assert_exit(0);
    rootfs.assert_no_processes(&[&token]);
}

#[test]
fn the_shell_has_job_control() {
    let rootfs = Rootfs::new();
    let (first, second) = (unique_token(), unique_token());
    let mut session = Session::start(orbital_run(&rootfs, &["/bin/sh"]));

    session.expect(PROMPT);
    // A background job, listed and killed by its job number.
    session.send(&format!("sleep {first} &\n"));
    wait_for_process(&rootfs, &["sleep", &first]);
    let jobs = session.command("jobs");
    assert!(
        jobs.starts_with("[1]") && jobs.contains(&format!("sleep {first}")),
        "`jobs` does not list the background sleep: {jobs:?}"
    );
    session.command("kill %1");
    wait_for_no_process(&rootfs, &["sleep", &first]);

    // A background job brought to the foreground: the shell hands it the terminal, so Ctrl-C
    // reaches it. The key is typed only once the terminal's foreground group is the job's.
    session.send(&format!("sleep {second} &\n"));
    let pid = wait_for_process(&rootfs, &["sleep", &second]);
    session.send("fg\n");
    wait_until("the job to own the terminal", SETTLE_TIMEOUT, || {
        let (group, foreground) = (stat_field(pid, 5), stat_field(pid, 8));
        group.is_some() && group == foreground
    });
    session.send("\x03");
    session.expect("^C");
    session.expect(PROMPT);
    session.send("echo fg=$?\n");
    session.expect("fg=130\r\n");
    wait_for_no_process(&rootfs, &["sleep", &second]);
    session.send("exit\n");
    session.assert_exit(0);

    let screen = session.screen();
    assert!(
        !screen.contains("job control turned off"),
        "the shell found no terminal to control:\n{screen}"
    );
}

#[test]
fn no_process_in_the_container_holds_the_users_terminal() {
    let rootfs = Rootfs::new();
    let mut session = Session::start(orbital_run(&rootfs, &["/bin/sh"]));
    let users = identity(&session.pair.slave);

    session.expect(PROMPT);
    let inside = rootfs.container_processes();
    let names: Vec<&str> = inside.iter().map(|p| p.comm.as_str()).collect();
    assert!(
        names.contains(&"orbital-init") && names.contains(&"sh"),
        "orbital-init and sh should run in the container, not only {names:?}"
    );
    for process in &inside {
        let files = open_files(process.pid);
        assert!(
            !files.is_empty(),
            "cannot list the descriptors of {process:?}"
        );
        let held: Vec<_> = files.iter().filter(|(_, id)| **id == users).collect();
        assert!(
            held.is_empty(),
            "{} (pid {}) holds the user's terminal on fds {held:?}",
            process.comm,
            process.pid
        );
    }
    // The same check on orbital, which must hold the terminal, shows the check can see it.
    let orbital = open_files(session.child.id());
    assert!(
        orbital.values().any(|id| *id == users),
        "orbital does not hold the user's terminal: {orbital:?}"
    );
    session.send("exit\n");
    session.assert_exit(0);
}

#[test]
fn the_users_terminal_settings_come_back_after_exit() {
    let rootfs = Rootfs::new();
    let pair = pty::open(ROWS, COLUMNS);
    let before = pty::settings(&pair.slave);
    let mut session = Session::start_on(pair, orbital_run(&rootfs, &["/bin/sh"]));

    session.expect(PROMPT);
    // The prompt came through orbital's relay, which starts in raw mode: the restore below is
    // not vacuous.
    assert_ne!(
        pty::settings(&session.pair.slave),
        before,
        "orbital did not put the user's terminal in raw mode"
    );
    session.send("exit 0\n");
    session.assert_exit(0);
    assert_eq!(
        pty::settings(&session.pair.slave),
        before,
        "the user's terminal settings differ after orbital exited"
    );
}

#[test]
fn the_users_terminal_settings_come_back_after_sigterm() {
    let rootfs = Rootfs::new();
    let token = unique_token();
    let pair = pty::open(ROWS, COLUMNS);
    let before = pty::settings(&pair.slave);
    // A sleep, not an interactive shell, which would ignore the forwarded SIGTERM.
    let mut session = Session::start_on(pair, orbital_run(&rootfs, &["sleep", &token]));

    wait_for_process(&rootfs, &["sleep", &token]);
    wait_until("orbital to make the terminal raw", SETTLE_TIMEOUT, || {
        pty::settings(&session.pair.slave) != before
    });
    session.signal("TERM");
    session.assert_exit(143);
    assert_eq!(
        pty::settings(&session.pair.slave),
        before,
        "the user's terminal settings differ after a SIGTERM ended orbital"
    );
    rootfs.assert_no_processes(&[&token]);
}

#[test]
fn the_users_terminal_settings_come_back_after_a_failed_start() {
    let rootfs = Rootfs::new();
    let pair = pty::open(ROWS, COLUMNS);
    let before = pty::settings(&pair.slave);
    let mut session = Session::start_on(pair, orbital_run(&rootfs, &["/nonexistent"]));

    session.assert_exit(127);
    session.expect("/nonexistent");
    assert_eq!(
        pty::settings(&session.pair.slave),
        before,
        "the user's terminal settings differ after a failed start"
    );
}

#[test]
fn output_is_not_lost_when_the_command_exits() {
    let rootfs = Rootfs::new();
    // The container's pty turns each \n into \r\n.
    let expected: String = (1..=20000).map(|n| format!("{n}\r\n")).collect();

    // The tail is what a relay that stops at the command's exit loses, and it is lost only
    // sometimes: several runs.
    for attempt in 1..=5 {
        let out = run(&rootfs, &["-t", "seq", "1", "20000"]);
        out.assert_status(0);
        let lines = out.stdout.lines().count();
        assert!(
            out.stdout == expected,
            "run {attempt}: {lines} lines, the last {:?}",
            out.stdout.lines().last()
        );
    }
}

/// `len` bytes of base64 text in lines of 76 characters, as a paste of a certificate or a key
/// would be, always the same.
fn base64_text(len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut text = Vec::with_capacity(len + 77);
    while text.len() < len {
        for _ in 0..76 {
            // A xorshift generator: deterministic, no dependency.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push(ALPHABET[(state % 64) as usize]);
        }
        text.push(b'\n');
    }
    text
}

/// Runs `cmd` with `input` on its stdin, like `output_with_stdin`, but a run that hangs fails
/// saying how much of the input reached `received`, the file the container copies it to,
/// rather than with the whole echo of the input.
fn paste(mut cmd: Command, input: &[u8], received: &Path) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let total = input.len();
    // Threads, so that neither a full pipe nor a command that stops reading blocks the test.
    thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let collect = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
        rx
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));

    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for orbital") {
            break status;
        }
        if Instant::now() >= deadline {
            let arrived = fs::metadata(received).map_or(0, |m| m.len());
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "orbital still ran after {RUN_TIMEOUT:?}, killed: {arrived} of the {total} bytes \
                 of input had reached {}",
                received.display()
            );
        }
        thread::sleep(POLL_INTERVAL);
    };
    Output {
        status: status.code().unwrap_or(128 + status.signal().unwrap_or(0)),
        signal: status.signal(),
        // The pipes close once the container's processes, which hold them too, are gone.
        stdout: stdout
            .recv_timeout(SETTLE_TIMEOUT)
            .expect("stdout still open"),
        stderr: stderr
            .recv_timeout(SETTLE_TIMEOUT)
            .expect("stderr still open"),
    }
}

#[test]
fn a_large_paste_arrives_whole() {
    let rootfs = Rootfs::new();
    let input = base64_text(200 * 1024);

    // After the input, orbital types Ctrl-D, which ends cat's input at the start of a line.
    let cmd = orbital_run(
        &rootfs,
        &["-t", "sh", "-c", "cat > /tmp/in; wc -c < /tmp/in"],
    );
    let out = paste(cmd, &input, &rootfs.host_path("/tmp/in"));
    out.assert_status(0);
    // The pty echoes the input before the count.
    let last = out.stdout.trim_end().lines().last().unwrap_or("").trim();
    assert_eq!(
        last,
        input.len().to_string(),
        "the container received another number of bytes (stderr: {})",
        out.stderr
    );
    let received = fs::read(rootfs.host_path("/tmp/in")).expect("read /tmp/in");
    assert!(received == input, "the pasted text arrived changed");
}

#[test]
fn piped_input_passes_through_without_a_pty() {
    let rootfs = Rootfs::new();

    // No terminal on stdin, so no pty: no \r is added.
    output_with_stdin(orbital_run(&rootfs, &["cat"]), b"hi\n")
        .assert_ok()
        .assert_stdout("hi\n");
}

/// Runs `orbital run ARGS...` with the terminal `slave` as its controlling terminal and stdin,
/// and pipes for stdout and stderr.
fn run_on_stdin_terminal(rootfs: &Rootfs, args: &[&str], slave: &File) -> Output {
    let mut cmd = orbital_run(rootfs, args);
    cmd.stdin(Stdio::from(slave.try_clone().expect("dup the pty slave")));
    pty::as_controlling_terminal(&mut cmd);
    Running::start(cmd, None).wait()
}

#[test]
fn no_tty_leaves_the_users_terminal_alone() {
    let rootfs = Rootfs::new();
    let pair = pty::open(ROWS, COLUMNS);
    let before = pty::settings(&pair.slave);

    let out = run_on_stdin_terminal(&rootfs, &["-T", "tty"], &pair.slave);
    // The command's stdin is the user's terminal itself, whose path the container cannot
    // name: `tty` says it is no tty (status 1) or prints a host path.
    assert!(
        (out.status == 1 && out.stdout == "not a tty\n")
            || (out.status == 0 && out.stdout.starts_with("/dev/pts/")),
        "unexpected `tty`:\n{out:?}"
    );
    assert_eq!(
        pty::settings(&pair.slave),
        before,
        "orbital -T changed the user's terminal settings"
    );
}

/// Builds the TIOCSTI helper into `dir` and copies it to the rootfs's `/tiocsti`; returns the
/// host path of the build.
fn build_tiocsti(dir: &TempDir, rootfs: &Rootfs) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("helpers/tiocsti.c");
    let binary = dir.path().join("tiocsti");
    let built = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        built,
        "cannot build {} with `cc -static`: install gcc and libc6-dev",
        source.display()
    );
    // A child copies it: a copy open for writing in this process could be inherited by a
    // process another test thread forks meanwhile, and exec would then fail with ETXTBSY.
    let copied = Command::new(busybox())
        .arg("cp")
        .arg(&binary)
        .arg(rootfs.host_path("/tiocsti"))
        .status()
        .expect("run busybox cp");
    assert!(copied.success(), "copy tiocsti into the rootfs");
    binary
}

/// Whether the kernel lets a process without CAP_SYS_ADMIN use TIOCSTI on its controlling
/// terminal (the `dev.tty.legacy_tiocsti` sysctl; kernels older than 6.2 have no such switch and
/// always do).
fn legacy_tiocsti() -> bool {
    match fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti") {
        Ok(value) => value.trim() == "1",
        Err(_) => true,
    }
}

/// The text the helper tries to type: a command that would run in the user's shell.
const INJECTED: &str = "echo INJECTED\n";

/// The helper's report: the `key=value` fields of each of its lines, which start `fd=`,
/// `open ` or `unreadable `.
fn tiocsti_report(text: &str) -> Vec<BTreeMap<String, String>> {
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| {
            ["fd=", "open ", "unreadable "]
                .iter()
                .any(|p| line.starts_with(p))
        })
        .map(|line| {
            line.split_whitespace()
                .filter_map(|field| field.split_once('='))
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

/// The device and inode a report line names, if it names one.
fn identity_of(line: &BTreeMap<String, String>) -> (u64, u64) {
    let number = |key: &str| line.get(key).and_then(|v| v.parse().ok());
    number("dev").zip(number("ino")).unwrap_or((0, 0))
}

/// Whether a report line names the file `id`.
fn names(line: &BTreeMap<String, String>, id: (u64, u64)) -> bool {
    line.get("dev") == Some(&id.0.to_string()) && line.get("ino") == Some(&id.1.to_string())
}

/// The report line about descriptor `fd` of the helper.
fn fd_line<'a>(report: &'a [BTreeMap<String, String>], fd: &str) -> &'a BTreeMap<String, String> {
    report
        .iter()
        .find(|line| line.get("fd").map(String::as_str) == Some(fd) && !line.contains_key("pid"))
        .unwrap_or_else(|| panic!("the helper reported nothing on fd {fd}: {report:?}"))
}

#[test]
fn the_container_cannot_type_into_the_users_terminal() {
    let rootfs = Rootfs::new();
    let build = TempDir::new("tiocsti");
    build_tiocsti(&build, &rootfs);
    let mut session = Session::start(orbital_run(&rootfs, &["/tiocsti", INJECTED]));
    let users = identity(&session.pair.slave);

    session.assert_exit(0);
    // orbital wrote the whole report before it exited, but the reading thread may not have
    // copied all of it from the master yet.
    session.expect("end of report\r\n");
    let screen = session.screen();
    let report = tiocsti_report(&screen);

    // The helper can type into a terminal it controls, the container's own: it would reach
    // the user's terminal the same way if it held it. Unless the kernel allows TIOCSTI to no
    // one without CAP_SYS_ADMIN.
    let own = fd_line(&report, "0");
    let expected = if legacy_tiocsti() { INJECTED.len() } else { 0 };
    assert_eq!(
        own.get("injected"),
        Some(&expected.to_string()),
        "the helper typed an unexpected number of characters into its own terminal:\n{screen}"
    );
    // The walk reached orbital-init, pid 1 inside, whose standard streams were the user's
    // terminal until it replaced them. The command may list its descriptors but not stat or
    // open them (EACCES: pid 1 keeps privileges the command lacks), so pid 1 shows as
    // unreadable; what it holds is checked from the host by
    // `no_process_in_the_container_holds_the_users_terminal`.
    let pid_1: Vec<_> = report
        .iter()
        .filter(|line| line.get("pid").map(String::as_str) == Some("1"))
        .collect();
    assert!(
        !pid_1.is_empty(),
        "the helper saw no descriptor of pid 1:\n{screen}"
    );
    // Its own descriptors it can stat: the walk does look at what processes hold.
    assert!(
        report
            .iter()
            .any(|line| line.contains_key("pid") && names(line, identity_of(own))),
        "the helper did not find its own terminal in its walk:\n{screen}"
    );
    let holding: Vec<_> = report.iter().filter(|line| names(line, users)).collect();
    assert!(
        holding.is_empty(),
        "the container holds the user's terminal: {holding:?}\n{screen}"
    );
    assert_eq!(
        pty::bytes_waiting(&session.pair.slave),
        0,
        "input is waiting on the user's terminal:\n{screen}"
    );
}

#[test]
fn without_a_pty_the_container_holds_the_users_terminal_but_cannot_type_into_it() {
    let rootfs = Rootfs::new();
    let build = TempDir::new("tiocsti");
    let helper = build_tiocsti(&build, &rootfs);
    let pair = pty::open(ROWS, COLUMNS);
    let users = identity(&pair.slave);

    // With -T the helper's stdin is the user's terminal itself: the case the pty exists to
    // prevent, and proof that the test above would see the terminal if the container held it.
    let out = run_on_stdin_terminal(&rootfs, &["-T", "/tiocsti", INJECTED], &pair.slave);
    out.assert_status(0);
    assert!(
        out.stdout.ends_with("end of report\n"),
        "the helper did not finish:\n{out:?}"
    );
    let report = tiocsti_report(&out.stdout);
    let stdin = fd_line(&report, "0");
    assert!(
        names(stdin, users),
        "the helper's stdin is not the user's terminal:\n{out:?}"
    );
    // Yet the kernel refuses the injection: TIOCSTI on a terminal that is not the caller's
    // controlling terminal needs CAP_SYS_ADMIN, which a container lacks, and the container's
    // processes have no controlling terminal at all (orbital-init leads a session of its own):
    // EPERM. Where the kernel allows TIOCSTI to no one without CAP_SYS_ADMIN, it says EIO first.
    let (eperm, eio) = (1, 5);
    let refusal = if legacy_tiocsti() { eperm } else { eio };
    assert_eq!(
        (stdin.get("injected"), stdin.get("errno")),
        (Some(&"0".to_string()), Some(&refusal.to_string())),
        "TIOCSTI on the user's terminal from the container:\n{out:?}"
    );
    assert_eq!(
        fd_line(&report, "/dev/tty").get("open-errno"),
        Some(&"6".to_string()),
        "a container process opened a controlling terminal (6 is ENXIO):\n{out:?}"
    );
    assert_eq!(
        pty::bytes_waiting(&pair.slave),
        0,
        "input is waiting on the user's terminal"
    );

    // The control of the control: the same helper on the host, with the terminal as its
    // controlling terminal, does type into it, and the check above would have seen it.
    let mut cmd = Command::new(&helper);
    cmd.arg(INJECTED)
        .stdin(Stdio::from(
            pair.slave.try_clone().expect("dup the pty slave"),
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    pty::as_controlling_terminal(&mut cmd);
    let host = cmd.output().expect("run tiocsti on the host");
    let host_report = tiocsti_report(&String::from_utf8_lossy(&host.stdout));
    assert_eq!(
        fd_line(&host_report, "0").get("injected"),
        Some(&INJECTED.len().to_string()),
        "the helper could not type into its own controlling terminal on the host"
    );
    // Typed through fd 0 and again through /dev/tty, both the terminal (fstat of /dev/tty
    // names the device node, not the pty); fds 1 and 2 are pipes.
    let typed: i32 = host_report
        .iter()
        .filter(|line| line.contains_key("fd") && !line.contains_key("pid"))
        .filter_map(|line| line.get("injected")?.parse::<i32>().ok())
        .sum();
    assert_eq!(pty::bytes_waiting(&pair.slave), typed);
    // A read in canonical mode returns one line: the injected one.
    let mut line = [0u8; 256];
    let n = (&pair.slave)
        .read(&mut line)
        .expect("read the injected line");
    assert_eq!(&line[..n], INJECTED.as_bytes());
}

#[test]
fn the_container_has_a_devpts_instance_of_its_own() {
    let rootfs = Rootfs::new();
    // Ptys of the host, so that the host's instance holds more than the container's should.
    let held: Vec<pty::Pair> = (0..3).map(|_| pty::open(ROWS, COLUMNS)).collect();
    let host_names: Vec<String> = fs::read_dir("/dev/pts")
        .expect("read the host's /dev/pts")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        host_names.len() >= 4,
        "the host's /dev/pts shows too few ptys: {host_names:?}"
    );

    let out = run(&rootfs, &["-t", "sh", "-c", "echo /dev/pts/*"]);
    out.assert_status(0);
    assert_eq!(
        out.stdout, "/dev/pts/0 /dev/pts/ptmx\r\n",
        "the container sees other ptys than its own"
    );
    drop(held);
}
