//! Reading shards back (`phoneleak merge`): the JSON-lines outputs of several
//! runs, each ending with its `summary` line, become the report one run over
//! all their inputs would have written. Request lines are replayed through a
//! [`Report`] in shard order (so tallies, baseline and minimum confidence
//! apply as in a scan); `leak_summary` lines are recomputed from them, never
//! summed from the shards' (which may have folded rows); summaries are
//! summed.
use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::{InputError, Report, Shown};
use crate::capture::CaptureStats;
use crate::detect::Confidence;
use crate::pipeline::{Shard, Stats};

/// A shard cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// It could not be read.
    #[error("{shard}: cannot read: {source}")]
    Read {
        /// The shard.
        shard: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a JSON object of the contract.
    #[error("{shard}, line {line}: not a phoneleak JSON line ({why})")]
    Line {
        /// The shard.
        shard: String,
        /// From 1.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// It does not end with a `summary` line: a run that did not finish.
    #[error(
        "{shard}: does not end with a summary line (a run that was killed or is still writing)"
    )]
    NoSummary {
        /// The shard.
        shard: String,
    },
    /// The report could not be written.
    #[error("cannot write the report: {0}")]
    Write(std::io::Error),
}

/// A run's `summary` line, read back.
#[derive(Debug, Clone, Deserialize)]
struct SummaryLine {
    #[serde(default)]
    files: u64,
    #[serde(default)]
    capture: Option<CaptureStats>,
    #[serde(flatten)]
    stats: Stats,
    #[serde(default)]
    min_confidence: Confidence,
    #[serde(default)]
    errors: Vec<InputError>,
    /// `I/N` when the run was one part of a sharded scan.
    #[serde(default)]
    shard: Option<String>,
}

impl SummaryLine {
    fn part(&self) -> Option<Shard> {
        self.shard.as_deref().and_then(|s| Shard::parse(s).ok())
    }
}

/// The summed summaries of the shards.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Runs read (summary lines).
    pub runs: u64,
    /// Capture files the runs read.
    pub files: u64,
    /// Every counter, summed.
    pub stats: Stats,
    /// The highest minimum confidence of the runs.
    pub min_confidence: Confidence,
    /// Their input problems, in shard order.
    pub errors: Vec<InputError>,
    /// Live captures' counters, summed (interfaces joined by commas).
    pub capture: Option<CaptureStats>,
    /// Leaks that carry no pseudonym (`subject`): without one, numbers that
    /// mask alike are one subject after merging.
    pub leaks_without_subject: u64,
    /// `scan --discover` lines read and left out of the merge.
    pub discover_lines: u64,
    /// The `--keylog` files' counters: of the first run, their sum, and
    /// whether the runs differ in them.
    keylog_files: Option<([u64; 5], [u64; 5], bool)>,
}

impl Totals {
    fn absorb(&mut self, s: SummaryLine) {
        self.runs += 1;
        self.stats.absorb(&s.stats);
        // Runs given the same `--keylog` files (the per-file shards of one
        // scan) read them alike: one run's counters are the scan's. Runs
        // whose counters differ (other key logs, or the parts of `--shard`,
        // where part 1 alone counts them) add up.
        let files = s.stats.keylog.of_files();
        let (first, sum, differ) = self.keylog_files.get_or_insert(([0; 5], [0; 5], false));
        if self.runs == 1 {
            *first = files;
        } else if *first != files {
            *differ = true;
        }
        for (t, n) in sum.iter_mut().zip(files) {
            *t = t.saturating_add(n);
        }
        self.stats
            .keylog
            .set_files(if *differ { *sum } else { *first });
        self.min_confidence = self.min_confidence.max(s.min_confidence);
        // Every part of a sharded scan read the same inputs: the first counts
        // them and lists their problems (as it alone has the decode counters).
        if s.part().is_none_or(|p| p.index == 0) {
            self.files += s.files;
            self.errors.extend(s.errors);
        }
        if let Some(c) = s.capture {
            match &mut self.capture {
                None => self.capture = Some(c),
                Some(t) => {
                    if !t.interface.split(',').any(|i| i == c.interface) {
                        t.interface.push(',');
                        t.interface.push_str(&c.interface);
                    }
                    t.received += c.received;
                    t.dropped_kernel += c.dropped_kernel;
                    t.dropped_interface += c.dropped_interface;
                }
            }
        }
    }
}

