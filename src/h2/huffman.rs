//! The HPACK Huffman code (RFC 7541 Appendix B).
//!
//! The code is canonical: codes of one length are consecutive and ordered by
//! symbol, shorter codes first. So the code lengths alone define it, and the
//! decoder works length by length (the first code of each length and the
//! symbols in code order), never by a 2^30-entry table.

/// The bit length of each symbol's code, symbols 0-255 and EOS (256), from
/// RFC 7541 Appendix B.
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, //
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, //
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, //
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, //
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, //
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, //
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, //
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, //
    30,
];

/// The end-of-string symbol.
const EOS: u16 = 256;
/// The longest code.
const MAX_LEN: usize = 30;

/// The canonical code, built once from [`LENGTHS`].
struct Code {
    /// Per length: the first code of that length (as a number of that many
    /// bits), the number of codes of that length, and the index in `symbols`
    /// of the first.
    first: [u32; MAX_LEN + 1],
    count: [u16; MAX_LEN + 1],
    start: [u16; MAX_LEN + 1],
    /// Per length: the first code past the last of that length,
    /// left-aligned in 32 bits (as a u64: 2^32 for the last length).
    limit: [u64; MAX_LEN + 1],
    /// Symbols in code order.
    symbols: [u16; 257],
    /// Each symbol's code, right-aligned.
    codes: [u32; 257],
}

// Evaluated at compile time: an index out of range fails the build, never a run.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn build() -> Code {
    let mut c = Code {
        first: [0; MAX_LEN + 1],
        limit: [0; MAX_LEN + 1],
        count: [0; MAX_LEN + 1],
        start: [0; MAX_LEN + 1],
        symbols: [0; 257],
        codes: [0; 257],
    };
    let mut s = 0;
    while s < 257 {
        c.count[LENGTHS[s] as usize] += 1;
        s += 1;
    }
    let mut code: u32 = 0;
    let mut index: u16 = 0;
    let mut len = 1;
    while len <= MAX_LEN {
        c.first[len] = code;
        c.start[len] = index;
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] as usize == len {
                c.symbols[index as usize] = sym as u16;
                c.codes[sym] = code;
                code += 1;
                index += 1;
            }
            sym += 1;
        }
        c.limit[len] = (code as u64) << (32 - len);
        code <<= 1;
        len += 1;
    }
    c
}

static CODE: Code = build();

/// Bits looked up at once: a code of at most this many bits (every symbol
/// of ordinary header text: letters, digits, punctuation) is decoded by one
/// look-up in [`FAST`]; longer ones by the canonical search.
const FAST_BITS: usize = 10;

/// For each value of the next [`FAST_BITS`] bits: the symbol whose code they
/// start with and its length, as `length << 9 | symbol`; 0 when the code is
/// longer than [`FAST_BITS`].
static FAST: [u16; 1 << FAST_BITS] = build_fast(&build());

// Evaluated at compile time, like `build`.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn build_fast(c: &Code) -> [u16; 1 << FAST_BITS] {
    let mut table = [0u16; 1 << FAST_BITS];
    let mut sym = 0;
    while sym < 257 {
        let len = LENGTHS[sym] as usize;
        if len <= FAST_BITS {
            let spread = 1usize << (FAST_BITS - len);
            let first = (c.codes[sym] as usize) << (FAST_BITS - len);
            let mut i = 0;
            while i < spread {
                table[first + i] = ((len as u16) << 9) | sym as u16;
                i += 1;
            }
        }
        sym += 1;
    }
    table
}

/// The code of `symbol` (0-255, or 256 for EOS) and its length in bits.
pub fn code(symbol: u16) -> Option<(u32, u8)> {
    let i = usize::from(symbol);
    Some((*CODE.codes.get(i)?, *LENGTHS.get(i)?))
}

/// Why a Huffman string does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuffmanError {
    /// The EOS symbol inside the string.
    Eos,
    /// The string ends with more than 7 bits of padding, or padding that is
    /// not the most significant bits of EOS (all ones).
    Padding,
}

