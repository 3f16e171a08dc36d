#!/usr/bin/python3
"""grpc_client.py — xtcp2's gRPC API as a client sees it, for the grpc sink's tests: stubs
generated at test time (grpc_tools.protoc) from the plugin's protos, Python's grpcio.

  grpc_client.py PB2DIR TARGET CMD [ARGS...]   (TARGET = 127.0.0.1:PORT)

  stream OUT N SECS      FlatRecords: write each record (hex, one a line) to OUT until N
                         records (0: any number), the file OUT.stop or SECS; prints
                         "records R"; touches OUT.ready once the stream is open
  stall GO SECS          FlatRecords opened, not read until the file GO exists (or
                         SECS), then drained: prints the status the server ended it with
  poll K SECS            PollFlatRecords: K requests, one at a time; after each, the
                         records of its poll; prints "poll I records R cycles C" per
                         request (C: distinct timestamps)
  get | trigger | health [SERVICE]
  setfreq FREQ_MS TIMEOUT_MS | burst COUNT INTERVAL_MS | set KEY=VALUE...
                         unary calls; print "ok" and the fields, or "error CODE: DETAILS"
  triggers N             N TriggerPoll calls at once (threads); prints "ok K"
  split FILE             the rows of a protobufList file (the file sink's), hex a line
Options (before CMD): --token T (authorization: Bearer T), --tls CA (TLS, trusting CA)."""
import os, sys, threading, time

args = sys.argv[1:]
token = tls = None
while len(args) > 2 and args[2] in ("--token", "--tls"):
    if args[2] == "--token":
        token = args[3]
    else:
        tls = args[3]
    del args[2:4]
pb2dir, target, cmd, rest = args[0], args[1], args[2], args[3:]
sys.path.insert(0, pb2dir)


def split_pbl(data):
    """The rows (record bytes) of concatenated protobufList messages."""
    def varint(b, i):
        x = s = 0
        while True:
            c = b[i]; i += 1
            x |= (c & 0x7F) << s; s += 7
            if not c & 0x80:
                return x, i
    i, rows = 0, []
    while i < len(data):
        n, i = varint(data, i)
        end = i + n
        while i < end:
            key, i = varint(data, i)
            assert key == (10 << 3 | 2), "not an Envelope row"
            ln, i = varint(data, i)
            rows.append(data[i:i + ln]); i += ln
    return rows


if cmd == "split":
    for r in split_pbl(open(rest[0], "rb").read()):
        print(r.hex())
    sys.exit(0)
if cmd == "compare":
    # the gRPC records (hex lines) against the file sink's rows of the cycles after the
    # first FIRST: prints "grpc R dups D notinfile N missed M cycles C"
    import xtcp_flat_record_pb2 as fr
    rows = split_pbl(open(rest[0], "rb").read())
    got = [bytes.fromhex(l.strip()) for l in open(rest[1]) if l.strip()]
    skip = int(rest[2])
    ts = sorted({fr.XtcpFlatRecord.FromString(r).timestamp_ns for r in rows})[skip:]
    want = {r for r in rows if fr.XtcpFlatRecord.FromString(r).timestamp_ns in set(ts)}
    allrows = set(rows)
    print("grpc %d dups %d notinfile %d missed %d cycles %d" % (
        len(got), len(got) - len(set(got)), len([g for g in got if g not in allrows]),
        len(want - set(got)), len(ts)))
    sys.exit(0)

import grpc
import xtcp_flat_record_pb2 as fr
import xtcp_flat_record_service_pb2 as frs
import xtcp_flat_record_service_pb2_grpc as frs_grpc
import xtcp_config_pb2 as cfg
import xtcp_config_pb2_grpc as cfg_grpc
import health_pb2 as hp

md = [("authorization", "Bearer " + token)] if token else None
ch = grpc.secure_channel(target, grpc.ssl_channel_credentials(open(tls, "rb").read())) \
    if tls else grpc.insecure_channel(target)
flat = frs_grpc.XTCPFlatRecordServiceStub(ch)
conf = cfg_grpc.ConfigServiceStub(ch)


def show_cfg(c):
    print("ok frequency_ms %d timeout_ms %d jitter %d max_loops %d tag %s label %s grpc_port %d"
          % (c.poll_frequency.seconds * 1000 + c.poll_frequency.nanos // 1000000,
             c.poll_timeout.seconds * 1000 + c.poll_timeout.nanos // 1000000,
             c.poll_jitter_pct, c.max_loops, c.tag or "-", c.label or "-", c.grpc_port))


def unary(fn):
    try:
        fn()
    except grpc.RpcError as e:
        print("error %s: %s" % (e.code().name, e.details()))


