//! Resource limits through cgroups, on the unified hierarchy (v2) and on the per-controller
//! hierarchies of v1, which hybrid hosts still use for the controllers that matter here.
//!
//! One cgroup is made per container, per controller that a limit needs: on v1 in the
//! controller's own hierarchy, on v2 once, with the controllers enabled in its parent. orbital
//! puts orbital-init into it before sending the configuration, so the command never runs
//! unlimited, and removes it when the container has ended. A cgroup left by an orbital that
//! was killed is removed by the next run that makes one, and by `orbital cleanup`.

use alloc::ffi::CString;
use alloc::vec::Vec;

use orbital_rt::out::{parse_decimal, Level, Line, Log};
use orbital_rt::{sys, Error, Result};

pub use crate::values::Limits;

/// Length of a CFS period, as Docker uses: quotas are given per 100 ms.
pub const CPU_PERIOD_US: u64 = 100_000;
/// Name of each container's cgroup: this prefix, then orbital's pid.
const GROUP_PREFIX: &[u8] = b"orbital-";
/// Largest control file read (mountinfo, cgroup lists).
const FILE_MAX_BYTES: usize = 1024 * 1024;

/// Which hierarchy a controller lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// A v1 hierarchy of its own.
    V1,
    /// The unified hierarchy.
    V2,
}

/// The cgroup filesystems of this host, as /proc/self/mountinfo and /proc/self/cgroup say.
#[derive(Debug, Default, Clone)]
pub struct Host {
    /// Mount point of the unified hierarchy, if mounted.
    pub v2_mount: Option<Vec<u8>>,
    /// orbital's own cgroup in the unified hierarchy.
    pub v2_own: Vec<u8>,
    /// v1 hierarchies: their controllers, mount point and orbital's own cgroup in each.
    pub v1: Vec<V1Hierarchy>,
}

/// One v1 hierarchy.
#[derive(Debug, Clone)]
pub struct V1Hierarchy {
    /// Controllers bound to it.
    pub controllers: Vec<Vec<u8>>,
    /// Where it is mounted.
    pub mount: Vec<u8>,
    /// orbital's cgroup in it.
    pub own: Vec<u8>,
}

impl Host {
    /// Reads this process's view of the cgroup filesystems.
    pub fn detect() -> Result<Host> {
        let mountinfo = sys::read_file(c"/proc/self/mountinfo", FILE_MAX_BYTES)?;
        let own = sys::read_file(c"/proc/self/cgroup", FILE_MAX_BYTES)?;
        Ok(Host::parse(&mountinfo, &own))
    }

    /// Builds the view from the text of mountinfo and /proc/self/cgroup.
    pub fn parse(mountinfo: &[u8], own: &[u8]) -> Host {
        let mut host = Host::default();
        for line in mountinfo.split(|&b| b == b'\n') {
            let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
            // Optional fields end at a lone "-"; then come the type, source and options.
            let Some(dash) = fields.iter().position(|&f| f == b"-") else {
                continue;
            };
            let (Some(&point), Some(&fstype), Some(&options)) =
                (fields.get(4), fields.get(dash + 1), fields.get(dash + 3))
            else {
                continue;
            };
            match fstype {
                b"cgroup2" if host.v2_mount.is_none() => host.v2_mount = Some(point.to_vec()),
                b"cgroup" => host.v1.push(V1Hierarchy {
                    controllers: options
                        .split(|&b| b == b',')
                        .filter(|o| *o != b"rw" && *o != b"ro" && !o.contains(&b'='))
                        .map(<[u8]>::to_vec)
                        .collect(),
                    mount: point.to_vec(),
                    own: Vec::new(),
                }),
                _ => {}
            }
        }
        // /proc/self/cgroup: "id:controllers:path", id 0 with no controllers for v2.
        for line in own.split(|&b| b == b'\n') {
            let mut parts = line.splitn(3, |&b| b == b':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if controllers.is_empty() {
                host.v2_own = path.to_vec();
                continue;
            }
            for hierarchy in &mut host.v1 {
                let names: Vec<&[u8]> = controllers.split(|&b| b == b',').collect();
                if hierarchy
                    .controllers
                    .iter()
                    .any(|c| names.contains(&c.as_slice()))
                {
                    hierarchy.own = path.to_vec();
                }
            }
        }
        host
    }

