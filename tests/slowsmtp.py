#!/usr/bin/env python3
"""An SMTP listener that is slow, or silent, for the probe's deadline
(stdlib only).

  slowsmtp.py --addr 127.0.0.1 --port 2525 --mode MODE [--delay SECONDS]
              [--cert CHAIN.pem --key KEY.pem] [--pidfile F]

Modes:
  silent  accepts each connection and never says a word
  slow    greets each connection after --delay seconds, then answers as
          smtpd does: EHLO offers STARTTLS, STARTTLS starts TLS with
          --cert (leaf first, then its chain) and --key, QUIT says 221
The pidfile is written once the socket listens; SIGTERM ends the server.
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import threading
import time


def lines(f):
    while True:
        line = f.readline()
        if not line:
            return
        yield line.strip().upper()


def talk(conn, args, ctx):
    if args.mode == "silent":
        conn.recv(1)            # held open until the client gives up
        return
    time.sleep(args.delay)
    f = conn.makefile("rwb", buffering=0)
    f.write(b"220 slow.example.org ESMTP\r\n")
    for line in lines(f):
        if line.startswith((b"EHLO", b"HELO")):
            f.write(b"250-slow.example.org\r\n250 STARTTLS\r\n")
        elif line == b"STARTTLS":
            f.write(b"220 2.0.0 Ready to start TLS\r\n")
            conn = ctx.wrap_socket(conn, server_side=True)
            f = conn.makefile("rwb", buffering=0)
        elif line == b"QUIT":
            f.write(b"221 2.0.0 Bye\r\n")
            return
        else:
            f.write(b"250 2.0.0 Ok\r\n")


def serve(conn, args, ctx):
    try:
        talk(conn, args, ctx)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2525)
    ap.add_argument("--mode", required=True, choices=("silent", "slow"))
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    ctx = None
    if args.mode == "slow":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.addr, args.port))
    s.listen(16)
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.pidfile + ".tmp", args.pidfile)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, args, ctx),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
