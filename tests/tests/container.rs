//! What a command sees inside a container, and what a normal run leaves on the host.

use std::fs;

use orbital_tests::{
    assert_left_clean, orbital, orbital_run, output_of, output_with_stdin, run, HostState, Rootfs,
};

/// Docker's default search path, which the container gets unless told otherwise.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `(pid, command)` rows of busybox `ps` output, header left out.
fn ps_rows(stdout: &str) -> Vec<(u32, String)> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let pid = fields[0]
                .parse()
                .unwrap_or_else(|_| panic!("no pid in ps row {line:?}"));
            (pid, fields.last().unwrap().to_string())
        })
        .collect()
}

fn rows(expected: &[(u32, &str)]) -> Vec<(u32, String)> {
    expected
        .iter()
        .map(|(pid, comm)| (*pid, comm.to_string()))
        .collect()
}

#[test]
fn hostname_defaults_to_orbital_container_and_the_host_keeps_its_own() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    run(&rootfs, &["hostname"])
        .assert_ok()
        .assert_stdout("orbital-container\n");

    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn hostname_option_names_the_container() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();

    run(&rootfs, &["--hostname", "foo", "hostname"])
        .assert_ok()
        .assert_stdout("foo\n");
    // The limit is inclusive: a name of exactly 64 bytes is accepted.
    let longest = "h".repeat(64);
    run(&rootfs, &["--hostname", &longest, "hostname"])
        .assert_ok()
        .assert_stdout(&format!("{longest}\n"));

    host.assert_unchanged();
}

#[test]
fn init_is_pid_1_and_the_command_pid_2_with_nothing_else_running() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["ps"]);
    out.assert_ok();
    assert_eq!(
        ps_rows(&out.stdout),
        rows(&[(1, "orbital-init"), (2, "ps")]),
        "{out:?}"
    );

    // `exit` keeps the shell from exec'ing ps in its place, so the shell stays pid 2.
    let out = run(&rootfs, &["sh", "-c", "ps -o pid,comm; exit 0"]);
    out.assert_ok();
    assert_eq!(
        ps_rows(&out.stdout),
        rows(&[(1, "orbital-init"), (2, "sh"), (3, "ps")])
    );

    run(&rootfs, &["cat", "/proc/1/cmdline"])
        .assert_ok()
        .assert_stdout("orbital-init\0");
}

#[test]
fn without_init_the_command_is_pid_1() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["--no-init", "sh", "-c", "echo $$"])
        .assert_ok()
        .assert_stdout("1\n");

    let out = run(&rootfs, &["--no-init", "ps"]);
    out.assert_ok();
    assert_eq!(ps_rows(&out.stdout), rows(&[(1, "ps")]), "{out:?}");
}

#[test]
fn root_directory_is_the_rootfs_and_host_paths_are_absent() {
    let rootfs = Rootfs::new();
    // A file that exists on the host, outside the rootfs: this very crate's manifest.
    let host_only = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    assert!(
        fs::metadata(host_only).is_ok(),
        "{host_only} should exist on the host"
    );

    let out = run(&rootfs, &["ls", "-A", "/"]);
    out.assert_ok();
    let inside: Vec<&str> = out.stdout.lines().collect();
    let mut expected: Vec<String> = fs::read_dir(rootfs.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    expected.sort();
    assert_eq!(
        inside, expected,
        "`ls -A /` inside differs from the rootfs on the host"
    );
    assert!(
        !inside.contains(&"work"),
        "a host directory is visible: {inside:?}"
    );

    let out = run(&rootfs, &["test", "-e", host_only]);
    out.assert_status(1);
    // Going up from the root stays at the root.
    let out = run(&rootfs, &["ls", "-A", "/../../.."]);
    out.assert_ok();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn proc_is_mounted_for_the_container_and_the_old_root_is_gone() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["cat", "/proc/self/mountinfo"]);
    out.assert_ok();
    let mut points: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .collect();
    points.sort();
    // The root, and the kernel filesystems orbital mounts (/proc with its masks, the minimal
    // /dev, /sys): any other mount point would be a piece of the host's tree left reachable.
    for point in &points {
        let expected = *point == "/"
            || ["/proc", "/dev", "/sys"]
                .iter()
                .any(|top| point == top || point.starts_with(&format!("{top}/")));
        assert!(expected, "unexpected mount point {point}:\n{out:?}");
    }
    for required in ["/", "/proc", "/dev", "/dev/pts", "/sys"] {
        assert!(points.contains(&required), "no {required} mount:\n{out:?}");
    }

    run(&rootfs, &["grep", "-c", " /proc proc ", "/proc/mounts"])
        .assert_ok()
        .assert_stdout("1\n");
}

#[test]
fn exit_status_is_the_commands() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["true"]).assert_ok();
    run(&rootfs, &["false"]).assert_status(1);
    run(&rootfs, &["sh", "-c", "exit 3"]).assert_status(3);
    run(&rootfs, &["sh", "-c", "exit 255"]).assert_status(255);
    run(&rootfs, &["--no-init", "sh", "-c", "exit 3"]).assert_status(3);
}

#[test]
fn a_command_killed_by_a_signal_gives_128_plus_the_signal() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["sh", "-c", "kill -KILL $$"]).assert_status(137);
    run(&rootfs, &["sh", "-c", "kill -TERM $$"]).assert_status(143);
    run(&rootfs, &["sh", "-c", "kill -USR1 $$"]).assert_status(138);
}

