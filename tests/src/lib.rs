//! The harness of Orbital's end-to-end tests.
//!
//! Each test builds its own throwaway busybox root filesystem, runs the release `orbital`
//! binary on it under a time limit, and compares the host before and after: mount table,
//! hostname, processes, and the files of the rootfs. Every test has a rootfs of its own, so
//! the tests run in parallel threads without seeing each other.
//!
//! Nothing here skips: a container test that quietly does nothing when it is not root, or when
//! busybox is missing, looks exactly like one that passed. Missing prerequisites panic with what
//! to do about them.
//!
//! Only the standard library is used. Processes are inspected through /proc and signalled with
//! busybox's `kill`, which keeps the harness free of `unsafe`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// Longest one run of orbital may take. A run that hangs is killed and fails its test instead
/// of blocking the whole suite.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest the kernel is given to make something happen that it does asynchronously, such as
/// killing and reaping the processes of a PID namespace whose init died.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Panics unless the tests run with effective uid 0: every container needs CAP_SYS_ADMIN.
pub fn require_root() {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .expect("no effective uid in /proc/self/status");
    assert!(
        euid == "0",
        "the Orbital end-to-end tests must run as root (effective uid is {euid}): \
         run `sudo cargo test -p orbital-tests`"
    );
}

/// A statically linked busybox on the host, the source of every test rootfs.
///
/// A dynamically linked one would need the host's loader and C library inside the container.
pub fn busybox() -> &'static Path {
    static BUSYBOX: OnceLock<PathBuf> = OnceLock::new();
    BUSYBOX.get_or_init(|| {
        let mut candidates = vec![
            PathBuf::from("/bin/busybox"),
            PathBuf::from("/usr/bin/busybox"),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("busybox")));
        }
        let found = candidates.into_iter().find(|c| is_static_executable(c));
        found.expect(
            "no statically linked busybox in /bin, /usr/bin or $PATH: install busybox-static \
             (apt-get install busybox-static)",
        )
    })
}

/// True when `path` is a 64-bit little-endian ELF executable without a program interpreter,
/// that is, one that needs no dynamic loader.
fn is_static_executable(path: &Path) -> bool {
    let Ok(image) = fs::read(path) else {
        return false;
    };
    if image.len() < 64 || &image[..4] != b"\x7fELF" || image[4] != 2 || image[5] != 1 {
        return false;
    }
    let u16_at = |at: usize| u16::from_le_bytes([image[at], image[at + 1]]) as usize;
    let phoff = u64::from_le_bytes(image[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    const PT_INTERP: u32 = 3;
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        match image.get(at..at + 4) {
            Some(p_type) => u32::from_le_bytes(p_type.try_into().unwrap()) != PT_INTERP,
            None => false,
        }
    })
}

/// The applets of the host busybox, as paths relative to a root (`bin/ls`, `usr/bin/env`...).
fn applets() -> &'static [String] {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS.get_or_init(|| {
        let out = Command::new(busybox())
            .arg("--list-full")
            .output()
            .expect("run busybox");
        assert!(out.status.success(), "busybox --list-full failed: {out:?}");
        let list = String::from_utf8(out.stdout).expect("busybox applet list is not UTF-8");
        let applets: Vec<String> = list
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty() && !l.ends_with("/busybox"))
            .collect();
        assert!(!applets.is_empty(), "busybox --list-full listed no applets");
        applets
    })
}

/// A directory of its own under the system temp dir, removed with everything in it on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<temp>/orbital-test-<pid>-<n>-<label>`. The pid and a counter keep the tests of
    /// one binary, and binaries run at the same time, apart.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("orbital-test-{}-{n}-{label}", std::process::id());
        let path = std::env::temp_dir().join(name);
        // Only a crashed earlier run whose pid was recycled can have left this behind.
        if path.symlink_metadata().is_ok() {
            remove_tree(&path);
        }
        fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory as a command-line argument.
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("temp dir path is not UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove_tree(&self.path);
    }
}

