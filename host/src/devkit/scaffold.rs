//! `weir plugin new`: a plugin project from an embedded template, with the
//! WIT contract beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::error::DevkitError;

/// `templates/<lang>/<kind>/`, as this binary was built.
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates");
/// The plugin contract, `weir:plugin@0.1.0`.
static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../wit");

/// What a plugin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Processor,
    Exporter,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
        }
    }
}

/// What `weir plugin new` was asked for.
#[derive(Debug, Clone)]
pub struct NewPlugin {
    pub name: String,
    pub kind: Kind,
    pub lang: String,
    /// The folder to write (created; must be absent or empty).
    pub out: PathBuf,
    /// The Rust SDK crate the project depends on.
    pub sdk_path: PathBuf,
}

/// The `plugins/sdk` of the checkout this binary was built from.
pub fn default_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("plugins")
        .join("sdk")
}

/// Each language with a template, and the kinds it has.
pub fn languages() -> BTreeMap<String, Vec<String>> {
    TEMPLATES
        .dirs()
        .map(|lang| {
            let kinds = lang
                .dirs()
                .filter_map(|k| k.path().file_name())
                .map(|k| k.to_string_lossy().into_owned())
                .collect();
            (file_name(lang.path()), kinds)
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes the project; returns the files written, relative to `out`.
pub fn new_project(request: &NewPlugin) -> Result<Vec<PathBuf>, DevkitError> {
    let name = &request.name;
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(DevkitError::BadName(name.clone()));
    }
    let kind = request.kind.as_str();
    let template = TEMPLATES
        .get_dir(Path::new(&request.lang).join(kind))
        .ok_or_else(|| DevkitError::NoTemplate {
            lang: request.lang.clone(),
            kind: kind.into(),
            available: languages()
                .iter()
                .flat_map(|(l, kinds)| kinds.iter().map(move |k| format!("{l}/{k}")))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let sdk_path = if request.lang == "rust" {
        std::fs::canonicalize(&request.sdk_path)
            .ok()
            .filter(|p| p.join("Cargo.toml").is_file())
            .ok_or_else(|| DevkitError::NoSdk(request.sdk_path.clone()))?
    } else {
        request.sdk_path.clone()
    };
    let out = &request.out;
    if std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DevkitError::NotEmpty(out.clone()));
    }
    let values = [
        ("name", name.clone()),
        ("crate_name", name.replace('-', "_")),
        ("kind", kind.to_string()),
        ("sdk_path", sdk_path.display().to_string()),
        ("weir_version", env!("CARGO_PKG_VERSION").to_string()),
    ];
    let mut written = Vec::new();
    write_tree(template, template.path(), out, &values, &mut written)?;
    write_tree(&WIT, WIT.path(), &out.join("wit"), &[], &mut written)?;
    // Start from the versions the SDK is built and tested with (cargo
    // drops what the project does not use).
    let lock = sdk_path.join("..").join("Cargo.lock");
    if request.lang == "rust" && lock.is_file() && !out.join("Cargo.lock").exists() {
        let path = out.join("Cargo.lock");
        std::fs::copy(&lock, &path).map_err(|source| DevkitError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn write_tree(
    dir: &Dir<'_>,
    root: &Path,
    out: &Path,
    values: &[(&str, String)],
    written: &mut Vec<PathBuf>,
) -> Result<(), DevkitError> {
    for file in dir.files() {
        let relative = file.path().strip_prefix(root).unwrap_or(file.path());
        let relative = match relative.to_str().and_then(|p| p.strip_suffix(".tmpl")) {
            Some(stripped) => PathBuf::from(stripped),
            None => relative.to_path_buf(),
        };
        let contents = match std::str::from_utf8(file.contents()) {
            Ok(text) => fill(text, values).into_bytes(),
            Err(_) => file.contents().to_vec(),
        };
        let path = out.join(&relative);
        let write = |path: &Path| -> std::io::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, &contents)
        };
        write(&path).map_err(|source| DevkitError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(out.join(relative));
    }
    for sub in dir.dirs() {
        write_tree(sub, root, out, values, written)?;
    }
    Ok(())
}

/// Replaces each `{{key}}` with its value.
fn fill(text: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(text.to_string(), |text, (key, value)| {
        text.replace(&format!("{{{{{key}}}}}"), value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_the_template_folders() {
        let langs = languages();
        assert_eq!(
            langs.get("rust").map(|k| {
                let mut k = k.clone();
                k.sort();
                k
            }),
            Some(vec!["exporter".to_string(), "processor".to_string()])
        );
    }

    #[test]
    fn a_project_is_written_with_its_placeholders_filled() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("my-tagger");
        let files = new_project(&NewPlugin {
            name: "my-tagger".into(),
            kind: Kind::Processor,
            lang: "rust".into(),
            out: out.clone(),
            sdk_path: default_sdk_path(),
        })
        .unwrap();
        assert!(files.contains(&out.join("Cargo.toml")), "{files:?}");
        assert!(files.contains(&out.join("wit/processor.wit")), "{files:?}");
        let cargo = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("name = \"my_tagger\""), "{cargo}");
        assert!(!cargo.contains("{{"), "{cargo}");
        let sdk = std::fs::canonicalize(default_sdk_path()).unwrap();
        assert!(cargo.contains(&sdk.display().to_string()), "{cargo}");

        let again = new_project(&NewPlugin {
            name: "my-tagger".into(),
            kind: Kind::Processor,
            lang: "rust".into(),
            out,
            sdk_path: default_sdk_path(),
        });
        assert!(matches!(again, Err(DevkitError::NotEmpty(_))));
    }

    #[test]
    fn bad_names_and_missing_templates_are_refused() {
        let request = |name: &str, lang: &str| NewPlugin {
            name: name.into(),
            kind: Kind::Exporter,
            lang: lang.into(),
            out: PathBuf::from("/nonexistent/x"),
            sdk_path: default_sdk_path(),
        };
        assert!(matches!(
            new_project(&request("My Plugin", "rust")),
            Err(DevkitError::BadName(_))
        ));
        let err = new_project(&request("ok", "cobol"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("rust/processor"), "{err}");
    }
}
