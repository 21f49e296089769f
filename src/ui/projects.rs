//! The Projects screen: Claude's projects by last activity, each project's sessions, a session opened
//! read-only (paged) with a way to resume it in a chat tab, and new projects.

use egui::{RichText, Ui};

use super::widgets::{EmptyState, error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::domain::transcripts::catalog::{Catalog, ProjectSummary, SessionSummary};
use crate::domain::transcripts::requests::{
    CreateProject, GetProjectSessions, GetSession, ReadSessionPage, SearchSessions,
};
use crate::state::nav::Screen;
use crate::state::{OpenChat, PAGE_LINES, SESSION_PAGE, SearchAsked, SessionRows, SessionViewer, TranscriptsStore};

pub fn ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    if cx.stores.transcripts.viewer.is_some() {
        viewer_ui(ui, cx);
        return;
    }
    screen_heading(ui, Screen::Projects.heading());
    let Some(catalog) = cx.stores.transcripts.catalog.clone() else {
        indexing_ui(ui, &cx.stores.transcripts, &cx.stores.environment.projects_folder());
        return;
    };
    if catalog.projects.is_empty() {
        new_project_ui(ui, cx);
        EmptyState {
            icon: "🗀",
            title: "No projects yet",
            body: "Every folder you run Claude Code in appears here, newest first, with its sessions ready to \
                   browse, search and resume. Add a folder above to start a chat there.",
            detail: Some(format!(
                "Transcripts are read from {}",
                cx.stores.environment.projects_folder()
            )),
        }
        .ui(ui);
        return;
    }
    egui::Panel::left("projects-list")
        .resizable(true)
        .default_size(300.0)
        .size_range(220.0..=520.0)
        .show(ui, |ui| projects_list_ui(ui, cx, &catalog));
    egui::CentralPanel::no_frame().show(ui, |ui| {
        ui.add_space(2.0);
        let selected = cx.stores.transcripts.selected_project.clone();
        let project = selected
            .as_deref()
            .and_then(|key| catalog.projects.iter().find(|p| project_key(p) == key))
            .or_else(|| catalog.projects.first())
            .cloned();
        search_bar_ui(ui, cx, project.as_ref());
        if !cx.stores.transcripts.text_search.trim().is_empty() {
            search_results_ui(ui, cx);
        } else if let Some(project) = project {
            sessions_ui(ui, cx, &project);
        }
    });
}

/// The full-text search box over every session's prompts and answers, in every project or this one. A
/// changed query, scope or filter sends a new search; an older answer arriving late is dropped.
fn search_bar_ui(ui: &mut Ui, cx: &mut ScreenContext<'_>, project: Option<&ProjectSummary>) {
    let store = &mut cx.stores.transcripts;
    ui.horizontal(|ui| {
        let response = ui.add(
            egui::TextEdit::singleline(&mut store.text_search)
                .id_salt("message-search")
                .hint_text("🔎 Search every prompt and answer (Ctrl+F)")
                .desired_width((ui.available_width() - 300.0).max(160.0)),
        );
        if ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::F)) {
            response.request_focus();
        }
        if (response.has_focus() || response.lost_focus()) && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            store.text_search.clear();
        }
        ui.selectable_value(&mut store.search_this_project, false, "All projects")
            .on_hover_text("Search every project's sessions");
        ui.add_enabled_ui(project.is_some(), |ui| {
            ui.selectable_value(&mut store.search_this_project, true, "This project")
                .on_hover_text("Search the selected project's sessions only");
        });
        let mut tools = !store.search_without_tools;
        ui.checkbox(&mut tools, "Tool text")
            .on_hover_text("Also search tools' inputs and results (commands, file contents, outputs)");
        store.search_without_tools = !tools;
    });
    let words = store.text_search.trim().to_string();
    if words.is_empty() {
        store.searched = None;
        return;
    }
    let asked = SearchAsked {
        words,
        project: store
            .search_this_project
            .then(|| project.map(|p| p.path.clone()))
            .flatten(),
        tools: !store.search_without_tools,
    };
    if store.searched.as_ref() != Some(&asked) {
        let id = cx.backend.dispatch(SearchSessions {
            query: asked.words.clone(),
            project: asked.project.clone().map(Into::into),
            limit: 50,
            tools: asked.tools,
            fresh: false,
        });
        store.search_results.start(id);
        store.searched = Some(asked);
    }
    ui.add_space(4.0);
}

