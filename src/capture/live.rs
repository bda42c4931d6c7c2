//! Live capture from a network interface with libpcap (cargo feature `live`).
//!
//! In: an interface name and [`LiveOptions`]. Out: [`Packet`]s with the
//! handle's link type (`any` gives Linux cooked SLL/SLL2 frames), `Ok(None)`
//! when the read timeout passes with no packet (so the caller can check its
//! stop conditions and move the flow clock), [`CaptureStats`] from
//! `pcap_stats`, and optionally a pcap file of everything captured.
//!
//! This is the only module that names the `pcap` crate: building it needs
//! libpcap's development files (`libpcap.so`), running it needs libpcap.
use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use super::{CaptureStats, LinkType, Packet};
use crate::time::Timestamp;

/// libpcap's largest snap length: whole packets.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// How to open a live capture.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Interface name (`any` for every interface on Linux).
    pub interface: String,
    /// BPF filter expression (tcpdump syntax), if any.
    pub filter: Option<String>,
    /// Bytes kept of each packet.
    pub snaplen: u32,
    /// Promiscuous mode (ignored for `any`, which does not support it).
    pub promiscuous: bool,
    /// Kernel capture buffer in bytes; libpcap's default when `None`.
    pub buffer_size: Option<u32>,
    /// Deliver each packet at once instead of in batches.
    pub immediate: bool,
    /// Longest wait for a packet before [`LiveCapture::next_packet`] returns
    /// `Ok(None)`, in milliseconds. libpcap's own timeout does not fire on a
    /// quiet Linux interface outside immediate mode (TPACKET_V3 only wakes for a
    /// packet), so a helper thread interrupts the read this often.
    pub read_timeout_ms: u32,
    /// Join this PACKET_FANOUT group (Linux): the kernel spreads the
    /// interface's packets over every socket in the group by a symmetric flow
    /// hash, IP fragments reassembled first, so each process sees whole flows.
    pub fanout: Option<u16>,
}

impl LiveOptions {
    /// Defaults for `interface`: whole packets, promiscuous, no filter, 250 ms timeout.
    pub fn new(interface: impl Into<String>) -> Self {
        LiveOptions {
            interface: interface.into(),
            filter: None,
            snaplen: DEFAULT_SNAPLEN,
            promiscuous: true,
            buffer_size: None,
            immediate: false,
            read_timeout_ms: 250,
            fanout: None,
        }
    }
}

/// Why a live capture could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The interface does not exist.
    #[error("no such interface: {0} (`phoneleak interfaces` lists them)")]
    NoSuchInterface(String),
    /// Capturing needs privileges this process lacks.
    #[error(
        "no permission to capture on {interface}: {detail} (run as root, or grant the binary \
         CAP_NET_RAW and CAP_NET_ADMIN: setcap cap_net_raw,cap_net_admin=eip $(command -v phoneleak))"
    )]
    PermissionDenied {
        /// The interface.
        interface: String,
        /// libpcap's message.
        detail: String,
    },
    /// The BPF filter does not compile.
    #[error("bad capture filter {filter:?}: {detail}")]
    BadFilter {
        /// The filter as given.
        filter: String,
        /// libpcap's message.
        detail: String,
    },
    /// The interface could not be opened for another reason.
    #[error("cannot capture on {interface}: {detail}")]
    Open {
        /// The interface.
        interface: String,
        /// libpcap's message.
        detail: String,
    },
    /// Reading stopped with an error (e.g. the interface went down).
    #[error("capture on {interface} failed: {detail}")]
    Read {
        /// The interface.
        interface: String,
        /// libpcap's message.
        detail: String,
    },
    /// The pcap file for `--write-pcap` could not be written.
    #[error("cannot write capture file {path}: {detail}")]
    Savefile {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The socket could not join the fanout group (e.g. another member
    /// captures on another interface or with another fanout mode).
    #[error("cannot join fanout group {group} on {interface}: {detail}")]
    Fanout {
        /// The interface.
        interface: String,
        /// The group id.
        group: u16,
        /// The system's reason.
        detail: String,
    },
    /// The interfaces could not be listed.
    #[error("cannot list interfaces: {0}")]
    List(String),
}

/// An open live capture.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    interface: String,
    link: LinkType,
    savefile: Option<pcap::Savefile>,
    stats: CaptureStats,
    last_raw: pcap::Stat,
    /// Dropping it ends the thread that interrupts quiet reads.
    _ticker: mpsc::Sender<()>,
}

