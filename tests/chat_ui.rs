//! The chat tab in the real window (headless, through AccessKit) driving the real Claude CLI
//! against the local Messages API: send with Enter, approve or deny in the card, see the answer.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::claude::{Sandbox, require_claude_bin};
use crate::support::mock_api::{MockApi, Reply, Script};
use crate::support::{self, TempHome};

fn label_contains(node: &egui_kittest::kittest::AccessKitNode<'_>, part: &str) -> bool {
    [node.value(), node.label()]
        .into_iter()
        .flatten()
        .any(|text| text.contains(part))
        && matches!(node.role(), Role::Label | Role::Heading)
}

fn settle<'a, T>(
    harness: &mut Harness<'a, AnyonApp>,
    what: &str,
    mut check: impl FnMut(&Harness<'a, AnyonApp>) -> Option<T>,
) -> T {
    support::wait_for(what, Duration::from_secs(60), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        check(harness)
    })
}

/// Sends a prompt whose answer writes `notes.txt`; `decide` answers the card, `after` looks around once
/// the run ended. With `checkpoints`, the project's automatic checkpoints are switched on first.
fn run_write_scenario(
    test: &str,
    checkpoints: bool,
    decide: impl FnOnce(&mut Harness<'_, AnyonApp>),
    after: impl FnOnce(&mut Harness<'_, AnyonApp>, &Sandbox),
) -> Option<(Sandbox, bool)> {
    let bin = require_claude_bin(test)?;
    let api = MockApi::start(Script::write_file("notes.txt", "from the chat tab\n", "All done."));
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, events) = support::backend(&runtime, &home);
    sandbox.wire(&runtime, &backend, &bin, &api);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, StartOptions::default()));
    harness.run_ok();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run_ok();

    let project = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Project"));
    project.focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Project"))
        .type_text(&sandbox.project.display().to_string());
    harness.run_ok();
    if checkpoints {
        harness
            .get_by_label("Checkpoints before each prompt and file change")
            .click();
        harness.run_ok();
    }

    let prompt = harness.get_by_role(Role::MultilineTextInput);
    prompt.focus();
    prompt.type_text("Please write the notes");
    harness.run_ok();
    harness.key_press(Key::Enter);
    settle(&mut harness, "the approval card", |h| {
        h.query_all_by(|n| label_contains(n, "Claude wants to use Write"))
            .next()
            .map(|_| ())
    });
    assert!(
        harness
            .query_all_by(|n| label_contains(n, "1 Claude process running"))
            .next()
            .is_some()
    );
    // The bottom panel grows to fit the card over a frame or two; let it settle before clicking.
    harness.run_ok();
    decide(&mut harness);
    settle(&mut harness, "the final answer", |h| {
        h.query_all_by(|n| label_contains(n, "All done.")).next().map(|_| ())
    });
    settle(&mut harness, "the run to end", |h| {
        h.query_all_by(|n| label_contains(n, "No Claude processes running"))
            .next()
            .map(|_| ())
    });
    assert!(
        harness
            .query_all_by(|n| label_contains(n, "Please write the notes"))
            .next()
            .is_some(),
        "the prompt is shown"
    );
    let written = sandbox.project.join("notes.txt").exists();
    after(&mut harness, &sandbox);
    Some((sandbox, written))
}

#[test]
fn allowing_in_the_card_lets_the_tool_write() {
    let Some((sandbox, written)) = run_write_scenario(
        "allowing_in_the_card_lets_the_tool_write",
        false,
        |harness| {
            harness.get_by_label("Allow").click();
            harness.run_ok();
        },
        |_, _| {},
    ) else {
        return;
    };
    assert!(written);
    assert_eq!(
        std::fs::read_to_string(sandbox.project.join("notes.txt")).unwrap(),
        "from the chat tab\n"
    );
}

#[test]
fn denying_with_a_reason_keeps_the_file_away() {
    let Some((_sandbox, written)) = run_write_scenario(
        "denying_with_a_reason_keeps_the_file_away",
        false,
        |harness| {
            let reason = harness.get_by(|n| n.role() == Role::TextInput && n.label().is_none());
            reason.focus();
            reason.type_text("not today");
            harness.run_ok();
            harness.get_by_label("Deny").click();
            harness.run_ok();
        },
        |_, _| {},
    ) else {
        return;
    };
    assert!(!written);
}