/// `snippet` with its matched words highlighted.
fn snippet_job(ui: &Ui, snippet: &str, highlights: &[(usize, usize)]) -> egui::text::LayoutJob {
    let mut job = egui::text::LayoutJob::default();
    let plain = egui::TextFormat {
        color: ui.visuals().text_color(),
        font_id: egui::TextStyle::Body.resolve(ui.style()),
        ..Default::default()
    };
    let marked = egui::TextFormat {
        background: ui.visuals().selection.bg_fill,
        color: ui.visuals().strong_text_color(),
        ..plain.clone()
    };
    let flat = |text: &str| text.replace(['\n', '\r', '\t'], " ");
    let mut at = 0;
    for &(start, end) in highlights {
        let (Some(before), Some(word)) = (snippet.get(at..start), snippet.get(start..end)) else {
            continue;
        };
        job.append(&flat(before), 0.0, plain.clone());
        job.append(&flat(word), 0.0, marked.clone());
        at = end;
    }
    job.append(&flat(snippet.get(at..).unwrap_or_default()), 0.0, plain);
    job
}

fn search_results_ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    let muted = theme::muted(ui.visuals());
    let store = &mut cx.stores.transcripts;
    if let Some(error) = store.search_results.error() {
        error_line(ui, error);
    }
    let Some(results) = store.search_results.value().cloned() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(RichText::new("Searching…").color(muted));
        });
        return;
    };
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(match results.len() {
                0 => "No session matches.".to_string(),
                n => format!("{} · best match first", plural(n, "session")),
            })
            .color(muted),
        );
        if store.search_results.is_pending() {
            ui.spinner();
        }
    });
    let mut open = None;
    let mut resume = None;
    egui::ScrollArea::vertical()
        .id_salt("search-results")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for result in &results {
                let session = result.session.as_ref();
                ui.horizontal(|ui| {
                    ui.vertical(|ui| {
                        ui.set_width((ui.available_width() - 170.0).max(200.0));
                        let title = ui
                            .add(
                                egui::Label::new(RichText::new(&result.title).strong())
                                    .truncate()
                                    .sense(egui::Sense::click()),
                            )
                            .on_hover_text(&result.title);
                        if title.double_clicked() {
                            open = session.map(|s| (s.clone(), result.clone()));
                        }
                        let mut detail = format!("{} · {}", result.project, relative_time(result.timestamp_ms));
                        if result.tool {
                            detail.push_str(" · in tool text");
                        }
                        ui.add(egui::Label::new(RichText::new(detail).small().color(muted)).truncate());
                        ui.add(egui::Label::new(snippet_job(ui, &result.snippet, &result.highlights)).wrap());
                    });
                    if ui
                        .add_enabled(session.is_some(), egui::Button::new("Open"))
                        .on_hover_text("Read this session from the matching message")
                        .on_disabled_hover_text("This session is still being indexed")
                        .clicked()
                    {
                        open = session.map(|s| (s.clone(), result.clone()));
                    }
                    if ui
                        .add_enabled(session.is_some(), egui::Button::new("▶ Resume"))
                        .on_hover_text("Continue this session in a chat tab")
                        .clicked()
                    {
                        resume = session.map(|s| resume_request(s, &result.project));
                    }
                });
                ui.separator();
            }
        });
    if let Some((session, result)) = open {
        store.viewer = Some(SessionViewer::open_at(session, result.file, result.offset));
    }
    if let Some(request) = resume {
        store.open_chat = Some(request);
    }
}

/// The key a project is selected by: its folder, or its path when Claude never ran there.
fn project_key(project: &ProjectSummary) -> &str {
    if project.folder.is_empty() {
        &project.path
    } else {
        &project.folder
    }
}

