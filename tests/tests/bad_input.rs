//! Every bad input ends with one line on stderr, status 125, 126 or 127, and nothing left
//! behind; help and version print on stdout and succeed.

use std::fs;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::process::Command;

use orbital_tests::{
    assert_left_clean, bin_dir, orbital, output_of, run, HostState, Output, Rootfs, TempDir,
};

/// Runs `orbital run --rootfs ROOTFS ARGS...` on a fresh rootfs, checks it is refused with
/// `status` and a line containing `fragments`, and that it left nothing behind.
fn assert_refused(args: &[&str], status: i32, fragments: &[&str]) -> Output {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    let out = run(&rootfs, args);
    out.assert_error(status, fragments);

    assert_left_clean(&host, &rootfs, &before, &[]);
    out
}

/// Runs `orbital ARGS...` with no rootfs involved and checks it is refused like
/// [`assert_refused`] does.
fn assert_refused_without_rootfs(args: &[&str], status: i32, fragments: &[&str]) {
    let host = HostState::capture();
    let mut cmd = orbital();
    cmd.args(args);
    output_of(cmd).assert_error(status, fragments);
    host.assert_unchanged();
}

#[test]
fn missing_rootfs() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("nope");
    let missing = missing.to_str().unwrap();
    assert_refused_without_rootfs(
        &["run", "--rootfs", missing, "true"],
        125,
        &[
            &format!("rootfs {missing}: "),
            "No such file or directory (errno 2)",
            "make rootfs",
        ],
    );
    assert!(
        fs::symlink_metadata(missing).is_err(),
        "orbital created the missing rootfs"
    );
}

#[test]
fn missing_default_rootfs_from_the_environment() {
    let dir = TempDir::new("missing-env");
    let missing = dir.path().join("nope");
    let mut cmd = orbital();
    cmd.env("ORBITAL_ROOTFS", &missing).args(["run", "true"]);
    output_of(cmd).assert_error(125, &[missing.to_str().unwrap(), "(errno 2)"]);
}

#[test]
fn rootfs_that_is_a_file() {
    let dir = TempDir::new("file");
    let file = dir.path().join("file");
    fs::write(&file, "not a directory\n").unwrap();
    let file = file.to_str().unwrap();
    assert_refused_without_rootfs(
        &["run", "--rootfs", file, "true"],
        125,
        &[&format!("rootfs {file}: not a directory")],
    );
    assert_eq!(fs::read_to_string(file).unwrap(), "not a directory\n");
}

#[test]
fn rootfs_that_is_the_host_root() {
    let dir = TempDir::new("link-to-root");
    let link = dir.path().join("root");
    symlink("/", &link).unwrap();
    let link = link.to_str().unwrap();

    for root in ["/", "//", "/.", "/tmp/..", link] {
        assert_refused_without_rootfs(
            &["run", "--rootfs", root, "true"],
            125,
            &[
                &format!("rootfs {root}: "),
                "the host root cannot be a container root",
            ],
        );
    }
    let copies: Vec<_> = fs::read_dir("/")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(".orbital-init"))
        .collect();
    assert!(
        copies.is_empty(),
        "orbital wrote into the host root: {copies:?}"
    );
}

#[test]
fn unknown_option() {
    assert_refused(
        &["--bogus", "true"],
        125,
        &["unknown option --bogus", "orbital run --help"],
    );
    assert_refused(&["-z", "true"], 125, &["unknown option -z"]);
}

#[test]
fn unknown_subcommand_or_option_before_it() {
    assert_refused_without_rootfs(&["start", "true"], 125, &["start"]);
    assert_refused_without_rootfs(&["--bogus"], 125, &["--bogus"]);
}

#[test]
fn no_command() {
    assert_refused(&[], 125, &["run: no command given", "orbital run --help"]);
    assert_refused(&["--"], 125, &["no command given"]);
    assert_refused(&["--hostname", "foo"], 125, &["no command given"]);
}

#[test]
fn orbital_alone() {
    assert_refused_without_rootfs(&[], 125, &["no command given"]);
    let out = output_of(orbital());
    assert!(
        !out.stderr.contains("orbital: orbital:"),
        "prefix doubled: {}",
        out.stderr
    );
}

