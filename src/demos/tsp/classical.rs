//! The classical inverses, each in its textbook form and each returning a trace for the panel:
//!
//! - nearest neighbour from city 1 (the partial tours);
//! - farthest insertion (the partial tours);
//! - 2-opt: the nearest-neighbour tour improved by steepest descent (at every step the best
//!   improving exchange of two edges over all pairs) to a 2-opt local optimum (the moves). Above
//!   [`FULL_SCAN_MAX`] cities the candidates come from neighbour lists (the 16 nearest cities),
//!   which keeps a step O(n·16) on thousands of cities; when no candidate improves, one full
//!   O(n²) scan confirms the optimum (or finds the move the lists missed and descent goes on),
//!   so the result is 2-opt-optimal for any n;
//! - Held–Karp dynamic programming, exact, for n ≤ [`EXACT_MAX`].

use super::sim::Instance;

/// The largest instance Held–Karp solves (2^(n−1) · (n−1) states: 90 MB and about a second
/// at 20).
pub const EXACT_MAX: usize = 20;
/// Up to this many cities every 2-opt step scans all pairs of edges.
pub const FULL_SCAN_MAX: usize = 500;
/// Neighbour-list length of 2-opt.
const NEIGHBOURS: usize = 16;
/// Below this improvement a move is not taken (float noise).
const EPS: f64 = 1e-9;

/// A 2-opt move: reverse the tour between positions `i + 1` and `j` (inclusive), replacing the
/// edges (t[i], t[i+1]) and (t[j], t[j+1]) by (t[i], t[j]) and (t[i+1], t[j+1]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwoOptMove {
    pub i: usize,
    pub j: usize,
    /// How much shorter the tour became.
    pub gain: f64,
}

/// Applies `mv` to `tour` in place.
pub fn apply_move(tour: &mut [usize], mv: TwoOptMove) {
    tour[mv.i + 1..=mv.j].reverse();
}

/// The gain of the exchange at positions `i < j` (positive = shorter).
fn gain(instance: &Instance, tour: &[usize], i: usize, j: usize) -> f64 {
    let n = tour.len();
    let (a, b) = (tour[i], tour[i + 1]);
    let (c, d) = (tour[j], tour[(j + 1) % n]);
    instance.dist(a, b) + instance.dist(c, d) - instance.dist(a, c) - instance.dist(b, d)
}

/// Nearest neighbour from city `start`: every partial tour, the last the whole tour.
pub fn nearest_neighbour(instance: &Instance, start: usize) -> Vec<Vec<usize>> {
    let n = instance.len();
    let mut visited = vec![false; n];
    let mut tour = vec![start];
    visited[start] = true;
    let mut partial = vec![tour.clone()];
    while tour.len() < n {
        let last = tour[tour.len() - 1];
        let next = (0..n)
            .filter(|&c| !visited[c])
            .min_by(|&a, &b| instance.dist(last, a).total_cmp(&instance.dist(last, b)))
            .unwrap_or(0);
        visited[next] = true;
        tour.push(next);
        partial.push(tour.clone());
    }
    partial
}

