//! Printing shared by every benchmark: aligned figure lines, figure-versus-ceiling lines with
//! their ratio and target, and the one-object JSON output of `--json`.
//!
//! A benchmark's figure only means something next to what the machine itself can do, so
//! each benchmark prints its figures beside a ceiling from `bench limits`: label, value and
//! unit, then the ceiling, then the ratio and the target, in aligned columns:
//!
//! ```text
//! async append     312.4 MB/s  ceiling buffered write 401.2 MB/s  ratio 0.78 (target >= 0.70: met)
//! ```

use std::fmt;
use std::io::Write;

use anyhow::{Context, Result};

/// Width of the label column in every printed line.
pub const LABEL_WIDTH: usize = 22;

/// Width of the value column (right-aligned) in every printed line.
pub const VALUE_WIDTH: usize = 9;

/// Width of the unit column when more text follows it on the line.
pub const UNIT_WIDTH: usize = 7;

/// One measured number: what it is, its value and its unit (`MB/s`, `µs`, `syncs/s`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure<'a> {
    /// What was measured, e.g. `buffered write`.
    pub label: &'a str,
    /// The measured value, in `unit`.
    pub value: f64,
    /// The unit of `value`.
    pub unit: &'a str,
}

/// The bound a figure-to-ceiling ratio should respect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Higher is better (throughput): the ratio should be at least this.
    AtLeast(f64),
    /// Lower is better (latency): the ratio should be at most this.
    AtMost(f64),
}

impl Target {
    /// Whether `ratio` meets this target.
    #[must_use]
    pub fn is_met(self, ratio: f64) -> bool {
        match self {
            Target::AtLeast(bound) => ratio >= bound,
            Target::AtMost(bound) => ratio <= bound,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::AtLeast(bound) => write!(f, ">= {bound:.2}"),
            Target::AtMost(bound) => write!(f, "<= {bound:.2}"),
        }
    }
}

/// Formats a value with one decimal, or two below 10 so that small numbers keep their
/// precision; non-finite values print as `n/a`.
#[must_use]
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        "n/a".to_owned()
    } else if value.abs() < 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

/// One aligned line for a figure: `buffered write            401.2 MB/s`.
#[must_use]
pub fn format_figure(figure: &Figure<'_>) -> String {
    format!(
        "{:<LABEL_WIDTH$} {:>VALUE_WIDTH$} {}",
        figure.label,
        format_value(figure.value),
        figure.unit
    )
}

/// Like [`format_figure`], with the unit padded so that `note` starts in one column.
#[must_use]
pub fn format_figure_with_note(figure: &Figure<'_>, note: &str) -> String {
    format!(
        "{:<LABEL_WIDTH$} {:>VALUE_WIDTH$} {:<UNIT_WIDTH$}  {note}",
        figure.label,
        format_value(figure.value),
        figure.unit
    )
}

/// A line for a figure that could not be measured, with the reason in the note column.
#[must_use]
pub fn format_unavailable(label: &str, reason: &str) -> String {
    let blank = "";
    format!(
        "{label:<LABEL_WIDTH$} {:>VALUE_WIDTH$} {blank:<UNIT_WIDTH$}  {reason}",
        "n/a"
    )
}

/// `value / ceiling`, or `None` when the ceiling is not a positive finite number.
#[must_use]
pub fn ratio(value: f64, ceiling: f64) -> Option<f64> {
    let ratio = value / ceiling;
    (ceiling.is_finite() && ceiling > 0.0 && ratio.is_finite()).then_some(ratio)
}

/// A figure beside its ceiling, with the ratio and, if given, whether the target is met:
///
/// `async append  312.4 MB/s  ceiling buffered write 401.2 MB/s  ratio 0.78 (target >= 0.70: met)`
///
/// `ceiling` is `None` when the ceiling could not be measured (e.g. no `O_DIRECT`).
#[must_use]
pub fn format_comparison(
    figure: &Figure<'_>,
    ceiling: Option<&Figure<'_>>,
    target: Option<Target>,
) -> String {
    let head = format!(
        "{:<LABEL_WIDTH$} {:>VALUE_WIDTH$} {:<UNIT_WIDTH$}",
        figure.label,
        format_value(figure.value),
        figure.unit
    );
    let Some(ceiling) = ceiling else {
        return format!("{head}  ceiling not measured   ratio n/a");
    };
    let ceiling_text = format!(
        "ceiling {} {} {}",
        ceiling.label,
        format_value(ceiling.value),
        ceiling.unit
    );
    let ratio_text = match (ratio(figure.value, ceiling.value), target) {
        (None, _) => "ratio n/a".to_owned(),
        (Some(r), None) => format!("ratio {r:.2}"),
        (Some(r), Some(t)) => {
            let verdict = if t.is_met(r) { "met" } else { "NOT met" };
            format!("ratio {r:.2} (target {t}: {verdict})")
        }
    };
    format!("{head}  {ceiling_text}   {ratio_text}")
}