#[test]
fn the_timeline_shows_the_automatic_checkpoints_and_restores_one() {
    let restored = std::cell::Cell::new(false);
    let outcome = run_write_scenario(
        "the_timeline_shows_the_automatic_checkpoints_and_restores_one",
        true,
        |harness| {
            harness.get_by_label("Allow").click();
            harness.run_ok();
        },
        |harness, sandbox| {
            assert!(sandbox.project.join("notes.txt").exists());
            harness.get_by_label("Checkpoints").click();
            settle(harness, "the timeline", |h| {
                h.query_all_by(|n| label_contains(n, "before tool")).next().map(|_| ())
            });
            assert!(
                harness
                    .query_all_by(|n| label_contains(n, "before prompt"))
                    .next()
                    .is_some()
            );
            harness.run_ok();
            // The newest checkpoint, listed first, is the one taken just before the write.
            harness
                .get_all_by_label("Restore…")
                .next()
                .expect("a restore button")
                .click();
            harness.run_ok();
            settle(harness, "the restore preview", |h| {
                h.query_all_by(|n| label_contains(n, "delete notes.txt"))
                    .next()
                    .map(|_| ())
            });
            // Through AccessKit: the modal is laid out again as the plan arrives, so a pointer aimed at
            // the last frame's position can miss under load.
            harness.get_by_label("Restore and fork from here").click_accesskit();
            support::wait_for("the file to go", Duration::from_secs(20), || {
                harness.step();
                (!sandbox.project.join("notes.txt").exists()).then_some(())
            });
            settle(harness, "the fork's tab", |h| {
                h.query_all_by(|n| n.role() == Role::Heading && n.label().is_some_and(|l| l.starts_with("Fork of ")))
                    .next()
                    .map(|_| ())
            });
            restored.set(true);
        },
    );
    if outcome.is_some() {
        assert!(restored.get());
    }
}

/// A chat tab in plan mode: Claude's plan arrives as a card (Markdown), "Approve and start" carries it out
/// in the chosen mode, then Claude's question is answered by choosing an option; the answers reach the
/// model as the CLI words them.
#[test]
fn a_plan_is_approved_and_a_question_answered_in_their_cards() {
    let script = Script::new()
        .then(Reply::tool_use(
            "ExitPlanMode",
            serde_json::json!({"plan": "# The plan\n\n1. Write **notes.txt**\n2. Check it"}),
        ))
        .then(Reply::tool_use(
            "AskUserQuestion",
            serde_json::json!({"questions": [
                    {"question": "Which colour?", "header": "Colour", "multiSelect": false,
                     "options": [{"label": "Red", "description": "warm"}, {"label": "Blue", "description": "cool"}]},
                    {"question": "Which extras?", "header": "Extras", "multiSelect": true,
                     "options": [{"label": "Tests", "description": ""}, {"label": "Docs", "description": ""}]}]}),
        ))
        .then(Reply::text("Blue it is."));
    let Some((mut harness, api, _sandbox, _home)) =
        chat_tab("a_plan_is_approved_and_a_question_answered_in_their_cards", script)
    else {
        return;
    };
    choose_plan_mode(&mut harness);
    send(&mut harness, "Plan the notes");
    settle(&mut harness, "the plan card", |h| {
        h.query_all_by(|n| label_contains(n, "Claude's plan"))
            .next()
            .map(|_| ())
    });
    harness.run_ok();
    assert!(
        harness.query_all_by(|n| label_contains(n, "The plan")).next().is_some(),
        "the plan's Markdown heading is drawn"
    );
    harness.get_by_label("Approve and start").click();
    harness.run_ok();

    settle(&mut harness, "the question card", |h| {
        h.query_all_by(|n| label_contains(n, "Which colour?"))
            .next()
            .map(|_| ())
    });
    harness.run_ok();
    let send_enabled = |h: &Harness<'_, AnyonApp>| {
        h.query_all_by(|n| n.label().as_deref() == Some("Send answers") && !n.is_disabled())
            .next()
            .is_some()
    };
    assert!(!send_enabled(&harness), "nothing is chosen yet");
    harness.get_by_label("Red").click();
    harness.run_ok();
    harness.get_by_label("Blue").click();
    harness.run_ok();
    harness.get_by_label("Tests").click();
    harness.run_ok();
    harness.get_by_label("Docs").click();
    harness.run_ok();
    assert!(send_enabled(&harness));
    harness.get_by_label("Send answers").click();
    harness.run_ok();
    settle(&mut harness, "the final answer", |h| {
        h.query_all_by(|n| label_contains(n, "Blue it is.")).next().map(|_| ())
    });
    settle(&mut harness, "the run to end", |h| {
        h.query_all_by(|n| label_contains(n, "No Claude processes running"))
            .next()
            .map(|_| ())
    });

    let results: Vec<String> = api
        .requests()
        .iter()
        .flat_map(|r| r.last_user_blocks())
        .filter(|b| b["type"] == "tool_result")
        .map(|b| b["content"].to_string())
        .collect();
    assert!(
        results.iter().any(|r| r.contains("User has approved your plan")),
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| r.contains(r#"\"Which colour?\"=\"Blue\""#) && r.contains(r#"\"Which extras?\"=\"Tests, Docs\""#)),
        "the answers reach the model: {results:?}"
    );
    // The session left plan mode for the chosen one, so the next turn starts there too.
    assert_eq!(
        harness.state().open_chats()[0].permission_mode,
        Some(anyon::domain::claude::permission::PermissionMode::AcceptEdits)
    );
}