impl LiveCapture {
    /// Opens and activates the interface, then sets the filter.
    pub fn open(opts: &LiveOptions) -> Result<Self, LiveError> {
        let interface = opts.interface.clone();
        let open_error = |e: pcap::Error| classify_open_error(&interface, e);
        // libpcap refuses promiscuous mode on `any` (a warning it reports as failure).
        let promiscuous = opts.promiscuous && interface != "any";
        let mut builder = pcap::Capture::from_device(interface.as_str())
            .map_err(open_error)?
            .snaplen(i32::try_from(opts.snaplen).unwrap_or(i32::MAX))
            .promisc(promiscuous)
            .immediate_mode(opts.immediate)
            .timeout(i32::try_from(opts.read_timeout_ms.max(1)).unwrap_or(i32::MAX));
        if let Some(bytes) = opts.buffer_size {
            builder = builder.buffer_size(i32::try_from(bytes).unwrap_or(i32::MAX));
        }
        let mut cap = builder.open().map_err(open_error)?;
        if let Some(filter) = &opts.filter {
            cap.filter(filter, true).map_err(|e| LiveError::BadFilter {
                filter: filter.clone(),
                detail: pcap_message(e),
            })?;
        }
        // After activation: libpcap has bound the socket and set up its ring.
        if let Some(group) = opts.fanout {
            join_fanout(&cap, group).map_err(|e| LiveError::Fanout {
                interface: interface.clone(),
                group,
                detail: e.to_string(),
            })?;
        }
        let link = LinkType(u16::try_from(cap.get_datalink().0).unwrap_or(u16::MAX));
        let ticker = start_ticker(
            cap.breakloop_handle(),
            Duration::from_millis(u64::from(opts.read_timeout_ms.max(1))),
        )
        .map_err(|e| LiveError::Open {
            interface: interface.clone(),
            detail: format!("cannot start the read-timeout thread: {e}"),
        })?;
        Ok(LiveCapture {
            _ticker: ticker,
            cap,
            stats: CaptureStats {
                interface: interface.clone(),
                ..CaptureStats::default()
            },
            interface,
            link,
            savefile: None,
            last_raw: pcap::Stat {
                received: 0,
                dropped: 0,
                if_dropped: 0,
            },
        })
    }

    /// The interface captured on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The link type of the frames (from the handle's datalink).
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// From now on, also writes every captured packet to a pcap file at `path`
    /// (created or truncated; same link type and snap length as the capture).
    pub fn write_to(&mut self, path: &Path) -> Result<(), LiveError> {
        let savefile_error = |detail: String| LiveError::Savefile {
            path: path.display().to_string(),
            detail,
        };
        // The pcap crate panics on a path that is not UTF-8: refuse it first.
        let Some(name) = path.to_str() else {
            return Err(savefile_error("the path is not valid UTF-8".into()));
        };
        let savefile = self
            .cap
            .savefile(name)
            .map_err(|e| savefile_error(pcap_message(e)))?;
        self.savefile = Some(savefile);
        Ok(())
    }

    /// Pushes what the pcap file holds in its buffer to the file.
    pub fn flush_savefile(&mut self) -> Result<(), LiveError> {
        if let Some(savefile) = &mut self.savefile {
            savefile.flush().map_err(|e| LiveError::Savefile {
                path: String::from("(--write-pcap)"),
                detail: pcap_message(e),
            })?;
        }
        Ok(())
    }

    /// A handle that stops a blocked [`LiveCapture::next_packet`] from another thread.
    pub fn stop_handle(&mut self) -> StopHandle {
        StopHandle(self.cap.breakloop_handle())
    }

