#!/usr/bin/env python3
"""Orbital's benchmark: start-up latency, throughput, memory and size, side by side with the
runners people would use instead, on one rootfs and with the same isolation for everyone.

    python3 bench/bench.py [--runs N] [--warmup N] [--throughput N] [--output FILE] [--install]

Run as root, from the repository, after `make`. `make bench` runs it with the full counts and
writes BENCHMARKS.md. Every tool starts `/bin/true` from the same busybox rootfs in new UTS, PID,
mount and IPC namespaces, without a network namespace.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_PACKAGES = {"crun": "crun", "runc": "runc", "bwrap": "bubblewrap", "hyperfine": "hyperfine",
                 "unshare": "util-linux", "chroot": "coreutils"}


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


class Tool:
    """One runner: how to start /bin/true and a sleeping payload with it, and what it installs."""

    def __init__(self, name, true_cmd, sleep_cmd, binaries, does, env=None):
        self.name = name
        self.true_cmd = true_cmd
        self.sleep_cmd = sleep_cmd
        self.binaries = binaries
        self.does = does
        self.env = env
        self.skipped = None
        self.results = {}


def find_or_install(names, install):
    missing = [n for n in names if shutil.which(n) is None]
    if missing and install and shutil.which("apt-get"):
        packages = sorted({PEER_PACKAGES[n] for n in missing})
        log(f"installing {' '.join(packages)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if run(["apt-get", "install", "-y", "-qq", *packages], env=env).returncode != 0:
            run(["apt-get", "update", "-qq"], env=env)
            run(["apt-get", "install", "-y", "-qq", *packages], env=env)
    return {n: shutil.which(n) for n in names}


def make_bundle(work, rootfs, name, args):
    """An OCI bundle whose isolation matches the others: no network namespace, no terminal,
    no cgroup mount, the rootfs read-only as bwrap and unshare leave it untouched."""
    bundle = os.path.join(work, name)
    os.makedirs(bundle)
    subprocess.run(["crun", "spec"] if shutil.which("crun") else ["runc", "spec"],
                   cwd=bundle, check=True)
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    config["root"] = {"path": rootfs, "readonly": True}
    config["linux"]["namespaces"] = [
        n for n in config["linux"]["namespaces"] if n["type"] in ("pid", "ipc", "uts", "mount")]
    config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    with open(path, "w") as f:
        json.dump(config, f)
    return bundle


# crun refuses cgroup v1 hybrid hosts; with its cgroup manager disabled, in a mount namespace
# where /sys/fs/cgroup is a cgroup2 mount, it runs. Every tool is timed in that same namespace.
NAMESPACE_WRAPPER = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                     'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "bench"]


def tools(bin_dir, rootfs, work):
    orbital = os.path.join(bin_dir, "orbital")
    init = os.path.join(bin_dir, "orbital-init")
    have = {n: shutil.which(n) for n in ("crun", "runc", "bwrap", "unshare", "chroot")}
    list_ = [
        Tool("orbital", [orbital, "run", "--rootfs", rootfs, "/bin/true"],
             [orbital, "run", "--rootfs", rootfs, "/bin/sleep", "1"], [orbital, init],
             "pivot_root, minimal /dev, /proc and /sys with masks, caps, seccomp, init as PID 1"),
        Tool("unshare + chroot", ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc",
                                  "chroot", rootfs, "/bin/true"],
             ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "chroot", rootfs,
              "/bin/sleep", "1"], [have["unshare"], have["chroot"]],
             "the floor: namespaces and chroot only, no /proc, no /dev"),
        Tool("bwrap", ["bwrap", "--unshare-pid", "--unshare-uts", "--unshare-ipc", "--bind",
                       rootfs, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"],
             ["bwrap", "--unshare-pid", "--unshare-uts", "--unshare-ipc", "--bind", rootfs, "/",
              "--proc", "/proc", "--dev", "/dev", "/bin/sleep", "1"], [have["bwrap"]],
             "pivot_root, /proc, minimal /dev; no caps drop as root, no seccomp by default"),
    ]
    if have["crun"] or have["runc"]:
        true_bundle = make_bundle(work, rootfs, "bundle-true", ["/bin/true"])
        sleep_bundle = make_bundle(work, rootfs, "bundle-sleep", ["/bin/sleep", "1"])
    for name, extra in (("crun", ["--cgroup-manager=disabled"]), ("runc", [])):
        if not have[name]:
            continue
        list_.append(Tool(
            name, [name, *extra, "run", "--bundle", true_bundle, f"bench-{name}"],
            [name, *extra, "run", "--bundle", sleep_bundle, f"bench-{name}-sleep"],
            [have[name]],
            "OCI runtime: pivot_root, /proc, /dev, /sys, masks, caps, seccomp, cgroup (runc)"))
    for name in ("crun", "runc", "bwrap", "unshare + chroot"):
        key = name.split()[0]
        if key in have and not have[key] and not any(t.name == name for t in list_):
            tool = Tool(name, [], [], [], "")
            tool.skipped = f"{key} is not installed (apt-get install {PEER_PACKAGES[key]})"
            list_.append(tool)
    return list_


def probe(tool):
    """Runs the tool once; a tool that cannot start a container here is skipped, with why."""
    result = run(NAMESPACE_WRAPPER + tool.true_cmd)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        tool.skipped = f"cannot run on this host: {reason}"


# A timing run drifts with what else the machine does, and hyperfine times one command's runs
# back to back; splitting the runs into rounds, each over every command, spreads the drift
# evenly instead of charging it to whichever command ran at a bad moment.
ROUNDS = 4


def hyperfine(argvs, runs, warmup, work, wrapper):
    """Mean and median in ms of each command over `runs` runs, in rounds of one hyperfine
    invocation each over all the commands."""
    rounds = ROUNDS if runs >= 4 * ROUNDS else 1
    commands = [" ".join(shlex_quote(a) for a in argv) for argv in argvs]
    times = [[] for _ in argvs]
    out = os.path.join(work, "hyperfine.json")
    for _ in range(rounds):
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs",
                str(-(-runs // rounds)), "--export-json", out, *commands]
        result = run(wrapper + argv)
        if result.returncode != 0:
            raise SystemExit(f"bench: hyperfine failed: {result.stderr.strip()}")
        with open(out) as f:
            for i, row in enumerate(json.load(f)["results"]):
                times[i].extend(row["times"])
    return [(statistics.mean(t) * 1000, statistics.median(t) * 1000) for t in times]


def latency(tools_, runs, warmup, work):
    """Start-to-exit time of each tool, all in the same hyperfine invocations."""
    results = hyperfine([t.true_cmd for t in tools_], runs, warmup, work, NAMESPACE_WRAPPER)
    for tool, result in zip(tools_, results):
        tool.results["latency"] = result


def shlex_quote(arg):
    return shlex.quote(arg)


def throughput(tool, count, parallel):
    """Containers per second over `count` starts, `parallel` at a time, driven by xargs inside
    the one namespace wrapper so that the wrapper's cost is paid once. crun and runc get a
    distinct container name for each start, since starts overlap."""
    argv = [shlex_quote(a) for a in tool.true_cmd]
    if tool.name in ("crun", "runc"):
        argv[-1] = argv[-1] + "-{}"
    script = f"seq 1 {count} | xargs -P {parallel} -I{{}} {' '.join(argv)}"
    start = time.monotonic()
    result = subprocess.run(NAMESPACE_WRAPPER + ["sh", "-c", script], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    return count / elapsed if result.returncode == 0 else None


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def status_field(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def peak_rss(tool):
    """Peak RSS (VmHWM, KiB) of each process of the runner itself, by process name, while its
    payload sleeps; the payload is not counted."""
    child = subprocess.Popen(NAMESPACE_WRAPPER + tool.sleep_cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    rss = {}
    for pid in descendants(child.pid):
        name = status_field(pid, "Name")
        hwm = status_field(pid, "VmHWM")
        if name and hwm and name != "sleep":
            rss[name] = max(rss.get(name, 0), int(hwm.split()[0]))
    child.wait()
    return rss


def installed_size(binaries):
    """Bytes of every file a runner needs: its programs and their shared libraries."""
    files = set()
    for binary in binaries:
        if not binary:
            continue
        files.add(os.path.realpath(binary))
        result = run(["ldd", binary])
        for line in result.stdout.splitlines():
            parts = line.split("=>")
            path = (parts[1] if len(parts) > 1 else parts[0]).split("(")[0].strip()
            if path.startswith("/"):
                files.add(os.path.realpath(path))
    return sum(os.path.getsize(f) for f in files), sorted(files)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return (f"{os.cpu_count()} x {model}, {mem_kib // 1024 // 1024} GiB, Linux "
            f"{platform.release()}, cgroup v1 hybrid" if os.path.isdir("/sys/fs/cgroup/memory")
            else f"{os.cpu_count()} x {model}, {mem_kib // 1024 // 1024} GiB, Linux "
            f"{platform.release()}")


def scaling(bin_dir, rootfs, runs, warmup, work):
    """Orbital's own costs: what each feature adds to a start. Run outside the cgroup2 mount
    namespace, so that the memory limit finds this host's real controller."""
    orbital = os.path.join(bin_dir, "orbital")
    base = [orbital, "run", "--rootfs", rootfs]
    env = lambda n: sum((["-e", f"V{i}=value{i}"] for i in range(n)), [])
    cases = [
        ("plain", base + ["/bin/true"]),
        ("--net none", base + ["--net", "none", "/bin/true"]),
        ("one bind mount (-v)", base + ["-v", f"{work}:/mnt", "/bin/true"]),
        ("--memory 64m", base + ["--memory", "64m", "/bin/true"]),
        ("1 variable", base + env(1) + ["/bin/true"]),
        ("10 variables", base + env(10) + ["/bin/true"]),
        ("100 variables", base + env(100) + ["/bin/true"]),
    ]
    results = hyperfine([argv for _, argv in cases], runs, warmup, work, [])
    return [(label, mean, median) for (label, _), (mean, median) in zip(cases, results)]


