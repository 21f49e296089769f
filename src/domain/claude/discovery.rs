//! Finding the `claude` binary, and which version it is.
//!
//! Places are tried in a fixed order: the path saved in settings, `ANYON_CLAUDE_BIN`, every `PATH`
//! entry, then the places the installers use (the native installer's `~/.claude/local` and `~/.local/bin`,
//! npm's global prefix, nvm, Homebrew, `/usr/local/bin`, bun). Each existing file runs `--version` under a
//! timeout; the same binary reached twice (symlinks) is listed once. The result keeps every place searched
//! so that, when nothing is found, the UI can say exactly where it looked.
//!
//! Everything the search reads from the environment comes in through [`DiscoveryInputs`], so tests run it
//! against temporary directories. [`discover`] blocks (it runs processes): call it off the UI thread.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::sync::LockExt;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

/// Environment variable that points ANYON at a specific `claude` binary.
pub const CLAUDE_BIN_ENV: &str = "ANYON_CLAUDE_BIN";

/// How long `claude --version` may take. The native binary answers in well under a second; a slow disk or
/// a first run of an npm shim can take a few.
pub const DEFAULT_VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a running `--version` is checked for exit.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// How much unrecognised `--version` output to keep for the message.
const OUTPUT_EXCERPT_CHARS: usize = 120;

/// Everything the search reads from the machine, so tests can supply their own.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryInputs {
    /// The path the person saved in settings; chosen whenever it exists.
    pub saved_path: Option<PathBuf>,
    /// `ANYON_CLAUDE_BIN`.
    pub env_bin: Option<OsString>,
    /// `PATH`.
    pub path_var: Option<OsString>,
    /// The home directory.
    pub home: Option<PathBuf>,
    /// `NPM_CONFIG_PREFIX` (npm's global prefix when set).
    pub npm_config_prefix: Option<OsString>,
    /// `NVM_DIR` (defaults to `~/.nvm`).
    pub nvm_dir: Option<PathBuf>,
    /// `%APPDATA%` (Windows only).
    pub app_data: Option<PathBuf>,
    /// `%LOCALAPPDATA%` (Windows only).
    pub local_app_data: Option<PathBuf>,
    /// Fixed directories searched after the home-relative ones (`/opt/homebrew/bin`, `/usr/local/bin`, ...).
    pub system_dirs: Vec<PathBuf>,
    /// Limit for each `--version` run.
    pub version_timeout: Duration,
}

impl DiscoveryInputs {
    /// Reads the real environment; `saved_path` comes from ANYON's settings.
    pub fn from_env(saved_path: Option<PathBuf>) -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        Self {
            saved_path,
            env_bin: var(CLAUDE_BIN_ENV),
            path_var: var("PATH"),
            home: directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf()),
            npm_config_prefix: var("NPM_CONFIG_PREFIX").or_else(|| var("npm_config_prefix")),
            nvm_dir: var("NVM_DIR").map(PathBuf::from),
            app_data: var("APPDATA").map(PathBuf::from),
            local_app_data: var("LOCALAPPDATA").map(PathBuf::from),
            system_dirs: default_system_dirs(),
            version_timeout: DEFAULT_VERSION_TIMEOUT,
        }
    }
}

/// The fixed directories package managers install into.
fn default_system_dirs() -> Vec<PathBuf> {
    if cfg!(windows) {
        Vec::new()
    } else {
        // Homebrew (Apple silicon, then Intel and the Node installer), then distro npm (`/usr` prefix).
        ["/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"]
            .into_iter()
            .map(PathBuf::from)
            .collect()
    }
}

/// Why a place was looked at.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq, Eq)]
pub enum Source {
    /// The path saved in ANYON's settings.
    Setting,
    /// `ANYON_CLAUDE_BIN`.
    EnvVar,
    /// A `PATH` entry.
    Path,
    /// A place an installer uses.
    InstallLocation,
}

/// What was at a place that was searched.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub enum PlaceOutcome {
    /// No file there.
    Missing,
    /// A file that may not be executed.
    NotExecutable,
    /// The same binary as an installation already listed (through a symlink or a repeated `PATH` entry).
    SameAs(PathBuf),
    /// An installation (see [`Discovery::installations`]).
    Installation,
}

/// One place that was searched.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct SearchedPlace {
    pub path: PathBuf,
    pub source: Source,
    pub outcome: PlaceOutcome,
}

