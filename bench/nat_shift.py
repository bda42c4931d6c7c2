#!/usr/bin/env python3
"""Makes the AFTER side of a diff scale run from a benchmark capture: the same
packets behind a NAT with another clock. Subscriber addresses are rewritten
(IPv4 100.64.0.0/10 to 10.64.0.0/10, IPv6 2001:db8:1000::/48 to
2001:db8:2000::/48, the IPv4 header checksum recomputed; TCP checksums are
left as they were, which phoneleak does not check), behind Ethernet and
802.1Q tags, and every timestamp moves by SHIFT seconds.

    python3 bench/nat_shift.py IN.pcap OUT.pcap [SHIFT]   # classic pcap, LE

Used by the diff row of bench/notes.md: `phoneleak diff IN OUT` must pair
every request.
"""
import struct, sys

def ip_checksum(h):
    s = sum(struct.unpack(">10H", h))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def rewrite(frame):
    at, et = 12, frame[12:14]
    while et in (b"\x81\x00", b"\x88\xa8"):
        at += 4
        et = frame[at:at + 2]
    ip = at + 2
    if et == b"\x08\x00" and len(frame) >= ip + 20:
        b = bytearray(frame)
        changed = False
        for off in (ip + 12, ip + 16):
            if b[off] == 100 and 64 <= b[off + 1] < 128:
                b[off] = 10
                changed = True
        if changed:
            ihl = (b[ip] & 15) * 4
            if ihl == 20:
                b[ip + 10:ip + 12] = b"\0\0"
                b[ip + 10:ip + 12] = struct.pack(">H", ip_checksum(bytes(b[ip:ip + 20])))
            return bytes(b)
    elif et == b"\x86\xdd" and len(frame) >= ip + 40:
        b = bytearray(frame)
        for off in (ip + 8, ip + 24):
            if b[off:off + 6] == b"\x20\x01\x0d\xb8\x10\x00":
                b[off + 4] = 0x20
        return bytes(b)
    return frame

def main():
    src, dst = sys.argv[1], sys.argv[2]
    shift = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with open(src, "rb") as f, open(dst, "wb") as out:
        hdr = f.read(24)
        if hdr[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            sys.exit("classic little-endian pcap only")
        out.write(hdr)
        buf = []
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, origlen = struct.unpack("<IIII", rec)
            frame = f.read(caplen)
            buf.append(struct.pack("<IIII", sec + shift, frac, caplen, origlen))
            buf.append(rewrite(frame))
            if len(buf) > 20000:
                out.write(b"".join(buf))
                buf = []
        out.write(b"".join(buf))

if __name__ == "__main__":
    main()
