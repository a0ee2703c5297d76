//! Numeric CSV files with a header: read with errors that name the file, line and column at
//! fault; written atomically.

use std::fmt::Write as _;
use std::path::Path;

use crate::files::write_atomic;

/// A CSV of numbers: named columns, rows of finite values, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct NumericTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl NumericTable {
    /// The index of a column, by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// One column's values.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.column_index(name)?;
        Some(self.rows.iter().map(|r| r[i]).collect())
    }
}

/// Why a CSV was refused; the message says where.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CsvError {
    #[error("{file}: cannot read: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: the file is empty (a header line is needed: {expected})")]
    Empty { file: String, expected: String },
    #[error("{file}, line 1: missing column `{column}` (the header has: {found})")]
    MissingColumn {
        file: String,
        column: String,
        found: String,
    },
    #[error("{file}, line {line}: {found} fields, but the header has {expected}")]
    Ragged {
        file: String,
        line: u64,
        found: usize,
        expected: usize,
    },
    #[error("{file}, line {line}, column `{column}`: `{text}` is not a number")]
    NotANumber {
        file: String,
        line: u64,
        column: String,
        text: String,
    },
    #[error("{file}, line {line}, column `{column}`: {value} is not a finite number")]
    NotFinite {
        file: String,
        line: u64,
        column: String,
        value: String,
    },
    #[error("{file}: no data rows after the header")]
    NoRows { file: String },
}

/// Reads a numeric CSV that must have (at least) the `required` columns.
pub fn read_numeric_csv(path: &Path, required: &[&str]) -> Result<NumericTable, CsvError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CsvError::Unreadable {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    parse_numeric_csv(&text, &file, required)
}

/// As [`read_numeric_csv`], from text; `file` names it in errors.
pub fn parse_numeric_csv(
    text: &str,
    file: &str,
    required: &[&str],
) -> Result<NumericTable, CsvError> {
    let file = file.to_owned();
    if text.trim().is_empty() {
        return Err(CsvError::Empty {
            file,
            expected: required.join(","),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| CsvError::Unreadable {
            file: file.clone(),
            reason: e.to_string(),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    for column in required {
        if !headers.iter().any(|h| h == column) {
            return Err(CsvError::MissingColumn {
                file,
                column: (*column).to_owned(),
                found: headers.join(","),
            });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CsvError::Unreadable {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != headers.len() {
            // A trailing blank line parses as one empty field: skip it.
            if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
                continue;
            }
            return Err(CsvError::Ragged {
                file,
                line,
                found: record.len(),
                expected: headers.len(),
            });
        }
        let mut row = Vec::with_capacity(headers.len());
        for (field, column) in record.iter().zip(&headers) {
            let value: f64 = field.parse().map_err(|_| CsvError::NotANumber {
                file: file.clone(),
                line,
                column: column.clone(),
                text: field.to_owned(),
            })?;
            if !value.is_finite() {
                return Err(CsvError::NotFinite {
                    file,
                    line,
                    column: column.clone(),
                    value: field.to_owned(),
                });
            }
            row.push(value);
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(CsvError::NoRows { file });
    }
    Ok(NumericTable { headers, rows })
}

/// CSV text of a table; numbers with Rust's shortest exact representation.
pub fn to_csv_text(headers: &[&str], rows: &[Vec<f64>]) -> String {
    let mut out = headers.join(",");
    out.push('\n');
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{v}");
        }
        out.push('\n');
    }
    out
}

/// Writes a table atomically.
pub fn write_csv(path: &Path, headers: &[&str], rows: &[Vec<f64>]) -> anyhow::Result<()> {
    write_atomic(path, to_csv_text(headers, rows).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: [&str; 4] = ["t", "y1", "y2", "y3"];

    fn parse(text: &str) -> Result<NumericTable, CsvError> {
        parse_numeric_csv(text, "obs.csv", &COLS)
    }

    #[test]
    fn reads_a_good_file_in_any_column_order() {
        let t = parse("y1,t,y2,y3\n1,0,2,3\n4,0.05,5,6\n\n").expect("good file");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.column("t"), Some(vec![0.0, 0.05]));
        assert_eq!(t.column("y3"), Some(vec![3.0, 6.0]));
    }

    #[test]
    fn each_kind_of_bad_file_names_where() {
        assert!(matches!(parse(""), Err(CsvError::Empty { .. })));
        let e = parse("t,y1,y2\n0,1,2\n").expect_err("missing column");
        assert_eq!(
            e.to_string(),
            "obs.csv, line 1: missing column `y3` (the header has: t,y1,y2)"
        );
        let e = parse("t,y1,y2,y3\n0,1,2,3\n0.05,1,2\n").expect_err("ragged");
        assert_eq!(
            e.to_string(),
            "obs.csv, line 3: 3 fields, but the header has 4"
        );
        let e = parse("t,y1,y2,y3\n0,1,abc,3\n").expect_err("text");
        assert_eq!(
            e.to_string(),
            "obs.csv, line 2, column `y2`: `abc` is not a number"
        );
        let e = parse("t,y1,y2,y3\n0,1,2,NaN\n").expect_err("nan");
        assert_eq!(
            e.to_string(),
            "obs.csv, line 2, column `y3`: NaN is not a finite number"
        );
        assert!(matches!(
            parse("t,y1,y2,y3\n"),
            Err(CsvError::NoRows { .. })
        ));
    }

    #[test]
    fn write_then_read_round_trips_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.csv");
        let rows = vec![vec![0.0, 0.1 + 0.2, -1e-300, 12345.678]];
        write_csv(&path, &COLS, &rows).expect("write");
        let t = read_numeric_csv(&path, &COLS).expect("read");
        assert_eq!(t.rows, rows);
    }
}
