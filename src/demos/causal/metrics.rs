//! Scoring edge probabilities against the true graphs: the ROC curve and its area (pooled over
//! every ordered pair of every sample), ties counted half as the Mann–Whitney statistic does.

/// The area under the ROC curve of `scores` for `labels`: the probability that a random true
/// edge scores above a random non-edge, ties counting ½. `None` without both classes.
pub fn auroc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len().min(labels.len())).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let positives = order.iter().filter(|&&i| labels[i]).count();
    let negatives = order.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Mid-ranks of tied groups.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mid_rank = (start + end + 1) as f64 / 2.0;
        rank_sum += mid_rank * order[start..end].iter().filter(|&&i| labels[i]).count() as f64;
        start = end;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// The ROC curve's corners `[false-positive rate, true-positive rate]` from (0, 0) to (1, 1),
/// one per distinct threshold.
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Vec<[f64; 2]> {
    let mut order: Vec<usize> = (0..scores.len().min(labels.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = order.iter().filter(|&&i| labels[i]).count().max(1) as f64;
    let negatives = order.iter().filter(|&&i| !labels[i]).count().max(1) as f64;
    let mut curve = vec![[0.0, 0.0]];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order
            .get(k + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            curve.push([fp / negatives, tp / positives]);
        }
    }
    curve
}

/// The pooled AUROC of per-sample probabilities against per-sample labels.
pub fn pooled_auroc(probabilities: &[Vec<f64>], labels: &[Vec<bool>]) -> Option<f64> {
    let scores: Vec<f64> = probabilities.iter().flatten().copied().collect();
    let truth: Vec<bool> = labels.iter().flatten().copied().collect();
    auroc(&scores, &truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_matches_a_hand_computed_ranking() {
        // Positives 0.9, 0.4, 0.35; negatives 0.8, 0.3, 0.1 (Fawcett's style of example):
        // pairs won: 0.9 beats all 3; 0.4 beats 0.3, 0.1; 0.35 beats 0.3, 0.1 → 7 of 9.
        let scores = [0.9, 0.8, 0.4, 0.35, 0.3, 0.1];
        let labels = [true, false, true, true, false, false];
        assert!((auroc(&scores, &labels).expect("both") - 7.0 / 9.0).abs() < 1e-12);
        // A tie between a positive and a negative counts half.
        let tied = auroc(&[0.5, 0.5, 0.2], &[true, false, false]).expect("both");
        assert!((tied - 0.75).abs() < 1e-12, "{tied}");
        assert_eq!(auroc(&[0.1, 0.2], &[true, true]), None);
        let all_tied = auroc(&[1.0; 4], &[true, false, true, false]).expect("both");
        assert!((all_tied - 0.5).abs() < 1e-12);
    }

    #[test]
    fn the_roc_curve_climbs_from_the_origin_to_one_and_its_area_is_the_auroc() {
        let scores = [0.9, 0.8, 0.4, 0.35, 0.3, 0.1, 0.4];
        let labels = [true, false, true, true, false, false, false];
        let curve = roc_curve(&scores, &labels);
        assert_eq!(curve.first(), Some(&[0.0, 0.0]));
        assert_eq!(curve.last(), Some(&[1.0, 1.0]));
        let area: f64 = curve
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]) * (w[1][1] + w[0][1]) / 2.0)
            .sum();
        let expected = auroc(&scores, &labels).expect("both");
        assert!((area - expected).abs() < 1e-12, "{area} vs {expected}");
    }
}
