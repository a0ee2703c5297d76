//! The forward model: NRI's springs system (Kipf et al., ICML 2018) with ACD's directed springs
//! (Löwe et al., CLeaR 2022). Particles in a box with elastic walls; every ordered pair i ≠ j
//! is joined with probability ½ by a spring along which j pulls i (j causes i):
//! `F_i = −k Σ_j e_ij (x_i − x_j)`. Semi-implicit Euler at Δt = 0.001, one frame every 100
//! steps. Variants: Gaussian observation noise, and one hidden particle that pulls and is
//! pulled but is never observed. Also the series CSV (`sample,t,node,x,y,vx,vy`) and the edges
//! CSV (`sample,source,target,probability`). Pure and seeded: no burn and no UI.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

/// Values per particle and frame: x, y, vx, vy.
pub const FEATURES: usize = 4;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpringsConfig {
    /// Observed particles.
    pub particles: usize,
    pub frames: usize,
    /// Half the side of the box: walls at ±box_half.
    pub box_half: f64,
    pub loc_std: f64,
    pub speed: f64,
    pub spring_constant: f64,
    pub edge_probability: f64,
    pub dt: f64,
    pub steps_per_frame: usize,
    /// Standard deviation of the Gaussian noise added to every observed value.
    pub noise: f64,
    /// Simulate one more particle than is observed.
    pub hidden_particle: bool,
}

impl Default for SpringsConfig {
    /// NRI's and ACD's springs: 5 particles, box of size 5, 49 frames.
    fn default() -> Self {
        Self {
            particles: 5,
            frames: 49,
            box_half: 5.0,
            loc_std: 0.5,
            speed: 0.5,
            spring_constant: 0.1,
            edge_probability: 0.5,
            dt: 0.001,
            steps_per_frame: 100,
            noise: 0.0,
            hidden_particle: false,
        }
    }
}

impl SpringsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=50).contains(&self.particles) || !(2..=10_000).contains(&self.frames) {
            return Err(format!(
                "particles {} must be in 2..=50 and frames {} in 2..=10000",
                self.particles, self.frames
            ));
        }
        if !(self.noise.is_finite() && (0.0..=10.0).contains(&self.noise)) {
            return Err(format!("noise must be in [0, 10], not {}", self.noise));
        }
        if !(0.0..=1.0).contains(&self.edge_probability) {
            return Err("edge probability must be in [0, 1]".into());
        }
        Ok(())
    }

    fn simulated(&self) -> usize {
        self.particles + usize::from(self.hidden_particle)
    }
}

/// One multi-particle time series, `values[(t · nodes + node) · 4 + f]`, and (when simulated)
/// its true graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The sample's id as in its file (or its index when simulated).
    pub id: String,
    /// The particles' ids as in the file.
    pub node_ids: Vec<String>,
    pub frames: usize,
    pub values: Vec<f64>,
    /// `edges[target · n + source]`: source pulls target (observed particles only).
    pub edges: Option<Vec<bool>>,
}

impl Series {
    pub fn nodes(&self) -> usize {
        self.node_ids.len()
    }

    /// Particle `node`'s four values at frame `t`.
    pub fn state(&self, t: usize, node: usize) -> &[f64] {
        let at = (t * self.nodes() + node) * FEATURES;
        &self.values[at..at + FEATURES]
    }

    /// The true label of every ordered pair in [`pairs`] order.
    pub fn edge_labels(&self) -> Option<Vec<bool>> {
        let n = self.nodes();
        let edges = self.edges.as_ref()?;
        Some(pairs(n).map(|(t, s)| edges[t * n + s]).collect())
    }
}

/// The ordered pairs (target, source), target-major, source ≠ target: the order of every edge
/// vector in this demo (NRI's: receiver i, sender j, row-major over the off-diagonal).
pub fn pairs(n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).flat_map(move |t| (0..n).filter(move |&s| s != t).map(move |s| (t, s)))
}