    /// The next packet; `Ok(None)` when the read timeout passed with no packet
    /// or a [`StopHandle`] interrupted the read.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, LiveError> {
        match self.cap.next_packet() {
            Ok(p) => {
                if let Some(savefile) = &mut self.savefile {
                    savefile.write(&p);
                }
                let ts = &p.header.ts;
                let micros = u32::try_from(ts.tv_usec).unwrap_or(0).min(999_999);
                Ok(Some(Packet {
                    ts: Timestamp::from_parts(ts.tv_sec, micros * 1000),
                    link: self.link,
                    orig_len: p.header.len,
                    data: p.data,
                }))
            }
            Err(pcap::Error::TimeoutExpired | pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(LiveError::Read {
                interface: self.interface.clone(),
                detail: pcap_message(e),
            }),
        }
    }

    /// The capture's counters so far (the last known ones if libpcap cannot tell).
    pub fn stats(&mut self) -> CaptureStats {
        if let Ok(raw) = self.cap.stats() {
            // libpcap's counters are u32 and wrap; add the differences.
            let s = &mut self.stats;
            s.received += u64::from(raw.received.wrapping_sub(self.last_raw.received));
            s.dropped_kernel += u64::from(raw.dropped.wrapping_sub(self.last_raw.dropped));
            s.dropped_interface += u64::from(raw.if_dropped.wrapping_sub(self.last_raw.if_dropped));
            self.last_raw = raw;
        }
        self.stats.clone()
    }
}

/// `PACKET_FANOUT_FLAG_DEFRAG` (linux/if_packet.h): reassemble IP fragments
/// before hashing, so a fragmented datagram goes to one member.
#[cfg(target_os = "linux")]
const PACKET_FANOUT_FLAG_DEFRAG: u32 = 0x8000;

/// The PACKET_FANOUT option value: group id in the low 16 bits, mode and
/// flags in the high 16 (flow hash, fragments reassembled first).
#[cfg(target_os = "linux")]
fn fanout_value(group: u16) -> u32 {
    u32::from(group) | ((libc::PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16)
}

/// Joins the activated capture's packet socket to fanout group `group` with
/// PACKET_FANOUT_HASH and PACKET_FANOUT_FLAG_DEFRAG (the kernel's symmetric
/// flow hash: both directions of a flow go to the same member).
///
/// One of the crate's two `unsafe` blocks (Cargo.toml denies `unsafe_code`;
/// docs/dependencies.md says why): libpcap has no fanout API, and neither
/// `nix`, `rustix` nor `socket2` offers this socket option.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn join_fanout(cap: &pcap::Capture<pcap::Active>, group: u16) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = cap.as_raw_fd();
    let value: u32 = fanout_value(group);
    let len = libc::socklen_t::try_from(std::mem::size_of::<u32>()).unwrap_or(4);
    // SAFETY: `fd` is the packet socket of `cap`, which is borrowed for the
    // whole call, so the descriptor stays open and is not reused. `value` is a
    // live, aligned u32 on this stack frame and `len` is its exact size; the
    // kernel only reads `len` bytes from the pointer (copy_from_user) and
    // keeps no reference to it. setsockopt touches no Rust-owned memory besides
    // that, and the result is checked.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_FANOUT,
            (&raw const value).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Fanout is a Linux packet-socket feature.
#[cfg(not(target_os = "linux"))]
fn join_fanout(_cap: &pcap::Capture<pcap::Active>, _group: u16) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "PACKET_FANOUT exists on Linux only",
    ))
}

/// Starts a thread that interrupts the capture's read every `period`, until the
/// returned sender is dropped.
fn start_ticker(handle: pcap::BreakLoop, period: Duration) -> std::io::Result<mpsc::Sender<()>> {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("phoneleak-read-timeout".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(period) {
                handle.breakloop();
            }
        })?;
    Ok(tx)
}

/// Interrupts a live capture's read from another thread (e.g. a signal handler thread).
pub struct StopHandle(pcap::BreakLoop);

impl StopHandle {
    /// Makes the current or next read return `Ok(None)` at once.
    pub fn stop(&self) {
        self.0.breakloop();
    }
}

