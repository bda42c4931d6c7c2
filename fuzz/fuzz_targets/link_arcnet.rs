//! The decoder on arbitrary Linux ARCNET frames (LINKTYPE 129); see `link_common.rs`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::LinkType;

#[path = "link_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(LinkType::ARCNET_LINUX, data));