/// What one shard holds, beyond its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardInfo {
    /// Its runs (summary lines).
    pub runs: usize,
    /// The part of a sharded scan (`scan --shard I/N`) its last run was.
    pub part: Option<Shard>,
}

/// One line of a shard, read.
enum Line {
    Request(Box<Shown>),
    Summary(Box<SummaryLine>),
    /// `discover` and `discover_summary` lines: not merged (candidates of
    /// several runs cannot be added up from their masked values).
    Discover,
    /// `leak_summary` lines (recomputed, never read) and types a later
    /// version may add.
    Other,
}

/// Parses line `i` (from 0) of `shard`; `None` for a blank line.
fn parse_line(shard: &str, i: usize, line: &str) -> Result<Option<Line>, MergeError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let bad = |why: String| MergeError::Line {
        shard: shard.to_string(),
        line: i + 1,
        why,
    };
    let v: Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    let line = match v.get("type").and_then(Value::as_str) {
        Some("request") => Line::Request(Box::new(
            serde_json::from_value(v).map_err(|e| bad(e.to_string()))?,
        )),
        Some("summary") => Line::Summary(Box::new(
            serde_json::from_value(v).map_err(|e| bad(e.to_string()))?,
        )),
        Some("discover" | "discover_summary") => Line::Discover,
        Some(_) => Line::Other,
        None => return Err(bad("no \"type\"".into())),
    };
    Ok(Some(line))
}

/// Replays a request into the report (when there is one).
fn replay(
    report: Option<&mut Report<'_>>,
    shown: Shown,
    shard: &str,
    i: usize,
) -> Result<(), MergeError> {
    if let Some(r) = report
        && !r.shown(shown).map_err(MergeError::Write)?
    {
        return Err(MergeError::Line {
            shard: shard.to_string(),
            line: i + 1,
            why: "a ts that is not RFC 3339".into(),
        });
    }
    Ok(())
}

/// Reads one shard (one or more runs concatenated). With `report`, its
/// request lines are replayed into it; without, it is only checked. Adds
/// its summaries to `totals`.
pub fn read_shard(
    shard: &str,
    input: impl BufRead,
    mut report: Option<&mut Report<'_>>,
    totals: &mut Totals,
) -> Result<ShardInfo, MergeError> {
    let mut ended = true;
    let mut runs = Vec::new();
    for (i, line) in super::lines::json_lines(input).enumerate() {
        let line = line.map_err(|source| MergeError::Read {
            shard: shard.to_string(),
            source,
        })?;
        match parse_line(shard, i, &line)? {
            None => {}
            Some(Line::Request(shown)) => {
                ended = false;
                totals.leaks_without_subject +=
                    shown.leaks.iter().filter(|l| l.subject.is_none()).count() as u64;
                replay(report.as_deref_mut(), *shown, shard, i)?;
            }
            Some(Line::Discover) => {
                ended = false;
                totals.discover_lines += 1;
            }
            Some(Line::Other) => ended = false,
            Some(Line::Summary(s)) => {
                ended = true;
                runs.push(*s);
            }
        }
    }
    if !ended || runs.is_empty() {
        return Err(MergeError::NoSummary {
            shard: shard.to_string(),
        });
    }
    let info = ShardInfo {
        runs: runs.len(),
        part: runs.last().and_then(SummaryLine::part),
    };
    for s in runs {
        totals.absorb(s);
    }
    Ok(info)
}

/// One part of a sharded scan being merged.
struct Part<I> {
    name: String,
    lines: std::iter::Enumerate<super::lines::BoundedLines<I>>,
    /// Its next request, with its line number.
    head: Option<(Box<Shown>, usize)>,
    runs: Vec<SummaryLine>,
    ended: bool,
    /// `discover` lines read (not merged).
    discover_lines: u64,
}

