//! The two tools that ask the person rather than act: `ExitPlanMode` (Claude presents its plan and waits
//! for approval before leaving plan mode) and `AskUserQuestion` (one to four multiple-choice questions).
//! Both arrive as `can_use_tool` requests; their answers go back as the CLI expects them.

use serde_json::{Map, Value};

use super::permission::PermissionMode;

/// The tool Claude calls in plan mode to present its plan.
pub const EXIT_PLAN_MODE: &str = "ExitPlanMode";
/// The tool Claude calls to ask multiple-choice questions.
pub const ASK_USER_QUESTION: &str = "AskUserQuestion";
/// The most questions one call may ask (the CLI's own schema allows 1-4).
const MAX_QUESTIONS: usize = 4;
/// The most options shown per question (the schema allows 2-4; more are ignored rather than trusted).
const MAX_OPTIONS: usize = 8;

/// The modes a plan can be carried out in, for the "Approve and start" picker.
pub const PLAN_FOLLOW_UP_MODES: [PermissionMode; 3] = [
    PermissionMode::AcceptEdits,
    PermissionMode::Default,
    PermissionMode::Auto,
];

/// The plan of an `ExitPlanMode` call (Markdown), when it has one.
pub fn plan_text(input: &Value) -> Option<&str> {
    input.get("plan").and_then(Value::as_str)
}

/// One multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Question {
    /// The full question; the answer is keyed by it.
    pub question: String,
    /// A short label (a chip).
    pub header: String,
    pub options: Vec<QuestionOption>,
    /// More than one option may be chosen (the answer lists them, comma-separated).
    pub multi_select: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuestionOption {
    pub label: String,
    pub description: String,
}

