//! The command line: `orbital [--help | --version]` and `orbital run [OPTIONS] [--] COMMAND`.
//!
//! Parsing is pure: it takes the arguments and a way to look up orbital's own environment, and
//! returns what to do or an error that names the offending option. Option names follow
//! `docker run`.

use alloc::vec::Vec;

use orbital_rt::{caps, Error, Result};

use crate::values::{self, Limits, MountSpec, Ulimit};

/// Hostname a container gets unless `--hostname` says otherwise.
pub const DEFAULT_HOSTNAME: &[u8] = b"orbital-container";
/// Root filesystem used unless `--rootfs` or `ORBITAL_ROOTFS` says otherwise.
pub const DEFAULT_ROOTFS: &[u8] = b"/tmp/orbital-rootfs";
/// Working directory inside the container unless `--workdir` says otherwise.
pub const DEFAULT_WORKDIR: &[u8] = b"/";
/// Search path the command gets unless `-e PATH=...` says otherwise (Docker's default).
pub const DEFAULT_PATH: &[u8] =
    b"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Longest hostname the kernel accepts.
pub const HOSTNAME_MAX_BYTES: usize = orbital_rt::wire::HOSTNAME_MAX_BYTES;

/// Text of `orbital --help`.
pub const HELP: &str = "\
Usage: orbital run [OPTIONS] [--] COMMAND [ARG...]
       orbital --help | --version

Orbital runs COMMAND in a Linux container whose root is a plain directory, with its own
hostname, process numbering, mounts and IPC. It must run as root.

Commands:
  run       run a command in a new container (see 'orbital run --help')
  cleanup   remove cgroups left by orbitals that were killed
            (orbital cleanup [--cgroup-parent PATH])

Environment:
  ORBITAL_ROOTFS   default root filesystem (otherwise /tmp/orbital-rootfs)
  ORBITAL_LOG      'debug' or 'trace' to print each setup step
";

/// Text of `orbital run --help`.
pub const RUN_HELP: &str = "\
Usage: orbital run [OPTIONS] [--] COMMAND [ARG...]

Run COMMAND in a new container and exit with its status (128+N if signal N killed it;
125 if orbital failed, 126 if COMMAND cannot be executed, 127 if it is not found).

Options:
      --rootfs DIR        root filesystem (default: $ORBITAL_ROOTFS or /tmp/orbital-rootfs)
      --hostname NAME     hostname inside the container (default: orbital-container)
  -e, --env KEY=VALUE     set a variable; KEY alone copies it from orbital's environment
  -w, --workdir DIR       absolute working directory inside the container (default: /)
  -t, --tty               give COMMAND a new pseudo-terminal (default when stdin is one)
  -T, --no-tty            pass stdin, stdout and stderr through as they are
  -v, --volume HOST:CONTAINER[:ro|rw]
                          bind-mount a host path into the container
      --tmpfs PATH[:size=N,mode=OCTAL,ro]
                          mount a fresh tmpfs at PATH
      --read-only         mount the rootfs read-only (add --tmpfs /tmp for a writable /tmp)
  -u, --user USER[:GROUP] run as USER (name or uid) and GROUP, from the rootfs's /etc/passwd
      --ulimit NAME=SOFT[:HARD]
                          set a resource limit (nofile, nproc, core, stack, ...)
      --cap-add CAP       keep capability CAP (or ALL) beyond the default set
      --cap-drop CAP      drop capability CAP (or ALL)
      --seccomp PROFILE   'default' (deny dangerous system calls) or 'unconfined'
      --net MODE          'host' (default) or 'none' (only a loopback interface)
  -m, --memory SIZE       memory limit (k, m or g); the OOM killer ends what exceeds it
      --memory-swap SIZE  memory plus swap limit, or -1 for unlimited swap
      --pids-limit N      most processes and threads
      --cpus N            CPU time, in CPUs (0.5 is half of one)
      --cpu-shares N      relative CPU weight, cgroup v1 style (2-262144)
      --cpu-weight N      relative CPU weight, cgroup v2 style (1-10000)
      --cgroup-parent P   put the container's cgroup under P (absolute, or under orbital's)
      --no-init           make COMMAND itself PID 1 instead of orbital-init
      --verbose           print each setup step (same as ORBITAL_LOG=debug)
  -h, --help              print this help
";

