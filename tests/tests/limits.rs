//! Resource limits through cgroups, on this host's real cgroup v1 controllers: each test starts
//! a container with a limit, watches the container's cgroup from the host while it runs, and
//! checks that the cgroup is gone afterwards. (The cgroup v2 code paths are unit-tested against
//! a directory tree shaped like a cgroup2 mount: this host's unified hierarchy has none of the
//! controllers.)

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orbital_tests::{
    orbital, orbital_run, output_of, run, unique_token, wait_until, HostState, Rootfs, Running,
    SETTLE_TIMEOUT,
};

/// Where `controller`'s hierarchy is mounted, from this process's mountinfo.
fn hierarchy(controller: &str) -> PathBuf {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|&f| f == "-") else {
            continue;
        };
        if fields[dash + 1] == "cgroup" && fields[dash + 3].split(',').any(|o| o == controller) {
            return PathBuf::from(fields[4]);
        }
    }
    panic!("no cgroup v1 hierarchy with the {controller} controller is mounted on this host")
}

/// This process's cgroup in `controller`'s hierarchy: the parent of the containers' cgroups.
fn own_cgroup(controller: &str) -> PathBuf {
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = own
        .lines()
        .find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
            names
                .split(',')
                .any(|n| n == controller)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("no {controller} line in /proc/self/cgroup"));
    hierarchy(controller).join(path.trim_start_matches('/'))
}

/// The cgroup orbital `pid` makes for its container in `controller`'s hierarchy.
fn container_cgroup(controller: &str, pid: u32) -> PathBuf {
    own_cgroup(controller).join(format!("orbital-{pid}"))
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", dir.display()))
}

/// A number from a "name value" control file.
fn counter(dir: &Path, file: &str, name: &str) -> u64 {
    read(dir, file)
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {}/{file}", dir.display()))
}

fn wait_for_dir(dir: &Path) {
    wait_until(
        &format!("{} to appear", dir.display()),
        SETTLE_TIMEOUT,
        || dir.is_dir(),
    );
}

#[test]
fn a_fork_bomb_is_contained_by_the_pids_limit() {
    let rootfs = Rootfs::new();
    let script = "bomb() { bomb | bomb & }; bomb; sleep 2; echo survived";
    let running = Running::start(
        orbital_run(&rootfs, &["--pids-limit", "32", "sh", "-c", script]),
        None,
    );
    let cgroup = container_cgroup("pids", running.pid());
    wait_for_dir(&cgroup);
    assert_eq!(read(&cgroup, "pids.max").trim(), "32");
    // The kernel counts every fork it refused because of the limit: the bomb did hit it.
    wait_until("a fork refused by pids.max", SETTLE_TIMEOUT, || {
        counter(&cgroup, "pids.events", "max") > 0
    });
    assert!(read(&cgroup, "pids.current").trim().parse::<u64>().unwrap() <= 32);

    let out = running.wait();
    out.assert_status(0);
    assert!(out.stdout.contains("survived"), "{out:?}");
    assert!(!cgroup.exists(), "{} left behind", cgroup.display());
    assert!(
        rootfs.container_processes().is_empty(),
        "processes left behind"
    );
}

#[test]
fn a_memory_hog_is_killed_with_137_and_the_out_of_memory_message() {
    let rootfs = Rootfs::new();
    let hog = [
        "--memory",
        "32m",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=64M",
        "count=1",
    ];
    let running = Running::start(orbital_run(&rootfs, &hog), None);
    let cgroup = container_cgroup("memory", running.pid());
    let out = running.wait();

    out.assert_status(137);
    assert!(out.stderr.contains("ran out of memory"), "{out:?}");
    assert!(
        out.stderr.contains("33554432"),
        "the limit is named: {out:?}"
    );
    assert!(!cgroup.exists(), "{} left behind", cgroup.display());
}

