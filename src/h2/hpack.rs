//! An HPACK decoder (RFC 7541) for the header blocks of one direction.
//!
//! One [`Decoder`] per direction read, with its dynamic table. Everything is
//! bounded: integers stop at 2^28 (a longer varint is an error, never an
//! overflow), a string cannot be longer than the block that holds it, and
//! the dynamic table holds at most [`MAX_TABLE`] bytes whatever size the
//! stream's table-size updates ask for or the peers advertise.
//!
//! The largest size an encoder may set is the SETTINGS_HEADER_TABLE_SIZE
//! its peer's decoder advertised, from when the encoder's side
//! acknowledged it ([`Decoder::set_limit`], RFC 7541 4.2, RFC 9113 6.5.3;
//! 4096 until then). Where that is known, an update past it is a protocol
//! error ([`BlockNotes::oversized_updates`]): the table is then unknown
//! (never guessed). Where it is not known (the other direction is not
//! read), the decoder follows the updates up to [`MAX_TABLE`].
//!
//! What the table holds may be unknown: after a gap in the stream, when the
//! block that made an entry could not be read, or when [`MAX_TABLE`] evicted
//! entries that the encoder still has. The decoder then knows only the newest
//! entries (all inserted since), which are exactly the encoder's newest ones:
//! entries are evicted oldest first, so an entry the decoder inserted is
//! evicted by the encoder no sooner than by the decoder (whose table holds
//! less). A field that refers past them, or to an entry whose content is
//! unknown, is [`Field::Unknown`], never guessed; the block's other fields
//! (static, literal, known entries) still decode and its insertions still
//! keep the table's indices right.
use super::huffman;

/// The dynamic table's size limit, whatever the stream asks for or the
/// peers advertise: the one memory cap of every HPACK table.
pub const MAX_TABLE: usize = 64 << 10;
/// The table size before any update (SETTINGS_HEADER_TABLE_SIZE's default).
pub const DEFAULT_TABLE: usize = 4096;
/// Largest integer accepted (a table size, an index, a string length).
const MAX_INT: u64 = 1 << 28;

/// The static table (RFC 7541 Appendix A), index 1 first.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The static table's entries (for an encoder's tests and fixtures).
pub fn static_table() -> &'static [(&'static str, &'static str)] {
    &STATIC
}

/// One decoded field of a header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A name and value.
    Known {
        /// The name's bytes.
        name: Vec<u8>,
        /// The value's bytes.
        value: Vec<u8>,
        /// Sent as never-indexed (a sensitive value).
        never_indexed: bool,
    },
    /// A field whose name or value is an entry the decoder does not know.
    Unknown,
}

/// Why a header block does not decode at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpackError {
    /// The block ends inside an instruction.
    Truncated,
    /// An integer past 2^28.
    Integer,
    /// Index 0, or an index past a table that is fully known.
    Index,
    /// A Huffman string that does not decode.
    Huffman,
}

/// A name and value, `None` where unknown.
type NameValue = (Option<Vec<u8>>, Option<Vec<u8>>);

/// An entry of the dynamic table; `None` parts are unknown.
#[derive(Debug, Clone)]
struct Entry {
    name: Option<Box<[u8]>>,
    value: Option<Box<[u8]>>,
    /// Its size as counted by RFC 7541 4.1 (an unknown part counts 0: a
    /// lower bound, so such an entry is never evicted before the encoder's).
    size: usize,
}

/// What one block did to the decoder, for the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockNotes {
    /// Fields referring to entries the decoder does not know.
    pub unknown_fields: usize,
    /// Table-size updates past [`MAX_TABLE`], held to it.
    pub capped_updates: usize,
    /// Entries evicted by [`MAX_TABLE`] before the encoder would have.
    pub capped_evictions: usize,
    /// Table-size updates past the acknowledged limit (a protocol error;
    /// the table became unknown).
    pub oversized_updates: usize,
}