/// What the command line asks for. Parsed once per run, so the size of `Run` does not matter.
#[derive(Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Request {
    /// Print the general help.
    Help,
    /// Print the help of `run`.
    RunHelp,
    /// Print the version.
    Version,
    /// Run a container.
    Run(RunOptions),
    /// Remove cgroups left by orbitals that were killed, under orbital's own cgroup or the
    /// given parent.
    Cleanup(Option<Vec<u8>>),
}

/// The options of `orbital run`, validated.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct RunOptions {
    /// Host path of the root filesystem.
    pub rootfs: Vec<u8>,
    /// Hostname inside.
    pub hostname: Vec<u8>,
    /// `NAME=value` entries, in order, after the defaults; a later entry wins.
    pub env: Vec<Vec<u8>>,
    /// Working directory inside, absolute.
    pub workdir: Vec<u8>,
    /// Whether the command becomes PID 1 itself.
    pub no_init: bool,
    /// `Some(true)` for `-t`, `Some(false)` for `-T`, `None` to decide by whether stdin is a
    /// terminal.
    pub tty: Option<bool>,
    /// Whether `--verbose` was given.
    pub verbose: bool,
    /// Volumes and tmpfs mounts, in the order given.
    pub mounts: Vec<MountSpec>,
    /// `--read-only`.
    pub read_only: bool,
    /// `-u USER[:GROUP]`, empty for root.
    pub user: Vec<u8>,
    /// `--ulimit` values.
    pub ulimits: Vec<Ulimit>,
    /// The capability set after `--cap-add` and `--cap-drop`.
    pub capabilities: u64,
    /// `--cap-add ALL`: every capability orbital itself holds, rather than a list to check.
    pub cap_add_all: bool,
    /// `--seccomp unconfined`.
    pub seccomp_unconfined: bool,
    /// `--net none`: a network namespace of its own.
    pub net_none: bool,
    /// Resource limits, applied through a cgroup.
    pub limits: Limits,
    /// The command and its arguments.
    pub argv: Vec<Vec<u8>>,
}

fn usage(op: &'static str, object: &[u8], why: &'static str) -> Error {
    Error::refused(op, object, why)
}

/// Parses the arguments after the program name. `getenv` looks up orbital's own environment.
pub fn parse<'a>(args: &[&'a [u8]], getenv: &dyn Fn(&[u8]) -> Option<&'a [u8]>) -> Result<Request> {
    match args.first().copied() {
        None => Err(usage(
            "usage",
            b"",
            "no command given; see 'orbital --help'",
        )),
        Some(b"-h" | b"--help" | b"help") => Ok(Request::Help),
        Some(b"-V" | b"--version" | b"version") => Ok(Request::Version),
        Some(b"run") => parse_run(&args[1..], getenv),
        Some(b"cleanup") => parse_cleanup(&args[1..]),
        Some(other) if other.starts_with(b"-") => {
            Err(usage("unknown option", other, "see 'orbital --help'"))
        }
        Some(other) => Err(usage("unknown command", other, "see 'orbital --help'")),
    }
}

/// Options that take a value, with their long and short names.
const VALUE_OPTIONS: &[(&[u8], &[u8])] = &[
    (b"--rootfs", b""),
    (b"--hostname", b""),
    (b"--env", b"-e"),
    (b"--workdir", b"-w"),
    (b"--volume", b"-v"),
    (b"--tmpfs", b""),
    (b"--user", b"-u"),
    (b"--ulimit", b""),
    (b"--cap-add", b""),
    (b"--cap-drop", b""),
    (b"--seccomp", b""),
    (b"--net", b""),
    (b"--network", b""),
    (b"--memory", b"-m"),
    (b"--memory-swap", b""),
    (b"--pids-limit", b""),
    (b"--cpus", b""),
    (b"--cpu-shares", b""),
    (b"--cpu-weight", b""),
    (b"--cgroup-parent", b""),
];

/// Options users know from `docker run` that Orbital does not have yet: refused by name rather
/// than reported as unknown, so that the message says what is missing.
const NOT_YET: &[(&[u8], &[u8])] = &[(b"--privileged", b""), (b"--pid", b""), (b"--ipc", b"")];

