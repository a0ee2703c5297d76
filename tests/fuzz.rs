//! Fuzz targets, one per file reader: arbitrary bytes, and structured mutations (bit flips,
//! truncations, inserted and deleted runs, NaN/inf/huge numbers spliced in) of valid files made
//! by the app itself. Each input is written to a file and read as the command line reads it; a
//! reader must answer `Ok` or `Err` within a second, never panic (proptest reports a panic with
//! the input, shrunk). Inputs that once failed live in `tests/fuzz-corpus/TARGET/` and are
//! replayed first.
//!
//! Why proptest and not cargo-fuzz: it runs on stable Rust inside `cargo test` with no other
//! tool, and the mutations of valid files reach past the format checks, where blind coverage
//! search spends most of its time. `FUZZ_SECONDS` sets the time per target (default 2, the
//! run in CI); `scripts/fuzz.sh SECONDS` runs every target that long.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use inference_lab::demos::lorenz::methods::{ClassicalMethod, ClassicalSettings, read_series};
use inference_lab::demos::lorenz::model::{ChainKind, ChainModel};
use inference_lab::demos::mri::images::phantom;
use inference_lab::demos::mri::io::{
    read_image, read_kspace, read_mask, write_image, write_kspace, write_mask,
};
use inference_lab::demos::mri::model::{MriKind, MriModel};
use inference_lab::demos::mri::sim::{Fourier, MaskKind, MeasureConfig, simulate};
use inference_lab::stored_model::{load, shipped};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// What a reader may do with an input: anything but panic or take this long.
const SLOW: Duration = Duration::from_secs(1);