#[test]
fn option_without_its_value() {
    assert_refused(&["--hostname"], 125, &["--hostname"]);
    assert_refused(&["-w"], 125, &["-w"]);
    assert_refused(&["-e"], 125, &["-e"]);
    assert_refused_without_rootfs(&["run", "--rootfs"], 125, &["--rootfs"]);
}

#[test]
fn command_missing_in_the_rootfs() {
    assert_refused(
        &["/nonexistent"],
        127,
        &["exec /nonexistent: ", "(errno 2)"],
    );
    assert_refused(&["nosuchcmd"], 127, &["exec nosuchcmd: ", "(errno 2)"]);
    assert_refused(
        &["--no-init", "/nonexistent"],
        127,
        &["exec /nonexistent: ", "(errno 2)"],
    );
    // Present on the host, absent from the rootfs.
    let host_only = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    assert_refused(&[host_only], 127, &[host_only, "(errno 2)"]);
}

#[test]
fn command_not_executable() {
    assert_refused(
        &["/etc/passwd"],
        126,
        &["exec /etc/passwd: Permission denied (errno 13)"],
    );
    assert_refused(
        &["--no-init", "/etc/passwd"],
        126,
        &["exec /etc/passwd: ", "(errno 13)"],
    );
    assert_refused(&["/tmp"], 126, &["exec /tmp: ", "(errno 13)"]);
}

#[test]
fn hostname_too_long() {
    let name = "h".repeat(65);
    assert_refused(
        &["--hostname", &name, "true"],
        125,
        &[&format!("--hostname {name}: longer than 64 bytes")],
    );
}

#[test]
fn env_with_an_empty_name() {
    assert_refused(
        &["-e", "=x", "true"],
        125,
        &["--env =x: empty variable name"],
    );
}

#[test]
fn relative_workdir() {
    assert_refused(
        &["-w", "tmp", "true"],
        125,
        &["--workdir tmp: not an absolute path"],
    );
}

#[test]
fn missing_workdir() {
    assert_refused(
        &["-w", "/nonexistent", "true"],
        125,
        &["chdir /nonexistent: No such file or directory (errno 2)"],
    );
    assert_refused(
        &["--no-init", "-w", "/nonexistent", "true"],
        125,
        &["chdir /nonexistent"],
    );
}

#[test]
fn not_root() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    // A copy in a world-readable directory, since the build tree may sit where nobody cannot
    // reach it (under /root, say), and the test is about orbital's check, not about that.
    let copies = TempDir::new("nobody-bin");
    for name in ["orbital", "orbital-init"] {
        fs::copy(bin_dir().join(name), copies.path().join(name)).unwrap();
    }
    let mut cmd = Command::new(copies.path().join("orbital"));
    cmd.args(["run", "--rootfs", rootfs.arg(), "true"]);
    cmd.env_remove("ORBITAL_LOG").uid(65534).gid(65534);
    output_of(cmd).assert_error(125, &["run as uid 65534: orbital must run as root"]);

    assert_left_clean(&host, &rootfs, &before, &[]);
    assert!(
        !rootfs.host_path("/.orbital-init").exists(),
        "the init was copied for a refusal"
    );
}

#[test]
fn help_and_version() {
    let plain = |args: &[&str]| {
        let mut cmd = orbital();
        cmd.args(args);
        output_of(cmd)
    };

    for help in [&["--help"][..], &["-h"]] {
        let out = plain(help);
        out.assert_ok();
        assert!(out.stdout.starts_with("Usage: orbital run"), "{out:?}");
        assert!(out.stdout.contains("--version"), "{out:?}");
    }

    for help in [
        &["run", "--help"][..],
        &["run", "-h"],
        &["run", "--rootfs", "/x", "--help"],
    ] {
        let out = plain(help);
        out.assert_ok();
        assert!(out.stdout.starts_with("Usage: orbital run"), "{out:?}");
        for option in [
            "--rootfs",
            "--hostname",
            "--env",
            "--workdir",
            "--no-init",
            "--verbose",
        ] {
            assert!(
                out.stdout.contains(option),
                "run --help lacks {option}:\n{out:?}"
            );
        }
    }

    plain(&["--version"])
        .assert_ok()
        .assert_stdout(&format!("orbital {}\n", env!("CARGO_PKG_VERSION")));
}
