//! Where the configuration comes from, so a reload can read it again.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigErrors};

/// A config file (or the embedded default) and the environment name.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// `None` for the embedded default config.
    pub path: Option<PathBuf>,
    pub environment: String,
}

impl ConfigSource {
    /// Reads and validates the config as it is now; also returns a short hash
    /// of its text, base and overlay (exposed as `weir_config_info{hash}`).
    pub fn load(&self) -> Result<(Config, String), ConfigErrors> {
        let env = |name: &str| std::env::var(name).ok();
        match &self.path {
            Some(path) => {
                let text = read(path)?;
                let Some(overlay_path) = self.overlay_path()? else {
                    let config = config::load_str(&text, path, &self.environment, &env)?;
                    return Ok((config, hash(&text)));
                };
                let overlay = read(&overlay_path)?;
                let config = config::load_layers(
                    &text,
                    path,
                    Some((&overlay, &overlay_path)),
                    &self.environment,
                    &env,
                )?;
                Ok((config, hash(&format!("{text}\n---\n{overlay}"))))
            }
            None => {
                let config = config::load_str(
                    config::DEFAULT_CONFIG,
                    Path::new("<default config>"),
                    &self.environment,
                    &env,
                )?;
                Ok((config, hash(config::DEFAULT_CONFIG)))
            }
        }
    }

    /// The environment's overlay file (`environments/<env>.yaml` beside the
    /// base), when there is one.
    pub fn overlay_path(&self) -> Result<Option<PathBuf>, ConfigErrors> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        config::layers::environment_file(path, &self.environment).map_err(|message| {
            ConfigErrors(vec![config::ConfigError {
                file: path.clone(),
                path: String::new(),
                line: None,
                message,
            }])
        })
    }

    /// The files a reload reads: the base and its overlay.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.path.iter().cloned().collect();
        files.extend(self.overlay_path().ok().flatten());
        files
    }
}

fn read(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![config::ConfigError {
            file: path.to_path_buf(),
            path: String::new(),
            line: None,
            message: format!("cannot read the config file: {e}"),
        }])
    })
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}", path.display()),
            None => f.write_str("<default config>"),
        }
    }
}

/// First 16 hex digits of the SHA-256 of `text`.
pub fn hash(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}
