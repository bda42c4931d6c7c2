//! HTTP/2 frames (RFC 9113 section 4 and 6) over a byte stream that may be
//! cut anywhere.
//!
//! [`FrameReader`] holds at most a frame header (9 bytes): payloads are
//! passed on piece by piece as they arrive, with the padding and priority
//! fields of DATA and HEADERS taken off, so no frame is ever buffered here
//! whatever length it claims (up to 2^24 - 1).

/// Frame types.
pub mod kind {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE (sent by servers only).
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// END_STREAM (DATA, HEADERS); ACK on SETTINGS and PING.
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING): the same bit as END_STREAM.
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED (DATA, HEADERS, PUSH_PROMISE).
    pub const PADDED: u8 = 0x8;
    /// PRIORITY (HEADERS).
    pub const PRIORITY: u8 = 0x20;
}

/// Length of a frame header.
pub const HEADER_LEN: usize = 9;

/// A frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub len: u32,
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier (31 bits; the reserved bit cleared).
    pub stream: u32,
}

impl FrameHeader {
    /// Parses 9 bytes.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Self {
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = *b;
        FrameHeader {
            len: u32::from_be_bytes([0, l0, l1, l2]),
            kind,
            flags,
            stream: u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]),
        }
    }

    /// Whether a flag is set.
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Bytes of the payload before the content: the pad length, and the
    /// priority fields (HEADERS) or the promised stream identifier
    /// (PUSH_PROMISE), where this type has them.
    fn prefix(&self) -> (bool, u32) {
        let padded = matches!(self.kind, kind::DATA | kind::HEADERS | kind::PUSH_PROMISE)
            && self.has(flag::PADDED);
        let fields = match self.kind {
            kind::HEADERS if self.has(flag::PRIORITY) => 5,
            kind::PUSH_PROMISE => PROMISED_LEN,
            _ => 0,
        };
        (padded, fields)
    }
}

/// Length of a PUSH_PROMISE's promised stream identifier.
const PROMISED_LEN: u32 = 4;

/// SETTINGS parameters read here (RFC 9113 6.5.2).
pub mod setting {
    /// SETTINGS_HEADER_TABLE_SIZE: the largest HPACK table the sender's
    /// decoder allows the peer's encoder.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// SETTINGS_ENABLE_PUSH: 0 forbids the peer (a server) to push.
    pub const ENABLE_PUSH: u16 = 0x2;
}

/// Reads a SETTINGS frame's parameters (6 bytes each) from content pieces
/// cut anywhere; holds at most one parameter's bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsReader {
    buf: [u8; 6],
    have: usize,
}

impl SettingsReader {
    /// Takes content bytes, calling `f` with each whole parameter
    /// (identifier, value).
    pub fn feed(&mut self, mut bytes: &[u8], f: &mut dyn FnMut(u16, u32)) {
        while !bytes.is_empty() {
            let take = (self.buf.len().saturating_sub(self.have)).min(bytes.len());
            let (now, rest) = bytes.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.have..self.have.saturating_add(take)) {
                dst.copy_from_slice(now);
            }
            self.have = self.have.saturating_add(take);
            bytes = rest;
            if self.have == self.buf.len() {
                let [i0, i1, v0, v1, v2, v3] = self.buf;
                f(
                    u16::from_be_bytes([i0, i1]),
                    u32::from_be_bytes([v0, v1, v2, v3]),
                );
                self.have = 0;
            }
        }
    }
}

/// Largest payload a frame may have before SETTINGS_MAX_FRAME_SIZE is
/// raised (RFC 9113 4.2): the bound [`plausible_client_frame`] holds frames to.
pub const DEFAULT_MAX_FRAME: u32 = 1 << 14;

