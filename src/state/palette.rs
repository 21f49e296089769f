//! The command palette (Ctrl+K): every screen, project, recent session, agent and action the stores
//! already hold, fuzzy matched against what is typed, best first, with the selection the keyboard moves.
//!
//! The entries are built from the stores each frame the palette is open (a few hundred short strings at
//! most); they are matched again only when they or the query change. Recent sessions are the one thing the
//! stores do not hold across projects: the palette asks the backend for the latest few of the most recently
//! active projects each time it opens, and keeps the answer.

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::backend::command::RequestId;
use crate::domain::agents::Agent;
use crate::domain::settings::Theme;
use crate::domain::transcripts::catalog::{Catalog, SessionSummary};
use crate::domain::transcripts::requests::Reply;

use super::OpenChat;
use super::nav::Screen;

/// Projects (the most recently active) whose latest sessions are asked for when the palette opens.
pub const RECENT_PROJECTS: usize = 5;
/// Sessions asked for per project.
pub const SESSIONS_PER_PROJECT: usize = 8;
/// Recent sessions listed at most.
pub const RECENT_SESSIONS: usize = 20;
/// Characters of a title or detail that are matched and shown (a first prompt can be pages long).
const MAX_TEXT: usize = 120;

/// What an entry is, shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Action,
    Screen,
    Session,
    Project,
    Agent,
}

impl EntryKind {
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Action => "Action",
            EntryKind::Screen => "Screen",
            EntryKind::Session => "Session",
            EntryKind::Project => "Project",
            EntryKind::Agent => "Agent",
        }
    }
}

/// What choosing an entry does (the window carries it out).
#[derive(Debug, Clone, PartialEq)]
pub enum PaletteCommand {
    Screen(Screen),
    /// Select a project (its folder, or its path when it has none) on the Projects screen.
    Project(String),
    /// Open a session read-only on the Projects screen.
    OpenSession(Box<SessionSummary>),
    /// Continue a session in a chat tab.
    Resume(OpenChat),
    /// Open the run dialog of an agent.
    RunAgent {
        id: i64,
        name: String,
        task: String,
    },
    NewChat,
    CloseTab,
    NextTab,
    PreviousTab,
    NewAgent,
    ImportAgents,
    AgentHistory,
    AddMcpServer,
    SignIn,
    SignOut,
    Theme(Theme),
    ShowProcesses,
}

/// One line of the palette.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: EntryKind,
    pub title: String,
    pub detail: String,
    /// Last activity (projects, sessions), shown beside the detail.
    pub when_ms: Option<i64>,
    pub command: PaletteCommand,
}

impl Entry {
    fn new(kind: EntryKind, title: impl Into<String>, detail: impl Into<String>, command: PaletteCommand) -> Self {
        Entry {
            kind,
            title: clip(&title.into()),
            detail: clip(&detail.into()),
            when_ms: None,
            command,
        }
    }

    fn at(mut self, when_ms: Option<i64>) -> Self {
        self.when_ms = when_ms;
        self
    }
}

/// What the entries are built from: borrowed from the stores and the window.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub catalog: Option<&'a Catalog>,
    /// The latest sessions, most recent first.
    pub sessions: &'a [SessionSummary],
    pub agents: &'a [Agent],
    pub signed_in: bool,
    /// Open chat tabs, and whether one is shown.
    pub tabs: usize,
    pub tab_shown: bool,
    pub theme: Theme,
    /// Where a new chat starts.
    pub default_project: &'a str,
}

