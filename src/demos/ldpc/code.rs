//! An LDPC code: its parity-check matrix H read from MacKay's alist format, the Tanner graph as
//! flat edge arrays (what every decoder walks), and an encoder over GF(2) derived from H by
//! Gaussian elimination, so that a rank-deficient H (redundant checks, as in MacKay's
//! 96.3.963: rank 46 of 48 rows) still gives every codeword.

use std::path::Path;

/// Codes larger than this are refused (an absurd header would otherwise allocate gigabytes).
const MAX_EDGES: usize = 20_000_000;

/// A parse error of an alist file, naming the line and the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: line {line}: {message}")]
pub struct AlistError {
    pub origin: String,
    /// 1-based; 0 when the file ended early.
    pub line: usize,
    pub message: String,
}

/// A binary linear code given by its parity checks. Edges are numbered check by check: the
/// edges of check `c` are `check_start[c]..check_start[c + 1]`, edge `e` joins check
/// `edge_check[e]` and variable `edge_var[e]`; `var_edges[var_start[v]..var_start[v + 1]]` are
/// the edges of variable `v`.
#[derive(Clone, Debug, PartialEq)]
pub struct Code {
    pub name: String,
    /// Codeword length (variables).
    pub n: usize,
    /// Parity checks (rows of H, redundant ones included).
    pub m: usize,
    pub check_start: Vec<usize>,
    pub edge_var: Vec<u32>,
    pub edge_check: Vec<u32>,
    pub var_start: Vec<usize>,
    pub var_edges: Vec<u32>,
    encoder: Encoder,
}

impl Code {
    /// The code whose check `c` involves the variables `rows[c]` (0-based, each once).
    pub fn from_rows(name: &str, n: usize, rows: &[Vec<usize>]) -> Result<Self, String> {
        let m = rows.len();
        let edges: usize = rows.iter().map(Vec::len).sum();
        if n == 0 || m == 0 {
            return Err(format!(
                "a code needs variables and checks, not n = {n}, m = {m}"
            ));
        }
        if edges > MAX_EDGES {
            return Err(format!(
                "{edges} edges: more than {MAX_EDGES} are not supported"
            ));
        }
        let mut check_start = Vec::with_capacity(m + 1);
        let mut edge_var = Vec::with_capacity(edges);
        let mut edge_check = Vec::with_capacity(edges);
        let mut seen = vec![usize::MAX; n];
        check_start.push(0);
        for (c, row) in rows.iter().enumerate() {
            for &v in row {
                if v >= n {
                    return Err(format!("check {} names variable {} of {n}", c + 1, v + 1));
                }
                if seen[v] == c {
                    return Err(format!("check {} names variable {} twice", c + 1, v + 1));
                }
                seen[v] = c;
                edge_var.push(v as u32);
                edge_check.push(c as u32);
            }
            check_start.push(edge_var.len());
        }
        let mut degree = vec![0usize; n];
        for &v in &edge_var {
            degree[v as usize] += 1;
        }
        let mut var_start = Vec::with_capacity(n + 1);
        var_start.push(0);
        for d in &degree {
            var_start.push(var_start.last().copied().unwrap_or(0) + d);
        }
        let mut fill = var_start.clone();
        let mut var_edges = vec![0u32; edges];
        for (e, &v) in edge_var.iter().enumerate() {
            var_edges[fill[v as usize]] = e as u32;
            fill[v as usize] += 1;
        }
        let encoder = Encoder::new(n, rows);
        Ok(Self {
            name: name.to_owned(),
            n,
            m,
            check_start,
            edge_var,
            edge_check,
            var_start,
            var_edges,
            encoder,
        })
    }

    pub fn edges(&self) -> usize {
        self.edge_var.len()
    }

    /// The variables of check `c`.
    pub fn check_vars(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        self.edge_var[self.check_start[c]..self.check_start[c + 1]]
            .iter()
            .map(|&v| v as usize)
    }

    /// The edges of variable `v`.
    pub fn edges_of_var(&self, v: usize) -> &[u32] {
        &self.var_edges[self.var_start[v]..self.var_start[v + 1]]
    }

