//! Real peers from the npm registry, installed once per build folder on first use (pinned versions).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use anyon::util::sync::LockExt;

/// Installs `package@version` into `peers/<dir>` under Cargo's test scratch folder (or `$ANYON_TEST_PEERS/<dir>`)
/// and returns `node_modules/.bin/<bin>`. A file lock keeps concurrent test processes from installing twice.
pub fn install(dir: &str, package: &str, version: &str, bin: &str) -> Result<PathBuf, String> {
    install_once(dir, package, version, &Path::new("node_modules/.bin").join(bin))
}

/// Installs the library `package@version` like [`install`] and returns the npm prefix it is installed
/// under (the folder holding `node_modules`), for scripts that resolve it from there.
pub fn install_library(dir: &str, package: &str, version: &str) -> Result<PathBuf, String> {
    let manifest = Path::new("node_modules").join(package).join("package.json");
    install_once(dir, package, version, &manifest)?;
    Ok(peers_root(dir))
}

/// Installs once per process and returns `<prefix>/<expect>`, which must exist afterwards.
fn install_once(dir: &str, package: &str, version: &str, expect: &Path) -> Result<PathBuf, String> {
    static DONE: OnceLock<Mutex<std::collections::HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    let mut done = done.lock_or_recover();
    let key = format!("{dir}/{package}@{version}/{}", expect.display());
    if let Some(result) = done.get(&key) {
        return result.clone();
    }
    let result = install_now(dir, package, version, expect);
    done.insert(key, result.clone());
    result
}

fn peers_root(dir: &str) -> PathBuf {
    std::env::var_os("ANYON_TEST_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers"))
        .join(dir)
}

fn install_now(dir: &str, package: &str, version: &str, expect: &Path) -> Result<PathBuf, String> {
    let root = peers_root(dir);
    let path = root.join(expect);
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let lock = std::fs::File::create(root.join(".install.lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let marker = root.join(format!(".installed-{package}@{version}").replace('/', "_"));
    if path.is_file() && marker.is_file() {
        return Ok(path);
    }
    eprintln!("installing {package}@{version} into {} (once)", root.display());
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&root)
        .arg(format!("{package}@{version}"))
        .output()
        .map_err(|e| format!("cannot run npm ({e}); install Node.js and npm"))?;
    if !output.status.success() {
        return Err(format!(
            "npm install {package} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if !path.is_file() {
        return Err(format!("npm installed {package} but {} is missing", path.display()));
    }
    std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
    Ok(path)
}
