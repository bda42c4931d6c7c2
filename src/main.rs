//! The `phoneleak` command: wires capture sources, the analysis pipeline and
//! a report sink together, and maps the outcome to an exit status
//! (0 no leak, 1 leak, 2 usage or input error). All of it lives in `cli/`.
mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