/// `F_i = −k Σ_j e_ij (x_i − x_j)` for every particle (positions `[x, y]` per particle).
fn spring_forces(positions: &[[f64; 2]], edges: &[bool], k: f64, forces: &mut [[f64; 2]]) {
    let n = positions.len();
    for (i, force) in forces.iter_mut().enumerate() {
        *force = [0.0, 0.0];
        for j in 0..n {
            if j != i && edges[i * n + j] {
                force[0] -= k * (positions[i][0] - positions[j][0]);
                force[1] -= k * (positions[i][1] - positions[j][1]);
            }
        }
    }
}

/// Elastic walls: a particle past a wall is mirrored back and its velocity component turned
/// inwards (NRI's `_clamp`). Returns whether any particle bounced.
fn bounce(positions: &mut [[f64; 2]], velocities: &mut [[f64; 2]], half: f64) -> bool {
    let mut bounced = false;
    for (p, v) in positions.iter_mut().zip(velocities.iter_mut()) {
        for d in 0..2 {
            if p[d] > half {
                p[d] = 2.0 * half - p[d];
                v[d] = -v[d].abs();
                bounced = true;
            } else if p[d] < -half {
                p[d] = -2.0 * half - p[d];
                v[d] = v[d].abs();
                bounced = true;
            }
        }
    }
    bounced
}

/// The raw motion of every simulated particle: per integration step, positions and velocities.
pub struct Trajectory {
    pub positions: Vec<Vec<[f64; 2]>>,
    pub velocities: Vec<Vec<[f64; 2]>>,
    pub bounced: Vec<bool>,
}

/// Integrates `steps` steps from a random start (semi-implicit Euler: v += Δt F(x), then
/// x += Δt v, then the walls), recording every step; for the energy tests and [`simulate`].
pub fn integrate(
    config: &SpringsConfig,
    edges: &[bool],
    steps: usize,
    record_every: usize,
    rng: &mut StdRng,
) -> Trajectory {
    let n = config.simulated();
    let normal = Normal::new(0.0, 1.0).expect("unit normal");
    let mut positions: Vec<[f64; 2]> = (0..n)
        .map(|_| {
            [
                normal.sample(rng) * config.loc_std,
                normal.sample(rng) * config.loc_std,
            ]
        })
        .collect();
    let mut velocities: Vec<[f64; 2]> = (0..n)
        .map(|_| {
            let v = [normal.sample(rng), normal.sample(rng)];
            let norm = v[0].hypot(v[1]).max(1e-12);
            [v[0] * config.speed / norm, v[1] * config.speed / norm]
        })
        .collect();
    bounce(&mut positions, &mut velocities, config.box_half);
    let mut forces = vec![[0.0; 2]; n];
    let mut out = Trajectory {
        positions: Vec::new(),
        velocities: Vec::new(),
        bounced: Vec::new(),
    };
    let mut bounced = false;
    for step in 0..=steps {
        if step % record_every == 0 {
            out.positions.push(positions.clone());
            out.velocities.push(velocities.clone());
            out.bounced.push(bounced);
            bounced = false;
        }
        if step == steps {
            break;
        }
        spring_forces(&positions, edges, config.spring_constant, &mut forces);
        for ((p, v), f) in positions.iter_mut().zip(&mut velocities).zip(&forces) {
            v[0] += config.dt * f[0];
            v[1] += config.dt * f[1];
            p[0] += config.dt * v[0];
            p[1] += config.dt * v[1];
        }
        bounced |= bounce(&mut positions, &mut velocities, config.box_half);
    }
    out
}

/// A random directed graph on `n` particles, `edges[target · n + source]`.
pub fn random_graph(n: usize, probability: f64, rng: &mut StdRng) -> Vec<bool> {
    let mut edges = vec![false; n * n];
    for (t, s) in pairs(n) {
        edges[t * n + s] = rng.random::<f64>() < probability;
    }
    edges
}

