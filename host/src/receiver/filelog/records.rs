//! Cutting the bytes read from a file into records: one per line, or per
//! multiline group when a start or end pattern says where records begin or
//! end. What is not yet a whole record stays unconsumed, to be read again
//! with what follows it (or sent as it is once it has waited long enough).

use regex::Regex;

/// How lines make records.
#[derive(Debug, Clone)]
pub enum Splitter {
    /// Each line is a record.
    Lines,
    /// A record starts at a line matching the pattern.
    StartPattern(Regex),
    /// A record ends at a line matching the pattern.
    EndPattern(Regex),
}

/// Records found in a buffer: their bodies and how many bytes they used.
#[derive(Debug, Default, PartialEq)]
pub struct Split {
    pub records: Vec<String>,
    pub consumed: usize,
}

impl Splitter {
    /// Splits `buf`. With `flush`, what remains after the last whole record
    /// (an unfinished line or group) is a record too.
    pub fn split(&self, buf: &[u8], flush: bool) -> Split {
        // Whole lines, each with its end offset in `buf`.
        let mut lines: Vec<(&[u8], usize)> = Vec::new();
        let mut start = 0;
        while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + nl + 1;
            lines.push((trim_newline(&buf[start..end]), end));
            start = end;
        }
        let complete_lines_end = start;
        let mut out = Split::default();
        match self {
            Splitter::Lines => {
                for (line, end) in &lines {
                    out.records.push(text(line));
                    out.consumed = *end;
                }
            }
            Splitter::StartPattern(re) => {
                // A group closes when the next start line appears.
                let mut group: Option<(usize, usize)> = None; // (first line, last line)
                for (i, (line, _)) in lines.iter().enumerate() {
                    let starts = re.is_match(&String::from_utf8_lossy(line));
                    match group {
                        Some((first, last)) if starts => {
                            out.records.push(join(&lines[first..=last]));
                            out.consumed = lines[last].1;
                            group = Some((i, i));
                        }
                        Some((first, _)) => group = Some((first, i)),
                        None => group = Some((i, i)),
                    }
                }
                if flush && let Some((first, last)) = group {
                    out.records.push(join(&lines[first..=last]));
                    out.consumed = lines[last].1;
                }
            }
            Splitter::EndPattern(re) => {
                let mut first = 0;
                for (i, (line, end)) in lines.iter().enumerate() {
                    if re.is_match(&String::from_utf8_lossy(line)) {
                        out.records.push(join(&lines[first..=i]));
                        out.consumed = *end;
                        first = i + 1;
                    }
                }
                if flush && first < lines.len() {
                    out.records.push(join(&lines[first..]));
                    out.consumed = complete_lines_end;
                }
            }
        }
        // An unfinished last line, sent as it is when flushing.
        if flush && complete_lines_end < buf.len() && out.consumed == complete_lines_end {
            out.records.push(text(&buf[complete_lines_end..]));
            out.consumed = buf.len();
        }
        out
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn join(lines: &[(&[u8], usize)]) -> String {
    lines
        .iter()
        .map(|(line, _)| text(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &Splitter, buf: &str, flush: bool) -> (Vec<String>, usize) {
        let out = s.split(buf.as_bytes(), flush);
        (out.records, out.consumed)
    }

    #[test]
    fn lines_leave_an_unfinished_line_until_flushed() {
        let s = Splitter::Lines;
        assert_eq!(
            split(&s, "a\r\nb\nc", false),
            (vec!["a".into(), "b".into()], 5)
        );
        assert_eq!(
            split(&s, "a\nb\nc", true),
            (vec!["a".into(), "b".into(), "c".into()], 5)
        );
        assert_eq!(split(&s, "", true), (vec![], 0));
    }

    #[test]
    fn start_pattern_groups_until_the_next_start() {
        let s = Splitter::StartPattern(Regex::new(r"^\d{4}-").unwrap());
        let buf = "2026-01-01 boom\n  at a\n  at b\n2026-01-02 ok\n  more\n";
        let (records, consumed) = split(&s, buf, false);
        assert_eq!(records, vec!["2026-01-01 boom\n  at a\n  at b".to_string()]);
        assert_eq!(&buf[consumed..], "2026-01-02 ok\n  more\n");
        let (records, consumed) = split(&s, &buf[consumed..], true);
        assert_eq!(records, vec!["2026-01-02 ok\n  more".to_string()]);
        assert_eq!(consumed, "2026-01-02 ok\n  more\n".len());
    }

    #[test]
    fn end_pattern_closes_a_group() {
        let s = Splitter::EndPattern(Regex::new(r";$").unwrap());
        let (records, consumed) = split(&s, "select\n  1;\nselect\n", false);
        assert_eq!(records, vec!["select\n  1;".to_string()]);
        assert_eq!(consumed, 12);
    }
}
