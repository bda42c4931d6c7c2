//! The capture reader on arbitrary bytes: every packet it yields lies inside
//! the input, and it ends (with or without an error) without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::{CaptureReader, PacketSource};

fuzz_target!(|data: &[u8]| {
    let len = data.len();
    let Ok(mut reader) = CaptureReader::new(std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    let mut total = 0usize;
    while let Ok(Some(packet)) = reader.next_packet() {
        total += packet.data.len();
        assert!(total <= len, "more packet bytes than input bytes");
    }
    assert!(reader.position() <= len as u64);
});