/// Farthest insertion: start from the two cities farthest apart; repeatedly take the city
/// farthest from the tour and insert it where it lengthens the tour least. Every partial tour.
pub fn farthest_insertion(instance: &Instance) -> Vec<Vec<usize>> {
    let n = instance.len();
    if n < 3 {
        return vec![(0..n).collect()];
    }
    let (mut a, mut b) = (0, 1);
    for i in 0..n {
        for j in (i + 1)..n {
            if instance.dist(i, j) > instance.dist(a, b) {
                (a, b) = (i, j);
            }
        }
    }
    let mut tour = vec![a, b];
    let mut in_tour = vec![false; n];
    in_tour[a] = true;
    in_tour[b] = true;
    // Each outside city's distance to the nearest tour city.
    let mut to_tour: Vec<f64> = (0..n)
        .map(|c| instance.dist(c, a).min(instance.dist(c, b)))
        .collect();
    let mut partial = vec![tour.clone()];
    while tour.len() < n {
        let far = (0..n)
            .filter(|&c| !in_tour[c])
            .max_by(|&x, &y| to_tour[x].total_cmp(&to_tour[y]))
            .unwrap_or(0);
        let k = tour.len();
        let best = (0..k)
            .min_by(|&p, &q| {
                let cost = |p: usize| {
                    let (u, v) = (tour[p], tour[(p + 1) % k]);
                    instance.dist(u, far) + instance.dist(far, v) - instance.dist(u, v)
                };
                cost(p).total_cmp(&cost(q))
            })
            .unwrap_or(0);
        tour.insert(best + 1, far);
        in_tour[far] = true;
        for (c, d) in to_tour.iter_mut().enumerate() {
            *d = d.min(instance.dist(c, far));
        }
        partial.push(tour.clone());
    }
    partial
}

/// Each city's nearest other cities, nearest first.
fn neighbour_lists(instance: &Instance, k: usize) -> Vec<Vec<usize>> {
    let n = instance.len();
    (0..n)
        .map(|a| {
            let mut others: Vec<usize> = (0..n).filter(|&c| c != a).collect();
            let k = k.min(others.len());
            if k < others.len() {
                others.select_nth_unstable_by(k, |&x, &y| {
                    instance.dist(a, x).total_cmp(&instance.dist(a, y))
                });
                others.truncate(k);
            }
            others.sort_by(|&x, &y| instance.dist(a, x).total_cmp(&instance.dist(a, y)));
            others
        })
        .collect()
}

/// The best improving move among the candidate exchanges that join a city to one of its
/// neighbours.
fn best_listed_move(
    instance: &Instance,
    tour: &[usize],
    position: &[usize],
    lists: &[Vec<usize>],
) -> Option<TwoOptMove> {
    let n = tour.len();
    let mut best: Option<TwoOptMove> = None;
    for (i, &a) in tour.iter().enumerate() {
        let succ_a = tour[(i + 1) % n];
        let pred_a = tour[(i + n - 1) % n];
        for &c in &lists[a] {
            // A new edge (a, c) must be shorter than an edge it replaces to help.
            let dac = instance.dist(a, c);
            if dac >= instance.dist(a, succ_a).max(instance.dist(a, pred_a)) {
                break;
            }
            let pc = position[c];
            // (a, succ a) and (c, succ c) out: positions i and pc.
            // (pred a, a) and (pred c, c) out: positions i−1 and pc−1.
            for (p, q) in [(i, pc), ((i + n - 1) % n, (pc + n - 1) % n)] {
                let (p, q) = (p.min(q), p.max(q));
                if p == q || (p == 0 && q == n - 1) {
                    continue;
                }
                let g = gain(instance, tour, p, q);
                if g > EPS && best.is_none_or(|b| g > b.gain) {
                    best = Some(TwoOptMove {
                        i: p,
                        j: q,
                        gain: g,
                    });
                }
            }
        }
    }
    best
}

/// The best improving move over all pairs of edges.
fn best_move(instance: &Instance, tour: &[usize]) -> Option<TwoOptMove> {
    let n = tour.len();
    let mut best: Option<TwoOptMove> = None;
    for i in 0..n.saturating_sub(2) {
        // j = n − 1 with i = 0 would exchange two adjacent edges.
        let last = if i == 0 { n - 2 } else { n - 1 };
        for j in (i + 2)..=last {
            let g = gain(instance, tour, i, j);
            if g > EPS && best.is_none_or(|b| g > b.gain) {
                best = Some(TwoOptMove { i, j, gain: g });
            }
        }
    }
    best
}