#[test]
fn memory_within_the_limit_is_fine_and_the_limit_is_written() {
    let rootfs = Rootfs::new();
    let out = run(
        &rootfs,
        &[
            "--verbose",
            "--memory",
            "64m",
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=8M",
            "count=1",
        ],
    );
    out.assert_status(0);
    assert!(
        out.stderr.contains("memory.limit_in_bytes = 67108864"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("ran out of memory"), "{out:?}");
}

#[test]
fn half_a_cpu_is_half_a_cpu_by_the_cgroups_own_counters() {
    let rootfs = Rootfs::new();
    let busy = ["--cpus", "0.5", "sh", "-c", "while :; do :; done"];
    let running = Running::start(orbital_run(&rootfs, &busy), None);
    let cgroup = container_cgroup("cpu", running.pid());
    wait_for_dir(&cgroup);
    assert_eq!(read(&cgroup, "cpu.cfs_quota_us").trim(), "50000");
    assert_eq!(read(&cgroup, "cpu.cfs_period_us").trim(), "100000");

    // The CPU time the container used (cpuacct) against the CFS periods it ran in: a ratio
    // from the kernel's own counters, never a duration. Other tests may be using the CPUs too,
    // which can only lower it; the limit is what keeps it from going above one half.
    let accounting = container_cgroup("cpuacct", running.pid());
    wait_for_dir(&accounting);
    wait_until("30 CFS periods", Duration::from_secs(20), || {
        counter(&cgroup, "cpu.stat", "nr_periods") >= 30
    });
    let used_ns: u64 = read(&accounting, "cpuacct.usage").trim().parse().unwrap();
    let periods = counter(&cgroup, "cpu.stat", "nr_periods");
    let used = used_ns as f64 / (periods as f64 * 100_000_000.0);
    // Unlimited, the loop would use a whole CPU: 1.0.
    assert!(
        (0.1..=0.6).contains(&used),
        "used {used:.2} of each period ({periods} periods)"
    );

    running.signal("TERM");
    running.wait().assert_status(143);
    assert!(!cgroup.exists(), "{} left behind", cgroup.display());
    assert!(!accounting.exists(), "{} left behind", accounting.display());
}

#[test]
fn the_container_sees_its_own_cgroup_as_the_root() {
    let rootfs = Rootfs::new();
    let out = run(&rootfs, &["--memory", "64m", "cat", "/proc/self/cgroup"]);
    out.assert_ok();
    let memory_line = out.stdout.lines().find(|l| l.contains(":memory:")).unwrap();
    assert!(memory_line.ends_with(":memory:/"), "{out:?}");
}

#[test]
fn without_limits_no_cgroup_is_made() {
    let rootfs = Rootfs::new();
    let token = unique_token();
    let running = Running::start(orbital_run(&rootfs, &["sleep", &token]), None);
    wait_until("the container to start", SETTLE_TIMEOUT, || {
        !rootfs.processes(&[&token]).is_empty()
    });
    for controller in ["memory", "pids", "cpu"] {
        let cgroup = container_cgroup(controller, running.pid());
        assert!(
            !cgroup.exists(),
            "{} made without a limit",
            cgroup.display()
        );
    }
}

/// A cgroup parent of the test's own, so that another test's `orbital run` does not tidy away
/// the leftover this test is about. Removed at the end.
struct PrivateParent {
    name: String,
}

impl PrivateParent {
    fn new() -> PrivateParent {
        PrivateParent {
            name: format!("orbital-test-{}", unique_token()),
        }
    }

    fn dir(&self, controller: &str) -> PathBuf {
        own_cgroup(controller).join(&self.name)
    }
}

impl Drop for PrivateParent {
    fn drop(&mut self) {
        for controller in ["memory", "pids", "cpu"] {
            let _ = fs::remove_dir(self.dir(controller));
        }
    }
}

/// Starts a limited container under `parent`, SIGKILLs orbital, and returns the cgroup it
/// left, after the container's processes are gone.
fn leave_a_cgroup_behind(rootfs: &Rootfs, parent: &PrivateParent) -> PathBuf {
    let token = unique_token();
    let args = [
        "--cgroup-parent",
        &parent.name,
        "--memory",
        "64m",
        "sleep",
        &token,
    ];
    let mut running = Running::start(orbital_run(rootfs, &args), None);
    let cgroup = parent
        .dir("memory")
        .join(format!("orbital-{}", running.pid()));
    wait_for_dir(&cgroup);
    wait_until("the container to start", SETTLE_TIMEOUT, || {
        !rootfs.processes(&[&token]).is_empty()
    });
    running.kill();
    let _ = running.wait();
    rootfs.assert_no_processes(&[&token]);
    assert!(
        cgroup.is_dir(),
        "a killed orbital cannot remove its cgroup: {}",
        cgroup.display()
    );
    cgroup
}

#[test]
fn orbital_cleanup_removes_the_cgroup_of_a_killed_orbital_and_says_so() {
    let rootfs = Rootfs::new();
    let parent = PrivateParent::new();
    let cgroup = leave_a_cgroup_behind(&rootfs, &parent);

    let mut cleanup = orbital();
    cleanup.args(["cleanup", "--cgroup-parent", &parent.name]);
    let out = output_of(cleanup);
    out.assert_status(0);
    assert!(
        out.stderr
            .contains(&format!("removed leftover cgroup {}", cgroup.display())),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("cleanup removed 1 leftover cgroup"),
        "{out:?}"
    );
    assert!(!cgroup.exists());
}

#[test]
fn the_next_run_removes_the_cgroup_of_a_killed_orbital_and_says_so() {
    let rootfs = Rootfs::new();
    let parent = PrivateParent::new();
    let cgroup = leave_a_cgroup_behind(&rootfs, &parent);

    let out = run(
        &rootfs,
        &["--cgroup-parent", &parent.name, "--memory", "64m", "true"],
    );
    out.assert_status(0);
    assert!(
        out.stderr
            .contains(&format!("removed leftover cgroup {}", cgroup.display())),
        "{out:?}"
    );
    assert!(!cgroup.exists());
}

#[test]
fn bad_limit_values_are_refused_and_nothing_is_made() {
    for (args, fragment) in [
        (&["--memory", "12x"][..], "--memory 12x"),
        (&["--pids-limit", "-1"], "--pids-limit -1"),
        (&["--cpus", "0"], "--cpus 0"),
        (&["--memory-swap", "1g"], "--memory-swap"),
        (&["--cpu-shares", "1"], "--cpu-shares 1"),
        (
            &["--cgroup-parent", "../up", "--memory", "1g"],
            "--cgroup-parent ../up",
        ),
    ] {
        let rootfs = Rootfs::new();
        let host = HostState::capture();
        let running = Running::start(orbital_run(&rootfs, &[args, &["true"]].concat()), None);
        let pid = running.pid();
        running.wait().assert_error(125, &[fragment]);
        host.assert_unchanged();
        // A container's cgroup is named after its orbital: none of this one's exists.
        for controller in ["memory", "pids", "cpu"] {
            let cgroup = container_cgroup(controller, pid);
            assert!(!cgroup.exists(), "{} left behind", cgroup.display());
        }
    }
}
