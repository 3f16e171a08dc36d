#!/usr/bin/env python3
"""docker_api — a stand-in for the Docker Engine API on a unix socket, for tests:
Debian's docker.io daemon cannot run in the test environment (no nested containers), so
this serves the one request xtcpd makes, GET /containers/<id>/json, with the fields it
reads (Name, Config.Image), from a table given on the command line.
Usage: docker_api.py SOCKET LOG MODE ID=NAME=IMAGE...
MODE ok: answer (404 for an id not in the table); slow: accept, read, never answer.
Each request's path is appended to LOG."""
import http.server
import json
import os
import socketserver
import sys
import time

sock, log, mode = sys.argv[1:4]
table = {}
for arg in sys.argv[4:]:
    cid, name, image = arg.split("=", 2)
    table[cid] = (name, image)


class Handler(http.server.BaseHTTPRequestHandler):
    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        if mode == "slow":
            time.sleep(3600)
            return
        parts = self.path.split("/")
        cid = parts[2] if len(parts) == 4 and parts[1] == "containers" and parts[3] == "json" else ""
        if cid in table:
            name, image = table[cid]
            body = json.dumps({"Id": cid, "Name": "/" + name, "State": {"Running": True},
                               "Config": {"Image": image, "Hostname": cid[:12]}}).encode()
            self.send_response(200)
        else:
            body = json.dumps({"message": "No such container: " + cid}).encode()
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(sock):
    os.unlink(sock)
srv = Server(sock, Handler)
open(sock + ".ready", "w").close()
srv.serve_forever()
