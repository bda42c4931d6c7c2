//! Turning command-line paths into the list of inputs.
use std::path::{Path, PathBuf};

use phoneleak::report::InputError;

/// Files named on the command line, with folders expanded recursively in name order.
pub(crate) fn expand_paths(paths: &[PathBuf], errors: &mut Vec<InputError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files, errors);
    }
    files
}

fn walk(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
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
                walk(&child, files, errors);
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
        // Regular files, and devices and pipes (`/dev/stdin`, `<(zcat x.pcap.gz)`):
        // read as a stream; an endless one is stopped by the format check.
        Ok(meta) if meta.is_file() || is_stream(&meta) => files.push(path.to_path_buf()),
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
