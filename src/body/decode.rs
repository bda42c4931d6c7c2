//! Content codings undone with a bound on the output: a decoder is read
//! until it has produced `limit` bytes (one more tells that there was more)
//! and then dropped, so a decompression bomb costs at most `limit` bytes of
//! output and the work to produce them. zstd frames that ask for a window
//! over 4 MiB are refused (the window is the decoder's memory).
use std::io::Read;

/// Largest zstd window accepted (log2): 4 MiB.
const ZSTD_WINDOW_LOG_MAX: u32 = 22;

/// Codings applied one after the other at most (`gzip, br`).
const MAX_CODINGS: usize = 4;

/// A coding that is not known or not built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// What decoding produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The output, at most the limit.
    pub bytes: Vec<u8>,
    /// The output went on past the limit (cut there).
    pub over_limit: bool,
    /// The data was damaged or ended early: the output is what came before.
    pub error: bool,
}

/// One content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// gzip (and `x-gzip`).
    Gzip,
    /// deflate: zlib-wrapped as the RFC says, or raw as some servers and clients send it.
    Deflate,
    /// Brotli.
    Br,
    /// Zstandard.
    Zstd,
}

impl Coding {
    /// The coding a `Content-Encoding` token names.
    pub fn parse(token: &str) -> Option<Coding> {
        let t = token.trim();
        let is = |n: &str| t.eq_ignore_ascii_case(n);
        if is("gzip") || is("x-gzip") {
            Some(Coding::Gzip)
        } else if is("deflate") {
            Some(Coding::Deflate)
        } else if is("br") {
            Some(Coding::Br)
        } else if is("zstd") {
            Some(Coding::Zstd)
        } else {
            None
        }
    }
}

/// Undoes a `Content-Encoding` list (applied in order, so undone last
/// first), each step bounded by `limit`.
pub fn decode_all(codings: &str, input: &[u8], limit: usize) -> Result<Decoded, Unsupported> {
    let mut list = Vec::new();
    for token in codings.split(',') {
        if token.trim().eq_ignore_ascii_case("identity") {
            continue;
        }
        list.push(Coding::parse(token).ok_or(Unsupported)?);
        if list.len() > MAX_CODINGS {
            return Err(Unsupported);
        }
    }
    let mut out = Decoded {
        bytes: input.to_vec(),
        ..Decoded::default()
    };
    for coding in list.into_iter().rev() {
        let step = decode(coding, &out.bytes, limit)?;
        out = Decoded {
            bytes: step.bytes,
            over_limit: out.over_limit || step.over_limit,
            error: out.error || step.error,
        };
    }
    Ok(out)
}

/// Undoes one coding, producing at most `limit` bytes.
pub fn decode(coding: Coding, input: &[u8], limit: usize) -> Result<Decoded, Unsupported> {
    match coding {
        Coding::Gzip => gzip(input, limit),
        Coding::Deflate => deflate(input, limit),
        Coding::Br => Ok(bounded(
            brotli_decompressor::Decompressor::new(input, 4096),
            limit,
        )),
        Coding::Zstd => zstd(input, limit),
    }
}

/// Reads `reader` to its end or to `limit` bytes (and one more, to tell).
fn bounded(reader: impl Read, limit: usize) -> Decoded {
    let mut bytes = Vec::new();
    let cap = (limit as u64).saturating_add(1);
    let error = reader.take(cap).read_to_end(&mut bytes).is_err();
    let over_limit = bytes.len() > limit;
    bytes.truncate(limit);
    Decoded {
        bytes,
        over_limit,
        error,
    }
}

#[cfg(feature = "gzip")]
fn gzip(input: &[u8], limit: usize) -> Result<Decoded, Unsupported> {
    Ok(bounded(flate2::read::MultiGzDecoder::new(input), limit))
}

#[cfg(feature = "gzip")]
fn deflate(input: &[u8], limit: usize) -> Result<Decoded, Unsupported> {
    // A zlib header: compression method 8, a window of at most 32 KiB, and
    // the check bits (the first two bytes a multiple of 31).
    let zlib = match input {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    };
    Ok(if zlib {
        bounded(flate2::read::ZlibDecoder::new(input), limit)
    } else {
        bounded(flate2::read::DeflateDecoder::new(input), limit)
    })
}

#[cfg(not(feature = "gzip"))]
fn gzip(_: &[u8], _: usize) -> Result<Decoded, Unsupported> {
    Err(Unsupported)
}

#[cfg(not(feature = "gzip"))]
fn deflate(_: &[u8], _: usize) -> Result<Decoded, Unsupported> {
    Err(Unsupported)
}