/// One sample: its own random graph, its motion from frame 1 (NRI drops the start), noise and
/// the hidden particle as configured.
pub fn simulate(config: &SpringsConfig, seed: u64) -> Series {
    let mut rng = StdRng::seed_from_u64(seed);
    let total = config.simulated();
    let edges = random_graph(total, config.edge_probability, &mut rng);
    let trajectory = integrate(
        config,
        &edges,
        config.frames * config.steps_per_frame,
        config.steps_per_frame,
        &mut rng,
    );
    let n = config.particles;
    let noise = Normal::new(0.0, config.noise.max(0.0)).expect("finite noise");
    let mut values = Vec::with_capacity(config.frames * n * FEATURES);
    for frame in 1..=config.frames {
        for i in 0..n {
            let (p, v) = (
                trajectory.positions[frame][i],
                trajectory.velocities[frame][i],
            );
            for value in [p[0], p[1], v[0], v[1]] {
                let noisy = if config.noise > 0.0 {
                    value + noise.sample(&mut rng)
                } else {
                    value
                };
                values.push(noisy);
            }
        }
    }
    let observed = (0..n)
        .flat_map(|t| (0..n).map(move |s| (t, s)))
        .map(|(t, s)| edges[t * total + s])
        .collect();
    Series {
        id: seed.to_string(),
        node_ids: (0..n).map(|i| i.to_string()).collect(),
        frames: config.frames,
        values,
        edges: Some(observed),
    }
}

/// `count` samples, the i-th from seed `seed · 1 000 003 + i` (ids 0..count).
pub fn simulate_many(config: &SpringsConfig, count: usize, seed: u64) -> Vec<Series> {
    use rayon::prelude::*;
    (0..count)
        .into_par_iter()
        .map(|i| {
            let mut series = simulate(config, seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            series.id = i.to_string();
            series
        })
        .collect()
}

/// Kinetic energy ½ Σ |v|² (unit masses).
pub fn kinetic_energy(velocities: &[[f64; 2]]) -> f64 {
    velocities
        .iter()
        .map(|v| 0.5 * (v[0] * v[0] + v[1] * v[1]))
        .sum()
}

/// The springs' potential energy ½ k Σ_{i<j} |x_i − x_j|² of a *symmetric* graph.
pub fn potential_energy(positions: &[[f64; 2]], edges: &[bool], k: f64) -> f64 {
    let n = positions.len();
    let mut u = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            if edges[i * n + j] {
                let (dx, dy) = (
                    positions[i][0] - positions[j][0],
                    positions[i][1] - positions[j][1],
                );
                u += 0.5 * k * (dx * dx + dy * dy);
            }
        }
    }
    u
}

/// The series CSV, long format, rows by sample, t, node; full f64 precision.
pub fn series_csv(samples: &[Series]) -> String {
    let mut out = String::from("sample,t,node,x,y,vx,vy\n");
    for series in samples {
        for t in 0..series.frames {
            for (node, id) in series.node_ids.iter().enumerate() {
                let s = series.state(t, node);
                out.push_str(&format!(
                    "{},{t},{id},{},{},{},{}\n",
                    series.id, s[0], s[1], s[2], s[3]
                ));
            }
        }
    }
    out
}

/// The true graphs as an edges CSV (probability 1 or 0), for checks outside the app.
pub fn truth_csv(samples: &[Series]) -> String {
    let probabilities: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| {
            s.edge_labels()
                .unwrap_or_default()
                .into_iter()
                .map(f64::from)
                .collect()
        })
        .collect();
    edges_csv(samples, &probabilities)
}

/// The edges CSV: a row for every ordered pair of every sample, in [`pairs`] order,
/// probabilities with 9 significant digits.
pub fn edges_csv(samples: &[Series], probabilities: &[Vec<f64>]) -> String {
    let mut out = String::from("sample,source,target,probability\n");
    for (series, p) in samples.iter().zip(probabilities) {
        for ((t, s), p) in pairs(series.nodes()).zip(p) {
            out.push_str(&format!(
                "{},{},{},{p:.9e}\n",
                series.id, series.node_ids[s], series.node_ids[t]
            ));
        }
    }
    out
}

/// A malformed series file: where and why.
#[derive(Debug, thiserror::Error)]
#[error("{origin}, line {line}: {message}")]
pub struct SeriesError {
    pub origin: String,
    pub line: usize,
    pub message: String,
}

