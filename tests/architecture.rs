//! The shape of the crate, read from `src/`: the layers of `src/lib.rs` hold.
//!
//! Layers, each using only those below it (the `crate::` paths outside test code are what counts):
//!
//! ```text
//!   app (window)        cli (command line)      neither names the other
//!        \                /
//!         ui (screens)   /                      no file, process, network, runtime or SQL work
//!           \           /
//!            state (stores fed by events)       no I/O
//!              |
//!            backend (runs requests)
//!              |
//!            domain (claude, transcripts, ...)  never names a layer above, nor egui
//!              |
//!            util (foundation)                  names nothing else of the crate
//! ```
//!
//! Besides the order: no cycle between top-level modules, nor between the domain's modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers from the top, with the ones each may use.
const LAYERS: &[(&str, &[&str])] = &[
    ("app", &["ui", "state", "backend", "domain", "util"]),
    ("cli", &["state", "backend", "domain", "util"]),
    ("ui", &["state", "backend", "domain", "util"]),
    ("state", &["backend", "domain", "util"]),
    ("backend", &["domain", "util"]),
    ("domain", &["util"]),
    ("util", &[]),
];

/// What screens and stores may not do themselves.
const IO: &[(&str, &str)] = &[
    ("std::fs", "files"),
    ("File::open", "files"),
    ("std::process", "processes"),
    ("tokio::process", "processes"),
    ("tokio::fs", "files"),
    ("tokio::net", "the network"),
    ("tokio::task", "the runtime"),
    ("tokio::runtime", "the runtime"),
    ("tokio::spawn", "the runtime"),
    ("rusqlite", "SQLite"),
    ("reqwest", "the network"),
    ("hyper", "the network"),
    ("std::net", "the network"),
];

const EGUI: &[&str] = &[
    "egui::",
    "eframe::",
    "egui_extras::",
    "egui_plot::",
    "egui_commonmark::",
];

/// One source file as the checks see it: its module path under `src/` and its text without test code.
struct Source {
    path: PathBuf,
    /// `["domain", "mcp", "files"]` for `src/domain/mcp/files.rs`.
    module: Vec<String>,
    text: String,
}

fn read_tree(src: &Path) -> Vec<Source> {
    let mut sources = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap();
                let mut module: Vec<String> = rel
                    .iter()
                    .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
                    .collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                // Test files (`tests.rs`, anything in a `tests/` folder) are test code.
                if module.iter().any(|m| m == "tests") {
                    continue;
                }
                let text = strip_test_code(&std::fs::read_to_string(&path).unwrap());
                sources.push(Source { path, module, text });
            }
        }
    }
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    sources
}

/// Drops `//` comments, and every item under `#[cfg(test)]` (a `mod x;` line or a braced block).
fn strip_test_code(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.starts_with("#[cfg(test)]") || line.starts_with("#[cfg(all(test") {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().starts_with("#[") {
                j += 1;
            }
            if j < lines.len() && lines[j].trim_end().ends_with(';') && !lines[j].contains('{') {
                i = j + 1;
                continue;
            }
            let (mut depth, mut started) = (0i64, false);
            while j < lines.len() {
                let opens = lines[j].matches('{').count() as i64;
                depth += opens - lines[j].matches('}').count() as i64;
                started |= opens > 0;
                j += 1;
                if started && depth <= 0 {
                    break;
                }
            }
            i = j;
            continue;
        }
        out.push(lines[i]);
        i += 1;
    }
    out.join("\n")
}

/// Every `crate::a::b::...` path named, as its segments (grouped `crate::{a, b::c}` imports included).
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                paths.push(segments(item));
            }
        } else {
            paths.push(segments(rest));
        }
    }
    paths.retain(|p| !p.is_empty());
    paths
}

