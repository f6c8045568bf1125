use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn day(n: i32) -> Day {
    Day::from_days(20_000 + n).expect("a day")
}

/// Counts every window directly.
fn brute(activity: &BTreeSet<(i32, u8)>, d: i32, n: i32) -> u32 {
    activity
        .iter()
        .filter(|(a, _)| *a <= d && *a > d - n)
        .map(|(_, k)| *k)
        .collect::<BTreeSet<_>>()
        .len() as u32
}

#[test]
fn a_subject_counts_once_per_window() {
    let mut w = ActiveWindow::default();
    assert_eq!(
        w.day(day(0), ["a", "b", "a"]),
        Actives {
            daily: 2,
            weekly: 2,
            monthly: 2
        }
    );
    assert_eq!(
        w.day(day(1), ["a"]),
        Actives {
            daily: 1,
            weekly: 2,
            monthly: 2
        }
    );
    for n in 2..7 {
        w.day(day(n), []);
    }
    // Day 7: `b` (last seen on day 0) left the week; `a` (day 1) is still in it.
    assert_eq!(
        w.day(day(7), []),
        Actives {
            daily: 0,
            weekly: 1,
            monthly: 2
        }
    );
    for n in 8..30 {
        w.day(day(n), []);
    }
    assert_eq!(w.day(day(30), []).monthly, 1);
    assert_eq!(w.day(day(31), []).monthly, 0);
}

#[test]
fn weeks_and_months_keep_their_last_actives_and_sum_signups() {
    let monday = day(0).week_start();
    let g = |n: i32, signups: u32, daily: u32| GrowthDay {
        day: monday.plus(n),
        signups,
        users: Actives {
            daily,
            weekly: daily,
            monthly: daily,
        },
        orgs: Actives::default(),
    };
    // Days 0–2 are one week, day 8 the next.
    let days = [g(0, 1, 5), g(1, 2, 6), g(2, 3, 7), g(8, 4, 9)];
    let weeks = rollup_growth(&days, Interval::Week);
    assert_eq!(weeks.len(), 2);
    assert_eq!((weeks[0].day, weeks[1].day), (monday, monday.plus(7)));
    assert_eq!((weeks[0].signups, weeks[0].users.daily), (6, 7));
    assert_eq!((weeks[1].signups, weeks[1].users.daily), (4, 9));
    assert_eq!(rollup_growth(&days, Interval::Day), days.to_vec());
}

proptest! {
    /// For any activity, the one-pass counts equal counting each window.
    #[test]
    fn counts_equal_brute_force(pairs in proptest::collection::vec((0i32..80, 0u8..12), 0..200)) {
        let activity: BTreeSet<(i32, u8)> = pairs.into_iter().collect();
        let mut w = ActiveWindow::default();
        for d in 0..90 {
            let today: Vec<u8> = activity.iter().filter(|(a, _)| *a == d).map(|(_, k)| *k).collect();
            let got = w.day(day(d), today);
            prop_assert_eq!(got.daily, brute(&activity, d, 1));
            prop_assert_eq!(got.weekly, brute(&activity, d, WEEK_DAYS));
            prop_assert_eq!(got.monthly, brute(&activity, d, MONTH_DAYS));
        }
    }
}
