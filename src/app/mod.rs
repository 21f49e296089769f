//! The window: drains backend events into the stores once per frame and draws the shell
//! (navigation, chat tabs, status bar, toasts) around the current screen.

pub mod icon;

use std::time::{Duration, Instant};

use egui::{KeyboardShortcut, RichText};

use crate::backend::{Backend, EventReceiver, Requests};
use crate::domain::agents::requests::ListAgents;
use crate::domain::claude::requests::{CancelClaudeExecution, KillProcess, ListProcesses};
use crate::domain::signin::requests::{AccountStatus, SignInLink, SignInStart, SignOut};
use crate::domain::transcripts::requests::GetProjectSessions;
use crate::state::environment::Environment;
use crate::state::handover::{HandoverAction, HandoverInbox};
use crate::state::nav::Screen;
use crate::state::palette::{self, PaletteCommand};
use crate::state::{
    AgentEditor, AgentsView, ImportDialog, McpEditor, NoticeLevel, OpenChat, RunDialog, SessionViewer, Setting,
    SettingsStore, Stores, Theme,
};
use crate::ui::chat::{self, ChatTabs, ChatUiState, TabAction};
use crate::ui::shortcuts::{CLOSE_TAB, COMMAND_PALETTE, NEW_TAB, NEXT_TAB, PREVIOUS_TAB};
use crate::ui::{self, ScreenContext, theme, widgets};

/// Time per frame the window spends applying events before it draws.
const EVENT_BUDGET: Duration = Duration::from_millis(8);

/// What the window starts with.
#[derive(Debug, Default)]
pub struct StartOptions {
    /// Settings read before the window opened (so the first frame has the right theme).
    pub settings: SettingsStore,
    /// `--screen` from the command line.
    pub screen: Option<Screen>,
    /// Print when the first frame is on screen, then close (the startup benchmark).
    pub bench_first_frame: bool,
    /// What later `anyon` starts and the embedded auth server hand to this window.
    pub handovers: Option<HandoverInbox>,
}

/// The eframe application.
pub struct AnyonApp {
    backend: Backend,
    /// The narrow handle screens get.
    requests: Requests,
    events: EventReceiver,
    stores: Stores,
    screen: Screen,
    tabs: ChatTabs,
    chat_ui: ChatUiState,
    applied_theme: Option<Theme>,
    frames: u64,
    bench_first_frame: bool,
    handovers: Option<HandoverInbox>,
}

