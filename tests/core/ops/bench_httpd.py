#!/usr/bin/python3
"""bench_httpd — what the metrics endpoint costs and how it holds up (numbers only).

Runs the daemon (synth source, RECORDS records per cycle, json into null, 1 s cycles) and
prints: the mean poll-cycle time without scrapes and under a scrape loop; scrapes per
second and their latency; a scrape's latency while HTTPD_MAX_CONNECTIONS - 1 idle clients
hold connections; and what a client past the limit gets."""
import os, socket, subprocess, sys, tempfile, time, urllib.request

xtcpd = os.environ["XTCPD"]
records = int(os.environ.get("RECORDS", "20000"))
LIMIT = 32  # HTTPD_MAX_CONNECTIONS in core/ops/httpd.h

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def scrape(url, timeout=15):
    t = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
    return time.monotonic() - t, body

def metric(body, name):
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0

def poll_stats(url):
    _, b = scrape(url)
    return metric(b, "xtcpd_poll_duration_seconds_sum"), metric(b, "xtcpd_poll_duration_seconds_count")

def mean_poll(url, seconds, during=None):
    s0, c0 = poll_stats(url)
    n = during(seconds) if during else (time.sleep(seconds) or 0)
    s1, c1 = poll_stats(url)
    return (s1 - s0) / max(c1 - c0, 1) * 1000, c1 - c0, n

port = free_port()
base = "http://127.0.0.1:%d" % port
tmp = tempfile.mkdtemp()
with open(tmp + "/x.conf", "w") as f:
    f.write("[core]\nfrequency = 1s\nprom_listen = 127.0.0.1:%d\nnetns = host\n"
            "[source synth]\nrecords = %d\nlanes = 2\n[marshaller json]\n"
            "[sink null]\nmarshaller = json\n" % (port, records))
os.mkdir(tmp + "/conf.d")
d = subprocess.Popen([xtcpd, "-c", tmp + "/x.conf", "-C", tmp + "/conf.d"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            if scrape(base + "/readyz")[0] is not None:
                break
        except Exception:
            time.sleep(0.05)
    time.sleep(2)
    ms, cycles, _ = mean_poll(base + "/metrics", 5)
    print("poll cycle, %d records, no scrapes:        %7.2f ms mean over %d cycles" % (records, ms, cycles))

    lat = []
    def loop(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            lat.append(scrape(base + "/metrics")[0])
        return len(lat)
    ms, cycles, n = mean_poll(base + "/metrics", 5, loop)
    size = len(scrape(base + "/metrics")[1])
    lat.sort()
    print("poll cycle, %d records, scrape loop:       %7.2f ms mean over %d cycles" % (records, ms, cycles))
    print("scrapes (%d bytes each), one client:      %7.0f /s, latency p50 %.2f ms, p99 %.2f ms"
          % (size, n / 5.0, lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000))

    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(LIMIT - 1)]
    t, _ = scrape(base + "/metrics")
    print("scrape with %d idle connections open:     %7.2f ms" % (LIMIT - 1, t * 1000))
    idle.append(socket.create_connection(("127.0.0.1", port)))
    t0 = time.monotonic()
    try:
        scrape(base + "/metrics", timeout=15)
        what = "answered"
    except Exception as e:
        what = "refused (%s)" % type(e).__name__
    print("scrape with %d idle connections open:     %s after %.2f s (idle ones time out after 10 s)"
          % (LIMIT, what, time.monotonic() - t0))
    for s in idle:
        s.close()
    t, _ = scrape(base + "/metrics")
    print("scrape after the idle clients left:        %7.2f ms" % (t * 1000))
finally:
    d.terminate()
    d.wait()