def fmt_rss(rss):
    if not rss:
        return "n/a"
    return ", ".join(f"{name} {kib}" for name, kib in sorted(rss.items()))


def render(tools_, scale, args, floor_mean, orbital_tool, command_line):
    lines = []
    add = lines.append
    add("# Orbital benchmarks")
    add("")
    add(f"- Date: {datetime.date.today().isoformat()}")
    add(f"- Machine: {machine()}")
    add(f"- Command: `{command_line}`")
    add(f"- Latency: hyperfine, {args.runs} runs per tool in {ROUNDS} rounds, each round one "
        f"invocation over all tools after {args.warmup} warm-up runs; throughput: "
        f"{args.throughput} starts, one at a time and {2 * os.cpu_count()} at a time.")
    add("- Every tool starts `/bin/true` from the same busybox rootfs in new UTS, PID, mount and "
        "IPC namespaces, no network namespace, no terminal; all inside one mount namespace "
        "where /sys/fs/cgroup is a cgroup2 mount, which crun needs on this host.")
    add("")
    add("| tool | mean ms | median ms | ratio to floor | seq/s | par/s | peak RSS KiB | "
        "installed bytes | what it does beyond the floor |")
    add("|---|---|---|---|---|---|---|---|---|")
    for t in tools_:
        if t.skipped:
            add(f"| {t.name} | skipped | | | | | | | {t.skipped} |")
            continue
        mean, median = t.results["latency"]
        ratio = mean / floor_mean if floor_mean else float("nan")
        seq = t.results.get("seq")
        par = t.results.get("par")
        add(f"| {t.name} | {mean:.2f} | {median:.2f} | {ratio:.2f} | "
            f"{seq:.0f} | {par:.0f} | {fmt_rss(t.results.get('rss'))} | "
            f"{t.results['size'][0]} | {t.does} |"
            if seq and par else
            f"| {t.name} | {mean:.2f} | {median:.2f} | {ratio:.2f} | failed | failed | "
            f"{fmt_rss(t.results.get('rss'))} | {t.results['size'][0]} | {t.does} |")
    add("")
    add("## Orbital's own scaling")
    add("")
    add("| case | mean ms | median ms |")
    add("|---|---|---|")
    for label, mean, median in scale:
        add(f"| {label} | {mean:.2f} | {median:.2f} |")
    add("")
    add("## Targets")
    add("")
    by = {t.name: t for t in tools_ if not t.skipped}
    o = orbital_tool.results["latency"][0]
    checks = [("orbital at most the unshare + chroot floor (ratio <= 1.0)",
               floor_mean and o / floor_mean <= 1.0, f"{o / floor_mean:.2f}" if floor_mean else "n/a")]
    for peer, factor in (("crun", 2), ("runc", 6)):
        if peer in by:
            speedup = by[peer].results["latency"][0] / o
            checks.append((f"at least {factor}x faster than {peer}", speedup >= factor,
                           f"{speedup:.1f}x"))
        else:
            checks.append((f"at least {factor}x faster than {peer}", None, "peer skipped"))
    sizes = {os.path.basename(f): os.path.getsize(f) for f in orbital_tool.binaries}
    checks.append(("orbital-init <= 32 KiB", sizes["orbital-init"] <= 32768,
                   f"{sizes['orbital-init']} bytes"))
    checks.append(("orbital <= 256 KiB", sizes["orbital"] <= 262144, f"{sizes['orbital']} bytes"))
    rss = orbital_tool.results.get("rss", {})
    for name in ("orbital", "orbital-init"):
        kib = rss.get(name)
        checks.append((f"peak RSS of {name} <= 512 KiB", kib is not None and kib <= 512,
                       f"{kib} KiB" if kib is not None else "not measured"))
    add("| target | met | measured |")
    add("|---|---|---|")
    for what, met, measured in checks:
        add(f"| {what} | {'yes' if met else ('n/a' if met is None else 'no')} | {measured} |")
    notes = os.path.join(REPO, "bench", "NOTES.md")
    if os.path.exists(notes):
        add("")
        with open(notes) as f:
            add(f.read().rstrip())
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--throughput", type=int, default=200)
    parser.add_argument("--output", default=os.path.join(REPO, "BENCHMARKS.md"))
    parser.add_argument("--bin-dir", default=os.path.join(REPO, "target", "release"))
    parser.add_argument("--install", action="store_true",
                        help="install missing peers with apt-get")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench: must run as root (containers need CAP_SYS_ADMIN)")
    for name in ("orbital", "orbital-init"):
        if not os.path.isfile(os.path.join(args.bin_dir, name)):
            raise SystemExit(f"bench: {args.bin_dir}/{name} is missing: run `make` first")
    found = find_or_install(["hyperfine", "crun", "runc", "bwrap", "unshare", "chroot"],
                            args.install)
    if not found["hyperfine"] or not found["unshare"]:
        raise SystemExit("bench: hyperfine and unshare are needed: "
                         "apt-get install hyperfine util-linux")

    work = tempfile.mkdtemp(prefix="orbital-bench-")
    try:
        rootfs = os.path.join(work, "rootfs")
        subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), rootfs], check=True,
                       stdout=subprocess.DEVNULL)
        all_tools = tools(args.bin_dir, rootfs, work)
        for tool in all_tools:
            if not tool.skipped:
                probe(tool)
            if tool.skipped:
                log(f"{tool.name}: skipped: {tool.skipped}")
        runnable = [t for t in all_tools if not t.skipped]
        log(f"latency of {', '.join(t.name for t in runnable)}")
        latency(runnable, args.runs, args.warmup, work)
        parallel = 2 * os.cpu_count()
        for tool in runnable:
            log(f"throughput, peak RSS and size of {tool.name}")
            tool.results["seq"] = throughput(tool, args.throughput, 1)
            tool.results["par"] = throughput(tool, args.throughput, parallel)
            tool.results["rss"] = peak_rss(tool)
            tool.results["size"] = installed_size(tool.binaries)
        log("orbital's own scaling")
        scale = scaling(args.bin_dir, rootfs, args.runs, args.warmup, work)
        orbital_tool = next(t for t in runnable if t.name == "orbital")
        floor = next((t for t in runnable if t.name == "unshare + chroot"), None)
        floor_mean = floor.results["latency"][0] if floor else None
        command_line = "make bench" if args.runs == 200 else " ".join(sys.argv)
        report = render(all_tools, scale, args, floor_mean, orbital_tool, command_line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.output, "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
