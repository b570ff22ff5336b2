//! Gary Robinson's method as SpamBayes and bogofilter use it: f(w) for rare words and
//! Fisher's chi-square combining.

use crate::table::Counts;

/// Robinson's f(w) = (s·x + n·p(w)) / (s + n), with p(w) = b / (b + g), b and g the
/// fractions of spam and good messages containing the word (totals at least 1), and
/// n the number of messages containing it. An unseen word (n = 0) gets exactly `x`.
pub fn word_probability(c: Counts, good_messages: u32, spam_messages: u32, s: f64, x: f64) -> f64 {
    let n = f64::from(c.good) + f64::from(c.spam);
    if n == 0.0 {
        return x;
    }
    let b = f64::from(c.spam) / f64::from(spam_messages.max(1));
    let g = f64::from(c.good) / f64::from(good_messages.max(1));
    let p = b / (b + g);
    (s * x + n * p) / (s + n)
}

/// The chi-square survival probability P(X ≥ `chi2`) for `dof` (even) degrees of freedom:
/// e^(−m) Σ_{i<dof/2} m^i / i! with m = chi2/2, capped at 1. While e^(−m) is a normal number
/// the terms are summed directly (each term is a Poisson probability, at most 1); beyond that
/// they are summed in log space, so large arguments neither underflow nor overflow.
pub fn chi2q(chi2: f64, dof: usize) -> f64 {
    let m = chi2 / 2.0;
    if m.is_nan() || m <= 0.0 {
        return 1.0;
    }
    if m.is_infinite() {
        return 0.0;
    }
    let terms = (dof / 2).max(1);
    if m < 700.0 {
        let mut term = (-m).exp();
        let mut sum = term;
        for i in 1..terms {
            term *= m / i as f64;
            sum += term;
        }
        return sum.min(1.0);
    }
    let ln_m = m.ln();
    let mut ln_term = -m; // ln(e^-m m^0 / 0!)
    let mut ln_sum = ln_term;
    for i in 1..terms {
        ln_term += ln_m - (i as f64).ln();
        let (hi, lo) = if ln_sum > ln_term {
            (ln_sum, ln_term)
        } else {
            (ln_term, ln_sum)
        };
        ln_sum = hi + (lo - hi).exp().ln_1p();
    }
    ln_sum.exp().min(1.0)
}

/// Σ ln v over `values` (each in [0, 1]) with one logarithm: the product is kept scaled by
/// powers of two so it cannot underflow.
fn sum_ln(values: impl Iterator<Item = f64>) -> f64 {
    const SCALE: f64 = 4.149515568880993e180; // 2^600, exact
    let (mut product, mut scaled) = (1.0f64, 0i32);
    for v in values {
        product *= v;
        if product < 1e-200 && product > 0.0 {
            product *= SCALE;
            scaled += 1;
        }
    }
    product.ln() - f64::from(scaled) * 600.0 * std::f64::consts::LN_2
}

/// Below this, H and S differ by rounding only (in f(w) and the two sums), not by evidence.
const TIE: f64 = 1e-12;

/// Fisher-combines word probabilities into a score in [0, 1] (≈0 good, ≈1 spam):
/// `(1 + H − S) / 2` with H = chi2q(−2 Σ ln f, 2N) and S = chi2q(−2 Σ ln(1−f), 2N).
/// No words, and words whose evidence cancels exactly (H and S within 10⁻¹²), score exactly
/// 0.5, which is not above a cutoff of 0.5.
pub fn combine(probabilities: &[f64]) -> f64 {
    if probabilities.is_empty() {
        return 0.5;
    }
    let dof = 2 * probabilities.len();
    let ham = chi2q(-2.0 * sum_ln(probabilities.iter().copied()), dof);
    let spam = chi2q(-2.0 * sum_ln(probabilities.iter().map(|f| 1.0 - f)), dof);
    if (ham - spam).abs() < TIE {
        return 0.5;
    }
    (1.0 + ham - spam) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fisher_h(ps: &[f64]) -> f64 {
        chi2q(-2.0 * ps.iter().map(|p| p.ln()).sum::<f64>(), 2 * ps.len())
    }

    #[test]
    fn chi2q_identities() {
        for x in [0.1, 1.0, 7.5, 40.0] {
            assert!((chi2q(x, 2) - (-x / 2.0f64).exp()).abs() < 1e-15);
        }
        assert_eq!(chi2q(0.0, 10), 1.0);
        assert!(chi2q(0.001, 400) <= 1.0);
        assert_eq!(chi2q(f64::INFINITY, 4), 0.0);
    }

    #[test]
    fn linux_journal_vectors() {
        assert!((fisher_h(&[0.9, 0.2, 0.21, 0.89, 0.2, 0.78]) - 0.5722039).abs() < 1e-7);
        assert!((fisher_h(&[0.2, 0.2, 0.01, 0.79, 0.2, 0.58]) - 0.0594128).abs() < 1e-7);
        assert!((fisher_h(&[0.7, 0.89, 0.71, 0.79, 0.972, 0.68]) - 0.9960121).abs() < 1e-7);
    }

    #[test]
    fn spambayes_score_and_cancellation() {
        assert!((combine(&[0.9, 0.2, 0.21, 0.89, 0.2, 0.78]) - 0.616192).abs() < 1e-6);
        assert_eq!(combine(&[]), 0.5);
        // Mirrored counts cancel exactly, whatever the rounding of f(w) and of the sums.
        let f = |good, spam| word_probability(Counts { good, spam }, 2900, 1295, 0.1, 0.5);
        assert_eq!(combine(&[0.99, 0.01]), 0.5);
        assert_eq!(combine(&[f(0, 10), f(10, 0)]), 0.5);
        assert_eq!(
            combine(&[f(0, 3), f(7, 0), f(0, 7), f(3, 0), f(0, 1), f(1, 0)]),
            0.5
        );
    }

    #[test]
    fn rare_word_correction() {
        let f = word_probability(Counts { good: 0, spam: 1 }, 1, 1, 0.45, 0.5);
        assert!((f - 0.844828).abs() < 1e-6);
        assert_eq!(word_probability(Counts::default(), 10, 10, 0.45, 0.5), 0.5);
        assert_eq!(
            word_probability(Counts::default(), 10, 10, 0.45, 0.52),
            0.52
        );
    }

    #[test]
    fn direct_and_log_space_sums_agree() {
        for (x, dof) in [(1390.0, 1400), (200.0, 300), (50.0, 2000), (3.0, 2)] {
            let direct = chi2q(x, dof);
            let m: f64 = x / 2.0;
            let mut ln_sum = -m;
            let mut ln_term = -m;
            for i in 1..dof / 2 {
                ln_term += m.ln() - (i as f64).ln();
                ln_sum = ln_sum.max(ln_term) + (-(ln_sum - ln_term).abs()).exp().ln_1p();
            }
            assert!((direct - ln_sum.exp()).abs() < 1e-9, "{x} {dof}");
        }
        let ps: [f64; 4] = [0.3, 1e-150, 1e-150, 0.7];
        let expect: f64 = ps.iter().map(|p| p.ln()).sum();
        assert!((sum_ln(ps.into_iter()) - expect).abs() < 1e-9);
    }

    #[test]
    fn thousand_tokens_do_not_underflow() {
        let score = combine(&[0.99; 1000]);
        assert!(score.is_finite() && (score - 1.0).abs() < 1e-9, "{score}");
        let score = combine(&[0.01; 1000]);
        assert!(score.is_finite() && score.abs() < 1e-9, "{score}");
    }
}