#[test]
fn default_environment_is_path_hostname_home() {
    let rootfs = Rootfs::new();

    let expected = format!("PATH={DEFAULT_PATH}\nHOSTNAME=orbital-container\nHOME=/root\n");
    run(&rootfs, &["env"]).assert_ok().assert_stdout(&expected);
    let expected = format!("PATH={DEFAULT_PATH}\nHOSTNAME=box\nHOME=/root\n");
    run(&rootfs, &["--hostname", "box", "env"])
        .assert_ok()
        .assert_stdout(&expected);
}

#[test]
fn env_options_add_variables_in_order() {
    let rootfs = Rootfs::new();
    let mut cmd = orbital_run(
        &rootfs,
        &[
            "-e",
            "A=1",
            "--env",
            "B=two words",
            "-e",
            "C=x=y",
            "-e",
            "ORBITAL_TEST_FROM_HOST",
            "-e",
            "ORBITAL_TEST_UNSET",
            "-e",
            "EMPTY=",
            "env",
        ],
    );
    cmd.env("ORBITAL_TEST_FROM_HOST", "host value")
        .env_remove("ORBITAL_TEST_UNSET");

    // The defaults come first, then the options in the order given; an unset KEY is left out.
    let expected = format!(
        "PATH={DEFAULT_PATH}\nHOSTNAME=orbital-container\nHOME=/root\n\
         A=1\nB=two words\nC=x=y\nORBITAL_TEST_FROM_HOST=host value\nEMPTY=\n"
    );
    output_of(cmd).assert_ok().assert_stdout(&expected);
}

#[test]
fn the_hosts_environment_does_not_leak_in() {
    let rootfs = Rootfs::new();
    let mut cmd = orbital_run(&rootfs, &["env"]);
    cmd.env("ORBITAL_TEST_SECRET", "host only");

    let out = output_of(cmd);
    out.assert_ok();
    assert!(!out.stdout.contains("ORBITAL_TEST_SECRET"), "{out:?}");
}

#[test]
fn workdir_sets_the_working_directory() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["pwd"]).assert_ok().assert_stdout("/\n");
    run(&rootfs, &["-w", "/tmp", "pwd"])
        .assert_ok()
        .assert_stdout("/tmp\n");
    run(&rootfs, &["--workdir", "/etc", "cat", "group"]).assert_ok();
    run(&rootfs, &["-w", "/tmp", "readlink", "/proc/self/cwd"])
        .assert_ok()
        .assert_stdout("/tmp\n");
}

#[test]
fn stdin_reaches_the_command() {
    let rootfs = Rootfs::new();

    let out = output_with_stdin(orbital_run(&rootfs, &["cat"]), b"hi\n");
    out.assert_ok().assert_stdout("hi\n");
    let out = output_with_stdin(
        orbital_run(&rootfs, &["--no-init", "wc", "-l"]),
        b"1\n2\n3\n",
    );
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "3", "{out:?}");
}

#[test]
fn rootfs_defaults_to_orbital_rootfs_from_the_environment() {
    let rootfs = Rootfs::new();
    let mut cmd = orbital();
    cmd.env("ORBITAL_ROOTFS", rootfs.arg())
        .args(["run", "hostname"]);

    output_of(cmd)
        .assert_ok()
        .assert_stdout("orbital-container\n");
}

#[test]
fn arguments_after_double_dash_belong_to_the_command() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["--", "echo", "--hostname", "-e"])
        .assert_ok()
        .assert_stdout("--hostname -e\n");
    run(&rootfs, &["echo", "--verbose"])
        .assert_ok()
        .assert_stdout("--verbose\n");
}

#[test]
fn a_normal_run_leaves_the_host_and_rootfs_as_they_were() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    // The container is given the privilege to mount and rename itself, so that the test shows
    // that even then nothing of it reaches the host.
    run(
        &rootfs,
        &[
            "--cap-add",
            "SYS_ADMIN",
            "--seccomp",
            "unconfined",
            "sh",
            "-c",
            "mount -t tmpfs tmpfs /tmp && hostname changed && echo ok",
        ],
    )
    .assert_ok()
    .assert_stdout("ok\n");

    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn verbose_prints_the_setup_steps_on_stderr() {
    let rootfs = Rootfs::new();

    let out = run(&rootfs, &["--verbose", "echo", "hello"]);
    out.assert_status(0).assert_stdout("hello\n");
    assert_steps_logged(&out.stderr);

    let mut cmd = orbital_run(&rootfs, &["true"]);
    cmd.env("ORBITAL_LOG", "debug");
    let out = output_of(cmd);
    out.assert_status(0);
    assert_steps_logged(&out.stderr);
}

fn assert_steps_logged(stderr: &str) {
    for line in stderr.lines() {
        assert!(
            line.starts_with("orbital: ") || line.starts_with("orbital-init: "),
            "log line without a program prefix: {line:?} in\n{stderr}"
        );
    }
    for step in ["backend", "namespaces", "pid", "pivot_root", "proc"] {
        assert!(stderr.contains(step), "no {step:?} step logged:\n{stderr}");
    }
    assert!(
        stderr.lines().any(|l| l.starts_with("orbital-init: ")),
        "init logged nothing"
    );
}

#[test]
fn a_quiet_run_prints_nothing_on_stderr() {
    let rootfs = Rootfs::new();

    run(&rootfs, &["echo", "hello"])
        .assert_ok()
        .assert_stdout("hello\n");
    run(&rootfs, &["--no-init", "true"]).assert_ok();
}
