#!/usr/bin/python3
"""http_receiver.py PROTO_DIR OUTDIR PORTFILE [CERT KEY] - a small HTTP(S) server for the
http sink's tests: each POST body must be one protobufList message (varint length +
Envelope), which is decoded by `protoc --decode xtcp_flat_record.v1.Envelope`; a body that
protoc decodes is answered 200 and kept as OUTDIR/NNNNNNNN.bin, anything else 400. Paths
starting with /raw take any body (200, ROWS = its lines), kept as OUTDIR/NNNNNNNN.json. One
line per request goes to OUTDIR/requests: "STATUS ROWS PATH CONTENT-TYPE AUTHORIZATION".
Writes the port it listens on (127.0.0.1, chosen by the kernel) to PORTFILE."""
import http.server, os, ssl, subprocess, sys, threading

proto_dir, out, portfile = sys.argv[1:4]
lock = threading.Lock()
count = [0]


def varint(b):
    v = s = i = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, i


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        rows, status = 0, 400
        if self.path.startswith('/raw'):        # any body: one row per line
            rows, status = body.count(b'\n'), 200
        try:
            n, i = (0, 1) if status == 200 else varint(body)
            if i + n == len(body):
                p = subprocess.run(['protoc', '--proto_path=' + proto_dir,
                                    '--decode=xtcp_flat_record.v1.Envelope',
                                    'xtcp_flat_record.proto'], input=body[i:],
                                   capture_output=True, check=True)
                rows = p.stdout.split(b'\n').count(b'row {')
                status = 200
        except (IndexError, subprocess.CalledProcessError):
            pass
        with lock:
            count[0] += 1
            if status == 200:
                ext = 'json' if self.path.startswith('/raw') else 'bin'
                with open(os.path.join(out, '%08d.%s' % (count[0], ext)), 'wb') as f:
                    f.write(body)
            with open(os.path.join(out, 'requests'), 'a') as f:
                f.write('%d %d %s %s %s\n' % (status, rows, self.path,
                                              self.headers.get('Content-Type'),
                                              self.headers.get('Authorization')))
        reply = b'ok\n' if status == 200 else b'not one protobufList message\n'
        self.send_response(status)
        self.send_header('Content-Length', str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
if len(sys.argv) > 5:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + '.tmp', 'w') as f:
    f.write('%d\n' % srv.server_address[1])
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