/// "Keep planning" with feedback: the model reads the feedback as the tool's refusal and the session
/// stays in plan mode.
#[test]
fn keep_planning_sends_the_feedback_and_stays_in_plan_mode() {
    let script = Script::new()
        .then(Reply::tool_use(
            "ExitPlanMode",
            serde_json::json!({"plan": "1. Delete everything"}),
        ))
        .then(Reply::text("I will revise the plan."));
    let Some((mut harness, api, _sandbox, _home)) =
        chat_tab("keep_planning_sends_the_feedback_and_stays_in_plan_mode", script)
    else {
        return;
    };
    choose_plan_mode(&mut harness);
    send(&mut harness, "Plan a cleanup");
    settle(&mut harness, "the plan card", |h| {
        h.query_all_by(|n| label_contains(n, "Claude's plan"))
            .next()
            .map(|_| ())
    });
    harness.run_ok();
    let feedback = harness.get_by(|n| n.role() == Role::TextInput && n.label().is_none());
    feedback.focus();
    feedback.type_text("keep the tests folder");
    harness.run_ok();
    harness.get_by_label("Keep planning").click();
    harness.run_ok();
    settle(&mut harness, "the answer", |h| {
        h.query_all_by(|n| label_contains(n, "I will revise the plan."))
            .next()
            .map(|_| ())
    });
    let refusal = api
        .requests()
        .iter()
        .flat_map(|r| r.last_user_blocks())
        .find(|b| b["type"] == "tool_result")
        .expect("the plan's tool result");
    assert_eq!(refusal["is_error"], true, "{refusal}");
    assert!(
        refusal["content"].to_string().contains("keep the tests folder"),
        "{refusal}"
    );
    assert_eq!(
        harness.state().open_chats()[0].permission_mode,
        Some(anyon::domain::claude::permission::PermissionMode::Plan)
    );
}

/// Opens a chat tab in a new sandbox project, against `script`; returns what the test needs to drive it.
fn chat_tab(test: &str, script: Script) -> Option<(Harness<'static, AnyonApp>, MockApi, Sandbox, TempHome)> {
    let bin = require_claude_bin(test)?;
    let api = MockApi::start(script);
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, events) = support::backend(&runtime, &home);
    sandbox.wire(&runtime, &backend, &bin, &api);
    // The runtime lives as long as the backend's tasks need it: the harness owns what it drives.
    std::mem::forget(runtime);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, StartOptions::default()));
    harness.run_ok();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run_ok();
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Project"))
        .focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Project"))
        .type_text(&sandbox.project.display().to_string());
    harness.run_ok();
    Some((harness, api, sandbox, home))
}