fn fuzz_seconds() -> f64 {
    std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

/// Text that readers of numbers must survive.
const SPLICES: [&[u8]; 10] = [
    b"NaN",
    b"inf",
    b"-inf",
    b"1e308",
    b"-1e400",
    b"99999999999999999999",
    b"-0",
    b"\r\n",
    b",",
    b"\0",
];

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bits: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Splice { at: usize, which: usize },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        4 => (at, 1u8..=255).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
        1 => at.prop_map(|at| Mutation::Truncate { at }),
        1 => (at, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (at, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (at, 0..SPLICES.len()).prop_map(|(at, which)| Mutation::Splice { at, which }),
        1 => (at, 1usize..256).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len().max(1);
        match m {
            Mutation::Flip { at, bits } => {
                if let Some(b) = bytes.get_mut(at % n) {
                    *b ^= bits;
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % n),
            Mutation::Insert { at, bytes: new } => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let at = (at % n).min(bytes.len());
                let end = (at + len).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Splice { at, which } => {
                let at = (at % n).min(bytes.len());
                let end = (at + SPLICES[*which].len()).min(bytes.len());
                bytes.splice(at..end, SPLICES[*which].iter().copied());
            }
            Mutation::Duplicate { at, len } => {
                let at = (at % n).min(bytes.len());
                let end = (at + len).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

/// Arbitrary bytes (a quarter of the inputs) or 1–4 mutations of one of the valid `seeds`.
fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let count = seeds.len();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        3 => (0..count, prop::collection::vec(mutation(), 1..5))
            .prop_map(move |(i, m)| apply(seeds[i].clone(), &m)),
    ]
}

/// Runs `read` on every kept input of `target`, then on generated inputs for the fuzzing time;
/// returns how many inputs ran.
fn fuzz(target: &str, seeds: Vec<Vec<u8>>, read: impl Fn(&Path)) -> u64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("input-{target}"));
    let run_one = |bytes: &[u8]| -> Result<(), TestCaseError> {
        std::fs::write(&file, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let started = Instant::now();
        read(&file);
        let took = started.elapsed();
        prop_assert!(took < SLOW, "{target}: {took:?} on {} bytes", bytes.len());
        Ok(())
    };
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(target);
    let mut ran = 0;
    for entry in std::fs::read_dir(&corpus).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).expect("corpus file");
        run_one(&bytes).unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        ran += 1;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(fuzz_seconds());
    let strategy = inputs(seeds);
    let mut round: u64 = 0;
    while Instant::now() < deadline {
        // A seed per round: a failure names the round, and reruns the same inputs.
        let seed: Vec<u8> = (0..32)
            .map(|i| (round >> (8 * (i % 8))) as u8 ^ i as u8)
            .collect();
        let config = Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
        let mut runner = TestRunner::new_with_rng(config, rng);
        if let Err(e) = runner.run(&strategy, |bytes| run_one(&bytes)) {
            panic!("{target}, round {round}: {e}");
        }
        ran += 64;
        round += 1;
    }
    eprintln!("fuzz {target}: {ran} inputs in {} rounds", round);
    ran
}

fn write_to_bytes(write: impl FnOnce(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed");
    write(&path);
    std::fs::read(&path).expect("seed")
}

#[test]
fn fuzz_series_csv() {
    let device = Device::flex();
    let hybrid: ChainModel = shipped(ChainKind::Hybrid.name(), &device).expect("model");
    let seeds = vec![
        b"t,y1,y2,y3\n0,1.5,-2,20\n0.05,1.7,-1.2,19.5\n0.1,2.1,-0.5,19\n".to_vec(),
        b"t,y1,y2,y3\r\n0,1,2,3\r\n".to_vec(),
        b"y3\ty2\ty1\tt\n20\t-2\t1.5\t0\n".to_vec(),
    ];
    fuzz("series-csv", seeds, |path| {
        // What `lorenz infer` does with a file: read it, and run the methods on what it holds.
        if let Ok((t, observations)) = read_series(path, ["y1", "y2", "y3"])
            && observations.len() <= 64
        {
            let settings = ClassicalSettings::default();
            let _ = inference_lab::demos::lorenz::methods::run_classical(
                ClassicalMethod::Eks,
                &t,
                &observations,
                &settings,
            );
            let _ = hybrid.infer(&observations, &device);
        }
    });
}

#[test]
fn fuzz_png_image_and_mask() {
    let seeds = vec![
        write_to_bytes(|p| write_image(p, &phantom(16, 1)).expect("image")),
        write_to_bytes(|p| write_image(p, &phantom(9, 2)).expect("image")),
        write_to_bytes(|p| {
            let m = simulate(
                &phantom(16, 3),
                &Fourier::new(16),
                &MeasureConfig::new(MaskKind::Cartesian, 4.0),
            )
            .expect("measure");
            write_mask(p, &m.mask).expect("mask");
        }),
    ];
    fuzz("png", seeds, |path| {
        let _ = read_image(path);
        let _ = read_mask(path);
    });
}

#[test]
fn fuzz_npy_kspace() {
    let seeds = vec![write_to_bytes(|p| {
        let m = simulate(
            &phantom(8, 4),
            &Fourier::new(8),
            &MeasureConfig::new(MaskKind::Radial, 4.0),
        )
        .expect("measure");
        write_kspace(p, 8, &m.kspace).expect("kspace");
    })];
    fuzz("npy", seeds, |path| {
        let _ = read_kspace(path);
    });
}

#[test]
fn fuzz_model_files() {
    let device = Device::flex();
    let seeds = vec![
        include_bytes!("../assets/lorenz-gnn.mpk").to_vec(),
        include_bytes!("../assets/mri-unet.mpk").to_vec(),
        include_bytes!("../assets/ldpc-nebp.mpk").to_vec(),
    ];
    fuzz("model", seeds, |path| {
        use inference_lab::demos::ldpc::methods::LearnedDecoder;
        use inference_lab::demos::ldpc::model::NetKind;
        let _ = load::<ChainModel>(path, ChainKind::Gnn.name(), &device);
        let _ = load::<MriModel>(path, MriKind::Unet.name(), &device);
        let _ = load::<LearnedDecoder>(path, NetKind::Nebp.name(), &device);
    });
}

#[test]
fn fuzz_model_weights_behind_a_valid_checksum() {
    // Damage that a checksum recomputed after it would hide: what the weights' reader and the
    // shape checks do with it.
    let device = Device::flex();
    let shipped = include_bytes!("../assets/mri-rim.mpk");
    let (header, record) = inference_lab::model_file::split(shipped, "rim").expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let sealed = dir.path().join("sealed.mpk");
    fuzz("model-record", vec![record.to_vec()], |path| {
        let record = std::fs::read(path).expect("input");
        let bytes = inference_lab::model_file::encode_record(&header, &record).expect("encode");
        std::fs::write(&sealed, bytes).expect("write");
        if let Ok(model) = load::<MriModel>(&sealed, MriKind::Rim.name(), &device) {
            let m = simulate(
                &phantom(8, 5),
                &Fourier::new(8),
                &MeasureConfig::new(MaskKind::Cartesian, 4.0),
            )
            .expect("measure");
            let _ = model.reconstruct(&m.kspace, &m.mask, &device);
        }
    });
}

#[test]
fn fuzz_alist_codes() {
    use inference_lab::demos::ldpc::classical::{BpRule, decode_frames};
    use inference_lab::demos::ldpc::code::{SHIPPED, read_alist};
    let mut seeds: Vec<Vec<u8>> = SHIPPED
        .iter()
        .map(|(_, text)| text.as_bytes().to_vec())
        .collect();
    seeds.push(b"3 2\r\n1\t2\n1 1 1\n2 1\n\n1\n1 0\n2\n1 2\n3 0\n".to_vec());
    fuzz("alist", seeds, |path| {
        // What `ldpc decode` does with a code: read it, then decode a frame on it.
        if let Ok(code) = read_alist(path)
            && code.edges() <= 100_000
        {
            let llr: Vec<f32> = (0..code.n)
                .map(|i| if i % 7 == 0 { -0.5 } else { 1.5 })
                .collect();
            let _ = decode_frames(&code, BpRule::SumProduct, 5, &llr);
            let _ = code.encode(&vec![1; code.dimension()]);
        }
    });
}

#[test]
fn fuzz_llr_csv() {
    use inference_lab::demos::ldpc::code::shipped;
    use inference_lab::demos::ldpc::methods::{Method, decode_frames};
    use inference_lab::demos::ldpc::sim::{Channel, llr_csv, read_llr_csv, send_frames};
    let device = Device::flex();
    let code = shipped("96.3.963").expect("code");
    let frames = send_frames(&code, &Channel::awgn(2.0), 3, 1);
    let seeds = vec![
        llr_csv(&frames.llr, code.n).into_bytes(),
        llr_csv(&frames.llr[..code.n], code.n)
            .replace('\n', "\r\n")
            .into_bytes(),
    ];
    fuzz("llr-csv", seeds, |path| {
        if let Ok(llr) = read_llr_csv(path, code.n) {
            let _ = decode_frames(Method::Bp, &code, &llr, 20, None, &device);
        }
    });
}

#[test]
fn fuzz_tsplib_instances_and_tours() {
    use inference_lab::demos::tsp::classical::{nearest_neighbour, two_opt};
    use inference_lab::demos::tsp::sim::{SHIPPED, parse_tour, read_tsp, shipped, tour_text};
    let mut seeds: Vec<Vec<u8>> = SHIPPED
        .iter()
        .filter_map(|name| shipped(name))
        .map(|(instance, _)| inference_lab::demos::tsp::sim::tsp_text(&instance).into_bytes())
        .collect();
    seeds.push(
        b"NAME: m\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: LOWER_DIAG_ROW\nEDGE_WEIGHT_SECTION\n0 1 0 2 3 0 4 5 6 0\nEOF\n"
            .to_vec(),
    );
    if let Some((instance, _)) = shipped("eil51") {
        let tour: Vec<usize> = (0..instance.len()).collect();
        seeds.push(tour_text(&instance, &tour, "seed").into_bytes());
    }
    fuzz("tsplib", seeds, |path| {
        // What `tsp solve` does with an instance: read it, then tour it; and a tour read back.
        if let Ok(instance) = read_tsp(path)
            && instance.len() <= 2000
        {
            let start = nearest_neighbour(&instance, 0).pop().unwrap_or_default();
            let _ = two_opt(&instance, &start);
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            let _ = parse_tour(&text, 51, "fuzzed.tour");
        }
    });
}

#[test]
fn fuzz_particle_series_csv() {
    use inference_lab::demos::causal::methods::LearnedModel;
    use inference_lab::demos::causal::methods::{Adaptation, Method, infer};
    use inference_lab::demos::causal::model::KIND;
    use inference_lab::demos::causal::sim::{
        SpringsConfig, load_series, series_csv, simulate_many,
    };
    let device = Device::flex();
    let model: LearnedModel = shipped(KIND, &device).expect("model");
    let samples = simulate_many(&SpringsConfig::default(), 2, 3);
    let seeds = vec![
        series_csv(&samples).into_bytes(),
        series_csv(&samples[..1]).replace('\n', "\r\n").into_bytes(),
    ];
    let quick = Adaptation {
        steps: 2,
        ..Adaptation::default()
    };
    fuzz("particle-series-csv", seeds, |path| {
        // What `causal infer` does with a file: read it, then every method on what it holds.
        if let Ok(series) = load_series(path)
            && series.len() <= 4
            && series.iter().all(|s| s.nodes() <= 8 && s.frames <= 200)
        {
            let refs: Vec<_> = series.iter().collect();
            for method in [Method::Granger, Method::Acd, Method::AcdTta] {
                let _ = infer(method, &refs, Some(&model), quick, &device);
            }
        }
    });
}

#[test]
fn fuzz_digit_csv_and_png() {
    use inference_lab::demos::vae::io::{images_csv, read_images, read_png};
    use inference_lab::demos::vae::methods::encoder_q;
    use inference_lab::demos::vae::model::shipped_with_latent;
    use inference_lab::demos::vae::sim::{Split, binarized, digits};
    let device = Device::flex();
    let model = shipped_with_latent(2, &device).expect("model");
    let test = binarized(&digits(Split::Test).expect("digits")[..2]);
    let seeds = vec![
        images_csv(&test).into_bytes(),
        images_csv(&test[..1]).replace('\n', "\r\n").into_bytes(),
    ];
    fuzz("digit-csv", seeds, |path| {
        // What `vae infer` does with a file: read it, then the encoder on what it holds.
        if let Ok(images) = read_images(path)
            && images.len() <= 4
        {
            let _ = encoder_q(&model.net, &images, &device);
        }
    });
    let png = write_to_bytes(|path| {
        image::GrayImage::from_fn(28, 28, |x, y| image::Luma([((x * y) % 256) as u8]))
            .save_with_format(path, image::ImageFormat::Png)
            .expect("png");
    });
    fuzz("digit-png", vec![png], |path| {
        let _ = read_png(path);
    });
}

#[test]
fn fuzz_mimo_npy() {
    use inference_lab::demos::mimo::io::{read_problem, read_symbols, write_batch};
    use inference_lab::demos::mimo::methods::{Method, detect};
    use inference_lab::demos::mimo::sim::{Modulation, Setup, simulate};
    let device = Device::flex();
    let setup = Setup {
        users: 2,
        antennas: 3,
        modulation: Modulation::Qam16,
        snr_db: 10.0,
        rho: 0.0,
    };
    let dir = tempfile::tempdir().expect("dir");
    let [h, y, x] = ["H.npy", "y.npy", "x.npy"].map(|n| dir.path().join(n));
    write_batch(&simulate(&setup, 2, 1), &h, &y, &x).expect("written");
    let read = |p: &Path| std::fs::read(p).expect("read");
    let (channel, received, symbols) = (read(&h), read(&y), read(&x));
    fuzz("mimo-channel-npy", vec![channel], |path| {
        // What `mimo detect` does with the files: read them, then detect what they hold.
        if let Ok(batch) = read_problem(path, &y, Modulation::Qam16, 10.0)
            && batch.vectors.len() <= 4
        {
            for method in [Method::Mmse, Method::Oamp, Method::Ml] {
                let _ = detect(&batch, method, 3, None, &device);
            }
        }
    });
    fuzz("mimo-received-npy", vec![received], |path| {
        let _ = read_problem(&h, path, Modulation::Qam16, 10.0);
    });
    fuzz("mimo-symbols-npy", vec![symbols], |path| {
        let _ = read_symbols(path, Modulation::Qam16, 2, 2);
    });
}

#[test]
fn fuzz_flows_points_and_model_files() {
    use inference_lab::demos::flows::classical::fit;
    use inference_lab::demos::flows::io::read_points;
    use inference_lab::demos::flows::methods::Fitted;
    let device = Device::flex();
    fuzz(
        "flows-points-csv",
        vec![
            b"x,y\n0.5,-1.25\n3,2\n-0.125,0\n1,1\n".to_vec(),
            b"y,x,label\r\n1,2,a\r\n3,4,b\r\n".to_vec(),
        ],
        |path| {
            // What `flows fit --method gmm` and `flows density` do with a file.
            if let Ok(points) = read_points(path)
                && points.len() <= 64
            {
                if points.len() >= 4 {
                    let mixture = fit(&points, 2, 1, 1).last().clone();
                    let _ = Fitted::Mixture(mixture).log_densities(&points, &device);
                }
                let _ = Fitted::load(
                    Path::new(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/assets/flows-rings-vae.mpk"
                    )),
                    &device,
                )
                .map(|f| f.log_densities(&points, &device));
            }
        },
    );
    let dir = tempfile::tempdir().expect("dir");
    let gmm = dir.path().join("gmm.mpk");
    let points: Vec<[f64; 2]> = (0..40)
        .map(|i| [f64::from(i).sin(), f64::from(i).cos()])
        .collect();
    Fitted::Mixture(fit(&points, 3, 1, 2).last().clone())
        .save(&gmm, &"fuzz seed")
        .expect("saved");
    fuzz(
        "flows-model",
        vec![
            std::fs::read(&gmm).expect("read"),
            include_bytes!("../assets/flows-rings-survae.mpk").to_vec(),
        ],
        |path| {
            if let Ok(fitted) = Fitted::load(path, &device) {
                let _ = fitted.log_densities(&[[0.5, -0.5], [0.0, 0.0]], &device);
            }
        },
    );
}