fn indexing_ui(ui: &mut Ui, store: &TranscriptsStore, projects_folder: &str) {
    ui.add_space(24.0);
    ui.horizontal(|ui| {
        ui.spinner();
        match store.progress {
            Some(p) if p.files_total > 0 => {
                ui.label(format!(
                    "Reading Claude's transcripts: {} of {} files",
                    p.files_done, p.files_total
                ));
            }
            _ => {
                ui.label("Reading Claude's transcripts…");
            }
        }
    });
    if let Some(p) = store.progress
        && p.bytes_total > 0
    {
        ui.add(
            egui::ProgressBar::new(p.bytes_done as f32 / p.bytes_total as f32)
                .desired_width(360.0)
                .show_percentage(),
        );
    }
    ui.label(
        RichText::new(format!("From {projects_folder}"))
            .small()
            .color(theme::muted(ui.visuals())),
    );
}

fn new_project_ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.transcripts;
    ui.horizontal(|ui| {
        let label = ui.label("New project");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut store.new_project_path)
                    .hint_text("/path/to/folder")
                    .desired_width(ui.available_width() - 60.0),
            )
            .labelled_by(label.id);
        let submit = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let busy = store.creating.is_some();
        let add = ui
            .add_enabled(
                !busy && !store.new_project_path.trim().is_empty(),
                egui::Button::new("Add"),
            )
            .on_hover_text("Create the folder if needed and list it as a project");
        if (add.clicked() || submit) && !busy && !store.new_project_path.trim().is_empty() {
            let path = expand_home(store.new_project_path.trim());
            store.creating = Some(cx.backend.dispatch(CreateProject { path }));
        }
        if busy {
            ui.spinner();
        }
    });
}

fn expand_home(text: &str) -> std::path::PathBuf {
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(base) = directories::BaseDirs::new()
    {
        return base.home_dir().join(rest);
    }
    std::path::PathBuf::from(text)
}

fn projects_list_ui(ui: &mut Ui, cx: &mut ScreenContext<'_>, catalog: &Catalog) {
    new_project_ui(ui, cx);
    ui.add_space(4.0);
    let store = &mut cx.stores.transcripts;
    ui.add(
        egui::TextEdit::singleline(&mut store.project_search)
            .hint_text("🔍 Search projects")
            .desired_width(f32::INFINITY),
    );
    if let Some(p) = store.progress
        && p.files_total > 0
    {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.small(format!("Indexing {} of {} files", p.files_done, p.files_total));
        });
    }
    ui.add_space(4.0);
    let needle = store.project_search.to_lowercase();
    let shown: Vec<&ProjectSummary> = catalog
        .projects
        .iter()
        .filter(|p| needle.is_empty() || p.path.to_lowercase().contains(&needle))
        .collect();
    let selected = store
        .selected_project
        .clone()
        .or_else(|| catalog.projects.first().map(|p| project_key(p).to_string()));
    let muted = theme::muted(ui.visuals());
    let row_height = 44.0;
    egui::ScrollArea::vertical()
        .id_salt("projects-scroll")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, shown.len(), |ui, range| {
            ui.with_layout(egui::Layout::top_down_justified(egui::Align::Min), |ui| {
                for project in &shown[range] {
                    let key = project_key(project);
                    let is_selected = selected.as_deref() == Some(key);
                    let name = project
                        .path
                        .rsplit(['/', '\\'])
                        .find(|s| !s.is_empty())
                        .unwrap_or(&project.path);
                    let text = format!(
                        "{name}\n{} · {} · {}",
                        plural(project.sessions, "session"),
                        relative_time(project.last_activity_ms),
                        money(project.total_cost)
                    );
                    let response = ui
                        .add(
                            egui::Button::selectable(is_selected, RichText::new(text))
                                .min_size(egui::vec2(0.0, row_height - 4.0)),
                        )
                        .on_hover_text(&project.path);
                    if response.clicked() {
                        store.selected_project = Some(key.to_string());
                        store.session_search.clear();
                    }
                }
            });
        });
    if shown.is_empty() {
        ui.label(RichText::new("No project matches.").color(muted));
    }
}

