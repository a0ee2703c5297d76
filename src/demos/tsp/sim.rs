//! The forward model: cities and the length of a tour through them. Random instances (cities
//! uniform in the unit square, exact Euclidean lengths) and TSPLIB95 instances (`.tsp` in with
//! EUC_2D, CEIL_2D, ATT, GEO or an explicit matrix, each with TSPLIB's own rounding; `.tour`
//! out). Every method reads distances from one dense matrix.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// How an instance's distances are computed (TSPLIB's EDGE_WEIGHT_TYPE, or exact Euclidean for
/// generated instances).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Metric {
    /// Unrounded Euclidean distance (random instances).
    Euclidean,
    /// TSPLIB EUC_2D: nint of the Euclidean distance.
    Euc2d,
    /// TSPLIB CEIL_2D: the Euclidean distance rounded up.
    Ceil2d,
    /// TSPLIB ATT: pseudo-Euclidean.
    Att,
    /// TSPLIB GEO: geographical distance, coordinates DDD.MM.
    Geo,
    /// TSPLIB EXPLICIT: a given matrix.
    Explicit,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Euclidean => "EUCLIDEAN",
            Metric::Euc2d => "EUC_2D",
            Metric::Ceil2d => "CEIL_2D",
            Metric::Att => "ATT",
            Metric::Geo => "GEO",
            Metric::Explicit => "EXPLICIT",
        }
    }
}

/// A TSP instance: its cities (for drawing and the model) and its distance matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub name: String,
    /// Coordinates as given (for EXPLICIT without display data: a circle, for drawing only).
    pub coords: Vec<[f64; 2]>,
    pub metric: Metric,
    /// Row-major n × n.
    dist: Vec<f64>,
}

/// The most cities an instance may have: its n × n distance matrix is held whole (800 MB).
pub const MAX_CITIES: usize = 10_000;

/// TSPLIB's nint.
fn nint(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// TSPLIB's GEO coordinate (DDD.MM) in radians.
fn geo_radians(x: f64) -> f64 {
    // TSPLIB's own truncated π: GEO distances follow its rule, not the true value.
    #[allow(clippy::approx_constant)]
    const PI: f64 = 3.141592;
    let degrees = x.trunc();
    let minutes = x - degrees;
    PI * (degrees + 5.0 * minutes / 3.0) / 180.0
}

fn pair_distance(metric: Metric, a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    match metric {
        Metric::Euclidean | Metric::Explicit => (dx * dx + dy * dy).sqrt(),
        Metric::Euc2d => nint((dx * dx + dy * dy).sqrt()),
        Metric::Ceil2d => (dx * dx + dy * dy).sqrt().ceil(),
        Metric::Att => {
            let r = ((dx * dx + dy * dy) / 10.0).sqrt();
            let t = nint(r);
            if t < r { t + 1.0 } else { t }
        }
        Metric::Geo => {
            const RRR: f64 = 6378.388;
            let (lat_a, lon_a) = (geo_radians(a[0]), geo_radians(a[1]));
            let (lat_b, lon_b) = (geo_radians(b[0]), geo_radians(b[1]));
            let q1 = (lon_a - lon_b).cos();
            let q2 = (lat_a - lat_b).cos();
            let q3 = (lat_a + lat_b).cos();
            (RRR * (0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)).acos() + 1.0).trunc()
        }
    }
}

impl Instance {
    /// Cities with distances by `metric` (not EXPLICIT).
    pub fn from_coords(name: &str, coords: Vec<[f64; 2]>, metric: Metric) -> Self {
        let n = coords.len();
        let mut dist = vec![0.0; n * n];
        for i in 0..n {
            for j in (i + 1)..n {
                let d = pair_distance(metric, coords[i], coords[j]);
                dist[i * n + j] = d;
                dist[j * n + i] = d;
            }
        }
        Self {
            name: name.to_owned(),
            coords,
            metric,
            dist,
        }
    }

    /// `n` cities uniform in the unit square, seeded.
    pub fn random(n: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let coords = (0..n)
            .map(|_| [rng.random::<f64>(), rng.random::<f64>()])
            .collect();
        Self::from_coords(&format!("random{n}-{seed}"), coords, Metric::Euclidean)
    }

    pub fn len(&self) -> usize {
        self.coords.len()
    }

    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    pub fn dist(&self, a: usize, b: usize) -> f64 {
        self.dist[a * self.len() + b]
    }

