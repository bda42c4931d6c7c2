//! A baseline: the findings of an earlier run (its JSON-lines output), so
//! that only new findings count for the exit status (`--baseline FILE`).
//!
//! A finding is identified by its destination host, header name
//! (case-insensitive), location, key, kind and subject: the number when it
//! has one, else the text found (`found`, or `value` in outputs that lack
//! it). Masked and clear outputs both work as baselines: a finding matches
//! when the baseline holds its subject masked or in clear.
use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub host: String,
    pub header: String,
    pub location: String,
    pub key: String,
    pub kind: String,
    pub subject: String,
}

/// A baseline file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a JSON object.
    #[error("{file}, line {line}: not a JSON object")]
    NotJson {
        /// The file.
        file: String,
        /// Line number, from 1.
        line: usize,
    },
}

/// The findings of an earlier run.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    file: String,
    entries: HashSet<Identity>,
}

fn field<'v>(v: &'v Value, name: &str) -> &'v str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}

impl Baseline {
    /// Reads an earlier run's JSON-lines output. Lines of other types
    /// (`summary`, `leak_summary`) are skipped; a line that is not JSON is an
    /// error. Requests without `leaks` add nothing.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| BaselineError::Read {
            file: file.clone(),
            source,
        })?;
        let mut entries = HashSet::new();
        for (i, line) in super::lines::json_lines(std::io::BufReader::new(f)).enumerate() {
            let line = line.map_err(|source| BaselineError::Read {
                file: file.clone(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| BaselineError::NotJson {
                    file: file.clone(),
                    line: i + 1,
                })?;
            if field(&v, "type") != "request" {
                continue;
            }
            let host = match v.get("host").and_then(Value::as_str) {
                Some(h) => h.to_string(),
                None => field(&v, "dst").to_string(),
            };
            for leak in v
                .get("leaks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let subject = leak
                    .get("number")
                    .and_then(Value::as_str)
                    .or_else(|| leak.get("found").and_then(Value::as_str))
                    .unwrap_or_else(|| field(leak, "value"));
                entries.insert(Identity {
                    host: host.clone(),
                    header: field(leak, "header").to_ascii_lowercase(),
                    location: leak
                        .get("where")
                        .and_then(Value::as_str)
                        .unwrap_or("header")
                        .to_string(),
                    key: field(leak, "key").to_string(),
                    kind: field(leak, "kind").to_string(),
                    subject: subject.to_string(),
                });
            }
        }
        Ok(Baseline { file, entries })
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Distinct findings it lists.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it lists no finding.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn contains(&self, id: &Identity) -> bool {
        self.entries.contains(id)
    }
}
