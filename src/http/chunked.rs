//! The walk through a chunked body (RFC 9112 §7.1), one for requests and
//! responses: chunk-size lines (extensions ignored), chunk data, the CRLF
//! after it, the trailer section.

use super::stream::{MAX_LINE, parse_chunk_size, push_bounded};

/// Where a walk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkStep {
    /// In a chunk-size line.
    Size,
    /// In chunk data: this many bytes left.
    Data(u64),
    /// At the line end after chunk data.
    DataEnd,
    /// In the trailer section (after the last chunk).
    Trailer,
}

/// One step over the front of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Walk {
    /// `used` bytes taken, the first `data` of them chunk data; `next`: where
    /// the walk stands now, `None` once the body has ended.
    On {
        used: usize,
        data: usize,
        next: Option<ChunkStep>,
    },
    /// Not chunked framing: a bad chunk-size line, no line end after chunk
    /// data, a line over [`MAX_LINE`].
    Broken,
}

/// Walks the front of `input` from `step`; `line` keeps a partial line
/// between calls.
pub(super) fn walk(step: ChunkStep, input: &[u8], line: &mut Vec<u8>) -> Walk {
    match step {
        ChunkStep::Data(left) => {
            let n = left.min(input.len() as u64);
            let used = usize::try_from(n).unwrap_or(input.len());
            let next = if n == left {
                ChunkStep::DataEnd
            } else {
                ChunkStep::Data(left.saturating_sub(n))
            };
            Walk::On {
                used,
                data: used,
                next: Some(next),
            }
        }
        ChunkStep::DataEnd => match input.first() {
            None | Some(b'\r') => Walk::On {
                used: usize::from(!input.is_empty()),
                data: 0,
                next: Some(ChunkStep::DataEnd),
            },
            Some(b'\n') => Walk::On {
                used: 1,
                data: 0,
                next: Some(ChunkStep::Size),
            },
            Some(_) => Walk::Broken,
        },
        ChunkStep::Size | ChunkStep::Trailer => {
            let Some(nl) = memchr::memchr(b'\n', input) else {
                if line.len().saturating_add(input.len()) > MAX_LINE {
                    return Walk::Broken;
                }
                push_bounded(line, input, MAX_LINE);
                return Walk::On {
                    used: input.len(),
                    data: 0,
                    next: Some(step),
                };
            };
            if line.len().saturating_add(nl) > MAX_LINE {
                return Walk::Broken;
            }
            push_bounded(line, input.get(..nl).unwrap_or_default(), MAX_LINE);
            let whole = std::mem::take(line);
            let text = whole.strip_suffix(b"\r").unwrap_or(&whole);
            let next = match step {
                ChunkStep::Size => match parse_chunk_size(text) {
                    Some(0) => Some(ChunkStep::Trailer),
                    Some(n) => Some(ChunkStep::Data(n)),
                    None => return Walk::Broken,
                },
                _ if text.is_empty() => None,
                _ => Some(ChunkStep::Trailer),
            };
            Walk::On {
                used: nl.saturating_add(1),
                data: 0,
                next,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks `body` in pieces of `size` bytes: the chunk data and whether
    /// the body ended (None: broken).
    fn run(body: &[u8], size: usize) -> Option<(Vec<u8>, bool)> {
        let (mut step, mut line, mut data) = (ChunkStep::Size, Vec::new(), Vec::new());
        for piece in body.chunks(size) {
            let mut input = piece;
            while !input.is_empty() {
                let Walk::On {
                    used,
                    data: d,
                    next,
                } = walk(step, input, &mut line)
                else {
                    return None;
                };
                data.extend_from_slice(&input[..d]);
                input = &input[used..];
                match next {
                    Some(n) => step = n,
                    None => return Some((data, input.is_empty())),
                }
            }
        }
        Some((data, false))
    }

    #[test]
    fn chunks_extensions_and_trailers_at_every_cut() {
        let body =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n";
        for size in 1..=body.len() {
            assert_eq!(
                run(body, size),
                Some((b"Wikipedia in\r\n\r\nchunks.".to_vec(), true)),
                "pieces of {size}"
            );
        }
        // A body that has not ended yet.
        assert_eq!(run(b"3\r\nab", 2), Some((b"ab".to_vec(), false)));
    }

    #[test]
    fn broken_framing() {
        assert_eq!(run(b"zz\r\n", 1), None);
        assert_eq!(run(b"2\r\nabX", 1), None);
        let long = [b"1".repeat(MAX_LINE + 1), b"\r\n".to_vec()].concat();
        for size in [1, 100, long.len()] {
            assert_eq!(run(&long, size), None, "pieces of {size}");
        }
    }
}
