//! What a container must not be able to do to the host: get its own code run at the next start,
//! redirect orbital's writes through links, see the host's descriptors; and what a read-only
//! rootfs must still allow.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use orbital_tests::{
    assert_left_clean, bin_dir, init_image, mount_points, orbital_run, output_of,
    output_with_stdin, run, unique_token, HostState, Rootfs, TempDir,
};

/// Panics unless the rootfs's `/.orbital-init` is a plain file holding the host's orbital-init,
/// and no temporary copy (`.orbital-init.<pid>.new`) that is a file was left beside it.
fn assert_init_copy_is_genuine(rootfs: &Rootfs) {
    let copy = rootfs.host_path("/.orbital-init");
    let meta = fs::symlink_metadata(&copy).expect("no /.orbital-init in the rootfs");
    assert!(
        meta.file_type().is_file(),
        "/.orbital-init is not a plain file: {meta:?}"
    );
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o755,
        "mode of /.orbital-init"
    );
    assert!(
        fs::read(&copy).unwrap() == init_image(),
        "/.orbital-init is not orbital-init"
    );
    for entry in fs::read_dir(rootfs.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let temporary = name.starts_with(".orbital-init.") && name.ends_with(".new");
        assert!(
            !temporary || entry.file_type().unwrap().is_symlink(),
            "temporary copy {name} was left behind"
        );
    }
}

/// Content, inode and modification time of a host file, to prove nobody wrote it.
fn fingerprint(path: &Path) -> (Vec<u8>, u64, i64, i64) {
    let meta = fs::symlink_metadata(path).unwrap();
    (
        fs::read(path).unwrap(),
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec(),
    )
}

#[test]
fn init_is_copied_into_the_rootfs() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["true"]).assert_ok();
    assert_init_copy_is_genuine(&rootfs);
    // The container sees the same copy.
    run(&rootfs, &["test", "-x", "/.orbital-init"]).assert_ok();
}

#[test]
fn an_init_copy_replaced_by_a_script_is_never_executed() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let witness = TempDir::new("witness");
    // One marker on a host path the rootfs does not have, one in a directory both have: if the
    // script runs anywhere, with the host's root or the container's, one of them appears.
    let host_marker = witness.path().join("pwned");
    let shared_marker = format!("/tmp/orbital-test-pwned-{}", unique_token());
    let _cleanup = RemoveOnDrop(PathBuf::from(&shared_marker));
    let script = format!(
        "#!/bin/sh\ntouch {} {shared_marker}\nexit 0\n",
        host_marker.display()
    );

    run(&rootfs, &["true"]).assert_ok();
    let plant = "cat > /.orbital-init && chmod 755 /.orbital-init";
    output_with_stdin(
        orbital_run(&rootfs, &["sh", "-c", plant]),
        script.as_bytes(),
    )
    .assert_ok();
    assert_eq!(
        fs::read_to_string(rootfs.host_path("/.orbital-init")).unwrap(),
        script
    );

    // The next start must run the real init: the command is pid 2 under orbital-init.
    let out = run(
        &rootfs,
        &["sh", "-c", "cat /proc/1/comm; echo $$; hostname"],
    );
    out.assert_ok()
        .assert_stdout("orbital-init\n2\norbital-container\n");
    run(&rootfs, &["--no-init", "sh", "-c", "echo $$"])
        .assert_ok()
        .assert_stdout("1\n");

    assert!(
        !host_marker.exists(),
        "the planted init ran with the host's root"
    );
    assert!(
        !Path::new(&shared_marker).exists(),
        "the planted init ran on the host"
    );
    assert!(
        !rootfs.host_path(&shared_marker).exists(),
        "the planted init ran in the container"
    );
    assert_init_copy_is_genuine(&rootfs);
    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

#[test]
fn an_init_copy_replaced_by_a_symlink_to_a_host_file_is_replaced_not_written_through() {
    let rootfs = Rootfs::new();
    let victims = TempDir::new("victim");
    let victim = victims.path().join("victim");
    fs::write(&victim, "precious host data\n").unwrap();
    let before = fingerprint(&victim);
    let target = victim.to_str().unwrap();

    run(&rootfs, &["true"]).assert_ok();
    // The copy, and every temporary name the next orbitals could use (orbital's pid is part of
    // it: the next few hundred pids), point at the host file.
    let next_pid: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let plant = format!(
        "ln -sf {target} /.orbital-init && for p in $(seq {} {}); do \
         ln -sf {target} /.orbital-init.$p.new; done",
        next_pid,
        next_pid + 500
    );
    run(&rootfs, &["sh", "-c", &plant]).assert_ok();
    let planted = fs::symlink_metadata(rootfs.host_path("/.orbital-init")).unwrap();
    assert!(
        planted.file_type().is_symlink(),
        "the symlink was not planted"
    );

    run(&rootfs, &["hostname"])
        .assert_ok()
        .assert_stdout("orbital-container\n");

    assert!(
        fingerprint(&victim) == before,
        "the host file behind the symlink was written"
    );
    assert_init_copy_is_genuine(&rootfs);
}