    pub fn max_check_degree(&self) -> usize {
        self.check_start
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    pub fn max_var_degree(&self) -> usize {
        self.var_start
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// The rows of H, each the sorted variables of one check.
    pub fn rows(&self) -> Vec<Vec<usize>> {
        (0..self.m)
            .map(|c| {
                let mut row: Vec<usize> = self.check_vars(c).collect();
                row.sort_unstable();
                row
            })
            .collect()
    }

    /// The design rate 1 − m/n (what Eb/N0 is measured at).
    pub fn design_rate(&self) -> f64 {
        1.0 - self.m as f64 / self.n as f64
    }

    /// The rank of H over GF(2).
    pub fn rank(&self) -> usize {
        self.encoder.pivots.len()
    }

    /// Information bits per codeword: n − rank(H).
    pub fn dimension(&self) -> usize {
        self.n - self.rank()
    }

    /// The codeword carrying `message` (`dimension()` bits, 0/1); H·x = 0.
    pub fn encode(&self, message: &[u8]) -> Vec<u8> {
        self.encoder.encode(self.n, message)
    }

    /// Which checks `bits` violate.
    pub fn unsatisfied_checks(&self, bits: &[u8]) -> Vec<bool> {
        (0..self.m)
            .map(|c| self.check_vars(c).fold(0u8, |acc, v| acc ^ (bits[v] & 1)) == 1)
            .collect()
    }

    pub fn unsatisfied_count(&self, bits: &[u8]) -> usize {
        self.unsatisfied_checks(bits).iter().filter(|&&u| u).count()
    }

    pub fn is_codeword(&self, bits: &[u8]) -> bool {
        bits.len() == self.n && !self.unsatisfied_checks(bits).contains(&true)
    }

    /// The generator matrix G (dimension × n, rows = the codewords of the unit messages).
    pub fn generator_rows(&self) -> Vec<Vec<u8>> {
        (0..self.dimension())
            .map(|i| {
                let mut unit = vec![0u8; self.dimension()];
                unit[i] = 1;
                self.encode(&unit)
            })
            .collect()
    }

    /// The code as alist text (columns then rows, zero-padded to the largest degree).
    pub fn to_alist(&self) -> String {
        let rows = self.rows();
        let mut cols = vec![Vec::new(); self.n];
        for (c, row) in rows.iter().enumerate() {
            for &v in row {
                cols[v].push(c);
            }
        }
        let (dv, dc) = (self.max_var_degree(), self.max_check_degree());
        let join = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(" ");
        let list = |entries: &[usize], width: usize| {
            join(&mut (0..width).map(|i| entries.get(i).map_or(0, |e| e + 1).to_string()))
        };
        let mut text = format!("{} {}\n{dv} {dc}\n", self.n, self.m);
        text += &join(&mut cols.iter().map(|c| c.len().to_string()));
        text += "\n";
        text += &join(&mut rows.iter().map(|r| r.len().to_string()));
        text += "\n";
        for c in &cols {
            text += &list(c, dv);
            text += "\n";
        }
        for r in &rows {
            text += &list(r, dc);
            text += "\n";
        }
        text
    }
}

/// A systematic encoder from H in reduced row-echelon form: the free columns carry the message,
/// each pivot column is the parity of the free columns its row names.
#[derive(Clone, Debug, PartialEq)]
struct Encoder {
    free: Vec<usize>,
    pivots: Vec<usize>,
    /// Per pivot, the free columns (as indices into `free`) its reduced row contains, packed.
    parity: Vec<Vec<u64>>,
}

impl Encoder {
    fn new(n: usize, rows: &[Vec<usize>]) -> Self {
        let words = n.div_ceil(64);
        let mut matrix: Vec<Vec<u64>> = rows
            .iter()
            .map(|row| {
                let mut bits = vec![0u64; words];
                for &v in row {
                    bits[v / 64] ^= 1 << (v % 64);
                }
                bits
            })
            .collect();
        let bit = |row: &[u64], col: usize| (row[col / 64] >> (col % 64)) & 1 == 1;
        let mut pivots = Vec::new();
        let mut rank = 0;
        for col in 0..n {
            let Some(found) = (rank..matrix.len()).find(|&r| bit(&matrix[r], col)) else {
                continue;
            };
            matrix.swap(rank, found);
            let pivot_row = matrix[rank].clone();
            for (r, row) in matrix.iter_mut().enumerate() {
                if r != rank && bit(row, col) {
                    for (w, p) in row.iter_mut().zip(&pivot_row) {
                        *w ^= p;
                    }
                }
            }
            pivots.push(col);
            rank += 1;
        }
        let is_pivot = {
            let mut is = vec![false; n];
            for &p in &pivots {
                is[p] = true;
            }
            is
        };
        let free: Vec<usize> = (0..n).filter(|&c| !is_pivot[c]).collect();
        let parity = matrix[..rank]
            .iter()
            .map(|row| {
                let mut packed = vec![0u64; free.len().div_ceil(64).max(1)];
                for (i, &f) in free.iter().enumerate() {
                    if bit(row, f) {
                        packed[i / 64] |= 1 << (i % 64);
                    }
                }
                packed
            })
            .collect();
        Self {
            free,
            pivots,
            parity,
        }
    }

    fn encode(&self, n: usize, message: &[u8]) -> Vec<u8> {
        let mut packed = vec![0u64; self.free.len().div_ceil(64).max(1)];
        let mut word = vec![0u8; n];
        for (i, (&f, &b)) in self.free.iter().zip(message).enumerate() {
            word[f] = b & 1;
            packed[i / 64] |= u64::from(b & 1) << (i % 64);
        }
        for (&p, row) in self.pivots.iter().zip(&self.parity) {
            let ones: u32 = row
                .iter()
                .zip(&packed)
                .map(|(r, m)| (r & m).count_ones())
                .sum();
            word[p] = (ones & 1) as u8;
        }
        word
    }
}

/// Reads an alist file.
pub fn read_alist(path: &Path) -> anyhow::Result<Code> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let name = path
        .file_stem()
        .map_or_else(|| origin.clone(), |s| s.to_string_lossy().into_owned());
    Ok(parse_alist(&text, &origin, &name)?)
}

/// Parses MacKay's alist format: `n m`, the largest column and row degrees, the n column
/// degrees, the m row degrees, then n lines of each column's rows and m lines of each row's
/// columns (1-based; zeros pad a line to the largest degree). Tabs, CRLF, blank lines and
/// zero-padded or unpadded lists are accepted; the two halves must describe the same H.
pub fn parse_alist(text: &str, origin: &str, name: &str) -> Result<Code, AlistError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let err = |line: usize, message: String| AlistError {
        origin: origin.to_owned(),
        line,
        message,
    };
    let mut next_line = |what: &str| -> Result<(usize, Vec<usize>), AlistError> {
        let (number, line) = lines
            .next()
            .ok_or_else(|| err(0, format!("the file ends before {what} (too few lines)")))?;
        let values = line
            .split_whitespace()
            .enumerate()
            .map(|(field, token)| {
                token.parse::<usize>().map_err(|_| {
                    err(
                        number,
                        format!(
                            "{what}: field {} is `{token}`, not a whole number",
                            field + 1
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((number, values))
    };
    let (line, header) = next_line("the sizes `n m`")?;
    let [n, m] = header[..] else {
        return Err(err(
            line,
            format!("expected `n m`, found {} numbers", header.len()),
        ));
    };
    if n == 0 || m == 0 || n.saturating_mul(m) == 0 {
        return Err(err(
            line,
            format!("n = {n} and m = {m} must both be positive"),
        ));
    }
    if n > MAX_EDGES || m > MAX_EDGES {
        return Err(err(line, format!("n = {n}, m = {m}: too large")));
    }
    let (line, maxima) = next_line("the largest degrees")?;
    let [max_col, max_row] = maxima[..] else {
        return Err(err(
            line,
            format!(
                "expected the largest column and row degrees, found {} numbers",
                maxima.len()
            ),
        ));
    };
    if max_col > m || max_row > n {
        return Err(err(
            line,
            format!("largest degrees {max_col} {max_row} exceed the sizes {m} {n}"),
        ));
    }
    let (line, col_degrees) = next_line("the column degrees")?;
    if col_degrees.len() != n {
        return Err(err(
            line,
            format!("{} column degrees for n = {n}", col_degrees.len()),
        ));
    }
    if let Some(i) = col_degrees.iter().position(|&d| d > max_col) {
        return Err(err(
            line,
            format!(
                "column {}'s degree {} exceeds the largest, {max_col}",
                i + 1,
                col_degrees[i]
            ),
        ));
    }
    let (line, row_degrees) = next_line("the row degrees")?;
    if row_degrees.len() != m {
        return Err(err(
            line,
            format!("{} row degrees for m = {m}", row_degrees.len()),
        ));
    }
    if let Some(i) = row_degrees.iter().position(|&d| d > max_row) {
        return Err(err(
            line,
            format!(
                "row {}'s degree {} exceeds the largest, {max_row}",
                i + 1,
                row_degrees[i]
            ),
        ));
    }
    let col_sum: usize = col_degrees.iter().sum();
    let row_sum: usize = row_degrees.iter().sum();
    if col_sum != row_sum {
        return Err(err(
            line,
            format!("the column degrees sum to {col_sum} but the row degrees to {row_sum}"),
        ));
    }
    if col_sum > MAX_EDGES {
        return Err(err(line, format!("{col_sum} ones in H: too many")));
    }
    let mut read_lists = |count: usize,
                          degrees: &[usize],
                          bound: usize,
                          kind: &str|
     -> Result<Vec<Vec<usize>>, AlistError> {
        (0..count)
            .map(|i| {
                let (line, entries) = next_line(&format!("the list of {kind} {}", i + 1))?;
                let ones: Vec<usize> = entries.iter().copied().filter(|&e| e != 0).collect();
                if ones.len() != degrees[i] {
                    return Err(err(
                        line,
                        format!(
                            "{kind} {} lists {} entries but its degree is {}",
                            i + 1,
                            ones.len(),
                            degrees[i]
                        ),
                    ));
                }
                if let Some(z) = entries.iter().position(|&e| e == 0)
                    && entries[z..].iter().any(|&e| e != 0)
                {
                    return Err(err(line, format!("{kind} {}: a 0 before an entry", i + 1)));
                }
                if let Some(bad) = ones.iter().find(|&&e| e > bound) {
                    return Err(err(
                        line,
                        format!("{kind} {}: entry {bad} is out of range 1..={bound}", i + 1),
                    ));
                }
                let mut sorted = ones.clone();
                sorted.sort_unstable();
                if sorted.windows(2).any(|w| w[0] == w[1]) {
                    return Err(err(line, format!("{kind} {} names an entry twice", i + 1)));
                }
                Ok(ones.into_iter().map(|e| e - 1).collect())
            })
            .collect()
    };
    let cols = read_lists(n, &col_degrees, m, "column")?;
    let rows = read_lists(m, &row_degrees, n, "row")?;
    let mut from_cols = vec![Vec::new(); m];
    for (v, col) in cols.iter().enumerate() {
        for &c in col {
            from_cols[c].push(v);
        }
    }
    for (c, (row, from_col)) in rows.iter().zip(&mut from_cols).enumerate() {
        let mut sorted = row.clone();
        sorted.sort_unstable();
        from_col.sort_unstable();
        if sorted != *from_col {
            return Err(err(
                0,
                format!(
                    "row {} disagrees with the column lists (the two halves differ)",
                    c + 1
                ),
            ));
        }
    }
    Code::from_rows(name, n, &rows).map_err(|message| err(0, message))
}

/// The codes shipped in `assets/ldpc/`, by name.
pub const SHIPPED: [(&str, &str); 4] = [
    (
        "peg-48-24",
        include_str!("../../../assets/ldpc/peg-48-24.alist"),
    ),
    (
        "96.3.963",
        include_str!("../../../assets/ldpc/96.3.963.alist"),
    ),
    (
        "ccsds-128-64",
        include_str!("../../../assets/ldpc/ccsds-128-64.alist"),
    ),
    (
        "wimax-576-288",
        include_str!("../../../assets/ldpc/wimax-576-288.alist"),
    ),
];

/// A shipped code by name.
pub fn shipped(name: &str) -> Result<Code, String> {
    let (name, text) = SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| format!("no shipped code `{name}`"))?;
    parse_alist(text, &format!("the shipped code {name}"), name).map_err(|e| e.to_string())
}

/// The code named `spec`: a shipped code's name, or else an alist file's path.
pub fn load(spec: &Path) -> anyhow::Result<Code> {
    match spec
        .to_str()
        .and_then(|s| SHIPPED.iter().find(|(n, _)| *n == s))
    {
        Some((name, _)) => shipped(name).map_err(anyhow::Error::msg),
        None => read_alist(spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_codes_have_their_published_sizes_and_h_times_g_is_zero() {
        for (name, n, m, rank) in [
            ("peg-48-24", 48, 24, 24),
            ("96.3.963", 96, 48, 46),
            ("ccsds-128-64", 128, 64, 64),
            ("wimax-576-288", 576, 288, 288),
        ] {
            let code = shipped(name).expect("parses");
            assert_eq!((code.n, code.m, code.rank()), (n, m, rank), "{name}");
            assert_eq!(code.dimension(), n - rank);
            for g in code.generator_rows() {
                assert!(code.is_codeword(&g), "{name}: a row of G fails a check");
            }
            // G has full rank: its rows are independent.
            let reparsed = parse_alist(&code.to_alist(), "round trip", name).expect("round trip");
            assert_eq!(reparsed.rows(), code.rows(), "{name} round-trips");
        }
    }

    #[test]
    fn tabs_crlf_blank_lines_and_padding_are_read() {
        let text = "3 2\r\n1\t2\n1 1 1\n2 1\n\n1\n1 0\n2\n1 2\n3 0\n";
        let code = parse_alist(text, "t", "t").expect("parses");
        assert_eq!(code.rows(), vec![vec![0, 1], vec![2]]);
        assert_eq!(code.rank(), 2);
        assert!(code.is_codeword(&code.encode(&[1])));
    }

    #[test]
    fn bad_alists_name_their_line() {
        let good = "3 2\n1 2\n1 1 1\n2 1\n1\n1\n2\n1 2\n3\n";
        assert!(parse_alist(good, "t", "t").is_ok());
        for (text, line, needle) in [
            ("3 2\n1 2\n1 1 1\n2 1\n1\n1\n2\n1 2\n", 0, "too few"),
            ("3 2\n1 2\n1 1\n2 1\n", 3, "column degrees"),
            ("3 2\n1 2\n1 1 1\n2 1\n1\n1\n5\n1 2\n3\n", 7, "out of range"),
            ("3 2\n1 2\n1 1 1\n2 1\n1\n1\n1\n1 2\n3\n", 0, "disagrees"),
            ("3 x\n", 1, "not a whole number"),
            ("3 2\n1 2\n1 1 1\n2 1\n1 1\n1\n2\n1 2\n3\n", 5, "degree"),
        ] {
            let e = parse_alist(text, "t", "t").expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn a_rank_deficient_h_still_encodes_every_message() {
        // Three checks, the third the sum of the first two.
        let code = Code::from_rows("r", 4, &[vec![0, 1], vec![1, 2], vec![0, 2]]).expect("code");
        assert_eq!(code.rank(), 2);
        assert_eq!(code.dimension(), 2);
        let mut words: Vec<Vec<u8>> = (0..4u8)
            .map(|m| code.encode(&[m & 1, (m >> 1) & 1]))
            .collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), 4);
        assert!(words.iter().all(|w| code.is_codeword(w)));
    }
}
