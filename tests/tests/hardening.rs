//! The hardening of a container, tried from inside: attacks on the host that must fail, the
//! privileges and kernel views a command gets by default, and the options that change them.
//!
//! The attacks are made by a small static C program, `tests/helpers/escape.c`, copied into each
//! rootfs as `/escape`. Each of its subcommands prints one line, `<subcommand>: ok` when the
//! attack worked or `<subcommand>: <ERRNO>` when it did not, and exits 0 or 1 accordingly; the
//! tests expect 1 and the errno of the defence they are about. Where the outcome depends on the
//! host rather than on orbital, the attack is first tried on the host, so that a test cannot pass
//! only because the host would have refused anyway.

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;

use orbital_tests::{
    assert_left_clean, busybox, mount_points, orbital_run, output_of, run, unique_token,
    wait_until, Entry, HostState, Output, Process, Rootfs, Running, TempDir, SETTLE_TIMEOUT,
};

/// Docker's default capabilities, as /proc/PID/status prints a set: CHOWN DAC_OVERRIDE FOWNER
/// FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE
/// SETFCAP.
const DEFAULT_CAPS: &str = "00000000a80425fb";
/// The default set with CAP_SYS_ADMIN (bit 21) added.
const DEFAULT_CAPS_WITH_SYS_ADMIN: &str = "00000000a82425fb";
/// CAP_KILL alone: what orbital-init keeps once the command runs, to forward signals.
const KILL_ONLY: &str = "0000000000000020";
const NO_CAPS: &str = "0000000000000000";

/// The descriptor number a careless caller leaks into orbital in the leaked-descriptor test.
const LEAKED_FD: RawFd = 7;

/// The bytes of the escape helper, compiled once per test binary.
fn escape_image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("helpers/escape.c");
        let build = TempDir::new("escape-build");
        let binary = build.path().join("escape");
        // Static, because the busybox rootfs has no C library.
        let out = Command::new("cc")
            .args(["-static", "-O2", "-Wall", "-o"])
            .arg(&binary)
            .arg(&source)
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "cc -static {} failed: install gcc and libc6-dev (the static C library)\n{}",
                source.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("cannot run cc ({e}): install gcc and libc6-dev"),
        }
        fs::read(&binary).expect("read the compiled escape helper")
    })
}

/// A fresh rootfs with the escape helper as /escape.
fn rootfs_with_escape() -> Rootfs {
    let rootfs = Rootfs::new();
    let path = rootfs.host_path("/escape");
    fs::write(&path, escape_image()).expect("copy the escape helper into the rootfs");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod /escape");
    rootfs
}

/// Runs `orbital run OPTIONS... /escape ATTACK...`.
fn escape(rootfs: &Rootfs, options: &[&str], attack: &[&str]) -> Output {
    let mut args = options.to_vec();
    args.push("/escape");
    args.extend_from_slice(attack);
    run(rootfs, &args)
}

/// Panics unless the attack failed with exactly the report `expected`.
fn assert_foiled(rootfs: &Rootfs, options: &[&str], attack: &[&str], expected: &str) {
    let out = escape(rootfs, options, attack);
    assert!(
        out.status == 1 && out.signal.is_none() && out.stderr.is_empty(),
        "`/escape {}` with {options:?} was not refused cleanly:\n{out:?}",
        attack.join(" ")
    );
    assert_eq!(
        out.stdout,
        format!("{expected}\n"),
        "`/escape {}` with {options:?} failed for another reason than expected:\n{out:?}",
        attack.join(" ")
    );
}

/// The value of `field` (`CapEff`, `Seccomp`...) in a /proc/PID/status text.
fn status_field<'a>(status: &'a str, field: &str) -> &'a str {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in:\n{status}"))
        .trim()
}

/// Panics unless the `/escape caps` report says these capability sets and these flags.
fn assert_caps(out: &Output, permitted: &str, bounding: &str, seccomp: &str) {
    out.assert_ok();
    let expected = [
        ("CapInh", NO_CAPS),
        ("CapPrm", permitted),
        ("CapEff", permitted),
        ("CapBnd", bounding),
        ("CapAmb", NO_CAPS),
        ("NoNewPrivs", "1"),
        ("Seccomp", seccomp),
    ];
    for (field, value) in expected {
        assert_eq!(status_field(&out.stdout, field), value, "{field}:\n{out:?}");
    }
}