/// The decoding state of one direction: its dynamic table.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Newest first.
    table: std::collections::VecDeque<Entry>,
    size: usize,
    /// The size limit the encoder set (held to [`MAX_TABLE`]).
    max: usize,
    /// The size limit the encoder set, as it said it.
    asked: usize,
    /// Whether the encoder may hold entries older than ours.
    partial: bool,
    /// The largest size the encoder may set (the acknowledged
    /// SETTINGS_HEADER_TABLE_SIZE), when known.
    limit: Option<usize>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at a connection's start: empty table of the default size.
    pub fn new() -> Self {
        Decoder {
            table: std::collections::VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE,
            asked: DEFAULT_TABLE,
            partial: false,
            limit: None,
        }
    }

    /// Sets the largest size the encoder may set from now on: the
    /// SETTINGS_HEADER_TABLE_SIZE its peer advertised, once acknowledged
    /// (`None`: not known; updates are then followed up to [`MAX_TABLE`]).
    /// The table itself changes only with the encoder's next update.
    pub fn set_limit(&mut self, limit: Option<usize>) {
        self.limit = limit;
    }

    /// The largest size the encoder may set, when known.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// Bytes held by the dynamic table (RFC 7541 sizes).
    pub fn table_size(&self) -> usize {
        self.size
    }

    /// Whether the encoder may hold entries the decoder does not know.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The table's content became unknown (a gap, a block that was not
    /// read): older entries are forgotten; those inserted from now on are known.
    pub fn forget(&mut self) {
        self.table.clear();
        self.size = 0;
        self.partial = true;
    }

    /// Decodes one whole header block, appending its fields to `out`.
    /// On an error the table may have changed and is marked unknown.
    pub fn decode(&mut self, block: &[u8], out: &mut Vec<Field>) -> Result<BlockNotes, HpackError> {
        let mut notes = BlockNotes::default();
        let r = self.decode_inner(block, out, &mut notes);
        if r.is_err() {
            // An insertion may have been missed.
            self.forget();
        }
        r.map(|()| notes)
    }

    fn decode_inner(
        &mut self,
        block: &[u8],
        out: &mut Vec<Field>,
        notes: &mut BlockNotes,
    ) -> Result<(), HpackError> {
        let mut rest = block;
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                // Indexed field.
                let index = int(&mut rest, 7)?;
                out.push(match self.get(index, notes)? {
                    (Some(name), Some(value)) => Field::Known {
                        name,
                        value,
                        never_indexed: false,
                    },
                    _ => Field::Unknown,
                });
            } else if first & 0xe0 == 0x20 {
                // Dynamic table size update (RFC 7541 4.2 wants it at the
                // block's start; one later is applied all the same, as the
                // reference decoder does: it invents nothing).
                let size = usize::try_from(int(&mut rest, 5)?).unwrap_or(usize::MAX);
                if self.limit.is_some_and(|l| size > l) {
                    // A peer would end the connection (COMPRESSION_ERROR):
                    // what the encoder's table holds is not known.
                    notes.oversized_updates = notes.oversized_updates.saturating_add(1);
                    self.forget();
                }
                self.max = if size > MAX_TABLE {
                    notes.capped_updates = notes.capped_updates.saturating_add(1);
                    MAX_TABLE
                } else {
                    size
                };
                self.asked = size;
                self.evict(0, notes);
            } else {
                // Literal: with incremental indexing (01), without (0000)
                // or never indexed (0001).
                let (prefix, index_it, never) = if first & 0xc0 == 0x40 {
                    (6, true, false)
                } else {
                    (4, false, first & 0xf0 == 0x10)
                };
                let name_index = int(&mut rest, prefix)?;
                let name = if name_index == 0 {
                    Some(string(&mut rest)?)
                } else {
                    self.get(name_index, notes)?.0
                };
                let value = string(&mut rest)?;
                if index_it {
                    self.insert(name.clone(), value.clone(), notes);
                }
                out.push(match name {
                    Some(name) => Field::Known {
                        name,
                        value,
                        never_indexed: never,
                    },
                    None => Field::Unknown,
                });
            }
        }
        Ok(())
    }

    /// The name and value at `index` (static, then dynamic); `None` parts
    /// are unknown.
    fn get(&self, index: u64, notes: &mut BlockNotes) -> Result<NameValue, HpackError> {
        let index = usize::try_from(index).map_err(|_| HpackError::Index)?;
        if index == 0 {
            return Err(HpackError::Index);
        }
        if let Some((n, v)) = STATIC.get(index.saturating_sub(1)) {
            return Ok((Some(n.as_bytes().to_vec()), Some(v.as_bytes().to_vec())));
        }
        let at = index.saturating_sub(STATIC.len().saturating_add(1));
        match self.table.get(at) {
            Some(e) => {
                if e.name.is_none() || e.value.is_none() {
                    notes.unknown_fields = notes.unknown_fields.saturating_add(1);
                }
                Ok((
                    e.name.as_deref().map(<[u8]>::to_vec),
                    e.value.as_deref().map(<[u8]>::to_vec),
                ))
            }
            None if self.partial => {
                notes.unknown_fields = notes.unknown_fields.saturating_add(1);
                Ok((None, None))
            }
            None => Err(HpackError::Index),
        }
    }

    fn insert(&mut self, name: Option<Vec<u8>>, value: Vec<u8>, notes: &mut BlockNotes) {
        let size = name
            .as_ref()
            .map_or(0, Vec::len)
            .saturating_add(value.len())
            .saturating_add(32);
        self.evict(size, notes);
        if size > self.max {
            // Larger than the table: the table is emptied, nothing added.
            return;
        }
        self.table.push_front(Entry {
            name: name.map(Vec::into_boxed_slice),
            value: Some(value.into_boxed_slice()),
            size,
        });
        self.size = self.size.saturating_add(size);
    }

    /// Evicts the oldest entries until `room` more bytes fit. Where the
    /// encoder's limit is past ours, evicting loses entries it still has.
    fn evict(&mut self, room: usize, notes: &mut BlockNotes) {
        let asked = self.asked;
        while self.size.saturating_add(room) > self.max {
            let Some(old) = self.table.pop_back() else {
                break;
            };
            self.size = self.size.saturating_sub(old.size);
            if asked > self.max {
                notes.capped_evictions = notes.capped_evictions.saturating_add(1);
                self.partial = true;
            }
        }
        if room > self.max && asked > self.max {
            // An entry too big for our cap but not for the encoder's table.
            self.partial = true;
        }
    }
}

