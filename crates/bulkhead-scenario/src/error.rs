//! Errors located in the scenario file: `file:line:column: path: what was expected`.

use std::{fmt, ops::Range};

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

/// A scenario file that cannot be loaded or run as written, with where and why.
///
/// Displays as `examples/x.toml:14:9: steps[3].fraction: expected a fraction like "0.25" or "25%", got "1.5"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as it was named (a path, or a label for text that did not come from a file).
    pub file: String,
    /// 1-based line and column (in characters) of the offending value, when the error has a place in the file.
    pub position: Option<(usize, usize)>,
    /// Where in the document: `steps[3].fraction`, `pools[1].tier_of`; empty for the document itself.
    pub path: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// The text of a scenario and the name to report it under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// 1-based (line, column) of a byte offset, the column counted in characters.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// An error at `span`.
    pub fn error(
        &self,
        span: Range<usize>,
        path: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            position: Some(self.position(span.start)),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// An error that belongs to the whole file.
    pub fn file_error(&self, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            position: None,
            path: String::new(),
            message: message.into(),
        }
    }

    /// A syntax or serde error from `toml`, located and given the path of the key or value it points at.
    pub fn toml_error(&self, error: &toml::de::Error) -> ScenarioError {
        let message = error.message().trim().to_string();
        let Some(span) = error.span() else {
            return self.file_error(message);
        };
        let path = DeTable::parse(self.text)
            .ok()
            .and_then(|table| path_at(table.get_ref(), &span))
            .unwrap_or_default();
        self.error(span, &path, message)
    }
}

/// The path of the smallest key or value whose span holds `span`.
fn path_at(table: &DeTable<'_>, span: &Range<usize>) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    walk_table(table, "", span, &mut best);
    best.map(|(_, path)| path)
}

fn holds(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

fn consider(
    candidate: Range<usize>,
    path: &str,
    span: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    if holds(&candidate, span) {
        let size = candidate.len();
        if best.as_ref().is_none_or(|(s, _)| size <= *s) {
            *best = Some((size, path.to_string()));
        }
    }
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: &str,
    span: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    for (key, value) in table.iter() {
        let path = join_key(prefix, key.get_ref());
        consider(key.span(), &path, span, best);
        walk_value(value, &path, span, best);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    span: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    consider(value.span(), path, span, best);
    match value.get_ref() {
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(item, &format!("{path}[{i}]"), span, best);
            }
        }
        DeValue::Table(table) => walk_table(table, path, span, best),
        _ => {}
    }
}

/// `prefix.key`, quoting keys that are not bare TOML keys.
pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}
