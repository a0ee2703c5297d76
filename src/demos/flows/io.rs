//! The flows demo's files: points as CSV `x,y` with a header (read with errors that name the
//! line and column, through the shared `csv_table`).

use std::path::Path;

use super::sim::Point;
use crate::csv_table::{read_numeric_csv, write_csv};

/// Points from a CSV with columns `x` and `y` (others ignored); at least two points.
pub fn read_points(path: &Path) -> anyhow::Result<Vec<Point>> {
    let table = read_numeric_csv(path, &["x", "y"])?;
    let (x, y) = (
        table.column("x").unwrap_or_default(),
        table.column("y").unwrap_or_default(),
    );
    anyhow::ensure!(
        x.len() >= 2,
        "{}: {} point(s); a density needs at least two",
        path.display(),
        x.len()
    );
    Ok(x.into_iter().zip(y).map(|(a, b)| [a, b]).collect())
}

/// Points as CSV `x,y`, atomically.
pub fn write_points(path: &Path, points: &[Point]) -> anyhow::Result<()> {
    let rows: Vec<Vec<f64>> = points.iter().map(|p| p.to_vec()).collect();
    write_csv(path, &["x", "y"], &rows)
}

/// Each point's log p as CSV `x,y,log_p,exact` (`exact` 1 where log_p is exact, 0 for a
/// bound), atomically.
pub fn write_densities(
    path: &Path,
    points: &[Point],
    log_p: &[f64],
    exact: bool,
) -> anyhow::Result<()> {
    let flag = if exact { 1.0 } else { 0.0 };
    let rows: Vec<Vec<f64>> = points
        .iter()
        .zip(log_p)
        .map(|(p, &l)| vec![p[0], p[1], l, flag])
        .collect();
    write_csv(path, &["x", "y", "log_p", "exact"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_and_bad_files_name_line_and_column() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("pts.csv");
        let points = vec![[0.5, -1.25], [3.0, 2.0], [-0.125, 0.0]];
        write_points(&path, &points).expect("written");
        assert_eq!(read_points(&path).expect("read"), points);
        for (text, says) in [
            ("x,y\n1,2\n", "at least two"),
            ("x,z\n1,2\n3,4\n", "missing column `y`"),
            ("x,y\n1,2\n3,oops\n", "line 3"),
            ("x,y\n1,2\nNaN,4\n", "not a finite number"),
            ("", "empty"),
        ] {
            std::fs::write(&path, text).expect("write");
            let e = read_points(&path).expect_err(text).to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }
}
