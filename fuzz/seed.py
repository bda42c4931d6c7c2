#!/usr/bin/env python3
"""Seeds the fuzz corpora from the project's fixtures (fuzz/corpus/<target>/).

capture: every fixture file as is. decode: each pcap's frames in the decode
target's format ([link index][length][frame], frames cut to 255 bytes).
reassembly: the TCP segments of IPv4-over-Ethernet fixtures as 8-byte ops.
http: the client payloads of each fixture, chunks separated by 0xFF.
detect: the header lines of every request (numbers in clear).
diff: the bundled BEFORE/AFTER capture pairs as request lines (see its target).
hpack: the header blocks of RFC 7541 C.3 and C.4 (one table, blocks
separated by 0xFF). h2_frames, http: a small HTTP/2 client stream (frames
after the preface; with it, for http); for h2_frames after a selector byte,
with a server's stream that pushes (see the target).
body: a body of each kind behind its selector byte.
http_responses: requests asked, then a server stream of every framing.
tls_records: each connection of the TLS fixtures (fixtures/tls) as client and
server chunk ops; tls_handshake: their ClientHello and ServerHello bodies.
Run from the project root after `cargo build`: python3 fuzz/seed.py [DIR]
(DIR: where to write the corpora, default fuzz/corpus; .ci/run seeds a
temporary folder, so CI always starts from the fixtures as committed).
"""
import json, os, struct, subprocess, sys, glob, hashlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", "corpus")
LINKS = [1, 0, 12, 14, 101, 108, 113, 228, 229, 276, 104, 105, 127, 129, 239]

def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def pcap_frames(data):
    if len(data) < 24:
        return None, []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None, []
    link = struct.unpack(e + "I", data[20:24])[0] & 0xffff
    out, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[at + 8:at + 12])[0]
        out.append(data[at + 16:at + 16 + caplen])
        at += 16 + caplen
    return link, out

def tcp_of(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload) of Ethernet/IPv4/TCP, else None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 6:
        return None
    tot = struct.unpack(">H", ip[2:4])[0]
    tcp = ip[ihl:tot]
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
    doff = (tcp[12] >> 4) * 4
    return ip[12:16], ip[16:20], sport, dport, seq, ack, tcp[13], tcp[doff:]