/// Removes `path` and everything below it, never crossing into a mount.
///
/// `remove_dir_all` does not follow symlinks, but it does descend into mount points: if a bug
/// leaked a bind mount of a host directory into a test rootfs, removing the rootfs would empty
/// that host directory. Such a tree is left in place, and said so; the test that leaked the
/// mount fails on its own mount-table check.
fn remove_tree(path: &Path) {
    let prefix = format!("{}/", path.display());
    let mounted: Vec<String> = mount_points()
        .into_iter()
        .filter(|mp| Path::new(mp) == path || mp.starts_with(&prefix))
        .collect();
    if !mounted.is_empty() {
        eprintln!(
            "not removing {}: mounts below it: {mounted:?}",
            path.display()
        );
        return;
    }
    if let Err(e) = fs::remove_dir_all(path) {
        eprintln!("cannot remove {}: {e}", path.display());
    }
}

/// A busybox root filesystem of a test's own.
pub struct Rootfs {
    dir: TempDir,
    /// Device and inode of the top directory: what `/proc/PID/root` of a container process
    /// resolves to, however the directory was bind-mounted or pivoted into.
    id: (u64, u64),
}

impl Default for Rootfs {
    fn default() -> Self {
        Self::new()
    }
}

impl Rootfs {
    /// Builds a fresh rootfs: busybox with a link per applet, the usual top directories,
    /// /dev/null, and an /etc/passwd and /etc/group for root and nobody. Panics unless the tests
    /// run as root.
    pub fn new() -> Rootfs {
        require_root();
        let dir = TempDir::new("rootfs");
        let root = dir.path();
        for sub in [
            "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
        ] {
            fs::create_dir_all(root.join(sub)).expect("create rootfs directory");
        }
        fs::create_dir(root.join("root")).expect("create /root");
        set_mode(&root.join("tmp"), 0o1777);
        set_mode(&root.join("root"), 0o700);

        let bb = root.join("bin/busybox");
        fs::copy(busybox(), &bb).expect("copy busybox into the rootfs");
        set_mode(&bb, 0o755);
        // Absolute targets resolve inside the container, whatever the tree's host path is.
        for applet in applets() {
            let link = root.join(applet);
            if link.symlink_metadata().is_err() {
                fs::create_dir_all(link.parent().unwrap()).expect("create applet directory");
                symlink("/bin/busybox", &link).expect("link applet");
            }
        }

        // Busybox sh points a background job's stdin at /dev/null and refuses to start the job
        // without it; orbital leaves /dev as the rootfs has it.
        let status = Command::new(busybox())
            .args(["mknod", "-m", "666"])
            .arg(root.join("dev/null"))
            .args(["c", "1", "3"])
            .status()
            .expect("run busybox mknod");
        assert!(status.success(), "mknod /dev/null in the rootfs failed");

        let passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
        fs::write(root.join("etc/passwd"), passwd).expect("write /etc/passwd");
        fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").expect("write group");

        let meta = fs::metadata(root).expect("stat rootfs");
        Rootfs {
            id: (meta.dev(), meta.ino()),
            dir,
        }
    }

    /// The rootfs's host path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The rootfs's host path as a command-line argument.
    pub fn arg(&self) -> &str {
        self.dir.arg()
    }

    /// The host path of `inside`, a path as the container sees it.
    pub fn host_path(&self, inside: &str) -> PathBuf {
        self.path().join(inside.trim_start_matches('/'))
    }

    /// Every entry of the tree, for comparing before and after a run.
    pub fn listing(&self) -> Listing {
        let root_dev = fs::symlink_metadata(self.path())
            .expect("stat rootfs")
            .dev();
        let mut entries = BTreeMap::new();
        list_into(self.path(), Path::new(""), root_dev, &mut entries);
        Listing(entries)
    }

