//! Registers ANYON as the handler of `anyon://` links, so the browser's callback page reaches the app.
//!
//! - Linux (and other XDG desktops): a `.desktop` file with `MimeType=x-scheme-handler/anyon;` whose
//!   `Exec` line runs `anyon open-url %u`, in `$XDG_DATA_HOME/applications`, made the default handler
//!   with `xdg-mime` (or, where xdg-utils is missing, the `mimeapps.list` entry it would write).
//! - Windows: `HKCU\Software\Classes\anyon` with `URL Protocol` and `shell\open\command`, through `reg`.
//! - macOS: the handler belongs to an app bundle's `Info.plist` (`CFBundleURLTypes`) and links arrive as
//!   Apple Events; a bare binary cannot take them, so this says so (the embedded server still completes
//!   sign-in).

use std::path::{Path, PathBuf};

/// What registering did, for the person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Registered {
    /// The file or registry key written.
    pub location: String,
    /// The command the system will run with the link.
    pub command: String,
    /// Anything that did not work, with what to do about it.
    pub warnings: Vec<String>,
}

/// Why the scheme could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("no home folder to register the link handler in")]
    NoHome,
}

/// The desktop entry's file name (also the name `xdg-mime` records).
pub const DESKTOP_FILE: &str = "anyon.desktop";
const MIME_TYPE: &str = "x-scheme-handler/anyon";

/// Registers `exe` (normally the running executable) as the handler of `anyon://` links.
pub fn register(exe: &Path) -> Result<Registered, SchemeError> {
    #[cfg(target_os = "windows")]
    return windows::register(exe);
    #[cfg(target_os = "macos")]
    {
        let _ = exe;
        return Err(SchemeError::Unsupported(
            "on macOS an anyon:// handler belongs to an app bundle (CFBundleURLTypes in Info.plist) and its links \
             arrive as Apple Events, which this build does not handle; sign-in completes through the embedded \
             auth server instead"
                .into(),
        ));
    }
    #[cfg(not(any(target_os = "windows", target_os = "macos")))]
    {
        let data = xdg_dir("XDG_DATA_HOME", ".local/share")?;
        let config = xdg_dir("XDG_CONFIG_HOME", ".config")?;
        xdg::register(exe, &data.join("applications"), &config)
    }
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
fn xdg_dir(variable: &str, fallback: &str) -> Result<PathBuf, SchemeError> {
    match std::env::var_os(variable).filter(|value| Path::new(value).is_absolute()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => directories::BaseDirs::new()
            .map(|dirs| dirs.home_dir().join(fallback))
            .ok_or(SchemeError::NoHome),
    }
}

/// The desktop entry that hands `anyon://` links to `exe open-url`.
pub fn desktop_entry(exe: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=ANYON\nComment=A native desktop home for Claude Code\n\
         Exec={} open-url %u\nTerminal=false\nNoDisplay=true\nMimeType={MIME_TYPE};\n",
        exec_quote(&exe.to_string_lossy())
    )
}

