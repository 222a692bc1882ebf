//! Where the workspace is, found at run time: with a shared `CARGO_TARGET_DIR`, cargo reuses an
//! `xtask` built in another checkout, which must act on the checkout it is run in, not on the one
//! it was compiled in.

use std::path::{Path, PathBuf};

/// The workspace root: the nearest folder at or above `CARGO_MANIFEST_DIR` (which `cargo run`
/// sets to xtask's folder of the checkout it runs in) whose `Cargo.toml` has a `[workspace]`;
/// without that variable (the binary run directly), the nearest one at or above the current
/// folder.
pub fn workspace_root() -> Result<PathBuf, String> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    if let Some(root) = manifest_dir.as_deref().and_then(enclosing_workspace) {
        return Ok(root);
    }
    let current = std::env::current_dir()
        .map_err(|e| format!("cannot read the current folder to find the workspace: {e}"))?;
    enclosing_workspace(&current).ok_or_else(|| {
        format!(
            "no Cargo.toml with a [workspace] in {} or above: run cargo xtask inside the \
             workspace",
            current.display()
        )
    })
}

/// Cargo's target directory for the workspace at `root`: `CARGO_TARGET_DIR` when set.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// A binary of the one (dev) profile, as cargo builds it for the workspace at `root`.
pub fn debug_binary(root: &Path, name: &str) -> PathBuf {
    target_dir(root).join("debug").join(name)
}

/// `dir` or the nearest folder above it that holds a workspace's `Cargo.toml`.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| is_workspace(d)).map(Path::to_owned)
}

fn is_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_found_from_any_folder_inside_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for dir in [root.to_owned(), root.join("xtask"), root.join("codegen/src")] {
            assert_eq!(enclosing_workspace(&dir).as_deref(), Some(root), "{}", dir.display());
        }
        let outside = tempfile::tempdir().unwrap();
        assert_eq!(enclosing_workspace(outside.path()), None);
    }
}