    /// The closed tour's length, in the instance's own units.
    pub fn tour_length(&self, tour: &[usize]) -> f64 {
        let n = tour.len();
        (0..n).map(|i| self.dist(tour[i], tour[(i + 1) % n])).sum()
    }

    /// The coordinates scaled into the unit square with the aspect ratio kept (what the model
    /// reads).
    pub fn normalized_coords(&self) -> Vec<[f32; 2]> {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for c in &self.coords {
            for k in 0..2 {
                lo[k] = lo[k].min(c[k]);
                hi[k] = hi[k].max(c[k]);
            }
        }
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]);
        let scale = if span > 0.0 { 1.0 / span } else { 1.0 };
        self.coords
            .iter()
            .map(|c| {
                [
                    ((c[0] - lo[0]) * scale) as f32,
                    ((c[1] - lo[1]) * scale) as f32,
                ]
            })
            .collect()
    }

    /// The instance with city `index` moved to `to` (for dragging in the panel).
    pub fn with_city_at(&self, index: usize, to: [f64; 2]) -> Self {
        let mut coords = self.coords.clone();
        coords[index] = to;
        Self::from_coords(&self.name, coords, self.metric)
    }

    /// The instance with one more city (for clicking in the panel).
    pub fn with_city_added(&self, at: [f64; 2]) -> Self {
        let mut coords = self.coords.clone();
        coords.push(at);
        Self::from_coords(&self.name, coords, self.metric)
    }
}

/// Whether `tour` visits each of n cities exactly once.
pub fn is_permutation(tour: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    tour.len() == n
        && tour
            .iter()
            .all(|&c| c < n && !std::mem::replace(&mut seen[c], true))
}