/// Plan mode, chosen in the composer's Permissions picker.
fn choose_plan_mode(harness: &mut Harness<'_, AnyonApp>) {
    harness
        .get_by(|n| n.role() == Role::ComboBox && n.label().as_deref() == Some("Permissions"))
        .click();
    harness.run_ok();
    harness.get_by_label("Plan only").click();
    harness.run_ok();
}

fn type_into(harness: &mut Harness<'_, AnyonApp>, label: &str, text: &str) {
    let field = harness.get_by(|n| {
        matches!(n.role(), Role::TextInput | Role::MultilineTextInput) && n.label().as_deref() == Some(label)
    });
    field.focus();
    field.type_text(text);
    harness.run_ok();
}

fn send(harness: &mut Harness<'_, AnyonApp>, text: &str) {
    let prompt = harness.get_by(|n| n.role() == Role::MultilineTextInput && n.label().is_none());
    prompt.focus();
    prompt.type_text(text);
    harness.run_ok();
    harness.key_press(Key::Enter);
    harness.run_ok();
}

/// The answer streams in token by token (`--include-partial-messages`): part of it shows while the turn
/// still runs, and the complete message replaces the pieces without doubling them.
#[test]
fn the_answer_shows_while_it_streams_in() {
    let Some((mut harness, _api, _sandbox, _home)) = chat_tab(
        "the_answer_shows_while_it_streams_in",
        Script::slow_text(
            &["Streaming ", "one ", "piece ", "at ", "a ", "time."],
            Duration::from_millis(400),
        ),
    ) else {
        return;
    };
    send(&mut harness, "Tell me slowly");
    settle(&mut harness, "part of the answer while the turn runs", |h| {
        let chat = h.state().open_chats()[0];
        let partial = chat.items.iter().any(|item| {
            matches!(item, anyon::state::ChatItem::Text { text, .. }
                if text.starts_with("Streaming ") && !text.ends_with("time."))
        });
        (partial && chat.is_busy()).then_some(())
    });
    settle(&mut harness, "the whole answer", |h| {
        h.query_all_by(|n| label_contains(n, "Streaming one piece at a time."))
            .next()
            .map(|_| ())
    });
    settle(&mut harness, "the run to end", |h| {
        (!h.state().open_chats()[0].is_busy()).then_some(())
    });
    let texts = harness.state().open_chats()[0]
        .items
        .iter()
        .filter(|item| matches!(item, anyon::state::ChatItem::Text { .. }))
        .count();
    assert_eq!(texts, 1, "the pieces were replaced by the complete message");
}

/// More options: an extra folder reaches Claude (its system prompt names it), a fallback model and a
/// budget are passed, and a turn that reaches its budget says so plainly.
#[test]
fn extra_folders_and_a_budget_reach_the_cli_and_a_spent_budget_is_said_plainly() {
    let Some((mut harness, api, sandbox, _home)) = chat_tab(
        "extra_folders_and_a_budget_reach_the_cli_and_a_spent_budget_is_said_plainly",
        Script::bash("echo hi", "Done."),
    ) else {
        return;
    };
    let shared = sandbox.home.join("shared-docs");
    std::fs::create_dir_all(&shared).unwrap();
    harness.get_by_label("More options").click();
    harness.run_ok();
    type_into(&mut harness, "Extra folders", &shared.display().to_string());
    type_into(&mut harness, "Fallback model", "sonnet");
    type_into(&mut harness, "Budget per turn ($)", "abc");
    send(&mut harness, "Run it");
    settle(&mut harness, "the budget refused", |h| {
        h.query_all_by(|n| label_contains(n, "amount of dollars above zero"))
            .next()
            .map(|_| ())
    });
    assert!(
        !harness.state().open_chats()[0].is_busy(),
        "nothing ran with a budget that is not one"
    );
    assert_eq!(harness.state().open_chats()[0].input, "Run it", "the prompt is kept");
    let budget = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Budget per turn ($)"));
    budget.focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Budget per turn ($)"))
        .type_text("0.0001");
    harness.run_ok();
    harness
        .get_by(|n| n.role() == Role::MultilineTextInput && n.label().is_none())
        .focus();
    harness.key_press(Key::Enter);
    harness.run_ok();
    settle(&mut harness, "the budget banner", |h| {
        h.query_all_by(|n| label_contains(n, "reached the chat's budget per turn"))
            .next()
            .map(|_| ())
    });
    let system = api
        .messages_requests(crate::support::mock_api::RequestKind::Main)
        .first()
        .and_then(|r| r.body.as_ref().map(|b| b["system"].to_string()))
        .unwrap_or_default();
    assert!(
        system.contains(&shared.display().to_string()),
        "the extra folder is one Claude may work in: {system}"
    );
}

