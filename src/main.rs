//! The `phoneleak` command: wires capture sources, the analysis pipeline and
//! a report sink together, and maps the outcome to an exit status
//! (0 no leak, 1 leak, 2 usage or input error). All of it lives in `cli/`.
// Messages go through `say!`, which makes control characters visible.
#[deny(clippy::print_stderr)]
mod cli;

/// See the `mimalloc` feature in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