fn sessions_ui(ui: &mut Ui, cx: &mut ScreenContext<'_>, project: &ProjectSummary) {
    let muted = theme::muted(ui.visuals());
    ui.horizontal(|ui| {
        ui.label(RichText::new(&project.path).strong().size(16.0));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("💬 New chat here")
                .on_hover_text("Start a conversation with Claude in this folder")
                .clicked()
            {
                cx.stores.transcripts.open_chat = Some(OpenChat {
                    title: "New chat".into(),
                    project: project.path.clone(),
                    resume: None,
                    transcript: None,
                });
            }
        });
    });
    ui.label(
        RichText::new(format!(
            "{} · {} tokens · {} · last active {}",
            plural(project.sessions, "session"),
            tokens(project.total_tokens),
            money(project.total_cost),
            relative_time(project.last_activity_ms)
        ))
        .color(muted),
    );
    ui.add_space(6.0);
    let backend = cx.backend;
    let store = &mut cx.stores.transcripts;
    ui.add(
        egui::TextEdit::singleline(&mut store.session_search)
            .hint_text("🔍 Search sessions by title, id, branch or model")
            .desired_width(f32::INFINITY),
    );
    ui.add_space(4.0);
    // Read a page at a time around the rows in view: a project may hold tens of thousands of sessions.
    let rows = &mut store.session_rows;
    rows.show(&project.folder, store.session_search.trim());
    let Some(total) = rows.total() else {
        ask_pages(rows, backend, project, store.session_search.trim(), 0..1);
        if let Some(error) = &rows.error {
            error_line(ui, error);
        } else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(RichText::new("Reading sessions…").color(muted));
            });
        }
        return;
    };
    if total == 0 {
        let text = match store.session_search.trim().is_empty() {
            true => "No sessions yet. Start a chat here to make one.",
            false => "No session matches.",
        };
        ui.label(RichText::new(text).color(muted));
        return;
    }
    if let Some(error) = &rows.error {
        error_line(ui, error);
    }
    let row_height = 52.0;
    let mut open = None;
    let mut resume = None;
    let mut in_view = 0..0;
    egui::ScrollArea::vertical()
        .id_salt(("sessions-scroll", &project.folder))
        .auto_shrink([false, false])
        .show_rows(ui, row_height, total, |ui, range| {
            in_view = range.clone();
            for index in range {
                let Some(session) = rows.row(index) else {
                    ui.horizontal(|ui| {
                        ui.set_height(row_height - 6.0);
                        ui.label(RichText::new("…").color(muted));
                    });
                    ui.separator();
                    continue;
                };
                ui.horizontal(|ui| {
                    ui.set_height(row_height - 6.0);
                    ui.vertical(|ui| {
                        ui.set_width((ui.available_width() - 170.0).max(200.0));
                        let title = ui
                            .add(
                                egui::Label::new(RichText::new(&session.title).strong())
                                    .truncate()
                                    .sense(egui::Sense::click()),
                            )
                            .on_hover_text(&session.title);
                        if title.double_clicked() {
                            open = Some(session.clone());
                        }
                        ui.add(
                            egui::Label::new(RichText::new(session_detail(session)).small().color(muted)).truncate(),
                        );
                    });
                    if ui.button("Open").on_hover_text("Read this session").clicked() {
                        open = Some(session.clone());
                    }
                    if ui
                        .button("▶ Resume")
                        .on_hover_text("Continue this session in a chat tab")
                        .clicked()
                    {
                        resume = Some(session.clone());
                    }
                });
                ui.separator();
            }
        });
    // A little ahead of the rows in view, so that scrolling on finds them read.
    let ahead = in_view.start.saturating_sub(SESSION_PAGE / 2)..in_view.end + SESSION_PAGE / 2;
    ask_pages(rows, backend, project, store.session_search.trim(), ahead);
    if let Some(session) = open {
        store.viewer = Some(SessionViewer::open(session));
    }
    if let Some(session) = resume {
        store.open_chat = Some(resume_request(&session, &project.path));
    }
}

