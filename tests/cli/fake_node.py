#!/usr/bin/env python3
"""tests/cli/fake_node.py — a tiny stand-in for a liaison node, for
client_test.sh: canned JSON answers and an SSE stream, on 127.0.0.1.

usage: fake_node.py PORTFILE LOGFILE [CERT KEY]

Listens on a free port (written to PORTFILE once listening) and appends
one JSON line per request to LOGFILE (method, path, headers that matter,
body), so the test can check what the client sent. The token "good" is
accepted; anything else gets 401. The stream drops the connection after two
events the first time, and on reconnection serves what follows the
Last-Event-ID it is given — as a node does. With CERT and KEY (PEM), it
speaks HTTPS.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()

ITEMS = [
    {"id": 1, "channel": "cyber-defence", "marking": "NATO UNCLASSIFIED",
     "label": {"policy": "1.3.26.1.3.1", "classification": "UNCLASSIFIED"},
     "author": "taro", "organisation": "Mission of Japan",
     "created": "2026-11-23T10:00:00Z", "body": "Exercise schedule"},
    {"id": 2, "channel": "cyber-defence", "marking": "NATO RESTRICTED RELEASABLE TO JPN",
     "markingFr": "NATO DIFFUSION RESTREINTE COMMUNICABLE JPN",
     "label": {"policy": "1.3.26.1.3.1", "classification": "RESTRICTED"},
     "author": "anne", "organisation": "NATO International Staff",
     "created": "2026-11-23T10:05:00Z", "body": "Line one\nLine two"},
    {"id": 3, "channel": "cyber-defence", "marking": "NATO UNCLASSIFIED",
     "label": {"policy": "1.3.26.1.3.1", "classification": "UNCLASSIFIED"},
     "author": "mallory\x1b[31m", "organisation": "Nowhere",
     "created": "2026-11-23T10:10:00Z", "body": "bell\x07 and \x1b]0;pwned\x07 csi\u009b1m end"},
]


def log(entry):
    with LOCK, open(LOGFILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


class Node(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message):
        self.reply(status, {"error": code, "message": message})

    def authorised(self):
        if self.headers.get("Authorization") != "Bearer good":
            self.error(401, "unauthorized", "missing or wrong bearer token")
            return False
        return True

    def record(self, body=None):
        log({"method": self.command, "path": self.path,
             "auth": self.headers.get("Authorization"),
             "content_type": self.headers.get("Content-Type"),
             "last_event_id": self.headers.get("Last-Event-ID"),
             "body": body})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        self.record(raw)
        if not self.authorised():
            return
        url = urlsplit(self.path)
        if url.path != "/api/v1/channels/cyber-defence/items":
            return self.error(404, "not_found", "no such channel")
        try:
            req = json.loads(raw)
        except ValueError:
            return self.error(400, "malformed_json", "the body is not JSON")
        if "beyond" in req.get("body", ""):
            return self.error(403, "forbidden",
                              "the label is beyond your clearance")
        if "invalid" in req.get("body", ""):
            return self.error(422, "invalid",
                              "invalid label: the classification is missing")
        if "huge" in req.get("body", ""):
            return self.error(413, "payload_too_large", "the body is too large")
        self.reply(201, {"id": 42, "marking": "NATO RESTRICTED RELEASABLE TO JPN"})

    def do_GET(self):
        self.record()
        if not self.authorised():
            return
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        if url.path == "/api/v1/channels/cyber-defence/items":
            after = int(q.get("after", ["0"])[0])
            limit = int(q.get("limit", ["100"])[0])
            items = [i for i in ITEMS if i["id"] > after][:limit]
            # a read listing leaves "channel" out: the client knows it
            items = [{k: v for k, v in i.items() if k != "channel"} for i in items]
            return self.reply(200, {"items": items})
        if url.path.startswith("/api/v1/channels/"):
            return self.error(404, "not_found", "no such channel")
        if url.path == "/api/v1/search":
            words = q.get("q", [""])[0].lower().split()
            items = [i for i in ITEMS if all(w in i["body"].lower() for w in words)]
            return self.reply(200, {"items": items})
        if url.path == "/api/v1/stream":
            return self.stream(q.get("channel", [""])[0])
        self.error(404, "not_found", "no such route")

    def stream(self, channel):
        if channel != "cyber-defence":
            return self.error(404, "not_found", "no such channel")
        last = self.headers.get("Last-Event-ID")
        after = int(last) if last and last.isdigit() else 0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        out = "retry: 50\n\n: hello\n\n"
        sent = 0
        for it in ITEMS:
            if it["id"] <= after:
                continue
            data = json.dumps(it)
            # CRLF line ends on the second event, to exercise the parser
            end = "\r\n" if it["id"] == 2 else "\n"
            out += "id: %d%sevent: item%sdata: %s%s%s" % (it["id"], end, end, data, end, end)
            sent += 1
            if after == 0 and sent == 2:
                break  # drop the connection: the client must resume
        self.wfile.write(out.encode())
        self.wfile.flush()


server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
if len(sys.argv) == 5:
    import ssl
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