/// A network interface libpcap can capture on.
#[derive(Debug, Clone)]
pub struct Interface {
    /// Name to pass to `-i`.
    pub name: String,
    /// libpcap's description, if any.
    pub description: Option<String>,
    /// Addresses, each with its prefix length when the netmask is known.
    pub addresses: Vec<(IpAddr, Option<u32>)>,
    /// `up`, `running`, `loopback`, `wireless`, and the connection status when known.
    pub flags: Vec<&'static str>,
}

/// The interfaces libpcap can capture on, in its order.
pub fn interfaces() -> Result<Vec<Interface>, LiveError> {
    let devices = pcap::Device::list().map_err(|e| LiveError::List(pcap_message(e)))?;
    Ok(devices
        .into_iter()
        .map(|d| {
            let f = &d.flags;
            let mut flags = Vec::new();
            for (on, name) in [
                (f.is_up(), "up"),
                (f.is_running(), "running"),
                (f.is_loopback(), "loopback"),
                (f.is_wireless(), "wireless"),
            ] {
                if on {
                    flags.push(name);
                }
            }
            match f.connection_status {
                pcap::ConnectionStatus::Connected => flags.push("connected"),
                pcap::ConnectionStatus::Disconnected => flags.push("disconnected"),
                pcap::ConnectionStatus::Unknown | pcap::ConnectionStatus::NotApplicable => {}
            }
            Interface {
                addresses: d
                    .addresses
                    .iter()
                    .map(|a| (a.addr, a.netmask.map(prefix_len)))
                    .collect(),
                name: d.name,
                description: d.desc,
                flags,
            }
        })
        .collect())
}

/// The interface libpcap would pick by default (the first one up and not loopback).
pub fn default_interface() -> Result<Option<String>, LiveError> {
    pcap::Device::lookup()
        .map(|d| d.map(|d| d.name))
        .map_err(|e| LiveError::List(pcap_message(e)))
}

/// The prefix length of a netmask (its leading one bits).
fn prefix_len(mask: IpAddr) -> u32 {
    match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones(),
        IpAddr::V6(m) => u128::from(m).leading_ones(),
    }
}

/// libpcap's message without the crate's "libpcap error: " prefix.
fn pcap_message(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(msg) if !msg.is_empty() => msg,
        other => other.to_string(),
    }
}

/// Names the usual reasons an interface cannot be opened. The pcap crate keeps
/// only libpcap's message, so the message and the interface list decide.
fn classify_open_error(interface: &str, e: pcap::Error) -> LiveError {
    let detail = pcap_message(e);
    let lower = detail.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("operation not permitted") {
        return LiveError::PermissionDenied {
            interface: interface.to_string(),
            detail,
        };
    }
    let listed = pcap::Device::list()
        .map(|list| list.iter().any(|d| d.name == interface))
        .unwrap_or(true);
    if !listed || lower.contains("no such device") {
        return LiveError::NoSuchInterface(interface.to_string());
    }
    LiveError::Open {
        interface: interface.to_string(),
        detail,
    }
}

/// libpcap's DLT_ value for a file's LINKTYPE_ value (what `pcap_open_dead`
/// takes): the same number except where the registries part (Linux values).
fn dlt_of(link: LinkType) -> i32 {
    match link.0 {
        // LINKTYPE_RAW and the BSDs' raw IP: DLT_RAW.
        101 | 14 => 12,
        // LINKTYPE_ATM_RFC1483: DLT_ATM_RFC1483.
        100 => 11,
        other => i32::from(other),
    }
}

/// A capture filter in tcpdump's syntax, compiled by libpcap's own compiler
/// on a dead handle (no interface is opened) once for each link type met,
/// and tested on each packet's outermost frame, as `tcpdump -r FILE FILTER`
/// does. Packets of a link type the expression cannot be compiled for do
/// not match (see [`FrameFilter::failures`]).
pub struct FrameFilter {
    expression: String,
    programs: std::collections::HashMap<u16, Result<pcap::BpfProgram, String>>,
}

impl FrameFilter {
    /// Compiles `expression` (checked against Ethernet, the common case, so
    /// that a typo fails at once).
    pub fn new(expression: &str) -> Result<FrameFilter, LiveError> {
        let mut filter = FrameFilter {
            expression: expression.to_string(),
            programs: std::collections::HashMap::new(),
        };
        if let Err(detail) = filter.program(LinkType::ETHERNET) {
            return Err(LiveError::BadFilter {
                filter: expression.to_string(),
                detail,
            });
        }
        Ok(filter)
    }

