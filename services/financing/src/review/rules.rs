//! Scoring, with no I/O. Scores are whole points (0 to 100) and weights
//! whole percentages adding up to 100, so a weighted score is an exact
//! number of hundredths of a point; spreads and pass marks are compared
//! in hundredths, never in floating point.

use gearshift_platform::Error;
use gearshift_platform::error::Violations;
use gearshift_proto::financing::v1 as pb;
use pb::review::{Declaration, State};

use crate::programme::rules::text;

/// The fewest scored reviews any decision needs.
pub const MIN_REVIEWERS: i32 = 2;
/// The spread over which a consensus note is needed, when the programme
/// sets none.
pub const DEFAULT_SPREAD: i32 = 20;

/// The reviews a programme needs: its own minimum, never fewer than two.
pub fn required(programme: &pb::Programme) -> i32 {
    programme.min_reviewers.max(MIN_REVIEWERS)
}

fn spread_limit(programme: &pb::Programme) -> i64 {
    let points = if programme.max_score_spread == 0 {
        DEFAULT_SPREAD
    } else {
        programme.max_score_spread
    };
    i64::from(points) * 100
}

/// A weighted score in hundredths of a point: Σ weight × score, with the
/// weights adding up to 100.
pub fn weighted_hundredths(criteria: &[pb::Criterion], scores: &[pb::Score]) -> i64 {
    criteria
        .iter()
        .map(|c| {
            let score = scores
                .iter()
                .find(|s| s.criterion == c.name)
                .map_or(0, |s| s.score);
            i64::from(c.weight) * i64::from(score)
        })
        .sum()
}

pub fn to_points(hundredths: i64) -> f64 {
    hundredths as f64 / 100.0
}

/// A reviewer's submission, checked against the programme's criteria: a
/// declaration; with no conflict, every criterion scored once, 0 to 100,
/// each with a comment; with a conflict, no scores and the conflict named.
/// Returns the review to keep, without its output-only fields.
pub fn check(input: &pb::Review, programme: &pb::Programme) -> Result<pb::Review, Error> {
    let mut v = Violations::new();
    let comment = v.check(
        "review.comment",
        text(
            &input.comment,
            5_000,
            input.declaration == Declaration::Conflict as i32,
        ),
    );
    let mut out = pb::Review {
        declaration: input.declaration,
        comment: comment.unwrap_or_default(),
        ..Default::default()
    };
    match Declaration::try_from(input.declaration) {
        Ok(Declaration::NoConflict) => {
            for (i, s) in input.scores.iter().enumerate() {
                let field = |f: &str| format!("review.scores[{i}].{f}");
                if !programme.criteria.iter().any(|c| c.name == s.criterion) {
                    v.add(field("criterion"), "is not one of the programme's criteria");
                } else if input.scores[..i].iter().any(|o| o.criterion == s.criterion) {
                    v.add(field("criterion"), "is scored twice");
                }
                if !(0..=100).contains(&s.score) {
                    v.add(field("score"), "must be 0 to 100");
                }
                let comment = v.check(&field("comment"), text(&s.comment, 2_000, true));
                out.scores.push(pb::Score {
                    criterion: s.criterion.clone(),
                    score: s.score,
                    comment: comment.unwrap_or_default(),
                });
            }
            let missing: Vec<&str> = programme
                .criteria
                .iter()
                .filter(|c| !input.scores.iter().any(|s| s.criterion == c.name))
                .map(|c| c.name.as_str())
                .collect();
            if !missing.is_empty() {
                v.add(
                    "review.scores",
                    format!(
                        "every criterion needs a score; missing: {}",
                        missing.join(", ")
                    ),
                );
            }
        }
        Ok(Declaration::Conflict) => {
            if !input.scores.is_empty() {
                v.add(
                    "review.scores",
                    "a reviewer with a conflict of interest recuses and scores nothing",
                );
            }
        }
        Ok(Declaration::Unspecified) => v.add(
            "review.declaration",
            "is required: NO_CONFLICT (and scores) or CONFLICT (and recusal)",
        ),
        Err(_) => v.add("review.declaration", "is not a declaration"),
    }
    v.into_result()?;
    out.weighted_score = to_points(weighted_hundredths(&programme.criteria, &out.scores));
    Ok(out)
}

/// The reviews of one application, summed up against its programme.
pub fn summary(programme: &pb::Programme, reviews: &[pb::Review]) -> pb::ReviewSummary {
    let count = |s: State| reviews.iter().filter(|r| r.state == s as i32).count() as i32;
    let scored: Vec<i64> = reviews
        .iter()
        .filter(|r| r.state == State::Submitted as i32)
        .map(|r| weighted_hundredths(&programme.criteria, &r.scores))
        .collect();
    let (mean, spread) = match (scored.iter().min(), scored.iter().max()) {
        (Some(lo), Some(hi)) => (
            scored.iter().sum::<i64>() as f64 / scored.len() as f64,
            hi - lo,
        ),
        _ => (0.0, 0),
    };
    pb::ReviewSummary {
        submitted: count(State::Submitted),
        pending: count(State::Pending),
        recused: count(State::Recused),
        required: required(programme),
        mean_score: (mean.round()) / 100.0,
        spread: to_points(spread),
        consensus_required: spread > spread_limit(programme),
        passes: !scored.is_empty() && mean >= f64::from(programme.pass_mark) * 100.0,
    }
}

