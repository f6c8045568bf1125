use super::*;
use crate::analytics::revenue::{
    ledger, BillingInterval, Price, SubscriptionChange, SubscriptionEvent,
};
use proptest::prelude::*;

fn day(y: i32, m: u8, d: u8) -> Day {
    Day::from_ymd(y, m, d).unwrap()
}

fn change(s: u128, d: Day, seq: i64, event: SubscriptionEvent) -> SubscriptionChange {
    SubscriptionChange {
        subscription_id: Uuid::from_u128(s),
        org_id: Uuid::from_u128(0xA0 + s),
        day: d,
        seq,
        event,
    }
}

fn start(amount: i64) -> SubscriptionEvent {
    SubscriptionEvent::Started {
        plan_id: "p".into(),
        price: Price {
            amount_minor: amount,
            currency: "EUR".into(),
            interval: BillingInterval::Month,
        },
        quantity: 1,
    }
}

#[test]
fn a_cohort_that_expanded_and_churned() {
    let history = vec![
        change(1, day(2026, 1, 5), 0, start(100)),
        change(2, day(2026, 1, 20), 0, start(100)),
        change(
            1,
            day(2026, 2, 3),
            1,
            SubscriptionEvent::QuantityChanged { quantity: 2 },
        ),
        change(2, day(2026, 2, 10), 1, SubscriptionEvent::Cancelled),
        change(3, day(2026, 2, 11), 0, start(500)),
    ];
    let l = ledger(&history, "EUR", day(2026, 1, 1), day(2026, 3, 31)).unwrap();
    let c = cohorts(&l.movements, day(2026, 3, 31));
    assert_eq!(c.len(), 2);
    assert_eq!(
        (c[0].month, c[0].organisations, c[0].base_mrr),
        (day(2026, 1, 1), 2, 200)
    );
    assert_eq!(c[0].months.len(), 2, "February and March");
    assert_eq!(
        c[0].months[0],
        Retention {
            nrr: Some(1.0),
            grr: Some(0.5)
        }
    );
    assert_eq!(
        (c[1].organisations, c[1].base_mrr, c[1].months.len()),
        (1, 500, 1)
    );
    // February: the new organisation of February is left out.
    let feb = period_retention(&l.movements, day(2026, 2, 1), day(2026, 2, 28));
    assert_eq!(
        feb,
        Retention {
            nrr: Some(1.0),
            grr: Some(0.5)
        }
    );
    let none = period_retention(&l.movements, day(2025, 1, 1), day(2025, 12, 31));
    assert_eq!(
        none,
        Retention {
            nrr: None,
            grr: None
        }
    );
}

proptest! {
    /// GRR never exceeds 100 % nor NRR; a cohort's base is its organisations' MRR.
    #[test]
    fn gross_retention_is_bounded_by_net(
        plan in prop::collection::vec((0u8..6, 0u16..120, 0u8..4, 1u32..5), 1..40),
        from in 0i32..60, len in 0i32..60,
    ) {
        let d0 = day(2026, 1, 1);
        let mut plan = plan;
        plan.sort_by_key(|p| p.1);
        let mut active = std::collections::HashMap::new();
        let mut history = Vec::new();
        for (seq, (s, d, op, q)) in plan.into_iter().enumerate() {
            let s = u128::from(s);
            let event = match (active.get(&s).copied(), op) {
                (None, _) => start(i64::from(q) * 100),
                (Some(false), _) => SubscriptionEvent::Reactivated,
                (Some(true), 0) => SubscriptionEvent::Cancelled,
                (Some(true), _) => SubscriptionEvent::QuantityChanged { quantity: q },
            };
            active.insert(s, !matches!(event, SubscriptionEvent::Cancelled));
            history.push(change(s, d0.plus(i32::from(d)), seq as i64, event));
        }
        let l = ledger(&history, "EUR", d0, d0.plus(150)).unwrap();
        let r = period_retention(&l.movements, d0.plus(from), d0.plus(from + len));
        if let (Some(n), Some(g)) = (r.nrr, r.grr) {
            prop_assert!(g <= 1.0 + 1e-12 && g <= n + 1e-12, "{:?}", r);
        } else {
            prop_assert_eq!(r.nrr.is_none(), r.grr.is_none());
        }
        for c in cohorts(&l.movements, d0.plus(150)) {
            for m in &c.months {
                if let (Some(n), Some(g)) = (m.nrr, m.grr) {
                    prop_assert!(g <= 1.0 + 1e-12 && g <= n + 1e-12);
                }
            }
            prop_assert!(c.organisations >= 1);
        }
    }
}

#[test]
fn months_across_cohorts_weigh_each_cohort_by_its_base() {
    let r = |nrr: f64, grr: f64| Retention {
        nrr: Some(nrr),
        grr: Some(grr),
    };
    let cohorts = vec![
        Cohort {
            month: day(2026, 1, 1),
            organisations: 1,
            base_mrr: 300,
            months: vec![r(1.2, 0.9), r(1.0, 0.8)],
        },
        Cohort {
            month: day(2026, 2, 1),
            organisations: 2,
            base_mrr: 100,
            months: vec![r(0.8, 0.8)],
        },
        Cohort {
            month: day(2026, 3, 1),
            organisations: 1,
            base_mrr: 0,
            months: vec![],
        },
    ];
    let by = across_cohorts(&cohorts);
    assert_eq!(by.len(), 2);
    // Month 1: (1.2 × 300 + 0.8 × 100) ÷ 400; month 2: the first cohort alone.
    assert!((by[0].nrr.unwrap() - 1.1).abs() < 1e-12);
    assert!((by[0].grr.unwrap() - 0.875).abs() < 1e-12);
    assert!((by[1].nrr.unwrap() - 1.0).abs() < 1e-12);
    assert!((by[1].grr.unwrap() - 0.8).abs() < 1e-12);
    assert_eq!(across_cohorts(&[]), Vec::new());
}