/// Every entry, in the order shown before anything is typed: actions, screens, recent sessions, projects
/// (most recent first), agents. Equal matches keep this order.
pub fn entries(sources: &Sources<'_>) -> Vec<Entry> {
    use EntryKind::Action;
    let mut out = vec![Entry::new(
        Action,
        "New chat",
        format!("Open a chat tab in {}", sources.default_project),
        PaletteCommand::NewChat,
    )];
    if let Some(latest) = sources.sessions.first() {
        out.push(
            Entry::new(
                Action,
                "Resume the most recent session",
                &latest.title,
                PaletteCommand::Resume(resume_request(latest)),
            )
            .at(latest.last_activity_ms),
        );
    }
    if sources.tab_shown {
        out.push(Entry::new(
            Action,
            "Close the chat tab",
            "Stops its running turn",
            PaletteCommand::CloseTab,
        ));
    }
    if sources.tabs > 1 {
        out.push(Entry::new(Action, "Next chat tab", "", PaletteCommand::NextTab));
        out.push(Entry::new(Action, "Previous chat tab", "", PaletteCommand::PreviousTab));
    }
    if sources.signed_in {
        out.push(Entry::new(
            Action,
            "Sign out",
            "Of your ANYON account",
            PaletteCommand::SignOut,
        ));
    } else {
        out.push(Entry::new(
            Action,
            "Sign in",
            "To ANYON with Google, in the browser",
            PaletteCommand::SignIn,
        ));
    }
    out.push(Entry::new(
        Action,
        "New agent",
        "Create a reusable Claude setup",
        PaletteCommand::NewAgent,
    ));
    out.push(Entry::new(
        Action,
        "Import agents",
        "From an ANYON, opcode or Claudia file",
        PaletteCommand::ImportAgents,
    ));
    out.push(Entry::new(
        Action,
        "Agent run history",
        "Past and running agent runs",
        PaletteCommand::AgentHistory,
    ));
    out.push(Entry::new(
        Action,
        "Add an MCP server",
        "stdio, http or sse, in any scope",
        PaletteCommand::AddMcpServer,
    ));
    out.push(Entry::new(
        Action,
        "Show the processes",
        "Running Claude processes, with Stop",
        PaletteCommand::ShowProcesses,
    ));
    for theme in Theme::ALL.into_iter().filter(|t| *t != sources.theme) {
        let title = match theme {
            Theme::System => "Theme: follow the system".to_string(),
            other => format!("Theme: {}", other.label().to_lowercase()),
        };
        out.push(Entry::new(Action, title, "Appearance", PaletteCommand::Theme(theme)));
    }
    for screen in Screen::ALL {
        out.push(Entry::new(
            EntryKind::Screen,
            screen.label(),
            screen_detail(screen),
            PaletteCommand::Screen(screen),
        ));
    }
    for session in sources.sessions {
        out.push(
            Entry::new(
                EntryKind::Session,
                title_of(session),
                format!("Open read-only · {}", project_name(session_project(session))),
                PaletteCommand::OpenSession(Box::new(session.clone())),
            )
            .at(session.last_activity_ms),
        );
    }
    for session in sources.sessions {
        out.push(
            Entry::new(
                Action,
                format!("Resume: {}", title_of(session)),
                format!("In a chat tab · {}", project_name(session_project(session))),
                PaletteCommand::Resume(resume_request(session)),
            )
            .at(session.last_activity_ms),
        );
    }
    for project in sources.catalog.map(|c| c.projects.as_slice()).unwrap_or_default() {
        let key = if project.folder.is_empty() {
            &project.path
        } else {
            &project.folder
        };
        let sessions = match project.sessions {
            1 => "1 session".to_string(),
            n => format!("{n} sessions"),
        };
        out.push(
            Entry::new(
                EntryKind::Project,
                project_name(&project.path),
                format!("{} · {sessions}", project.path),
                PaletteCommand::Project(key.clone()),
            )
            .at(project.last_activity_ms),
        );
    }
    for agent in sources.agents {
        let draft = &agent.draft;
        let detail = match draft.default_task.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(task) => format!("Run · {}", task.trim()),
            None => "Run in a project".to_string(),
        };
        out.push(Entry::new(
            EntryKind::Agent,
            &draft.name,
            detail,
            PaletteCommand::RunAgent {
                id: agent.id,
                name: draft.name.clone(),
                task: draft.default_task.clone().unwrap_or_default(),
            },
        ));
    }
    out
}

