//! The decoder on arbitrary plain 802.11 frames (LINKTYPE 105); see `link_common.rs`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::LinkType;

#[path = "link_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(LinkType::IEEE802_11, data));
