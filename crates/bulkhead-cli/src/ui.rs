//! Terminal output shared by every command: one table style (UTF-8 boxes, condensed) fitted to the terminal's width
//! (cells wrap; `COLUMNS` sets the width when the output is not a terminal), colour that follows `--color` and
//! `NO_COLOR`, and `--quiet`.

use std::{io::IsTerminal, sync::OnceLock};

use comfy_table::{
    Cell, CellAlignment, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED,
};

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set (to anything but the empty string).
    #[default]
    Auto,
    /// Always colour (also into a pipe).
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    color: bool,
    quiet: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Fixes the output settings for this run (the first call wins).
pub fn init(choice: ColorChoice, quiet: bool) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    let _ = SETTINGS.set(Settings { color, quiet });
}

fn settings() -> Settings {
    *SETTINGS.get_or_init(|| Settings {
        color: false,
        quiet: false,
    })
}

/// Whether `--quiet` was given: commands print their one-line outcome only.
pub fn quiet() -> bool {
    settings().quiet
}

/// A table in the one style every command uses, fitted to the terminal (or `COLUMNS`).
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    if !std::io::stdout().is_terminal()
        && let Some(width) = columns()
    {
        table.set_width(width);
    }
    if settings().color {
        table.enforce_styling();
    }
    table
}

/// `COLUMNS`, when set to a number.
fn columns() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

/// The width text is wrapped to: the terminal's, else `COLUMNS`, else none (a pipe gets whole lines).
fn width() -> Option<usize> {
    if std::io::stdout().is_terminal() {
        Table::new().width().map(usize::from)
    } else {
        columns().map(usize::from)
    }
    .filter(|w| *w >= 40)
}

/// `text` wrapped at spaces to the output's width (see [`width`]), each line ending in a newline.
pub fn wrap(text: &str) -> String {
    let Some(width) = width() else {
        return format!("{text}\n");
    };
    let mut out = String::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A right-aligned cell (numbers).
pub fn right(text: impl ToString) -> Cell {
    Cell::new(text.to_string()).set_alignment(CellAlignment::Right)
}

/// A cell coloured green (good) or red (bad) when colour is on.
pub fn verdict_cell(text: impl ToString, good: bool) -> Cell {
    let cell = Cell::new(text.to_string());
    if settings().color {
        cell.fg(if good { Color::Green } else { Color::Red })
    } else {
        cell
    }
}

/// `text` in green when colour is on (for lines outside tables).
pub fn good(text: &str) -> String {
    paint(text, "32")
}

/// `text` in red when colour is on.
pub fn bad(text: &str) -> String {
    paint(text, "31")
}

/// `text` in bold when colour is on.
pub fn bold(text: &str) -> String {
    paint(text, "1")
}

fn paint(text: &str, code: &str) -> String {
    if settings().color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