fn parse_run<'a>(args: &[&'a [u8]], getenv: &dyn Fn(&[u8]) -> Option<&'a [u8]>) -> Result<Request> {
    let mut opts = RunOptions {
        rootfs: getenv(b"ORBITAL_ROOTFS")
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_ROOTFS)
            .to_vec(),
        hostname: DEFAULT_HOSTNAME.to_vec(),
        env: Vec::new(),
        workdir: DEFAULT_WORKDIR.to_vec(),
        no_init: false,
        tty: None,
        verbose: false,
        mounts: Vec::new(),
        read_only: false,
        user: Vec::new(),
        ulimits: Vec::new(),
        capabilities: caps::DEFAULT,
        cap_add_all: false,
        seccomp_unconfined: false,
        net_none: false,
        limits: Limits::default(),
        argv: Vec::new(),
    };
    let mut caps_added = Vec::new();
    let mut caps_dropped = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        i += 1;
        if arg == b"--" {
            break;
        }
        if !arg.starts_with(b"-") || arg == b"-" {
            i -= 1;
            break;
        }
        match arg {
            b"-h" | b"--help" => return Ok(Request::RunHelp),
            b"--no-init" => opts.no_init = true,
            b"-t" | b"--tty" => opts.tty = Some(true),
            b"-T" | b"--no-tty" => opts.tty = Some(false),
            b"--verbose" => opts.verbose = true,
            b"--read-only" => opts.read_only = true,
            _ => {
                let (name, inline) = split_option(arg);
                if NOT_YET
                    .iter()
                    .any(|&(long, short)| name == long || name == short)
                {
                    return Err(usage("option", name, "not supported yet"));
                }
                let Some(&(long, _)) = VALUE_OPTIONS
                    .iter()
                    .find(|&&(long, short)| name == long || name == short)
                else {
                    return Err(usage("unknown option", arg, "see 'orbital run --help'"));
                };
                let value = match inline {
                    Some(value) => value,
                    None => {
                        let Some(&value) = args.get(i) else {
                            return Err(usage("option", name, "needs a value"));
                        };
                        i += 1;
                        value
                    }
                };
                match long {
                    b"--cap-add" => caps_added.push(values::capability("--cap-add", value)?),
                    b"--cap-drop" => caps_dropped.push(values::capability("--cap-drop", value)?),
                    _ => apply_value(&mut opts, long, value, getenv)?,
                }
            }
        }
    }
    opts.capabilities = values::capability_set(&caps_added, &caps_dropped);
    opts.cap_add_all = caps_added.contains(&caps::ALL);
    check_limits(&opts.limits)?;
    opts.argv = args[i..].iter().map(|a| a.to_vec()).collect();
    if opts.argv.is_empty() {
        return Err(usage(
            "run",
            b"",
            "no command given; see 'orbital run --help'",
        ));
    }
    Ok(Request::Run(opts))
}

/// Limits that only make sense together.
fn check_limits(limits: &Limits) -> Result<()> {
    match (limits.memory, limits.memory_swap) {
        (None, Some(_)) => {
            return Err(usage(
                "--memory-swap",
                b"",
                "needs --memory, as in docker run",
            ));
        }
        (Some(memory), Some(swap)) if swap < memory => {
            return Err(usage(
                "--memory-swap",
                b"",
                "must be at least --memory (it counts both)",
            ));
        }
        _ => {}
    }
    if limits.cpu_shares.is_some() && limits.cpu_weight.is_some() {
        return Err(usage(
            "--cpu-weight",
            b"",
            "give --cpu-shares or --cpu-weight, not both",
        ));
    }
    Ok(())
}

/// `orbital cleanup [--cgroup-parent PATH]`.
fn parse_cleanup(args: &[&[u8]]) -> Result<Request> {
    match args {
        [] => Ok(Request::Cleanup(None)),
        [b"--cgroup-parent", parent] => Ok(Request::Cleanup(Some(values::cgroup_parent(parent)?))),
        [b"-h" | b"--help", ..] => Ok(Request::Help),
        [other, ..] => Err(usage("unknown option", other, "see 'orbital --help'")),
    }
}

/// Splits `--name=value` and `-xvalue` into the option name and its inline value.
fn split_option(arg: &[u8]) -> (&[u8], Option<&[u8]>) {
    if arg.starts_with(b"--") {
        match arg.iter().position(|&b| b == b'=') {
            Some(eq) => (&arg[..eq], Some(&arg[eq + 1..])),
            None => (arg, None),
        }
    } else if arg.len() > 2 {
        let value = &arg[2..];
        (&arg[..2], Some(value.strip_prefix(b"=").unwrap_or(value)))
    } else {
        (arg, None)
    }
}

