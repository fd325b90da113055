//! Signals sent to orbital reach the command; orphans and zombies are reaped; a container dies
//! with orbital, even when orbital is killed outright.

use std::fs;
use std::path::Path;
use std::thread;
use std::time::Duration;

use orbital_tests::{
    assert_left_clean, orbital_run, run, unique_token, wait_until, HostState, Rootfs, Running,
    SETTLE_TIMEOUT,
};

/// Starts `orbital run ARGS...` in the background and waits until a process inside the
/// container has `token` among its arguments: the container is set up and the command runs.
fn start_until(rootfs: &Rootfs, args: &[&str], token: &str) -> Running {
    let running = Running::start(orbital_run(rootfs, args), None);
    wait_until("the container's command to start", SETTLE_TIMEOUT, || {
        count_inside(rootfs, token) > 0
    });
    running
}

/// How many processes inside the container have `token` among their arguments.
fn count_inside(rootfs: &Rootfs, token: &str) -> usize {
    let inside = rootfs.container_processes();
    inside
        .iter()
        .filter(|p| p.cmdline.iter().any(|a| a == token))
        .count()
}

/// Starts `orbital run ARGS...` in the background and waits until `file` exists on the host.
fn start_until_file(rootfs: &Rootfs, args: &[&str], file: &Path) -> Running {
    let running = Running::start(orbital_run(rootfs, args), None);
    wait_until(
        &format!("{} to appear", file.display()),
        SETTLE_TIMEOUT,
        || file.exists(),
    );
    running
}

#[test]
fn sigterm_to_orbital_ends_the_command_with_143() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let token = unique_token();

    let running = start_until(&rootfs, &["sleep", &token], &token);
    running.signal("TERM");
    // The command sleeps for years: only a forwarded signal ends it within the run's time
    // limit.
    running.wait().assert_status(143);

    assert_left_clean(&host, &rootfs, &before, &[&token]);
}

#[test]
fn other_forwarded_signals_end_the_command_with_their_number() {
    let rootfs = Rootfs::new();
    assert_not_ignored(&[("INT", 2), ("HUP", 1), ("USR2", 12), ("USR1", 10)]);

    for (signal, status) in [("INT", 130), ("HUP", 129), ("USR2", 140), ("USR1", 138)] {
        let token = unique_token();
        let running = start_until(&rootfs, &["sleep", &token], &token);
        running.signal(signal);
        let out = running.wait();
        assert_eq!(
            (out.status, out.signal),
            (status, None),
            "SIG{signal}:\n{out:?}"
        );
        rootfs.assert_no_processes(&[&token]);
    }
}

/// Panics if this process ignores one of `signals` (name, number). An ignored signal stays
/// ignored across exec, so the container's command would ignore it too, whatever orbital does;
/// a non-interactive shell ignores SIGINT in the jobs it starts with `&`.
fn assert_not_ignored(signals: &[(&str, u32)]) {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let ignored = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .expect("SigIgn in /proc/self/status");
    for (name, number) in signals {
        assert!(
            ignored & (1 << (number - 1)) == 0,
            "the tests were started with SIG{name} ignored (in the background of a \
             non-interactive shell?): run them in the foreground"
        );
    }
}

#[test]
fn sigterm_reaches_a_command_running_as_pid_1() {
    let rootfs = Rootfs::new();
    let ready = rootfs.host_path("/tmp/ready");

    // PID 1 gets no signal it has no handler for, so the shell must trap it.
    let script = "trap 'echo got TERM; exit 7' TERM; touch /tmp/ready; \
                  while :; do sleep 0.1; done";
    let running = start_until_file(&rootfs, &["--no-init", "sh", "-c", script], &ready);
    running.signal("TERM");
    running.wait().assert_status(7).assert_stdout("got TERM\n");
}

#[test]
fn sigusr1_is_forwarded_to_a_command_that_traps_it() {
    let rootfs = Rootfs::new();
    let ready = rootfs.host_path("/tmp/ready");

    let script = "trap 'echo got USR1; exit 0' USR1; touch /tmp/ready; \
                  while :; do sleep 0.1; done";
    let running = start_until_file(&rootfs, &["sh", "-c", script], &ready);
    running.signal("USR1");
    running.wait().assert_ok().assert_stdout("got USR1\n");
}

