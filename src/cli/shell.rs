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
                eprintln!(
                    "phoneleak: no command `{name}` (commands: {})",
                    names.join(", ")
                );
                return Ok(2);
            };
            sub.clone()
        }
    };
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(page)
        .source(format!("phoneleak {}", env!("CARGO_PKG_VERSION")))
        .manual("phoneleak manual")
        .render(&mut out)?;
    out.flush()?;
    Ok(0)
}