fn segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        out.push(rest[..end].to_string());
        match rest[end..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    out
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Cycles in a graph, each as its sorted members (Tarjan's strongly connected components).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(walk: &mut Walk<'a>, node: &'a str) {
        let n = walk.index.len();
        walk.index.insert(node, n);
        walk.low.insert(node, n);
        walk.stack.push(node);
        if let Some(next) = walk.edges.get(node) {
            for to in next {
                let to = to.as_str();
                if !walk.index.contains_key(to) {
                    visit(walk, to);
                    let low = walk.low[node].min(walk.low[to]);
                    walk.low.insert(node, low);
                } else if walk.stack.contains(&to) {
                    let low = walk.low[node].min(walk.index[to]);
                    walk.low.insert(node, low);
                }
            }
        }
        if walk.low[node] == walk.index[node] {
            let mut component = Vec::new();
            while let Some(member) = walk.stack.pop() {
                component.push(member.to_string());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                walk.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node.as_str()) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

/// Whether `needle` stands in `text` as a path of its own (not inside a longer name).
fn contains_path(text: &str, needle: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().last();
        let after = text[at + needle.len()..].chars().next();
        let starts_a_name = !before.is_some_and(|c| word(c) || c == ':');
        let ends_a_name = !needle.ends_with(word) || !after.is_some_and(word);
        starts_a_name && ends_a_name
    })
}

/// Every broken rule, one line each.
fn check(src: &Path) -> Vec<String> {
    let sources = read_tree(src);
    let mut broken = Vec::new();
    let mut top_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut domain_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let known: BTreeSet<&str> = LAYERS.iter().map(|(name, _)| *name).collect();
    for source in &sources {
        let shown = source
            .path
            .strip_prefix(src.parent().unwrap_or(src))
            .unwrap_or(&source.path);
        let Some(top) = source.module.first().map(String::as_str) else {
            continue;
        };
        if matches!(top, "lib" | "main") {
            continue;
        }
        if !known.contains(top) {
            broken.push(format!("{}: top-level module {top} is in no layer", shown.display()));
            continue;
        }
        let allowed = LAYERS
            .iter()
            .find(|(name, _)| *name == top)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        for path in crate_paths(&source.text) {
            let used = path[0].as_str();
            if used != top && known.contains(used) {
                top_edges.entry(top.to_string()).or_default().insert(used.to_string());
                if !allowed.contains(&used) {
                    broken.push(format!(
                        "{}: {top} names {} (not a layer below it)",
                        shown.display(),
                        path.join("::")
                    ));
                }
            }
            if top == "domain" && used == "domain" && path.len() > 1 {
                let (from, to) = (&source.module[1], &path[1]);
                if source.module.len() > 1 && from != to {
                    domain_edges.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
        if matches!(top, "domain" | "util") {
            for egui in EGUI {
                if contains_path(&source.text, egui) {
                    broken.push(format!(
                        "{}: {top} names {egui} (the window's toolkit)",
                        shown.display()
                    ));
                }
            }
        }
        // Screens reach the backend only through the narrow handle and its request and event types.
        if top == "ui" {
            for path in crate_paths(&source.text) {
                if path[0] == "backend"
                    && !matches!(path.get(1).map(String::as_str), Some("command" | "event" | "Requests"))
                {
                    broken.push(format!(
                        "{}: ui names {} (screens get the Requests handle, not the backend)",
                        shown.display(),
                        path.join("::")
                    ));
                }
            }
        }
        if matches!(top, "ui" | "state") {
            for (pattern, what) in IO {
                if contains_path(&source.text, pattern) {
                    broken.push(format!(
                        "{}: {top} uses {pattern} ({what}); ask the backend",
                        shown.display()
                    ));
                }
            }
        }
    }
    for cycle in cycles(&top_edges) {
        broken.push(format!("cycle between top-level modules: {}", cycle.join(", ")));
    }
    for cycle in cycles(&domain_edges) {
        broken.push(format!("cycle between domain modules: {}", cycle.join(", ")));
    }
    broken
}

#[test]
fn the_layers_of_the_crate_hold() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let broken = check(&src);
    assert!(
        broken.is_empty(),
        "the layering rules are broken:\n{}",
        broken.join("\n")
    );
    // The check saw the real tree, not an empty one.
    let sources = read_tree(&src);
    assert!(sources.len() > 100, "read only {} files", sources.len());
    for (layer, _) in LAYERS {
        assert!(
            sources.iter().any(|s| s.module.first().is_some_and(|m| m == layer)),
            "no file in layer {layer}"
        );
    }
}

/// The checks find each kind of break in a small made-up tree (so the test above can fail).
#[test]
fn each_kind_of_break_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let write = |rel: &str, text: &str| {
        let path = src.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod app;\n");
    write("app/mod.rs", "use crate::cli::Cli;\nuse crate::ui::draw;\n");
    write("cli/mod.rs", "use crate::{backend::Backend, state::Stores};\n");
    write(
        "ui/mod.rs",
        "pub fn draw() { let _ = std::fs::read(\"x\"); }\nfn link(ui: &mut Ui) { ui.hyperlink(\"x\"); }\n\
         fn send(b: &crate::backend::Requests, c: crate::backend::command::Command) {}\n\
         fn all(b: &crate::backend::Backend) {}\n",
    );
    write("state/mod.rs", "use crate::backend::event::Event;\n");
    write(
        "backend/mod.rs",
        "use crate::domain::mcp::McpScope;\n#[cfg(test)]\nmod tests {\n    use crate::ui::draw;\n}\n",
    );
    write("domain/mod.rs", "pub mod mcp;\npub mod agents;\n");
    write(
        "domain/mcp.rs",
        "use crate::backend::EventSink;\nuse crate::domain::agents::Agent;\n",
    );
    write(
        "domain/agents/mod.rs",
        "// crate::ui::nothing in a comment\nuse crate::domain::mcp::McpScope;\nfn f(_: egui::Color32) {}\n",
    );
    write("util/mod.rs", "");
    let broken = check(&src);
    let has = |part: &str| broken.iter().any(|line| line.contains(part));
    assert!(has("app/mod.rs: app names cli::Cli"), "{broken:#?}");
    assert!(has("ui/mod.rs: ui uses std::fs"), "{broken:#?}");
    assert!(has("ui/mod.rs: ui names backend::Backend"), "{broken:#?}");
    assert!(
        !has("backend::Requests") && !has("backend::command"),
        "the handle and request types are fine: {broken:#?}"
    );
    assert!(has("domain/mcp.rs: domain names backend::EventSink"), "{broken:#?}");
    assert!(has("domain/agents/mod.rs: domain names egui::"), "{broken:#?}");
    assert!(has("cycle between top-level modules: backend, domain"), "{broken:#?}");
    assert!(has("cycle between domain modules: agents, mcp"), "{broken:#?}");
    assert!(!has("backend names ui"), "test code is left out: {broken:#?}");
    assert!(!has("ui::nothing"), "comments are left out: {broken:#?}");
    assert!(
        !has("hyper"),
        "a name that only starts like a crate is not that crate: {broken:#?}"
    );
    assert!(
        !has("cli/mod.rs"),
        "the command line may use the stores and the backend: {broken:#?}"
    );
    assert!(
        !has("state/mod.rs"),
        "stores may read the backend's events: {broken:#?}"
    );
}