    /// Processes that belong to this rootfs: any whose root directory is the rootfs (the
    /// container's), any whose command line names the rootfs (orbital's own), and any with an
    /// argument equal to one of `tokens`.
    pub fn processes(&self, tokens: &[&str]) -> Vec<Process> {
        let me = std::process::id();
        processes()
            .into_iter()
            .filter(|p| p.pid != me)
            .filter(|p| {
                p.root == Some(self.id)
                    || p.cmdline.iter().any(|a| a.contains(self.arg()))
                    || p.cmdline.iter().any(|a| tokens.contains(&a.as_str()))
            })
            .collect()
    }

    /// The processes inside the container: those whose root directory is this rootfs.
    pub fn container_processes(&self) -> Vec<Process> {
        processes()
            .into_iter()
            .filter(|p| p.root == Some(self.id))
            .collect()
    }

    /// Waits, within a bound, until no process of this rootfs is left (see
    /// [`Rootfs::processes`]); panics with the ones that stayed.
    pub fn assert_no_processes(&self, tokens: &[&str]) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let left = self.processes(tokens);
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "processes of the container in {} still run {SETTLE_TIMEOUT:?} after it ended: \
                 {left:#?}",
                self.arg()
            );
            thread::sleep(POLL_INTERVAL);
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// One entry of a rootfs tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A directory with its permission bits.
    Dir { mode: u32 },
    /// A regular file: permission bits, size, inode and modification time, so that a rewrite
    /// in place shows even when the size stays.
    File {
        mode: u32,
        len: u64,
        ino: u64,
        mtime: (i64, i64),
    },
    /// A symbolic link and its target.
    Symlink(PathBuf),
    /// Anything else: device, fifo, socket.
    Other { mode: u32 },
    /// A directory on another filesystem than the rootfs: something is mounted there.
    Mount,
}

/// Every entry of a rootfs, by path relative to its top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing(pub BTreeMap<PathBuf, Entry>);

impl Listing {
    /// The paths added, removed or changed in `after`, with what changed, leaving out the
    /// top-level names in `ignored`.
    pub fn changes(&self, after: &Listing, ignored: &[&str]) -> Vec<String> {
        let counts = |path: &Path| !ignored.iter().any(|name| path == Path::new(name));
        let mut changes = Vec::new();
        for (path, entry) in self.0.iter().filter(|(path, _)| counts(path)) {
            match after.0.get(path) {
                None => changes.push(format!("removed /{}", path.display())),
                Some(now) if now != entry => {
                    changes.push(format!("changed /{}: {entry:?} -> {now:?}", path.display()))
                }
                Some(_) => {}
            }
        }
        for (path, entry) in after.0.iter().filter(|(path, _)| counts(path)) {
            if !self.0.contains_key(path) {
                changes.push(format!("added /{}: {entry:?}", path.display()));
            }
        }
        changes
    }

    /// Panics if `after` differs from this listing in anything but `/.orbital-init`, the one
    /// file orbital writes into a rootfs.
    pub fn assert_unchanged_but_init(&self, after: &Listing) {
        let changes = self.changes(after, &[".orbital-init"]);
        assert!(
            changes.is_empty(),
            "the rootfs changed beyond /.orbital-init: {changes:#?}"
        );
    }
}

fn list_into(dir: &Path, rel: &Path, root_dev: u64, entries: &mut BTreeMap<PathBuf, Entry>) {
    let read = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for item in read {
        let item = item.expect("read directory entry");
        let path = item.path();
        let rel = rel.join(item.file_name());
        let meta = fs::symlink_metadata(&path).expect("stat rootfs entry");
        let mode = meta.mode() & 0o7777;
        let kind = meta.file_type();
        let entry = if kind.is_symlink() {
            Entry::Symlink(fs::read_link(&path).expect("read link"))
        } else if kind.is_dir() && meta.dev() != root_dev {
            Entry::Mount
        } else if kind.is_dir() {
            list_into(&path, &rel, root_dev, entries);
            Entry::Dir { mode }
        } else if kind.is_file() {
            let mtime = (meta.mtime(), meta.mtime_nsec());
            Entry::File {
                mode,
                len: meta.len(),
                ino: meta.ino(),
                mtime,
            }
        } else {
            Entry::Other { mode }
        };
        entries.insert(rel, entry);
    }
}

