//! Config errors: each names the file, the key path, the line where known,
//! and what was expected. Loading collects every error it can find.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// Dotted key path, e.g. `processors.batch.timeout` or
    /// `service.pipelines.traces.exporters[0]`; empty for the whole file.
    pub path: String,
    /// 1-based line of the offending key or value, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one config; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Whether a key path holds for something (here: came from the overlay).
type PathTest<'a> = dyn Fn(&str) -> bool + 'a;

/// Collects errors against one file.
pub struct Errors<'a> {
    file: &'a Path,
    lines: &'a dyn Fn(&str) -> Option<usize>,
    /// The environment's overlay file, and which key paths came from it.
    overlay: Option<(&'a Path, &'a PathTest<'a>)>,
    pub list: Vec<ConfigError>,
}

impl<'a> Errors<'a> {
    pub fn new(file: &'a Path, lines: &'a dyn Fn(&str) -> Option<usize>) -> Self {
        Errors {
            file,
            lines,
            overlay: None,
            list: Vec::new(),
        }
    }

    /// Errors at paths for which `from_overlay` holds name `overlay_file`.
    pub fn with_overlay(mut self, overlay_file: &'a Path, from_overlay: &'a PathTest<'a>) -> Self {
        self.overlay = Some((overlay_file, from_overlay));
        self
    }

    /// Records `message` at `path` (the line is looked up from the path).
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        let line = (self.lines)(&path);
        let file = match self.overlay {
            Some((overlay_file, from_overlay)) if from_overlay(&path) => overlay_file,
            _ => self.file,
        };
        self.list.push(ConfigError {
            file: file.to_path_buf(),
            path,
            line,
            message: message.into(),
        });
    }

    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors(self.list))
        }
    }
}