/// Whether 9 bytes are a frame header a client may send: a known type other
/// than PUSH_PROMISE, the reserved bit clear, a length within the default
/// maximum frame size and fixed where the type fixes it, only the flags the
/// type defines, and a stream identifier where the type wants one (odd for
/// HEADERS) and 0 where it wants none. Used to recognise HTTP/2 where a
/// stream is picked up without its preface, so it is stricter than the
/// reader (which follows whatever framing comes after a preface).
pub fn plausible_client_frame(b: &[u8; HEADER_LEN]) -> bool {
    if b[5] & 0x80 != 0 {
        return false;
    }
    let h = FrameHeader::parse(b);
    if h.len > DEFAULT_MAX_FRAME {
        return false;
    }
    let (f, l, on_stream) = (h.flags, h.len, h.stream != 0);
    let only = |allowed: u8| f & !allowed == 0;
    match h.kind {
        kind::DATA => {
            on_stream && only(flag::END_STREAM | flag::PADDED) && (f & flag::PADDED == 0 || l >= 1)
        }
        kind::HEADERS => {
            let (padded, prio) = h.prefix();
            on_stream
                && h.stream % 2 == 1
                && only(flag::END_STREAM | flag::END_HEADERS | flag::PADDED | flag::PRIORITY)
                && l >= u32::from(padded).saturating_add(prio)
        }
        kind::PRIORITY => on_stream && f == 0 && l == 5,
        kind::RST_STREAM | kind::WINDOW_UPDATE => {
            (on_stream || h.kind == kind::WINDOW_UPDATE) && f == 0 && l == 4
        }
        kind::SETTINGS => {
            !on_stream && ((f == 0 && l % 6 == 0) || (f == flag::END_STREAM && l == 0))
        }
        kind::PING => !on_stream && only(flag::END_STREAM) && l == 8,
        kind::GOAWAY => !on_stream && f == 0 && l >= 8,
        kind::CONTINUATION => on_stream && only(flag::END_HEADERS),
        _ => false,
    }
}

/// Whether `start`, a server's first bytes, begins with a frame header of
/// the server's connection preface: a SETTINGS frame (not an ACK) on
/// stream 0 whose length is whole parameters within the default maximum.
pub fn may_be_server_preface(start: &[u8]) -> bool {
    let Some(b) = start
        .get(..HEADER_LEN)
        .and_then(|b| <&[u8; HEADER_LEN]>::try_from(b).ok())
    else {
        return false;
    };
    let h = FrameHeader::parse(b);
    b[5] & 0x80 == 0
        && h.kind == kind::SETTINGS
        && h.flags == 0
        && h.stream == 0
        && h.len.is_multiple_of(6)
        && h.len <= DEFAULT_MAX_FRAME
}

/// What the first bytes of a stream picked up mid-connection say of HTTP/2
/// framing there (see [`sniff_client_frames`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSniff {
    /// Client frames: at least two plausible frame headers, each where the
    /// one before ends, or one HEADERS frame that the bytes end with.
    Frames,
    /// Not HTTP/2 framing.
    NotFrames,
    /// The bytes end before they tell (a frame runs past them, or a lone
    /// frame other than HEADERS ends exactly with them).
    NeedMore,
}

/// Whether `start`, the first bytes of a client stream whose beginning
/// (the preface) is missing, is HTTP/2 framing: see [`FrameSniff`]. Looks
/// at two frame headers at most.
pub fn sniff_client_frames(start: &[u8]) -> FrameSniff {
    let mut at = 0usize;
    let mut frames = 0u8;
    let mut last_headers = false;
    loop {
        if at == start.len() && frames == 1 && last_headers {
            return FrameSniff::Frames;
        }
        let Some(b) = start
            .get(at..at.saturating_add(HEADER_LEN))
            .and_then(|b| <&[u8; HEADER_LEN]>::try_from(b).ok())
        else {
            return FrameSniff::NeedMore;
        };
        if !plausible_client_frame(b) {
            return FrameSniff::NotFrames;
        }
        frames = frames.saturating_add(1);
        if frames >= 2 {
            return FrameSniff::Frames;
        }
        let h = FrameHeader::parse(b);
        last_headers = h.kind == kind::HEADERS;
        at = at.saturating_add(HEADER_LEN).saturating_add(h.len as usize);
        if at > start.len() {
            return FrameSniff::NeedMore;
        }
    }
}

/// What the reader found, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A frame header; its content follows.
    Start(FrameHeader),
    /// A PUSH_PROMISE's promised stream identifier (the reserved bit
    /// cleared), before its header block fragment.
    Promised(u32),
    /// Content of the current frame (padding, priority fields and the
    /// promised stream identifier removed).
    Content(&'a [u8]),
    /// The current frame ended (`damaged`: a gap took some of it).
    End(FrameHeader, bool),
}

/// The stream is not HTTP/2 framing that can be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Padding (and priority fields) longer than the payload.
    Padding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the pad length byte.
    PadLen,
    /// Skipping this many priority bytes, then content (padding known later).
    Priority(u32),
    /// Reading a PUSH_PROMISE's promised stream identifier (bytes so far).
    Promised([u8; 4], usize),
    /// Passing on content, then skipping the rest (padding).
    Content(u32),
    /// Skipping the rest of the frame (padding, or what follows a gap).
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header {
        buf: [u8; HEADER_LEN],
        have: usize,
    },
    Payload {
        hdr: FrameHeader,
        /// Payload bytes still to come.
        left: u32,
        phase: Phase,
        /// The pad length, once read (0 if none).
        pad: u32,
        damaged: bool,
    },
}