/// Whether the reviews allow a decision: every assigned review in, at
/// least the programme's number scored. The refusal names what is missing.
pub fn ready(summary: &pb::ReviewSummary) -> Result<(), String> {
    if summary.pending > 0 {
        return Err(format!(
            "{} assigned review(s) are not in yet",
            summary.pending
        ));
    }
    if summary.submitted < summary.required {
        return Err(format!(
            "the programme needs {} scored reviews and {} are in; assign another reviewer",
            summary.required, summary.submitted
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programme() -> pb::Programme {
        let c = |name: &str, weight| pb::Criterion {
            name: name.into(),
            weight,
        };
        pb::Programme {
            criteria: vec![
                c("technology", 30),
                c("feasibility", 25),
                c("young jobs", 25),
                c("local contribution", 20),
            ],
            pass_mark: 60,
            min_reviewers: 2,
            max_score_spread: 20,
            ..Default::default()
        }
    }

    fn scored(scores: [i32; 4]) -> pb::Review {
        let names = [
            "technology",
            "feasibility",
            "young jobs",
            "local contribution",
        ];
        pb::Review {
            declaration: Declaration::NoConflict as i32,
            scores: names
                .iter()
                .zip(scores)
                .map(|(n, s)| pb::Score {
                    criterion: (*n).into(),
                    score: s,
                    comment: "seen".into(),
                })
                .collect(),
            state: State::Submitted as i32,
            ..Default::default()
        }
    }

    #[test]
    fn weighted_scores_are_exact() {
        let p = programme();
        let cases: &[([i32; 4], i64)] = &[
            ([100, 100, 100, 100], 10_000),
            ([0, 0, 0, 0], 0),
            ([80, 60, 70, 90], 30 * 80 + 25 * 60 + 25 * 70 + 20 * 90),
            ([77, 0, 0, 0], 2_310),
            ([1, 1, 1, 1], 100),
        ];
        for (scores, hundredths) in cases {
            assert_eq!(
                weighted_hundredths(&p.criteria, &scored(*scores).scores),
                *hundredths,
                "{scores:?}"
            );
        }
        assert_eq!(
            check(&scored([77, 0, 0, 0]), &p)
                .ok()
                .map(|r| r.weighted_score),
            Some(23.1)
        );
    }

    #[test]
    fn summaries_table() {
        let p = programme();
        let pending = pb::Review {
            state: State::Pending as i32,
            ..Default::default()
        };
        let recused = pb::Review {
            state: State::Recused as i32,
            ..Default::default()
        };
        // (reviews, ready, consensus required, passes, mean)
        type Case = (Vec<pb::Review>, bool, bool, bool, f64);
        let cases: Vec<(&str, Case)> = vec![
            (
                "nothing in",
                (
                    vec![pending.clone(), pending.clone()],
                    false,
                    false,
                    false,
                    0.0,
                ),
            ),
            (
                "one of two in",
                (
                    vec![scored([70; 4]), pending.clone()],
                    false,
                    false,
                    true,
                    70.0,
                ),
            ),
            (
                "two agree",
                (
                    vec![scored([70; 4]), scored([80; 4])],
                    true,
                    false,
                    true,
                    75.0,
                ),
            ),
            // 20 points apart is within a spread of 20; 20.01 is not.
            (
                "exactly the spread",
                (
                    vec![scored([60; 4]), scored([80; 4])],
                    true,
                    false,
                    true,
                    70.0,
                ),
            ),
            (
                "a hundredth over",
                (
                    vec![scored([60; 4]), scored([80, 80, 80, 81])],
                    true,
                    true,
                    true,
                    70.1,
                ),
            ),
            (
                "under the pass mark",
                (
                    vec![scored([50; 4]), scored([60; 4])],
                    true,
                    false,
                    false,
                    55.0,
                ),
            ),
            (
                "a recusal leaves one",
                (
                    vec![scored([90; 4]), recused.clone()],
                    false,
                    false,
                    true,
                    90.0,
                ),
            ),
            (
                "a recusal replaced",
                (
                    vec![scored([90; 4]), recused, scored([85; 4])],
                    true,
                    false,
                    true,
                    87.5,
                ),
            ),
        ];
        for (name, (reviews, ready_, consensus, passes, mean)) in cases {
            let s = summary(&p, &reviews);
            assert_eq!(ready(&s).is_ok(), ready_, "{name}: ready");
            assert_eq!(s.consensus_required, consensus, "{name}: consensus");
            assert_eq!(s.passes, passes, "{name}: passes");
            assert_eq!(s.mean_score, mean, "{name}: mean");
        }
    }

    #[test]
    fn submissions_are_checked_against_the_criteria() {
        let p = programme();
        let fields = |r: pb::Review| match check(&r, &p) {
            Err(Error::InvalidArgument(v)) => v.into_iter().map(|f| f.field).collect::<Vec<_>>(),
            other => panic!("not refused: {other:?}"),
        };
        let mut missing = scored([70; 4]);
        missing.scores.pop();
        assert_eq!(fields(missing), ["review.scores"]);
        let mut out_of_range = scored([70; 4]);
        out_of_range.scores[1].score = 101;
        assert_eq!(fields(out_of_range), ["review.scores[1].score"]);
        let mut twice = scored([70; 4]);
        twice.scores[3].criterion = "technology".into();
        assert_eq!(
            fields(twice),
            ["review.scores[3].criterion", "review.scores"]
        );
        let mut unknown = scored([70; 4]);
        unknown.scores[0].comment = " ".into();
        assert_eq!(fields(unknown), ["review.scores[0].comment"]);
        let conflict_scoring = pb::Review {
            declaration: Declaration::Conflict as i32,
            comment: "I advised this company last year".into(),
            ..scored([70; 4])
        };
        assert_eq!(fields(conflict_scoring), ["review.scores"]);
        let conflict_unexplained = pb::Review {
            declaration: Declaration::Conflict as i32,
            ..Default::default()
        };
        assert_eq!(fields(conflict_unexplained), ["review.comment"]);
        assert_eq!(fields(pb::Review::default()), ["review.declaration"]);
    }
}
