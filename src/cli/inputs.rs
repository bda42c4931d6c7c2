//! Turning command-line paths into the list of inputs.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use phoneleak::capture::{Input, human_io};
use phoneleak::report::{InputError, Severity};

/// One input to read, and whether the user named it (a file met in a folder
/// walk that turns out not to be a capture is skipped, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    pub input: Input,
    pub named: bool,
}

/// The inputs of a run, what could not be used, and what a walk skipped.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// To read, in order.
    pub sources: Vec<Source>,
    /// Paths that could not be used (missing, unreadable folder, ...).
    pub errors: Vec<InputError>,
    /// Files met in a folder walk and skipped: (path, why). Not captures are
    /// added while reading.
    pub skipped: Vec<(String, String)>,
    /// Inputs given again (by another spelling, a link or a folder holding
    /// them), left out: (this name, the name read).
    pub repeated: Vec<(String, String)>,
}

/// Inputs named on the command line: `-` is standard input, folders are
/// expanded recursively in name order, taking regular files only (as
/// `find -type f`: FIFOs, devices and sockets met there are skipped, so a
/// FIFO without a writer cannot stall a walk). A path named on the command
/// line may be anything readable: `/dev/stdin`, `<(zcat x.pcap.gz)`, a FIFO.
pub(crate) fn expand_paths(paths: &[PathBuf]) -> Inputs {
    let mut inputs = Inputs::default();
    for path in paths {
        match Input::from_arg(path) {
            Input::Stdin => inputs.sources.push(Source {
                input: Input::Stdin,
                named: true,
            }),
            Input::Path(_) => walk(path, true, &mut inputs),
        }
    }
    read_once(&mut inputs);
    inputs
}

/// Keeps the first of inputs that are one file (the same device and inode, or
/// standard input twice), so a file given twice counts once.
fn read_once(inputs: &mut Inputs) {
    let mut seen: HashMap<Identity, String> = HashMap::new();
    let mut kept = Vec::with_capacity(inputs.sources.len());
    for source in std::mem::take(&mut inputs.sources) {
        let name = source.input.name();
        match identity(&source.input) {
            Some(id) => match seen.get(&id) {
                Some(first) => inputs.repeated.push((name, first.clone())),
                None => {
                    seen.insert(id, name);
                    kept.push(source);
                }
            },
            None => kept.push(source),
        }
    }
    inputs.sources = kept;
}

/// What makes two inputs one: standard input, or a regular file's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    Stdin,
    #[cfg(unix)]
    File(u64, u64),
    #[cfg(not(unix))]
    File(PathBuf),
}

fn identity(input: &Input) -> Option<Identity> {
    match input {
        Input::Stdin => Some(Identity::Stdin),
        Input::Path(path) => {
            let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                Some(Identity::File(meta.dev(), meta.ino()))
            }
            #[cfg(not(unix))]
            {
                let _ = meta;
                std::fs::canonicalize(path).ok().map(Identity::File)
            }
        }
    }
}

fn error(path: &Path, message: String) -> InputError {
    InputError {
        file: path.display().to_string(),
        offset: None,
        error: message,
        partial: false,
        severity: Severity::Error,
        went_on: false,
    }
}

fn walk(path: &Path, named: bool, inputs: &mut Inputs) {
    // A named symbolic link is followed; links met in a walk are followed too
    // (metadata, not symlink_metadata), as the files they name are files.
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if named => {
            inputs.errors.push(error(path, human_io(&e)));
            return;
        }
        Err(e) => {
            // A dangling link or a file removed during the walk.
            inputs
                .skipped
                .push((path.display().to_string(), human_io(&e)));
            return;
        }
    };
    if meta.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                inputs.errors.push(error(path, human_io(&e)));
                return;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        let before = inputs.sources.len();
        let skipped_before = inputs.skipped.len();
        for child in children {
            walk(&child, false, inputs);
        }
        if inputs.sources.len() == before && inputs.skipped.len() == skipped_before && named {
            inputs
                .errors
                .push(error(path, "a folder with no files in it".into()));
        }
    } else if meta.is_file() || named {
        inputs.sources.push(Source {
            input: Input::Path(path.to_path_buf()),
            named,
        });
    } else {
        inputs
            .skipped
            .push((path.display().to_string(), kind_of(&meta).into()));
    }
}

/// What a non-regular file is, for the `--verbose` list.
#[cfg(unix)]
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO, not a regular file"
    } else if t.is_socket() {
        "a socket, not a regular file"
    } else if t.is_char_device() || t.is_block_device() {
        "a device, not a regular file"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn kind_of(_meta: &std::fs::Metadata) -> &'static str {
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_take_regular_files_and_named_paths_anything() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("b.pcap"), b"x").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.pcap"), b"x").unwrap();
        std::fs::create_dir(root.join("empty")).unwrap();
        #[cfg(unix)]
        {
            let fifo = root.join("c.fifo");
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let got = expand_paths(&[root.to_path_buf(), root.join("missing")]);
        let names: Vec<String> = got.sources.iter().map(|s| s.input.name()).collect();
        assert_eq!(
            names,
            vec![
                root.join("b.pcap").display().to_string(),
                root.join("sub/a.pcap").display().to_string()
            ]
        );
        assert!(got.sources.iter().all(|s| !s.named));
        #[cfg(unix)]
        assert_eq!(
            got.skipped,
            vec![(
                root.join("c.fifo").display().to_string(),
                "a FIFO, not a regular file".to_string()
            )]
        );
        // The missing path is an error, without the "(os error 2)" suffix;
        // an empty folder met in a walk is no error.
        assert_eq!(got.errors.len(), 1, "{:?}", got.errors);
        assert!(got.errors[0].file.ends_with("missing"));
        assert!(
            !got.errors[0].error.contains("os error"),
            "{:?}",
            got.errors
        );
        // Named, a FIFO is an input, and an empty folder is an error.
        #[cfg(unix)]
        {
            let named = expand_paths(&[root.join("c.fifo"), root.join("empty")]);
            assert_eq!(named.sources.len(), 1);
            assert!(named.sources[0].named);
            assert_eq!(named.errors.len(), 1);
        }
    }
}