const HEADER: [&str; 7] = ["sample", "t", "node", "x", "y", "vx", "vy"];

/// Reads a series CSV: every sample's rows grouped, each frame's rows together (frames in
/// order of appearance), the same particles in every frame, finite values. Errors name the line
/// and field.
pub fn parse_series_csv(text: &str, origin: &str) -> Result<Vec<Series>, SeriesError> {
    let err = |line: usize, message: String| SeriesError {
        origin: origin.to_owned(),
        line,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (first, header) = lines.next().ok_or_else(|| {
        err(
            1,
            "the file is empty (expected the header sample,t,node,x,y,vx,vy)".into(),
        )
    })?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    if columns != HEADER {
        return Err(err(
            first,
            format!("the header is `{header}`, expected `sample,t,node,x,y,vx,vy`"),
        ));
    }
    let mut samples: Vec<Series> = Vec::new();
    // The frame being read: its t and the node ids seen in it.
    let mut frame_t: Option<String> = None;
    let mut frame_nodes: Vec<String> = Vec::new();
    let mut frame_values: Vec<[f64; FEATURES]> = Vec::new();
    let mut seen_samples = std::collections::HashSet::new();
    let mut seen_t = std::collections::HashSet::new();
    let mut last_line = first;

    let close_frame = |samples: &mut Vec<Series>,
                       nodes: &mut Vec<String>,
                       values: &mut Vec<[f64; FEATURES]>,
                       line: usize|
     -> Result<(), SeriesError> {
        let Some(series) = samples.last_mut() else {
            return Ok(());
        };
        if nodes.is_empty() {
            return Ok(());
        }
        if series.frames == 0 {
            series.node_ids = nodes.clone();
        } else {
            if nodes.len() != series.node_ids.len() {
                return Err(err(
                    line,
                    format!(
                        "field node: sample {} has {} particles in frame {} but {} in its first frame",
                        series.id,
                        nodes.len(),
                        series.frames,
                        series.node_ids.len()
                    ),
                ));
            }
            for id in series.node_ids.clone() {
                if !nodes.contains(&id) {
                    return Err(err(
                        line,
                        format!(
                            "field node: particle {id} of sample {} is missing from frame {}",
                            series.id, series.frames
                        ),
                    ));
                }
            }
        }
        // Store in the first frame's node order.
        for id in &series.node_ids {
            let at = nodes.iter().position(|n| n == id).unwrap_or(0);
            series.values.extend_from_slice(&values[at]);
        }
        series.frames += 1;
        nodes.clear();
        values.clear();
        Ok(())
    };

    for (number, line) in lines {
        last_line = number;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != HEADER.len() {
            return Err(err(
                number,
                format!(
                    "{} fields, expected 7 (sample,t,node,x,y,vx,vy)",
                    fields.len()
                ),
            ));
        }
        let mut state = [0.0; FEATURES];
        for (f, value) in state.iter_mut().enumerate() {
            let text = fields[3 + f];
            *value = text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    err(
                        number,
                        format!("field {}: `{text}` is not a finite number", HEADER[3 + f]),
                    )
                })?;
        }
        let (sample, t, node) = (fields[0], fields[1], fields[2]);
        for (name, value) in [("sample", sample), ("t", t), ("node", node)] {
            if value.is_empty() {
                return Err(err(number, format!("field {name} is empty")));
            }
        }
        let new_sample = samples.last().is_none_or(|s| s.id != sample);
        if new_sample || frame_t.as_deref() != Some(t) {
            close_frame(&mut samples, &mut frame_nodes, &mut frame_values, number)?;
            if new_sample {
                if !seen_samples.insert(sample.to_owned()) {
                    return Err(err(
                        number,
                        format!("field sample: the rows of sample {sample} are not together"),
                    ));
                }
                samples.push(Series {
                    id: sample.to_owned(),
                    node_ids: Vec::new(),
                    frames: 0,
                    values: Vec::new(),
                    edges: None,
                });
                seen_t.clear();
            }
            if !seen_t.insert(t.to_owned()) {
                return Err(err(
                    number,
                    format!("field t: the rows of frame {t} of sample {sample} are not together"),
                ));
            }
            frame_t = Some(t.to_owned());
        }
        if frame_nodes.iter().any(|n| n == node) {
            return Err(err(
                number,
                format!(
                    "field node: particle {node} appears twice in frame {t} of sample {sample}"
                ),
            ));
        }
        frame_nodes.push(node.to_owned());
        frame_values.push(state);
    }
    close_frame(&mut samples, &mut frame_nodes, &mut frame_values, last_line)?;
    if samples.is_empty() {
        return Err(err(last_line, "no rows after the header".into()));
    }
    let frames = samples[0].frames;
    if let Some(other) = samples.iter().find(|s| s.frames != frames) {
        return Err(err(
            last_line,
            format!(
                "field t: sample {} has {} frames but sample {} has {frames} (all must be equally long)",
                other.id, other.frames, samples[0].id
            ),
        ));
    }
    if let Some(small) = samples.iter().find(|s| s.nodes() < 2 || s.frames < 3) {
        return Err(err(
            last_line,
            format!(
                "sample {} has {} particles and {} frames: at least 2 and 3 are needed",
                small.id,
                small.nodes(),
                small.frames
            ),
        ));
    }
    Ok(samples)
}

