//! Frame time of the chat view with a full tab (the chat store's cap, 20,000 items; older items stay in
//! Claude's transcript on disk), scrolled from top to bottom: the real window run headless (layout and
//! tessellation, no GPU), timing each frame. The line printed gives the number of items the tab held.
//!
//!     cargo bench --bench transcript_frames [-- ITEMS]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use anyon::app::{AnyonApp, StartOptions};
use anyon::backend::Backend;
use anyon::state::{ChatItem, ChatSession, MAX_CHAT_ITEMS, ToolCall, ToolOutcome};
use anyon::util::paths::DataPaths;
use egui_kittest::Harness;

fn main() {
    let items: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(MAX_CHAT_ITEMS);
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (backend, events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().to_path_buf()));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_max_steps(1_000_000)
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, StartOptions::default()));
    let session = session(items);
    // The store keeps at most MAX_CHAT_ITEMS per tab: report what is on screen, not what was asked for.
    let items = session.items.len();
    harness.state_mut().open_session_tab(session);
    for _ in 0..5 {
        harness.step();
    }
    // Start at the top, then wheel down until the end.
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 1.0e9),
        modifiers: egui::Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    harness.hover_at(egui::pos2(700.0, 300.0));
    harness.step();
    let mut times = Vec::new();
    let frames = 2000;
    for _ in 0..frames {
        harness.hover_at(egui::pos2(700.0, 300.0));
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -2_000.0),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        let started = Instant::now();
        harness.step();
        times.push(started.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "transcript frames: {items} items, {frames} frames scrolled: mean {:.2} ms, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(mean),
        ms(p(0.5)),
        ms(p(0.95)),
        ms(*times.last().expect("frames"))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A long conversation mixing every kind of item.
fn session(items: usize) -> ChatSession {
    let mut session = ChatSession::new("Long session", "/tmp");
    for index in 0..items {
        let item = match index % 5 {
            0 => ChatItem::Prompt {
                text: format!("Prompt number {index}: please look at the parser again"),
            },
            1 => ChatItem::Text {
                text: format!(
                    "Answer {index}. Here is **Markdown** with `code` and a list:\n\n- one\n- two\n\n```rust\nfn main() {{ println!(\"{index}\"); }}\n```"
                ),
                subagent: false,
            },
            2 => ChatItem::Thinking {
                text: format!("Thinking about step {index} in some detail."),
            },
            3 => ChatItem::Tool(ToolCall {
                id: format!("toolu_{index}"),
                name: "Bash".into(),
                input: serde_json::json!({"command": format!("ls -la src/{index}")}),
                parent: None,
                result: Some(ToolOutcome {
                    text: "a.rs\nb.rs\n".into(),
                    is_error: false,
                    structured: None,
                }),
            }),
            _ => ChatItem::Notice {
                text: format!("Notice {index}"),
                error: false,
            },
        };
        session.push(item);
    }
    session
}
