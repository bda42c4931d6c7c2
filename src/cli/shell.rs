//! `phoneleak completions` and `phoneleak man`: fitting into the shell.
use std::io::{self, Write};

use clap::CommandFactory;

use super::Cli;

/// Writes the completion script for `shell` to standard output.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<u8, super::CliError> {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "phoneleak", &mut out);
    out.flush()?;
    Ok(0)
}

/// Writes the manual page of the program, or of one of its commands, to standard output.
pub(crate) fn man(command: Option<&str>) -> Result<u8, super::CliError> {
    let mut cmd = Cli::command();
    // Building names the subcommands `phoneleak-scan` (page) and `phoneleak scan` (synopsis).
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => {
            let Some(sub) = cmd.find_subcommand(name) else {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                say!(
                    "phoneleak: no command `{name}` (commands: {})",
                    names.join(", ")
                );
                return Ok(2);
            };
            sub.clone()
        }
    };
    // The examples (the command's after-help) are printed as they are
    // written (`.nf`), not refilled into one paragraph.
    let examples = page.get_after_help().map(|h| h.to_string());
    let page = page.after_help(None::<&str>);
    let has_version = page.get_version().is_some() || page.get_long_version().is_some();
    let man = clap_mangen::Man::new(page)
        .source(format!("phoneleak {}", env!("CARGO_PKG_VERSION")))
        .manual("phoneleak manual");
    let mut roff = Vec::new();
    man.render_title(&mut roff)?;
    man.render_name_section(&mut roff)?;
    man.render_synopsis_section(&mut roff)?;
    man.render_description_section(&mut roff)?;
    man.render_options_section(&mut roff)?;
    man.render_subcommands_section(&mut roff)?;
    if let Some(text) = examples {
        roff.extend_from_slice(b".SH EXAMPLES\n.nf\n");
        roff.extend_from_slice(verbatim(&text).as_bytes());
        roff.extend_from_slice(b".fi\n");
    }
    if matches!(command, None | Some("scan") | Some("live")) {
        roff.extend_from_slice(b".SH \"EXIT STATUS\"\n.nf\n");
        roff.extend_from_slice(verbatim(super::EXIT_STATUS).as_bytes());
        roff.extend_from_slice(b".fi\n");
    }
    if matches!(command, Some("scan") | Some("live")) {
        roff.extend_from_slice(COUNTERS_INTRO.as_bytes());
        for (name, doc) in phoneleak::pipeline::Stats::counter_docs() {
            roff.extend_from_slice(
                format!(".TP\n\\fB{}\\fR\n{}", text(&name), verbatim(&doc)).as_bytes(),
            );
        }
    }
    if has_version {
        man.render_version_section(&mut roff)?;
    }
    let mut out = io::stdout().lock();
    out.write_all(&roff)?;
    out.flush()?;
    Ok(0)
}

/// The start of the COUNTERS section of the scan and live pages.
const COUNTERS_INTRO: &str = ".SH COUNTERS
The text summary lists every counter that is not zero (JSON lines: every
counter, in groups), named GROUP.NAME; a packet that carried no usable TCP
segment is counted under exactly one decode reason.
";

/// One word or name for roff: backslashes and dashes escaped.
fn text(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

/// Text as roff lines printed as written: backslashes and dashes escaped, a
/// leading `.` or `'` made literal.
fn verbatim(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.replace('\\', "\\e").replace('-', "\\-");
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
