//! `droneid decode X.sigmf-meta --annotate OUT.sigmf-meta`: a copy of the recording's
//! metadata with one `core:annotations` entry per decoded burst (see
//! [`droneid_io::droneid_annotation`]); the data file is never opened for writing.

use std::path::{Component, Path, PathBuf};

use droneid_io::{path_with_suffix, sigmf_base_path, write_annotated_copy, Annotation, SourceInfo};

use crate::common::{check_writable, CliError};

/// Checks, before anything is decoded, that `out` can be written as an annotated copy of
/// `info`'s metadata: the input must be SigMF, `out` must end in `.sigmf-meta` (so it can never
/// name the data file) and differ from the input's own metadata, and its folder be writable.
pub fn check_target(out: &Path, info: &SourceInfo) -> Result<(), CliError> {
    let Some(meta) = &info.meta_path else {
        return Err(CliError::usage(format!(
            "--annotate needs a SigMF input (X.sigmf-meta); '{}' is a raw recording",
            info.path
        )));
    };
    if !out.to_string_lossy().ends_with(".sigmf-meta") {
        return Err(CliError::usage(format!(
            "--annotate {}: the copy must be a .sigmf-meta file",
            out.display()
        )));
    }
    if same_file(out, meta) {
        return Err(CliError::usage(format!(
            "--annotate {}: that is the input's own metadata; --annotate writes a copy, choose another path",
            out.display()
        )));
    }
    check_writable(out, "--annotate")
}

/// Writes the annotated copy. `core:dataset` names the input's data file relative to the
/// copy's folder unless it is the copy's default data file (`OUT.sigmf-data`).
pub fn write_copy(
    out: &Path,
    info: &SourceInfo,
    annotations: &[Annotation],
) -> Result<(), CliError> {
    let (Some(meta), Some(data)) = (&info.meta_path, &info.data_path) else {
        return Err(CliError::usage("--annotate needs a SigMF input"));
    };
    let default_data = path_with_suffix(&sigmf_base_path(out), ".sigmf-data");
    let dataset = if same_file(&default_data, data) {
        None
    } else {
        Some(relative_to(data, &parent_of(out)))
    };
    write_annotated_copy(meta, out, annotations, dataset.as_deref())
        .map_err(|e| CliError::io(format!("--annotate: {e}")))
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    // Not there yet: canonicalize the folder, keep the name.
    let dir = parent_of(p);
    let dir = dir.canonicalize().unwrap_or(dir);
    match p.file_name() {
        Some(n) => dir.join(n),
        None => dir,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    absolute(a) == absolute(b)
}

/// `target` as a path relative to folder `dir` (`../x/y` style), as a string with `/`.
fn relative_to(target: &Path, dir: &Path) -> String {
    let t = absolute(target);
    let d = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let tc: Vec<Component> = t.components().collect();
    let dc: Vec<Component> = d.components().collect();
    let common = tc.iter().zip(&dc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); dc.len() - common];
    parts.extend(
        tc[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let base =
            std::env::temp_dir().join(format!("droneid-annotate-rel-{}", std::process::id()));
        std::fs::create_dir_all(base.join("a/b")).unwrap();
        std::fs::create_dir_all(base.join("c")).unwrap();
        std::fs::write(base.join("a/b/x.sigmf-data"), b"").unwrap();
        assert_eq!(
            relative_to(&base.join("a/b/x.sigmf-data"), &base.join("c")),
            "../a/b/x.sigmf-data"
        );
        assert_eq!(
            relative_to(&base.join("a/b/x.sigmf-data"), &base.join("a/b")),
            "x.sigmf-data"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