    /// Where `controller` lives: a v1 hierarchy that has it, or else the unified hierarchy if
    /// its root offers it.
    fn locate(&self, controller: &'static [u8]) -> Option<Placement> {
        let placement = |version, mount: &[u8], own: &[u8]| Placement {
            controller,
            version,
            mount: mount.to_vec(),
            own: own.to_vec(),
        };
        if let Some(h) = self
            .v1
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
        {
            return Some(placement(Version::V1, &h.mount, &h.own));
        }
        let mount = self.v2_mount.as_ref()?;
        let available = sys::read_file(&join(&[mount, b"/cgroup.controllers"]), 4096).ok()?;
        available
            .split(|&b| b == b' ' || b == b'\n')
            .any(|c| c == controller)
            .then(|| placement(Version::V2, mount, &self.v2_own))
    }
}

/// Where a controller lives on this host.
struct Placement {
    controller: &'static [u8],
    version: Version,
    /// Mount point of its hierarchy.
    mount: Vec<u8>,
    /// orbital's own cgroup in that hierarchy.
    own: Vec<u8>,
}

/// A file to write in a container's cgroup: its name and value.
#[derive(Debug, PartialEq, Eq)]
pub struct Setting {
    /// The controller that must be present.
    pub controller: &'static [u8],
    /// The control file.
    pub file: &'static str,
    /// What is written.
    pub value: Vec<u8>,
    /// The option that asked for it, for errors.
    pub option: &'static str,
}

fn decimal(n: u64) -> Vec<u8> {
    let mut line = Line::new();
    line.push_u64(n);
    line.as_bytes().to_vec()
}

