use super::*;
use proptest::prelude::*;

const MIN: i64 = 60_000;

fn spec(steps: &[&str], window: i64) -> FunnelSpec {
    FunnelSpec {
        steps: steps.iter().map(|s| s.to_string()).collect(),
        window_ms: window,
        step_windows_ms: Vec::new(),
        exclusions: Vec::new(),
    }
}

fn ev(name: &str, at: i64) -> FunnelEvent<'_> {
    FunnelEvent { name, at }
}

#[test]
fn a_signup_funnel_counts_reaches_drop_offs_and_times() {
    let s = spec(&["visit", "signup", "paid"], 60 * MIN);
    let subjects = [
        vec![ev("visit", 0), ev("signup", 5 * MIN), ev("paid", 20 * MIN)],
        vec![ev("visit", 0), ev("signup", 10 * MIN)],
        vec![ev("visit", 0), ev("signup", 90 * MIN)], // outside the window
        vec![ev("signup", 0)],                        // never entered
        vec![
            ev("paid", 0),
            ev("visit", 1),
            ev("signup", 2),
            ev("paid", 3),
        ],
    ];
    let all: Vec<Progress> = subjects.iter().map(|e| progress(&s, e)).collect();
    assert_eq!(
        all.iter().map(|p| p.depth).collect::<Vec<_>>(),
        [3, 2, 1, 0, 3]
    );
    let steps = summarize(&s, &all);
    assert_eq!(steps.iter().map(|s| s.count).collect::<Vec<_>>(), [4, 3, 2]);
    assert_eq!(steps[1].drop_off, 1);
    assert_eq!(steps[1].conversion_from_previous, Some(0.75));
    assert_eq!(steps[2].conversion_from_start, Some(0.5));
    assert_eq!(
        steps[2].median_ms,
        Some(2),
        "the lower middle of 2 ms and 20 min"
    );
    assert_eq!(steps[2].mean_ms, Some((20 * MIN + 2) / 2));
    assert_eq!(steps[0].conversion_from_previous, None);
}

#[test]
fn a_later_start_can_convert_where_the_first_one_cannot() {
    // Started at 0, the window closes at 30; started again at 40, it converts by 60.
    let s = spec(&["visit", "signup"], 30 * MIN);
    let p = progress(
        &s,
        &[
            ev("visit", 0),
            ev("visit", 40 * MIN),
            ev("signup", 60 * MIN),
        ],
    );
    assert_eq!(
        p,
        Progress {
            depth: 2,
            times: vec![0, 20 * MIN]
        }
    );
}

#[test]
fn step_windows_pick_the_route_that_fits() {
    // Step 2 at 1 leaves step 3 (at 15) out of its 6-minute window; step 2 at 10 does not.
    let mut s = spec(&["a", "b", "c"], 60 * MIN);
    s.step_windows_ms = vec![None, Some(6 * MIN)];
    let p = progress(
        &s,
        &[
            ev("a", 0),
            ev("b", MIN),
            ev("b", 10 * MIN),
            ev("c", 15 * MIN),
        ],
    );
    assert_eq!(p.depth, 3);
}

#[test]
fn an_excluded_event_between_two_steps_stops_that_route() {
    let mut s = spec(&["cart", "checkout", "paid"], 60 * MIN);
    s.exclusions = vec![Exclusion {
        event: "support_ticket".into(),
        from_step: 1,
        to_step: 3,
    }];
    let blocked = progress(
        &s,
        &[
            ev("cart", 0),
            ev("support_ticket", 1),
            ev("checkout", 2),
            ev("paid", 3),
        ],
    );
    assert_eq!(blocked.depth, 1);
    let after = progress(
        &s,
        &[
            ev("cart", 0),
            ev("checkout", 2),
            ev("paid", 3),
            ev("support_ticket", 4),
        ],
    );
    assert_eq!(after.depth, 3);
    let restarted = progress(
        &s,
        &[
            ev("cart", 0),
            ev("support_ticket", 1),
            ev("cart", 2),
            ev("checkout", 3),
            ev("paid", 4),
        ],
    );
    assert_eq!(
        restarted.depth, 3,
        "a new start after the excluded event converts"
    );
}

