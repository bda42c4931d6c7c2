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
use crate::pipeline::Stats;

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
}

impl Totals {
    fn absorb(&mut self, s: SummaryLine) {
        self.runs += 1;
        self.files += s.files;
        self.stats.absorb(&s.stats);
        self.min_confidence = self.min_confidence.max(s.min_confidence);
        self.errors.extend(s.errors);
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

/// Reads one shard (one or more runs concatenated). With `report`, its
/// request lines are replayed into it; without, it is only checked. Adds
/// its summaries to `totals`.
pub fn read_shard(
    shard: &str,
    input: impl BufRead,
    mut report: Option<&mut Report<'_>>,
    totals: &mut Totals,
) -> Result<(), MergeError> {
    let mut ended = true;
    let mut runs = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|source| MergeError::Read {
            shard: shard.to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| MergeError::Line {
            shard: shard.to_string(),
            line: i + 1,
            why,
        };
        let v: Value = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        match v.get("type").and_then(Value::as_str) {
            Some("request") => {
                ended = false;
                let shown: Shown = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
                totals.leaks_without_subject +=
                    shown.leaks.iter().filter(|l| l.subject.is_none()).count() as u64;
                if let Some(r) = report.as_deref_mut()
                    && !r.shown(shown).map_err(MergeError::Write)?
                {
                    return Err(bad("a ts that is not RFC 3339".into()));
                }
            }
            Some("leak_summary") => ended = false,
            Some("summary") => {
                ended = true;
                runs.push(
                    serde_json::from_value::<SummaryLine>(v).map_err(|e| bad(e.to_string()))?,
                );
            }
            // Lines of types a later version may add are passed over.
            Some(_) => {}
            None => return Err(bad("no \"type\"".into())),
        }
    }
    if !ended || runs.is_empty() {
        return Err(MergeError::NoSummary {
            shard: shard.to_string(),
        });
    }
    for s in runs {
        totals.absorb(s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Totals, MergeError> {
        let mut t = Totals::default();
        read_shard("s.jsonl", text.as_bytes(), None, &mut t).map(|()| t)
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