/// v2 CPU weight for v1 shares, the mapping runc and crun use.
pub fn weight_for_shares(shares: u64) -> u64 {
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

/// v1 shares for a v2 CPU weight, the inverse mapping.
pub fn shares_for_weight(weight: u64) -> u64 {
    2 + (weight.clamp(1, 10_000) - 1) * 262_142 / 9999
}

/// The control files and values that express `limits` on `version`.
pub fn settings(limits: &Limits, version_of: impl Fn(&[u8]) -> Version) -> Vec<Setting> {
    let mut out = Vec::new();
    let mut set = |controller, file, value, option| {
        out.push(Setting {
            controller,
            file,
            value,
            option,
        });
    };
    if let Some(memory) = limits.memory {
        match version_of(b"memory") {
            Version::V1 => {
                set(
                    &b"memory"[..],
                    "memory.limit_in_bytes",
                    decimal(memory),
                    "--memory",
                );
                if let Some(swap) = limits.memory_swap {
                    let value = if swap == u64::MAX {
                        b"-1".to_vec()
                    } else {
                        decimal(swap)
                    };
                    set(
                        b"memory",
                        "memory.memsw.limit_in_bytes",
                        value,
                        "--memory-swap",
                    );
                }
            }
            Version::V2 => {
                set(b"memory", "memory.max", decimal(memory), "--memory");
                if let Some(swap) = limits.memory_swap {
                    let value = match swap {
                        u64::MAX => b"max".to_vec(),
                        total => decimal(total.saturating_sub(memory)),
                    };
                    set(b"memory", "memory.swap.max", value, "--memory-swap");
                }
            }
        }
    }
    if let Some(pids) = limits.pids {
        set(b"pids", "pids.max", decimal(pids), "--pids-limit");
    }
    let cpu = version_of(b"cpu");
    if let Some(milli) = limits.cpus_milli {
        let quota = milli * CPU_PERIOD_US / 1000;
        match cpu {
            Version::V1 => {
                set(
                    b"cpu",
                    "cpu.cfs_period_us",
                    decimal(CPU_PERIOD_US),
                    "--cpus",
                );
                set(b"cpu", "cpu.cfs_quota_us", decimal(quota), "--cpus");
            }
            Version::V2 => {
                let mut value = decimal(quota);
                value.push(b' ');
                value.extend_from_slice(&decimal(CPU_PERIOD_US));
                set(b"cpu", "cpu.max", value, "--cpus");
            }
        }
    }
    let shares = limits
        .cpu_shares
        .or(limits.cpu_weight.map(shares_for_weight));
    let weight = limits
        .cpu_weight
        .or(limits.cpu_shares.map(weight_for_shares));
    match (cpu, shares, weight) {
        (Version::V1, Some(shares), _) => {
            set(b"cpu", "cpu.shares", decimal(shares), "--cpu-shares")
        }
        (Version::V2, _, Some(weight)) => {
            set(b"cpu", "cpu.weight", decimal(weight), "--cpu-weight")
        }
        _ => {}
    }
    out
}

fn join(parts: &[&[u8]]) -> CString {
    let mut path = Vec::new();
    for part in parts {
        path.extend_from_slice(part);
    }
    // Paths come from the kernel's own files and checked options, which hold no NUL.
    CString::new(path).unwrap_or_default()
}

/// A container's cgroup, in each hierarchy it needed.
pub struct Cgroup {
    /// The directories made, with the hierarchy version of each.
    dirs: Vec<(Version, CString)>,
}

impl Cgroup {
    /// Makes the container's cgroup for `limits` and writes them, or says which limit cannot
    /// be applied. Nothing is made when no limit is asked for.
    pub fn create(limits: &Limits, log: &Log) -> Result<Option<Cgroup>> {
        if !limits.any() {
            return Ok(None);
        }
        Cgroup::create_on(&Host::detect()?, limits, log).map(Some)
    }

    /// As [`Cgroup::create`], on the hierarchies `host` describes.
    pub fn create_on(host: &Host, limits: &Limits, log: &Log) -> Result<Cgroup> {
        let mut cgroup = Cgroup { dirs: Vec::new() };
        match cgroup.populate(host, limits, log) {
            Ok(()) => Ok(cgroup),
            // Nothing half-made stays behind.
            Err(err) => {
                cgroup.remove(log);
                Err(err)
            }
        }
    }

    fn populate(&mut self, host: &Host, limits: &Limits, log: &Log) -> Result<()> {
        let found: Vec<Placement> = [&b"memory"[..], b"pids", b"cpu"]
            .into_iter()
            .filter_map(|c| host.locate(c))
            .collect();
        let version_of = |controller: &[u8]| {
            found
                .iter()
                .find(|f| f.controller == controller)
                .map_or(Version::V2, |f| f.version)
        };
        let wanted = settings(limits, version_of);

        for setting in &wanted {
            let Some(place) = found.iter().find(|f| f.controller == setting.controller) else {
                return Err(Error::refused(
                    setting.option,
                    b"",
                    "no cgroup hierarchy offers the controller this limit needs; mount it \
                     (cgroup v1) or enable it in cgroup.subtree_control (cgroup v2)",
                ));
            };
            let parent = parent_dir(&place.mount, &place.own, limits.parent.as_deref());
            let dir = self.enter(place.version, &parent, setting.controller, log)?;
            let file = join(&[dir.as_bytes(), b"/", setting.file.as_bytes()]);
            sys::write_file(&file, &setting.value).map_err(|mut err| {
                err.op = setting.option;
                err
            })?;
            if let Some(mut line) = log.line(Level::Debug) {
                line.push("cgroup ").push_bytes(file.as_bytes()).push(" = ");
                line.push_bytes(&setting.value).print();
            }
        }
        // On v1 the CPU time a container used is counted by cpuacct, a hierarchy of its own on
        // hosts that do not mount it with cpu: join it too, so that a CPU limit can be checked
        // against what was used. Nothing is written there, and a host without it is fine.
        let cpu_on_v1 =
            wanted.iter().any(|s| s.controller == b"cpu") && version_of(b"cpu") == Version::V1;
        let accounting = host
            .v1
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == b"cpuacct"));
        if let (true, Some(h)) = (cpu_on_v1, accounting) {
            let parent = parent_dir(&h.mount, &h.own, limits.parent.as_deref());
            self.enter(Version::V1, &parent, b"cpuacct", log)?;
        }
        Ok(())
    }

    /// The container's cgroup under `parent`, made the first time a controller needs it; on
    /// v2, `controller` is enabled for it each time.
    fn enter(
        &mut self,
        version: Version,
        parent: &[u8],
        controller: &[u8],
        log: &Log,
    ) -> Result<CString> {
        let dir = group_dir(parent);
        let new = !self.dirs.iter().any(|(_, d)| *d == dir);
        prepare_parent(version, parent, controller, new, log)?;
        if new {
            make_group(&dir, log)?;
            self.dirs.push((version, dir.clone()));
        }
        Ok(dir)
    }

    /// Moves `pid` (orbital-init, before it starts the command) into the cgroup.
    pub fn add(&self, pid: i32) -> Result<()> {
        for (_, dir) in &self.dirs {
            let file = join(&[dir.as_bytes(), b"/cgroup.procs"]);
            sys::write_file(&file, &decimal(pid as u64))?;
        }
        Ok(())
    }

    /// How many processes the kernel's OOM killer ended in the cgroup, from its own counter.
    pub fn oom_kills(&self) -> u64 {
        let mut kills = 0;
        for (version, dir) in &self.dirs {
            let name: &[u8] = match version {
                Version::V1 => b"/memory.oom_control",
                Version::V2 => b"/memory.events",
            };
            if let Ok(text) = sys::read_file(&join(&[dir.as_bytes(), name]), 4096) {
                kills += counter(&text, b"oom_kill").unwrap_or(0);
            }
        }
        kills
    }

    /// Removes the cgroup. The container's processes are gone once its init is reaped (a PID
    /// namespace's init exits only after all its processes), so the directories are empty.
    pub fn remove(&mut self, log: &Log) {
        for (_, dir) in self.dirs.drain(..).rev() {
            if let Err(err) = sys::unlink_at(libc::AT_FDCWD, &dir, libc::AT_REMOVEDIR) {
                let mut line = Line::new();
                line.push("orbital: cannot remove cgroup: ")
                    .push_error(&err)
                    .print();
            } else if let Some(mut line) = log.line(Level::Debug) {
                line.push("removed cgroup ")
                    .push_bytes(dir.as_bytes())
                    .print();
            }
        }
    }
}

