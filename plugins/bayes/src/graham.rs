//! Paul Graham's "A Plan for Spam" (2002), as IMail's statistical filter applies it.

use crate::table::Counts;

/// A word's spam probability, or `None` when the word is too rare to have an entry
/// (then the caller uses the new-word probability). Good counts are doubled, an entry needs
/// g + b ≥ 5, ratios use the numbers of good/spam messages, and the result is clamped to
/// [0.01, 0.99].
pub fn word_probability(c: Counts, good_messages: u32, spam_messages: u32) -> Option<f64> {
    let g = 2.0 * f64::from(c.good);
    let b = f64::from(c.spam);
    if g + b < 5.0 {
        return None;
    }
    let good_ratio = (g / f64::from(good_messages.max(1))).min(1.0);
    let spam_ratio = (b / f64::from(spam_messages.max(1))).min(1.0);
    Some((spam_ratio / (good_ratio + spam_ratio)).clamp(0.01, 0.99))
}

/// Combines probabilities as Πp / (Πp + Π(1−p)); an empty list gives exactly 0.5.
/// Computed from sums of logarithms, so long lists do not underflow.
pub fn combine(probabilities: impl IntoIterator<Item = f64>) -> f64 {
    let (mut ln_p, mut ln_q) = (0.0f64, 0.0f64);
    for p in probabilities {
        ln_p += p.ln();
        ln_q += (1.0 - p).ln();
    }
    let d = ln_q - ln_p;
    if d.is_nan() {
        0.5
    } else {
        1.0 / (1.0 + d.exp())
    }
}

/// The spam decision: strictly greater than the threshold.
pub fn is_spam(probability: f64, threshold: f64) -> bool {
    probability > threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(good: u32, spam: u32, ngood: u32, nspam: u32) -> Option<f64> {
        word_probability(Counts { good, spam }, ngood, nspam)
    }

    #[test]
    fn empty_message_scores_one_half() {
        assert_eq!(combine([]), 0.5);
        assert!(!is_spam(combine([]), 0.9));
    }

    #[test]
    fn unknown_words_alone() {
        assert!((combine([0.4]) - 0.4).abs() < 1e-12);
        let fifteen = combine([0.4; 15]);
        let expect = 0.4f64.powi(15) / (0.4f64.powi(15) + 0.6f64.powi(15));
        assert!((fifteen - expect).abs() < 1e-12 && (fifteen - 0.0022785).abs() < 1e-7);
    }

    #[test]
    fn clamps_and_minimum_count() {
        assert_eq!(p(0, 5, 100, 100), Some(0.99));
        assert_eq!(p(3, 0, 100, 100), Some(0.01));
        assert_eq!(p(1, 2, 10, 10), None);
        assert!((p(1, 3, 10, 10).unwrap() - 0.6).abs() < 1e-12);
        assert!((p(2, 1, 10, 10).unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(p(0, 200, 100, 100), Some(0.99));
        assert_eq!(
            p(0, 5, 0, 0),
            Some(0.99),
            "zero totals use min 1, no division by zero"
        );
    }

    #[test]
    fn graham_worked_examples() {
        let madam = [
            0.99,
            0.99,
            0.99,
            0.047225013,
            0.047225013,
            0.07347802,
            0.08221981,
            0.09019077,
            0.09019077,
            0.9075001,
            0.8921298,
            0.12454646,
            0.8568143,
            0.14758544,
            0.82347786,
        ];
        assert!((combine(madam) - 0.902774).abs() < 1e-6);
        assert!((combine([0.97, 0.99]) - 0.9996877).abs() < 1e-6);
        assert!((combine([0.9889, 0.99]) - 0.9998).abs() < 1e-4);
    }

    #[test]
    fn opposite_extremes_cancel() {
        let mut ps = vec![0.99; 8];
        ps.extend([0.01; 8]);
        assert!((combine(ps) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn threshold_is_strict() {
        assert!(!is_spam(0.9, 0.9));
        assert!(is_spam(0.9000001, 0.9));
    }

    #[test]
    fn certain_words_do_not_produce_nan() {
        assert_eq!(combine([1.0, 0.5]), 1.0);
        assert_eq!(combine([0.0, 0.5]), 0.0);
        assert_eq!(combine([0.0, 1.0]), 0.5);
    }
}