/// Asks for the pages of the selected project's sessions that `rows` in view need.
fn ask_pages(
    list: &mut SessionRows,
    backend: &crate::backend::Requests,
    project: &ProjectSummary,
    filter: &str,
    rows: std::ops::Range<usize>,
) {
    for page in list.wanted(rows) {
        let (offset, limit) = SessionRows::page_range(page);
        let id = backend.dispatch(GetProjectSessions {
            project_path: project_key(project).into(),
            filter: filter.to_string(),
            offset,
            limit: Some(limit),
            fresh: false,
        });
        list.asked(page, id);
    }
}

/// A session's second line: when, how much, where.
fn session_detail(session: &SessionSummary) -> String {
    let mut detail = format!(
        "{} · {} messages · {} tokens · {}",
        relative_time(session.last_activity_ms),
        session.messages,
        tokens(session.total_tokens),
        money(session.total_cost)
    );
    if let Some(branch) = &session.git_branch {
        detail.push_str(&format!(" · branch {branch}"));
    }
    if session.subagents > 0 {
        detail.push_str(&format!(" · {}", plural(session.subagents, "subagent")));
    }
    if session.malformed_lines > 0 {
        detail.push_str(&format!(" · {} unreadable lines skipped", session.malformed_lines));
    }
    detail
}

fn resume_request(session: &SessionSummary, project_path: &str) -> OpenChat {
    OpenChat {
        title: session.title.chars().take(40).collect(),
        project: session.cwd.clone().unwrap_or_else(|| project_path.to_string()),
        resume: Some(session.session_id.clone()),
        transcript: session.files.first().cloned(),
    }
}

fn viewer_ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    let ScreenContext {
        stores,
        backend,
        conversations,
    } = cx;
    let Some(viewer) = stores.transcripts.viewer.as_mut() else {
        return;
    };
    if viewer.session_stale
        && viewer.refreshing.is_none()
        && let Some(open) = &viewer.session
    {
        // The index changed: the open session may have grown.
        viewer.session_stale = false;
        viewer.refreshing = Some(backend.dispatch(GetSession {
            folder: open.folder.clone(),
            session_id: open.session_id.clone(),
        }));
    }
    if viewer.wants_more() && viewer.lines_read == 0 {
        viewer.pending = Some(backend.dispatch(ReadSessionPage {
            file: viewer.file.clone(),
            offset: viewer.next_offset,
            max_lines: PAGE_LINES,
        }));
    }
    let muted = theme::muted(ui.visuals());
    let mut close = false;
    let mut resume = None;
    ui.horizontal(|ui| {
        if ui
            .button("⏴ Sessions")
            .on_hover_text("Back to the project (Esc)")
            .clicked()
            || ui.input(|i| i.key_pressed(egui::Key::Escape))
        {
            close = true;
        }
        if let Some(session) = &viewer.session {
            screen_heading(ui, &session.title);
        }
    });
    if let Some(session) = viewer.session.clone() {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!(
                    "Read-only · {} · {} tokens · {}",
                    session.cwd.as_deref().unwrap_or(&session.folder),
                    tokens(session.total_tokens),
                    money(session.total_cost)
                ))
                .color(muted),
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("▶ Resume in a chat tab")
                    .on_hover_text("Continue this conversation with Claude")
                    .clicked()
                {
                    resume = Some(resume_request(&session, &session.folder));
                }
                if session.files.len() > 1 {
                    let mut chosen = viewer.file.clone();
                    egui::ComboBox::new("viewer-file", "File")
                        .selected_text(file_label(&chosen, &session))
                        .show_ui(ui, |ui| {
                            for file in &session.files {
                                ui.selectable_value(&mut chosen, file.clone(), file_label(file, &session));
                            }
                        });
                    if chosen != viewer.file {
                        viewer.switch_file(chosen);
                    }
                }
            });
        });
    }
    if viewer.opened_at > 0 {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Opened at the matching message.").color(muted));
            if ui
                .button("Read from the start")
                .on_hover_text("Read this file from its first line")
                .clicked()
            {
                let file = viewer.file.clone();
                viewer.switch_file(file);
            }
        });
    }
    ui.add_space(4.0);
    egui::Panel::bottom("viewer-paging")
        .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(0, 6)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                if let Some(error) = &viewer.error {
                    error_line(ui, error);
                }
                let read = if viewer.file_size > 0 {
                    format!(
                        "{} lines read · {} of {}",
                        viewer.lines_read,
                        crate::util::fmt::bytes(viewer.next_offset),
                        crate::util::fmt::bytes(viewer.file_size)
                    )
                } else {
                    format!("{} lines read", viewer.lines_read)
                };
                ui.label(RichText::new(read).small().color(muted));
                if viewer.pending.is_some() {
                    ui.spinner();
                } else if viewer.wants_more()
                    && ui
                        .button(format!("Load {PAGE_LINES} more lines"))
                        .on_hover_text("Large sessions are read a page at a time")
                        .clicked()
                {
                    viewer.pending = Some(backend.dispatch(ReadSessionPage {
                        file: viewer.file.clone(),
                        offset: viewer.next_offset,
                        max_lines: PAGE_LINES,
                    }));
                }
            });
        });
    egui::CentralPanel::no_frame().show(ui, |ui| {
        // The viewer's conversation is drawn as a chat tab's is; id 0 is never a real tab.
        let cache = conversations.transcripts.entry(0).or_default();
        if viewer.generation != cache_generation(ui, viewer.generation) {
            *cache = Default::default();
        }
        super::chat::transcript::ui(ui, 0, &viewer.view, cache, &mut conversations.markdown);
    });
    if close {
        stores.transcripts.viewer = None;
        conversations.transcripts.remove(&0);
    }
    if let Some(request) = resume {
        stores.transcripts.open_chat = Some(request);
    }
}

