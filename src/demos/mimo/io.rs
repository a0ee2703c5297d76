//! The MIMO demo's files, NumPy `.npy` complex64/128 in C order: channels `H.npy` (V, N_r, N_t),
//! received vectors `y.npy` (V, N_r), symbols `x.npy` and decisions `xhat.npy` (V, N_t), each
//! entry a constellation point. Every error names the file and the field at fault.

use std::path::Path;

use anyhow::{Context, bail};
use nalgebra::{Complex, DMatrix};

use super::sim::{
    ANTENNAS, Batch, Modulation, Setup, Vector, complex_vector, real_matrix, real_vector,
};
use crate::files::write_atomic;
use crate::npy::{decode_complex, encode_complex, unravel};

fn read(path: &Path, what: &str) -> anyhow::Result<(Vec<usize>, Vec<Complex<f64>>)> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{origin}: cannot read"))?;
    decode_complex(&bytes, &origin, what)
}

/// The channels and received vectors of `mimo detect`, checked against each other: a batch with
/// the setup's SNR and modulation (ρ is not needed to detect).
pub fn decode_problem(
    channel: (&[usize], &[Complex<f64>]),
    received: (&[usize], &[Complex<f64>]),
    names: (&str, &str),
    modulation: Modulation,
    snr_db: f64,
) -> anyhow::Result<Batch> {
    let ((h_shape, h), (y_shape, y)) = (channel, received);
    let (h_name, y_name) = names;
    if h_shape.len() != 3 {
        bail!("{h_name}: the channel must have shape (V, N_r, N_t); it has {h_shape:?}");
    }
    let (v, nr, nt) = (h_shape[0], h_shape[1], h_shape[2]);
    if v == 0 {
        bail!("{h_name}: the channel holds no vectors (V = 0)");
    }
    for (name, n) in [("N_r", nr), ("N_t", nt)] {
        if !ANTENNAS.contains(&n) {
            bail!(
                "{h_name}: {name} = {n} is outside {}..={}",
                ANTENNAS.start(),
                ANTENNAS.end()
            );
        }
    }
    if y_shape != [v, nr] {
        bail!(
            "{y_name}: the received vectors must have shape (V, N_r) = ({v}, {nr}) to match \
             {h_name}; they have {y_shape:?}"
        );
    }
    let setup = Setup {
        users: nt,
        antennas: nr,
        modulation,
        snr_db,
        rho: 0.0,
    };
    setup.validate().map_err(anyhow::Error::msg)?;
    let vectors = (0..v)
        .map(|i| {
            let block = &h[i * nr * nt..(i + 1) * nr * nt];
            let matrix = DMatrix::from_row_slice(nr, nt, block);
            Vector {
                channel: real_matrix(&matrix),
                received: real_vector(&y[i * nr..(i + 1) * nr]),
                sent: None,
            }
        })
        .collect();
    Ok(Batch { setup, vectors })
}

/// Reads `H.npy` and `y.npy`.
pub fn read_problem(
    channel: &Path,
    received: &Path,
    modulation: Modulation,
    snr_db: f64,
) -> anyhow::Result<Batch> {
    let h = read(channel, "the channel")?;
    let y = read(received, "the received vectors")?;
    decode_problem(
        (&h.0, &h.1),
        (&y.0, &y.1),
        (
            &channel.display().to_string(),
            &received.display().to_string(),
        ),
        modulation,
        snr_db,
    )
}

/// Symbols (V, N_t) as level indices per real dimension; every entry must be a point of the
/// constellation.
pub fn decode_symbols(
    shape: &[usize],
    values: &[Complex<f64>],
    origin: &str,
    modulation: Modulation,
    vectors: usize,
    users: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    if shape != [vectors, users] {
        bail!(
            "{origin}: the symbols must have shape (V, N_t) = ({vectors}, {users}); they have {shape:?}"
        );
    }
    values
        .chunks(users)
        .map(|row| {
            let real = real_vector(row);
            real.iter()
                .map(|&v| modulation.index_of(v))
                .collect::<Option<Vec<u8>>>()
                .ok_or(())
        })
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|()| {
                let k = values[i * users..(i + 1) * users]
                    .iter()
                    .position(|s| {
                        modulation.index_of(s.re).is_none() || modulation.index_of(s.im).is_none()
                    })
                    .unwrap_or(0);
                anyhow::anyhow!(
                    "{origin}: entry {:?} ({}) is not a {} point",
                    unravel(i * users + k, shape),
                    values[i * users + k],
                    modulation.name()
                )
            })
        })
        .collect()
}