/// Decodes a Huffman-coded string, appending to `out`.
///
/// Symbol by symbol: a code of at most [`FAST_BITS`] bits by one look-up in
/// [`FAST`] (while the string goes on past a whole buffered code, without
/// any end check); a longer one, and the string's last bits, by comparing the
/// next 32 bits (ones past the end) with each length's limit, the first code
/// past the last code of that length, left-aligned: the shortest length under
/// its limit is the code's (a canonical code's codes of one length are
/// consecutive and below those of longer lengths once left-aligned). On the
/// h2c benchmark the look-up took HPACK's Huffman decoding from 15 % of a
/// one-thread profile to 10 %. Symbols are written into room made up front
/// (at most one per 5 bits, the shortest code), not pushed: a push stored
/// the vector's length and checked its capacity at every symbol.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let start = out.len();
    let room = input.len().saturating_mul(8) / 5;
    out.resize(start.saturating_add(room), 0);
    let mut written = start;
    let result = decode_into(input, out.as_mut_slice(), &mut written);
    out.truncate(written);
    result
}

/// [`decode`] into `out` from `*at`, moving `*at` past each symbol.
fn decode_into(input: &[u8], out: &mut [u8], at: &mut usize) -> Result<(), HuffmanError> {
    let code = &CODE;
    let mut w = *at;
    let mut put = |w: &mut usize, b: u8| -> Result<(), HuffmanError> {
        *out.get_mut(*w).ok_or(HuffmanError::Padding)? = b;
        *w = w.wrapping_add(1);
        Ok(())
    };
    let total = input.len().saturating_mul(8);
    // Bits of the input not yet consumed, at the top of `acc`.
    let mut acc: u64 = 0;
    let mut have: usize = 0;
    let mut next = input.iter();
    let mut used: usize = 0;
    loop {
        while have <= 56 {
            match next.next() {
                Some(&b) => {
                    acc |= u64::from(b) << 56usize.saturating_sub(have);
                    have = have.saturating_add(8);
                }
                None => break,
            }
        }
        // While a whole code is buffered and the string goes on past it, the
        // short codes need no end checks.
        while have >= MAX_LEN && total.saturating_sub(used) > MAX_LEN {
            let fast = FAST
                .get((acc >> (64 - FAST_BITS)) as usize)
                .copied()
                .unwrap_or(0);
            if fast == 0 {
                break;
            }
            let len = usize::from(fast >> 9);
            // EOS (30 bits) is never in the table.
            put(&mut w, (fast & 0xff) as u8)?;
            acc <<= len;
            have = have.saturating_sub(len);
            used = used.saturating_add(len);
        }
        if have <= 56 && next.len() > 0 {
            continue;
        }
        let left = total.saturating_sub(used);
        if left == 0 {
            *at = w;
            return Ok(());
        }
        // Past the end, ones (EOS's bits): a valid string ends in a prefix of it.
        let peek = if have >= 32 {
            (acc >> 32) as u32
        } else {
            ((acc >> 32) as u32) | (u32::MAX >> have)
        };
        if left < 8 && peek >> 32usize.saturating_sub(left) == (1u32 << left).wrapping_sub(1) {
            *at = w;
            return Ok(());
        }
        let fast = FAST
            .get((peek >> (32 - FAST_BITS)) as usize)
            .copied()
            .unwrap_or(0);
        let (len, sym) = if fast != 0 {
            (usize::from(fast >> 9), fast & 0x1ff)
        } else {
            let mut len = FAST_BITS + 1;
            loop {
                let (Some(&limit), Some(&first), Some(&start)) = (
                    code.limit.get(len),
                    code.first.get(len),
                    code.start.get(len),
                ) else {
                    return Err(HuffmanError::Padding);
                };
                if u64::from(peek) < limit {
                    let c = peek >> 32usize.saturating_sub(len);
                    let at = usize::from(start).saturating_add(c.wrapping_sub(first) as usize);
                    break (len, code.symbols.get(at).copied().unwrap_or(EOS));
                }
                len = len.saturating_add(1);
            }
        };
        if len > left {
            return Err(HuffmanError::Padding);
        }
        if sym == EOS {
            return Err(HuffmanError::Eos);
        }
        put(&mut w, sym as u8)?;
        acc <<= len;
        have = have.saturating_sub(len);
        used = used.saturating_add(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_that_of_the_rfc() {
        // Spot checks against RFC 7541 Appendix B.
        assert_eq!(code(0), Some((0x1ff8, 13)));
        assert_eq!(code(b'0'.into()), Some((0x0, 5)));
        assert_eq!(code(b' '.into()), Some((0x14, 6)));
        assert_eq!(code(b'a'.into()), Some((0x3, 5)));
        assert_eq!(code(10), Some((0x3ffffffc, 30)));
        assert_eq!(code(255), Some((0x3ffffee, 26)));
        assert_eq!(code(EOS), Some((0x3fffffff, 30)));
        // A complete prefix code: the Kraft sum is exactly 1.
        let kraft: u64 = LENGTHS.iter().map(|l| 1u64 << (30 - l)).sum();
        assert_eq!(kraft, 1 << 30);
    }

    #[test]
    fn decodes_the_rfc_examples_and_rejects_bad_padding() {
        let mut out = Vec::new();
        // C.4.1: "www.example.com"
        decode(
            &[
                0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"www.example.com");
        out.clear();
        decode(&[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf], &mut out).unwrap();
        assert_eq!(out, b"no-cache");
        // Padding of zeros, of 8 ones, and EOS itself.
        assert_eq!(decode(&[0x00], &mut Vec::new()), Err(HuffmanError::Padding));
        assert_eq!(decode(&[0xff], &mut Vec::new()), Err(HuffmanError::Padding));
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], &mut Vec::new()),
            Err(HuffmanError::Eos)
        );
        assert_eq!(decode(&[], &mut out), Ok(()));
    }

    /// Bit by bit: a code is complete when its bits equal some symbol's code.
    fn reference(input: &[u8]) -> Result<Vec<u8>, HuffmanError> {
        let codes: std::collections::HashMap<(u32, u8), u16> =
            (0..=EOS).map(|s| (code(s).unwrap(), s)).collect();
        let (mut bits, mut len, mut out) = (0u32, 0u8, Vec::new());
        for i in 0..input.len() * 8 {
            bits = bits << 1 | u32::from(input[i / 8] >> (7 - i % 8) & 1);
            len += 1;
            if let Some(&sym) = codes.get(&(bits, len)) {
                if sym == EOS {
                    return Err(HuffmanError::Eos);
                }
                out.push(sym as u8);
                (bits, len) = (0, 0);
            }
        }
        // At most 7 bits left over, all ones.
        if len > 7 || bits != (1 << len) - 1 {
            return Err(HuffmanError::Padding);
        }
        Ok(out)
    }

    #[test]
    fn decodes_as_a_bit_by_bit_decoder_does() {
        // Random strings (mostly invalid) and encodings of random text.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20_000 {
            let n = (next() % 24) as usize;
            let input: Vec<u8> = if round % 2 == 0 {
                (0..n).map(|_| next() as u8).collect()
            } else {
                // Text of common and rare symbols, encoded, padded with ones.
                let (mut v, mut bits) = (Vec::new(), 0u32);
                let mut acc = 0u64;
                for _ in 0..n {
                    let sym = if next() % 4 == 0 {
                        next() % 256
                    } else {
                        32 + next() % 95
                    };
                    let (c, l) = code(sym as u16).unwrap();
                    acc = acc << l | u64::from(c);
                    bits += u32::from(l);
                    while bits >= 8 {
                        v.push((acc >> (bits - 8)) as u8);
                        bits -= 8;
                    }
                }
                if bits > 0 {
                    v.push(((acc << (8 - bits)) as u8) | ((1u8 << (8 - bits)) - 1));
                }
                v
            };
            let mut out = Vec::new();
            let got = decode(&input, &mut out).map(|()| out);
            assert_eq!(got, reference(&input), "{input:02x?}");
        }
    }

    #[test]
    fn every_symbol_round_trips() {
        for sym in 0u16..256 {
            let (c, l) = code(sym).unwrap();
            // The code then padding with ones to a byte boundary.
            let bits = u64::from(l).div_ceil(8) * 8;
            let pad = bits - u64::from(l);
            let v = (u64::from(c) << pad) | ((1 << pad) - 1);
            let bytes: Vec<u8> = (0..bits / 8).rev().map(|i| (v >> (i * 8)) as u8).collect();
            let mut out = Vec::new();
            decode(&bytes, &mut out).unwrap();
            assert_eq!(out, [sym as u8]);
        }
    }
}