/// Parses a TSPLIB95 `.tsp`; errors name `origin` and the line.
pub fn parse_tsp(text: &str, origin: &str) -> anyhow::Result<Instance> {
    let mut name = Path::new(origin).file_stem().map_or_else(
        || "instance".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut dimension: Option<usize> = None;
    let mut metric: Option<Metric> = None;
    let mut format: Option<String> = None;
    let mut coords: Vec<Option<[f64; 2]>> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    let mut display: Vec<Option<[f64; 2]>> = Vec::new();
    #[derive(PartialEq)]
    enum Section {
        Header,
        Coords,
        Weights,
        Display,
        Ignored,
    }
    let mut section = Section::Header;
    let number = |token: &str, line: usize, what: &str| -> anyhow::Result<f64> {
        let value: f64 = token.parse().map_err(|_| {
            anyhow::anyhow!("{origin}: line {line}: {what} {token:?} is not a number")
        })?;
        if !value.is_finite() {
            bail!("{origin}: line {line}: {what} {token:?} is not finite");
        }
        Ok(value)
    };
    let need_dimension = |dimension: Option<usize>, line: usize| -> anyhow::Result<usize> {
        dimension.ok_or_else(|| {
            anyhow::anyhow!("{origin}: line {line}: a data section before DIMENSION")
        })
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed == "EOF" {
            break;
        }
        let keyword = trimmed
            .split(|c: char| c == ':' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let is_keyword = keyword
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        if is_keyword {
            let value = trimmed
                .split_once(':')
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default();
            section = Section::Header;
            match keyword {
                "NAME" => name = value,
                "TYPE" if !value.starts_with("TSP") => {
                    bail!("{origin}: line {line}: TYPE {value} is not supported (only TSP)");
                }
                "DIMENSION" => {
                    let d: usize = value.parse().map_err(|_| {
                        anyhow::anyhow!("{origin}: line {line}: DIMENSION {value:?} is not a count")
                    })?;
                    if !(3..=MAX_CITIES).contains(&d) {
                        bail!(
                            "{origin}: line {line}: DIMENSION {d} is out of range (3–{MAX_CITIES}: \
                             the distance matrix is held whole)"
                        );
                    }
                    dimension = Some(d);
                }
                "EDGE_WEIGHT_TYPE" => {
                    metric = Some(match value.as_str() {
                        "EUC_2D" => Metric::Euc2d,
                        "CEIL_2D" => Metric::Ceil2d,
                        "ATT" => Metric::Att,
                        "GEO" => Metric::Geo,
                        "EXPLICIT" => Metric::Explicit,
                        other => bail!(
                            "{origin}: line {line}: EDGE_WEIGHT_TYPE {other} is not supported \
                             (EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT)"
                        ),
                    })
                }
                "EDGE_WEIGHT_FORMAT" => format = Some(value),
                "NODE_COORD_SECTION" => {
                    let d = need_dimension(dimension, line)?;
                    coords = vec![None; d];
                    section = Section::Coords;
                }
                "EDGE_WEIGHT_SECTION" => {
                    need_dimension(dimension, line)?;
                    section = Section::Weights;
                }
                "DISPLAY_DATA_SECTION" => {
                    display = vec![None; need_dimension(dimension, line)?];
                    section = Section::Display;
                }
                "NODE_COORD_TYPE" | "COMMENT" | "DISPLAY_DATA_TYPE" | "CAPACITY" => {}
                _ if keyword.ends_with("_SECTION") => section = Section::Ignored,
                _ => {}
            }
            continue;
        }
        let tokens: Vec<&str> = trimmed.split_whitespace().collect();
        match section {
            Section::Coords | Section::Display => {
                let table = if section == Section::Coords {
                    &mut coords
                } else {
                    &mut display
                };
                if tokens.len() < 3 {
                    bail!("{origin}: line {line}: a node needs an id and two coordinates");
                }
                let id = number(tokens[0], line, "node id")?;
                let d = table.len();
                if id.fract() != 0.0 || id < 1.0 || id > d as f64 {
                    bail!(
                        "{origin}: line {line}: node id {} is not in 1..={d}",
                        tokens[0]
                    );
                }
                let slot = &mut table[id as usize - 1];
                if slot.is_some() {
                    bail!("{origin}: line {line}: node {} appears twice", tokens[0]);
                }
                *slot = Some([number(tokens[1], line, "x")?, number(tokens[2], line, "y")?]);
            }
            Section::Weights => {
                for t in tokens {
                    weights.push(number(t, line, "edge weight")?);
                }
            }
            Section::Header => {
                bail!("{origin}: line {line}: {trimmed:?} is neither a keyword nor in a section")
            }
            Section::Ignored => {}
        }
    }
    let Some(n) = dimension else {
        bail!("{origin}: no DIMENSION");
    };
    let metric = metric.unwrap_or(Metric::Euc2d);
    if metric == Metric::Explicit {
        let dist = explicit_matrix(&weights, n, format.as_deref(), origin)?;
        let coords = if display.iter().all(Option::is_some) && !display.is_empty() {
            display.into_iter().flatten().collect()
        } else {
            (0..n)
                .map(|i| {
                    let a = std::f64::consts::TAU * i as f64 / n as f64;
                    [a.cos(), a.sin()]
                })
                .collect()
        };
        return Ok(Instance {
            name,
            coords,
            metric,
            dist,
        });
    }
    if coords.is_empty() {
        bail!("{origin}: no NODE_COORD_SECTION");
    }
    let missing = coords.iter().filter(|c| c.is_none()).count();
    if missing > 0 {
        bail!(
            "{origin}: {} of DIMENSION {n} nodes have coordinates ({missing} missing)",
            n - missing
        );
    }
    Ok(Instance::from_coords(
        &name,
        coords.into_iter().flatten().collect(),
        metric,
    ))
}

/// An EXPLICIT matrix in one of TSPLIB's symmetric formats.
fn explicit_matrix(
    weights: &[f64],
    n: usize,
    format: Option<&str>,
    origin: &str,
) -> anyhow::Result<Vec<f64>> {
    let format = format.unwrap_or("FULL_MATRIX");
    // Which (i, j) each listed weight is, in order.
    let cells: Vec<(usize, usize)> = match format {
        "FULL_MATRIX" => (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).collect(),
        "UPPER_ROW" => (0..n)
            .flat_map(|i| ((i + 1)..n).map(move |j| (i, j)))
            .collect(),
        "LOWER_ROW" => (0..n).flat_map(|i| (0..i).map(move |j| (i, j))).collect(),
        "UPPER_DIAG_ROW" => (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect(),
        "LOWER_DIAG_ROW" => (0..n).flat_map(|i| (0..=i).map(move |j| (i, j))).collect(),
        other => bail!("{origin}: EDGE_WEIGHT_FORMAT {other} is not supported"),
    };
    if weights.len() != cells.len() {
        bail!(
            "{origin}: EDGE_WEIGHT_SECTION has {} weights; {format} of DIMENSION {n} needs {}",
            weights.len(),
            cells.len()
        );
    }
    let mut dist = vec![0.0; n * n];
    for (&(i, j), &w) in cells.iter().zip(weights) {
        dist[i * n + j] = w;
        if format != "FULL_MATRIX" {
            dist[j * n + i] = w;
        }
    }
    Ok(dist)
}

pub fn read_tsp(path: &Path) -> anyhow::Result<Instance> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_tsp(&text, &path.display().to_string())
}

/// The instance as a TSPLIB `.tsp` (coordinates; EXPLICIT as a full matrix).
pub fn tsp_text(instance: &Instance) -> String {
    let n = instance.len();
    let mut text = format!(
        "NAME : {}\nTYPE : TSP\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : {}\n",
        instance.name,
        match instance.metric {
            // Generated instances keep their exact coordinates; TSPLIB has no unrounded type.
            Metric::Euclidean => "EUC_2D",
            m => m.name(),
        }
    );
    if instance.metric == Metric::Explicit {
        text += "EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n";
        for i in 0..n {
            let row: Vec<String> = (0..n).map(|j| format!("{}", instance.dist(i, j))).collect();
            text += &row.join(" ");
            text += "\n";
        }
    } else {
        text += "NODE_COORD_SECTION\n";
        for (i, c) in instance.coords.iter().enumerate() {
            let _ = writeln!(text, "{} {} {}", i + 1, c[0], c[1]);
        }
    }
    text + "EOF\n"
}

/// A TSPLIB `.tour`: 1-based ids, each once, then -1.
pub fn tour_text(instance: &Instance, tour: &[usize], comment: &str) -> String {
    let mut text = format!(
        "NAME : {}.tour\nCOMMENT : {comment}\nTYPE : TOUR\nDIMENSION : {}\nTOUR_SECTION\n",
        instance.name,
        tour.len()
    );
    for &c in tour {
        let _ = writeln!(text, "{}", c + 1);
    }
    text + "-1\nEOF\n"
}

/// Reads a `.tour` of an n-city instance back (0-based).
pub fn parse_tour(text: &str, n: usize, origin: &str) -> anyhow::Result<Vec<usize>> {
    let mut tour = Vec::new();
    let mut inside = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with("TOUR_SECTION") {
            inside = true;
            continue;
        }
        if !inside || trimmed.is_empty() {
            continue;
        }
        for token in trimmed.split_whitespace() {
            let id: i64 = token.parse().map_err(|_| {
                anyhow::anyhow!("{origin}: line {line}: {token:?} is not a city id")
            })?;
            if id == -1 {
                if !is_permutation(&tour, n) {
                    bail!("{origin}: the tour does not visit each of the {n} cities once");
                }
                return Ok(tour);
            }
            if id < 1 || id as usize > n {
                bail!("{origin}: line {line}: city {id} is not in 1..={n}");
            }
            tour.push(id as usize - 1);
        }
    }
    bail!("{origin}: no TOUR_SECTION ending in -1")
}

/// A shipped TSPLIB instance by name, with its proven optimum.
pub fn shipped(name: &str) -> Option<(Instance, f64)> {
    let (text, optimum) = match name {
        "eil51" => (include_str!("../../../assets/tsp/eil51.tsp"), 426.0),
        "berlin52" => (include_str!("../../../assets/tsp/berlin52.tsp"), 7542.0),
        "kroA100" => (include_str!("../../../assets/tsp/kroA100.tsp"), 21282.0),
        _ => return None,
    };
    parse_tsp(text, &format!("{name}.tsp"))
        .ok()
        .map(|i| (i, optimum))
}

pub const SHIPPED: [&str; 3] = ["eil51", "berlin52", "kroA100"];

/// `--instance`: a file, or a shipped instance's name.
pub fn load(path: &Path) -> anyhow::Result<Instance> {
    if !path.exists()
        && let Some((instance, _)) = path.to_str().and_then(shipped)
    {
        return Ok(instance);
    }
    read_tsp(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsplib_rounding_rules() {
        let a = [0.0, 0.0];
        assert_eq!(pair_distance(Metric::Euc2d, a, [3.0, 4.4]), 5.0); // 5.38 → 5
        assert_eq!(pair_distance(Metric::Euc2d, a, [3.0, 4.6]), 5.0); // 5.49 → 5
        assert_eq!(pair_distance(Metric::Euc2d, a, [3.5, 4.6]), 6.0); // 5.78 → 6
        assert_eq!(pair_distance(Metric::Ceil2d, a, [3.0, 4.1]), 6.0);
        assert_eq!(pair_distance(Metric::Ceil2d, a, [3.0, 4.0]), 5.0);
        // ATT: r = sqrt(100/10) = 3.162…, nint 3 < r → 4.
        assert_eq!(pair_distance(Metric::Att, a, [6.0, 8.0]), 4.0);
        // GEO: one degree of latitude on TSPLIB's sphere, 6378.388 · π/180 ≈ 111.3 → 112.
        assert_eq!(pair_distance(Metric::Geo, [10.0, 0.0], [11.0, 0.0]), 112.0);
        let square = Instance::from_coords(
            "sq",
            vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
            Metric::Euclidean,
        );
        assert!((square.tour_length(&[0, 1, 2, 3]) - 4.0).abs() < 1e-12);
        assert!((square.tour_length(&[0, 2, 1, 3]) - (2.0 + 2.0 * 2f64.sqrt())).abs() < 1e-12);
    }

    #[test]
    fn shipped_instances_parse_and_round_trip() {
        for name in SHIPPED {
            let (instance, optimum) = shipped(name).expect(name);
            assert!(optimum > 0.0);
            assert_eq!(instance.metric, Metric::Euc2d);
            let again = parse_tsp(&tsp_text(&instance), "again.tsp").expect("round trip");
            assert_eq!(again, instance, "{name}");
            let tour: Vec<usize> = (0..instance.len()).rev().collect();
            let back = parse_tour(&tour_text(&instance, &tour, "t"), instance.len(), "t.tour")
                .expect("tour");
            assert_eq!(back, tour);
        }
        assert_eq!(shipped("eil51").expect("eil51").0.len(), 51);
        assert_eq!(shipped("kroA100").expect("kroA100").0.len(), 100);
    }

    #[test]
    fn the_reader_accepts_tsplib_variants() {
        let text = "  NAME: tiny\nTYPE : TSP\nDIMENSION:4\n EDGE_WEIGHT_TYPE : EUC_2D\r\nNODE_COORD_SECTION\n1 0 0\n 2 3.0e0 0\n3 3 4.0\n4 0.0 4\nEOF\n";
        let instance = parse_tsp(text, "tiny.tsp").expect("parses");
        assert_eq!(instance.name, "tiny");
        assert_eq!(instance.tour_length(&[0, 1, 2, 3]), 14.0);
        let explicit = "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n 1 2\n3\nEOF";
        let m = parse_tsp(explicit, "m.tsp").expect("explicit");
        assert_eq!((m.dist(0, 1), m.dist(2, 0), m.dist(2, 1)), (1.0, 2.0, 3.0));
    }

    #[test]
    fn malformed_files_are_refused_with_their_line() {
        let head =
            "NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n";
        let cases = [
            ("NAME: x\nNODE_COORD_SECTION\n1 0 0\n", "line 2"),
            (&format!("{head}1 0 0\n2 1 1\nEOF\n") as &str, "missing"),
            (&format!("{head}1 0 0\n1 1 1\n3 2 2\n"), "line 7"),
            (&format!("{head}1 0 0\n2 1 x1\n3 2 2\n"), "line 7"),
            (&format!("{head}1 0 0\n2 1 1\n9 2 2\n"), "line 8"),
            ("NAME: x\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: XRAY1\n", "line 3"),
            ("NAME: x\nTYPE: TSP\n", "no DIMENSION"),
            ("DIMENSION: many\n", "line 1"),
            (&format!("{head}1 0 0\n2 1 NaN\n3 2 2\n"), "line 7"),
        ];
        for (text, want) in cases {
            let err = parse_tsp(text, "bad.tsp").expect_err(text).to_string();
            assert!(
                err.contains("bad.tsp") && err.contains(want),
                "{err} (wanted {want})"
            );
        }
    }

    #[test]
    fn normalized_coordinates_keep_the_aspect_ratio() {
        let i = Instance::from_coords(
            "r",
            vec![[10.0, 5.0], [30.0, 5.0], [20.0, 15.0]],
            Metric::Euc2d,
        );
        let c = i.normalized_coords();
        assert_eq!(c[0], [0.0, 0.0]);
        assert_eq!(c[1], [1.0, 0.0]);
        assert_eq!(c[2], [0.5, 0.5]);
    }
}
