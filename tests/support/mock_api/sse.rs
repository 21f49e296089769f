//! Turning a scripted [`Message`] into the Messages API's answer: an SSE event stream, or one JSON message.
//!
//! The stream is a hand-written [`Body`] that yields one event at a time and sleeps before delta events when the
//! message is slow. No task per stream: when the client hangs up, hyper drops the body, and the drop records
//! whether the stream had finished, which is how tests see that a cancel really cut the answer short.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use serde_json::{Value, json};

use super::script::{Block, Message};
use super::{Shared, StreamOutcome};

/// Ids the server makes up; unique per server so the CLI never sees the same tool_use id twice.
pub struct Ids<'a> {
    pub message_id: String,
    pub next_tool_id: &'a mut dyn FnMut() -> String,
}

/// The events of `message` as (pause before it, `event:`/`data:` frame) pairs.
pub fn events(message: &Message, model: &str, ids: Ids<'_>) -> Vec<(Duration, Bytes)> {
    let mut events = Vec::new();
    let mut push = |pause: Duration, name: &str, data: Value| {
        events.push((pause, Bytes::from(format!("event: {name}\ndata: {data}\n\n"))));
    };
    let slow = message.delta_interval;
    push(
        Duration::ZERO,
        "message_start",
        json!({"type": "message_start", "message": {
            "id": ids.message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null, "usage": message.usage.to_json(1),
        }}),
    );
    push(Duration::ZERO, "ping", json!({"type": "ping"}));
    for (index, block) in message.blocks.iter().enumerate() {
        let (start, deltas) = match block {
            Block::Text(text) => (json!({"type": "text", "text": ""}), vec![text_delta(text)]),
            Block::TextChunks(chunks) => (
                json!({"type": "text", "text": ""}),
                chunks.iter().map(|chunk| text_delta(chunk)).collect(),
            ),
            Block::Thinking(thinking) => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                vec![
                    json!({"type": "thinking_delta", "thinking": thinking}),
                    // Real signatures are opaque base64; the CLI stores and resends it without checking.
                    json!({"type": "signature_delta", "signature": "bW9jay1zaWduYXR1cmU="}),
                ],
            ),
            Block::ToolUse { name, input } => {
                let id = (ids.next_tool_id)();
                let json_text = input.to_string();
                // Two pieces, as the API splits arguments: the client must join partial JSON.
                let middle = json_text
                    .char_indices()
                    .nth(json_text.chars().count() / 2)
                    .map_or(0, |(at, _)| at);
                let (head, tail) = json_text.split_at(middle);
                (
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    vec![
                        json!({"type": "input_json_delta", "partial_json": head}),
                        json!({"type": "input_json_delta", "partial_json": tail}),
                    ],
                )
            }
        };
        push(
            Duration::ZERO,
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": start}),
        );
        for delta in deltas {
            push(
                slow,
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": delta}),
            );
        }
        push(
            Duration::ZERO,
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
    }
    push(
        Duration::ZERO,
        "message_delta",
        json!({"type": "message_delta",
            "delta": {"stop_reason": message.stop_reason(), "stop_sequence": null},
            "usage": message.usage.to_json(message.usage.output_tokens)}),
    );
    push(Duration::ZERO, "message_stop", json!({"type": "message_stop"}));
    events
}

fn text_delta(text: &str) -> Value {
    json!({"type": "text_delta", "text": text})
}

/// The non-streaming answer: the same message as one JSON object.
pub fn message_json(message: &Message, model: &str, ids: Ids<'_>) -> Value {
    let content: Vec<Value> = message
        .blocks
        .iter()
        .map(|block| match block {
            Block::Text(text) => json!({"type": "text", "text": text}),
            Block::TextChunks(chunks) => json!({"type": "text", "text": chunks.concat()}),
            Block::Thinking(thinking) => {
                json!({"type": "thinking", "thinking": thinking, "signature": "bW9jay1zaWduYXR1cmU="})
            }
            Block::ToolUse { name, input } => {
                json!({"type": "tool_use", "id": (ids.next_tool_id)(), "name": name, "input": input})
            }
        })
        .collect();
    json!({
        "id": ids.message_id, "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": message.stop_reason(), "stop_sequence": null,
        "usage": message.usage.to_json(message.usage.output_tokens),
    })
}

/// A response body that sends queued SSE events, pausing where the script asks.
pub struct SseBody {
    events: VecDeque<(Duration, Bytes)>,
    pause: Option<(Pin<Box<tokio::time::Sleep>>, Bytes)>,
    sent: usize,
    /// Where to record how the stream ended: the shared state and the index of this request's record.
    record: Option<(Arc<Shared>, usize)>,
}

impl SseBody {
    pub fn new(events: Vec<(Duration, Bytes)>, shared: Arc<Shared>, record_index: usize) -> Self {
        Self {
            events: events.into(),
            pause: None,
            sent: 0,
            record: Some((shared, record_index)),
        }
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        loop {
            if let Some((sleep, _)) = &mut this.pause {
                ready!(sleep.as_mut().poll(cx));
                if let Some((_, event)) = this.pause.take() {
                    this.sent += 1;
                    return Poll::Ready(Some(Ok(Frame::data(event))));
                }
            }
            match this.events.pop_front() {
                None => return Poll::Ready(None),
                Some((pause, event)) if pause.is_zero() => {
                    this.sent += 1;
                    return Poll::Ready(Some(Ok(Frame::data(event))));
                }
                Some((pause, event)) => this.pause = Some((Box::pin(tokio::time::sleep(pause)), event)),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.events.is_empty() && self.pause.is_none()
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        // hyper drops the body both after the last event and when the client hangs up mid-stream.
        let outcome = if self.is_end_stream() {
            StreamOutcome::Completed { events: self.sent }
        } else {
            StreamOutcome::Aborted { events_sent: self.sent }
        };
        if let Some((shared, index)) = self.record.take() {
            shared.set_stream_outcome(index, outcome);
        }
    }
}