def main():
    fixtures = sorted(glob.glob(os.path.join(ROOT, "fixtures", "*.pcap*")))
    for path in fixtures:
        data = open(path, "rb").read()
        put("capture", data)
        link, frames = pcap_frames(data)
        if link is None or link not in LINKS:
            continue
        li = LINKS.index(link)
        buf = b""
        for fr in frames:
            fr = fr[:255]
            buf += bytes([li, len(fr)]) + fr
            if len(buf) > 4000:
                put("decode", buf)
                buf = b""
        if buf:
            put("decode", buf)
        ops, payloads, base = b"", [], {}
        for fr in frames:
            t = tcp_of(fr)
            if t is None:
                continue
            src, dst, sport, dport, seq, ack, flags, payload = t
            key = (src, sport)
            base.setdefault(key, seq)
            f = (1 if flags & 2 else 0) | (2 if flags & 16 else 0) | (4 if flags & 1 else 0) | (8 if flags & 4 else 0)
            pair = 0 if dport == 80 else 1 | (0 << 2)
            pair = (0 | (1 << 2)) if dport == 80 or dport == 8080 else (1 | (0 << 2))
            rel = (seq - base[key]) & 0xffff
            p = payload[:255]
            ops += bytes([f, pair]) + struct.pack(">HH", rel, ack & 0xffff) + bytes([len(p), 0]) + p
            if dport in (80, 8080, 8081, 2222) and payload:
                payloads.append(payload)
        if ops:
            put("reassembly", ops[:60000])
        if payloads:
            put("http", b"\xff".join(payloads)[:60000])
    exe = os.path.join(ROOT, "target", "debug", "phoneleak")
    if os.path.exists(exe):
        for path in fixtures:
            out = subprocess.run([exe, "scan", "--format", "jsonl", "--all-requests", "--show-numbers", path],
                                 capture_output=True).stdout.decode("utf-8", "replace")
            for line in out.splitlines():
                o = json.loads(line)
                if o.get("type") == "request":
                    put("detect", "\n".join(f"{n}: {v}" for n, v in o["headers"]).encode())
    # tls_records: each TLS fixture's connections as client/server chunk ops;
    # tls_handshake: their ClientHello and ServerHello bodies.
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "tls", "*.pcap"))):
        _, frames = pcap_frames(open(path, "rb").read())
        conns = {}
        for fr in frames:
            t = tcp_of(fr)
            if t is None or not t[7]:
                continue
            src, dst, sport, dport, seq, ack, flags, payload = t
            from_server = sport == 443
            key = (dst, dport) if from_server else (src, sport)
            op = 4 if from_server else 0
            c = conns.setdefault(key, [b"", b"", b""])
            for i in range(0, len(payload), 0xffff):
                piece = payload[i:i + 0xffff]
                c[0] += bytes([op]) + struct.pack(">H", len(piece)) + piece
            c[2 if from_server else 1] += payload
        for ops, to_server, to_client in conns.values():
            put("tls_records", ops[:200000])
            bodies = []
            for stream, kind in ((to_server, 1), (to_client, 2)):
                if len(stream) > 9 and stream[0] == 22 and stream[5] == kind:
                    n = int.from_bytes(stream[6:9], "big")
                    bodies.append(stream[9:9 + n])
            if len(bodies) == 2:
                put("tls_handshake", bodies[0] + bodies[1])
    # diff: the bundled BEFORE/AFTER pairs, as the target's request lines.
    if os.path.exists(exe):
        for before in sorted(glob.glob(os.path.join(ROOT, "fixtures", "*-before.pcap"))):
            sides = []
            for path in (before, before.replace("-before.pcap", "-after.pcap")):
                out = subprocess.run([exe, "scan", "--format", "jsonl", "--all-requests", "--show-numbers", path],
                                     capture_output=True).stdout.decode("utf-8", "replace")
                lines = []
                for line in out.splitlines():
                    o = json.loads(line)
                    if o.get("type") == "request":
                        ns = int(o["packet"] or 0) * 1000000
                        hs = "|".join(f"{n}={v}" for n, v in o["headers"])
                        lines.append(f"{ns}|{o['src']}|{o['method']}|{o['uri']}|{hs}")
                sides.append("\n".join(lines))
            put("diff", b"\x00" + "\n----\n".join(sides).encode())
    # body: a first byte (type, coding, whole) and a body of each kind.
    for select, body in [
        (0, b'{"user":{"phone":"+447700900123","n":[1,2.5e3,true,null]},"s":"\\u00e9"}'),
        (1, b"to=%2B447700900123&msg=a+b&x"),
        (2, b"--b\r\nContent-Disposition: form-data; name=\"tel\"\r\n\r\n+447700900123\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n"),
        (3, b"<?xml version='1.0'?><a x='1'><msisdn>447700900123</msisdn><![CDATA[+447700900123]]></a>"),
        (4, b"call +447700900123, or msisdn=447700900123"),
        (0x80, b'{"a":"1","p":"+44770'),
    ]:
        put("body", bytes([select]) + body)
    # A regression input found by the http target (docs/robustness.md).
    regression = os.path.join(ROOT, "src", "http", "testdata", "fuzz-http-capacity.bin")
    if os.path.exists(regression):
        put("http", open(regression, "rb").read())
    # HTTP/2: RFC 7541 C.3 (plain) and C.4 (Huffman) request blocks.
    c3 = ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
          "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]
    c4 = ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
          "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]
    for blocks in (c3, c4):
        put("hpack", b"\xff".join(bytes.fromhex(b) for b in blocks))
    def frame(kind, flags, stream, payload):
        return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload
    frames = frame(4, 0, 0, bytes.fromhex("000400010000"))
    frames += frame(1, 0x28, 1, b"\x02" + bytes(5) + bytes.fromhex(c4[0])[:6] + b"\0\0")
    frames += frame(9, 4, 1, bytes.fromhex(c4[0])[6:])
    frames += frame(0, 9, 1, b"\x01body\0")
    frames += frame(1, 5, 3, bytes.fromhex(c4[1]))
    frames += frame(3, 0, 3, bytes(4)) + frame(7, 0, 0, bytes(8))
    put("http", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frames)
    # h2_frames: a selector byte (1: the server's stream starts with an
    # upgrade's 101), the client's frames, then (0xFF 0xFD) the server's:
    # SETTINGS, its ACK, a padded PUSH_PROMISE continued in a CONTINUATION,
    # a response and DATA.
    promised = bytes.fromhex(c4[0])
    server = frame(4, 0, 0, bytes.fromhex("000300000064")) + frame(4, 1, 0, b"")
    server += frame(5, 0x08, 1, b"\x02" + struct.pack(">I", 2) + promised[:6] + b"\0\0")
    server += frame(9, 4, 1, promised[6:])
    server += frame(1, 4, 1, b"\x88") + frame(0, 1, 1, b"<html>")
    put("h2_frames", b"\x00" + frames + b"\xff\xfd" + server)
    put("h2_frames", b"\x01" + frames + b"\xff\xfdHTTP/1.1 101 Switching Protocols\r\n\r\n" + server)
    # http_responses: requests asked (0xFD + a method byte), then a server
    # stream of every framing: interim, HEAD, lengths, 204/304, chunked with
    # extensions and trailers, read until the end.
    asks = b"\xff".join([b"\xfd\x00", b"\xfd\x01"] + [b"\xfd\x00"] * 5)
    responses = (b"HTTP/1.1 100 Continue\r\n\r\n"
                 b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/"
                 b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"
                 b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n"
                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5;a=b\r\nHTTP/\r\n0\r\nX-T: 1\r\n\r\n"
                 b"HTTP/1.0 200 OK\r\n\r\nto the end")
    put("http_responses", asks + b"\xff" + responses)
    put("http_responses", asks + b"\xff" + responses[:60] + b"\xff\xfe\x00\x00\xff" + responses[60:])
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), "seeds")

main()
