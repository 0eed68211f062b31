//! Where an output directory really is, and where it may never be.
//!
//! Paths are compared as the file system resolves them (symbolic links followed), also for an
//! output directory that does not exist yet: it is judged by its nearest existing ancestor.

use std::io;
use std::path::{Component, Path, PathBuf};

/// More links than this in one path is a loop (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// Why a directory may never be an output directory: a build replaces it whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protected {
    /// It is the platform file, or holds it at some depth.
    Input,
    /// It holds `.git`: a repository or a worktree.
    Repository,
}

/// Whether `out` must not be written by a build of `input`: when it is `input`, holds it (at
/// any depth), or holds `.git`. Symbolic links are resolved on both sides.
pub fn protected(out: &Path, input: &Path) -> io::Result<Option<Protected>> {
    let out = real_path(out)?;
    let input = real_path(input)?;
    if input.starts_with(&out) {
        return Ok(Some(Protected::Input));
    }
    if std::fs::symlink_metadata(out.join(".git")).is_ok() {
        return Ok(Some(Protected::Repository));
    }
    Ok(None)
}

/// `path` as an absolute path with every symbolic link resolved, also when it does not exist
/// (yet): then its nearest existing ancestor is resolved and the rest is appended, with `..`
/// taken lexically, as creating the missing directories would resolve it. A dangling link is
/// followed to where it points.
pub fn real_path(path: &Path) -> io::Result<PathBuf> {
    let mut existing = std::path::absolute(path)?;
    // Components below `existing`, innermost first.
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let mut links = 0;
    loop {
        match existing.canonicalize() {
            Ok(mut real) => {
                for component in rest.iter().rev() {
                    if component == ".." {
                        real.pop();
                    } else {
                        real.push(component);
                    }
                }
                return Ok(real);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        if is_symlink(&existing) {
            links += 1;
            if links > MAX_LINKS {
                return Err(io::Error::other(format!(
                    "too many levels of symbolic links at {}",
                    existing.display()
                )));
            }
            let target = std::fs::read_link(&existing)?;
            existing = parent_of(&existing).join(target);
            continue;
        }
        let Some(last) = existing.components().next_back() else {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        };
        match last {
            Component::Normal(name) => rest.push(name.to_owned()),
            Component::ParentDir => rest.push("..".into()),
            Component::CurDir => {}
            // The root exists: canonicalize cannot have failed on it.
            Component::RootDir | Component::Prefix(_) => {
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
        }
        existing = parent_of(&existing);
    }
}

/// Whether `path` is itself a symbolic link (not followed).
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The directory holding `path`: `.` for a bare name.
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_path_is_resolved_from_its_nearest_ancestor() {
        let dir = std::env::temp_dir().join(format!("platc-place-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let real = dir.canonicalize().unwrap();
        assert_eq!(real_path(&dir.join("a/b/c/../..")).unwrap(), real.join("a"));
        assert_eq!(real_path(&dir.join("a/new")).unwrap(), real.join("a/new"));
        std::os::unix::fs::symlink("a/x/..", dir.join("dangling")).unwrap();
        assert_eq!(real_path(&dir.join("dangling")).unwrap(), real.join("a"));
        std::os::unix::fs::symlink("loop", dir.join("loop")).unwrap();
        assert!(real_path(&dir.join("loop")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