/// The value of `name` in a flat-keyed control file ("name value" lines).
pub fn counter(text: &[u8], name: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n')
        .find_map(|line| parse_decimal(line.strip_prefix(name)?.strip_prefix(b" ")?))
}

/// The directory under which containers' cgroups go.
fn parent_dir(mount: &[u8], own: &[u8], parent: Option<&[u8]>) -> Vec<u8> {
    let mut dir = mount.to_vec();
    match parent {
        Some(p) if p.starts_with(b"/") => dir.extend_from_slice(p),
        Some(p) => {
            dir.extend_from_slice(own);
            dir.push(b'/');
            dir.extend_from_slice(p);
        }
        None => dir.extend_from_slice(own),
    }
    while dir.len() > 1 && dir.ends_with(b"/") {
        dir.pop();
    }
    dir
}

fn group_dir(parent: &[u8]) -> CString {
    join(&[parent, b"/", GROUP_PREFIX, &decimal(sys::getpid() as u64)])
}

/// Makes sure the parent exists (the first time, `first`, also clearing leftovers of killed
/// orbitals from it) and, on v2, hands `controller` down to its children.
fn prepare_parent(
    version: Version,
    parent: &[u8],
    controller: &[u8],
    first: bool,
    log: &Log,
) -> Result<()> {
    if first {
        match sys::mkdir_at(libc::AT_FDCWD, &join(&[parent]), 0o755) {
            Err(err) if err.errno_value() != Some(libc::EEXIST) => return Err(err),
            _ => {}
        }
        remove_leftovers(parent, log);
    }
    if version == Version::V2 {
        let control = join(&[parent, b"/cgroup.subtree_control"]);
        let enabled = sys::read_file(&control, 4096).unwrap_or_default();
        if !enabled
            .split(|&b| b == b' ' || b == b'\n')
            .any(|c| c == controller)
        {
            let mut request = b"+".to_vec();
            request.extend_from_slice(controller);
            sys::write_file(&control, &request).map_err(|mut err| {
                err.op = "enable the controller (delegate it, or choose --cgroup-parent) in";
                err
            })?;
        }
    }
    Ok(())
}

fn make_group(dir: &CString, log: &Log) -> Result<()> {
    match sys::mkdir_at(libc::AT_FDCWD, dir, 0o755) {
        // A cgroup of a dead orbital with the same pid: reuse it, its limits are rewritten.
        Err(err) if err.errno_value() == Some(libc::EEXIST) => Ok(()),
        Err(err) => Err(err),
        Ok(()) => {
            if let Some(mut line) = log.line(Level::Debug) {
                line.push("made cgroup ").push_bytes(dir.as_bytes()).print();
            }
            Ok(())
        }
    }
}

