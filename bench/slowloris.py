#!/usr/bin/env python3
"""bench/slowloris.py — the half-open connection attack of issue 9, item 5,
against a node on loopback, and what a well-behaved client gets meanwhile.

    bench/slowloris.py PORT [--conns 1100] [--addrs 10] [--every 15]
                            [--seconds 60] [--path /healthz]

Opens --conns connections to 127.0.0.1:PORT from --addrs source addresses
(127.0.0.2, 127.0.0.3, ...: the loopback /8 stands in for many attackers),
each sending a request line and then one header line every --every seconds,
never finishing its request; a connection the node closes is opened again.
Meanwhile a client sends a complete `GET --path` every half second on a
fresh connection and times it. At the end: the client's answers (served,
failed), their median, p99 and slowest time, and how many attack
connections the node closed. A measurement, not a test: run it by hand
(docs/PERFORMANCE.md has the figures and the commands).
"""
import argparse
import selectors
import socket
import statistics
import sys
import threading
import time


def attacker(port, conns, addrs, every, stop, counts):
    sel = selectors.DefaultSelector()
    socks = {}

    def open_one(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind(("127.0.0.%d" % (2 + i % addrs), 0))
            s.connect_ex(("127.0.0.1", port))
        except OSError:
            s.close()
            return
        socks[s] = [i, 0, 0.0]  # index, lines sent, next send time
        sel.register(s, selectors.EVENT_READ)
        counts["opened"] += 1

    for i in range(conns):
        open_one(i)
    while not stop.is_set():
        now = time.monotonic()
        for s, st in list(socks.items()):
            if now >= st[2]:
                line = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if st[1] == 0 else b"X-a: b\r\n"
                try:
                    s.send(line)
                    st[1] += 1
                    st[2] = now + every
                except OSError:
                    pass
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:  # closed by the node: the attacker comes back
                counts["closed"] += 1
                i = socks.pop(s)[0]
                sel.unregister(s)
                s.close()
                open_one(i)
    for s in socks:
        s.close()


def client(port, path, stop, times, failures):
    req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(req)
                got = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
            if got.startswith(b"HTTP/1.1 200"):
                times.append(time.monotonic() - t0)
            else:
                failures.append(got[:40])
        except OSError as e:
            failures.append(str(e))
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=1100)
    ap.add_argument("--addrs", type=int, default=10)
    ap.add_argument("--every", type=float, default=15)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--path", default="/healthz")
    a = ap.parse_args()
    stop = threading.Event()
    counts = {"opened": 0, "closed": 0}
    times, failures = [], []
    ta = threading.Thread(target=attacker, args=(a.port, a.conns, a.addrs, a.every, stop, counts))
    ta.start()
    time.sleep(2)  # let the attack take hold first
    tc = threading.Thread(target=client, args=(a.port, a.path, stop, times, failures))
    tc.start()
    time.sleep(a.seconds)
    stop.set()
    tc.join()
    ta.join()
    ms = sorted(t * 1000 for t in times)
    print("attack: %d connections from %d addresses, a header line every %g s; "
          "%d opened, %d closed by the node" % (a.conns, a.addrs, a.every, counts["opened"],
                                                counts["closed"]))
    if ms:
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print("client: %d served, %d failed; median %.1f ms, p99 %.1f ms, slowest %.1f ms"
              % (len(ms), len(failures), statistics.median(ms), p99, ms[-1]))
    else:
        print("client: 0 served, %d failed (%s)" % (len(failures), failures[:1]))
    return 0 if ms and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