/// The directory that holds the binaries under test.
pub fn bin_dir() -> PathBuf {
    let dir = match std::env::var_os("ORBITAL_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release"),
    };
    for name in ["orbital", "orbital-init"] {
        let path = dir.join(name);
        assert!(
            path.is_file(),
            "{} is missing: run `make` first (or `cargo build --release`), or point \
             ORBITAL_BIN_DIR at the directory holding orbital and orbital-init",
            path.display()
        );
    }
    dir
}

/// The bytes of the host's orbital-init, which every copy in a rootfs must equal.
pub fn init_image() -> Vec<u8> {
    fs::read(bin_dir().join("orbital-init")).expect("read orbital-init")
}

/// A command for the orbital binary under test, in a known state: no ORBITAL_LOG or
/// ORBITAL_ROOTFS from the environment of whoever runs the tests, stdin from /dev/null. Panics
/// unless the tests run as root, which orbital would otherwise refuse in place of whatever the
/// test meant to check.
pub fn orbital() -> Command {
    require_root();
    let mut cmd = Command::new(bin_dir().join("orbital"));
    cmd.env_remove("ORBITAL_LOG")
        .env_remove("ORBITAL_ROOTFS")
        .stdin(Stdio::null());
    cmd
}

/// `orbital run --rootfs ROOTFS ARGS...`, not yet started.
pub fn orbital_run(rootfs: &Rootfs, args: &[&str]) -> Command {
    let mut cmd = orbital();
    cmd.args(["run", "--rootfs", rootfs.arg()]).args(args);
    cmd
}

/// Runs `orbital run --rootfs ROOTFS ARGS...` to the end.
pub fn run(rootfs: &Rootfs, args: &[&str]) -> Output {
    output_of(orbital_run(rootfs, args))
}

/// Runs `cmd` to the end with nothing on stdin.
pub fn output_of(cmd: Command) -> Output {
    Running::start(cmd, None).wait()
}

/// Runs `cmd` to the end with `input` on its stdin.
pub fn output_with_stdin(cmd: Command, input: &[u8]) -> Output {
    Running::start(cmd, Some(input.to_vec())).wait()
}

/// How a process ended and what it printed.
pub struct Output {
    /// The exit status as a shell reports it: the code, or 128+N if signal N killed it.
    pub status: i32,
    /// The signal that killed the process itself, if one did. orbital reports a command killed
    /// by signal N with the exit code 128+N; only orbital's own death sets this.
    pub signal: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl fmt::Debug for Output {
    // Printed in full by failing assertions, so that a failure says what orbital did.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "status {} (killed by signal {:?})\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.status, self.signal, self.stdout, self.stderr
        )
    }
}

impl Output {
    /// Panics unless the process exited with `status`. Being killed by a signal does not count:
    /// orbital dying of a SIGTERM it should have forwarded would also look like 143 to a shell.
    pub fn assert_status(&self, status: i32) -> &Self {
        assert_eq!(self.status, status, "unexpected exit status:\n{self:?}");
        assert_eq!(
            self.signal, None,
            "the process itself was killed:\n{self:?}"
        );
        self
    }

    /// Panics unless the process itself was killed by signal `signal`.
    pub fn assert_killed_by(&self, signal: i32) -> &Self {
        assert_eq!(
            self.signal,
            Some(signal),
            "not killed by signal {signal}:\n{self:?}"
        );
        self
    }