impl AnyonApp {
    /// Builds the app; the backend wakes the window whenever it sends an event.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        backend: Backend,
        events: EventReceiver,
        options: StartOptions,
    ) -> Self {
        let ctx = cc.egui_ctx.clone();
        backend.set_repaint(move || ctx.request_repaint());
        // The index loads and catches up in the background; the window never waits for it.
        backend.start_history(true);
        theme::apply(&cc.egui_ctx);
        let screen = options
            .screen
            .or(options.settings.last_screen())
            .unwrap_or(Screen::Projects);
        let mut stores = Stores {
            settings: options.settings,
            ..Stores::default()
        };
        let paths = backend.paths();
        stores.environment = Environment {
            data_folder: paths.root().to_path_buf(),
            database: paths.database(),
            logs: paths.logs(),
            database_error: backend.database_error().map(ToString::to_string),
            auth_server: crate::domain::auth_server::embedded_status(),
            projects_root: backend.projects_root(),
        };
        if let Some(error) = backend.database_error() {
            stores.notices.push(NoticeLevel::Error, error.to_string());
        }
        // Whether the saved sign-in still holds (the status bar shows who is signed in).
        stores.account.started(backend.dispatch(AccountStatus));
        Self {
            requests: backend.requests(),
            backend,
            events,
            stores,
            screen,
            tabs: ChatTabs::default(),
            chat_ui: ChatUiState::default(),
            applied_theme: None,
            frames: 0,
            bench_first_frame: options.bench_first_frame,
            handovers: options.handovers,
        }
    }

    /// The stores the window draws from (tests read them).
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The chat sessions of the open tabs, in tab order.
    pub fn open_chats(&self) -> Vec<&crate::state::ChatSession> {
        self.tabs
            .tabs()
            .iter()
            .filter_map(|t| self.stores.chat.sessions.get(&t.id))
            .collect()
    }

    /// The screen shown when no chat tab is active.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// Switches to `screen`, remembering it for the next start.
    fn open_screen(&mut self, screen: Screen) {
        self.tabs.deactivate();
        if self.screen != screen {
            self.screen = screen;
            let save = self.stores.settings.change(Setting::LastScreen(screen.key().into()));
            self.backend.dispatch(save);
        }
    }

    fn apply_tab_action(&mut self, action: TabAction) {
        match action {
            TabAction::Activate(id) => self.tabs.activate(id),
            TabAction::Close(id) => self.close_chat(id),
            TabAction::New => self.new_chat(),
        }
    }

    /// Opens a chat tab in the project the last chat used.
    fn new_chat(&mut self) {
        let id = self.tabs.open("New chat");
        // A new chat sees the project's files as they are now.
        self.stores.mentions.refresh();
        let project = self.stores.settings.default_project();
        self.stores
            .chat
            .sessions
            .insert(id, crate::state::ChatSession::new("New chat", project));
    }

    /// Opens a chat tab for `request`: a new conversation or a session to resume.
    fn open_chat(&mut self, request: OpenChat) {
        let mut session = crate::state::ChatSession::new(request.title, request.project);
        session.session_id = request.resume;
        session.earlier = request.transcript.map(crate::state::EarlierMessages::new);
        self.open_session_tab(session);
    }

    /// Opens a chat tab showing `session` (a transcript to read or continue) and shows it.
    pub fn open_session_tab(&mut self, session: crate::state::ChatSession) -> u64 {
        let id = self.tabs.open(session.title.clone());
        self.stores.mentions.refresh();
        self.stores.chat.sessions.insert(id, session);
        id
    }

    /// Closes a chat tab; its running turn is stopped, since nobody could see or answer it.
    fn close_chat(&mut self, id: u64) {
        if let Some(session) = self.stores.chat.sessions.remove(&id)
            && let Some(run_id) = session.run.and_then(|run| run.run_id)
        {
            self.backend.dispatch(CancelClaudeExecution { run_id });
        }
        self.chat_ui.transcripts.remove(&id);
        self.tabs.close(id);
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        let pressed = |shortcut: &KeyboardShortcut| ctx.input_mut(|input| input.consume_shortcut(shortcut));
        if pressed(&COMMAND_PALETTE) {
            self.stores.palette.toggle();
        }
        if let Some(screen) = Screen::ALL.into_iter().find(|screen| pressed(&screen.shortcut())) {
            self.open_screen(screen);
        }
        if pressed(&NEW_TAB) {
            self.new_chat();
        }
        if pressed(&CLOSE_TAB)
            && let Some(id) = self.tabs.active_tab().map(|tab| tab.id)
        {
            self.close_chat(id);
        }
        // Ctrl+Shift+Tab must be tested first: consume_shortcut ignores extra Shift.
        if pressed(&PREVIOUS_TAB) {
            self.tabs.cycle(false);
        } else if pressed(&NEXT_TAB) {
            self.tabs.cycle(true);
        }
    }

    /// While the palette is open: asks for the latest sessions once, builds its entries from the stores,
    /// and takes Up, Down, Enter and Escape before any screen sees them.
    fn handle_palette(&mut self, ctx: &egui::Context) {
        if !self.stores.palette.is_open() {
            return;
        }
        for folder in self
            .stores
            .palette
            .sessions_to_ask(self.stores.transcripts.catalog.as_deref())
        {
            let request = self.backend.dispatch(GetProjectSessions {
                project_path: folder.into(),
                filter: String::new(),
                offset: 0,
                limit: Some(palette::SESSIONS_PER_PROJECT),
                fresh: false,
            });
            self.stores.palette.asked(request);
        }
        if self.stores.agents.agents.never_requested() {
            let request = self.backend.dispatch(ListAgents);
            self.stores.agents.agents.start(request);
        }
        let default_project = self.stores.settings.default_project();
        let entries = palette::entries(&palette::Sources {
            catalog: self.stores.transcripts.catalog.as_deref(),
            sessions: self.stores.palette.sessions(),
            agents: self.stores.agents.agents.value().map(Vec::as_slice).unwrap_or_default(),
            signed_in: self.stores.account.signed_in_as().is_some(),
            tabs: self.tabs.tabs().len(),
            tab_shown: self.tabs.active_tab().is_some(),
            theme: self.stores.settings.theme(),
            default_project: &default_project,
        });
        self.stores.palette.set_entries(entries);
        let count = |key: egui::Key| {
            ctx.input_mut(|input| {
                let mut n = 0isize;
                while input.consume_key(egui::Modifiers::NONE, key) {
                    n += 1;
                }
                n
            })
        };
        let moved = count(egui::Key::ArrowDown) - count(egui::Key::ArrowUp);
        self.stores.palette.move_selection(moved);
        if count(egui::Key::Escape) > 0 {
            self.stores.palette.close();
        } else if count(egui::Key::Enter) > 0
            && let Some(command) = self.stores.palette.choose_selected()
        {
            self.run_palette(command);
        }
    }

    /// Carries out what a palette entry stands for.
    fn run_palette(&mut self, command: PaletteCommand) {
        match command {
            PaletteCommand::Screen(screen) => self.open_screen(screen),
            PaletteCommand::Project(key) => {
                let store = &mut self.stores.transcripts;
                store.selected_project = Some(key);
                store.session_search.clear();
                store.text_search.clear();
                store.viewer = None;
                self.open_screen(Screen::Projects);
            }
            PaletteCommand::OpenSession(session) => {
                self.stores.transcripts.viewer = Some(SessionViewer::open(*session));
                self.open_screen(Screen::Projects);
            }
            PaletteCommand::Resume(request) => self.open_chat(request),
            PaletteCommand::RunAgent { id, name, task } => {
                let agents = &mut self.stores.agents;
                agents.view = AgentsView::List;
                agents.run_dialog = Some(RunDialog {
                    agent_id: id,
                    agent_name: name,
                    project: self.stores.settings.default_project(),
                    task,
                    model: String::new(),
                });
                self.open_screen(Screen::Agents);
            }
            PaletteCommand::NewChat => self.new_chat(),
            PaletteCommand::CloseTab => {
                if let Some(id) = self.tabs.active_tab().map(|tab| tab.id) {
                    self.close_chat(id);
                }
            }
            PaletteCommand::NextTab => self.tabs.cycle(true),
            PaletteCommand::PreviousTab => self.tabs.cycle(false),
            PaletteCommand::NewAgent => {
                self.stores.agents.editor = Some(AgentEditor::new());
                self.open_screen(Screen::Agents);
            }
            PaletteCommand::ImportAgents => {
                self.stores.agents.import = Some(ImportDialog::default());
                self.open_screen(Screen::Agents);
            }
            PaletteCommand::AgentHistory => {
                self.stores.agents.view = AgentsView::History;
                self.open_screen(Screen::Agents);
            }
            PaletteCommand::AddMcpServer => {
                let mcp = &mut self.stores.mcp;
                mcp.editor = Some(McpEditor::new(mcp.project.clone()));
                self.open_screen(Screen::Mcp);
            }
            PaletteCommand::SignIn => {
                // What the Account screen's "Sign in with Google" does, with the screen shown to follow it.
                self.open_screen(Screen::Account);
                if self.stores.account.busy.is_none() {
                    let request = self.backend.dispatch(SignInStart { open_browser: true });
                    self.stores.account.started(request);
                }
            }
            PaletteCommand::SignOut => {
                self.open_screen(Screen::Account);
                if self.stores.account.busy.is_none() {
                    let request = self.backend.dispatch(SignOut);
                    self.stores.account.started(request);
                }
            }
            PaletteCommand::Theme(theme) => {
                let save = self.stores.settings.change(Setting::Theme(theme));
                self.backend.dispatch(save);
            }
            PaletteCommand::ShowProcesses => {
                self.stores.show_processes = true;
                self.stores.processes_stale = true;
            }
        }
    }

    /// Requests from a later `anyon` start or the embedded auth server: bring the window forward, show the
    /// screen asked for, and start or finish a sign-in.
    fn handle_handovers(&mut self, ctx: &egui::Context) {
        while let Some(handover) = self.handovers.as_mut().and_then(HandoverInbox::try_recv) {
            if let Some(screen) = handover.screen {
                self.open_screen(screen);
            }
            match handover.action {
                Some(HandoverAction::SignInLink { url }) => {
                    // Not marked busy: a duplicate delivery of the link answers nothing to wait for.
                    self.backend.dispatch(SignInLink { url });
                }
                Some(HandoverAction::SignIn) => {
                    let request = self.backend.dispatch(SignInStart { open_browser: true });
                    self.stores.account.started(request);
                }
                None => {}
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        }
    }

    fn nav_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(10.0);
        ui.label(
            RichText::new("ANYON")
                .strong()
                .size(20.0)
                .color(theme::accent(ui.visuals())),
        );
        ui.add_space(14.0);
        let showing_screen = self.tabs.active_tab().is_none();
        let ctx = ui.ctx().clone();
        for screen in Screen::ALL {
            let selected = showing_screen && self.screen == screen;
            let button = egui::Button::selectable(selected, format!("{}  {}", screen.icon(), screen.label()))
                .min_size(egui::vec2(ui.available_width(), 30.0));
            let response = ui.add(button).on_hover_text(format!(
                "{} ({})",
                screen.heading(),
                widgets::shortcut_text(&ctx, &screen.shortcut())
            ));
            if response.clicked() {
                self.open_screen(screen);
            }
        }
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let running = self.stores.running_processes;
            let visuals = ui.visuals().clone();
            let (dot, text) = match running {
                0 => (theme::muted(&visuals), "No Claude processes running".to_string()),
                1 => (theme::success(&visuals), "1 Claude process running".to_string()),
                n => (theme::success(&visuals), format!("{n} Claude processes running")),
            };
            let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter().circle_filled(rect.center(), 4.0, dot);
            let label = ui
                .add(egui::Label::new(text).sense(egui::Sense::click()))
                .on_hover_text("Show the processes (and stop them)");
            if label.clicked() {
                self.stores.show_processes = !self.stores.show_processes;
                self.stores.processes_stale = true;
            }
            ui.separator();
            match self.stores.account.signed_in_as() {
                Some(name) => ui.label(format!("Signed in as {name}")),
                None => ui.label("Not signed in"),
            };
            if let Some(progress) = self.stores.transcripts.progress
                && progress.files_total > 0
                && progress.files_done < progress.files_total
            {
                ui.separator();
                ui.spinner();
                ui.label(format!(
                    "Indexing Claude's transcripts: {} of {} files",
                    progress.files_done, progress.files_total
                ));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new(concat!("ANYON ", env!("CARGO_PKG_VERSION"))).color(theme::muted(&visuals)));
                if self.stores.environment.database_error.is_some() {
                    ui.label(RichText::new("⚠ database unavailable").color(theme::error(&visuals)));
                }
            });
        });
    }

    /// Every live Claude and agent process, with Stop.
    fn processes_ui(&mut self, ctx: &egui::Context) {
        if !self.stores.show_processes {
            return;
        }
        if self.stores.processes_stale && !self.stores.processes.is_pending() {
            self.stores.processes_stale = false;
            self.stores.processes.start(self.backend.dispatch(ListProcesses));
        }
        let mut open = true;
        egui::Window::new("Processes")
            .open(&mut open)
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -36.0))
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                let list = self.stores.processes.value().cloned().unwrap_or_default();
                if list.is_empty() {
                    ui.label("No Claude processes running.");
                }
                egui::Grid::new("processes")
                    .num_columns(5)
                    .spacing([12.0, 6.0])
                    .show(ui, |ui| {
                        for process in &list {
                            let kind = match process.kind {
                                crate::domain::process::RunKind::Chat => "chat",
                                crate::domain::process::RunKind::Agent => "agent",
                            };
                            ui.label(kind);
                            ui.label(format!("pid {}", process.pid));
                            ui.label(RichText::new(process.project.display().to_string()).monospace());
                            ui.label(process.started_at.format("%H:%M:%S").to_string());
                            if ui.button("⏹ Stop").clicked() {
                                self.backend.dispatch(KillProcess { run_id: process.run_id });
                            }
                            ui.end_row();
                        }
                    });
            });
        if !open {
            self.stores.show_processes = false;
        }
    }

    fn notices_ui(&mut self, ctx: &egui::Context) {
        self.stores.notices.expire(Instant::now());
        if self.stores.notices.is_empty() {
            return;
        }
        let mut dismissed = None;
        egui::Area::new(egui::Id::unique("anyon-notices"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-16.0, -40.0))
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                for notice in self.stores.notices.iter() {
                    let visuals = ui.visuals().clone();
                    let stroke = match notice.level {
                        NoticeLevel::Error => theme::error(&visuals),
                        NoticeLevel::Info => theme::accent(&visuals),
                    };
                    egui::Frame::new()
                        .fill(theme::card_fill(&visuals))
                        .stroke(egui::Stroke::new(1.0, stroke))
                        .corner_radius(theme::CARD_RADIUS)
                        .inner_margin(10)
                        .show(ui, |ui| {
                            ui.set_width(theme::TOAST_WIDTH);
                            ui.horizontal_top(|ui| {
                                ui.add(egui::Label::new(&notice.text).wrap());
                                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                                    dismissed = Some(notice.id);
                                }
                            });
                        });
                    ui.add_space(6.0);
                }
            });
        if let Some(id) = dismissed {
            self.stores.notices.dismiss(id);
        }
        // Wake up to expire the notices even when nothing else happens.
        ctx.request_repaint_after(Duration::from_secs(1));
    }
}

