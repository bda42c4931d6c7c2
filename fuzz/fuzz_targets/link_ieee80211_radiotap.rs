//! The decoder on arbitrary 802.11 after a radiotap header (LINKTYPE 127); see `link_common.rs`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::LinkType;

#[path = "link_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(LinkType::IEEE802_11_RADIOTAP, data));
