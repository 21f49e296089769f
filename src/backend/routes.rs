//! The one table of domains: each owns a request enum and a reply enum, and this table makes the
//! backend's [`Command`] and [`Output`] wrap them, with the conversions between them. A new domain is
//! one line here and one arm in [`Backend::execute_request`](super::Backend).

use serde::Serialize;

use crate::domain::agents::requests as agents;
use crate::domain::checkpoint::requests as checkpoints;
use crate::domain::claude::credentials::requests as credentials;
use crate::domain::claude::requests as claude;
use crate::domain::claude_config::requests as claude_config;
use crate::domain::db::console::requests as console;
use crate::domain::dropped;
use crate::domain::mcp::requests as mcp;
use crate::domain::project_files::requests as project_files;
use crate::domain::settings::requests as settings;
use crate::domain::signin::requests as signin;
use crate::domain::transcripts::requests as transcripts;
use crate::util::request::Ask;

/// A domain's reply enum, as carried in [`Output`].
pub trait Replies: Sized {
    fn into_output(self) -> Output;
    fn from_output(output: Output) -> Option<Self>;
}

macro_rules! domains {
    ($($(#[$meta:meta])* $variant:ident => $module:ident,)*) => {
        /// Every request ANYON can make, by the domain that owns it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Command {
            $($(#[$meta])* $variant($module::Request),)*
        }

        /// The typed reply of a request that completed, by domain. As JSON it is the domain's own
        /// `{"kind": ..., "data": ...}`.
        #[derive(Debug, Clone, Serialize)]
        #[serde(untagged)]
        pub enum Output {
            $($variant($module::Reply),)*
        }

        impl Command {
            /// The request's name in the design's table (snake_case), for messages and logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$variant(request) => request.name(),)*
                }
            }

            /// Requests whose effects must land in the order they were dispatched (later writes of the
            /// same setting win). The backend runs these one after another on a single lane.
            pub fn is_ordered(&self) -> bool {
                match self {
                    $(Command::$variant(request) => request.is_ordered(),)*
                }
            }
        }

        $(
            impl From<$module::Request> for Command {
                fn from(request: $module::Request) -> Self {
                    Command::$variant(request)
                }
            }

            impl Replies for $module::Reply {
                fn into_output(self) -> Output {
                    Output::$variant(self)
                }
                fn from_output(output: Output) -> Option<Self> {
                    match output {
                        Output::$variant(reply) => Some(reply),
                        #[allow(unreachable_patterns, reason = "every domain but one")]
                        _ => None,
                    }
                }
            }
        )*
    };
}

domains! {
    /// Definitions, runs, history, files.
    Agents => agents,
    /// Snapshots of a project's files.
    Checkpoints => checkpoints,
    /// Chat runs, permission answers, processes, installations.
    Claude => claude,
    /// The API key ANYON keeps for Claude.
    Credentials => credentials,
    /// Claude's settings scopes, slash commands and memory files.
    ClaudeConfig => claude_config,
    /// The app's own tables and SQL.
    Console => console,
    /// Files dropped on the window.
    Dropped => dropped,
    /// Claude's MCP servers.
    Mcp => mcp,
    /// A project's files, listed and matched for @-mentions.
    ProjectFiles => project_files,
    /// ANYON's own settings.
    Settings => settings,
    /// The person's ANYON account.
    SignIn => signin,
    /// Projects, sessions, usage and prices from Claude's transcripts.
    Transcripts => transcripts,
}

impl<Q> From<Q> for Command
where
    Q: Ask,
    Command: From<Q::Request>,
{
    fn from(request: Q) -> Self {
        Command::from(Q::Request::from(request))
    }
}