/// A `claude` binary that exists.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Installation {
    /// The path as found (what to run).
    pub path: PathBuf,
    /// The path with symlinks resolved (what makes two finds the same binary).
    pub canonical_path: PathBuf,
    pub source: Source,
    /// Its version, or why `--version` did not give one.
    pub version: Result<ClaudeVersion, VersionError>,
}

impl Installation {
    /// True when `--version` answered like Claude Code.
    pub fn runs(&self) -> bool {
        self.version.is_ok()
    }
}

/// A Claude Code version as `--version` prints it (`2.1.197 (Claude Code)`).
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClaudeVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// The first line of the output, as printed.
    pub raw: String,
}

impl std::fmt::Display for ClaudeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl ClaudeVersion {
    /// Reads `--version` output. Requires the `(Claude Code)` marker so that another program named
    /// `claude` is not mistaken for it.
    pub fn parse(output: &str) -> Option<Self> {
        let line = output.lines().map(str::trim).find(|line| !line.is_empty())?;
        if !line.contains("Claude Code") {
            return None;
        }
        let token = line.split_whitespace().next()?;
        // Allow a pre-release or build suffix (`2.2.0-beta.1`): only the numbers are compared.
        let numbers = token.split(['-', '+']).next()?;
        let mut parts = numbers.split('.').map(str::parse::<u64>);
        let (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Self {
            major,
            minor,
            patch,
            raw: line.to_owned(),
        })
    }
}

/// Why `--version` did not give a Claude Code version.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("could not start it: {0}")]
    Spawn(String),
    #[error("`--version` did not answer within {timeout_ms} ms")]
    TimedOut { timeout_ms: u128 },
    #[error("`--version` failed ({status})")]
    Failed { status: String },
    #[error("`--version` printed something that is not a Claude Code version: {output:?}")]
    Unrecognized { output: String },
}

/// The outcome of a search.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Discovery {
    /// Every binary found, in search order, each listed once.
    pub installations: Vec<Installation>,
    /// Index into `installations` of the one to use: the saved path when it exists (the person chose it,
    /// even if it does not run, so the UI can say so), else the first that runs.
    pub chosen: Option<usize>,
    /// Every place looked at, in order, with what was there.
    pub searched: Vec<SearchedPlace>,
}

impl Discovery {
    /// The installation to use, if any.
    pub fn chosen(&self) -> Option<&Installation> {
        self.chosen.and_then(|index| self.installations.get(index))
    }
}

/// No Claude Code to run: the search that found none, shown with every place searched and why each did
/// not count.
#[derive(Debug, Clone)]
pub struct NotFound(pub Arc<Discovery>);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "Claude Code was not found. Install it (npm install -g @anthropic-ai/claude-code), or choose the \
             binary in Settings, or set ANYON_CLAUDE_BIN. Searched:",
        )?;
        for place in &self.0.searched {
            let why = match &place.outcome {
                PlaceOutcome::Missing => "not there".to_string(),
                PlaceOutcome::NotExecutable => "not executable".to_string(),
                PlaceOutcome::SameAs(other) => format!("same as {}", other.display()),
                PlaceOutcome::Installation => "found, but it does not run".to_string(),
            };
            write!(f, "\n  {} ({why})", place.path.display())?;
        }
        for installation in &self.0.installations {
            if let Err(error) = &installation.version {
                write!(f, "\n  {}: {error}", installation.path.display())?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for NotFound {}

/// Searches every place in order and runs `--version` on each binary found (in parallel).
pub fn discover(inputs: &DiscoveryInputs) -> Discovery {
    let mut searched = Vec::new();
    let mut found: Vec<(PathBuf, PathBuf, Source)> = Vec::new();
    for (path, source) in candidates(inputs) {
        // A PATH entry and an install place are often the same directory: list each path once.
        if searched.iter().any(|place: &SearchedPlace| place.path == path) {
            continue;
        }
        let outcome = match inspect(&path) {
            Inspection::Missing => PlaceOutcome::Missing,
            Inspection::NotExecutable => PlaceOutcome::NotExecutable,
            Inspection::Executable(canonical) => match found.iter().find(|(_, known, _)| *known == canonical) {
                Some((first, _, _)) => PlaceOutcome::SameAs(first.clone()),
                None => {
                    found.push((path.clone(), canonical, source));
                    PlaceOutcome::Installation
                }
            },
        };
        searched.push(SearchedPlace { path, source, outcome });
    }

    let timeout = inputs.version_timeout;
    let versions: Vec<Result<ClaudeVersion, VersionError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = found
            .iter()
            .map(|(path, _, _)| scope.spawn(move || read_version(path, timeout)))
            .collect();
        crate::util::sync::join_all(handles, || {
            VersionError::Spawn("the version check stopped unexpectedly".into())
        })
    });
    let installations: Vec<Installation> = found
        .into_iter()
        .zip(versions)
        .map(|((path, canonical_path, source), version)| Installation {
            path,
            canonical_path,
            source,
            version,
        })
        .collect();

    let saved = installations
        .iter()
        .position(|installation| installation.source == Source::Setting);
    let chosen = saved.or_else(|| installations.iter().position(Installation::runs));
    Discovery {
        installations,
        chosen,
        searched,
    }
}

