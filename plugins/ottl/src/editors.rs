//! The editors: what a statement does to its item.

use crate::context::Item;
use crate::error::RunError;
use crate::eval::get;
use crate::paths::{self, ResolvedPath};
use crate::program::{Editor, MergeStrategy};
use crate::value::Value;
use regex::Regex;
use weir_plugin_sdk::otlp::KeyValue;
use weir_plugin_sdk::otlp::any_value::Value as V;

/// Applies `editor` to `item`.
pub fn apply(editor: &Editor, item: &mut Item<'_>) -> Result<(), RunError> {
    match editor {
        Editor::Set(path, value) => {
            let value = get(value, item)?;
            paths::set(item, path, value);
        }
        Editor::DeleteKey(path, key) => edit_map(item, path, |m| m.retain(|kv| kv.key != *key)),
        Editor::DeleteMatchingKeys(path, re) => {
            edit_map(item, path, |m| m.retain(|kv| !re.is_match(&kv.key)))
        }
        Editor::KeepKeys(path, keys) => {
            edit_map(item, path, |m| m.retain(|kv| keys.contains(&kv.key)))
        }
        Editor::KeepMatchingKeys(path, re) => {
            edit_map(item, path, |m| m.retain(|kv| re.is_match(&kv.key)))
        }
        Editor::Limit(path, limit, priority) => {
            edit_map(item, path, |m| limit_map(m, *limit, priority))
        }
        Editor::TruncateAll(path, limit) => edit_map(item, path, |m| {
            for kv in m.iter_mut() {
                if let Some(V::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut()) {
                    truncate(s, *limit);
                }
            }
        }),
        Editor::ReplacePattern(path, re, replacement) => {
            let replacement = replacement_text(replacement, item)?;
            if let Value::Str(s) = paths::get(item, path) {
                let replaced = re.replace_all(&s, replacement.as_str());
                if replaced != s {
                    paths::set(item, path, Value::Str(replaced.into_owned()));
                }
            }
        }
        Editor::ReplaceAllPatterns(path, keys, re, replacement) => {
            let replacement = replacement_text(replacement, item)?;
            edit_map(item, path, |m| replace_all(m, *keys, re, &replacement));
        }
        Editor::ReplaceMatch(path, glob, replacement) => {
            let replacement = replacement_text(replacement, item)?;
            if let Value::Str(s) = paths::get(item, path)
                && glob.is_match(&s)
            {
                paths::set(item, path, Value::Str(replacement));
            }
        }
        Editor::ReplaceAllMatches(path, glob, replacement) => {
            let replacement = replacement_text(replacement, item)?;
            edit_map(item, path, |m| {
                for kv in m.iter_mut() {
                    if let Some(V::StringValue(s)) =
                        kv.value.as_mut().and_then(|v| v.value.as_mut())
                        && glob.is_match(s)
                    {
                        *s = replacement.clone();
                    }
                }
            });
        }
        Editor::MergeMaps(path, source, strategy) => {
            let Value::Map(source) = get(source, item)? else {
                return Ok(());
            };
            edit_map(item, path, |m| merge(m, source, *strategy));
        }
    }
    Ok(())
}

fn edit_map(item: &mut Item<'_>, path: &ResolvedPath, edit: impl FnOnce(&mut Vec<KeyValue>)) {
    if let Some(map) = paths::map_mut(item, path) {
        edit(map);
    }
}

fn replacement_text(getter: &crate::program::Getter, item: &Item<'_>) -> Result<String, RunError> {
    match get(getter, item)? {
        Value::Str(s) => Ok(s),
        other => Err(RunError(format!(
            "replacement: expected string but got {}",
            other.type_name()
        ))),
    }
}

/// Keeps the priority keys, then the others in order, up to `limit`.
fn limit_map(map: &mut Vec<KeyValue>, limit: usize, priority: &[String]) {
    if map.len() <= limit {
        return;
    }
    let mut room = limit
        - map
            .iter()
            .filter(|kv| priority.contains(&kv.key))
            .count()
            .min(limit);
    map.retain(|kv| {
        if priority.contains(&kv.key) {
            return true;
        }
        if room > 0 {
            room -= 1;
            return true;
        }
        false
    });
}

/// Cuts `s` to at most `limit` bytes, on a character boundary.
fn truncate(s: &mut String, limit: usize) {
    if s.len() <= limit {
        return;
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

fn replace_all(map: &mut [KeyValue], keys: bool, re: &Regex, replacement: &str) {
    for kv in map.iter_mut() {
        if keys {
            if re.is_match(&kv.key) {
                kv.key = re.replace_all(&kv.key, replacement).into_owned();
            }
        } else if let Some(V::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut())
            && re.is_match(s)
        {
            *s = re.replace_all(s, replacement).into_owned();
        }
    }
}

fn merge(target: &mut Vec<KeyValue>, source: Vec<KeyValue>, strategy: MergeStrategy) {
    for kv in source {
        match target.iter_mut().find(|t| t.key == kv.key) {
            Some(existing) => {
                if strategy != MergeStrategy::Insert {
                    existing.value = kv.value;
                }
            }
            None => {
                if strategy != MergeStrategy::Update {
                    target.push(kv);
                }
            }
        }
    }
}