#[cfg(feature = "zstd")]
fn zstd(input: &[u8], limit: usize) -> Result<Decoded, Unsupported> {
    let Ok(mut d) = zstd::stream::read::Decoder::with_buffer(input) else {
        return Ok(Decoded {
            error: true,
            ..Decoded::default()
        });
    };
    if d.window_log_max(ZSTD_WINDOW_LOG_MAX).is_err() {
        return Ok(Decoded {
            error: true,
            ..Decoded::default()
        });
    }
    Ok(bounded(d, limit))
}

#[cfg(not(feature = "zstd"))]
fn zstd(_: &[u8], _: usize) -> Result<Decoded, Unsupported> {
    Err(Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A brotli stream of one uncompressed meta-block (at most 64 KiB) and
    /// an empty last one (RFC 7932 §9.2).
    pub(crate) fn brotli_stored(data: &[u8]) -> Vec<u8> {
        assert!(!data.is_empty() && data.len() <= 1 << 16);
        // WBITS 16 (one 0 bit), ISLAST 0, MNIBBLES 4, MLEN-1, ISUNCOMPRESSED 1.
        let header = ((data.len() as u32 - 1) << 4) | (1 << 20);
        let mut out = header.to_le_bytes()[..3].to_vec();
        out.extend_from_slice(data);
        out.push(0x03); // ISLAST 1, ISLASTEMPTY 1
        out
    }

    #[test]
    fn every_coding_round_trips() {
        let text = b"{\"phone\":\"+447700900123\"}".repeat(20);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        let zlib = z.finish().unwrap();
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(&text).unwrap();
        let raw = r.finish().unwrap();
        let zst = zstd::stream::encode_all(&text[..], 3).unwrap();
        for (name, data) in [
            ("gzip", gz(&text)),
            ("deflate", zlib),
            ("deflate", raw),
            ("zstd", zst),
            ("br", brotli_stored(&text)),
        ] {
            let d = decode_all(name, &data, 1 << 16).unwrap();
            assert_eq!(d.bytes, text, "{name}");
            assert!(!d.over_limit && !d.error, "{name}");
        }
        let two = decode_all("gzip, gzip", &gz(&gz(&text)), 1 << 16).unwrap();
        assert_eq!(two.bytes, text);
        assert_eq!(decode_all("lzma", &text, 10), Err(Unsupported));
    }

    /// Brotli compressed by a real encoder at its lowest, a middle and its
    /// highest quality (window 22), not only stored meta-blocks.
    fn brotli(data: &[u8], quality: u32) -> Vec<u8> {
        let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, quality, 22);
        w.write_all(data).unwrap();
        w.into_inner()
    }

    #[test]
    fn brotli_from_a_real_encoder_decodes() {
        let text = b"{\"user\":{\"phone\":\"+447700900123\",\"plan\":\"prepaid\"}}".repeat(50);
        for quality in [0, 5, 11] {
            let data = brotli(&text, quality);
            assert!(data.len() < text.len() / 4, "quality {quality} compresses");
            let d = decode_all("br", &data, 1 << 16).unwrap();
            assert_eq!(d.bytes, text, "quality {quality}");
            assert!(!d.over_limit && !d.error, "quality {quality}");
            let cut = decode_all("br", data.get(..data.len() / 2).unwrap(), 1 << 16).unwrap();
            assert!(
                cut.error && text.starts_with(&cut.bytes),
                "quality {quality}"
            );
        }
    }

    #[test]
    fn a_bomb_costs_only_the_limit() {
        let bomb = gz(&vec![b'0'; 50 << 20]);
        assert!(bomb.len() < 100 << 10);
        let d = decode_all("gzip", &bomb, 64 << 10).unwrap();
        assert_eq!(d.bytes.len(), 64 << 10);
        assert!(d.over_limit);
        let zbomb = zstd::stream::encode_all(&vec![0u8; 50 << 20][..], 3).unwrap();
        let d = decode_all("zstd", &zbomb, 1000).unwrap();
        assert_eq!((d.bytes.len(), d.over_limit), (1000, true));
        let bbomb = brotli(&vec![b'0'; 50 << 20], 5);
        assert!(bbomb.len() < 100 << 10);
        let d = decode_all("br", &bbomb, 64 << 10).unwrap();
        assert_eq!((d.bytes.len(), d.over_limit), (64 << 10, true));
    }

    #[test]
    fn cut_and_damaged_data_yield_what_came_before() {
        let text = b"msisdn=447700900123&".repeat(500);
        let data = gz(&text);
        let d = decode_all("gzip", data.get(..data.len() / 2).unwrap(), 1 << 20).unwrap();
        assert!(d.error);
        assert!(text.starts_with(&d.bytes));
        for junk in [&b""[..], b"\x00", b"\xff\xff\xff\xff", b"\x1f\x8b\x08\x00"] {
            for c in [Coding::Gzip, Coding::Deflate, Coding::Br, Coding::Zstd] {
                let d = decode(c, junk, 100).unwrap();
                assert!(d.bytes.len() <= 100);
            }
        }
    }
}