fn apply_value<'a>(
    opts: &mut RunOptions,
    long: &[u8],
    value: &'a [u8],
    getenv: &dyn Fn(&[u8]) -> Option<&'a [u8]>,
) -> Result<()> {
    match long {
        b"--rootfs" => {
            if value.is_empty() {
                return Err(usage("--rootfs", b"", "empty path"));
            }
            opts.rootfs = value.to_vec();
        }
        b"--hostname" => {
            if value.is_empty() {
                return Err(usage("--hostname", b"", "empty name"));
            }
            if value.len() > HOSTNAME_MAX_BYTES {
                return Err(usage("--hostname", value, "longer than 64 bytes"));
            }
            opts.hostname = value.to_vec();
        }
        b"--env" => opts.env.extend(env_entry(value, getenv)?),
        b"--workdir" => {
            if !value.starts_with(b"/") {
                return Err(usage("--workdir", value, "not an absolute path"));
            }
            opts.workdir = value.to_vec();
        }
        b"--volume" => opts.mounts.push(values::volume(value)?),
        b"--tmpfs" => opts.mounts.push(values::tmpfs(value)?),
        b"--user" => {
            if value.is_empty() || value.len() > orbital_rt::wire::USER_MAX_BYTES {
                return Err(usage(
                    "--user",
                    value,
                    "expected USER[:GROUP], names or numbers",
                ));
            }
            opts.user = value.to_vec();
        }
        b"--ulimit" => opts.ulimits.push(values::ulimit(value)?),
        b"--seccomp" => {
            opts.seccomp_unconfined = match value {
                b"default" => false,
                b"unconfined" => true,
                _ => return Err(usage("--seccomp", value, "expected default or unconfined")),
            }
        }
        b"--memory" => opts.limits.memory = Some(values::memory("--memory", value)?),
        b"--memory-swap" => {
            opts.limits.memory_swap = Some(values::memory("--memory-swap", value)?);
        }
        b"--pids-limit" => opts.limits.pids = Some(values::pids(value)?),
        b"--cpus" => opts.limits.cpus_milli = Some(values::cpus(value)?),
        b"--cpu-shares" => {
            let why = "expected a number from 2 to 262144";
            opts.limits.cpu_shares =
                Some(values::bounded("--cpu-shares", value, 2..=262_144, why)?);
        }
        b"--cpu-weight" => {
            let why = "expected a number from 1 to 10000";
            opts.limits.cpu_weight = Some(values::bounded("--cpu-weight", value, 1..=10_000, why)?);
        }
        b"--cgroup-parent" => opts.limits.parent = Some(values::cgroup_parent(value)?),
        b"--net" | b"--network" => {
            opts.net_none = match value {
                b"none" => true,
                b"host" => false,
                _ => return Err(usage("--net", value, "expected none or host")),
            }
        }
        _ => return Err(usage("unknown option", long, "see 'orbital run --help'")),
    }
    Ok(())
}

/// `KEY=VALUE` as given, or `KEY` alone with the value from orbital's environment (nothing when
/// orbital has no such variable, as with Docker).
fn env_entry<'a>(
    value: &'a [u8],
    getenv: &dyn Fn(&[u8]) -> Option<&'a [u8]>,
) -> Result<Option<Vec<u8>>> {
    let name_len = value.iter().position(|&b| b == b'=').unwrap_or(value.len());
    if name_len == 0 {
        return Err(usage("--env", value, "empty variable name"));
    }
    if name_len < value.len() {
        return Ok(Some(value.to_vec()));
    }
    Ok(getenv(value).map(|host| {
        let mut entry = value.to_vec();
        entry.push(b'=');
        entry.extend_from_slice(host);
        entry
    }))
}

