//! `anyon mcp list|get|add|add-json|remove|test|import|export`: Claude's MCP servers from the command line,
//! written to Claude's own files the way `claude mcp add` writes them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Subcommand, ValueEnum};

use super::{Place, answer, call, emit, print_error, write_json};
use crate::backend::{Backend, BackendError};
use crate::domain::mcp::requests::{
    Exported, McpAdd, McpExport, McpImport, McpImportPreview, McpList, McpRemove, McpTestConnection,
};
use crate::domain::mcp::{self, McpError, McpServer, McpServerRef, Transport};
use crate::domain::mcp::{McpImportSource, McpScope, McpServerSpec};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Local,
    Project,
    User,
}

impl From<ScopeArg> for McpScope {
    fn from(value: ScopeArg) -> Self {
        match value {
            ScopeArg::Local => McpScope::Local,
            ScopeArg::Project => McpScope::Project,
            ScopeArg::User => McpScope::User,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransportArg {
    Stdio,
    Http,
    Sse,
}

#[derive(Debug, Subcommand)]
pub enum McpVerb {
    /// Every server of every scope (env and header values masked unless --reveal).
    List {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        reveal: bool,
    },
    /// The servers named NAME, in every scope.
    Get {
        name: String,
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        reveal: bool,
    },
    /// Add a server: `anyon mcp add NAME -- COMMAND [ARGS...]`, or `--transport http NAME URL`.
    Add {
        name: String,
        /// The command (stdio) or the URL (http, sse), then the command's arguments.
        #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
        target: Vec<String>,
        #[arg(long, short = 's', value_enum, default_value = "local")]
        scope: ScopeArg,
        #[arg(long, short = 't', value_enum, default_value = "stdio")]
        transport: TransportArg,
        /// Environment variable for a stdio server (KEY=VALUE), repeatable.
        #[arg(long = "env", short = 'e')]
        env: Vec<String>,
        /// HTTP header for an http or sse server ("Name: value"), repeatable.
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// Replace a server of the same name in that scope.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Add a server from its JSON (`{"type":"stdio","command":...}`), stored as given.
    AddJson {
        name: String,
        #[arg(value_name = "JSON")]
        server_json: String,
        #[arg(long, short = 's', value_enum, default_value = "local")]
        scope: ScopeArg,
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Remove a server (without --scope: the one scope that has it).
    Remove {
        name: String,
        #[arg(long, short = 's', value_enum)]
        scope: Option<ScopeArg>,
        #[command(flatten)]
        place: Place,
    },
    /// Connect to a server (initialize, then tools/list) and show what it offers.
    Test {
        name: String,
        #[arg(long, short = 's', value_enum)]
        scope: Option<ScopeArg>,
        /// Seconds to wait for the handshake.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
        #[command(flatten)]
        place: Place,
    },
    /// Import servers from a JSON file or Claude Desktop's config.
    Import {
        /// A file with `mcpServers`, an object of servers, or one server.
        file: Option<PathBuf>,
        /// Read Claude Desktop's config (this platform's place, or FILE).
        #[arg(long)]
        claude_desktop: bool,
        /// The name of a file's single server (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, short = 's', value_enum, default_value = "local")]
        scope: ScopeArg,
        /// Only show what would be imported.
        #[arg(long)]
        preview: bool,
        /// Replace servers of the same name.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Write servers (all, or those named) to a JSON file as `{"mcpServers":{...}}`.
    Export {
        #[arg(long)]
        file: PathBuf,
        names: Vec<String>,
        #[command(flatten)]
        place: Place,
    },
}

fn pair(text: &str, sep: char, what: &str) -> Result<(String, String), BackendError> {
    match text.split_once(sep) {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim_start().to_owned())),
        _ => Err(McpError::Import(format!("invalid {what} {text:?}")).into()),
    }
}

fn fail(error: BackendError, json: bool) -> i32 {
    print_error(&error, json);
    1
}

pub fn run(backend: &Backend, verb: McpVerb) -> i32 {
    match verb {
        McpVerb::List { place, reveal } => list(backend, &place, None, reveal),
        McpVerb::Get { name, place, reveal } => list(backend, &place, Some(name), reveal),
        McpVerb::Add {
            name,
            target,
            scope,
            transport,
            env,
            headers,
            overwrite,
            place,
        } => {
            let config = match transport {
                TransportArg::Stdio => {
                    let env: Result<Vec<_>, _> = env.iter().map(|e| pair(e, '=', "environment variable")).collect();
                    match env {
                        Ok(env) => mcp::stdio_config(&target[0], &target[1..], &env),
                        Err(error) => return fail(error, place.json),
                    }
                }
                TransportArg::Http | TransportArg::Sse => {
                    let headers: Result<Vec<_>, _> = headers.iter().map(|h| pair(h, ':', "header")).collect();
                    let kind = if matches!(transport, TransportArg::Http) {
                        Transport::Http
                    } else {
                        Transport::Sse
                    };
                    match headers {
                        Ok(headers) => mcp::remote_config(kind, &target[0], &headers),
                        Err(error) => return fail(error, place.json),
                    }
                }
            };
            save(backend, name, scope.into(), config, overwrite, &place)
        }
        McpVerb::AddJson {
            name,
            server_json,
            scope,
            overwrite,
            place,
        } => match serde_json::from_str(&server_json) {
            Ok(config) => save(backend, name, scope.into(), config, overwrite, &place),
            Err(error) => fail(McpError::Import(format!("not valid JSON: {error}")).into(), place.json),
        },
        McpVerb::Remove { name, scope, place } => {
            let target = match find_one(backend, &name, scope.map(Into::into), &place) {
                Ok(server) => McpServerRef {
                    name,
                    scope: server.scope,
                    project_path: server.scope.ne(&McpScope::User).then(|| place.project()),
                },
                Err(error) => return fail(error, place.json),
            };
            answer(backend, McpRemove { server: target }, place.json, |out, target| {
                if place.json {
                    return write_json(out, &target);
                }
                writeln!(out, "removed {} from the {} scope", target.name, target.scope)
            })
        }
        McpVerb::Test {
            name,
            scope,
            timeout,
            place,
        } => {
            let server = match find_one(backend, &name, scope.map(Into::into), &place) {
                Ok(server) => server,
                Err(error) => return fail(error, place.json),
            };
            let command = McpTestConnection {
                name,
                config: server.config,
                project_path: Some(place.project()),
                timeout: Duration::from_secs_f64(timeout.clamp(0.1, 3600.0)),
            };
            let mut ok = false;
            let status = answer(backend, command, place.json, |out, report| {
                ok = report.ok;
                if place.json {
                    return write_json(out, &report);
                }
                match &report.failure {
                    None => {
                        writeln!(
                            out,
                            "{}: connected to {} {} in {} ms ({} tools)",
                            report.name,
                            report.server_name.as_deref().unwrap_or("?"),
                            report.server_version.as_deref().unwrap_or("?"),
                            report.elapsed_ms,
                            report.tools.len()
                        )?;
                        for tool in &report.tools {
                            writeln!(out, "  {}", tool.name)?;
                        }
                        Ok(())
                    }
                    Some(failure) => writeln!(out, "{}: failed: {failure}", report.name),
                }
            });
            if status == 0 && !ok { 1 } else { status }
        }
        McpVerb::Import {
            file,
            claude_desktop,
            name,
            scope,
            preview,
            overwrite,
            place,
        } => import(
            backend,
            file,
            claude_desktop,
            name,
            scope.into(),
            preview,
            overwrite,
            &place,
        ),
        McpVerb::Export { file, names, place } => {
            let servers = match names
                .iter()
                .map(|name| {
                    find_one(backend, name, None, &place).map(|s| McpServerRef {
                        name: s.name,
                        scope: s.scope,
                        project_path: s.project,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(servers) => servers,
                Err(error) => return fail(error, place.json),
            };
            let command = McpExport {
                path: std::path::absolute(&file).unwrap_or(file),
                servers,
                project: Some(place.project()),
            };
            answer(backend, command, place.json, |out, Exported { path, count }| {
                if place.json {
                    return write_json(out, &serde_json::json!({"path": path, "count": count}));
                }
                writeln!(out, "exported {count} servers to {}", path.display())
            })
        }
    }
}

fn save(
    backend: &Backend,
    name: String,
    scope: McpScope,
    config: serde_json::Value,
    overwrite: bool,
    place: &Place,
) -> i32 {
    let spec = McpServerSpec {
        name,
        scope,
        config,
        project_path: (scope != McpScope::User).then(|| place.project()),
        overwrite,
    };
    answer(backend, McpAdd { spec }, place.json, |out, server| {
        if place.json {
            return write_json(out, &server.masked());
        }
        writeln!(
            out,
            "added {} server {} to the {} scope: {}",
            server.transport.as_str(),
            server.name,
            server.scope,
            server.target()
        )
    })
}

fn servers(backend: &Backend, place: &Place) -> Result<Vec<McpServer>, BackendError> {
    call(
        backend,
        McpList {
            project: Some(place.project()),
        },
    )
}

/// Servers that apply where the command runs: user, this project's local ones, and its `.mcp.json`.
fn here(servers: Vec<McpServer>, place: &Place) -> Vec<McpServer> {
    let project = place.project();
    let local = PathBuf::from(mcp::local_key(&project));
    let folder = mcp::mcp_json_path(&project).parent().map(PathBuf::from);
    servers
        .into_iter()
        .filter(|s| match s.scope {
            McpScope::User => true,
            McpScope::Local => s.project.as_ref() == Some(&local),
            McpScope::Project => s.project == folder,
        })
        .collect()
}

/// The one server named `name` that applies here (in `scope` when given).
fn find_one(backend: &Backend, name: &str, scope: Option<McpScope>, place: &Place) -> Result<McpServer, BackendError> {
    let mut found: Vec<McpServer> = here(servers(backend, place)?, place)
        .into_iter()
        .filter(|s| s.name == name && scope.is_none_or(|scope| s.scope == scope))
        .collect();
    if found.len() > 1 {
        return Err(McpError::Import(format!(
            "{name} exists in more than one scope ({}); choose one with --scope",
            found.iter().map(|s| s.scope.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    found.pop().ok_or_else(|| {
        McpError::NotFound {
            name: name.to_owned(),
            scope: scope.unwrap_or(McpScope::Local),
        }
        .into()
    })
}

fn list(backend: &Backend, place: &Place, name: Option<String>, reveal: bool) -> i32 {
    let all = match servers(backend, place) {
        Ok(all) => all,
        Err(error) => return fail(error, place.json),
    };
    let shown: Vec<McpServer> = all
        .into_iter()
        .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
        .map(|s| if reveal { s } else { s.masked() })
        .collect();
    if let Some(name) = &name
        && shown.is_empty()
    {
        return fail(
            McpError::NotFound {
                name: name.clone(),
                scope: McpScope::Local,
            }
            .into(),
            place.json,
        );
    }
    emit(|out| {
        if place.json {
            return write_json(out, &shown);
        }
        for s in &shown {
            let project = s
                .project
                .as_ref()
                .map(|p| format!(" [{}]", p.display()))
                .unwrap_or_default();
            writeln!(
                out,
                "{}  {}{}  {}  {}",
                s.name,
                s.scope,
                project,
                s.transport.as_str(),
                s.target()
            )?;
            for (k, v) in &s.env {
                writeln!(out, "    env {k}={v}")?;
            }
            for (k, v) in &s.headers {
                writeln!(out, "    header {k}: {v}")?;
            }
        }
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn import(
    backend: &Backend,
    file: Option<PathBuf>,
    claude_desktop: bool,
    name: Option<String>,
    scope: McpScope,
    preview: bool,
    overwrite: bool,
    place: &Place,
) -> i32 {
    let source = match (claude_desktop, file) {
        (true, path) => McpImportSource::ClaudeDesktop { path },
        (false, Some(path)) => McpImportSource::File { path, name },
        (false, None) => {
            return fail(
                McpError::Import("give a FILE or --claude-desktop".into()).into(),
                place.json,
            );
        }
    };
    let project_path = (scope != McpScope::User).then(|| place.project());
    let previewed = call(
        backend,
        McpImportPreview {
            source,
            scope,
            project_path: project_path.clone(),
        },
    );
    let entries = match previewed {
        Ok(preview) => preview.entries,
        Err(error) => return fail(error, place.json),
    };
    if preview {
        return emit(|out| {
            if place.json {
                return write_json(out, &entries);
            }
            for e in &entries {
                let state = match (&e.problem, e.exists) {
                    (Some(problem), _) => format!("cannot import: {problem}"),
                    (None, true) => "exists (skipped unless --overwrite)".into(),
                    (None, false) => "new".into(),
                };
                let transport = e.transport.map(Transport::as_str).unwrap_or("?");
                writeln!(out, "{}  {transport}  {state}", e.name)?;
            }
            Ok(())
        });
    }
    let servers: Vec<McpServerSpec> = entries
        .into_iter()
        .filter(|e| e.problem.is_none() && (overwrite || !e.exists))
        .map(|e| McpServerSpec {
            name: e.name,
            scope,
            config: e.config,
            project_path: project_path.clone(),
            overwrite,
        })
        .collect();
    answer(backend, McpImport { servers }, place.json, |out, added| {
        if place.json {
            let masked: Vec<McpServer> = added.iter().map(McpServer::masked).collect();
            return write_json(out, &masked);
        }
        writeln!(out, "imported {} servers into the {scope} scope", added.len())?;
        for s in &added {
            writeln!(out, "  {}  {}", s.name, s.target())?;
        }
        Ok(())
    })
}