pub fn read_symbols(
    path: &Path,
    modulation: Modulation,
    vectors: usize,
    users: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let (shape, values) = read(path, "the symbols")?;
    decode_symbols(
        &shape,
        &values,
        &path.display().to_string(),
        modulation,
        vectors,
        users,
    )
}

/// Level indices per real dimension as complex symbols, row by row.
fn complex_rows(modulation: Modulation, rows: &[Vec<u8>]) -> Vec<Complex<f64>> {
    rows.iter()
        .flat_map(|row| complex_vector(&super::sim::symbols(modulation, row)))
        .collect()
}

/// Writes symbols (V, N_t) as complex64 `.npy`, atomically.
pub fn write_symbols(path: &Path, modulation: Modulation, rows: &[Vec<u8>]) -> anyhow::Result<()> {
    let users = rows.first().map_or(0, |r| r.len() / 2);
    let values = complex_rows(modulation, rows);
    write_atomic(path, &encode_complex(&[rows.len(), users], &values, false)?)
}

/// Writes a simulated batch: channels, received vectors and symbols.
pub fn write_batch(
    batch: &Batch,
    channel: &Path,
    received: &Path,
    symbols: &Path,
) -> anyhow::Result<()> {
    let (v, nr, nt) = (batch.vectors.len(), batch.setup.antennas, batch.setup.users);
    let mut h = Vec::with_capacity(v * nr * nt);
    let mut y = Vec::with_capacity(v * nr);
    let mut x = Vec::with_capacity(v);
    for vector in &batch.vectors {
        let matrix = super::sim::complex_matrix(&vector.channel);
        for i in 0..nr {
            h.extend((0..nt).map(|j| matrix[(i, j)]));
        }
        y.extend(complex_vector(&vector.received));
        x.push(vector.sent.clone().unwrap_or_default());
    }
    write_atomic(channel, &encode_complex(&[v, nr, nt], &h, false)?)?;
    write_atomic(received, &encode_complex(&[v, nr], &y, false)?)?;
    write_symbols(symbols, batch.setup.modulation, &x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::mimo::sim::simulate;

    fn setup() -> Setup {
        Setup {
            users: 2,
            antennas: 3,
            modulation: Modulation::Qam16,
            snr_db: 10.0,
            rho: 0.0,
        }
    }

    #[test]
    fn a_simulated_batch_round_trips_through_its_files() {
        let dir = tempfile::tempdir().expect("dir");
        let batch = simulate(&setup(), 4, 1);
        let [h, y, x] = ["H.npy", "y.npy", "x.npy"].map(|n| dir.path().join(n));
        write_batch(&batch, &h, &y, &x).expect("written");
        let back = read_problem(&h, &y, Modulation::Qam16, 10.0).expect("read");
        let sent = read_symbols(&x, Modulation::Qam16, 4, 2).expect("symbols");
        for ((a, b), s) in batch.vectors.iter().zip(&back.vectors).zip(&sent) {
            assert!((&a.channel - &b.channel).norm() < 1e-5);
            assert!((&a.received - &b.received).norm() < 1e-5);
            assert_eq!(a.sent.as_deref(), Some(&s[..]));
        }
    }

    #[test]
    fn mismatched_or_foreign_arrays_are_refused_naming_the_file() {
        let c = |n: usize| vec![Complex::new(0.1, 0.0); n];
        let err = |h: &[usize], y: &[usize]| {
            let (hn, yn) = (h.iter().product(), y.iter().product());
            decode_problem(
                (h, &c(hn)),
                (y, &c(yn)),
                ("H.npy", "y.npy"),
                Modulation::Qpsk,
                10.0,
            )
            .expect_err("refused")
            .to_string()
        };
        assert!(err(&[2, 3], &[2, 3]).starts_with("H.npy"));
        assert!(err(&[2, 3, 2], &[2, 4]).starts_with("y.npy"));
        assert!(err(&[0, 3, 2], &[0, 3]).contains("no vectors"));
        assert!(err(&[1, 300, 2], &[1, 300]).contains("N_r"));
        let symbols = decode_symbols(
            &[1, 2],
            &[Complex::new(0.3, 0.3), Complex::new(2.0, 0.0)],
            "x.npy",
            Modulation::Qpsk,
            1,
            2,
        );
        assert!(symbols.expect_err("refused").to_string().contains("x.npy"));
    }
}