/// The container's environment: Docker's defaults (PATH, HOSTNAME, HOME), then the `-e`
/// entries, a later entry replacing an earlier one of the same name.
pub fn container_env(opts: &RunOptions) -> Vec<Vec<u8>> {
    let mut hostname = b"HOSTNAME=".to_vec();
    hostname.extend_from_slice(&opts.hostname);
    let mut env: Vec<Vec<u8>> =
        alloc::vec![DEFAULT_PATH.to_vec(), hostname, b"HOME=/root".to_vec()];
    for entry in &opts.env {
        let name = &entry[..=entry
            .iter()
            .position(|&b| b == b'=')
            .unwrap_or(entry.len() - 1)];
        match env.iter_mut().find(|e| e.starts_with(name)) {
            Some(slot) => *slot = entry.clone(),
            None => env.push(entry.clone()),
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use orbital_rt::error::Cause;

    fn no_env(_: &[u8]) -> Option<&'static [u8]> {
        None
    }

    fn run(args: &[&'static str]) -> Result<Request> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        parse(&args, &no_env)
    }

    fn opts(args: &[&'static str]) -> RunOptions {
        match run(args) {
            Ok(Request::Run(opts)) => opts,
            other => panic!("expected run options, got {other:?}"),
        }
    }

    fn refusal(args: &[&'static str]) -> (&'static str, Vec<u8>, &'static str) {
        let err = run(args).unwrap_err();
        match err.cause {
            Cause::Refused(why) => (err.op, err.object().to_vec(), why),
            Cause::Errno(_) => panic!("unexpected errno"),
        }
    }

    #[test]
    fn defaults_apply_without_options() {
        let o = opts(&["run", "/bin/sh"]);
        assert_eq!(o.rootfs, DEFAULT_ROOTFS);
        assert_eq!(o.hostname, DEFAULT_HOSTNAME);
        assert_eq!(o.workdir, b"/");
        assert_eq!(o.argv, vec![b"/bin/sh".to_vec()]);
        assert!(!o.no_init && !o.verbose);
        assert_eq!(o.tty, None);
    }

    #[test]
    fn every_option_in_both_spellings() {
        let o = opts(&[
            "run",
            "--rootfs",
            "/r",
            "--hostname=box",
            "-e",
            "A=1",
            "--env=B=2",
            "-eC=3",
            "-w",
            "/tmp",
            "--no-init",
            "--verbose",
            "ls",
            "-l",
        ]);
        assert_eq!(o.rootfs, b"/r");
        assert_eq!(o.hostname, b"box");
        assert_eq!(
            o.env,
            vec![b"A=1".to_vec(), b"B=2".to_vec(), b"C=3".to_vec()]
        );
        assert_eq!(o.workdir, b"/tmp");
        assert!(o.no_init && o.verbose);
        assert_eq!(o.argv, vec![b"ls".to_vec(), b"-l".to_vec()]);
    }

    #[test]
    fn options_stop_at_the_command_and_after_double_dash() {
        let o = opts(&["run", "sh", "--verbose"]);
        assert_eq!(o.argv, vec![b"sh".to_vec(), b"--verbose".to_vec()]);
        assert!(!o.verbose);
        let o = opts(&["run", "--", "--weird-name"]);
        assert_eq!(o.argv, vec![b"--weird-name".to_vec()]);
    }

    #[test]
    fn env_key_alone_copies_orbital_environment() {
        let getenv = |name: &[u8]| -> Option<&'static [u8]> {
            (name == b"HOME_TEST").then_some(b"/home/me")
        };
        let args: Vec<&[u8]> = vec![b"run", b"-e", b"HOME_TEST", b"-e", b"MISSING", b"true"];
        match parse(&args, &getenv).unwrap() {
            Request::Run(o) => assert_eq!(o.env, vec![b"HOME_TEST=/home/me".to_vec()]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rootfs_comes_from_the_environment_unless_given() {
        let getenv =
            |name: &[u8]| -> Option<&'static [u8]> { (name == b"ORBITAL_ROOTFS").then_some(b"/e") };
        let args: Vec<&[u8]> = vec![b"run", b"true"];
        match parse(&args, &getenv).unwrap() {
            Request::Run(o) => assert_eq!(o.rootfs, b"/e"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tty_options_force_either_way_and_the_last_wins() {
        assert_eq!(opts(&["run", "-t", "sh"]).tty, Some(true));
        assert_eq!(opts(&["run", "--no-tty", "sh"]).tty, Some(false));
        assert_eq!(opts(&["run", "-T", "--tty", "sh"]).tty, Some(true));
    }

    #[test]
    fn hardening_options_are_collected() {
        let o = opts(&[
            "run",
            "-v",
            "/srv:/data:ro",
            "--tmpfs",
            "/tmp:size=1m",
            "--read-only",
            "-u",
            "1000:100",
            "--ulimit",
            "nofile=10:20",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CHOWN",
            "--seccomp",
            "unconfined",
            "--net",
            "none",
            "true",
        ]);
        assert_eq!(o.mounts.len(), 2);
        assert!(o.read_only && o.seccomp_unconfined && o.net_none);
        assert_eq!(o.user, b"1000:100");
        assert_eq!(
            o.ulimits,
            vec![Ulimit {
                resource: 7,
                soft: 10,
                hard: 20
            }]
        );
        assert_eq!(o.capabilities, caps::bit(0));
        assert_eq!(opts(&["run", "true"]).capabilities, caps::DEFAULT);
    }

    #[test]
    fn limits_and_cleanup_are_parsed() {
        let o = opts(&[
            "run",
            "-m",
            "32m",
            "--pids-limit",
            "32",
            "--cpus",
            "0.5",
            "true",
        ]);
        assert_eq!(
            o.limits,
            Limits {
                memory: Some(32 << 20),
                pids: Some(32),
                cpus_milli: Some(500),
                ..Limits::default()
            }
        );
        assert_eq!(run(&["cleanup"]).unwrap(), Request::Cleanup(None));
        assert_eq!(
            run(&["cleanup", "--cgroup-parent", "ci"]).unwrap(),
            Request::Cleanup(Some(b"ci".to_vec()))
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(run(&["--help"]).unwrap(), Request::Help);
        assert_eq!(run(&["--version"]).unwrap(), Request::Version);
        assert_eq!(run(&["run", "--help"]).unwrap(), Request::RunHelp);
        assert_eq!(run(&["run", "-h", "sh"]).unwrap(), Request::RunHelp);
    }

    #[test]
    fn bad_input_is_refused_with_the_offending_part() {
        assert_eq!(refusal(&[]).2, "no command given; see 'orbital --help'");
        assert_eq!(refusal(&["start"]).0, "unknown command");
        assert_eq!(
            refusal(&["run"]).2,
            "no command given; see 'orbital run --help'"
        );
        assert_eq!(
            refusal(&["run", "--verbose"]).2,
            "no command given; see 'orbital run --help'"
        );
        let (op, object, _) = refusal(&["run", "--bogus", "sh"]);
        assert_eq!((op, object), ("unknown option", b"--bogus".to_vec()));
        assert_eq!(refusal(&["run", "-x", "sh"]).0, "unknown option");
        assert_eq!(refusal(&["run", "--hostname"]).2, "needs a value");
        assert_eq!(
            refusal(&["run", "--privileged", "sh"]).2,
            "not supported yet"
        );
        assert_eq!(
            refusal(&["run", "--memory-swap", "1g", "sh"]).2,
            "needs --memory, as in docker run"
        );
        let (op, _, why) = refusal(&["run", "-m", "2m", "--memory-swap", "1m", "sh"]);
        assert_eq!(
            (op, why),
            (
                "--memory-swap",
                "must be at least --memory (it counts both)"
            )
        );
        assert_eq!(
            refusal(&["run", "--cpu-shares", "2", "--cpu-weight", "5", "sh"]).0,
            "--cpu-weight"
        );
        assert_eq!(
            refusal(&["run", "--pids-limit", "-1", "sh"]).0,
            "--pids-limit"
        );
        assert_eq!(refusal(&["cleanup", "--bogus"]).0, "unknown option");
        assert_eq!(
            refusal(&["run", "--net", "bridge", "sh"]).2,
            "expected none or host"
        );
        assert_eq!(
            refusal(&["run", "--seccomp", "/p.json", "sh"]).2,
            "expected default or unconfined"
        );
        assert_eq!(refusal(&["run", "--cap-add", "FLY", "sh"]).0, "--cap-add");
        assert_eq!(refusal(&["run", "-u", "", "sh"]).0, "--user");
    }

    #[test]
    fn invalid_values_are_refused() {
        let long = "h".repeat(65);
        let long: &'static str = Box::leak(long.into_boxed_str());
        assert_eq!(
            refusal(&["run", "--hostname", long, "sh"]).2,
            "longer than 64 bytes"
        );
        assert!(
            opts(&["run", "--hostname", &long[..64], "sh"])
                .hostname
                .len()
                == 64
        );
        assert_eq!(refusal(&["run", "--hostname=", "sh"]).2, "empty name");
        assert_eq!(refusal(&["run", "-e", "=x", "sh"]).2, "empty variable name");
        assert_eq!(
            refusal(&["run", "-w", "tmp", "sh"]).2,
            "not an absolute path"
        );
        assert_eq!(refusal(&["run", "--rootfs=", "sh"]).2, "empty path");
    }

    #[test]
    fn container_env_starts_from_defaults_and_later_entries_win() {
        let o = opts(&[
            "run",
            "-e",
            "A=1",
            "-e",
            "PATH=/x",
            "-e",
            "A=2",
            "--hostname",
            "h",
            "sh",
        ]);
        let env = container_env(&o);
        assert_eq!(
            env,
            vec![
                b"PATH=/x".to_vec(),
                b"HOSTNAME=h".to_vec(),
                b"HOME=/root".to_vec(),
                b"A=2".to_vec()
            ]
        );
    }
}
