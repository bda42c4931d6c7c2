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
            for child in children {
                walk(&child, files, errors);
            }
        }
        Ok(meta) if meta.is_file() => files.push(path.to_path_buf()),
        Ok(_) => errors.push(InputError {
            file: path.display().to_string(),
            offset: None,
            error: "not a regular file or folder".into(),
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