#[test]
fn an_init_copy_hard_linked_to_another_file_is_replaced_not_written_through() {
    let rootfs = Rootfs::new();
    let busybox = rootfs.host_path("/bin/busybox");
    let before = fingerprint(&busybox);

    run(&rootfs, &["true"]).assert_ok();
    run(
        &rootfs,
        &[
            "sh",
            "-c",
            "rm /.orbital-init && ln /bin/busybox /.orbital-init",
        ],
    )
    .assert_ok();

    run(&rootfs, &["true"]).assert_ok();

    assert!(
        fingerprint(&busybox) == before,
        "a hard link let orbital overwrite busybox"
    );
    assert_init_copy_is_genuine(&rootfs);
}

#[test]
fn a_proc_symlink_cannot_point_the_proc_mount_at_the_host() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let target = TempDir::new("proc-target");
    fs::remove_dir(rootfs.host_path("/proc")).unwrap();
    std::os::unix::fs::symlink(target.path(), rootfs.host_path("/proc")).unwrap();

    // Inside the container the link leads nowhere, so the run may fail; what matters is that
    // nothing is mounted on the host directory it names.
    let out = run(&rootfs, &["true"]);
    if out.status != 0 {
        out.assert_error(125, &["proc"]);
    }

    assert!(
        !mount_points().contains(target.arg()),
        "proc was mounted on the host directory"
    );
    assert_eq!(
        fs::read_dir(target.path()).unwrap().count(),
        0,
        "{} was written",
        target.arg()
    );
    rootfs.assert_no_processes(&[]);
    host.assert_unchanged();
}

#[test]
fn only_stdin_stdout_stderr_reach_the_command() {
    let rootfs = Rootfs::new();

    // `exit` keeps the shell from exec'ing ls, so ls lists the shell's descriptors, not its
    // own directory handle.
    let list = ["sh", "-c", "ls /proc/$$/fd; exit 0"];
    run(&rootfs, &list).assert_ok().assert_stdout("0\n1\n2\n");
    let no_init = ["--no-init", "sh", "-c", "ls /proc/$$/fd; exit 0"];
    run(&rootfs, &no_init)
        .assert_ok()
        .assert_stdout("0\n1\n2\n");
}

#[test]
fn descriptors_orbital_inherits_do_not_reach_the_command() {
    let rootfs = Rootfs::new();
    let orbital = bin_dir().join("orbital");
    let scratch = TempDir::new("fds");
    let appended = scratch.path().join("appended");
    // A host shell opens descriptors 7 and 9 without close-on-exec, as a careless caller
    // would, and then becomes orbital.
    let with_open_fds = |program: &Path, args: &[&str]| {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "exec \"$@\" 7</dev/null 9>>\"$0\""])
            .arg(&appended)
            .arg(program)
            .args(args)
            .env_remove("ORBITAL_LOG");
        output_of(cmd)
    };

    // The wrapper does pass them on: the host's ls sees them.
    let shell = Path::new("/bin/sh");
    let out = with_open_fds(shell, &["-c", "ls /proc/$$/fd; exit 0"]);
    out.assert_ok();
    let host_fds: Vec<&str> = out.stdout.lines().collect();
    assert!(
        host_fds.contains(&"7") && host_fds.contains(&"9"),
        "{out:?}"
    );

    for mode in [&[][..], &["--no-init"]] {
        let mut args = vec!["run", "--rootfs", rootfs.arg()];
        args.extend_from_slice(mode);
        args.extend(["sh", "-c", "ls /proc/$$/fd; exit 0"]);
        with_open_fds(&orbital, &args)
            .assert_ok()
            .assert_stdout("0\n1\n2\n");
    }
}

#[test]
fn a_read_only_rootfs_works_and_gets_no_init_copy() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let mount_at = TempDir::new("read-only");
    let unshare = ["/usr/bin/unshare", "/bin/unshare"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("unshare is missing: install util-linux");

    // The read-only bind mount lives in a mount namespace of its own, so that a failure
    // anywhere cannot leave it on the host.
    let script = "mount --bind \"$1\" \"$2\" && mount -o remount,ro,bind \"$2\" && \
                  exec \"$3\" run --rootfs \"$2\" sh -c 'hostname; touch /probe || echo read-only'";
    let mut cmd = Command::new(unshare);
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
        "sh",
    ])
    .arg(rootfs.path())
    .arg(mount_at.path())
    .arg(bin_dir().join("orbital"))
    .env_remove("ORBITAL_LOG");
    let out = output_of(cmd);
    out.assert_status(0)
        .assert_stdout("orbital-container\nread-only\n");
    assert!(
        out.stderr.lines().all(|l| l.starts_with("touch: ")),
        "unexpected messages:\n{out:?}"
    );

    assert!(
        !rootfs.host_path("/.orbital-init").exists(),
        "init copied into a read-only rootfs"
    );
    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn the_container_cannot_change_the_host_hostname_or_mounts() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    // With the privilege to mount and rename given back, the changes still stay inside.
    let script = "hostname pwned && mount -t tmpfs tmpfs /tmp && mount --bind /bin /tmp && \
                  mount -o remount,ro,bind /tmp && hostname";
    let privileged = ["--cap-add", "SYS_ADMIN", "--seccomp", "unconfined"];
    run(&rootfs, &[&privileged[..], &["sh", "-c", script]].concat())
        .assert_ok()
        .assert_stdout("pwned\n");

    assert_left_clean(&host, &rootfs, &before, &[]);
}

/// Removes a file on drop, for markers that must not outlive a failing test.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}
