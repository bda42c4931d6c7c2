//! Reading JSON lines back (`merge`, `diff`, `--baseline`) with a bound on
//! the length of one line, so a file without newlines costs no more memory
//! than that bound.

use std::io::{self, BufRead};

/// Longest JSON line read back: a request line holds at most one header
/// block (the partial-head budget, 32 MiB, or `--max-header-bytes`), which
/// JSON escaping can make six times longer (`\u001b` for one byte), and a
/// body's fields; 256 MiB holds any line a scan writes with the default
/// budgets.
pub const MAX_JSON_LINE: usize = 256 << 20;

/// The lines of `input` as [`BufRead::lines`] gives them (without `\n` or
/// `\r\n`), each at most [`MAX_JSON_LINE`] bytes.
pub fn json_lines<R: BufRead>(input: R) -> BoundedLines<R> {
    BoundedLines::new(input, MAX_JSON_LINE)
}

/// Lines of at most `limit` bytes (without the line end); a longer line is
/// an [`io::ErrorKind::InvalidData`] error, after which the iterator ends
/// (its bytes are never held beyond the limit).
#[derive(Debug)]
pub struct BoundedLines<R> {
    input: R,
    limit: usize,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    /// Lines of `input` of at most `limit` bytes each.
    pub fn new(input: R, limit: usize) -> Self {
        BoundedLines {
            input,
            limit,
            done: false,
        }
    }

    fn fail(&mut self, error: io::Error) -> Option<io::Result<String>> {
        self.done = true;
        Some(Err(error))
    }
}

impl<R: BufRead> Iterator for BoundedLines<R> {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<io::Result<String>> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.fail(e),
            };
            if buf.is_empty() {
                if line.is_empty() {
                    self.done = true;
                    return None;
                }
                break;
            }
            let (take, ended) = match memchr::memchr(b'\n', buf) {
                Some(at) => (at, true),
                None => (buf.len(), false),
            };
            // A `\r` before the `\n` is not part of the line: one byte more
            // is held, and the length checked again without it.
            if line.len().saturating_add(take) > self.limit.saturating_add(1) {
                let limit = self.limit;
                return self.fail(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a line is longer than {limit} bytes (not JSON lines of a run?)"),
                ));
            }
            line.extend_from_slice(buf.get(..take).unwrap_or_default());
            self.input.consume(take + usize::from(ended));
            if ended {
                break;
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > self.limit {
            let limit = self.limit;
            return self.fail(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line is longer than {limit} bytes (not JSON lines of a run?)"),
            ));
        }
        match String::from_utf8(line) {
            Ok(text) => Some(Ok(text)),
            Err(_) => self.fail(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], limit: usize) -> Vec<Result<String, String>> {
        // A small buffer, so lines span several fills.
        let input = io::BufReader::with_capacity(3, text);
        BoundedLines::new(input, limit)
            .map(|l| l.map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn lines_are_those_of_std() {
        for text in [
            &b"a\nbc\r\n\nlast"[..],
            b"",
            b"\n",
            b"one\n",
            b"x\r\ny\r\n",
            b"\r\r\n",
        ] {
            let ours: Vec<String> = lines(text, 16).into_iter().map(Result::unwrap).collect();
            let std: Vec<String> = text.lines().map(Result::unwrap).collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_an_error_and_ends_the_lines() {
        let got = lines(b"12345\n123456\nafter\n", 5);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok("12345".to_string()));
        assert!(
            got[1]
                .as_ref()
                .is_err_and(|e| e.contains("longer than 5 bytes"))
        );
        // Without a newline at all.
        let got = lines(&[b'{'; 100], 8);
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
        // Exactly at the limit, with `\r\n`.
        assert_eq!(lines(b"12345\r\n", 5), vec![Ok("12345".to_string())]);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error() {
        let got = lines(b"ok\n\xff\xfe\n", 16);
        assert_eq!(got[0], Ok("ok".to_string()));
        assert!(got[1].as_ref().is_err_and(|e| e.contains("UTF-8")));
        assert_eq!(got.len(), 2);
    }
}
