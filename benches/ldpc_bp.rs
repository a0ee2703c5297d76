//! Flooding BP, the hot loop of the LDPC demo: the flat decoder (per-edge arrays, a reused
//! workspace) against the textbook dense-matrix version, one frame at a time, and the flat
//! decoder over a batch of frames in parallel. `cargo bench --bench ldpc_bp`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use inference_lab::demos::ldpc::classical::{BpRule, Workspace, decode, decode_frames, naive};
use inference_lab::demos::ldpc::code::shipped;
use inference_lab::demos::ldpc::sim::{Channel, send_frames};

fn bp(c: &mut Criterion) {
    for (name, eb_n0_db) in [("96.3.963", 2.0), ("wimax-576-288", 2.0)] {
        let code = shipped(name).expect("shipped code");
        let frames = send_frames(&code, &Channel::awgn(eb_n0_db), 64, 1);
        let mut group = c.benchmark_group(format!("bp {name} {eb_n0_db} dB"));
        group.throughput(Throughput::Elements(frames.count() as u64));
        group.bench_function(BenchmarkId::new("flat", "64 frames, 1 thread"), |b| {
            let mut ws = Workspace::for_code(&code);
            b.iter(|| {
                for i in 0..frames.count() {
                    decode(&code, BpRule::SumProduct, 20, frames.frame_llr(i), &mut ws);
                }
            });
        });
        group.bench_function(BenchmarkId::new("naive", "64 frames, 1 thread"), |b| {
            b.iter(|| {
                for i in 0..frames.count() {
                    naive::decode(&code, BpRule::SumProduct, 20, frames.frame_llr(i));
                }
            });
        });
        group.bench_function(BenchmarkId::new("flat parallel", "64 frames"), |b| {
            b.iter(|| decode_frames(&code, BpRule::SumProduct, 20, &frames.llr));
        });
        group.finish();
    }
}

criterion_group!(benches, bp);
criterion_main!(benches);