/// Reads an integer with an `n`-bit prefix (RFC 7541 5.1).
fn int(rest: &mut &[u8], n: u32) -> Result<u64, HpackError> {
    let (&first, mut tail) = rest.split_first().ok_or(HpackError::Truncated)?;
    let max_prefix = (1u16 << n.min(8)).wrapping_sub(1);
    let mut value = u64::from(u16::from(first) & max_prefix);
    if value == u64::from(max_prefix) {
        let mut shift = 0u32;
        loop {
            let (&b, t) = tail.split_first().ok_or(HpackError::Truncated)?;
            tail = t;
            value = value.saturating_add(u64::from(b & 0x7f) << shift);
            if value > MAX_INT {
                return Err(HpackError::Integer);
            }
            if b & 0x80 == 0 {
                break;
            }
            shift = shift.saturating_add(7);
            if shift > 28 {
                return Err(HpackError::Integer);
            }
        }
    }
    *rest = tail;
    Ok(value)
}

/// Reads a string literal (RFC 7541 5.2).
fn string(rest: &mut &[u8]) -> Result<Vec<u8>, HpackError> {
    let huffman = rest.first().is_some_and(|b| b & 0x80 != 0);
    let len = usize::try_from(int(rest, 7)?).map_err(|_| HpackError::Integer)?;
    let bytes = rest.get(..len).ok_or(HpackError::Truncated)?;
    *rest = rest.get(len..).unwrap_or_default();
    if huffman {
        // The room the decoder makes (one symbol per 5 bits at most): no
        // reallocation.
        let mut out = Vec::with_capacity(len.saturating_mul(8) / 5);
        huffman::decode(bytes, &mut out).map_err(|_| HpackError::Huffman)?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn fields(d: &mut Decoder, block: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        d.decode(&hex(block), &mut out).unwrap();
        out.into_iter()
            .map(|f| match f {
                Field::Known { name, value, .. } => (
                    String::from_utf8(name).unwrap(),
                    String::from_utf8(value).unwrap(),
                ),
                Field::Unknown => ("?".into(), "?".into()),
            })
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn integers_of_rfc_c1_and_overflow() {
        let mut b: &[u8] = &[0x0a];
        assert_eq!(int(&mut b, 5), Ok(10));
        let mut b: &[u8] = &[0x1f, 0x9a, 0x0a];
        assert_eq!(int(&mut b, 5), Ok(1337));
        let mut b: &[u8] = &[0x2a];
        assert_eq!(int(&mut b, 8), Ok(42));
        let mut b: &[u8] = &[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(int(&mut b, 5), Err(HpackError::Integer));
        let mut b: &[u8] = &[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
        assert_eq!(int(&mut b, 5), Err(HpackError::Integer));
        let mut b: &[u8] = &[0x1f, 0x80];
        assert_eq!(int(&mut b, 5), Err(HpackError::Truncated));
    }

    #[test]
    fn rfc_c2_literals() {
        let mut d = Decoder::new();
        assert_eq!(
            fields(
                &mut d,
                "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"
            ),
            pairs(&[("custom-key", "custom-header")])
        );
        assert_eq!(d.table_size(), 55);
        let mut d = Decoder::new();
        assert_eq!(
            fields(&mut d, "040c 2f73 616d 706c 652f 7061 7468"),
            pairs(&[(":path", "/sample/path")])
        );
        assert_eq!(d.table_size(), 0);
        let mut out = Vec::new();
        d.decode(&hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), &mut out)
            .unwrap();
        assert_eq!(
            out,
            [Field::Known {
                name: b"password".to_vec(),
                value: b"secret".to_vec(),
                never_indexed: true
            }]
        );
        assert_eq!(fields(&mut d, "82"), pairs(&[(":method", "GET")]));
    }

    /// RFC 7541 C.3 (plain) and C.4 (Huffman): three requests on one table.
    #[test]
    fn rfc_c3_and_c4_requests() {
        let first = pairs(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ]);
        let second = pairs(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ]);
        let third = pairs(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ]);
        let plain = [
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ];
        let huff = [
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ];
        for blocks in [plain, huff] {
            let mut d = Decoder::new();
            assert_eq!(fields(&mut d, blocks[0]), first);
            assert_eq!(d.table_size(), 57);
            assert_eq!(fields(&mut d, blocks[1]), second);
            assert_eq!(d.table_size(), 110);
            assert_eq!(fields(&mut d, blocks[2]), third);
            assert_eq!(d.table_size(), 164);
        }
    }

    #[test]
    fn table_size_updates_evict_and_are_capped() {
        let mut d = Decoder::new();
        fields(&mut d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
        assert_eq!(d.table_size(), 57);
        // Size 0 empties the table; an index into it is then an error.
        assert_eq!(fields(&mut d, "20"), pairs(&[]));
        assert_eq!(d.table_size(), 0);
        let mut out = Vec::new();
        assert_eq!(d.decode(&hex("be"), &mut out), Err(HpackError::Index));
        // Huge sizes are held to the cap (counted).
        let mut d = Decoder::new();
        let mut out = Vec::new();
        let notes = d.decode(&hex("3fe1 ff83 08"), &mut out).unwrap();
        assert_eq!(notes.capped_updates, 1);
        assert_eq!(d.max, MAX_TABLE);
    }

    #[test]
    fn an_update_past_the_acknowledged_limit_makes_the_table_unknown() {
        let first = "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d";
        // Without a known limit, 8192 is followed as before.
        let mut d = Decoder::new();
        fields(&mut d, first);
        let mut out = Vec::new();
        let notes = d.decode(&hex("3fe1 3f be"), &mut out).unwrap();
        assert_eq!((notes.oversized_updates, d.max), (0, 8192));
        assert!(matches!(out.last(), Some(Field::Known { .. })));
        // Acknowledged at 4096: 8192 is past it; the entry is unknown now.
        let mut d = Decoder::new();
        d.set_limit(Some(DEFAULT_TABLE));
        fields(&mut d, first);
        let mut out = Vec::new();
        let notes = d.decode(&hex("3fe1 3f be"), &mut out).unwrap();
        assert_eq!(notes.oversized_updates, 1);
        assert_eq!(out, [Field::Unknown]);
        assert!(d.is_partial());
        // Within the limit: no error, entries kept.
        let mut d = Decoder::new();
        d.set_limit(Some(8192));
        fields(&mut d, first);
        let mut out = Vec::new();
        let notes = d.decode(&hex("3fe1 3f be"), &mut out).unwrap();
        assert_eq!(notes.oversized_updates, 0);
        assert!(matches!(out.last(), Some(Field::Known { .. })));
        // A limit past the hard cap still holds the table to MAX_TABLE.
        let mut d = Decoder::new();
        d.set_limit(Some(1 << 20));
        let notes = d.decode(&hex("3fe1 ff3f"), &mut Vec::new()).unwrap();
        assert_eq!((notes.oversized_updates, notes.capped_updates), (0, 1));
        assert_eq!(d.max, MAX_TABLE);
    }

    #[test]
    fn after_forgetting_new_entries_are_known_and_old_ones_unknown() {
        let mut d = Decoder::new();
        fields(&mut d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
        d.forget();
        // Index 62 (the authority) is unknown now; static fields still decode.
        let mut out = Vec::new();
        let notes = d.decode(&hex("8286 84be"), &mut out).unwrap();
        assert_eq!(notes.unknown_fields, 1);
        assert_eq!(out.last(), Some(&Field::Unknown));
        // A new insertion is index 62; index 63 is unknown, not an error.
        let got = fields(&mut d, "400a 6375 7374 6f6d 2d6b 6579 0161 be bf");
        assert_eq!(
            got,
            pairs(&[("custom-key", "a"), ("custom-key", "a"), ("?", "?")])
        );
        // A literal whose name is an unknown entry: inserted with an unknown
        // name, so index 62 is then unknown and 63 is the earlier entry.
        let got = fields(&mut d, "7f00 0178 be bf");
        assert_eq!(got, pairs(&[("?", "?"), ("?", "?"), ("custom-key", "a")]));
    }

    #[test]
    fn hostile_blocks_are_errors() {
        for block in [
            "",
            "80",
            "ff ff ff ff ff 0f",
            "41",
            "41 05 61",
            "40 81 00 00",
            "40 01",
        ] {
            let mut d = Decoder::new();
            let r = d.decode(&hex(block), &mut Vec::new());
            if !block.is_empty() {
                assert!(r.is_err(), "{block}");
            }
        }
    }
}
