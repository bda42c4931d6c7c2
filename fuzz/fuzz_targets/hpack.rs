//! The HPACK decoder on arbitrary header blocks, one after the other on one
//! dynamic table: the input is cut into blocks at 0xFF bytes; a block
//! starting with 0xFE makes the table unknown first (as a gap does). The
//! table never passes its cap; decoded strings never pass 8/5 of the block.
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
