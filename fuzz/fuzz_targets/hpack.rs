//! The HPACK decoder on arbitrary header blocks, one after the other on one
//! dynamic table: the input is cut into blocks at 0xFF bytes; a block
//! starting with 0xFE makes the table unknown first (as a gap does), one
//! starting with 0xFD and two bytes sets the acknowledged limit (a peer's
//! SETTINGS_HEADER_TABLE_SIZE; 0xFD alone: unknown) first. The table never
//! passes its cap, whatever limit; decoded strings never pass 8/5 of the
//! block.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::h2::hpack::{Decoder, Field, MAX_TABLE};

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new();
    for block in data.split(|b| *b == 0xff) {
        let block = match block {
            [0xfe, rest @ ..] => {
                d.forget();
                rest
            }
            [0xfd, a, b, rest @ ..] => {
                d.set_limit(Some(usize::from(u16::from_be_bytes([*a, *b])) << 4));
                rest
            }
            [0xfd, rest @ ..] => {
                d.set_limit(None);
                rest
            }
            b => b,
        };
        let mut out = Vec::new();
        let _ = d.decode(block, &mut out);
        assert!(d.table_size() <= MAX_TABLE);
        for f in &out {
            if let Field::Known { name, value, .. } = f {
                // Static names and dynamic entries aside, a string is at most
                // 8/5 of the bytes that code it, and an entry at most the cap.
                assert!(name.len() + value.len() <= MAX_TABLE.max(block.len() * 2));
            }
        }
    }
});
