#!/usr/bin/env python3
"""Review-only hostile DNS server. --mode:
 cname      qname CNAME -> TARGET (mixed case), TLSA at target (from --data)
 cnamedot   like cname, but answer owner names in UPPER case
 huge       UDP: TC; TCP: N junk TLSA records (3 1 1 random) then the --data record last
 authority  TLSA records in the authority section only, NOERROR, ancount 0
 otherowner TLSA at another owner in the answer section (ancount>0), AD
 emptyrd    a TLSA with rdlen 3 (no data) beside the --data record
 trailing   the normal answer plus 4 trailing garbage bytes
 drip       TCP after TC: sends 1 byte every 0.4 s
 manycname  a chain of 8 CNAMEs then TLSA
 dup        the --data record 500 times (UDP TC, TCP full)
 bigrr      one TLSA 3 1 0 with 60000 bytes of data, then --data record
"""
import socket, struct, sys, os, random, threading, time, argparse
ap = argparse.ArgumentParser()
ap.add_argument("--mode"); ap.add_argument("--data", default="")
ap.add_argument("--ad", action="store_true"); ap.add_argument("--n", type=int, default=1200)
ap.add_argument("--pidfile")
ap.add_argument("--addr", default="127.0.0.1"); ap.add_argument("--port", type=int, default=53)
a = ap.parse_args()
TLSA, CNAME = 52, 5
def enc(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"
def rr(owner, t, rdata, cls=1):
    return owner + struct.pack("!HHIH", t, cls, 300, len(rdata)) + rdata
def tl(spec):
    p = spec.split(); return bytes(int(x) for x in p[:3]) + bytes.fromhex(p[3])
def hdr(qid, rd, rc, an, ns=0, tc=False):
    f = 0x8000 | 0x0400 | rd | 0x0080 | rc | (0x0200 if tc else 0) | (0x20 if a.ad else 0)
    return struct.pack("!6H", qid, f, 1, an, ns, 0)
def parse(m):
    qid, fl = struct.unpack("!HH", m[:4]); p = 12; labs = []
    while m[p]: labs.append(m[p+1:p+1+m[p]].decode()); p += 1 + m[p]
    p += 1; qt = struct.unpack("!H", m[p:p+2])[0]
    return qid, fl & 0x100, m[12:p], ".".join(labs), qt, m[12:p+4]
def answer(q, udp):
    qid, rd, wire, qname, qt, quest = q
    data = tl(a.data) if a.data else b""
    m = a.mode
    if m in ("cname", "cnamedot"):
        tgt = "_25._TCP.Target.Example.NET"
        own = wire if m == "cname" else enc(qname.upper())
        body = rr(own, CNAME, enc(tgt)) + rr(enc(tgt.lower() if m == "cname" else tgt.upper()), TLSA, data)
        return hdr(qid, rd, 0, 2) + quest + body
    if m == "manycname":
        names = [qname] + ["c%d.example.net" % i for i in range(8)]
        body = b"".join(rr(enc(names[i]), CNAME, enc(names[i+1])) for i in range(8))
        body += rr(enc(names[8]), TLSA, data)
        return hdr(qid, rd, 0, 9) + quest + body
    if m in ("huge", "dup", "bigrr", "drip"):
        if udp:
            return hdr(qid, rd, 0, 0, tc=True) + quest
        if m == "huge":
            recs = [rr(b"\xc0\x0c", TLSA, bytes([3,1,1]) + os.urandom(32)) for _ in range(a.n)]
        elif m == "dup":
            recs = [rr(b"\xc0\x0c", TLSA, data) for _ in range(a.n)]
        elif m == "bigrr":
            recs = [rr(b"\xc0\x0c", TLSA, bytes([3,1,0]) + os.urandom(60000))]
        else:
            recs = []
        recs.append(rr(b"\xc0\x0c", TLSA, data))
        return hdr(qid, rd, 0, len(recs)) + quest + b"".join(recs)
    if m == "authority":
        return hdr(qid, rd, 0, 0, ns=1) + quest + rr(b"\xc0\x0c", TLSA, data)
    if m == "otherowner":
        return hdr(qid, rd, 0, 1) + quest + rr(enc("_25._tcp.other.example.org"), TLSA, data)
    if m == "emptyrd":
        return hdr(qid, rd, 0, 2) + quest + rr(b"\xc0\x0c", TLSA, bytes([3,1,1])) + rr(b"\xc0\x0c", TLSA, data)
    if m == "trailing":
        return hdr(qid, rd, 0, 1) + quest + rr(b"\xc0\x0c", TLSA, data) + b"\0\0\0\0"
    raise SystemExit("mode?")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((a.addr, a.port))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((a.addr, a.port)); t.listen(8)
def tcp():
    while True:
        c, _ = t.accept()
        def h(c=c):
            try:
                ln = struct.unpack("!H", c.recv(2))[0]; m = b""
                while len(m) < ln: m += c.recv(ln - len(m))
                r = answer(parse(m), False)
                out = struct.pack("!H", len(r)) + r
                if a.mode == "drip":
                    for b in out:
                        c.send(bytes([b])); time.sleep(0.4)
                else:
                    c.sendall(out)
            except Exception as e:
                print("tcp", e, file=sys.stderr)
        threading.Thread(target=h, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
if a.pidfile: open(a.pidfile, "w").write(str(os.getpid()))
while True:
    m, p = u.recvfrom(65535)
    u.sendto(answer(parse(m), True), p)
