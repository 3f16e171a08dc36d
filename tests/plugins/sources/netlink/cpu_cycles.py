#!/usr/bin/python3
"""cpu_cycles — CPU per steady-state poll cycle of a whole xtcpd, for make bench.

usage: cpu_cycles.py [--floor CMD] WARM PASSES -- XTCPD ARGS...
(the daemon must log at debug: -d; it is stopped with SIGTERM after the last cycle)

Reads the daemon's "cycle N: ..." debug lines; at the end of cycles WARM .. WARM + PASSES
it sums the CPU time the kernel accounts to every thread of the process
(/proc/PID/task/*/schedstat, nanoseconds; the same clock getrusage reports), so start-up
is left out exactly, as `-maxLoops 6` minus `-maxLoops 1` would, in one run. Prints
cpu_us_per_cycle (the mean), the same split by thread name (the threads are named by
role), and the daemon's peak RSS until then (VmHWM: the child's ru_maxrss would count
the Python process it was forked from).

cpu_us_best is the cheapest measured cycle: on a shared machine noise only ever adds
CPU time, so the best of several cycles is the closest to the work itself (as
bench_marshal's best of 7 rounds).

--floor CMD (a shell command printing cpu_us_per_pass=N, e.g. one nldump pass) runs
once in the idle time after each measured cycle but the last, so every daemon cycle has
a baseline measured next to it on a shared machine; also prints the floor's mean and
best, and the median, lowest and highest of the per-cycle ratios (cycle k+1 against the
floor run just before it). The period must leave room for it.

A dump cut short at the cycle deadline (a loaded machine, a period too short) would make
a cycle look cheap: if the daemon reports one, this fails instead of printing a number."""
import os
import re
import signal
import statistics
import subprocess
import sys


def hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def snapshot(pid):
    per = {}
    tdir = "/proc/%d/task" % pid
    for tid in os.listdir(tdir):
        try:
            with open("%s/%s/comm" % (tdir, tid)) as f:
                name = f.read().strip()
            with open("%s/%s/schedstat" % (tdir, tid)) as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue  # a helper thread that just ended
        per[name] = per.get(name, 0) + ns
    return per


def floor_us(cmd):
    out = subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout
    m = re.search(r"cpu_us_per_pass=(\d+)", out)
    if not m:
        sys.exit("cpu_cycles: the floor printed no cpu_us_per_pass: %r" % out)
    return int(m.group(1))


def main():
    args = sys.argv[1:]
    floor = None
    if args[:1] == ["--floor"]:
        floor, args = args[1], args[2:]
    if len(args) < 4 or args[2] != "--":
        sys.exit(__doc__)
    warm, passes = int(args[0]), int(args[1])
    p = subprocess.Popen(args[3:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    snaps, floors = {}, {}
    rss = 0
    pat = re.compile(r"cycle (\d+): \d+ namespaces in")
    missed = 0
    for line in p.stderr:
        if "unfinished at the deadline" in line:
            missed += 1
        m = pat.search(line)
        if not m or not warm <= int(m.group(1)) <= warm + passes:
            continue
        k = int(m.group(1))
        snaps[k] = snapshot(p.pid)
        if k == warm + passes:
            rss = hwm_kib(p.pid)
            p.send_signal(signal.SIGTERM)
        elif floor:
            floors[k + 1] = floor_us(floor)
    rc = p.wait()
    if rc != 0 or len(snaps) != passes + 1:
        sys.exit("cpu_cycles: the daemon exited %d after %d of %d snapshots" %
                 (rc, len(snaps), passes + 1))
    if missed:
        sys.exit("cpu_cycles: a dump missed its cycle deadline (the machine is loaded or "
                 "the period is too short): no number")
    a, b = snaps[warm], snaps[warm + passes]
    total = sum(b.values()) - sum(a.values())
    roles = " ".join("%s=%d" % (k, (b[k] - a.get(k, 0)) // 1000 // passes) for k in sorted(b))
    line = "cpu_us_per_cycle=%d maxrss_kib=%d" % (total // 1000 // passes, rss)
    cycles = [(sum(snaps[k].values()) - sum(snaps[k - 1].values())) / 1000
              for k in range(warm + 1, warm + passes + 1)]
    line += " cpu_us_best=%d" % min(cycles)
    if floor:
        ratios = [cycles[k - warm - 1] / floors[k] for k in sorted(floors)]
        line += " floor_us_per_pass=%d floor_us_best=%d ratio_median=%.3f ratio_min=%.3f ratio_max=%.3f" % (
            statistics.mean(floors.values()), min(floors.values()), statistics.median(ratios),
            min(ratios), max(ratios))
    print(line + " threads: " + roles)


main()