/// The namespace a /proc/PID/ns link of the host names, such as `mnt:[4026531841]`. The tests
/// read their own: the host's pid 1 may be out of their reach.
fn host_namespace(link: &str) -> String {
    let target = fs::read_link(link).unwrap_or_else(|e| panic!("readlink {link}: {e}"));
    target.to_string_lossy().into_owned()
}

/// The interface names /proc/net/dev lists, in its order.
fn interfaces(net_dev: &str) -> Vec<String> {
    net_dev
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_string())
        .collect()
}

/// Starts `orbital run ARGS... sleep TOKEN` and waits until the sleep runs inside.
fn start_sleeping(rootfs: &Rootfs, options: &[&str], token: &str) -> Running {
    let mut args = options.to_vec();
    args.extend(["sleep", token]);
    start_sleeping_with(rootfs, orbital_run(rootfs, &args), token)
}

/// Starts `cmd`, an `orbital run ... sleep TOKEN`, and waits until the sleep runs inside.
fn start_sleeping_with(rootfs: &Rootfs, cmd: Command, token: &str) -> Running {
    let running = Running::start(cmd, None);
    wait_until("the container's command to start", SETTLE_TIMEOUT, || {
        rootfs
            .container_processes()
            .iter()
            .any(|p| p.cmdline.iter().any(|a| a == token))
    });
    running
}

/// The container's orbital-init, seen from the host.
fn container_init(rootfs: &Rootfs) -> Process {
    let mut inits: Vec<Process> = rootfs
        .container_processes()
        .into_iter()
        .filter(|p| p.comm == "orbital-init")
        .collect();
    assert_eq!(inits.len(), 1, "not one orbital-init: {inits:#?}");
    inits.remove(0)
}

/// The host path of a util-linux tool, or a panic saying what to install.
fn util_linux(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("{name} is missing: install util-linux (Debian: util-linux, mount)")
        })
}

/// A host process that is killed on drop, so that a failing test does not leave it running.
struct HostProcess(Child);

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loop device of the host over a file, detached on drop.
struct LoopDevice(PathBuf);

impl LoopDevice {
    /// Attaches `file` to a free loop device.
    fn attach(file: &Path) -> LoopDevice {
        let mut cmd = Command::new(util_linux("losetup"));
        cmd.args(["--find", "--show"]).arg(file);
        let out = output_of(cmd);
        assert!(
            out.status == 0,
            "losetup could not attach a loop device (is the loop module loaded?):\n{out:?}"
        );
        LoopDevice(PathBuf::from(out.stdout.trim()))
    }