    /// Panics unless the run succeeded quietly: status 0, nothing on stderr.
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.status == 0 && self.stderr.is_empty(),
            "expected a quiet success:\n{self:?}"
        );
        self
    }

    /// Panics unless stdout is exactly `expected`.
    pub fn assert_stdout(&self, expected: &str) -> &Self {
        assert_eq!(self.stdout, expected, "unexpected stdout:\n{self:?}");
        self
    }

    /// Panics unless this is one of orbital's refusals: status `status`, nothing on stdout,
    /// and exactly one line on stderr, starting `orbital: ` and containing every fragment.
    pub fn assert_error(&self, status: i32, fragments: &[&str]) -> &Self {
        self.assert_status(status);
        assert!(
            self.stdout.is_empty(),
            "an error printed on stdout:\n{self:?}"
        );
        let line = self.stderr.strip_suffix('\n').unwrap_or_else(|| {
            panic!("stderr is not one line ending in a newline:\n{self:?}");
        });
        assert!(
            !line.contains('\n'),
            "stderr has more than one line:\n{self:?}"
        );
        assert!(
            line.starts_with("orbital: "),
            "stderr does not start `orbital: `:\n{self:?}"
        );
        for fragment in fragments {
            assert!(
                line.contains(fragment),
                "stderr lacks {fragment:?}:\n{self:?}"
            );
        }
        self
    }
}

/// A started process whose output is being collected.
pub struct Running {
    child: Child,
    stdout: Receiver<Vec<u8>>,
    stderr: Receiver<Vec<u8>>,
    deadline: Instant,
}

impl Running {
    /// Starts `cmd` with stdout and stderr captured and `input`, if any, on its stdin.
    pub fn start(mut cmd: Command, input: Option<Vec<u8>>) -> Running {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = spawn(&mut cmd);
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            // A thread, so that a command that does not read its stdin cannot block the test.
            thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        Running {
            child,
            stdout,
            stderr,
            deadline: Instant::now() + RUN_TIMEOUT,
        }
    }

    /// The host pid of the process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the signal `name` (`TERM`, `USR1`...) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new(busybox())
            .args(["kill", "-s", name, &self.pid().to_string()])
            .status()
            .expect("run busybox kill");
        assert!(status.success(), "kill -s {name} {} failed", self.pid());
    }

    /// Kills the process with SIGKILL.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the process");
    }

    /// Waits for the process to end and for its output to close, within [`RUN_TIMEOUT`] of its
    /// start; panics with what it printed if it takes longer.
    pub fn wait(mut self) -> Output {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the process") {
                break status;
            }
            if Instant::now() >= self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let out = self.collect(ExitStatus::from_raw(9));
                panic!("still running after {RUN_TIMEOUT:?}, killed:\n{out:?}");
            }
            thread::sleep(POLL_INTERVAL);
        };
        self.collect(status)
    }

    /// Reads what the process printed. The pipes close only when every process holding them
    /// has ended, container processes included, so a pipe still open well after the process
    /// ended means something outlived it.
    fn collect(&self, status: ExitStatus) -> Output {
        let limit = Instant::now() + SETTLE_TIMEOUT;
        let read = |rx: &Receiver<Vec<u8>>, name: &str| {
            let wait = limit.saturating_duration_since(Instant::now());
            let bytes = rx.recv_timeout(wait).unwrap_or_else(|_| {
                panic!("{name} still open long after the process ended: a process outlived it")
            });
            String::from_utf8_lossy(&bytes).into_owned()
        };
        Output {
            status: shell_status(status),
            signal: status.signal(),
            stdout: read(&self.stdout, "stdout"),
            stderr: read(&self.stderr, "stderr"),
        }
    }
}