/// Prints [`format_comparison`] on stdout.
pub fn print_comparison(figure: &Figure<'_>, ceiling: Option<&Figure<'_>>, target: Option<Target>) {
    println!("{}", format_comparison(figure, ceiling, target));
}

/// Serializes `value` as one compact JSON object on one line.
///
/// # Errors
/// If `value` cannot be serialized.
pub fn to_json_line<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).context("cannot serialize the report as JSON")
}

/// Prints `value` as exactly one JSON object on stdout (one line, newline-terminated);
/// everything else a benchmark says goes to stderr.
///
/// # Errors
/// If `value` cannot be serialized or stdout cannot be written.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let line = to_json_line(value)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .context("cannot write the JSON report to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPEND: Figure<'static> = Figure {
        label: "async append",
        value: 312.4,
        unit: "MB/s",
    };
    const CEILING: Figure<'static> = Figure {
        label: "buffered write",
        value: 401.2,
        unit: "MB/s",
    };

    /// The ratio is figure over ceiling, printed with two decimals and the target verdict.
    #[test]
    fn comparison_shows_ratio_and_verdict() {
        let met = format_comparison(&APPEND, Some(&CEILING), Some(Target::AtLeast(0.70)));
        assert!(met.starts_with("async append"), "{met}");
        assert!(met.contains("312.4 MB/s"), "{met}");
        assert!(met.contains("ceiling buffered write 401.2 MB/s"), "{met}");
        assert!(met.ends_with("ratio 0.78 (target >= 0.70: met)"), "{met}");

        let missed = format_comparison(&APPEND, Some(&CEILING), Some(Target::AtLeast(0.80)));
        assert!(
            missed.ends_with("ratio 0.78 (target >= 0.80: NOT met)"),
            "{missed}"
        );

        let plain = format_comparison(&APPEND, Some(&CEILING), None);
        assert!(plain.ends_with("ratio 0.78"), "{plain}");
    }

    /// Lower-is-better targets compare the other way.
    #[test]
    fn at_most_targets() {
        let latency = Figure {
            label: "sync send p99",
            value: 3.0,
            unit: "ms",
        };
        let ceiling = Figure {
            label: "4 KiB sync p99",
            value: 2.0,
            unit: "ms",
        };
        let line = format_comparison(&latency, Some(&ceiling), Some(Target::AtMost(2.0)));
        assert!(line.ends_with("ratio 1.50 (target <= 2.00: met)"), "{line}");
    }

    /// Missing or zero ceilings give `n/a`, never a division by zero.
    #[test]
    fn missing_ceilings_are_not_divided_by() {
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, f64::NAN), None);
        assert_eq!(ratio(3.0, 4.0), Some(0.75));
        let line = format_comparison(&APPEND, None, Some(Target::AtLeast(0.7)));
        assert!(line.ends_with("ratio n/a"), "{line}");
        let zero = Figure {
            value: 0.0,
            ..CEILING
        };
        let line = format_comparison(&APPEND, Some(&zero), Some(Target::AtLeast(0.7)));
        assert!(line.ends_with("ratio n/a"), "{line}");
    }

    /// Figure lines keep the value column aligned whatever the label.
    #[test]
    fn figure_lines_align() {
        let a = format_figure(&APPEND);
        let b = format_figure(&Figure {
            label: "x",
            value: 12_345.67,
            unit: "syncs/s",
        });
        assert_eq!(a.find("MB/s"), b.find("syncs/s"));
        assert_eq!(format_value(0.1234), "0.12");
        assert_eq!(format_value(f64::INFINITY), "n/a");
    }

    /// The JSON helper produces one line holding one object.
    #[test]
    fn json_is_one_line() {
        #[derive(serde::Serialize)]
        struct Sample {
            a: f64,
            b: Option<f64>,
        }
        let line = to_json_line(&Sample { a: 1.5, b: None }).expect("serializes");
        assert_eq!(line, r#"{"a":1.5,"b":null}"#);
    }
}
