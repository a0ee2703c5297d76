//! Complex NumPy arrays (`.npy`, complex64 or complex128, C order), read and written for every
//! demo whose files are complex (MRI's k-space, MIMO's channels and vectors). Every error names
//! the file and what is wrong with it.

use anyhow::{Context, bail};
use npyz::WriterBuilder;
use rustfft::num_complex::{Complex, Complex64};

/// A complex array read from `.npy` bytes: its shape and its values in C order, all finite.
/// `origin` (the file) and `what` (e.g. "the channel") name it in errors.
pub fn decode_complex(
    bytes: &[u8],
    origin: &str,
    what: &str,
) -> anyhow::Result<(Vec<usize>, Vec<Complex64>)> {
    let npy =
        npyz::NpyFile::new(bytes).with_context(|| format!("{origin}: not a NumPy .npy file"))?;
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
        .collect();
    if npy.order() != npyz::Order::C {
        bail!("{origin}: {what} must be stored in C order (numpy's default), not Fortran order");
    }
    let dtype = match npy.dtype() {
        npyz::DType::Plain(type_str) => type_str.to_string(),
        other => format!("{other:?}"),
    };
    let values: Vec<Complex64> = match npy.try_data::<Complex<f64>>() {
        Ok(data) => data
            .collect::<std::io::Result<Vec<_>>>()
            .with_context(|| format!("{origin}: truncated or unreadable data"))?,
        Err(npy) => match npy.try_data::<Complex<f32>>() {
            Ok(data) => data
                .collect::<std::io::Result<Vec<_>>>()
                .with_context(|| format!("{origin}: truncated or unreadable data"))?
                .into_iter()
                .map(|v| Complex64::new(f64::from(v.re), f64::from(v.im)))
                .collect(),
            Err(_) => bail!(
                "{origin}: {what} has dtype {dtype}; complex64 or complex128 is needed \
                 (numpy: `a.astype(np.complex64)`)"
            ),
        },
    };
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected != Some(values.len()) {
        bail!(
            "{origin}: {what} of shape {shape:?} should hold {} values, found {}",
            expected.map_or("too many".to_owned(), |e| e.to_string()),
            values.len()
        );
    }
    if let Some(i) = values
        .iter()
        .position(|v| !(v.re.is_finite() && v.im.is_finite()))
    {
        bail!(
            "{origin}: {what} is not finite at index {:?} ({})",
            unravel(i, &shape),
            values[i]
        );
    }
    Ok((shape, values))
}

/// The multi-index of flat index `i` in C order.
pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &d) in index.iter_mut().zip(shape).rev() {
        if d > 0 {
            *slot = i % d;
            i /= d;
        }
    }
    index
}

/// A complex array as `.npy` bytes: complex64, or complex128 when `wide`.
pub fn encode_complex(
    shape: &[usize],
    values: &[Complex64],
    wide: bool,
) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    if wide {
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut bytes)
            .begin_nd()?;
        writer.extend(values.iter().copied())?;
        writer.finish()?;
    } else {
        let mut writer = npyz::WriteOptions::<Complex<f32>>::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut bytes)
            .begin_nd()?;
        writer.extend(
            values
                .iter()
                .map(|v| Complex::new(v.re as f32, v.im as f32)),
        )?;
        writer.finish()?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complex_arrays_round_trip_at_both_widths() {
        let values: Vec<Complex64> = (0..6)
            .map(|i| Complex64::new(i as f64, -0.5 * i as f64))
            .collect();
        for wide in [false, true] {
            let bytes = encode_complex(&[2, 3], &values, wide).expect("encoded");
            let (shape, back) = decode_complex(&bytes, "a.npy", "the array").expect("decoded");
            assert_eq!(shape, vec![2, 3]);
            assert_eq!(back, values);
        }
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
    }

    #[test]
    fn non_finite_values_are_refused_with_their_index() {
        let mut values = vec![Complex64::new(0.0, 0.0); 4];
        values[3].im = f64::NAN;
        let bytes = encode_complex(&[2, 2], &values, true).expect("encoded");
        let error = decode_complex(&bytes, "a.npy", "the array")
            .expect_err("refused")
            .to_string();
        assert!(error.contains("[1, 1]"), "{error}");
    }
}