fn screen_detail(screen: Screen) -> &'static str {
    match screen {
        Screen::Projects => "Claude's projects and their sessions",
        Screen::Agents => "Reusable Claude setups and their runs",
        Screen::Mcp => "MCP servers of every scope",
        Screen::ClaudeConfig => "Hooks, permissions, slash commands, CLAUDE.md",
        Screen::Storage => "ANYON's database: tables and SQL",
        Screen::Usage => "Tokens and cost by day, model and project",
        Screen::Settings => "Theme, Claude binary, proxy",
        Screen::Account => "Sign-in and Claude's authentication",
    }
}

fn title_of(session: &SessionSummary) -> String {
    let title = session.title.trim();
    if title.is_empty() {
        session.session_id.chars().take(8).collect()
    } else {
        title.to_string()
    }
}

fn session_project(session: &SessionSummary) -> &str {
    session.cwd.as_deref().unwrap_or(&session.folder)
}

/// The last part of a path.
fn project_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).find(|s| !s.is_empty()).unwrap_or(path)
}

/// The chat tab that continues `session`, as the Projects screen's Resume opens it.
fn resume_request(session: &SessionSummary) -> OpenChat {
    OpenChat {
        title: title_of(session).chars().take(40).collect(),
        project: session_project(session).to_string(),
        resume: Some(session.session_id.clone()),
        transcript: session.files.first().cloned(),
    }
}