/// Every place to look, in order. Places may repeat; [`discover`] lists each once.
pub fn candidates(inputs: &DiscoveryInputs) -> Vec<(PathBuf, Source)> {
    let mut places = Vec::new();
    if let Some(saved) = &inputs.saved_path {
        places.push((saved.clone(), Source::Setting));
    }
    if let Some(env_bin) = &inputs.env_bin {
        places.push((PathBuf::from(env_bin), Source::EnvVar));
    }
    if let Some(path_var) = &inputs.path_var {
        for dir in std::env::split_paths(path_var).filter(|dir| !dir.as_os_str().is_empty()) {
            for name in binary_names() {
                places.push((dir.join(name), Source::Path));
            }
        }
    }
    for dir in install_dirs(inputs) {
        for name in binary_names() {
            places.push((dir.join(name), Source::InstallLocation));
        }
    }
    places
}

/// The file names a `claude` install has on this platform (npm makes `.cmd` shims on Windows).
fn binary_names() -> &'static [&'static str] {
    if cfg!(windows) {
        &["claude.exe", "claude.cmd"]
    } else {
        &["claude"]
    }
}

/// The directories installers put `claude` in, in the order they are tried.
fn install_dirs(inputs: &DiscoveryInputs) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let home = inputs.home.as_deref();
    if let Some(home) = home {
        // The native installer (current and older layouts).
        dirs.push(home.join(".claude").join("local"));
        dirs.push(home.join(".local").join("bin"));
    }
    for prefix in npm_prefixes(inputs) {
        dirs.push(npm_bin_dir(&prefix));
    }
    let nvm_dir = inputs.nvm_dir.clone().or_else(|| home.map(|home| home.join(".nvm")));
    if let Some(nvm_dir) = nvm_dir {
        dirs.extend(nvm_bin_dirs(&nvm_dir));
    }
    if cfg!(windows) {
        if let Some(app_data) = &inputs.app_data {
            dirs.push(app_data.join("npm"));
        }
        if let Some(local_app_data) = &inputs.local_app_data {
            dirs.push(local_app_data.join("Programs").join("claude"));
            dirs.push(local_app_data.join("Microsoft").join("WinGet").join("Links"));
        }
    }
    dirs.extend(inputs.system_dirs.iter().cloned());
    if let Some(home) = home {
        dirs.push(home.join(".bun").join("bin"));
        dirs.push(home.join(".volta").join("bin"));
    }
    dirs
}

/// npm's global prefixes worth looking under, without running npm: `NPM_CONFIG_PREFIX`, `~/.npmrc`'s
/// `prefix=`, and the prefix the npm docs suggest for installs without root (`~/.npm-global`).
fn npm_prefixes(inputs: &DiscoveryInputs) -> Vec<PathBuf> {
    let mut prefixes = Vec::new();
    if let Some(prefix) = &inputs.npm_config_prefix {
        prefixes.push(PathBuf::from(prefix));
    }
    if let Some(home) = &inputs.home {
        if let Ok(npmrc) = std::fs::read_to_string(home.join(".npmrc"))
            && let Some(prefix) = npmrc_prefix(&npmrc, home)
        {
            prefixes.push(prefix);
        }
        prefixes.push(home.join(".npm-global"));
    }
    prefixes
}

/// Where npm puts global binaries under `prefix`: `bin/` on Unix, the prefix itself on Windows.
fn npm_bin_dir(prefix: &Path) -> PathBuf {
    if cfg!(windows) {
        prefix.to_path_buf()
    } else {
        prefix.join("bin")
    }
}