#[test]
fn bad_specs_are_refused_with_their_field() {
    let ok = spec(&["a", "b"], MIN);
    assert!(ok.validate().is_ok());
    let cases: Vec<(FunnelSpec, &str)> = vec![
        (spec(&["a"], MIN), "steps"),
        (spec(&["a"; 11], MIN), "steps"),
        (spec(&["a", ""], MIN), "steps[1]"),
        (spec(&["a", "b"], 0), "window"),
        (spec(&["a", "b"], WINDOW_MAX_MS + 1), "window"),
        (
            FunnelSpec {
                step_windows_ms: vec![None, None],
                ..ok.clone()
            },
            "step_windows",
        ),
        (
            FunnelSpec {
                step_windows_ms: vec![Some(2 * MIN)],
                ..ok.clone()
            },
            "step_windows[0]",
        ),
        (
            FunnelSpec {
                exclusions: vec![Exclusion {
                    event: "a".into(),
                    from_step: 1,
                    to_step: 2,
                }],
                ..ok.clone()
            },
            "exclusions[0]",
        ),
        (
            FunnelSpec {
                exclusions: vec![Exclusion {
                    event: "x".into(),
                    from_step: 2,
                    to_step: 2,
                }],
                ..ok.clone()
            },
            "exclusions[0]",
        ),
    ];
    for (s, field) in cases {
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
}

/// The reference: every valid path enumerated, straight from the definitions.
fn brute_force(spec: &FunnelSpec, events: &[FunnelEvent<'_>]) -> Progress {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| (events[i].at, i));
    let ev: Vec<&FunnelEvent> = order.iter().map(|&i| &events[i]).collect();
    let n = spec.steps.len();
    let mut best: Vec<Option<i64>> = vec![None; n];
    fn valid(spec: &FunnelSpec, ev: &[&FunnelEvent], path: &[usize]) -> bool {
        let k = path.len();
        let (first, last) = (ev[path[0]].at, ev[path[k - 1]].at);
        if last - first > spec.window_ms {
            return false;
        }
        for s in 1..k {
            let (i, j) = (path[s - 1], path[s]);
            if let Some(Some(w)) = spec.step_windows_ms.get(s - 1) {
                if ev[j].at - ev[i].at > *w {
                    return false;
                }
            }
            for x in &spec.exclusions {
                if x.from_step <= s
                    && s < x.to_step
                    && ev[i + 1..j].iter().any(|e| e.name == x.event)
                {
                    return false;
                }
            }
        }
        true
    }
    fn walk(
        spec: &FunnelSpec,
        ev: &[&FunnelEvent],
        path: &mut Vec<usize>,
        best: &mut Vec<Option<i64>>,
    ) {
        let k = path.len();
        if k > 0 {
            if !valid(spec, ev, path) {
                return;
            }
            let t = ev[path[k - 1]].at - ev[path[0]].at;
            best[k - 1] = Some(best[k - 1].map_or(t, |b: i64| b.min(t)));
        }
        if k == spec.steps.len() {
            return;
        }
        let from = path.last().map_or(0, |p| p + 1);
        for j in from..ev.len() {
            if ev[j].name == spec.steps[k] {
                path.push(j);
                walk(spec, ev, path, best);
                path.pop();
            }
        }
    }
    walk(spec, &ev, &mut Vec::new(), &mut best);
    let times: Vec<i64> = best.iter().map_while(|t| *t).collect();
    Progress {
        depth: times.len().min(n),
        times,
    }
}

fn arb_case() -> impl Strategy<Value = (FunnelSpec, Vec<(u8, i64)>)> {
    let names = ["a", "b", "c", "x", "y"];
    (
        prop::collection::vec(0usize..3, 2..=4),
        1i64..25,
        prop::collection::vec(prop::option::of(1i64..25), 0..=3),
        prop::collection::vec((3usize..5, 1usize..4, 1usize..4), 0..=2),
        prop::collection::vec((0u8..5, 0i64..30), 0..=9),
    )
        .prop_map(move |(steps, window, windows, exclusions, events)| {
            let n = steps.len();
            let spec = FunnelSpec {
                steps: steps.iter().map(|&s| names[s].to_string()).collect(),
                window_ms: window,
                step_windows_ms: if windows.len() == n - 1 {
                    windows.iter().map(|w| w.map(|w| w.min(window))).collect()
                } else {
                    Vec::new()
                },
                exclusions: exclusions
                    .iter()
                    .filter_map(|&(x, a, b)| {
                        let (a, b) = (a.min(b), a.max(b).min(n));
                        (a < b).then(|| Exclusion {
                            event: names[x].into(),
                            from_step: a,
                            to_step: b,
                        })
                    })
                    .collect(),
            };
            (spec, events)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The dynamic programme agrees with every path enumerated: the deepest step and the
    /// fastest time to each.
    #[test]
    fn progress_matches_the_brute_force_reference((spec, raw) in arb_case()) {
        prop_assert!(spec.validate().is_ok(), "{:?}", spec);
        let names = ["a", "b", "c", "x", "y"];
        let events: Vec<FunnelEvent> = raw.iter().map(|&(n, at)| ev(names[n as usize], at)).collect();
        prop_assert_eq!(progress(&spec, &events), brute_force(&spec, &events));
    }

    /// A saved funnel's snapshot keeps each subject's progress per day of entry; merged over a
    /// period's days, it is the progress of entering anywhere in the period.
    #[test]
    fn progress_per_day_merges_into_the_period((spec, raw) in arb_case(), day in 1i64..12, first in 0i64..10, days in 1i64..5) {
        let names = ["a", "b", "c", "x", "y"];
        let events: Vec<FunnelEvent> = raw.iter().map(|&(n, at)| ev(names[n as usize], at)).collect();
        let per_day: Vec<Progress> = (0..days)
            .map(|d| progress_entering(&spec, &events, first + d * day..first + (d + 1) * day))
            .collect();
        let whole = progress_entering(&spec, &events, first..first + days * day);
        prop_assert_eq!(merge(&per_day), whole);
    }
}