/// One line, at most [`MAX_TEXT`] characters.
fn clip(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    match line.char_indices().nth(MAX_TEXT) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// The matcher [`rank`] is meant for: a match nearer the start of a title scores higher.
pub fn new_matcher() -> Matcher {
    let mut config = Config::DEFAULT;
    config.prefer_prefix = true;
    Matcher::new(config)
}

/// The indexes of the entries matching `query`, best first, ignoring case. Entries whose title holds every
/// word of the query fuzzily (its letters in order, gaps allowed) come first, best score first; then those
/// whose title, kind and detail hold every word as typed (so a word of a path or a kind finds the entry
/// without every long detail matching scattered letters). Equal ones keep their order. An empty query
/// lists every entry in order.
pub fn rank(entries: &[Entry], query: &str, matcher: &mut Matcher) -> Vec<usize> {
    let pattern = Pattern::new(query, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy);
    if pattern.atoms.is_empty() {
        return (0..entries.len()).collect();
    }
    let words = Pattern::new(query, CaseMatching::Ignore, Normalization::Smart, AtomKind::Substring);
    let mut buf = Vec::new();
    let mut scored: Vec<(bool, u32, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| {
            if let Some(score) = pattern.score(Utf32Str::new(&entry.title, &mut buf), matcher) {
                return Some((true, score, index));
            }
            // The trailing space: nucleo-matcher 0.3.1 never tries a substring at the very end of a haystack
            // that is not plain ASCII.
            let text = format!("{} {} {} ", entry.title, entry.kind.label(), entry.detail);
            let score = words.score(Utf32Str::new(&text, &mut buf), matcher)?;
            Some((false, score, index))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    scored.into_iter().map(|(_, _, index)| index).collect()
}

/// The palette's state: open or not, the query, the ranked entries and the selection.
#[derive(Debug, Default)]
pub struct Palette {
    open: bool,
    /// What is typed.
    pub query: String,
    entries: Vec<Entry>,
    /// Indexes into `entries`, best first.
    ranked: Vec<usize>,
    /// The query `ranked` answers; None when the entries changed since.
    ranked_for: Option<String>,
    /// Position in `ranked`.
    selected: usize,
    /// The text field should take the keyboard (just opened).
    focus: bool,
    /// The selection moved by keyboard: scroll it into view.
    scroll_to_selected: bool,
    /// Where the list is scrolled to (the drawing keeps it).
    pub list_offset: f32,
    matcher: Option<Box<Matcher>>,
    /// The latest sessions of the most recent projects, most recent first.
    sessions: Vec<SessionSummary>,
    /// Sessions asked for since the palette opened, and those gathered so far.
    asking: Vec<RequestId>,
    gathered: Vec<SessionSummary>,
    asked: bool,
}

impl Palette {
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Opens the palette empty, with the first entry selected and the text field focused.
    pub fn open(&mut self) {
        self.open = true;
        self.query.clear();
        self.selected = 0;
        self.ranked.clear();
        self.ranked_for = None;
        self.focus = true;
        self.scroll_to_selected = true;
        self.list_offset = 0.0;
        self.asked = false;
    }

    pub fn close(&mut self) {
        self.open = false;
        self.focus = false;
    }

    pub fn toggle(&mut self) {
        if self.open { self.close() } else { self.open() }
    }

    /// The latest sessions the palette knows, most recent first.
    pub fn sessions(&self) -> &[SessionSummary] {
        &self.sessions
    }

    /// The project keys whose latest sessions should be asked for now: once per opening, when the
    /// projects are known. Each request is then given to [`Palette::asked`].
    pub fn sessions_to_ask(&mut self, catalog: Option<&Catalog>) -> Vec<String> {
        if !self.open || self.asked {
            return Vec::new();
        }
        let Some(catalog) = catalog else { return Vec::new() };
        self.asked = true;
        self.asking.clear();
        self.gathered.clear();
        catalog
            .projects
            .iter()
            .filter(|p| !p.folder.is_empty() && p.sessions > 0)
            .take(RECENT_PROJECTS)
            .map(|p| p.folder.clone())
            .collect()
    }

    pub fn asked(&mut self, request_id: RequestId) {
        self.asking.push(request_id);
    }

    /// Takes an answer to one of the palette's requests; false when it is someone else's. The sessions
    /// replace the last ones once every project answered.
    pub fn apply_output(&mut self, request_id: RequestId, reply: &Reply) -> bool {
        let Reply::Sessions(list) = reply else { return false };
        if !self.take_request(request_id) {
            return false;
        }
        self.gathered.extend(list.sessions.iter().cloned());
        self.gathered_done();
        true
    }

    /// Takes a failure of one of the palette's requests (the palette lists fewer sessions).
    pub fn apply_failure(&mut self, request_id: RequestId) -> bool {
        if !self.take_request(request_id) {
            return false;
        }
        self.gathered_done();
        true
    }

    fn take_request(&mut self, request_id: RequestId) -> bool {
        match self.asking.iter().position(|&id| id == request_id) {
            Some(at) => {
                self.asking.swap_remove(at);
                true
            }
            None => false,
        }
    }

    fn gathered_done(&mut self) {
        if !self.asking.is_empty() {
            return;
        }
        let mut sessions = std::mem::take(&mut self.gathered);
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_activity_ms));
        sessions.dedup_by(|a, b| a.session_id == b.session_id);
        sessions.truncate(RECENT_SESSIONS);
        self.sessions = sessions;
    }

    /// Puts in the entries as built this frame; they are matched again only if they changed.
    pub fn set_entries(&mut self, entries: Vec<Entry>) {
        if entries != self.entries {
            self.entries = entries;
            self.ranked_for = None;
        }
        self.rank();
    }

    /// Matches the entries against the query if either changed since the last time.
    pub fn rank(&mut self) {
        if self.ranked_for.as_deref() == Some(self.query.as_str()) {
            return;
        }
        let query_changed = self.ranked_for.is_some();
        let was_selected = self.ranked_at(self.selected).cloned();
        let matcher = self.matcher.get_or_insert_with(|| Box::new(new_matcher()));
        self.ranked = rank(&self.entries, &self.query, matcher);
        self.ranked_for = Some(self.query.clone());
        if query_changed {
            // What was typed changed the list: the best match is selected.
            self.selected = 0;
            self.scroll_to_selected = true;
        } else if let Some(was) = was_selected {
            // The entries changed under the same query (sessions arrived): the selection stays on its entry.
            let at = self.ranked().position(|e| *e == was);
            self.selected = at.unwrap_or(self.selected);
        }
        self.selected = self.selected.min(self.ranked.len().saturating_sub(1));
    }

    /// The matching entries, best first.
    pub fn ranked(&self) -> impl Iterator<Item = &Entry> {
        self.ranked.iter().filter_map(|&i| self.entries.get(i))
    }

    /// The matching entries at `positions` of the ranking.
    pub fn ranked_at(&self, position: usize) -> Option<&Entry> {
        self.ranked.get(position).and_then(|&i| self.entries.get(i))
    }

    pub fn len(&self) -> usize {
        self.ranked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }

    /// The selected position in the ranking.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// Moves the selection by `delta`, wrapping around the ends.
    pub fn move_selection(&mut self, delta: isize) {
        let len = self.ranked.len();
        if len == 0 {
            return;
        }
        self.selected = (self.selected as isize + delta).rem_euclid(len as isize) as usize;
        self.scroll_to_selected = true;
    }

    /// Runs the selected entry: closes the palette and gives its command.
    pub fn choose_selected(&mut self) -> Option<PaletteCommand> {
        self.choose(self.selected)
    }

    /// Runs the entry at `position` of the ranking: closes the palette and gives its command.
    pub fn choose(&mut self, position: usize) -> Option<PaletteCommand> {
        let command = self.ranked_at(position)?.command.clone();
        self.close();
        Some(command)
    }

    /// Whether the text field should take the keyboard now (once per opening).
    pub fn take_focus(&mut self) -> bool {
        std::mem::take(&mut self.focus)
    }

    /// Whether the selection should be scrolled into view now.
    pub fn take_scroll(&mut self) -> bool {
        std::mem::take(&mut self.scroll_to_selected)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::agents::AgentDraft;
    use crate::domain::transcripts::catalog::ProjectSummary;
    use crate::domain::transcripts::snapshot::SessionList;

    fn session(id: &str, title: &str, cwd: &str, last: i64) -> SessionSummary {
        SessionSummary {
            session_id: id.into(),
            folder: cwd.replace('/', "-"),
            title: title.into(),
            cwd: Some(cwd.into()),
            git_branch: None,
            first_activity_ms: Some(last - 1000),
            last_activity_ms: Some(last),
            messages: 3,
            models: vec![],
            total_tokens: 0,
            total_cost: 0.0,
            subagents: 0,
            files: vec![],
            bytes: 0,
            malformed_lines: 0,
        }
    }

    fn project(path: &str, sessions: usize, last: i64) -> ProjectSummary {
        ProjectSummary {
            path: path.into(),
            folder: path.replace('/', "-"),
            sessions,
            last_activity_ms: Some(last),
            total_tokens: 0,
            total_cost: 0.0,
        }
    }

    fn agent(id: i64, name: &str) -> Agent {
        let draft = AgentDraft {
            name: name.into(),
            icon: String::new(),
            default_task: Some("Review the diff".into()),
            ..AgentDraft::default()
        };
        Agent {
            id,
            draft,
            hooks: None,
            extra: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            projects: vec![
                project("/home/ada/work/alpha-app", 3, 3000),
                project("/home/ada/work/ccusage", 1, 2000),
                project("/home/ada/work/beta-lib", 2, 1000),
            ],
            ..Catalog::default()
        }
    }

    fn built(catalog: &Catalog, sessions: &[SessionSummary], agents: &[Agent]) -> Vec<Entry> {
        entries(&Sources {
            catalog: Some(catalog),
            sessions,
            agents,
            signed_in: false,
            tabs: 0,
            tab_shown: false,
            theme: Theme::System,
            default_project: "/home/ada",
        })
    }

    fn titles(entries: &[Entry], query: &str) -> Vec<String> {
        rank(entries, query, &mut new_matcher())
            .into_iter()
            .map(|i| entries[i].title.clone())
            .collect()
    }

    #[test]
    fn every_kind_is_listed_in_order_before_anything_is_typed() {
        let catalog = catalog();
        let sessions = [session("s1", "Fix the login bug", "/home/ada/work/alpha-app", 3000)];
        let agents = [agent(7, "Reviewer")];
        let entries = built(&catalog, &sessions, &agents);
        let kinds: Vec<EntryKind> = entries.iter().map(|e| e.kind).collect();
        for kind in [
            EntryKind::Action,
            EntryKind::Screen,
            EntryKind::Session,
            EntryKind::Project,
            EntryKind::Agent,
        ] {
            assert!(kinds.contains(&kind), "{kind:?} is listed: {kinds:?}");
        }
        let screens: Vec<&Entry> = entries.iter().filter(|e| e.kind == EntryKind::Screen).collect();
        assert_eq!(screens.len(), Screen::ALL.len(), "every screen");
        assert_eq!(
            titles(&entries, ""),
            entries.iter().map(|e| e.title.clone()).collect::<Vec<_>>(),
            "an empty query lists everything in order"
        );
        assert_eq!(entries[0].command, PaletteCommand::NewChat);
        let resume = entries
            .iter()
            .find(|e| e.title == "Resume the most recent session")
            .unwrap();
        assert_eq!(
            resume.command,
            PaletteCommand::Resume(OpenChat {
                title: "Fix the login bug".into(),
                project: "/home/ada/work/alpha-app".into(),
                resume: Some("s1".into()),
                transcript: None,
            })
        );
        assert!(entries.iter().any(|e| e.command == PaletteCommand::SignIn));
        assert!(
            !entries.iter().any(|e| e.command == PaletteCommand::CloseTab),
            "no tab to close"
        );
        let run = entries.iter().find(|e| e.kind == EntryKind::Agent).unwrap();
        assert_eq!(
            run.command,
            PaletteCommand::RunAgent {
                id: 7,
                name: "Reviewer".into(),
                task: "Review the diff".into()
            }
        );
    }

    #[test]
    fn the_best_match_comes_first() {
        let catalog = catalog();
        let sessions = [
            session("s1", "Count the usage of each model", "/home/ada/work/alpha-app", 3000),
            session("s2", "Write the README", "/home/ada/work/beta-lib", 2000),
        ];
        let entries = built(&catalog, &sessions, &[agent(1, "Usage auditor")]);

        let usage = titles(&entries, "usage");
        assert_eq!(
            usage[0], "Usage",
            "the screen's exact name beats longer titles: {usage:?}"
        );
        assert!(usage.contains(&"ccusage".to_string()), "{usage:?}");
        assert!(
            usage.contains(&"Count the usage of each model".to_string()),
            "{usage:?}"
        );
        assert!(!usage.contains(&"Write the README".to_string()), "{usage:?}");

        // Fuzzy: letters in order, gaps allowed, any case.
        assert_eq!(titles(&entries, "nwcht")[0], "New chat");
        assert_eq!(titles(&entries, "new chat")[0], "New chat", "every word must match");
        assert_eq!(titles(&entries, "CLAUDE CFG")[0], "Claude config");
        assert_eq!(titles(&entries, "beta")[0], "beta-lib");
        assert_eq!(titles(&entries, "readme")[0], "Write the README");

        // A word found only in the kind or detail still finds the entry, after title matches.
        let agents = titles(&entries, "agent");
        let auditor = agents.iter().position(|t| t == "Usage auditor");
        assert_eq!(
            auditor,
            Some(agents.len() - 1),
            "matched by its kind, after the titles: {agents:?}"
        );
        assert!(agents[..2].contains(&"Agents".to_string()), "{agents:?}");
        assert!(
            !agents.contains(&"Sign in".to_string()),
            "no scattered letters in details: {agents:?}"
        );
        let by_detail = titles(&entries, "alpha-app");
        assert_eq!(by_detail[0], "alpha-app", "{by_detail:?}");
        assert!(
            by_detail.contains(&"Count the usage of each model".to_string()),
            "a session is found by its project: {by_detail:?}"
        );

        assert!(titles(&entries, "zzqx").is_empty(), "nothing matches");
    }

    #[test]
    fn typing_selects_the_best_match_and_the_keyboard_moves_and_wraps() {
        let catalog = catalog();
        let mut palette = Palette::default();
        palette.open();
        assert!(palette.is_open() && palette.take_focus() && !palette.take_focus());
        palette.set_entries(built(&catalog, &[], &[]));
        let all = palette.len();
        assert!(all > 10);
        palette.move_selection(3);
        assert_eq!(palette.selected(), 3);
        palette.move_selection(-4);
        assert_eq!(palette.selected(), all - 1, "Up from the first wraps to the last");
        palette.move_selection(1);
        assert_eq!(palette.selected(), 0, "Down from the last wraps to the first");

        palette.move_selection(2);
        palette.query = "usage".into();
        palette.rank();
        assert_eq!(palette.selected(), 0, "a new query selects the best match");
        assert_eq!(palette.ranked_at(0).unwrap().title, "Usage");
        palette.move_selection(1);
        let second = palette.ranked_at(1).unwrap().command.clone();
        // The same entries again (the next frame) keep the selection.
        palette.set_entries(built(&catalog, &[], &[]));
        assert_eq!(palette.selected(), 1);
        assert_eq!(palette.choose_selected(), Some(second));
        assert!(!palette.is_open(), "choosing closes the palette");

        palette.open();
        assert!(palette.query.is_empty(), "it opens empty");
        palette.set_entries(built(&catalog, &[], &[]));
        assert_eq!(
            palette.selected(),
            0,
            "it opens on the first entry, not the one chosen last time"
        );
        palette.query = "zzqx".into();
        palette.rank();
        assert!(palette.is_empty());
        assert_eq!(palette.choose_selected(), None, "Enter on no match does nothing");
        assert!(palette.is_open());
    }

    #[test]
    fn recent_sessions_are_asked_once_per_opening_and_gathered() {
        let catalog = catalog();
        let mut palette = Palette::default();
        assert!(palette.sessions_to_ask(Some(&catalog)).is_empty(), "not while closed");
        palette.open();
        assert!(
            palette.sessions_to_ask(None).is_empty(),
            "not before the projects are known"
        );
        let asked = palette.sessions_to_ask(Some(&catalog));
        assert_eq!(
            asked,
            [
                "-home-ada-work-alpha-app",
                "-home-ada-work-ccusage",
                "-home-ada-work-beta-lib"
            ]
        );
        assert!(palette.sessions_to_ask(Some(&catalog)).is_empty(), "once per opening");
        palette.asked(10);
        palette.asked(11);
        palette.asked(12);
        let list = |sessions| {
            Reply::Sessions(SessionList {
                total: 1,
                offset: 0,
                sessions,
            })
        };
        assert!(!palette.apply_output(99, &list(vec![])), "someone else's answer");
        assert!(palette.apply_output(10, &list(vec![session("a", "A", "/a", 100)])));
        assert!(palette.sessions().is_empty(), "kept until every project answered");
        assert!(palette.apply_failure(11));
        assert!(palette.apply_output(12, &list(vec![session("b", "B", "/b", 200)])));
        let ids: Vec<&str> = palette.sessions().iter().map(|s| s.session_id.as_str()).collect();
        assert_eq!(ids, ["b", "a"], "most recent first");
    }

    #[test]
    fn long_titles_are_cut_to_one_line() {
        let long = format!("{}\nsecond line", "x".repeat(500));
        let entry = Entry::new(EntryKind::Session, long, "", PaletteCommand::NewChat);
        assert_eq!(entry.title.chars().count(), MAX_TEXT + 1);
        assert!(entry.title.ends_with('…') && !entry.title.contains('\n'));
    }
}
