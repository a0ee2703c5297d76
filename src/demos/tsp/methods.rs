//! Every method behind one call, each returning its tour, length and trace:
//! `nn`, `insertion`, `2opt`, `exact` (classical), `am` (amortized: the attention model, the best
//! of its greedy multi-start rollouts over the 8 symmetries of the square, or the best of N
//! samples) and `am+2opt` (augmented: the model's best tour of each symmetry improved by 2-opt,
//! the shortest result kept).

use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::classical::{self, TwoOptMove};
use super::model::{AmConfig, AttentionModel, Pick, coords_tensor, spread_starts, symmetries};
use super::sim::Instance;
use crate::demos::{DemoMethod, MethodKind};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum Method {
    Nn,
    Insertion,
    #[value(name = "2opt")]
    #[serde(rename = "2opt")]
    TwoOpt,
    Exact,
    Am,
    #[value(name = "am+2opt")]
    #[serde(rename = "am+2opt")]
    AmTwoOpt,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::Nn,
        Method::Insertion,
        Method::TwoOpt,
        Method::Exact,
        Method::Am,
        Method::AmTwoOpt,
    ];

    pub fn is_learned(self) -> bool {
        matches!(self, Method::Am | Method::AmTwoOpt)
    }
}

impl DemoMethod for Method {
    fn name(self) -> &'static str {
        match self {
            Method::Nn => "nn",
            Method::Insertion => "insertion",
            Method::TwoOpt => "2opt",
            Method::Exact => "exact",
            Method::Am => "am",
            Method::AmTwoOpt => "am+2opt",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Method::Nn => "nearest neighbour",
            Method::Insertion => "farthest insertion",
            Method::TwoOpt => "2-opt",
            Method::Exact => "exact (Held–Karp)",
            Method::Am => "attention model",
            Method::AmTwoOpt => "attention model + 2-opt",
        }
    }

    fn kind(self) -> MethodKind {
        match self {
            Method::Am => MethodKind::Amortized,
            Method::AmTwoOpt => MethodKind::Augmented,
            _ => MethodKind::Classical,
        }
    }

    /// What the method does, in a sentence: its tooltip in the panel.
    fn hint(self) -> &'static str {
        match self {
            Method::Nn => {
                "Nearest neighbour from city 1: always go to the closest unvisited city (classical)"
            }
            Method::Insertion => {
                "Farthest insertion: add the city farthest from the tour where it lengthens it least (classical)"
            }
            Method::TwoOpt => {
                "2-opt: the nearest-neighbour tour, then at every step the exchange of two edges that \
                 shortens it most, until none does (classical)"
            }
            Method::Exact => {
                "Held–Karp dynamic programming: the optimum, up to 20 cities (classical)"
            }
            Method::Am => {
                "Attention model trained with REINFORCE: one greedy tour from each start city, over the 8 \
                 symmetries of the square, the shortest kept (amortized)"
            }
            Method::AmTwoOpt => {
                "The attention model's best tour in each of the 8 symmetries, each improved by 2-opt; the \
                 shortest kept (augmented)"
            }
        }
    }
}

/// A trained attention model and its config.
#[derive(Debug, Clone)]
pub struct LearnedModel {
    pub net: AttentionModel,
    pub config: AmConfig,
    /// The n it was trained on.
    pub trained_n: usize,
}

/// How the attention model decodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmDecoding {
    /// Rollouts per instance, each from its own start city (at most n).
    pub starts: usize,
    /// Decode all 8 symmetries of the square and keep the best.
    pub augment: bool,
    /// 0: greedy; otherwise rollouts sampled per start and symmetry.
    pub samples: usize,
    pub seed: u64,
}

impl AmDecoding {
    /// `am`: greedy from every start city up to 64 of them, over the 8 symmetries; fewer
    /// starts above 100 cities (starts · n² ≤ 640 000), so that 300 cities take about a second.
    pub fn multi_start(n: usize) -> Self {
        Self {
            starts: (640_000 / (n * n).max(1)).clamp(1, n.clamp(1, 64)),
            augment: true,
            samples: 0,
            seed: 0,
        }
    }

    /// The paper's greedy decoding: one rollout from city 1, no augmentation.
    pub fn single() -> Self {
        Self {
            starts: 1,
            augment: false,
            samples: 0,
            seed: 0,
        }
    }
}

/// What a method did, step by step, for the timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SolveTrace {
    /// Construction: each partial tour (the last is the whole tour before any 2-opt).
    pub partial: Vec<Vec<usize>>,
    /// The attention model's pointer probabilities over the cities for each choice after the
    /// start: `attention[k]` chose `partial[k + 1]`'s last city (the best rollout, replayed).
    pub attention: Vec<Vec<f32>>,
    /// 2-opt moves applied to the constructed tour, in order.
    pub moves: Vec<TwoOptMove>,
}

impl SolveTrace {
    /// Steps on the timeline.
    pub fn steps(&self) -> usize {
        self.partial.len() + self.moves.len()
    }