/// Quotes an argument for a desktop entry's `Exec` key (Desktop Entry Specification, "The Exec key").
fn exec_quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,@:".contains(c));
    if plain {
        return arg.to_owned();
    }
    let mut quoted = String::with_capacity(arg.len() + 2);
    quoted.push('"');
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        if c == '%' {
            quoted.push('%');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
mod xdg {
    use super::*;

    pub fn register(exe: &Path, applications: &Path, config: &Path) -> Result<Registered, SchemeError> {
        let path = applications.join(DESKTOP_FILE);
        let entry = desktop_entry(exe);
        std::fs::create_dir_all(applications)
            .and_then(|()| crate::util::fs::write_atomic(&path, entry.as_bytes()))
            .map_err(|source| SchemeError::Write {
                path: path.clone(),
                source,
            })?;
        let mut warnings = Vec::new();
        // Refreshes the cache some desktops read handlers from; harmless where it is missing.
        let _ = run("update-desktop-database", &[applications.as_os_str()]);
        match run(
            "xdg-mime",
            &["default".as_ref(), DESKTOP_FILE.as_ref(), MIME_TYPE.as_ref()],
        ) {
            Ok(()) => {}
            Err(reason) => {
                set_default_in_mimeapps(&config.join("mimeapps.list")).map_err(|source| SchemeError::Write {
                    path: config.join("mimeapps.list"),
                    source,
                })?;
                warnings.push(format!(
                    "xdg-mime could not set the default handler ({reason}); wrote it to mimeapps.list instead"
                ));
            }
        }
        Ok(Registered {
            location: path.display().to_string(),
            command: format!("{} open-url %u", exe.display()),
            warnings,
        })
    }

    /// Why a desktop tool did not do its part.
    #[derive(Debug, thiserror::Error)]
    enum ToolError {
        #[error("{program}: {source}")]
        Spawn {
            program: String,
            #[source]
            source: std::io::Error,
        },
        #[error("{program} {status}: {stderr}")]
        Failed {
            program: String,
            status: std::process::ExitStatus,
            stderr: String,
        },
    }

    fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<(), ToolError> {
        let output = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|source| ToolError::Spawn {
                program: program.to_owned(),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ToolError::Failed {
                program: program.to_owned(),
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// Sets `x-scheme-handler/anyon=anyon.desktop` under `[Default Applications]`, keeping every other line.
    pub(super) fn set_default_in_mimeapps(path: &Path) -> std::io::Result<()> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error),
        };
        let entry = format!("{MIME_TYPE}={DESKTOP_FILE};");
        let mut out = Vec::new();
        let mut in_defaults = false;
        let mut written = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                if in_defaults && !written {
                    out.push(entry.clone());
                    written = true;
                }
                in_defaults = trimmed == "[Default Applications]";
            } else if in_defaults && trimmed.split('=').next().map(str::trim) == Some(MIME_TYPE) {
                if !written {
                    out.push(entry.clone());
                    written = true;
                }
                continue;
            }
            out.push(line.to_owned());
        }
        if !written {
            if !in_defaults {
                if out.last().is_some_and(|line| !line.trim().is_empty()) {
                    out.push(String::new());
                }
                out.push("[Default Applications]".into());
            }
            out.push(entry);
        }
        let mut text = out.join("\n");
        text.push('\n');
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::util::fs::write_atomic(path, text.as_bytes())
    }
}

#[cfg(target_os = "windows")]
mod windows {
    use super::*;

    pub fn register(exe: &Path) -> Result<Registered, SchemeError> {
        let key = r"HKCU\Software\Classes\anyon";
        let command = format!("\"{}\" open-url \"%1\"", exe.display());
        let steps: [&[&str]; 3] = [
            &["add", key, "/ve", "/d", "URL:ANYON", "/f"],
            &["add", key, "/v", "URL Protocol", "/d", "", "/f"],
            &[
                "add",
                &format!(r"{key}\shell\open\command"),
                "/ve",
                "/d",
                &command,
                "/f",
            ],
        ];
        for args in steps {
            let status = std::process::Command::new("reg")
                .args(args)
                .status()
                .map_err(|error| SchemeError::Unsupported(format!("reg: {error}")))?;
            if !status.success() {
                return Err(SchemeError::Unsupported(format!(
                    "reg {} failed: {status}",
                    args.join(" ")
                )));
            }
        }
        Ok(Registered {
            location: key.into(),
            command,
            warnings: Vec::new(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn exec_lines_quote_what_needs_it() {
        assert_eq!(exec_quote("/usr/bin/anyon"), "/usr/bin/anyon");
        assert_eq!(exec_quote("/opt/my apps/anyon"), "\"/opt/my apps/anyon\"");
        assert_eq!(exec_quote("/a/$x\"y`z\\w%"), "\"/a/\\$x\\\"y\\`z\\\\w%%\"");
        let entry = desktop_entry(Path::new("/opt/my apps/anyon"));
        assert!(entry.contains("Exec=\"/opt/my apps/anyon\" open-url %u\n"), "{entry}");
        assert!(entry.contains("MimeType=x-scheme-handler/anyon;\n"));
    }

    #[cfg(not(any(target_os = "windows", target_os = "macos")))]
    #[test]
    fn mimeapps_keeps_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mimeapps.list");
        xdg::set_default_in_mimeapps(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[Default Applications]\nx-scheme-handler/anyon=anyon.desktop;\n"
        );
        std::fs::write(
            &path,
            "[Added Associations]\ntext/plain=gedit.desktop;\n\n[Default Applications]\n\
             x-scheme-handler/anyon=old.desktop;\ntext/html=firefox.desktop;\n",
        )
        .unwrap();
        xdg::set_default_in_mimeapps(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[Added Associations]\ntext/plain=gedit.desktop;\n\n[Default Applications]\n\
             x-scheme-handler/anyon=anyon.desktop;\ntext/html=firefox.desktop;\n"
        );
    }
}
