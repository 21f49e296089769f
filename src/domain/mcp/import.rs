//! Servers from elsewhere: Claude Desktop's config, or a JSON file holding an `mcpServers` object, a bare
//! object of servers, or one server. And the other way: one or more servers written as `{"mcpServers":{...}}`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::{McpError, McpServer, Transport, transport_of, validate_config, validate_name};

/// One server found in an import source, shown before anything is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportEntry {
    pub name: String,
    pub config: Value,
    pub transport: Option<Transport>,
    /// Why it cannot be imported as it is (a bad name or shape); None when it can.
    pub problem: Option<String>,
    /// A server of this name already exists in the target scope.
    pub exists: bool,
}

/// Where Claude Desktop keeps its config on this platform: `~/Library/Application Support/Claude` (macOS),
/// `%APPDATA%\Claude` (Windows), `$XDG_CONFIG_HOME/Claude` or `~/.config/Claude` (Linux).
pub fn claude_desktop_config() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| desktop_config_in(dirs.config_dir()))
}

/// `claude_desktop_config.json` under a platform config folder.
pub fn desktop_config_in(config_dir: &Path) -> PathBuf {
    config_dir.join("Claude").join("claude_desktop_config.json")
}

fn looks_like_server(value: &Value) -> bool {
    value.is_object() && ["command", "url", "type"].iter().any(|k| value.get(k).is_some())
}

/// The servers in `text`. A single server needs `single_name` (else the error says so).
pub fn parse(text: &str, single_name: Option<&str>) -> Result<Vec<ImportEntry>, McpError> {
    let value: Value = serde_json::from_str(text).map_err(|e| McpError::Import(format!("not valid JSON: {e}")))?;
    let servers: Vec<(String, Value)> = match &value {
        Value::Object(map) => match map.get("mcpServers") {
            Some(Value::Object(servers)) => servers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(_) => return Err(McpError::Import("`mcpServers` is not an object".into())),
            None if looks_like_server(&value) => {
                let name = single_name
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| McpError::Import("this is one server: give it a name".into()))?;
                vec![(name.to_owned(), value.clone())]
            }
            None if !map.is_empty() && map.values().all(looks_like_server) => {
                map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            }
            None => {
                return Err(McpError::Import(
                    "no MCP servers found: expected `mcpServers`, a server, or an object of servers".into(),
                ));
            }
        },
        _ => return Err(McpError::Import("expected a JSON object".into())),
    };
    Ok(servers
        .into_iter()
        .map(|(name, config)| {
            let problem = validate_name(&name)
                .and_then(|()| validate_config(&name, &config))
                .err()
                .map(|e| e.to_string());
            ImportEntry {
                transport: transport_of(&config),
                name,
                config,
                problem,
                exists: false,
            }
        })
        .collect())
}

/// Reads and parses an import file.
pub fn read(path: &Path, single_name: Option<&str>) -> Result<Vec<ImportEntry>, McpError> {
    let text =
        crate::util::fs::read_capped_text(path, crate::util::fs::MAX_CONFIG_FILE).map_err(|source| McpError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let fallback = single_name.map(str::to_owned).or_else(|| {
        path.file_stem().map(|s| {
            s.to_string_lossy()
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
        })
    });
    parse(&text, fallback.as_deref())
}

/// `{"mcpServers": {name: entry, ...}}` for `servers`, in their order.
pub fn export(servers: &[McpServer]) -> Value {
    let map: Map<String, Value> = servers.iter().map(|s| (s.name.clone(), s.config.clone())).collect();
    serde_json::json!({ "mcpServers": map })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn desktop_files_bare_maps_and_single_servers_are_understood() {
        let desktop =
            r#"{"mcpServers":{"fs":{"command":"npx","args":["-y","x"]},"bad name":{"command":"y"}},"other":1}"#;
        let found = parse(desktop, None).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].transport, Some(Transport::Stdio));
        assert!(found[0].problem.is_none());
        assert!(found[1].problem.is_some(), "a name Claude refuses is flagged");
        let bare = parse(r#"{"a":{"type":"http","url":"http://h/mcp"}}"#, None).unwrap();
        assert_eq!((bare[0].name.as_str(), bare[0].transport), ("a", Some(Transport::Http)));
        let one = parse(r#"{"type":"sse","url":"http://h/sse"}"#, Some("solo")).unwrap();
        assert_eq!(one[0].name, "solo");
        assert!(parse(r#"{"type":"sse","url":"http://h/sse"}"#, None).is_err());
        assert!(parse("[1]", None).is_err());
        assert!(parse(r#"{"theme":"dark"}"#, None).is_err());
    }

    #[test]
    fn desktop_config_sits_under_claude_in_the_config_folder() {
        let path = desktop_config_in(Path::new("/cfg"));
        assert!(path.ends_with("Claude/claude_desktop_config.json"));
    }
}