/// Splits a byte stream into frames.
#[derive(Debug, Clone)]
pub struct FrameReader {
    state: State,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader {
            state: State::Header {
                buf: [0; HEADER_LEN],
                have: 0,
            },
        }
    }
}

/// The phase after the pad length (if any): the fields before the
/// content (`n` bytes: priority, or a promised stream identifier), else the
/// content (`content` bytes).
fn fields_phase(hdr: &FrameHeader, n: u32, content: u32) -> Phase {
    if n == 0 {
        Phase::Content(content)
    } else if hdr.kind == kind::PUSH_PROMISE {
        Phase::Promised([0; 4], 0)
    } else {
        Phase::Priority(n)
    }
}

/// Where a gap fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapAt {
    /// Inside this frame's payload, which it does not pass: the frame goes on.
    InFrame(FrameHeader),
    /// Across a frame header: the framing is lost.
    Lost,
}

impl FrameReader {
    /// A reader at a frame boundary.
    pub fn new() -> Self {
        FrameReader::default()
    }

    /// Whether the reader stands at a frame boundary.
    pub fn at_boundary(&self) -> bool {
        matches!(self.state, State::Header { have: 0, .. })
    }

    /// Takes in-order bytes, calling `f` with each piece found.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        f: &mut dyn FnMut(Piece<'_>),
    ) -> Result<(), FrameError> {
        loop {
            match &mut self.state {
                State::Header { buf, have } => {
                    if input.is_empty() {
                        return Ok(());
                    }
                    let want = HEADER_LEN.saturating_sub(*have);
                    let take = want.min(input.len());
                    let (now, rest) = input.split_at(take);
                    if let Some(dst) = buf.get_mut(*have..have.saturating_add(take)) {
                        dst.copy_from_slice(now);
                    }
                    *have = have.saturating_add(take);
                    input = rest;
                    if *have < HEADER_LEN {
                        return Ok(());
                    }
                    let hdr = FrameHeader::parse(buf);
                    f(Piece::Start(hdr));
                    let (padded, prio) = hdr.prefix();
                    let phase = if padded {
                        Phase::PadLen
                    } else {
                        fields_phase(&hdr, prio, hdr.len)
                    };
                    if prio > hdr.len || (padded && hdr.len == 0) {
                        return Err(FrameError::Padding);
                    }
                    self.state = State::Payload {
                        hdr,
                        left: hdr.len,
                        phase,
                        pad: 0,
                        damaged: false,
                    };
                }
                State::Payload {
                    hdr,
                    left,
                    phase,
                    pad,
                    damaged,
                } => {
                    if *left == 0 {
                        f(Piece::End(*hdr, *damaged));
                        self.state = State::Header {
                            buf: [0; HEADER_LEN],
                            have: 0,
                        };
                        continue;
                    }
                    let Some(&first) = input.first() else {
                        return Ok(());
                    };
                    let avail = u32::try_from(input.len()).unwrap_or(u32::MAX);
                    match *phase {
                        Phase::PadLen => {
                            *pad = u32::from(first);
                            *left = left.saturating_sub(1);
                            input = input.get(1..).unwrap_or_default();
                            let (_, prio) = hdr.prefix();
                            if pad.saturating_add(prio) > *left {
                                return Err(FrameError::Padding);
                            }
                            *phase = fields_phase(hdr, prio, left.saturating_sub(*pad));
                        }
                        Phase::Promised(mut buf, have) => {
                            let take = (buf.len().saturating_sub(have)).min(input.len());
                            let (now, rest) = input.split_at(take);
                            if let Some(dst) = buf.get_mut(have..have.saturating_add(take)) {
                                dst.copy_from_slice(now);
                            }
                            input = rest;
                            *left = left.saturating_sub(u32::try_from(take).unwrap_or(u32::MAX));
                            let have = have.saturating_add(take);
                            if have < buf.len() {
                                *phase = Phase::Promised(buf, have);
                            } else {
                                let [a, b, c, d] = buf;
                                f(Piece::Promised(u32::from_be_bytes([a & 0x7f, b, c, d])));
                                *phase = Phase::Content(left.saturating_sub(*pad));
                            }
                        }
                        Phase::Priority(n) => {
                            let take = n.min(avail);
                            input = input.get(take as usize..).unwrap_or_default();
                            *left = left.saturating_sub(take);
                            let n = n.saturating_sub(take);
                            *phase = if n > 0 {
                                Phase::Priority(n)
                            } else {
                                Phase::Content(left.saturating_sub(*pad))
                            };
                        }
                        Phase::Content(n) => {
                            let take = n.min(avail);
                            let (now, rest) = input.split_at(take as usize);
                            if !now.is_empty() {
                                f(Piece::Content(now));
                            }
                            input = rest;
                            *left = left.saturating_sub(take);
                            let n = n.saturating_sub(take);
                            *phase = if n > 0 {
                                Phase::Content(n)
                            } else {
                                Phase::Skip
                            };
                        }
                        Phase::Skip => {
                            let take = (*left).min(avail);
                            input = input.get(take as usize..).unwrap_or_default();
                            *left = left.saturating_sub(take);
                        }
                    }
                }
            }
        }
    }

    /// Notes `len` missing bytes: a gap inside a frame's payload that ends
    /// before the frame does leaves the framing intact (the frame is damaged).
    pub fn gap(&mut self, len: u64) -> GapAt {
        if len == 0 {
            return match self.state {
                State::Payload { hdr, .. } => GapAt::InFrame(hdr),
                State::Header { .. } => GapAt::Lost,
            };
        }
        if let State::Payload {
            hdr,
            left,
            phase,
            damaged,
            ..
        } = &mut self.state
            && len <= u64::from(*left)
        {
            *left = left.saturating_sub(u32::try_from(len).unwrap_or(u32::MAX));
            *phase = Phase::Skip;
            *damaged = true;
            return GapAt::InFrame(*hdr);
        }
        GapAt::Lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum P {
        S(u8, u8, u32, u32),
        C(Vec<u8>),
        E(u8, bool),
        Pr(u32),
    }

    /// Feeds `stream` cut at `cuts`, merging adjacent content pieces.
    fn read(stream: &[u8], step: usize) -> Result<Vec<P>, FrameError> {
        let mut r = FrameReader::new();
        let mut out: Vec<P> = Vec::new();
        for part in stream.chunks(step.max(1)) {
            r.feed(part, &mut |p| match p {
                Piece::Start(h) => out.push(P::S(h.kind, h.flags, h.stream, h.len)),
                Piece::Promised(id) => out.push(P::Pr(id)),
                Piece::Content(c) => match out.last_mut() {
                    Some(P::C(v)) => v.extend_from_slice(c),
                    _ => out.push(P::C(c.to_vec())),
                },
                Piece::End(h, d) => out.push(P::E(h.kind, d)),
            })?;
        }
        Ok(out)
    }

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        v.extend([kind, flags]);
        v.extend((stream | 0x8000_0000).to_be_bytes());
        v.extend(payload);
        v
    }

    #[test]
    fn padding_and_priority_are_taken_off_however_the_stream_is_cut() {
        let mut s = frame(kind::SETTINGS, 0, 0, &[0, 4, 0, 0, 0xff, 0xff]);
        s.extend(frame(
            kind::HEADERS,
            flag::PADDED | flag::PRIORITY | flag::END_HEADERS,
            1,
            b"\x03\x00\x00\x00\x00\x10abc\0\0\0",
        ));
        s.extend(frame(kind::DATA, flag::PADDED, 1, b"\x02xy\0\0"));
        s.extend(frame(kind::DATA, flag::PADDED, 1, b"\x00"));
        s.extend(frame(kind::HEADERS, flag::PRIORITY, 3, b"\0\0\0\0\0z"));
        s.extend(frame(kind::PING, 0, 0, &[]));
        let want = vec![
            P::S(4, 0, 0, 6),
            P::C(vec![0, 4, 0, 0, 0xff, 0xff]),
            P::E(4, false),
            P::S(1, 0x2c, 1, 12),
            P::C(b"abc".to_vec()),
            P::E(1, false),
            P::S(0, 8, 1, 5),
            P::C(b"xy".to_vec()),
            P::E(0, false),
            P::S(0, 8, 1, 1),
            P::E(0, false),
            P::S(1, 0x20, 3, 6),
            P::C(b"z".to_vec()),
            P::E(1, false),
            P::S(6, 0, 0, 0),
            P::E(6, false),
        ];
        for step in 1..=s.len() {
            assert_eq!(read(&s, step).unwrap(), want, "step {step}");
        }
    }

    /// PUSH_PROMISE (a server's frame): the promised stream identifier
    /// comes apart from the block fragment, padding taken off, however the
    /// stream is cut.
    #[test]
    fn push_promise_ids_and_padding_however_the_stream_is_cut() {
        let mut s = frame(kind::PUSH_PROMISE, flag::END_HEADERS, 1, b"\x80\0\0\x02abc");
        s.extend(frame(
            kind::PUSH_PROMISE,
            flag::PADDED,
            3,
            b"\x02\0\0\x01\x04de\0\0",
        ));
        s.extend(frame(kind::CONTINUATION, flag::END_HEADERS, 3, b"f"));
        // Padded with no fragment at all.
        s.extend(frame(
            kind::PUSH_PROMISE,
            flag::PADDED,
            5,
            b"\x01\0\0\0\x06\0",
        ));
        let want = vec![
            P::S(5, 4, 1, 7),
            P::Pr(2),
            P::C(b"abc".to_vec()),
            P::E(5, false),
            P::S(5, 8, 3, 9),
            P::Pr(260),
            P::C(b"de".to_vec()),
            P::E(5, false),
            P::S(9, 4, 3, 1),
            P::C(b"f".to_vec()),
            P::E(9, false),
            P::S(5, 8, 5, 6),
            P::Pr(6),
            P::E(5, false),
        ];
        for step in 1..=s.len() {
            assert_eq!(read(&s, step).unwrap(), want, "step {step}");
        }
        // Too short for the identifier, or padding over it: errors.
        for bad in [
            frame(kind::PUSH_PROMISE, 0, 1, b"\0\0\x02"),
            frame(kind::PUSH_PROMISE, flag::PADDED, 1, b"\x01\0\0\0\x02"),
        ] {
            assert_eq!(read(&bad, 100), Err(FrameError::Padding));
        }
    }

    #[test]
    fn settings_parameters_however_the_content_is_cut() {
        let content = [0, 1, 0, 0, 0x20, 0, 0, 2, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1];
        for step in 1..=content.len() {
            let mut r = SettingsReader::default();
            let mut got = Vec::new();
            for part in content.chunks(step) {
                r.feed(part, &mut |id, v| got.push((id, v)));
            }
            assert_eq!(
                got,
                [
                    (setting::HEADER_TABLE_SIZE, 8192),
                    (setting::ENABLE_PUSH, 0),
                    (9, 1)
                ]
            );
        }
        // (The test frames set the reserved bit, which a preface must not.)
        let mut f = frame(kind::SETTINGS, 0, 0, &content);
        assert!(!may_be_server_preface(&f));
        f[5] &= 0x7f;
        assert!(may_be_server_preface(&f));
        assert!(!may_be_server_preface(&frame(kind::SETTINGS, 1, 0, &[])));
        assert!(!may_be_server_preface(b"HTTP/1.1 200 OK\r\n"));
        assert!(!may_be_server_preface(&frame(
            kind::SETTINGS,
            0,
            0,
            &[0; 5]
        )));
    }

    #[test]
    fn padding_past_the_payload_is_an_error() {
        for bad in [
            frame(kind::HEADERS, flag::PADDED, 1, b"\x05abc"),
            frame(kind::HEADERS, flag::PADDED, 1, b""),
            frame(kind::HEADERS, flag::PRIORITY, 1, b"\0\0\0"),
            frame(
                kind::HEADERS,
                flag::PADDED | flag::PRIORITY,
                1,
                b"\x00\0\0\0",
            ),
        ] {
            assert_eq!(read(&bad, 100), Err(FrameError::Padding));
        }
    }

    #[test]
    fn a_gap_inside_a_payload_keeps_the_framing() {
        let mut r = FrameReader::new();
        let mut ends = Vec::new();
        let f1 = frame(kind::DATA, 0, 1, &[7; 100]);
        let f2 = frame(kind::PING, 0, 0, &[1; 8]);
        r.feed(&f1[..20], &mut |_| {}).unwrap();
        assert!(matches!(r.gap(50), GapAt::InFrame(_)));
        let mut cb = |p: Piece<'_>| {
            if let Piece::End(h, d) = p {
                ends.push((h.kind, d));
            }
        };
        r.feed(&f1[70..], &mut cb).unwrap();
        r.feed(&f2, &mut cb).unwrap();
        assert_eq!(ends, [(kind::DATA, true), (kind::PING, false)]);
        assert!(r.at_boundary());
        assert_eq!(r.gap(3), GapAt::Lost);
        // A gap that reaches the next header loses the framing.
        let mut r = FrameReader::new();
        r.feed(&f1[..20], &mut |_| {}).unwrap();
        assert_eq!(r.gap(90), GapAt::Lost);
    }
}
