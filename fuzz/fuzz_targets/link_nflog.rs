//! The decoder on arbitrary Linux NFLOG records (LINKTYPE 239); see `link_common.rs`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::LinkType;

#[path = "link_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(LinkType::NFLOG, data));