/// Steepest-descent 2-opt from `start` to a 2-opt local optimum: the final tour and the moves.
pub fn two_opt(instance: &Instance, start: &[usize]) -> (Vec<usize>, Vec<TwoOptMove>) {
    let n = start.len();
    let mut tour = start.to_vec();
    let mut moves = Vec::new();
    if n < 4 {
        return (tour, moves);
    }
    let lists = if n > FULL_SCAN_MAX {
        neighbour_lists(instance, NEIGHBOURS)
    } else {
        Vec::new()
    };
    let mut position = vec![0; n];
    loop {
        for (p, &c) in tour.iter().enumerate() {
            position[c] = p;
        }
        let listed = if n > FULL_SCAN_MAX {
            best_listed_move(instance, &tour, &position, &lists)
        } else {
            None
        };
        let mv = listed.or_else(|| best_move(instance, &tour));
        let Some(mv) = mv else {
            return (tour, moves);
        };
        apply_move(&mut tour, mv);
        moves.push(mv);
    }
}

/// Whether no exchange of two edges shortens `tour`.
pub fn is_two_opt_optimal(instance: &Instance, tour: &[usize]) -> bool {
    best_move(instance, tour).is_none()
}

/// Held–Karp: an optimal tour starting at city 0 (n ≤ [`EXACT_MAX`]).
pub fn held_karp(instance: &Instance) -> Result<Vec<usize>, String> {
    let n = instance.len();
    if n > EXACT_MAX {
        return Err(format!(
            "the exact solver takes at most {EXACT_MAX} cities, not {n}"
        ));
    }
    if n <= 3 {
        return Ok((0..n).collect());
    }
    // Subsets of cities 1..n (bit k = city k + 1); cost[mask][j]: shortest path from city 0
    // through `mask`, ending at city j + 1 (in mask).
    let m = n - 1;
    let full = 1usize << m;
    let mut cost = vec![f64::INFINITY; full * m];
    let mut parent = vec![u8::MAX; full * m];
    for j in 0..m {
        cost[(1 << j) * m + j] = instance.dist(0, j + 1);
    }
    // Distances among cities 1..n, row-major, for a tight inner loop.
    let d: Vec<f64> = (0..m)
        .flat_map(|j| (0..m).map(move |k| (j, k)))
        .map(|(j, k)| instance.dist(j + 1, k + 1))
        .collect();
    for mask in 1..full {
        let mut ends = mask;
        while ends != 0 {
            let j = ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let here = cost[mask * m + j];
            if !here.is_finite() {
                continue;
            }
            let mut outside = !mask & (full - 1);
            while outside != 0 {
                let k = outside.trailing_zeros() as usize;
                outside &= outside - 1;
                let next = (mask | (1 << k)) * m + k;
                let c = here + d[j * m + k];
                if c < cost[next] {
                    cost[next] = c;
                    parent[next] = j as u8;
                }
            }
        }
    }
    let last_mask = full - 1;
    let mut end = (0..m)
        .min_by(|&a, &b| {
            (cost[last_mask * m + a] + instance.dist(a + 1, 0))
                .total_cmp(&(cost[last_mask * m + b] + instance.dist(b + 1, 0)))
        })
        .unwrap_or(0);
    let mut mask = last_mask;
    let mut reversed = Vec::with_capacity(n);
    while mask != 0 {
        reversed.push(end + 1);
        let p = parent[mask * m + end];
        mask &= !(1 << end);
        if p == u8::MAX {
            break;
        }
        end = p as usize;
    }
    reversed.push(0);
    reversed.reverse();
    Ok(reversed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::tsp::sim::is_permutation;

    fn brute_force(instance: &Instance) -> f64 {
        fn permute(
            rest: &mut Vec<usize>,
            k: usize,
            tour: &mut Vec<usize>,
            inst: &Instance,
            best: &mut f64,
        ) {
            if k == rest.len() {
                tour.truncate(1);
                tour.extend_from_slice(rest);
                *best = best.min(inst.tour_length(tour));
                return;
            }
            for i in k..rest.len() {
                rest.swap(k, i);
                permute(rest, k + 1, tour, inst, best);
                rest.swap(k, i);
            }
        }
        let mut rest: Vec<usize> = (1..instance.len()).collect();
        let mut best = f64::INFINITY;
        permute(&mut rest, 0, &mut vec![0], instance, &mut best);
        best
    }

    #[test]
    fn held_karp_equals_brute_force() {
        for n in 4..=8 {
            for seed in 0..4 {
                let instance = Instance::random(n, 100 * n as u64 + seed);
                let tour = held_karp(&instance).expect("small");
                assert!(is_permutation(&tour, n));
                let (got, want) = (instance.tour_length(&tour), brute_force(&instance));
                assert!((got - want).abs() < 1e-9, "n {n}: {got} vs {want}");
            }
        }
        assert!(held_karp(&Instance::random(EXACT_MAX + 1, 0)).is_err());
    }

    #[test]
    fn heuristics_make_tours_and_two_opt_never_lengthens() {
        for (n, seed) in [(5, 1), (20, 2), (50, 3), (200, 4), (FULL_SCAN_MAX + 100, 5)] {
            let instance = Instance::random(n, seed);
            let nn = nearest_neighbour(&instance, 0);
            assert_eq!(nn.len(), n);
            let nn_tour = nn.last().expect("tour").clone();
            assert!(is_permutation(&nn_tour, n) && nn_tour[0] == 0);
            let fi = farthest_insertion(&instance).last().expect("tour").clone();
            assert!(is_permutation(&fi, n));
            let (tour, moves) = two_opt(&instance, &nn_tour);
            assert!(is_permutation(&tour, n));
            assert!(!moves.is_empty() || n < 6);
            assert!(is_two_opt_optimal(&instance, &tour), "n {n}");
            let mut replay = nn_tour.clone();
            let mut length = instance.tour_length(&replay);
            for mv in &moves {
                apply_move(&mut replay, *mv);
                let next = instance.tour_length(&replay);
                assert!(next < length && (length - next - mv.gain).abs() < 1e-9);
                length = next;
            }
            assert_eq!(replay, tour);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Every heuristic's tour of any instance is a permutation, and 2-opt ends 2-opt-optimal
        /// and no longer than its start.
        #[test]
        fn every_tour_is_a_permutation(n in 3usize..60, seed in 0u64..10_000) {
            let instance = Instance::random(n, seed);
            let nn = nearest_neighbour(&instance, seed as usize % n).pop().expect("tour");
            proptest::prop_assert!(is_permutation(&nn, n));
            let fi = farthest_insertion(&instance).pop().expect("tour");
            proptest::prop_assert!(is_permutation(&fi, n));
            let (tour, _) = two_opt(&instance, &fi);
            proptest::prop_assert!(is_permutation(&tour, n));
            proptest::prop_assert!(instance.tour_length(&tour) <= instance.tour_length(&fi) + 1e-9);
            proptest::prop_assert!(is_two_opt_optimal(&instance, &tour));
            if n <= 9 {
                let exact = held_karp(&instance).expect("small");
                proptest::prop_assert!(is_permutation(&exact, n));
                proptest::prop_assert!(instance.tour_length(&exact) <= instance.tour_length(&tour) + 1e-9);
            }
        }
    }

    #[test]
    fn two_opt_is_close_to_optimal_on_small_instances() {
        // Steepest 2-opt from nearest neighbour is a few percent above optimal at n = 12.
        let mut gap = 0.0;
        for seed in 0..20 {
            let instance = Instance::random(12, 500 + seed);
            let opt = instance.tour_length(&held_karp(&instance).expect("exact"));
            let start = nearest_neighbour(&instance, 0).pop().expect("tour");
            let (tour, _) = two_opt(&instance, &start);
            let len = instance.tour_length(&tour);
            assert!(len >= opt - 1e-9);
            gap += len / opt - 1.0;
        }
        assert!(gap / 20.0 < 0.06, "mean gap {}", gap / 20.0);
    }
}