/// Removes the cgroups under `parent` whose orbital is gone, and says so. A cgroup that still
/// holds processes is left alone (rmdir refuses it).
pub fn remove_leftovers(parent: &[u8], log: &Log) -> usize {
    let Ok(names) = sys::read_dir(&join(&[parent])) else {
        return 0;
    };
    let mut removed = 0;
    for name in names {
        let Some(pid) = name.strip_prefix(GROUP_PREFIX).and_then(pid_of) else {
            continue;
        };
        // Signal 0 checks for existence without sending anything.
        if pid == sys::getpid() || sys::kill(pid, 0).is_ok() {
            continue;
        }
        let dir = join(&[parent, b"/", &name]);
        if sys::unlink_at(libc::AT_FDCWD, &dir, libc::AT_REMOVEDIR).is_ok() {
            removed += 1;
            let mut line = Line::new();
            line.push(log.prefix)
                .push(": removed leftover cgroup ")
                .push_bytes(dir.as_bytes());
            line.print();
        }
    }
    removed
}

fn pid_of(digits: &[u8]) -> Option<i32> {
    parse_decimal(digits).and_then(|n| i32::try_from(n).ok())
}

/// `orbital cleanup`: removes leftover cgroups under orbital's own cgroup (or `parent`) in
/// every hierarchy; returns how many.
pub fn cleanup(parent: Option<&[u8]>, log: &Log) -> Result<usize> {
    let host = Host::detect()?;
    let mut removed = 0;
    let mut parents: Vec<Vec<u8>> = host
        .v1
        .iter()
        .map(|h| parent_dir(&h.mount, &h.own, parent))
        .collect();
    if let Some(mount) = &host.v2_mount {
        parents.push(parent_dir(mount, &host.v2_own, parent));
    }
    for dir in parents {
        removed += remove_leftovers(&dir, log);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use orbital_rt::out::Level;
    use std::fs;
    use std::path::PathBuf;

    const MOUNTINFO: &[u8] = b"\
25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
34 30 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const OWN: &[u8] = b"9:name=systemd:/\n8:pids:/\n4:memory:/jobs/a\n1:cpu:/\n0::/\n";

    fn quiet() -> Log {
        Log {
            prefix: "orbital",
            level: Level::Quiet,
        }
    }

    #[test]
    fn hybrid_hosts_are_read_from_mountinfo_and_proc_self_cgroup() {
        let host = Host::parse(MOUNTINFO, OWN);
        assert_eq!(
            host.v2_mount.as_deref(),
            Some(&b"/sys/fs/cgroup/unified"[..])
        );
        let memory = host
            .v1
            .iter()
            .find(|h| h.controllers == [b"memory".to_vec()])
            .unwrap();
        assert_eq!(
            (memory.mount.as_slice(), memory.own.as_slice()),
            (&b"/sys/fs/cgroup/memory"[..], &b"/jobs/a"[..])
        );
        let named = host
            .v1
            .iter()
            .find(|h| h.mount.ends_with(b"systemd"))
            .unwrap();
        assert!(named.controllers.is_empty(), "name= is not a controller");
    }

    #[test]
    fn limits_become_v1_and_v2_files() {
        let limits = Limits {
            memory: Some(32 << 20),
            memory_swap: Some(64 << 20),
            pids: Some(32),
            cpus_milli: Some(500),
            cpu_shares: Some(512),
            ..Limits::default()
        };
        let files = |v| -> Vec<(&str, Vec<u8>)> {
            settings(&limits, |_| v)
                .into_iter()
                .map(|s| (s.file, s.value))
                .collect()
        };
        assert_eq!(
            files(Version::V1),
            vec![
                ("memory.limit_in_bytes", b"33554432".to_vec()),
                ("memory.memsw.limit_in_bytes", b"67108864".to_vec()),
                ("pids.max", b"32".to_vec()),
                ("cpu.cfs_period_us", b"100000".to_vec()),
                ("cpu.cfs_quota_us", b"50000".to_vec()),
                ("cpu.shares", b"512".to_vec()),
            ]
        );
        assert_eq!(
            files(Version::V2),
            vec![
                ("memory.max", b"33554432".to_vec()),
                ("memory.swap.max", b"33554432".to_vec()),
                ("pids.max", b"32".to_vec()),
                ("cpu.max", b"50000 100000".to_vec()),
                ("cpu.weight", decimal(weight_for_shares(512))),
            ]
        );
    }

    #[test]
    fn shares_and_weights_map_both_ways() {
        assert_eq!(weight_for_shares(2), 1);
        assert_eq!(weight_for_shares(262_144), 10_000);
        assert_eq!(shares_for_weight(1), 2);
        assert_eq!(shares_for_weight(10_000), 262_144);
        assert_eq!(weight_for_shares(1024), 39);
    }

    #[test]
    fn counters_are_read_by_name() {
        let text = b"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(counter(text, b"oom_kill"), Some(3));
        assert_eq!(counter(b"oom 1\noom_kill 7\n", b"oom_kill"), Some(7));
        assert_eq!(counter(text, b"missing"), None);
    }

    struct Tree(PathBuf);

    impl Tree {
        fn new(label: &str) -> Tree {
            let path =
                std::env::temp_dir().join(format!("orbital-cg-{}-{label}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            Tree(path)
        }

        fn bytes(&self) -> Vec<u8> {
            self.0.as_os_str().as_encoded_bytes().to_vec()
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The v2 code path, on a directory tree shaped like a cgroup2 mount: the kernel would make
    /// the control files itself, so the test makes them beforehand.
    #[test]
    fn v2_cgroup_is_made_under_the_parent_with_controllers_enabled() {
        let tree = Tree::new("v2");
        fs::write(tree.0.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        fs::write(tree.0.join("cgroup.subtree_control"), "").unwrap();
        let group = tree
            .0
            .join("jobs")
            .join(format!("orbital-{}", std::process::id()));
        fs::create_dir_all(&group).unwrap();
        for file in [
            "memory.max",
            "pids.max",
            "cpu.max",
            "cgroup.procs",
            "memory.events",
        ] {
            fs::write(group.join(file), "").unwrap();
        }
        fs::write(tree.0.join("jobs/cgroup.subtree_control"), "").unwrap();
        let host = Host {
            v2_mount: Some(tree.bytes()),
            v2_own: b"/".to_vec(),
            v1: Vec::new(),
        };
        let limits = Limits {
            memory: Some(1 << 20),
            pids: Some(5),
            cpus_milli: Some(1500),
            parent: Some(b"jobs".to_vec()),
            ..Limits::default()
        };

        let cgroup = Cgroup::create_on(&host, &limits, &quiet()).unwrap();
        cgroup.add(4242).unwrap();

        let read = |file: &str| fs::read_to_string(group.join(file)).unwrap();
        assert_eq!(read("memory.max"), "1048576");
        assert_eq!(read("pids.max"), "5");
        assert_eq!(read("cpu.max"), "150000 100000");
        assert_eq!(read("cgroup.procs"), "4242");
        // Each controller is handed down to the children of the parent, one write each: the
        // plain file keeps the last, the kernel's would list all three.
        assert_eq!(
            fs::read_to_string(tree.0.join("jobs/cgroup.subtree_control")).unwrap(),
            "+cpu"
        );
        fs::write(group.join("memory.events"), "low 0\noom 1\noom_kill 2\n").unwrap();
        assert_eq!(cgroup.oom_kills(), 2);
    }

    #[test]
    fn a_limit_no_hierarchy_offers_is_refused() {
        let tree = Tree::new("none");
        fs::write(tree.0.join("cgroup.controllers"), "hugetlb\n").unwrap();
        let host = Host {
            v2_mount: Some(tree.bytes()),
            v2_own: b"/".to_vec(),
            v1: Vec::new(),
        };
        let limits = Limits {
            pids: Some(5),
            ..Limits::default()
        };
        let err = Cgroup::create_on(&host, &limits, &quiet()).err().unwrap();
        assert_eq!(err.op, "--pids-limit");
        assert_eq!(
            fs::read_dir(&tree.0).unwrap().count(),
            1,
            "nothing was made"
        );
    }

    #[test]
    fn leftovers_of_dead_orbitals_are_removed_and_live_ones_kept() {
        let tree = Tree::new("leftovers");
        for name in ["orbital-999999999", "orbital-1", "orbital-x", "other"] {
            fs::create_dir(tree.0.join(name)).unwrap();
        }
        assert_eq!(remove_leftovers(&tree.bytes(), &quiet()), 1);
        let mut left: Vec<String> = fs::read_dir(&tree.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["orbital-1", "orbital-x", "other"]);
    }
}