/// Remembers the page generation the cached layout was built for (the cache is rebuilt when pages
/// replace the conversation, e.g. another file was chosen).
fn cache_generation(ui: &Ui, current: u64) -> u64 {
    let id = egui::Id::unique("viewer-generation");
    let seen = ui.data(|d| d.get_temp::<u64>(id));
    ui.data_mut(|d| d.insert_temp(id, current));
    seen.unwrap_or(current)
}

fn file_label(file: &str, session: &SessionSummary) -> String {
    if session.files.first().map(String::as_str) == Some(file) {
        "Main conversation".to_string()
    } else {
        let name = file.rsplit('/').next().unwrap_or(file);
        format!("Subagent {}", name.trim_end_matches(".jsonl"))
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "3 min ago", "yesterday", or the date.
pub fn relative_time(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "never".into() };
    let now = chrono::Utc::now().timestamp_millis();
    let secs = (now - ms) / 1000;
    match secs {
        i64::MIN..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        86_400..172_800 => "yesterday".into(),
        172_800..604_800 => format!("{} days ago", secs / 86_400),
        _ => chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    }
}

/// 1234567 → "1.2M".
pub fn tokens(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.2}B", n as f64 / 1e9),
    }
}

pub fn money(cost: f64) -> String {
    if cost > 0.0 && cost < 0.01 {
        "<$0.01".into()
    } else {
        format!("${cost:.2}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_say_them() {
        assert_eq!(plural(1, "session"), "1 session");
        assert_eq!(plural(3, "session"), "3 sessions");
        assert_eq!(tokens(999), "999");
        assert_eq!(tokens(1_500), "1.5k");
        assert_eq!(tokens(2_345_678), "2.3M");
        assert_eq!(money(0.004), "<$0.01");
        assert_eq!(money(0.0), "$0.00");
        assert_eq!(money(12.345), "$12.35");
        assert_eq!(relative_time(None), "never");
        let hour_ago = chrono::Utc::now().timestamp_millis() - 3_700_000;
        assert_eq!(relative_time(Some(hour_ago)), "1 h ago");
    }
}