/// Starts `cmd`, retrying while its executable is busy.
///
/// An executable that a test has just copied can still be open for writing in a process another
/// test thread forked meanwhile, until that process execs; executing it fails with ETXTBSY.
fn spawn(cmd: &mut Command) -> Child {
    const ETXTBSY: i32 = 26;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        match cmd.spawn() {
            Ok(child) => return child,
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && Instant::now() < deadline => {
                thread::sleep(POLL_INTERVAL)
            }
            Err(e) => panic!("start {cmd:?}: {e}"),
        }
    }
}

impl Drop for Running {
    // A test that fails while its container runs must not leave orbital and a container behind;
    // killing orbital takes the container with it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    rx
}

fn shell_status(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|sig| 128 + sig))
        .expect("status of a process")
}

/// Polls `done` until it holds, for at most `timeout`; panics saying what was awaited.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "gave up after {timeout:?} waiting for {what}"
        );
        thread::sleep(POLL_INTERVAL);
    }
}

/// A number no other process uses as an argument, for finding a test's processes by their
/// command line (`sleep TOKEN`). It is a valid number of seconds for `sleep`.
pub fn unique_token() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) % 1000;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "9{:07}{:03}{:03}",
        std::process::id() % 10_000_000,
        n,
        nanos % 1000
    )
}

/// A process on the host, as /proc shows it.
#[derive(Debug)]
pub struct Process {
    /// Host pid.
    pub pid: u32,
    /// Parent's host pid.
    pub ppid: u32,
    /// The process name.
    pub comm: String,
    /// The arguments.
    pub cmdline: Vec<String>,
    /// Device and inode of its root directory, when it can be read.
    pub root: Option<(u64, u64)>,
}

/// The processes on the host. Ones that end while being read are left out.
pub fn processes() -> Vec<Process> {
    let mut found = Vec::new();
    for item in fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = item
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = item.path();
        let Ok(status) = fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let comm = field("Name:").unwrap_or_default();
        let ppid = field("PPid:").and_then(|v| v.parse().ok()).unwrap_or(0);
        let cmdline = fs::read(dir.join("cmdline"))
            .map(|raw| {
                raw.split(|&b| b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        // stat follows the magic link to the directory the process sees as `/`, even in
        // another mount namespace.
        let root = fs::metadata(dir.join("root"))
            .ok()
            .map(|m| (m.dev(), m.ino()));
        found.push(Process {
            pid,
            ppid,
            comm,
            cmdline,
            root,
        });
    }
    found
}

/// The mount points of the host (of this process's mount namespace).
pub fn mount_points() -> BTreeSet<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .expect("read /proc/self/mountinfo")
        .lines()
        .filter_map(|line| line.split(' ').nth(4).map(str::to_string))
        .collect()
}

/// The host's hostname.
pub fn host_hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("read hostname")
        .trim_end()
        .to_string()
}

/// What a container must leave as it found it on the host.
#[derive(Debug)]
pub struct HostState {
    mounts: BTreeSet<String>,
    hostname: String,
}

impl HostState {
    /// Records the host's mount points and hostname.
    pub fn capture() -> HostState {
        HostState {
            mounts: mount_points(),
            hostname: host_hostname(),
        }
    }

    /// Panics if the mount points or the hostname changed since the capture.
    pub fn assert_unchanged(&self) {
        let now = mount_points();
        let added: Vec<_> = now.difference(&self.mounts).collect();
        let removed: Vec<_> = self.mounts.difference(&now).collect();
        assert!(
            added.is_empty() && removed.is_empty(),
            "the host mount table changed: added {added:?}, removed {removed:?}"
        );
        assert_eq!(host_hostname(), self.hostname, "the host hostname changed");
    }
}

/// Everything a test checks after its containers ended: the host's mounts and hostname as
/// captured, no process of the rootfs left, and the rootfs as listed except its init copy.
pub fn assert_left_clean(host: &HostState, rootfs: &Rootfs, before: &Listing, tokens: &[&str]) {
    rootfs.assert_no_processes(tokens);
    host.assert_unchanged();
    before.assert_unchanged_but_init(&rootfs.listing());
}