/// Each turn asks the CLI what it offers (`initialize`): its models join the model picker; the session's
/// MCP servers are shown in the tab with their state.
#[test]
fn the_cli_offers_its_models_and_the_tab_shows_the_mcp_servers_state() {
    let Some((mut harness, _api, sandbox, _home)) = chat_tab(
        "the_cli_offers_its_models_and_the_tab_shows_the_mcp_servers_state",
        Script::text("Hello."),
    ) else {
        return;
    };
    // A user-scope server whose command does not exist: the session reports it failed.
    std::fs::write(
        sandbox.config_dir.join(".claude.json"),
        serde_json::json!({"mcpServers": {"broken-tools": {"type": "stdio", "command": "/nonexistent/mcp-server", "args": []}}})
            .to_string(),
    )
    .unwrap();
    send(&mut harness, "Hi");
    settle(&mut harness, "the run to end", |h| {
        let chat = h.state().open_chats()[0];
        (!chat.is_busy() && chat.session_id.is_some()).then_some(())
    });
    let chat = harness.state().open_chats()[0];
    let offered = chat.offered.clone().expect("the CLI answered initialize");
    assert!(!offered.models.is_empty(), "{offered:?}");
    assert!(
        !offered.commands.is_empty(),
        "slash commands and skills are offered: {offered:?}"
    );
    assert_eq!(chat.mcp_servers.len(), 1, "{:?}", chat.mcp_servers);
    assert_eq!(chat.mcp_servers[0].name, "broken-tools");
    assert_eq!(chat.mcp_servers[0].status, "failed");
    settle(&mut harness, "the server's state in the tab", |h| {
        h.query_all_by(|n| label_contains(n, "broken-tools: failed"))
            .next()
            .map(|_| ())
    });
    // The `/` picker lists what the CLI offers (built-ins and skills) besides the command files.
    let command = offered.commands[0].name.clone();
    let prompt = harness.get_by(|n| n.role() == Role::MultilineTextInput && n.label().is_none());
    prompt.focus();
    prompt.type_text(&format!("/{command}"));
    harness.run_ok();
    assert!(
        harness
            .query_all_by(|n| n.label().as_deref() == Some(format!("/{command}").as_str()))
            .next()
            .is_some(),
        "the picker offers /{command}"
    );
    harness.key_press(Key::Enter);
    harness.run_ok();
    assert_eq!(harness.state().open_chats()[0].input, format!("/{command} "));
    let model = offered.models[0].clone();
    harness
        .get_by(|n| n.role() == Role::ComboBox && n.label().as_deref() == Some("Model"))
        .click();
    harness.run_ok();
    assert!(
        harness
            .query_all_by(|n| n.label().is_some_and(|l| l.contains(&format!("({})", model.value))))
            .next()
            .is_some(),
        "the picker lists {model:?}"
    );
}

