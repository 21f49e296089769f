//! Typed views of one settings file's `hooks`, `permissions` and `env`, and their effective merge.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{ConfigError, SettingsFile, SettingsScope, Version};

/// One command of a hook group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookCommand {
    /// `command` for shell hooks; other kinds are shown as stored.
    pub kind: String,
    pub command: String,
    pub timeout_secs: Option<u64>,
}

/// Hooks of one event that share a matcher.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookGroup {
    /// A tool name or pattern (`Bash`, `Edit|Write`); empty matches everything.
    pub matcher: String,
    pub hooks: Vec<HookCommand>,
}

/// The `permissions` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Permissions {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub ask: Vec<String>,
    pub default_mode: Option<String>,
    pub additional_directories: Vec<String>,
}

/// One scope's settings file as the screens and the CLI see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingsView {
    pub scope: SettingsScope,
    pub path: PathBuf,
    pub exists: bool,
    pub version: Version,
    /// Why the file cannot be used, with its text as it is on disk (never overwritten).
    pub malformed: Option<Malformed>,
    /// Event name to its groups, in the file's order.
    pub hooks: Vec<(String, Vec<HookGroup>)>,
    pub permissions: Permissions,
    pub env: Vec<(String, String)>,
    /// The whole file.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Malformed {
    pub error: String,
    pub text: String,
}

impl SettingsView {
    /// Reads the file of `scope` at `path`; a malformed file becomes a view that says so.
    pub fn load(scope: SettingsScope, path: PathBuf) -> Result<Self, ConfigError> {
        match SettingsFile::read(&path) {
            Ok(file) => Ok(Self::of(scope, &file)),
            Err(ConfigError::Malformed { error, text, .. }) => Ok(Self {
                scope,
                version: Version::of(Some(text.as_bytes())),
                path,
                exists: true,
                malformed: Some(Malformed { error, text }),
                hooks: Vec::new(),
                permissions: Permissions::default(),
                env: Vec::new(),
                raw: Value::Null,
            }),
            Err(other) => Err(other),
        }
    }

    pub fn of(scope: SettingsScope, file: &SettingsFile) -> Self {
        let root = &file.root;
        Self {
            scope,
            path: file.path.clone(),
            exists: file.exists,
            version: file.version.clone(),
            malformed: None,
            hooks: hooks_of(root.get("hooks")),
            permissions: permissions_of(root.get("permissions")),
            env: root
                .get("env")
                .and_then(Value::as_object)
                .map(|env| env.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
                .unwrap_or_default(),
            raw: Value::Object(root.clone()),
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| list.iter().map(text_of).collect())
        .unwrap_or_default()
}

fn hooks_of(hooks: Option<&Value>) -> Vec<(String, Vec<HookGroup>)> {
    let Some(Value::Object(events)) = hooks else {
        return Vec::new();
    };
    events
        .iter()
        .map(|(event, groups)| {
            let groups = groups
                .as_array()
                .map(|groups| groups.iter().filter_map(Value::as_object).map(group_of).collect())
                .unwrap_or_default();
            (event.clone(), groups)
        })
        .collect()
}

fn group_of(group: &Map<String, Value>) -> HookGroup {
    let hooks = group
        .get("hooks")
        .and_then(Value::as_array)
        .map(|hooks| {
            hooks
                .iter()
                .map(|hook| HookCommand {
                    kind: hook.get("type").and_then(Value::as_str).unwrap_or("command").to_owned(),
                    command: hook.get("command").map(text_of).unwrap_or_default(),
                    timeout_secs: hook.get("timeout").and_then(Value::as_u64),
                })
                .collect()
        })
        .unwrap_or_default();
    HookGroup {
        matcher: group.get("matcher").map(text_of).unwrap_or_default(),
        hooks,
    }
}

fn permissions_of(value: Option<&Value>) -> Permissions {
    let Some(Value::Object(p)) = value else {
        return Permissions::default();
    };
    Permissions {
        allow: strings(p.get("allow")),
        deny: strings(p.get("deny")),
        ask: strings(p.get("ask")),
        default_mode: p.get("defaultMode").map(text_of),
        additional_directories: strings(p.get("additionalDirectories")),
    }
}

/// What Claude ends up with from the three scopes: permission lists joined without repeats (user, then
/// project, then local), the most specific `defaultMode`, and env merged by key (a later scope wins).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Effective {
    pub permissions: Permissions,
    pub env: BTreeMap<String, EnvEntry>,
    /// Event to its groups with their scope, every scope's hooks running.
    pub hooks: Vec<(String, SettingsScope, HookGroup)>,
}

/// An effective variable and the scope it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvEntry {
    pub value: String,
    pub scope: SettingsScope,
}

/// Merges views of any scopes; malformed files add nothing.
pub fn effective(views: &[SettingsView]) -> Effective {
    let mut ordered: Vec<&SettingsView> = views.iter().filter(|v| v.malformed.is_none()).collect();
    ordered.sort_by_key(|v| v.scope);
    let mut out = Effective::default();
    let join = |into: &mut Vec<String>, from: &[String]| {
        for item in from {
            if !into.contains(item) {
                into.push(item.clone());
            }
        }
    };
    for view in ordered {
        let p = &view.permissions;
        join(&mut out.permissions.allow, &p.allow);
        join(&mut out.permissions.deny, &p.deny);
        join(&mut out.permissions.ask, &p.ask);
        join(&mut out.permissions.additional_directories, &p.additional_directories);
        if p.default_mode.is_some() {
            out.permissions.default_mode = p.default_mode.clone();
        }
        for (key, value) in &view.env {
            out.env.insert(
                key.clone(),
                EnvEntry {
                    value: value.clone(),
                    scope: view.scope,
                },
            );
        }
        for (event, groups) in &view.hooks {
            out.hooks
                .extend(groups.iter().map(|g| (event.clone(), view.scope, g.clone())));
        }
    }
    out
}

/// Every scope's settings file (user always; project and local with a project) and their merge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSnapshot {
    pub project: Option<PathBuf>,
    pub files: Vec<SettingsView>,
    pub effective: Effective,
}

impl ConfigSnapshot {
    pub fn load(config_dir: &std::path::Path, project: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let scopes: &[SettingsScope] = match project {
            Some(_) => &SettingsScope::ALL,
            None => &[SettingsScope::User],
        };
        let files = scopes
            .iter()
            .map(|&scope| SettingsView::load(scope, super::settings_path(config_dir, project, scope)?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            project: project.map(PathBuf::from),
            effective: effective(&files),
            files,
        })
    }

    pub fn file(&self, scope: SettingsScope) -> Option<&SettingsView> {
        self.files.iter().find(|f| f.scope == scope)
    }
}
