//! Writes a grid of the MRI demo's training phantoms (the seeds the trainer draws from) as one
//! 16-bit PNG, to look at what the networks learn from.
//!
//! `cargo run --release --example mri_phantoms -- [OUT.png] [SIDE] [COUNT]`

use inference_lab::demos::mri::images::phantom;
use inference_lab::demos::mri::io::write_image;
use inference_lab::demos::mri::sim::Image;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "phantoms.png".into());
    let side: usize = args.next().map_or(Ok(64), |s| s.parse())?;
    let count: usize = args.next().map_or(Ok(16), |s| s.parse())?;
    let per_row = (count as f64).sqrt().ceil() as usize;
    let gap = 2;
    let grid_side = per_row * (side + gap);
    let mut grid = Image::zeros(grid_side);
    for i in 0..count {
        let p = phantom(side, i as u64);
        let (top, left) = ((i / per_row) * (side + gap), (i % per_row) * (side + gap));
        for r in 0..side {
            let row = (top + r) * grid_side + left;
            grid.pixels[row..row + side].copy_from_slice(&p.pixels[r * side..(r + 1) * side]);
        }
    }
    write_image(std::path::Path::new(&out), &grid)?;
    println!("wrote {count} phantoms of {side}² to {out}");
    Ok(())
}
