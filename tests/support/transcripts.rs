//! Generated Claude transcript trees: many projects and sessions, written the way the CLI writes them
//! (several lines per API response with stale output counts, subagent files, cache splits, `costUSD`,
//! fast mode, unknown models, a malformed line now and then). Deterministic for a seed.

use std::io::Write;
use std::path::Path;

use serde_json::json;

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

/// What to generate.
pub struct Shape {
    pub projects: usize,
    pub sessions: usize,
    /// API responses per session (each written as 1 to 3 lines).
    pub responses: usize,
    /// Bytes of tool output per response (makes files realistically large).
    pub payload: usize,
    pub seed: u64,
}

const MODELS: &[&str] = &[
    "claude-opus-4-8",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-6",
    "claude-sonnet-5",
    "claude-mystery-1",
];

/// Writes the tree under `projects` and returns the total bytes written.
pub fn generate(projects: &Path, shape: &Shape) -> u64 {
    let mut rng = Rng::new(shape.seed);
    let filler: String = "lorem ipsum dolor sit amet ".repeat(shape.payload / 27 + 1)[..shape.payload].to_string();
    let mut bytes = 0;
    let start_ms: i64 = 1_772_323_200_000; // 2026-03-01
    for s in 0..shape.sessions {
        let p = s % shape.projects.max(1);
        let cwd = format!("/home/ada/work/project-{p}");
        let folder = cwd.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
        let dir = projects.join(&folder);
        std::fs::create_dir_all(&dir).unwrap();
        let session = rng.uuid();
        let mut ts = start_ms + rng.below(60 * 86_400_000) as i64;
        let mut out = Vec::new();
        let mut sub = Vec::new();
        let line = |value: serde_json::Value, out: &mut Vec<u8>| {
            serde_json::to_writer(&mut *out, &value).unwrap();
            out.push(b'\n');
        };
        line(
            json!({"type":"user","sessionId":session,"cwd":cwd,"gitBranch":"main","timestamp":iso(ts),"uuid":rng.uuid(),
                   "parentUuid":null,"isSidechain":false,"message":{"role":"user","content":format!("task {s}: make it work")}}),
            &mut out,
        );
        let with_subagent = rng.below(10) == 0;
        for r in 0..shape.responses {
            ts += 1_000 + rng.below(120_000) as i64;
            let model = MODELS[rng.below(MODELS.len() as u64) as usize];
            let model = if rng.below(200) == 0 { "<synthetic>" } else { model };
            let id = format!("msg_{}", rng.next());
            let req = format!("req_{}", rng.next());
            let input = rng.below(5_000);
            let output = 1 + rng.below(2_000);
            let read = rng.below(300_000);
            let (w5, w1) = (rng.below(20_000), if rng.below(4) == 0 { rng.below(10_000) } else { 0 });
            let mut usage = json!({"input_tokens":input,"output_tokens":output,"cache_read_input_tokens":read,
                "cache_creation_input_tokens":w5 + w1,"cache_creation":{"ephemeral_5m_input_tokens":w5,"ephemeral_1h_input_tokens":w1}});
            if rng.below(30) == 0 {
                usage["speed"] = json!("fast");
            }
            let blocks = 1 + rng.below(3);
            for b in 0..blocks {
                let mut u = usage.clone();
                if b + 1 < blocks {
                    u["output_tokens"] = json!(1); // stale on all but the last line
                }
                let mut value = json!({"type":"assistant","sessionId":session,"cwd":cwd,"gitBranch":"main",
                    "timestamp":iso(ts),"uuid":rng.uuid(),"isSidechain":false,"requestId":req,
                    "message":{"id":id,"type":"message","role":"assistant","model":model,
                        "content":[{"type":"text","text":format!("step {r}.{b}")}],"usage":u}});
                if rng.below(50) == 0 {
                    value["costUSD"] = json!(rng.below(1000) as f64 / 1000.0);
                }
                line(value, &mut out);
            }
            line(
                json!({"type":"user","sessionId":session,"cwd":cwd,"timestamp":iso(ts + 500),"uuid":rng.uuid(),
                       "toolUseResult":{"stdout":filler},
                       "message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":filler}]}}),
                &mut out,
            );
            if with_subagent && r % 3 == 0 {
                let sid = format!("msg_{}", rng.next());
                line(
                    json!({"type":"assistant","sessionId":session,"isSidechain":true,"timestamp":iso(ts + 700),
                           "requestId":format!("req_{}", rng.next()),"agentId":"a1",
                           "message":{"id":sid,"model":"claude-haiku-4-5-20251001","content":[],
                           "usage":{"input_tokens":rng.below(3000),"output_tokens":rng.below(800)}}}),
                    &mut sub,
                );
            }
            if rng.below(400) == 0 {
                out.extend_from_slice(b"{\"type\":\"assistant\",\"truncated\n");
            }
        }
        let path = dir.join(format!("{session}.jsonl"));
        std::fs::File::create(&path).unwrap().write_all(&out).unwrap();
        bytes += out.len() as u64;
        if !sub.is_empty() {
            let sub_dir = dir.join(&session).join("subagents");
            std::fs::create_dir_all(&sub_dir).unwrap();
            std::fs::write(sub_dir.join("agent-a1.jsonl"), &sub).unwrap();
            bytes += sub.len() as u64;
        }
    }
    bytes
}

pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