    /// The (partial) tour after step `step` (0-based), and whether it is a 2-opt step.
    pub fn tour_at(&self, step: usize) -> (Vec<usize>, bool) {
        if step < self.partial.len() {
            return (self.partial[step].clone(), false);
        }
        let mut tour = self.partial.last().cloned().unwrap_or_default();
        for mv in self.moves.iter().take(step + 1 - self.partial.len()) {
            classical::apply_move(&mut tour, *mv);
        }
        (tour, true)
    }
}

#[derive(Clone, Debug)]
pub struct Solution {
    pub method: Method,
    pub tour: Vec<usize>,
    /// In the instance's own units.
    pub length: f64,
    pub trace: SolveTrace,
}

/// Solves `instance` with `method`; `am`/`am+2opt` need `learned`.
pub fn solve(
    method: Method,
    instance: &Instance,
    learned: Option<&LearnedModel>,
    decoding: AmDecoding,
    device: &Device,
) -> Result<Solution, String> {
    let n = instance.len();
    if n < 3 {
        return Err(format!("an instance needs at least 3 cities, not {n}"));
    }
    let with_two_opt = |partial: Vec<Vec<usize>>, attention: Vec<Vec<f32>>| {
        let start = partial.last().cloned().unwrap_or_default();
        let (tour, moves) = classical::two_opt(instance, &start);
        (
            tour,
            SolveTrace {
                partial,
                attention,
                moves,
            },
        )
    };
    let (tour, trace) = match method {
        Method::Nn | Method::Insertion => {
            let partial = if method == Method::Nn {
                classical::nearest_neighbour(instance, 0)
            } else {
                classical::farthest_insertion(instance)
            };
            let tour = partial.last().cloned().unwrap_or_default();
            (
                tour,
                SolveTrace {
                    partial,
                    ..SolveTrace::default()
                },
            )
        }
        Method::TwoOpt => with_two_opt(classical::nearest_neighbour(instance, 0), Vec::new()),
        Method::Exact => {
            let tour = classical::held_karp(instance)?;
            (
                tour.clone(),
                SolveTrace {
                    partial: vec![tour],
                    ..SolveTrace::default()
                },
            )
        }
        Method::Am | Method::AmTwoOpt => {
            let model = learned.ok_or_else(|| format!("{} needs a model", method.name()))?;
            let [am, both] = solve_learned(model, instance, decoding, device);
            let chosen = if method == Method::Am { am } else { both };
            return Ok(chosen.0);
        }
    };
    Ok(Solution {
        method,
        length: instance.tour_length(&tour),
        tour,
        trace,
    })
}

/// `am` and `am+2opt` from one decoding of the model (the second improves the first's
/// candidates), each with the seconds it took (`am+2opt`'s include the decoding).
pub fn solve_learned(
    model: &LearnedModel,
    instance: &Instance,
    decoding: AmDecoding,
    device: &Device,
) -> [(Solution, f64); 2] {
    let started = std::time::Instant::now();
    let candidates = rollout_candidates(model, &[instance], decoding, device)
        .pop()
        .unwrap_or_default();
    let decoded = started.elapsed().as_secs_f64();
    let solution = |method, start: &[usize], moves, tour: Vec<usize>| {
        let (partial, attention) = replay(model, instance, start, device);
        Solution {
            method,
            length: instance.tour_length(&tour),
            tour,
            trace: SolveTrace {
                partial,
                attention,
                moves,
            },
        }
    };
    let best = shortest(instance, candidates.clone());
    let am = solution(Method::Am, &best, Vec::new(), best.clone());
    let am_secs = started.elapsed().as_secs_f64();
    let improving = std::time::Instant::now();
    let (start, moves, tour) = improve_candidates(instance, candidates);
    let both = solution(Method::AmTwoOpt, &start, moves, tour);
    let both_secs = decoded + improving.elapsed().as_secs_f64();
    [(am, am_secs), (both, both_secs)]
}

/// The model's best tour of each instance (by the instance's own length), decoding all of them
/// at once (instances of one size).
pub fn best_rollouts(
    model: &LearnedModel,
    instances: &[&Instance],
    decoding: AmDecoding,
    device: &Device,
) -> Vec<Vec<usize>> {
    rollout_candidates(model, instances, decoding, device)
        .into_iter()
        .zip(instances)
        .map(|(candidates, instance)| shortest(instance, candidates))
        .collect()
}

/// The shortest of `tours` on `instance`.
fn shortest(instance: &Instance, tours: Vec<Vec<usize>>) -> Vec<usize> {
    tours
        .into_iter()
        .min_by(|a, b| instance.tour_length(a).total_cmp(&instance.tour_length(b)))
        .unwrap_or_default()
}