impl eframe::App for AnyonApp {
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Nothing ANYON started may outlive the window.
        self.backend.shutdown(crate::domain::process::DEFAULT_GRACE);
    }

    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frames += 1;
        if self.bench_first_frame && self.frames == 2 {
            // logic() of the second pass runs after the first frame was painted and presented.
            let since_epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            println!("ANYON_FIRST_FRAME_UNIX_NS={}", since_epoch.as_nanos());
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        let stores = &mut self.stores;
        if self.events.drain(EVENT_BUDGET, |event| stores.apply(event)) {
            ctx.request_repaint();
        }
        if self.applied_theme != Some(self.stores.settings.theme()) {
            ctx.set_theme(crate::state::theme_preference(self.stores.settings.theme()));
            self.applied_theme = Some(self.stores.settings.theme());
        }
        self.handle_handovers(ctx);
        self.handle_shortcuts(ctx);
        self.handle_palette(ctx);
        ui::claude_memory::may_close(ctx, &mut self.stores);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if self.bench_first_frame && self.frames == 1 {
            ui.ctx().request_repaint();
        }
        let chrome = theme::chrome_fill(ui.visuals());
        egui::Panel::bottom("status-bar")
            .frame(
                egui::Frame::new()
                    .fill(chrome)
                    .inner_margin(egui::Margin::symmetric(12, 4)),
            )
            .show(ui, |ui| self.status_ui(ui));
        egui::Panel::left("navigation")
            .resizable(false)
            .exact_size(theme::NAV_WIDTH)
            .frame(
                egui::Frame::new()
                    .fill(chrome)
                    .inner_margin(egui::Margin::symmetric(10, 6)),
            )
            .show(ui, |ui| self.nav_ui(ui));
        let tab_action = egui::Panel::top("chat-tabs")
            .frame(egui::Frame::side_top_panel(ui.style()).inner_margin(egui::Margin::symmetric(10, 4)))
            .show(ui, |ui| chat::tab_strip_ui(ui, &self.tabs))
            .inner;
        if let Some(action) = tab_action {
            self.apply_tab_action(action);
        }
        let screen = self.screen;
        let active_tab = self.tabs.active_tab().cloned();
        let retitle = egui::CentralPanel::default()
            .frame(egui::Frame::central_panel(ui.style()).inner_margin(theme::SCREEN_MARGIN))
            .show(ui, |ui| {
                let mut cx = ScreenContext {
                    stores: &mut self.stores,
                    backend: &self.requests,
                    conversations: &mut self.chat_ui,
                };
                match &active_tab {
                    Some(tab) => chat::chat_ui(ui, tab, &mut cx).map(|title| (tab.id, title)),
                    None => {
                        ui::screen_ui(ui, screen, &mut cx);
                        None
                    }
                }
            })
            .inner;
        if let Some((id, title)) = retitle {
            self.tabs.rename(id, title);
        }
        if let Some(request) = self.stores.transcripts.open_chat.take() {
            self.open_chat(request);
        }
        if let Some((project, session_id)) = self.stores.checkpoints.fork.take() {
            let short: String = session_id.chars().take(8).collect();
            let mut session = crate::state::ChatSession::new(format!("Fork of {short}"), project);
            session.fork_from = Some(session_id);
            self.open_session_tab(session);
        }
        let ctx = ui.ctx().clone();
        self.processes_ui(&ctx);
        self.notices_ui(&ctx);
        ui::claude_memory::close_prompt_ui(&ctx, &mut self.stores, &self.requests);
        // Last, so that it lies over everything else.
        if let Some(command) = ui::palette::ui(&ctx, &mut self.stores.palette) {
            self.run_palette(command);
        }
    }
}