    /// The device's major and minor numbers, as the glibc `major` and `minor` macros decode
    /// them.
    fn numbers(&self) -> (u64, u64) {
        let rdev = fs::metadata(&self.0).expect("stat the loop device").rdev();
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
        let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
        (major, minor)
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new(util_linux("losetup"))
            .arg("-d")
            .arg(&self.0)
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// Escapes

#[test]
fn mounting_and_unmounting_are_refused_even_with_cap_sys_admin() {
    let rootfs = rootfs_with_escape();
    let host = HostState::capture();

    assert_foiled(&rootfs, &[], &["mount"], "mount: EPERM");
    assert_foiled(&rootfs, &[], &["umount"], "umount: EPERM");
    // The seccomp filter holds on its own when the capability is given back.
    let admin = ["--cap-add", "SYS_ADMIN"];
    assert_foiled(&rootfs, &admin, &["mount"], "mount: EPERM");
    assert_foiled(&rootfs, &admin, &["umount"], "umount: EPERM");

    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

#[test]
fn kernel_files_can_be_neither_written_nor_read() {
    let rootfs = rootfs_with_escape();

    // A kernel without the file gives ENOENT; one with it must meet the read-only mask.
    let sysrq = match Path::new("/proc/sysrq-trigger").exists() {
        true => "sysrq: EROFS",
        false => "sysrq: ENOENT",
    };
    assert_foiled(&rootfs, &[], &["sysrq"], sysrq);
    assert_foiled(&rootfs, &[], &["sysctl"], "sysctl: EROFS");
    // Masked, /proc/kcore is /dev/null: it opens and reads nothing.
    let kcore = match Path::new("/proc/kcore").exists() {
        true => "kcore: empty",
        false => "kcore: ENOENT",
    };
    assert_foiled(&rootfs, &[], &["kcore"], kcore);
}

#[test]
fn the_masked_proc_and_sys_files_are_empty_inside() {
    let rootfs = Rootfs::new();
    let masked = [
        "/proc/acpi",
        "/proc/asound",
        "/proc/interrupts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/sysrq-trigger",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/sys/devices/virtual/powercap",
        "/sys/firmware",
    ];
    // Only what this kernel has can be masked; the test needs at least a file and a directory
    // to mean anything.
    let present: Vec<(&str, bool)> = masked
        .iter()
        .filter_map(|p| fs::metadata(p).ok().map(|m| (*p, m.is_dir())))
        .collect();
    assert!(
        present.iter().any(|(_, dir)| *dir) && present.iter().any(|(_, dir)| !*dir),
        "this kernel has too few of the masked files to test the masks: {present:?}"
    );

    // Each check prints only when a mask is missing.
    let mut script = String::new();
    for (path, dir) in &present {
        if *dir {
            script += &format!("[ -z \"$(ls -A {path})\" ] || echo '{path} lists entries'\n");
        } else {
            script += &format!("[ ! -s {path} ] && [ -z \"$(head -c 1 {path})\" ] || ");
            script += &format!("echo '{path} has content'\n");
        }
    }
    script += "exit 0\n";
    run(&rootfs, &["sh", "-c", &script]).assert_ok();
}

#[test]
fn a_host_block_device_cannot_be_read_through_mknod() {
    let rootfs = rootfs_with_escape();
    // A loop device over a file of the test's own stands in for a disk: it holds nothing of
    // value, and the host can read it even where it cannot open its real disk.
    let scratch = TempDir::new("block");
    let backing = scratch.path().join("disk");
    let secret = b"host disk contents the container must not read";
    let mut image = secret.to_vec();
    image.resize(1 << 20, 0);
    fs::write(&backing, &image).unwrap();
    let device = LoopDevice::attach(&backing);
    // The host itself can read the device: a refusal inside is the container's doing.
    let head = fs::read(&device.0).expect("the host cannot read its own loop device");
    assert!(
        head.starts_with(secret),
        "the loop device does not hold the file"
    );

    let (major, minor) = device.numbers();
    let out = escape(
        &rootfs,
        &[],
        &[
            "mknod-block",
            "/tmp/blk",
            &major.to_string(),
            &minor.to_string(),
        ],
    );
    assert!(
        out.status == 1
            && out.stdout.starts_with("mknod-block: ")
            && out.stdout != "mknod-block: ok\n",
        "the container read the host block device {} ({major}:{minor}):\n{out:?}",
        device.0.display()
    );
}

#[test]
fn modules_reboot_clock_keyring_and_user_namespaces_are_refused() {
    let rootfs = rootfs_with_escape();

    assert_foiled(&rootfs, &[], &["init-module"], "init-module: EPERM");
    assert_foiled(&rootfs, &[], &["reboot"], "reboot: EPERM");
    assert_foiled(&rootfs, &[], &["settime"], "settime: EPERM");
    assert_foiled(&rootfs, &[], &["keyctl"], "keyctl: EPERM");
    assert_foiled(&rootfs, &[], &["unshare-user"], "unshare-user: EPERM");

    // busybox reports the refusal and still prints the date. Were the call let through, it
    // would set the clock to the second it already is, losing less than a second.
    let set_date = "date -s \"$(date '+%Y-%m-%d %H:%M:%S')\" >/dev/null";
    let out = run(&rootfs, &["sh", "-c", set_date]);
    assert!(
        out.stderr == "date: can't set date: Operation not permitted\n",
        "date -s was not refused:\n{out:?}"
    );
}

#[test]
fn the_init_can_be_neither_traced_nor_inspected() {
    let rootfs = rootfs_with_escape();

    assert_foiled(&rootfs, &[], &["ptrace-init"], "ptrace-init: EPERM");
    // orbital-init is not dumpable and the command lacks CAP_SYS_PTRACE: even root inside
    // cannot read its environment or reach its namespaces.
    let out = run(&rootfs, &["cat", "/proc/1/environ"]);
    out.assert_status(1);
    assert!(
        out.stdout.is_empty() && out.stderr.contains("Permission denied"),
        "the init's environment was readable:\n{out:?}"
    );
    assert_foiled(
        &rootfs,
        &[],
        &["open-ns", "/proc/1/ns/mnt"],
        "open-ns: readlink EACCES",
    );
}

#[test]
fn a_host_process_cannot_be_killed() {
    let rootfs = rootfs_with_escape();
    let token = unique_token();
    let mut victim = HostProcess(
        Command::new(busybox())
            .args(["sleep", &token])
            .spawn()
            .expect("start a host sleep"),
    );
    let pid = victim.0.id().to_string();

    // The host pid means nothing in the container's PID namespace.
    assert_foiled(&rootfs, &[], &["kill", &pid], "kill: ESRCH");
    assert!(
        victim
            .0
            .try_wait()
            .expect("wait for the host sleep")
            .is_none(),
        "the host process {pid} was killed from the container"
    );
}

#[test]
fn the_namespaces_are_not_the_hosts_and_cannot_be_entered() {
    let rootfs = rootfs_with_escape();

    for ns in ["mnt", "pid", "uts", "ipc", "cgroup"] {
        let out = escape(&rootfs, &[], &["open-ns", &format!("/proc/self/ns/{ns}")]);
        out.assert_status(1);
        let inside = out
            .stdout
            .strip_prefix("open-ns: ")
            .and_then(|rest| rest.strip_suffix(" setns EPERM\n"))
            .unwrap_or_else(|| panic!("setns into the {ns} namespace was not refused:\n{out:?}"));
        assert!(inside.starts_with(&format!("{ns}:[")), "{out:?}");
        let host = host_namespace(&format!("/proc/self/ns/{ns}"));
        assert_ne!(
            inside, host,
            "the container shares the host's {ns} namespace"
        );
    }
}

#[test]
fn chroot_cannot_climb_out_of_the_pivoted_root() {
    let rootfs = rootfs_with_escape();
    let host = HostState::capture();
    let outside = TempDir::new("outside");
    let marker = outside.path().join("host-only");
    fs::write(&marker, "only on the host\n").unwrap();
    let marker = marker.to_str().unwrap();

    // Under a plain chroot on the host the same attack gets out: it is a real one.
    let mut chroot = Command::new(busybox());
    chroot
        .args(["chroot", rootfs.arg(), "/escape", "chroot-escape", marker])
        .env_remove("ORBITAL_LOG");
    output_of(chroot)
        .assert_ok()
        .assert_stdout("chroot-escape: ok\n");

    // SYS_CHROOT is in the default set, so chroot works inside; ".." just has nowhere to go.
    assert_foiled(
        &rootfs,
        &[],
        &["chroot-escape", marker],
        "chroot-escape: ENOENT",
    );

    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

#[test]
fn a_non_root_user_cannot_become_root() {
    let rootfs = rootfs_with_escape();

    assert_foiled(
        &rootfs,
        &["-u", "65534"],
        &["setuid0"],
        "setuid0: EPERM uid=65534 euid=65534",
    );
}

#[test]
fn a_volume_target_behind_a_symlink_to_the_host_stays_inside() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let victim = TempDir::new("victim");
    let source = TempDir::new("volume");
    fs::write(source.path().join("payload"), "from the volume\n").unwrap();
    // /mnt in the rootfs points at a host directory, by its host path.
    symlink(victim.path(), rootfs.host_path("/mnt")).unwrap();
    let volume = format!("{}:/mnt/x", source.arg());
    let assert_victim_untouched = || {
        let below = format!("{}/", victim.arg());
        let mounted: Vec<String> = mount_points()
            .into_iter()
            .filter(|mp| mp == victim.arg() || mp.starts_with(&below))
            .collect();
        assert!(
            mounted.is_empty(),
            "mounted on the host directory: {mounted:?}"
        );
        assert_eq!(
            fs::read_dir(victim.path()).unwrap().count(),
            0,
            "{} was written",
            victim.arg()
        );
    };

    // Inside, the link leads nowhere: the target cannot be made and the run is refused.
    let before = rootfs.listing();
    run(&rootfs, &["-v", &volume, "true"]).assert_error(125, &["/mnt/x"]);
    assert_victim_untouched();
    assert_left_clean(&host, &rootfs, &before, &[]);

    // With the same path inside the rootfs, the volume lands there, inside.
    let inside = victim.arg();
    fs::create_dir_all(rootfs.host_path(inside)).unwrap();
    run(
        &rootfs,
        &["-v", &volume, "cat", &format!("{inside}/x/payload")],
    )
    .assert_ok()
    .assert_stdout("from the volume\n");
    assert_victim_untouched();
    assert!(
        rootfs.host_path(inside).join("x").is_dir(),
        "the mount point was not made inside the rootfs"
    );
    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

/// Makes `cmd` inherit `dir` as descriptor [`LEAKED_FD`], without close-on-exec, as a careless
/// caller would leave it.
fn leak_as_fd_7(cmd: &mut Command, dir: &File) {
    extern "C" {
        fn dup2(oldfd: RawFd, newfd: RawFd) -> RawFd;
    }
    let fd = dir.as_raw_fd();
    // dup2 onto the same number would keep close-on-exec; the caller avoids that.
    assert_ne!(
        fd, LEAKED_FD,
        "the directory already is descriptor {LEAKED_FD}"
    );
    // The closure runs in the forked child before exec. dup2 replaces whatever the child had
    // as descriptor 7, which nothing in the child uses (std marks its own descriptors
    // close-on-exec), and clears close-on-exec on the copy.
    // SAFETY: only async-signal-safe calls are allowed there, and dup2 is one; `fd` stays open
    // in the parent, which holds `dir` until the command has started, so it is valid.
    unsafe {
        cmd.pre_exec(move || match dup2(fd, LEAKED_FD) {
            -1 => Err(io::Error::last_os_error()),
            _ => Ok(()),
        });
    }
}

/// A directory handle the test can leak: never descriptor 7 itself.
fn open_leakable_dir(path: &Path) -> (File, Option<File>) {
    let first = File::open(path).expect("open the host directory");
    if first.as_raw_fd() != LEAKED_FD {
        return (first, None);
    }
    // The clone gets another number while the first stays open.
    let second = first.try_clone().expect("duplicate the directory handle");
    (second, Some(first))
}

#[test]
fn a_leaked_directory_descriptor_leads_nowhere() {
    let rootfs = rootfs_with_escape();
    let host = HostState::capture();
    let before = rootfs.listing();
    let secret = TempDir::new("leaked-dir");
    let (dir, _spare) = open_leakable_dir(secret.path());

    // The leak is real: a host process started the same way has the directory as descriptor 7.
    let mut probe = Command::new(busybox());
    probe.args(["readlink", "/proc/self/fd/7"]);
    leak_as_fd_7(&mut probe, &dir);
    output_of(probe)
        .assert_ok()
        .assert_stdout(&format!("{}\n", secret.arg()));

    // A working directory through the leaked descriptor would be the host directory.
    for mode in [&[][..], &["--no-init"]] {
        let mut args = mode.to_vec();
        args.extend(["-w", "/proc/self/fd/7", "pwd"]);
        let mut cmd = orbital_run(&rootfs, &args);
        leak_as_fd_7(&mut cmd, &dir);
        output_of(cmd).assert_error(125, &["chdir /proc/self/fd/7"]);
    }

    // Nothing inside holds it: neither the command's view nor the host's view of every
    // process of the container shows the directory.
    let list = "ls -l /proc/self/fd /proc/1/fd 2>/dev/null; /escape fds";
    let mut cmd = orbital_run(&rootfs, &["sh", "-c", list]);
    leak_as_fd_7(&mut cmd, &dir);
    let out = output_of(cmd);
    out.assert_status(0);
    for line in out.stdout.lines() {
        assert!(
            !line.contains(secret.arg()) && !line.contains("/work") && !line.contains("fd self/7"),
            "a host directory reached the container: {line}\n{out:?}"
        );
    }
    assert!(out.stdout.contains("root self: /\n"), "{out:?}");
    assert!(out.stdout.contains("cwd self: /\n"), "{out:?}");

    let token = unique_token();
    let mut cmd = orbital_run(&rootfs, &["sleep", &token]);
    leak_as_fd_7(&mut cmd, &dir);
    let running = start_sleeping_with(&rootfs, cmd, &token);
    for process in rootfs.container_processes() {
        let fds = fs::read_dir(format!("/proc/{}/fd", process.pid)).expect("list descriptors");
        for fd in fds.flatten() {
            let target = fs::read_link(fd.path()).unwrap_or_default();
            assert!(
                target != secret.path(),
                "{} (pid {}) holds the host directory as descriptor {:?}",
                process.comm,
                process.pid,
                fd.file_name()
            );
        }
    }
    running.signal("TERM");
    running.wait().assert_status(143);

    assert_left_clean(&host, &rootfs, &before, &[&token]);
}

// ---------------------------------------------------------------------------------------------
// Privileges by default and with options

#[test]
fn the_command_gets_dockers_capabilities_no_new_privs_and_seccomp() {
    let rootfs = rootfs_with_escape();

    assert_caps(
        &escape(&rootfs, &[], &["caps"]),
        DEFAULT_CAPS,
        DEFAULT_CAPS,
        "2",
    );
}

#[test]
fn cap_drop_all_empties_every_set() {
    let rootfs = rootfs_with_escape();

    let out = escape(&rootfs, &["--cap-drop", "ALL"], &["caps"]);
    assert_caps(&out, NO_CAPS, NO_CAPS, "2");
}

#[test]
fn cap_add_sys_admin_adds_bit_21() {
    let rootfs = rootfs_with_escape();

    let with = DEFAULT_CAPS_WITH_SYS_ADMIN;
    for name in ["SYS_ADMIN", "CAP_SYS_ADMIN"] {
        let out = escape(&rootfs, &["--cap-add", name], &["caps"]);
        assert_caps(&out, with, with, "2");
    }
}

#[test]
fn seccomp_unconfined_turns_the_filter_off() {
    let rootfs = rootfs_with_escape();

    let out = escape(&rootfs, &["--seccomp", "unconfined"], &["caps"]);
    assert_caps(&out, DEFAULT_CAPS, DEFAULT_CAPS, "0");
}

#[test]
fn a_non_root_user_has_no_capabilities() {
    let rootfs = rootfs_with_escape();

    let out = escape(&rootfs, &["-u", "65534"], &["caps"]);
    assert_caps(&out, NO_CAPS, DEFAULT_CAPS, "2");
    run(&rootfs, &["-u", "65534", "id", "-u"])
        .assert_ok()
        .assert_stdout("65534\n");
}

#[test]
fn the_init_keeps_only_cap_kill_once_the_command_runs() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let token = unique_token();

    let running = start_sleeping(&rootfs, &[], &token);
    let init = container_init(&rootfs);
    assert_eq!(
        init.ppid,
        running.pid(),
        "orbital-init is not orbital's child"
    );
    // The drop happens once the command is started: wait for it rather than race it.
    let status_path = format!("/proc/{}/status", init.pid);
    let read_status = || fs::read_to_string(&status_path).expect("read the init's status");
    wait_until("orbital-init to keep only CAP_KILL", SETTLE_TIMEOUT, || {
        status_field(&read_status(), "CapEff") == KILL_ONLY
    });
    let status = read_status();
    for (field, value) in [
        ("CapInh", NO_CAPS),
        ("CapPrm", KILL_ONLY),
        ("CapEff", KILL_ONLY),
        ("CapAmb", NO_CAPS),
    ] {
        assert_eq!(
            status_field(&status, field),
            value,
            "{field} of orbital-init"
        );
    }
    running.signal("TERM");
    running.wait().assert_status(143);

    assert_left_clean(&host, &rootfs, &before, &[&token]);
}

// ---------------------------------------------------------------------------------------------
// /dev, /sys

#[test]
fn dev_holds_only_the_expected_entries_and_no_block_device() {
    let rootfs = Rootfs::new();

    // Without a terminal there is no /dev/console.
    let expected = [
        "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
        "stdout", "tty", "urandom", "zero",
    ];
    let mut wanted = expected.join("\n");
    wanted.push('\n');
    run(&rootfs, &["ls", "-A", "/dev"])
        .assert_ok()
        .assert_stdout(&wanted);
    run(&rootfs, &["find", "/dev", "-type", "b"])
        .assert_ok()
        .assert_stdout("");
    run(
        &rootfs,
        &[
            "sh",
            "-c",
            "echo gone > /dev/null && head -c 3 /dev/zero | wc -c",
        ],
    )
    .assert_ok()
    .assert_stdout("3\n");
}

#[test]
fn dev_nodes_are_usable_by_any_user() {
    let rootfs = Rootfs::new();

    // As on any Linux system, these are world-readable and world-writable: a non-root command
    // must be able to discard output into /dev/null.
    let nodes = "/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty";
    run(&rootfs, &["sh", "-c", &format!("stat -c '%n %a' {nodes}")])
        .assert_ok()
        .assert_stdout(
            "/dev/null 666\n/dev/zero 666\n/dev/full 666\n/dev/random 666\n\
             /dev/urandom 666\n/dev/tty 666\n",
        );
    run(
        &rootfs,
        &["-u", "65534", "sh", "-c", "echo gone > /dev/null"],
    )
    .assert_ok();
}

#[test]
fn sys_is_read_only() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["touch", "/sys/probe"]);
    out.assert_status(1);
    assert_eq!(
        out.stderr, "touch: /sys/probe: Read-only file system\n",
        "{out:?}"
    );
    let out = run(&rootfs, &["grep", " /sys sysfs ", "/proc/mounts"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(" ro,"),
        "/sys is not read-only:\n{out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Options

#[test]
fn volumes_read_write_and_read_only() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let source = TempDir::new("volume");
    fs::write(source.path().join("given"), "from the host\n").unwrap();
    let rw = format!("{}:/data", source.arg());
    let ro = format!("{}:/data:ro", source.arg());

    run(
        &rootfs,
        &[
            "-v",
            &rw,
            "sh",
            "-c",
            "cat /data/given; echo back > /data/written",
        ],
    )
    .assert_ok()
    .assert_stdout("from the host\n");
    assert_eq!(
        fs::read_to_string(source.path().join("written")).unwrap(),
        "back\n",
        "what the container wrote is not on the host"
    );

    let out = run(&rootfs, &["-v", &ro, "touch", "/data/given", "/data/new"]);
    out.assert_status(1);
    assert!(
        out.stderr.contains("/data/given: Read-only file system"),
        "{out:?}"
    );
    assert!(
        !source.path().join("new").exists(),
        "a read-only volume was written"
    );
    // Only the container's view is read-only: the host can still write its directory.
    fs::write(source.path().join("host-write"), "ok").expect("the host lost write access");

    // /data was missing: it is the one thing the runs add to the rootfs.
    let changes = before.changes(&rootfs.listing(), &[".orbital-init"]);
    let data = Entry::Dir { mode: 0o755 };
    assert_eq!(changes, [format!("added /data: {data:?}")]);
    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

#[test]
fn file_volumes_and_missing_targets_are_made_inside_the_rootfs() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let source = TempDir::new("volume");
    let file = source.path().join("file");
    fs::write(&file, "one file\n").unwrap();
    let file_volume = format!("{}:/etc/deep/given:ro", file.display());
    let dir_volume = format!("{}:/a/b/c", source.arg());

    let list = "cat /etc/deep/given; ls /a/b/c";
    run(
        &rootfs,
        &["-v", &file_volume, "-v", &dir_volume, "sh", "-c", list],
    )
    .assert_ok()
    .assert_stdout("one file\nfile\n");

    // Exactly the missing directories and an empty file to mount the file on.
    let after = rootfs.listing();
    let changes = before.changes(&after, &[".orbital-init"]);
    let added: Vec<String> = ["a", "a/b", "a/b/c", "etc/deep", "etc/deep/given"]
        .iter()
        .map(|p| {
            let entry = &after.0[Path::new(p)];
            match entry {
                Entry::Dir { mode: 0o755 } => {}
                Entry::File { len: 0, .. } if *p == "etc/deep/given" => {}
                other => panic!("/{p} was made as {other:?}"),
            }
            format!("added /{p}: {entry:?}")
        })
        .collect();
    assert_eq!(changes, added);
    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

#[test]
fn tmpfs_with_a_size_limit() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    let out = run(
        &rootfs,
        &["--tmpfs", "/tmp:size=1m", "grep", " /tmp ", "/proc/mounts"],
    );
    out.assert_ok();
    assert!(
        out.stdout.starts_with("tmpfs /tmp tmpfs ") && out.stdout.contains("size=1024k"),
        "{out:?}"
    );
    let fill = "dd if=/dev/zero of=/tmp/fill bs=1k count=2048";
    let out = run(&rootfs, &["--tmpfs", "/tmp:size=1m", "sh", "-c", fill]);
    out.assert_status(1);
    assert!(
        out.stderr.contains("No space left on device"),
        "2 MB fit in a 1 MB tmpfs:\n{out:?}"
    );

    // The tmpfs took the writes: the rootfs's own /tmp is untouched.
    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn a_read_only_root_with_a_writable_tmp() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    let script = "touch /tmp/ok && echo tmp; touch /probe";
    let out = run(
        &rootfs,
        &["--read-only", "--tmpfs", "/tmp", "sh", "-c", script],
    );
    out.assert_status(1).assert_stdout("tmp\n");
    assert_eq!(
        out.stderr, "touch: /probe: Read-only file system\n",
        "{out:?}"
    );

    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn user_by_number_name_and_group() {
    let rootfs = Rootfs::new();

    for user in ["65534", "nobody", "65534:65534", "nobody:nogroup"] {
        run(&rootfs, &["-u", user, "sh", "-c", "id -u; id -g"])
            .assert_ok()
            .assert_stdout("65534\n65534\n");
    }
    let host = HostState::capture();
    let before = rootfs.listing();
    run(&rootfs, &["-u", "nosuchuser", "true"])
        .assert_error(125, &["user nosuchuser", "/etc/passwd"]);
    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn ulimit_sets_the_limit_and_refuses_to_raise_the_hard_one() {
    let rootfs = Rootfs::new();

    run(
        &rootfs,
        &[
            "--ulimit",
            "nofile=64:64",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn",
        ],
    )
    .assert_ok()
    .assert_stdout("64\n64\n");

    let host = HostState::capture();
    let before = rootfs.listing();
    // Above the kernel's own ceiling for open files, so above orbital's hard limit too.
    run(&rootfs, &["--ulimit", "nofile=10:99999999", "true"])
        .assert_error(125, &["--ulimit nofile", "hard limit"]);
    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn net_none_has_only_a_loopback_that_is_up() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["--net", "none", "cat", "/proc/net/dev"]);
    out.assert_ok();
    assert_eq!(interfaces(&out.stdout), ["lo"], "{out:?}");
    run(&rootfs, &["--net", "none", "ls", "/sys/class/net"])
        .assert_ok()
        .assert_stdout("lo\n");
    let out = run(&rootfs, &["--net", "none", "ip", "link", "show", "lo"]);
    out.assert_ok();
    let flags = out
        .stdout
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(flags, _)| flags)
        .unwrap_or_else(|| panic!("no flags in:\n{out:?}"));
    assert!(flags.split(',').any(|f| f == "UP"), "lo is down:\n{out:?}");
    let host_net = host_namespace("/proc/self/ns/net");
    let out = run(&rootfs, &["--net", "none", "readlink", "/proc/self/ns/net"]);
    out.assert_ok();
    assert_ne!(
        out.stdout.trim_end(),
        host_net,
        "--net none kept the host network"
    );
}

#[test]
fn the_host_network_by_default() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["readlink", "/proc/self/ns/net"]);
    out.assert_ok()
        .assert_stdout(&format!("{}\n", host_namespace("/proc/self/ns/net")));
    let host_dev = fs::read_to_string("/proc/net/dev").expect("read /proc/net/dev");
    let out = run(&rootfs, &["cat", "/proc/net/dev"]);
    out.assert_ok();
    assert_eq!(interfaces(&out.stdout), interfaces(&host_dev), "{out:?}");
}

#[test]
fn the_cgroup_namespace_is_new() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["readlink", "/proc/self/ns/cgroup"]);
    out.assert_ok();
    let inside = out.stdout.trim_end();
    assert!(inside.starts_with("cgroup:["), "{out:?}");
    assert_ne!(inside, host_namespace("/proc/self/ns/cgroup"));
}

