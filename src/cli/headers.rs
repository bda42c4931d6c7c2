//! `phoneleak headers`: the catalogue of header names, as text or JSON.
use std::io::{self, Write};

use serde::Serialize;

use phoneleak::detect::catalogue;

use super::{CatalogueFormat, HeadersArgs};

#[derive(Serialize)]
struct Row {
    name: &'static str,
    kind: &'static str,
    carries: &'static str,
    seen_by: &'static str,
    tier: u8,
    source: &'static str,
}

/// Runs `headers`; returns the exit status (0).
pub(crate) fn run(args: &HeadersArgs) -> Result<u8, super::CliError> {
    let rows: Vec<Row> = catalogue::entries()
        .iter()
        .map(|e| Row {
            name: e.name,
            kind: if e.by_value {
                "msisdn-header or subscriber-id-header (by value)"
            } else {
                e.kind.as_str()
            },
            carries: e.carries,
            seen_by: e.seen_by(),
            tier: e.tier,
            source: e.source,
        })
        .collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        CatalogueFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        CatalogueFormat::Jsonl => {
            for r in &rows {
                serde_json::to_writer(&mut out, r).map_err(io::Error::from)?;
                writeln!(out)?;
            }
        }
        CatalogueFormat::Text => {
            writeln!(
                out,
                "{} header names (docs/headers.md has the sources with links).",
                rows.len()
            )?;
            writeln!(
                out,
                "Names not listed also count when, letters only and lower-cased, they end in\n\
                 msisdn, callinglineid, clid or mdn (msisdn-header, tier 2).\n"
            )?;
            for r in &rows {
                writeln!(out, "{}", r.name)?;
                writeln!(out, "  kind     {} (tier {})", r.kind, r.tier)?;
                writeln!(out, "  carries  {}", r.carries)?;
                writeln!(out, "  seen by  {}", r.seen_by)?;
                writeln!(out, "  source   {}", r.source)?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}