def dur(ms):
    return cfg.Duration(seconds=ms // 1000, nanos=(ms % 1000) * 1000000)


if cmd == "stream":
    out, n, secs = rest[0], int(rest[1]), float(rest[2])
    got = 0
    call = flat.FlatRecords(frs.FlatRecordsRequest(), timeout=secs, metadata=md)
    call.initial_metadata()  # the stream is open on the server
    open(out + ".ready", "w").close()

    def stopper():  # OUT.stop ends the stream (N = 0: until then)
        while not os.path.exists(out + ".stop"):
            time.sleep(0.1)
        call.cancel()
    threading.Thread(target=stopper, daemon=True).start()
    with open(out, "w") as f:
        try:
            for resp in call:
                f.write(resp.xtcp_flat_record.SerializeToString().hex() + "\n")
                got += 1
                if n and got >= n:
                    call.cancel()
                    break
        except grpc.RpcError as e:
            if e.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
                print("error %s: %s" % (e.code().name, e.details()))
    print("records %d" % got)
elif cmd == "stall":
    # reads nothing until the file GO exists (or SECS), then drains: prints the status
    # the server ended the stream with
    go, secs = rest[0], float(rest[1])
    call = flat.FlatRecords(frs.FlatRecordsRequest(), metadata=md)
    call.initial_metadata()
    print("open", flush=True)
    deadline = time.time() + secs
    while time.time() < deadline and not os.path.exists(go):
        time.sleep(0.1)
    code = "open"
    try:
        for _ in call:
            if time.time() > deadline + secs:
                break
    except grpc.RpcError as e:
        code = e.code().name
    print("ended %s" % code)
elif cmd == "poll":
    import queue
    k, secs = int(rest[0]), float(rest[1])
    reqq, lock, cur, last, recs = queue.Queue(), threading.Lock(), [0], [0.0], {}

    def gen():
        while reqq.get():
            yield frs.PollFlatRecordsRequest()

    call = flat.PollFlatRecords(gen(), metadata=md)
    err = []

    def reader():
        try:
            for resp in call:
                with lock:
                    recs[cur[0]].append(resp.xtcp_flat_record.timestamp_ns)
                    last[0] = time.time()
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                err.append("error %s: %s" % (e.code().name, e.details()))
    threading.Thread(target=reader, daemon=True).start()
    for i in range(1, k + 1):
        with lock:
            cur[0], recs[i], last[0] = i, [], time.time()
        reqq.put(1)
        deadline = time.time() + secs
        while time.time() < deadline and not err:   # its records, then a quiet second
            time.sleep(0.05)
            with lock:
                if recs[i] and time.time() - last[0] > 1.0:
                    break
    reqq.put(None)
    call.cancel()
    if err:
        print(err[0])
        sys.exit(0)
    for i in sorted(recs):
        print("poll %d records %d cycles %d" % (i, len(recs[i]), len(set(recs[i]))))
elif cmd == "get":
    unary(lambda: show_cfg(conf.Get(cfg.GetRequest(), metadata=md).config))
elif cmd == "trigger":
    unary(lambda: (conf.TriggerPoll(cfg.TriggerPollRequest(), metadata=md), print("ok")))
elif cmd == "triggers":
    n, ok = int(rest[0]), [0]
    lock = threading.Lock()

    def one():
        try:
            conf.TriggerPoll(cfg.TriggerPollRequest(), metadata=md)
            with lock:
                ok[0] += 1
        except grpc.RpcError as e:
            print("error %s: %s" % (e.code().name, e.details()))
    ts = [threading.Thread(target=one) for _ in range(n)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print("ok %d" % ok[0])
elif cmd == "setfreq":
    unary(lambda: show_cfg(conf.SetPollFrequency(cfg.SetPollFrequencyRequest(
        poll_frequency=dur(int(rest[0])), poll_timeout=dur(int(rest[1]))), metadata=md).config))
elif cmd == "burst":
    def b():
        r = conf.TriggerPollBurst(cfg.TriggerPollBurstRequest(count=int(rest[0]),
                                  interval=dur(int(rest[1]))), metadata=md)
        print("ok count %d interval_s %d" % (r.count, r.interval.seconds))
    unary(b)
elif cmd == "set":
    def s():
        c = conf.Get(cfg.GetRequest(), metadata=md).config
        for kv in rest:
            k, v = kv.split("=", 1)
            if k in ("poll_frequency", "poll_timeout"):
                getattr(c, k).CopyFrom(dur(int(v)))
            elif k in ("poll_jitter_pct", "max_loops"):
                setattr(c, k, int(v))
            else:
                setattr(c, k, v)
        show_cfg(conf.Set(cfg.SetRequest(config=c), metadata=md).config)
    unary(s)
elif cmd == "health":
    def h():
        st = hp.HealthCheckResponse.ServingStatus.Name
        r = ch.unary_unary("/grpc.health.v1.Health/Check",
                           request_serializer=hp.HealthCheckRequest.SerializeToString,
                           response_deserializer=hp.HealthCheckResponse.FromString)(
            hp.HealthCheckRequest(service=rest[0] if rest else ""))
        print(st(r.status))
    unary(h)
else:
    sys.exit("unknown command " + cmd)
