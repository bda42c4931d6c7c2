//! Turning command-line paths into the list of inputs.
use std::path::{Path, PathBuf};

use phoneleak::capture::Input;
use phoneleak::report::InputError;

/// Inputs named on the command line: `-` is standard input, folders are
/// expanded recursively in name order.
pub(crate) fn expand_paths(paths: &[PathBuf], errors: &mut Vec<InputError>) -> Vec<Input> {
    let mut files = Vec::new();
    for path in paths {
        match Input::from_arg(path) {
            Input::Stdin => files.push(Input::Stdin),
            Input::Path(_) => walk(path, true, &mut files, errors),
        }
    }
    files
}

/// Adds `path`: a folder's files in name order, a file, or (named on the
/// command line only) a pipe or device such as `<(zcat capture.pcap.gz)`.
fn walk(path: &Path, named: bool, files: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(e) => {
                    errors.push(InputError {
                        file: path.display().to_string(),
                        offset: None,
                        error: e.to_string(),
                        partial: false,
                    });
                    return;
                }
            };
            let mut children: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            children.sort();
            let before = files.len();
            for child in children {
                walk(&child, false, files, errors);
            }
            if files.len() == before {
                errors.push(InputError {
                    file: path.display().to_string(),
                    offset: None,
                    error: "a folder with no files in it".into(),
                    partial: false,
                });
            }
        }
        // Regular files, files named on the command line, and devices and pipes
        // (`/dev/stdin`, `<(zcat x.pcap.gz)`): read as a stream; an endless one is
        // stopped by the format check.
        Ok(meta) if meta.is_file() || named || is_stream(&meta) => {
            files.push(Input::Path(path.to_path_buf()))
        }
        Ok(_) => errors.push(InputError {
            file: path.display().to_string(),
            offset: None,
            error: "not a file, device, pipe or folder".into(),
            partial: false,
        }),
        Err(e) => errors.push(InputError {
            file: path.display().to_string(),
            offset: None,
            error: e.to_string(),
            partial: false,
        }),
    }
}

#[cfg(unix)]
fn is_stream(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    t.is_char_device() || t.is_block_device() || t.is_fifo()
}

#[cfg(not(unix))]
fn is_stream(_meta: &std::fs::Metadata) -> bool {
    false
}