pub fn load_series(path: &std::path::Path) -> anyhow::Result<Vec<Series>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(parse_series_csv(&text, &path.display().to_string())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symmetric_graph_keeps_its_energy_between_wall_bounces() {
        let config = SpringsConfig::default();
        let mut rng = StdRng::seed_from_u64(4);
        let n = config.particles;
        let mut edges = vec![false; n * n];
        for i in 0..n {
            for j in i + 1..n {
                let e = rng.random::<bool>();
                edges[i * n + j] = e;
                edges[j * n + i] = e;
            }
        }
        let traj = integrate(&config, &edges, 20_000, 100, &mut rng);
        let energy = |k: usize| {
            kinetic_energy(&traj.velocities[k])
                + potential_energy(&traj.positions[k], &edges, config.spring_constant)
        };
        let mut checked = 0;
        let mut start = 0;
        for k in 1..traj.positions.len() {
            if traj.bounced[k] {
                start = k;
                continue;
            }
            let (e0, e1) = (energy(start), energy(k));
            // Semi-implicit Euler keeps a shadow energy: the drift is O(Δt), not growing.
            assert!((e1 - e0).abs() < 2e-3 * e0.max(0.1), "{k}: {e0} → {e1}");
            checked += 1;
        }
        assert!(checked > 50, "only {checked} frames without a bounce");
        // Elastic walls: a bounce keeps every speed.
        let mut p = vec![[5.2, -5.1]];
        let mut v = vec![[0.3, -0.4]];
        assert!(bounce(&mut p, &mut v, 5.0));
        assert!((p[0][0] - 4.8).abs() < 1e-12 && (p[0][1] + 4.9).abs() < 1e-12);
        assert_eq!(v[0], [-0.3, 0.4]);
    }

    #[test]
    fn directed_springs_do_the_work_that_changes_the_kinetic_energy() {
        // One-way springs conserve nothing; the kinetic energy changes by the work Σ F·v Δt.
        let config = SpringsConfig::default();
        let mut rng = StdRng::seed_from_u64(9);
        let n = config.particles;
        let edges = random_graph(n, 0.5, &mut rng);
        let traj = integrate(&config, &edges, 3000, 1, &mut rng);
        let mut forces = vec![[0.0; 2]; n];
        let (mut work, mut change, mut worst) = (0.0, 0.0, 0.0f64);
        for k in 0..3000 {
            if traj.bounced[k + 1] {
                continue;
            }
            spring_forces(
                &traj.positions[k],
                &edges,
                config.spring_constant,
                &mut forces,
            );
            let (v0, v1) = (&traj.velocities[k], &traj.velocities[k + 1]);
            let w: f64 = (0..n)
                .map(|i| {
                    config.dt
                        * (forces[i][0] * 0.5 * (v0[i][0] + v1[i][0])
                            + forces[i][1] * 0.5 * (v0[i][1] + v1[i][1]))
                })
                .sum();
            let dk = kinetic_energy(v1) - kinetic_energy(v0);
            worst = worst.max((w - dk).abs());
            work += w;
            change += dk;
        }
        assert!(worst < 1e-12, "{worst}");
        assert!(change.abs() > 1e-4, "the springs did no work: {change}");
        assert!((work - change).abs() < 1e-9);
    }

    #[test]
    fn samples_have_their_own_graphs_noise_and_a_hidden_particle() {
        let config = SpringsConfig::default();
        let a = simulate(&config, 1);
        assert_eq!(a.frames, 49);
        assert_eq!(a.values.len(), 49 * 5 * 4);
        assert_eq!(a, simulate(&config, 1));
        let b = simulate(&config, 2);
        assert_ne!(a.edges, b.edges);
        let labels = a.edge_labels().expect("truth");
        assert_eq!(labels.len(), 20);
        let noisy = simulate(
            &SpringsConfig {
                noise: 0.1,
                ..config.clone()
            },
            1,
        );
        assert_eq!(noisy.edges, a.edges);
        let diff: f64 = noisy
            .values
            .iter()
            .zip(&a.values)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            / a.values.len() as f64;
        assert!((diff.sqrt() - 0.1).abs() < 0.01, "{}", diff.sqrt());
        let hidden = simulate(
            &SpringsConfig {
                hidden_particle: true,
                ..config
            },
            1,
        );
        assert_eq!(hidden.nodes(), 5);
        assert_eq!(hidden.edges.as_ref().map(Vec::len), Some(25));
        assert!(a.values.iter().all(|v| v.abs() < 20.0));
    }

    #[test]
    fn series_csv_round_trips_and_malformed_files_name_line_and_field() {
        let config = SpringsConfig {
            frames: 4,
            ..SpringsConfig::default()
        };
        let samples: Vec<Series> = simulate_many(&config, 2, 3)
            .into_iter()
            .map(|s| Series { edges: None, ..s })
            .collect();
        let text = series_csv(&samples);
        assert_eq!(parse_series_csv(&text, "s.csv").expect("parse"), samples);
        let lines: Vec<&str> = text.lines().collect();
        let with = |i: usize, new: &str| {
            let mut l = lines.clone();
            l[i] = new;
            l.join("\n")
        };
        let cases = [
            (with(3, "0,0,2,1,2,NaN,4"), "line 4: field vx"),
            (with(0, "sample,t,node,x,y"), "line 1"),
            (with(2, "0,0,1,1,2,3"), "line 3: 6 fields"),
            (
                with(2, "0,0,0,1,2,3,4"),
                "line 3: field node: particle 0 appears twice",
            ),
            (
                lines[..lines.len() - 1].join("\n"),
                "has 4 particles in frame 3",
            ),
            (
                with(10, "0,1,9,1,2,3,4"),
                "particle 4 of sample 0 is missing from frame 1",
            ),
            (lines[..lines.len() - 5].join("\n"), "frames"),
            (String::new(), "empty"),
        ];
        for (text, expected) in cases {
            let err = parse_series_csv(&text, "s.csv")
                .expect_err(expected)
                .to_string();
            assert!(err.contains(expected), "{err} (wanted {expected})");
        }
    }

    #[test]
    fn edges_csv_lists_every_ordered_pair_source_first() {
        let mut s = simulate(&SpringsConfig::default(), 5);
        s.node_ids = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let p: Vec<f64> = (0..20).map(|i| f64::from(i) / 20.0).collect();
        let csv = edges_csv(std::slice::from_ref(&s), &[p]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 21);
        assert_eq!(lines[0], "sample,source,target,probability");
        // The first pair: target a, source b.
        assert!(lines[1].starts_with("5,b,a,0.000000000e0"), "{}", lines[1]);
        assert!(lines[20].starts_with("5,d,e,"), "{}", lines[20]);
    }
}
