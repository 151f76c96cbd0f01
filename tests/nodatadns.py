#!/usr/bin/env python3
"""A DNS server for the answers that mean "no TLSA records" without
being NXDOMAIN, and for answers that come late (stdlib only, UDP).

  nodatadns.py --addr 127.0.0.1 --port 53 --mode MODE [--ad]
               [--tlsa "USAGE SELECTOR MTYPE HEX"]... [--delay SECONDS]
               [--pidfile F]

Every query gets, for its own name:
  nodata       NOERROR, an empty answer, the zone's SOA in the authority
               section (RFC 2308 NODATA, as a real server sends it)
  othertypes   NOERROR, an answer of an A record (3.1.1.0) and a TXT
               record at the name, no TLSA
  cname-nodata NOERROR, an answer of one CNAME to another name, which
               holds no TLSA (the SOA in the authority section)
  cname-nxdomain  NXDOMAIN, the answer a CNAME to a name that does not
               exist (RFC 6604: the code is the last name's)
  records      NOERROR, the --tlsa records at the name
--delay sends each reply that many seconds after its query (the others
are answered meanwhile).  --ad sets the AD bit.  The pidfile is written
once the socket is bound; SIGTERM ends the server.
"""

import argparse
import os
import signal
import socket
import struct
import sys
import threading

A, CNAME, SOA, TXT, TLSA = 1, 5, 6, 16, 52
NOERROR, NXDOMAIN = 0, 3
TARGET = "_25._tcp.elsewhere.example.net"


def name(text):
    return b"".join(bytes([len(l)]) + l.encode("ascii")
                    for l in text.rstrip(".").split(".") if l) + b"\0"


def rr(owner, rtype, rdata):
    return owner + struct.pack("!HHIH", rtype, 1, 300, len(rdata)) + rdata


def soa():
    rdata = name("ns.example.net") + name("hostmaster.example.net") + \
        struct.pack("!5I", 1, 3600, 600, 86400, 300)
    return rr(name("example.net"), SOA, rdata)


def parse(msg):
    """(id, rd, question bytes, qname wire) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!3H", msg[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    pos = 12
    while pos < len(msg) and msg[pos]:
        if msg[pos] & 0xC0:
            return None
        pos += 1 + msg[pos]
    if pos + 5 > len(msg):
        return None
    return qid, flags & 0x0100, msg[12:pos + 5], msg[12:pos + 1]


def reply(args, q):
    qid, rd, question, wire = q
    rcode, answer, authority = NOERROR, [], []
    if args.mode == "nodata":
        authority = [soa()]
    elif args.mode == "othertypes":
        answer = [rr(b"\xc0\x0c", A, bytes([3, 1, 1, 0])),
                  rr(b"\xc0\x0c", TXT, b"\x0b3 1 1 00 00")]
    elif args.mode in ("cname-nodata", "cname-nxdomain"):
        answer = [rr(b"\xc0\x0c", CNAME, name(TARGET))]
        authority = [soa()]
        if args.mode == "cname-nxdomain":
            rcode = NXDOMAIN
    else:
        answer = [rr(b"\xc0\x0c", TLSA, bytes(int(x) for x in r.split()[:3]) +
                     bytes.fromhex(r.split()[3])) for r in args.tlsa]
    flags = 0x8000 | 0x0400 | rd | 0x0080 | rcode | (0x0020 if args.ad else 0)
    head = struct.pack("!6H", qid, flags, 1, len(answer), len(authority), 0)
    return head + question + b"".join(answer) + b"".join(authority)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--mode", required=True, choices=(
        "nodata", "othertypes", "cname-nodata", "cname-nxdomain", "records"))
    ap.add_argument("--tlsa", action="append", default=[])
    ap.add_argument("--ad", action="store_true")
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((args.addr, args.port))
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.pidfile + ".tmp", args.pidfile)
    while True:
        msg, peer = udp.recvfrom(65535)
        q = parse(msg)
        if q is None:
            continue
        out = reply(args, q)
        if args.delay > 0:
            threading.Timer(args.delay, udp.sendto, (out, peer)).start()
        else:
            udp.sendto(out, peer)


if __name__ == "__main__":
    sys.exit(main())