/// The `prefix=` setting of an `.npmrc`, with `~` and `${HOME}` expanded.
fn npmrc_prefix(npmrc: &str, home: &Path) -> Option<PathBuf> {
    npmrc.lines().rev().find_map(|line| {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            return None;
        }
        let (key, value) = line.split_once('=')?;
        if key.trim() != "prefix" {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if value.is_empty() {
            return None;
        }
        let home_text = home.to_string_lossy();
        let expanded = if let Some(rest) = value.strip_prefix("~/") {
            home.join(rest)
        } else {
            PathBuf::from(value.replace("${HOME}", &home_text).replace("$HOME", &home_text))
        };
        Some(expanded)
    })
}

/// `<nvm>/versions/node/*/bin`, newest version first (that is the one a new shell would most likely use).
fn nvm_bin_dirs(nvm_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(nvm_dir.join("versions").join("node")) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u64>, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let key = name
                .trim_start_matches('v')
                .split('.')
                .map(|part| part.parse().unwrap_or(0))
                .collect();
            (key, entry.path())
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir.join("bin")).collect()
}

enum Inspection {
    Missing,
    NotExecutable,
    Executable(PathBuf),
}

fn inspect(path: &Path) -> Inspection {
    // `metadata` follows symlinks: a dangling link counts as missing.
    let Ok(metadata) = std::fs::metadata(path) else {
        return Inspection::Missing;
    };
    if !metadata.is_file() {
        return Inspection::Missing;
    }
    if !is_executable(&metadata) {
        return Inspection::NotExecutable;
    }
    Inspection::Executable(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &std::fs::Metadata) -> bool {
    // Windows decides by extension, and only `.exe`/`.cmd` names are searched.
    true
}

/// Runs `<path> --version` and reads the version, killing it after `timeout`.
pub fn read_version(path: &Path, timeout: Duration) -> Result<ClaudeVersion, VersionError> {
    let mut child = spawn_version(path).map_err(|error| VersionError::Spawn(error.to_string()))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                // The binary hangs (a broken shim, a prompt on a terminal it does not have): give up on it.
                let _ = child.kill();
                let _ = child.wait();
                return Err(VersionError::TimedOut {
                    timeout_ms: timeout.as_millis(),
                });
            }
            Ok(None) => std::thread::sleep(POLL_INTERVAL),
            Err(error) => return Err(VersionError::Spawn(error.to_string())),
        }
    };
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        use std::io::Read;
        // `--version` output is one short line; cap the read so a binary that prints forever cannot stall us.
        let _ = stdout.by_ref().take(64 * 1024).read_to_string(&mut output);
    }
    if !status.success() {
        return Err(VersionError::Failed {
            status: status.to_string(),
        });
    }
    ClaudeVersion::parse(&output).ok_or_else(|| VersionError::Unrecognized {
        output: output.trim().chars().take(OUTPUT_EXCERPT_CHARS).collect(),
    })
}

fn spawn_version(path: &Path) -> std::io::Result<std::process::Child> {
    let spawn = || {
        Command::new(path)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
    };
    // A binary that was just written (an update in progress) can be briefly busy ("text file busy"):
    // retry a few times before reporting it.
    const TEXT_FILE_BUSY: i32 = 26;
    let mut attempts = 0;
    loop {
        match spawn() {
            Err(error) if cfg!(unix) && error.raw_os_error() == Some(TEXT_FILE_BUSY) && attempts < 5 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// Keeps the last [`Discovery`] until the caller invalidates it (after the person changes the saved
/// path, installs Claude, or asks to search again). Shareable between threads.
#[derive(Debug, Default)]
pub struct ClaudeBinaryCache {
    slot: Mutex<Option<Arc<Discovery>>>,
}

impl ClaudeBinaryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached result, without searching.
    pub fn get(&self) -> Option<Arc<Discovery>> {
        self.lock().clone()
    }

    /// The cached result, or a new search with `inputs()` when there is none. Concurrent callers wait for
    /// one search instead of each running their own.
    pub fn get_or_discover(&self, inputs: impl FnOnce() -> DiscoveryInputs) -> Arc<Discovery> {
        let mut slot = self.lock();
        if let Some(discovery) = slot.as_ref() {
            return Arc::clone(discovery);
        }
        let discovery = Arc::new(discover(&inputs()));
        *slot = Some(Arc::clone(&discovery));
        discovery
    }

    /// Forgets the cached result; the next [`Self::get_or_discover`] searches again.
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Discovery>>> {
        // A panic while searching leaves at worst a stale or empty slot: keep using it.
        self.slot.lock_or_recover()
    }
}