// ---------------------------------------------------------------------------------------------
// Invalid values

#[test]
fn every_invalid_value_of_the_hardening_options_is_refused() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let gone = TempDir::new("gone");
    let missing = gone.path().join("nonexistent");
    let missing_volume = format!("{}:/x", missing.display());
    let missing_fragment = format!("--volume {}", missing.display());

    let cases: &[(&[&str], &[&str])] = &[
        (
            &["-v", "relative:/x"],
            &["--volume relative:/x", "absolute"],
        ),
        (&["-v", "/x"], &["--volume /x", "HOST:CONTAINER"]),
        (
            &["-v", &missing_volume],
            &[&missing_fragment, "No such file or directory"],
        ),
        (&["-v", "/tmp:/x:rx"], &["--volume /tmp:/x:rx", "ro or rw"]),
        (&["--tmpfs", "tmp"], &["--tmpfs tmp", "absolute"]),
        (
            &["--tmpfs", "/tmp:size=12x"],
            &["--tmpfs /tmp:size=12x", "size"],
        ),
        (&["--ulimit", "nofile"], &["--ulimit nofile", "NAME=SOFT"]),
        (
            &["--ulimit", "bogus=1"],
            &["--ulimit bogus=1", "unknown resource"],
        ),
        (
            &["--ulimit", "nofile=5:1"],
            &["--ulimit nofile=5:1", "soft limit"],
        ),
        (
            &["--cap-add", "FLY"],
            &["--cap-add FLY", "unknown capability"],
        ),
        (
            &["--seccomp", "/x.json"],
            &["--seccomp /x.json", "default or unconfined"],
        ),
        (&["--net", "bridge"], &["--net bridge", "none or host"]),
        (&["-u", ""], &["--user", "USER[:GROUP]"]),
    ];
    for (options, fragments) in cases {
        let mut args = options.to_vec();
        args.push("true");
        eprintln!("trying {options:?}");
        run(&rootfs, &args).assert_error(125, fragments);
    }

    assert_left_clean(&host, &rootfs, &before, &[]);
}
