#!/usr/bin/python3
"""cpu_cycles — CPU per steady-state poll cycle of a whole xtcpd, for make bench.

usage: cpu_cycles.py WARM PASSES -- XTCPD ARGS...   (the command must log at debug: -d;
it is stopped with SIGTERM after the last snapshot)

Reads the daemon's "cycle N: ..." debug lines; at the end of cycle WARM and of cycle
WARM + PASSES it sums the CPU time the kernel accounts to every thread of the process
(/proc/PID/task/*/schedstat, nanoseconds; the same clock getrusage reports), so start-up
is left out exactly, as `-maxLoops 6` minus `-maxLoops 1` would, in one run. Prints
cpu_us_per_cycle, the same split by thread name (the threads are named by role), and
the daemon's peak RSS until then (VmHWM: the child's ru_maxrss would count the Python
process it was forked from)."""
import os
import re
import signal
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


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    warm, passes = int(sys.argv[1]), int(sys.argv[2])
    p = subprocess.Popen(sys.argv[4:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    snaps = {}
    pat = re.compile(r"cycle (\d+): \d+ namespaces in")
    for line in p.stderr:
        m = pat.search(line)
        if m and int(m.group(1)) in (warm, warm + passes):
            snaps[int(m.group(1))] = snapshot(p.pid)
            if len(snaps) == 2:
                rss = hwm_kib(p.pid)
                p.send_signal(signal.SIGTERM)
    rc = p.wait()
    if rc != 0 or len(snaps) != 2:
        sys.exit("cpu_cycles: the daemon exited %d after %d of 2 snapshots" % (rc, len(snaps)))
    a, b = snaps[warm], snaps[warm + passes]
    total = sum(b.values()) - sum(a.values())
    roles = " ".join("%s=%d" % (k, (b[k] - a.get(k, 0)) // 1000 // passes) for k in sorted(b))
    print("cpu_us_per_cycle=%d maxrss_kib=%d threads: %s" % (total // 1000 // passes, rss, roles))


main()
