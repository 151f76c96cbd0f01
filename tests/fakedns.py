#!/usr/bin/env python3
"""A small DNS server for hostile and odd answers (stdlib only).

The helper's DANE lookup is judged against real nsd and unbound
(tests/dns-lib.bash); this server gives the answers no real server gives,
for the C parser's tests, and the quick NXDOMAIN every world starts with
(tests/world.sh).

  fakedns.py --addr 127.0.0.1 --port 53 --mode MODE
             [--tlsa "NAME USAGE SELECTOR MTYPE HEX"]... [--ad] [--pidfile F]

UDP and TCP on the same address and port.  Modes:
  answer     the --tlsa records for their names (TLSA or ANY queries;
             NOERROR and no records for other types), NXDOMAIN for others
  nxdomain   NXDOMAIN for every name
  servfail   SERVFAIL for every name
  silent     reads every query, never answers (TCP: accepts, never answers)
  tc         UDP: TC=1 and no records; TCP: accepts, never answers
  ptrloop    one answer record whose owner name is a compression pointer
             to itself
  shortrd    one TLSA record whose RDLENGTH runs past the message's end
  cnameloop  the question's name as a CNAME to itself
  wrongid    the "answer" mode's answer under another message ID
  garbage    random bytes
--ad sets the AD bit in every answer that has a header.  The pidfile is
written once both sockets are bound; SIGTERM ends the server.
"""

import argparse
import os
import random
import selectors
import signal
import socket
import struct
import sys

TLSA, CNAME, OPT, ANY = 52, 5, 41, 255
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3
MODES = ("answer", "nxdomain", "servfail", "silent", "tc", "ptrloop",
         "shortrd", "cnameloop", "wrongid", "garbage")


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def parse_query(msg):
    """(id, rd, qname as wire bytes, qname text, qtype, edns) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount, _, _, arcount = struct.unpack("!6H", msg[:12])
    if flags & 0x8000 or qdcount != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0 or pos + 1 + n > len(msg):
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 4 > len(msg):
        return None
    wire = msg[12:pos]
    qtype, _ = struct.unpack("!2H", msg[pos:pos + 4])
    return qid, flags & 0x0100, wire, ".".join(labels).lower(), qtype, \
        arcount > 0


def header(qid, rd, rcode, ancount, arcount, ad, tc=False):
    flags = 0x8000 | 0x0400 | rd | 0x0080 | rcode  # QR AA RD RA
    if tc:
        flags |= 0x0200
    if ad:
        flags |= 0x0020
    return struct.pack("!6H", qid, flags, 1, ancount, 0, arcount)


def rr(owner, rtype, rdata, ttl=300):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def opt_rr():
    # EDNS0, 1232-byte payload, DO set.
    return b"\0" + struct.pack("!HHIH", OPT, 1232, 0x00008000, 0)


def question(wire, qtype):
    return wire + struct.pack("!HH", qtype, 1)


def respond(mode, q, records, ad, udp):
    """The reply to query q (parsed), or None for no reply."""
    qid, rd, wire, qname, qtype, edns = q
    opt = opt_rr() if edns else b""
    arcount = 1 if edns else 0
    quest = question(wire, qtype)
    if mode == "silent" or (mode == "tc" and not udp):
        return None
    if mode == "garbage":
        return bytes(random.getrandbits(8) for _ in range(random.randint(1, 80)))
    if mode == "nxdomain":
        return header(qid, rd, NXDOMAIN, 0, arcount, ad) + quest + opt
    if mode == "servfail":
        return header(qid, rd, SERVFAIL, 0, arcount, ad) + quest + opt
    if mode == "tc":
        return header(qid, rd, NOERROR, 0, arcount, ad, tc=True) + quest + opt
    if mode == "ptrloop":
        # The record's owner sits right after the question: a pointer to
        # its own offset.
        at = 12 + len(quest)
        owner = struct.pack("!H", 0xC000 | at)
        body = rr(owner, TLSA, bytes([3, 1, 1]) + bytes(32))
        return header(qid, rd, NOERROR, 1, 0, ad) + quest + body
    if mode == "shortrd":
        rdata = bytes([3, 1, 1]) + bytes(32)
        rec = wire + struct.pack("!HHIH", TLSA, 1, 300, len(rdata) + 40) + rdata
        return header(qid, rd, NOERROR, 1, 0, ad) + quest + rec
    if mode == "cnameloop":
        rec = rr(b"\xc0\x0c", CNAME, wire)
        return header(qid, rd, NOERROR, 1, arcount, ad) + quest + rec + opt
    # answer, wrongid
    if qname in records:
        found = [r for r in records[qname] if qtype in (TLSA, ANY)]
        body = b"".join(rr(b"\xc0\x0c", TLSA, r) for r in found)
        msg = header(qid, rd, NOERROR, len(found), arcount, ad) + quest + body
    else:
        msg = header(qid, rd, NXDOMAIN, 0, arcount, ad) + quest
    msg += opt
    if mode == "wrongid":
        msg = struct.pack("!H", (qid + 1) & 0xFFFF) + msg[2:]
    return msg


def tlsa_records(specs):
    records = {}
    for spec in specs:
        parts = spec.split()
        if len(parts) != 5:
            sys.exit("fakedns.py: --tlsa wants NAME USAGE SELECTOR MTYPE HEX: %r" % spec)
        name = parts[0].rstrip(".").lower()
        rdata = bytes(int(p) for p in parts[1:4]) + bytes.fromhex(parts[4])
        records.setdefault(name, []).append(rdata)
    return records


def main():
    ap = argparse.ArgumentParser(description="DNS server for odd answers")
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--mode", choices=MODES, default="answer")
    ap.add_argument("--tlsa", action="append", default=[])
    ap.add_argument("--ad", action="store_true")
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    records = tlsa_records(args.tlsa)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((args.addr, args.port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.addr, args.port))
    tcp.listen(16)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)

    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "listen")
    buffers = {}
    try:
        while True:
            for key, _ in sel.select():
                sock = key.fileobj
                if key.data == "udp":
                    msg, peer = udp.recvfrom(65535)
                    q = parse_query(msg)
                    if q is None:
                        continue
                    reply = respond(args.mode, q, records, args.ad, True)
                    if reply is not None:
                        udp.sendto(reply, peer)
                elif key.data == "listen":
                    conn, _ = tcp.accept()
                    buffers[conn] = b""
                    sel.register(conn, selectors.EVENT_READ, "conn")
                else:
                    try:
                        data = sock.recv(65535)
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(sock)
                        del buffers[sock]
                        sock.close()
                        continue
                    buf = buffers[sock] + data
                    while len(buf) >= 2:
                        n = struct.unpack("!H", buf[:2])[0]
                        if len(buf) < 2 + n:
                            break
                        q = parse_query(buf[2:2 + n])
                        buf = buf[2 + n:]
                        if q is None:
                            continue
                        reply = respond(args.mode, q, records, args.ad, False)
                        if reply is not None:
                            try:
                                sock.sendall(struct.pack("!H", len(reply)) + reply)
                            except OSError:
                                pass
                    buffers[sock] = buf
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()
