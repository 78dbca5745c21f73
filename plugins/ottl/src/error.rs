//! Errors of parsing and checking a statement (with the column they point
//! at) and of running one.

/// A statement could not be parsed or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// 1-based column, in characters, of the part of the statement at fault.
    pub column: usize,
    pub message: String,
}

impl Error {
    pub fn at(column: usize, message: impl Into<String>) -> Error {
        Error {
            column,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A statement of a config was refused: where it sits in the config
/// (`metric_statements[0].statements[1]`), its text, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    pub location: String,
    pub statement: String,
    pub error: Error,
}

impl std::fmt::Display for StatementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: statement `{}`: column {}: {}",
            self.location, self.statement, self.error.column, self.error.message
        )
    }
}

/// Running a statement failed (a converter got a value it cannot take).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a plugin does when a statement or condition fails to run: the Go
/// collector's `error_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorMode {
    /// Log the error and go on with the next statement (or keep the item).
    Ignore,
    /// Go on without logging.
    Silent,
    /// Fail the whole batch (the default, as in Go).
    #[default]
    Propagate,
}

impl ErrorMode {
    /// Parses `ignore | silent | propagate`.
    pub fn parse(value: &serde_json::Value) -> std::result::Result<ErrorMode, String> {
        match value.as_str() {
            Some("ignore") => Ok(ErrorMode::Ignore),
            Some("silent") => Ok(ErrorMode::Silent),
            Some("propagate") => Ok(ErrorMode::Propagate),
            _ => Err(format!(
                "invalid error_mode {value}; expected ignore, silent or propagate"
            )),
        }
    }
}