#[test]
fn a_signal_is_delivered_once() {
    let rootfs = Rootfs::new();
    let ready = rootfs.host_path("/tmp/ready");

    // The trap leaves a file per USR2 received; the shell ends when the test creates /tmp/stop.
    let script = "n=0; trap 'n=$((n+1)); touch /tmp/usr2-$n' USR2; touch /tmp/ready; \
                  while [ ! -e /tmp/stop ]; do sleep 0.1; done; echo total $n";
    let running = start_until_file(&rootfs, &["sh", "-c", script], &ready);
    running.signal("USR2");
    let first = rootfs.host_path("/tmp/usr2-1");
    wait_until("the trap to run", SETTLE_TIMEOUT, || first.exists());
    // A duplicate would come right behind the first; this wait only lets one show, it is not
    // what makes the test pass.
    thread::sleep(Duration::from_millis(300));
    fs::write(rootfs.host_path("/tmp/stop"), "").unwrap();
    running.wait().assert_ok().assert_stdout("total 1\n");
}

#[test]
fn orphans_are_reaped_and_no_zombie_stays() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();

    // Each `( sleep 0.1 & )` leaves an orphan that PID 1 inherits. Once they exited, nothing in
    // the container may be a zombie or a sleep. A broken reaper leaves zombies for good, so
    // waiting up to 10 s for them to go away cannot hide one.
    let script = r#"
        for i in $(seq 40); do ( sleep 0.1 & ); done
        tries=0
        while :; do
            s=$(cat /proc/[0-9]*/status 2>/dev/null)
            zombies=$(echo "$s" | grep -c zombie)
            sleeps=$(echo "$s" | grep -c '^Name:.sleep$')
            [ "$zombies" = 0 ] && [ "$sleeps" = 0 ] && break
            tries=$((tries + 1))
            if [ $tries -ge 100 ]; then
                echo "zombies=$zombies sleeps=$sleeps"; ps -o stat,pid,ppid,comm; exit 1
            fi
            sleep 0.1
        done
        ps -o stat,pid,comm
    "#;
    let out = run(&rootfs, &["sh", "-c", script]);
    out.assert_ok();
    let states: Vec<&str> = out
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        !states.iter().any(|s| s.starts_with('Z')),
        "zombies inside:\n{out:?}"
    );
    assert_eq!(
        states.len(),
        3,
        "only init, sh and ps should be left:\n{out:?}"
    );

    assert_left_clean(&host, &rootfs, &before, &[]);
}

#[test]
fn orphans_still_running_die_with_the_command() {
    let rootfs = Rootfs::new();
    let token = unique_token();

    // The background sleep outlives the shell; the container ends with the shell all the same,
    // and the run ends only when the sleep, which holds stdout, is gone.
    let script = format!("( sleep {token} & ); sleep {token} & exit 5");
    run(&rootfs, &["sh", "-c", &script]).assert_status(5);

    rootfs.assert_no_processes(&[&token]);
}

#[test]
fn sigkill_of_orbital_ends_the_whole_container() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let token = unique_token();

    let mut running = start_until(&rootfs, &["sleep", &token], &token);
    // The leftover check below finds container processes by their root directory; it must see
    // these two while they run, or its silence afterwards would prove nothing.
    let inside: Vec<String> = rootfs.processes(&[]).into_iter().map(|p| p.comm).collect();
    for comm in ["orbital", "orbital-init", "sleep"] {
        assert!(
            inside.iter().any(|c| c == comm),
            "{comm} not found, only {inside:?}"
        );
    }
    running.kill();
    running.wait().assert_killed_by(9);

    assert_left_clean(&host, &rootfs, &before, &[&token]);
}

#[test]
fn sigkill_of_orbital_ends_a_container_without_init() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let before = rootfs.listing();
    let token = unique_token();

    let script = format!("sleep {token} & sleep {token}; exit 0");
    let mut running = start_until(&rootfs, &["--no-init", "sh", "-c", &script], &token);
    running.kill();
    running.wait().assert_killed_by(9);

    assert_left_clean(&host, &rootfs, &before, &[&token]);
}

#[test]
fn sigkill_of_orbital_ends_orphans_of_the_command() {
    let rootfs = Rootfs::new();
    let host = HostState::capture();
    let token = unique_token();

    let script = format!("( sleep {token} & ); ( sleep {token} & ); sleep {token}");
    let mut running = start_until(&rootfs, &["sh", "-c", &script], &token);
    wait_until("three sleeps", SETTLE_TIMEOUT, || {
        count_inside(&rootfs, &token) == 3
    });
    running.kill();
    running.wait().assert_killed_by(9);

    rootfs.assert_no_processes(&[&token]);
    host.assert_unchanged();
}