/// After a turn the tab shows how full the context is (from the usage the CLI reports), and "Compact"
/// runs Claude Code's own /compact (a command of the CLI, not a prompt for the model). The boundary marker
/// the CLI writes after a real compaction is covered by the chat store's tests (a short mock conversation is
/// one the CLI declines to compact).
#[test]
fn the_context_meter_follows_the_usage_and_compact_runs_the_clis_command() {
    let Some((mut harness, api, _sandbox, _home)) = chat_tab(
        "the_context_meter_follows_the_usage_and_compact_runs_the_clis_command",
        Script::text("Hello."),
    ) else {
        return;
    };
    send(&mut harness, "Hi");
    settle(&mut harness, "the run to end", |h| {
        let chat = h.state().open_chats()[0];
        (!chat.is_busy() && chat.session_id.is_some()).then_some(())
    });
    let (used, window) = harness.state().open_chats()[0].context().expect("the context is known");
    assert!(
        used >= 300,
        "input, cache and output tokens of the mock's usage: {used}"
    );
    assert!(window >= 200_000, "{window}");
    settle(&mut harness, "the meter", |h| {
        h.query_all_by(|n| label_contains(n, &format!("{} of ", anyon::ui::projects::tokens(used))))
            .next()
            .map(|_| ())
    });
    let asked = api.messages_requests(crate::support::mock_api::RequestKind::Main).len();
    harness.get_by_label("Compact").click();
    harness.run_ok();
    settle(&mut harness, "the compact turn to end", |h| {
        let chat = h.state().open_chats()[0];
        let footers = chat
            .items
            .iter()
            .filter(|i| matches!(i, anyon::state::ChatItem::Footer(_)))
            .count();
        (!chat.is_busy() && footers >= 2).then_some(())
    });
    let chat = harness.state().open_chats()[0];
    assert!(
        chat.items
            .iter()
            .any(|i| matches!(i, anyon::state::ChatItem::Prompt { text } if text == "/compact")),
        "{:?}",
        chat.items
    );
    assert_eq!(
        api.messages_requests(crate::support::mock_api::RequestKind::Main).len(),
        asked,
        "the CLI ran /compact itself; the model was not sent it as a prompt"
    );
}

/// The output styles the CLI offers are a picker per chat; the chosen one is the style the next turn runs
/// with (the CLI's `init` line says so).
#[test]
fn a_chosen_output_style_is_the_one_the_next_turn_runs_with() {
    let Some((mut harness, _api, _sandbox, _home)) = chat_tab(
        "a_chosen_output_style_is_the_one_the_next_turn_runs_with",
        Script::text("Hello."),
    ) else {
        return;
    };
    send(&mut harness, "Hi");
    settle(&mut harness, "the first turn to end", |h| {
        let chat = h.state().open_chats()[0];
        (!chat.is_busy() && chat.offered.is_some()).then_some(())
    });
    let chat = harness.state().open_chats()[0];
    let offered = chat.offered.clone().unwrap();
    let style = offered
        .available_output_styles
        .iter()
        .find(|s| Some(s.as_str()) != offered.output_style.as_deref())
        .cloned()
        .unwrap_or_else(|| panic!("the CLI offers another style: {offered:?}"));
    // Through AccessKit: the panel above the box is laid out again as the turn's figures arrive, so a
    // pointer aimed at the last frame's position can miss.
    harness.get_by_label("More options").click_accesskit();
    harness.run_ok();
    harness
        .get_by(|n| n.role() == Role::ComboBox && n.label().as_deref() == Some("Output style"))
        .click();
    harness.run_ok();
    harness.get_by_label(&style).click();
    harness.run_ok();
    assert_eq!(harness.state().open_chats()[0].output_style, style);
    send(&mut harness, "Again");
    settle(&mut harness, "the second turn to end", |h| {
        let chat = h.state().open_chats()[0];
        let footers = chat
            .items
            .iter()
            .filter(|i| matches!(i, anyon::state::ChatItem::Footer(_)))
            .count();
        (!chat.is_busy() && footers >= 2).then_some(())
    });
    let inits: Vec<serde_json::Value> = harness.state().open_chats()[0]
        .raw
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["type"] == "system" && v["subtype"] == "init")
        .collect();
    assert_eq!(inits.len(), 2);
    assert_eq!(inits[1]["output_style"], style.as_str(), "{}", inits[1]);
    assert_ne!(inits[0]["output_style"], style.as_str());
}
