//! Product events from a file: CSV (a header naming `id`, `org_id`, `user_id`, `name`,
//! `feature`, `at`; empty cells are absent values; `at` in RFC 3339) or NDJSON (one event as a
//! JSON object per line). Rows are read one at a time, so a front end can check a whole file
//! first (every bad row named by its line) and send nothing unless all of it is good.

use domain::analytics::{check_event, ProductEvent};
use domain::error::{Error, FieldError, Result};
use domain::Timestamp;
use std::io::{BufRead, BufReader, Read};

/// The columns of an events CSV.
pub const CSV_COLUMNS: [&str; 6] = ["id", "org_id", "user_id", "name", "feature", "at"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    Csv,
    Ndjson,
}

impl EventFormat {
    /// The format a file's name says (`.csv`, `.ndjson`, `.jsonl`).
    pub fn of_name(name: &str) -> Option<EventFormat> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(EventFormat::Csv)
        } else if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
            Some(EventFormat::Ndjson)
        } else {
            None
        }
    }
}

/// One row: its line in the file, and the event or what is wrong with it.
pub type Row = (u64, std::result::Result<ProductEvent, Vec<FieldError>>);

fn at_line(line: u64, field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("line {line}: {field}"), message)
}

/// An event read and checked as the portal will check it (`now` bounds its time).
fn checked(line: u64, value: serde_json::Value, now: Timestamp) -> Row {
    let event: ProductEvent = match serde_json::from_value(value) {
        Ok(e) => e,
        Err(e) => return (line, Err(vec![at_line(line, "event", e.to_string())])),
    };
    let errors: Vec<FieldError> = check_event(&event, now)
        .into_iter()
        .map(|f| at_line(line, &f.field, f.message))
        .collect();
    if errors.is_empty() {
        (line, Ok(event))
    } else {
        (line, Err(errors))
    }
}

/// The rows of a file, one at a time. A CSV without the columns it needs is refused at once.
pub fn rows<'a, R: Read + 'a>(
    input: R,
    format: EventFormat,
    now: Timestamp,
) -> Result<Box<dyn Iterator<Item = Row> + 'a>> {
    match format {
        EventFormat::Ndjson => {
            let lines = BufReader::new(input).lines();
            Ok(Box::new(lines.enumerate().filter_map(move |(i, l)| {
                let line = i as u64 + 1;
                match l {
                    Err(e) => Some((line, Err(vec![at_line(line, "line", e.to_string())]))),
                    Ok(l) if l.trim().is_empty() => None,
                    Ok(l) => Some(match serde_json::from_str::<serde_json::Value>(&l) {
                        Ok(v) if v.is_object() => checked(line, v, now),
                        Ok(_) => (
                            line,
                            Err(vec![at_line(line, "line", "is not a JSON object")]),
                        ),
                        Err(e) => (line, Err(vec![at_line(line, "line", e.to_string())])),
                    }),
                }
            })))
        }
        EventFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
            let headers: Vec<String> = reader
                .headers()
                .map_err(|e| Error::invalid("file", format!("cannot read the CSV header: {e}")))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            let unknown: Vec<&String> = headers
                .iter()
                .filter(|h| !CSV_COLUMNS.contains(&h.as_str()))
                .collect();
            let missing: Vec<&str> = ["id", "org_id", "name", "at"]
                .into_iter()
                .filter(|c| !headers.iter().any(|h| h == c))
                .collect();
            if !unknown.is_empty() || !missing.is_empty() {
                return Err(Error::invalid(
                    "file",
                    format!(
                        "the CSV header must name the columns {} (missing: {missing:?}, unknown: {unknown:?})",
                        CSV_COLUMNS.join(", ")
                    ),
                ));
            }
            Ok(Box::new(reader.into_records().map(move |r| match r {
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    (line, Err(vec![at_line(line, "row", e.to_string())]))
                }
                Ok(record) => {
                    let line = record.position().map_or(0, |p| p.line());
                    let object: serde_json::Map<String, serde_json::Value> = headers
                        .iter()
                        .zip(record.iter())
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(h, v)| (h.clone(), serde_json::Value::String(v.to_string())))
                        .collect();
                    checked(line, serde_json::Value::Object(object), now)
                }
            })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000)
    }

    #[test]
    fn a_csv_and_ndjson_read_the_same_events_and_name_bad_lines() {
        let csv = "id,org_id,user_id,name,feature,at\n\
            00000000-0000-0000-0000-000000000001,00000000-0000-0000-0000-0000000000a1,ann,feature_used,export,2026-11-01T10:00:00Z\n\
            00000000-0000-0000-0000-000000000002,00000000-0000-0000-0000-0000000000a1,,visit,,2026-11-01T11:00:00Z\n\
            not-a-uuid,00000000-0000-0000-0000-0000000000a1,bob,active,,2026-11-01T11:00:00Z\n\
            00000000-0000-0000-0000-000000000004,00000000-0000-0000-0000-0000000000a1,,active,,2026-11-01T11:00:00Z\n";
        let read: Vec<Row> = rows(csv.as_bytes(), EventFormat::Csv, now())
            .unwrap()
            .collect();
        assert_eq!(read.len(), 4);
        let good: Vec<&ProductEvent> = read.iter().filter_map(|r| r.1.as_ref().ok()).collect();
        assert_eq!(good.len(), 2);
        assert_eq!(good[0].feature.as_deref(), Some("export"));
        assert_eq!(good[1].user_id, None);
        let bad: Vec<(u64, String)> = read
            .iter()
            .filter_map(|(l, r)| r.as_ref().err().map(|e| (*l, e[0].field.clone())))
            .collect();
        assert_eq!(
            bad,
            [(4, "line 4: event".into()), (5, "line 5: user_id".into())]
        );

        let ndjson = format!(
            "{}\n\n{}\n[1]\n",
            serde_json::to_string(good[0]).unwrap(),
            serde_json::to_string(good[1]).unwrap()
        );
        let again: Vec<Row> = rows(ndjson.as_bytes(), EventFormat::Ndjson, now())
            .unwrap()
            .collect();
        assert_eq!(again.len(), 3, "the blank line is skipped");
        assert_eq!(again[0].1.as_ref().unwrap(), good[0]);
        assert_eq!(again[1].0, 3);
        assert!(again[2].1.is_err());
    }

    #[test]
    fn a_csv_without_its_columns_is_refused_whole() {
        let csv = "id,org,name,at\n";
        assert!(matches!(
            rows(csv.as_bytes(), EventFormat::Csv, now()).map(|_| ()),
            Err(Error::Invalid(_))
        ));
        assert_eq!(EventFormat::of_name("a.JSONL"), Some(EventFormat::Ndjson));
        assert_eq!(EventFormat::of_name("a.txt"), None);
    }
}