/// `am+2opt`: each candidate improved by 2-opt, the shortest result kept: the candidate it came
/// from, the 2-opt moves and the final tour.
pub fn improve_candidates(
    instance: &Instance,
    candidates: Vec<Vec<usize>>,
) -> (Vec<usize>, Vec<TwoOptMove>, Vec<usize>) {
    candidates
        .into_iter()
        .map(|start| {
            let (tour, moves) = classical::two_opt(instance, &start);
            (start, moves, tour)
        })
        .min_by(|a, b| {
            instance
                .tour_length(&a.2)
                .total_cmp(&instance.tour_length(&b.2))
        })
        .unwrap_or_default()
}

/// For each instance, the model's best tour in each of its views (one per symmetry of the
/// square when augmenting): the candidates `am` and `am+2opt` choose from.
pub fn rollout_candidates(
    model: &LearnedModel,
    instances: &[&Instance],
    decoding: AmDecoding,
    device: &Device,
) -> Vec<Vec<Vec<usize>>> {
    let Some(n) = instances.first().map(|i| i.len()) else {
        return Vec::new();
    };
    let views: Vec<Vec<Vec<[f32; 2]>>> = instances
        .iter()
        .map(|i| {
            let coords = i.normalized_coords();
            if decoding.augment {
                symmetries(&coords)
            } else {
                vec![coords]
            }
        })
        .collect();
    let per_instance = views[0].len();
    let batch: Vec<Vec<[f32; 2]>> = views.into_iter().flatten().collect();
    let starts = vec![spread_starts(n, decoding.starts); batch.len()];
    let mut rng = StdRng::seed_from_u64(decoding.seed);
    let rounds = decoding.samples.max(1);
    let pick = if decoding.samples == 0 {
        Pick::Greedy
    } else {
        Pick::Sample
    };
    // The best (length, tour) of every view.
    let mut best: Vec<(f64, Vec<usize>)> = vec![(f64::INFINITY, Vec::new()); batch.len()];
    // Bounded memory: at most ~4096 rollouts at once.
    let chunk = (4096 / starts[0].len().max(1)).max(1);
    for _ in 0..rounds {
        for (c, part) in batch.chunks(chunk).enumerate() {
            let out = model.net.rollout(
                coords_tensor(part, device),
                &starts[..part.len()],
                pick,
                &mut rng,
                false,
            );
            for (k, tours) in out.tours.into_iter().enumerate() {
                let view = c * chunk + k;
                let instance = instances[view / per_instance];
                for tour in tours {
                    let length = instance.tour_length(&tour);
                    if length < best[view].0 {
                        best[view] = (length, tour);
                    }
                }
            }
        }
    }
    best.chunks(per_instance)
        .map(|views| views.iter().map(|(_, tour)| tour.clone()).collect())
        .collect()
}

/// The partial tours of `tour` and the model's pointer probabilities along it (the model fed
/// the tour's own choices: what it attended to at each step).
fn replay(
    model: &LearnedModel,
    instance: &Instance,
    tour: &[usize],
    device: &Device,
) -> (Vec<Vec<usize>>, Vec<Vec<f32>>) {
    let partial: Vec<Vec<usize>> = (1..=tour.len()).map(|k| tour[..k].to_vec()).collect();
    let coords = instance.normalized_coords();
    let attention = model
        .net
        .pointer_along(coords_tensor(&[coords], device), tour);
    (partial, attention)
}

/// The gap of `length` over `reference`, in percent.
pub fn gap_percent(length: f64, reference: f64) -> f64 {
    100.0 * (length / reference - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::tsp::sim::is_permutation;

    #[test]
    fn every_method_returns_a_tour_and_its_trace_ends_there() {
        let device = Device::flex();
        let model = LearnedModel {
            net: AttentionModel::new(
                &AmConfig {
                    dim: 16,
                    heads: 4,
                    layers: 1,
                    feed_forward: 32,
                    clip: 10.0,
                },
                &device,
            ),
            config: AmConfig::default(),
            trained_n: 10,
        };
        let instance = Instance::random(10, 4);
        let exact = solve(
            Method::Exact,
            &instance,
            None,
            AmDecoding::single(),
            &device,
        )
        .expect("exact")
        .length;
        for method in Method::ALL {
            let s = solve(
                method,
                &instance,
                Some(&model),
                AmDecoding::multi_start(10),
                &device,
            )
            .expect("solves");
            assert!(is_permutation(&s.tour, 10), "{method:?}");
            assert!(s.length >= exact - 1e-9);
            let last = s.trace.steps() - 1;
            assert_eq!(s.trace.tour_at(last).0, s.tour, "{method:?}");
            if method.is_learned() {
                assert_eq!(s.trace.attention.len(), 9);
            }
        }
        let am = solve(
            Method::Am,
            &instance,
            Some(&model),
            AmDecoding::multi_start(10),
            &device,
        )
        .expect("am");
        let both = solve(
            Method::AmTwoOpt,
            &instance,
            Some(&model),
            AmDecoding::multi_start(10),
            &device,
        )
        .expect("am+2opt");
        assert!(both.length <= am.length + 1e-9);
        assert!(solve(Method::Am, &instance, None, AmDecoding::single(), &device).is_err());
    }
}