impl<I: BufRead> Part<I> {
    /// Reads up to the next request line (or the end).
    fn advance(&mut self) -> Result<(), MergeError> {
        self.head = None;
        for (i, line) in self.lines.by_ref() {
            let line = line.map_err(|source| MergeError::Read {
                shard: self.name.clone(),
                source,
            })?;
            match parse_line(&self.name, i, &line)? {
                None => {}
                Some(Line::Request(shown)) => {
                    self.ended = false;
                    if shown.order.is_none() {
                        return Err(MergeError::Line {
                            shard: self.name.clone(),
                            line: i + 1,
                            why: "a request without its order in a --shard output".into(),
                        });
                    }
                    self.head = Some((shown, i));
                    return Ok(());
                }
                Some(Line::Discover) => {
                    self.ended = false;
                    self.discover_lines += 1;
                }
                Some(Line::Other) => self.ended = false,
                Some(Line::Summary(s)) => {
                    self.ended = true;
                    self.runs.push(*s);
                }
            }
        }
        Ok(())
    }
}

/// Replays the N parts of one sharded scan (`scan --shard 1/N` .. `N/N`,
/// in that order) into `report`: their request lines interleaved by their
/// `order`, as the unsharded scan wrote them (one line per part held at a
/// time). Adds their summaries to `totals`.
pub fn read_parts<I: BufRead>(
    parts: Vec<(String, I)>,
    mut report: Option<&mut Report<'_>>,
    totals: &mut Totals,
) -> Result<(), MergeError> {
    let mut parts: Vec<Part<I>> = parts
        .into_iter()
        .map(|(name, input)| Part {
            name,
            lines: super::lines::json_lines(input).enumerate(),
            head: None,
            runs: Vec::new(),
            ended: true,
            discover_lines: 0,
        })
        .collect();
    for p in &mut parts {
        p.advance()?;
    }
    loop {
        // The part whose next request comes first (a part's own lines are
        // in order; two parts never share a flow).
        let next = parts
            .iter()
            .enumerate()
            .filter_map(|(k, p)| p.head.as_ref().map(|(s, _)| (s.order, k)))
            .min();
        let Some((_, k)) = next else { break };
        let Some(part) = parts.get_mut(k) else { break };
        if let Some((shown, i)) = part.head.take() {
            totals.leaks_without_subject +=
                shown.leaks.iter().filter(|l| l.subject.is_none()).count() as u64;
            replay(report.as_deref_mut(), *shown, &part.name, i)?;
        }
        part.advance()?;
    }
    for p in parts {
        if !p.ended || p.runs.is_empty() {
            return Err(MergeError::NoSummary { shard: p.name });
        }
        for s in p.runs {
            totals.absorb(s);
        }
        totals.discover_lines += p.discover_lines;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Totals, MergeError> {
        let mut t = Totals::default();
        read_shard("s.jsonl", text.as_bytes(), None, &mut t).map(|_| t)
    }

    #[test]
    fn a_shard_must_end_with_its_summary() {
        let summary = r#"{"type":"summary","files":1,"packets":3,"leak_count":0,"min_confidence":"low","errors":[]}"#;
        let request = r#"{"type":"request","ts":"2012-01-25T10:00:05.000000Z","src":"10.0.0.1:1","dst":"10.0.0.2:80","method":"GET","uri":"/","version":"HTTP/1.1","host":null,"headers":[],"leaks":[]}"#;
        let t = check(&format!("{summary}\n{summary}\n")).unwrap();
        assert_eq!((t.runs, t.files, t.stats.packets), (2, 2, 6));
        for bad in [
            String::new(),
            format!("{request}\n"),
            format!("{summary}\n{request}\n"),
        ] {
            let e = check(&bad).unwrap_err();
            assert!(matches!(e, MergeError::NoSummary { .. }), "{e}");
            assert!(e.to_string().starts_with("s.jsonl: "), "{e}");
        }
        let e = check("{not json\n").unwrap_err();
        assert!(e.to_string().contains("s.jsonl, line 1"), "{e}");
        assert!(check(&format!("{{\"x\":1}}\n{summary}\n")).is_err());
    }
}
