//! The check's settings (the domain's `settings` table, TOML).

use serde::Deserialize;

/// Which scoring the check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// IMail-compatible Paul Graham 2002 ("A Plan for Spam").
    #[default]
    Imail,
    /// Gary Robinson's f(w) with Fisher chi-square combining (SpamBayes/bogofilter).
    Robinson,
}

/// Settings of the statistical check. Percentages are integers, as in IMail. The Robinson
/// defaults were picked for two-state use by 5-fold cross-validation on the SpamAssassin
/// corpus's train split (lowest 10·FP + FN, averaged with the neighbouring max-discriminators
/// values; see the README for the figures).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Settings {
    /// Statistical filtering on for this domain.
    pub enabled: bool,
    /// Scoring mode.
    pub mode: Mode,
    /// The word table file (read by the host and passed in).
    pub table_file: Option<String>,
    /// A file of excluded words, one per line.
    pub exclude_file: Option<String>,
    /// Excluded words given inline.
    pub exclude: Vec<String>,
    /// IMail: probability of a word not in the table, percent.
    pub new_word_probability: u8,
    /// IMail: spam when the probability exceeds this, percent (strictly greater).
    pub threshold: u8,
    /// IMail: number of most interesting words used.
    pub max_words: usize,
    /// Robinson: strength `s` of the prior for rare words.
    pub robinson_s: f64,
    /// Robinson: assumed probability `x` of an unseen word.
    pub robinson_x: f64,
    /// Robinson: a word is used only when |f(w) − 0.5| ≥ this.
    pub min_dev: f64,
    /// Robinson: at most this many most extreme words are combined.
    pub max_discriminators: usize,
    /// Robinson: spam when the chi-square score exceeds this (strictly greater).
    pub spam_cutoff: f64,
    /// Robinson: a score closer than this to 0.5 is undecided, and the header words alone
    /// decide unless their score is undecided too (0 turns this off).
    pub undecided_margin: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            mode: Mode::Imail,
            table_file: None,
            exclude_file: None,
            exclude: Vec::new(),
            new_word_probability: 40,
            threshold: 90,
            max_words: 15,
            robinson_s: 0.1,
            robinson_x: 0.5,
            min_dev: 0.45,
            max_discriminators: 150,
            spam_cutoff: 0.5,
            undecided_margin: 0.002,
        }
    }
}

impl Settings {
    /// Rejects values outside their ranges.
    pub fn validate(&self) -> Result<(), String> {
        if self.new_word_probability > 100 {
            return Err("new-word-probability must be 0..=100".into());
        }
        if self.threshold > 100 {
            return Err("threshold must be 0..=100".into());
        }
        if self.max_words == 0 || self.max_discriminators == 0 {
            return Err("max-words and max-discriminators must be at least 1".into());
        }
        if !(self.robinson_s > 0.0 && self.robinson_s.is_finite()) {
            return Err("robinson-s must be a positive number".into());
        }
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        let below_half = |v: f64| (0.0..0.5).contains(&v);
        if !unit(self.robinson_x)
            || !unit(self.spam_cutoff)
            || !below_half(self.min_dev)
            || !below_half(self.undecided_margin)
        {
            return Err(
                "robinson-x and spam-cutoff must be in [0,1], min-dev and undecided-margin in [0,0.5)"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_keys_and_defaults() {
        let s: Settings = toml_like(r#"mode = "robinson""#);
        assert_eq!(s.mode, Mode::Robinson);
        assert_eq!(
            (s.new_word_probability, s.threshold, s.max_words),
            (40, 90, 15)
        );
        assert_eq!((s.robinson_s, s.robinson_x, s.min_dev), (0.1, 0.5, 0.45));
        assert_eq!(
            (s.max_discriminators, s.spam_cutoff, s.undecided_margin),
            (150, 0.5, 0.002)
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let s = Settings {
            threshold: 101,
            ..Settings::default()
        };
        assert!(s.validate().is_err());
        let s = Settings {
            min_dev: 0.5,
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }

    fn toml_like(text: &str) -> Settings {
        let settings = antispam_sdk::Settings {
            domain: "example.com".into(),
            toml: text.into(),
            files: vec![],
        };
        settings.parse().unwrap()
    }
}