/// The questions of an `AskUserQuestion` call. Lenient: entries without a question text are skipped,
/// missing fields are empty, and at most [`MAX_QUESTIONS`] are taken.
pub fn questions(input: &Value) -> Vec<Question> {
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    input
        .get("questions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|q| !text(q, "question").trim().is_empty())
                .take(MAX_QUESTIONS)
                .map(|q| Question {
                    question: text(q, "question"),
                    header: text(q, "header"),
                    options: q
                        .get("options")
                        .and_then(Value::as_array)
                        .map(|options| {
                            options
                                .iter()
                                .filter(|o| !text(o, "label").is_empty())
                                .take(MAX_OPTIONS)
                                .map(|o| QuestionOption {
                                    label: text(o, "label"),
                                    description: text(o, "description"),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    multi_select: q.get("multiSelect").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The person's answer to one question: the options chosen and, optionally, their own words ("Other").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuestionAnswer {
    /// Which options are chosen, by index (one at most for a single-select question).
    pub chosen: Vec<bool>,
    /// "Other" is chosen, with this text.
    pub other: Option<String>,
}

impl QuestionAnswer {
    pub fn for_question(question: &Question) -> Self {
        Self {
            chosen: vec![false; question.options.len()],
            other: None,
        }
    }

    /// Chooses option `index`: for a single-select question it replaces any other choice (and "Other").
    pub fn choose(&mut self, question: &Question, index: usize, on: bool) {
        if !question.multi_select && on {
            self.chosen.iter_mut().for_each(|c| *c = false);
            self.other = None;
        }
        if let Some(slot) = self.chosen.get_mut(index) {
            *slot = on;
        }
    }

    /// Chooses "Other" (with its text kept): for a single-select question it replaces the options.
    pub fn choose_other(&mut self, question: &Question, on: bool) {
        if on {
            if !question.multi_select {
                self.chosen.iter_mut().for_each(|c| *c = false);
            }
            self.other.get_or_insert_with(String::new);
        } else {
            self.other = None;
        }
    }

    /// The answer as the CLI takes it: the chosen labels (and the "Other" text), comma-separated; `None`
    /// while nothing is chosen.
    pub fn text(&self, question: &Question) -> Option<String> {
        let mut parts: Vec<&str> = question
            .options
            .iter()
            .zip(&self.chosen)
            .filter(|(_, chosen)| **chosen)
            .map(|(option, _)| option.label.as_str())
            .collect();
        if let Some(other) = self.other.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
            parts.push(other);
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The `AskUserQuestion` input with the person's answers added (`answers`: question text -> answer), which
/// is what the CLI reads back as the tool's result. `None` while a question has no answer.
pub fn answered_input(input: &Value, questions: &[Question], answers: &[QuestionAnswer]) -> Option<Value> {
    let mut map = Map::new();
    for (question, answer) in questions.iter().zip(answers) {
        map.insert(question.question.clone(), Value::String(answer.text(question)?));
    }
    if map.len() != questions.len() {
        return None;
    }
    let mut input = match input {
        Value::Object(object) => object.clone(),
        _ => Map::new(),
    };
    input.insert("answers".to_owned(), Value::Object(map));
    Some(Value::Object(input))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input() -> Value {
        json!({"questions": [
            {"question": "Which colour?", "header": "Colour", "multiSelect": false,
             "options": [{"label": "Red", "description": "warm"}, {"label": "Blue", "description": "cool"}]},
            {"question": "Which features?", "header": "Features", "multiSelect": true,
             "options": [{"label": "Dark mode", "description": ""}, {"label": "Sync", "description": ""}]},
            {"header": "no question text"},
        ], "metadata": {"source": "x"}})
    }

    #[test]
    fn questions_are_read_leniently() {
        let questions = questions(&input());
        assert_eq!(questions.len(), 2, "an entry without a question is skipped");
        assert_eq!(questions[0].options[1].label, "Blue");
        assert!(questions[1].multi_select);
        assert!(super::questions(&json!("not an object")).is_empty());
        assert!(
            super::questions(&json!({"questions": [{"question": "q", "options": 5}]}))[0]
                .options
                .is_empty()
        );
    }

    #[test]
    fn single_select_keeps_one_choice_and_multi_select_joins_them() {
        let questions = questions(&input());
        let mut colour = QuestionAnswer::for_question(&questions[0]);
        assert_eq!(colour.text(&questions[0]), None);
        colour.choose(&questions[0], 0, true);
        colour.choose(&questions[0], 1, true);
        assert_eq!(colour.text(&questions[0]).as_deref(), Some("Blue"));
        colour.choose_other(&questions[0], true);
        colour.other = Some("  Green  ".into());
        assert_eq!(colour.text(&questions[0]).as_deref(), Some("Green"));

        let mut features = QuestionAnswer::for_question(&questions[1]);
        features.choose(&questions[1], 0, true);
        features.choose(&questions[1], 1, true);
        features.choose_other(&questions[1], true);
        features.other = Some("Offline".into());
        assert_eq!(
            features.text(&questions[1]).as_deref(),
            Some("Dark mode, Sync, Offline")
        );
        features.choose(&questions[1], 0, false);
        assert_eq!(features.text(&questions[1]).as_deref(), Some("Sync, Offline"));
    }

    #[test]
    fn answers_are_added_to_the_input_keyed_by_question_only_when_all_are_answered() {
        let input = input();
        let questions = questions(&input);
        let mut answers: Vec<QuestionAnswer> = questions.iter().map(QuestionAnswer::for_question).collect();
        answers[0].choose(&questions[0], 1, true);
        assert_eq!(answered_input(&input, &questions, &answers), None, "one is unanswered");
        answers[1].choose(&questions[1], 0, true);
        let answered = answered_input(&input, &questions, &answers).unwrap();
        assert_eq!(
            answered["answers"],
            json!({"Which colour?": "Blue", "Which features?": "Dark mode"})
        );
        assert_eq!(
            answered["metadata"], input["metadata"],
            "the rest of the input goes back as it came"
        );
        assert_eq!(answered["questions"], input["questions"]);
    }

    #[test]
    fn the_plan_is_read_from_the_input() {
        assert_eq!(plan_text(&json!({"plan": "# Plan"})), Some("# Plan"));
        assert_eq!(plan_text(&json!({"plan": 3})), None);
    }
}