    fn program(&mut self, link: LinkType) -> Result<&pcap::BpfProgram, String> {
        let expression = &self.expression;
        self.programs
            .entry(link.0)
            .or_insert_with(|| {
                let dead =
                    pcap::Capture::dead(pcap::Linktype(dlt_of(link))).map_err(pcap_message)?;
                dead.compile(expression, true).map_err(pcap_message)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// True when the frame passes the filter.
    pub fn matches(&mut self, packet: &Packet<'_>) -> bool {
        self.program(packet.link)
            .is_ok_and(|program| program.filter(packet.data))
    }

    /// Link types the expression could not be compiled for, with libpcap's reason.
    pub fn failures(&self) -> Vec<(LinkType, String)> {
        let mut out: Vec<(LinkType, String)> = self
            .programs
            .iter()
            .filter_map(|(link, p)| p.as_ref().err().map(|e| (LinkType(*link), e.clone())))
            .collect();
        out.sort_by_key(|(link, _)| link.0);
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn frame_filters_compile_offline_and_test_frames() {
        let mut f = FrameFilter::new("tcp port 80").unwrap();
        // Ethernet, IPv4, TCP 1234 -> 80.
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0]);
        frame.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        frame.extend_from_slice(&[0x04, 0xd2, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0]);
        frame.extend_from_slice(&[0, 0, 0, 0]);
        let packet = |data: &'static [u8], link| Packet {
            ts: Timestamp::default(),
            link,
            orig_len: data.len() as u32,
            data,
        };
        let frame: &'static [u8] = frame.leak();
        assert!(f.matches(&packet(frame, LinkType::ETHERNET)));
        let mut other = frame.to_vec();
        other[37] = 81;
        let other: &'static [u8] = other.leak();
        assert!(!f.matches(&packet(other, LinkType::ETHERNET)));
        // The same datagram as raw IP: compiled again for that link type.
        assert!(f.matches(&packet(&frame[14..], LinkType::RAW)));
        assert!(f.failures().is_empty());
        assert!(matches!(
            FrameFilter::new("tcp port"),
            Err(LiveError::BadFilter { .. })
        ));
        let mut ether = FrameFilter::new("ether host 00:11:22:33:44:55").unwrap();
        assert!(!ether.matches(&packet(&frame[14..], LinkType::RAW)));
        assert_eq!(ether.failures().len(), 1);
    }

    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn fanout_option_value() {
        // Group in the low half; PACKET_FANOUT_HASH (0) | FLAG_DEFRAG in the high half.
        assert_eq!(fanout_value(7), 0x8000_0007);
        assert_eq!(fanout_value(0xffff), 0x8000_ffff);
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), 24);
        assert_eq!(prefix_len("255.0.0.0".parse().unwrap()), 8);
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), 0);
        assert_eq!(prefix_len("ffff:ffff:ffff:ffff::".parse().unwrap()), 64);
    }

    #[test]
    fn messages_lose_the_crate_prefix() {
        let e = pcap::Error::PcapError("syntax error in filter expression".into());
        assert_eq!(pcap_message(e), "syntax error in filter expression");
        assert_eq!(
            pcap_message(pcap::Error::TimeoutExpired),
            "timeout expired while reading from a live capture"
        );
    }

    #[test]
    fn permission_errors_are_named() {
        let e = pcap::Error::PcapError(
            "lo: You don't have permission to perform this capture on that device \
             (socket: Operation not permitted)"
                .into(),
        );
        assert!(matches!(
            classify_open_error("lo", e),
            LiveError::PermissionDenied { .. }
        ));
    }

    #[test]
    fn unknown_interfaces_are_named() {
        let e = pcap::Error::PcapError("nosuchif0: No such device exists".into());
        let err = classify_open_error("phoneleak-nosuchif0", e);
        assert!(matches!(err, LiveError::NoSuchInterface(_)), "{err}");
        assert!(err.to_string().contains("phoneleak interfaces"));
    }
}
