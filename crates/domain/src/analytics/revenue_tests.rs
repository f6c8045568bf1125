use super::*;
use proptest::prelude::*;

fn day(n: i32) -> Day {
    Day::from_ymd(2026, 1, 1).unwrap().plus(n)
}

fn org(n: u128) -> Uuid {
    Uuid::from_u128(0xA000 + n)
}

fn sub(n: u128) -> Uuid {
    Uuid::from_u128(0xB000 + n)
}

fn price(amount: i64, currency: &str, interval: BillingInterval) -> Price {
    Price {
        amount_minor: amount,
        currency: currency.into(),
        interval,
    }
}

fn change(s: u128, o: u128, d: i32, event: SubscriptionEvent) -> SubscriptionChange {
    SubscriptionChange {
        subscription_id: sub(s),
        org_id: org(o),
        day: day(d),
        seq: 0,
        event,
    }
}

fn started(amount: i64, interval: BillingInterval, quantity: u32) -> SubscriptionEvent {
    SubscriptionEvent::Started {
        plan_id: "pro".into(),
        price: price(amount, "EUR", interval),
        quantity,
    }
}

/// The ledger's row of a day.
fn row(l: &Ledger, d: i32) -> &MrrDay {
    l.days.iter().find(|r| r.day == day(d)).unwrap()
}

#[test]
fn a_story_of_every_movement() {
    use BillingInterval::*;
    use SubscriptionEvent as E;
    let history = vec![
        change(1, 1, 1, started(10_000, Month, 1)),
        change(1, 1, 5, E::QuantityChanged { quantity: 3 }),
        change(2, 2, 10, started(120_000, Year, 1)),
        change(3, 2, 12, started(5_000, Month, 1)),
        change(3, 2, 14, E::Cancelled),
        change(1, 1, 15, E::Cancelled),
        change(1, 1, 20, E::Reactivated),
        change(
            2,
            2,
            21,
            E::DiscountStarted {
                discount: Discount::Percent { percent: 25 },
            },
        ),
    ];
    let l = ledger(&history, "EUR", day(0), day(25)).unwrap();
    assert_eq!(l.days.len(), 26);
    assert!(l.days.iter().all(MrrDay::reconciles));
    assert_eq!(row(&l, 1).new, 10_000, "a first subscription is new MRR");
    assert_eq!(row(&l, 5).expansion, 20_000, "1 → 3 seats");
    assert_eq!(row(&l, 10).new, 10_000, "an annual price counts ÷ 12");
    assert_eq!(
        row(&l, 12).expansion,
        5_000,
        "a second subscription expands"
    );
    assert_eq!(
        (row(&l, 14).contraction, row(&l, 14).churn),
        (5_000, 0),
        "one of two cancelled is a contraction, not churn"
    );
    assert_eq!(row(&l, 15).churn, 30_000);
    assert_eq!(row(&l, 15).churned_customers, 1);
    assert_eq!(
        row(&l, 20).reactivation,
        30_000,
        "it paid before: reactivation"
    );
    assert_eq!(row(&l, 21).contraction, 2_500, "25 % off 10,000");
    assert_eq!(row(&l, 25).end, 30_000 + 7_500);
    assert_eq!(row(&l, 25).customers_end, 2);
    assert_eq!(row(&l, 25).arr(), 12 * 37_500);
    let churn: Vec<_> = l
        .movements
        .iter()
        .filter(|m| m.kind == MovementKind::Churn)
        .collect();
    assert_eq!(churn.len(), 1);
    assert_eq!(
        (churn[0].org_id, churn[0].before, churn[0].after),
        (org(1), 30_000, 0)
    );

    let months = rollup(&l.days, Interval::Month);
    assert_eq!(months.len(), 1);
    assert!(months[0].reconciles());
    assert_eq!((months[0].start, months[0].end), (0, 37_500));
    let rates = churn_rates(row(&l, 15));
    assert_eq!(rates.customer_churn, Some(0.5));
}

#[test]
fn other_currencies_and_changes_after_the_range_do_not_count() {
    let mut usd = change(1, 1, 1, started(10_000, BillingInterval::Month, 1));
    if let SubscriptionEvent::Started { price, .. } = &mut usd.event {
        price.currency = "USD".into();
    }
    let history = vec![
        usd,
        change(2, 2, 2, started(700, BillingInterval::Month, 2)),
        change(2, 2, 40, SubscriptionEvent::Cancelled),
    ];
    let l = ledger(&history, "EUR", day(0), day(9)).unwrap();
    assert_eq!(l.days.last().unwrap().end, 1_400);
    assert_eq!(l.movements.len(), 1);
    assert_eq!(
        ledger(&history, "USD", day(0), day(9)).unwrap().days[9].end,
        10_000
    );
}

#[test]
fn history_before_the_range_sets_the_start_and_what_is_a_reactivation() {
    use SubscriptionEvent as E;
    let history = vec![
        change(1, 1, 1, started(1_000, BillingInterval::Month, 1)),
        change(1, 1, 3, E::Cancelled),
        change(2, 2, 4, started(2_000, BillingInterval::Month, 1)),
        change(1, 1, 30, E::Reactivated),
    ];
    let l = ledger(&history, "EUR", day(20), day(30)).unwrap();
    assert_eq!(l.days[0].start, 2_000);
    assert_eq!(l.days[0].customers_start, 1);
    assert_eq!(row(&l, 30).reactivation, 1_000);
    assert_eq!(row(&l, 30).new, 0);
}

#[test]
fn an_impossible_history_is_refused_with_the_change_and_the_reason() {
    use SubscriptionEvent as E;
    let cases = vec![
        (
            vec![change(1, 1, 1, E::QuantityChanged { quantity: 2 })],
            "has not started",
        ),
        (
            vec![
                change(1, 1, 1, started(1_000, BillingInterval::Month, 1)),
                change(1, 1, 2, E::Cancelled),
                change(1, 1, 3, E::QuantityChanged { quantity: 2 }),
            ],
            "reactivate it first",
        ),
        (
            vec![change(1, 1, 1, started(1_000, BillingInterval::Month, 0))],
            "quantity must be 1",
        ),
        (
            vec![
                change(1, 1, 1, started(1_000, BillingInterval::Month, 1)),
                change(1, 2, 2, E::Cancelled),
            ],
            "another organisation",
        ),
        (
            vec![change(1, 1, 1, started(-5, BillingInterval::Month, 1))],
            "price must be 0",
        ),
        (
            vec![
                change(1, 1, 1, started(1_000, BillingInterval::Month, 1)),
                change(1, 1, 2, E::DiscountEnded),
            ],
            "no discount",
        ),
    ];
    for (history, why) in cases {
        let e = ledger(&history, "EUR", day(0), day(5))
            .unwrap_err()
            .to_string();
        assert!(e.contains(why) && e.contains("changes["), "{why}: {e}");
    }
    assert!(ledger(&[], "eur", day(0), day(1)).is_err());
    assert!(ledger(&[], "EUR", day(5), day(1)).is_err());
    assert!(ledger(&[], "EUR", day(0), day(SPAN_MAX_DAYS)).is_err());
}

#[test]
fn rounding_stays_in_integers() {
    let s = SubscriptionState {
        org_id: org(1),
        plan_id: "p".into(),
        price: price(1_000, "EUR", BillingInterval::Year),
        quantity: 1,
        discount: Some(Discount::Percent { percent: 33 }),
        active: true,
    };
    // 1,000 × 67 % = 670 a year → 55.83 a month → 56.
    assert_eq!(mrr(&s), 56);
    let free = SubscriptionState {
        discount: Some(Discount::Amount {
            amount_minor: 5_000,
        }),
        ..s.clone()
    };
    assert_eq!(mrr(&free), 0, "a discount never makes MRR negative");
    let big = SubscriptionState {
        price: price(PRICE_MAX, "EUR", BillingInterval::Month),
        quantity: QUANTITY_MAX,
        discount: None,
        ..s
    };
    assert_eq!(
        mrr(&big),
        1_000_000_000_000_000_000,
        "the largest price × the largest quantity fits in minor units"
    );
}

/// Random histories: each instruction is mapped to a change that can happen to its
/// subscription at that point (so every generated history is valid).
fn history(instructions: &[(u8, u8, u8, u8, u16)]) -> Vec<SubscriptionChange> {
    use SubscriptionEvent as E;
    let mut sorted = instructions.to_vec();
    sorted.sort_by_key(|i| i.2 % 40);
    let mut states: HashMap<Uuid, SubscriptionState> = HashMap::new();
    let mut out = Vec::new();
    for (seq, &(o, s, d, op, param)) in sorted.iter().enumerate() {
        let (o, s) = (u128::from(o % 5), u128::from(s % 3));
        // A subscription belongs to one organisation: the first one it was seen with.
        let owner = states
            .get(&sub(o * 3 + s))
            .map(|st| st.org_id)
            .unwrap_or(org(o));
        let currency = if param % 7 == 0 { "USD" } else { "EUR" };
        let interval = if param % 3 == 0 {
            BillingInterval::Year
        } else {
            BillingInterval::Month
        };
        let p = price(i64::from(param % 500) * 100, currency, interval);
        let state = states.get(&sub(o * 3 + s));
        let event = match state {
            None => E::Started {
                plan_id: format!("plan-{}", param % 4),
                price: p,
                quantity: u32::from(param % 9) + 1,
            },
            Some(st) if !st.active => E::Reactivated,
            Some(st) => match op % 6 {
                0 => E::QuantityChanged {
                    quantity: u32::from(param % 12) + 1,
                },
                1 => E::PlanChanged {
                    plan_id: format!("plan-{}", param % 4),
                    price: p,
                },
                2 if st.discount.is_some() => E::DiscountEnded,
                2 => E::DiscountStarted {
                    discount: if param % 2 == 0 {
                        Discount::Percent {
                            percent: (param % 100) as u8 + 1,
                        }
                    } else {
                        Discount::Amount {
                            amount_minor: i64::from(param % 300) * 10 + 1,
                        }
                    },
                },
                _ => E::Cancelled,
            },
        };
        let c = SubscriptionChange {
            subscription_id: sub(o * 3 + s),
            org_id: owner,
            day: day(i32::from(d % 40)),
            seq: seq as i64,
            event,
        };
        let next = apply(state, &c).expect("generated changes are valid");
        states.insert(c.subscription_id, next);
        out.push(c);
    }
    out
}

/// The reference: each organisation's MRR at the end of `d`, replaying the whole history.
fn org_mrr_naive(h: &[SubscriptionChange], currency: &str, d: Day) -> BTreeMap<Uuid, i64> {
    let mut sorted: Vec<&SubscriptionChange> = h.iter().filter(|c| c.day <= d).collect();
    sorted.sort_by_key(|c| (c.day, c.seq));
    let mut subs: HashMap<Uuid, SubscriptionState> = HashMap::new();
    for c in sorted {
        let next = apply(subs.get(&c.subscription_id), c).unwrap();
        subs.insert(c.subscription_id, next);
    }
    let mut by_org = BTreeMap::new();
    for s in subs.values().filter(|s| s.price.currency == currency) {
        *by_org.entry(s.org_id).or_insert(0) += mrr(s);
    }
    by_org
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every day reconciles, chains to the next, equals a replay of the whole history, and its
    /// movements are each organisation's change classified by the definitions.
    #[test]
    fn the_ledger_reconciles_for_any_history(
        instructions in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u16>()), 0..60),
        from in 0i32..30,
        len in 0i32..20,
        seed in any::<u64>(),
    ) {
        let h = history(&instructions);
        let (from, to) = (day(from), day(from + len));
        let l = ledger(&h, "EUR", from, to).unwrap();
        prop_assert_eq!(l.days.len() as i32, len + 1);
        let mut shuffled = h.clone();
        let n = shuffled.len();
        for i in 0..n {
            shuffled.swap(i, (seed as usize).wrapping_mul(i + 7) % n);
        }
        prop_assert_eq!(&ledger(&shuffled, "EUR", from, to).unwrap(), &l, "the input order does not matter");
        // The reference MRR of every organisation at the end of each day from the first change.
        let naive: Vec<BTreeMap<Uuid, i64>> =
            (-1..=from.days() - day(0).days() + len).map(|n| org_mrr_naive(&h, "EUR", day(n))).collect();
        let at = |d: Day| &naive[(d.days() - day(-1).days()) as usize];
        for (k, r) in l.days.iter().enumerate() {
            prop_assert!(r.reconciles(), "{:?}", r);
            if let Some(next) = l.days.get(k + 1) {
                prop_assert_eq!((r.end, r.customers_end), (next.start, next.customers_start));
            }
            let (before, after) = (at(r.day.plus(-1)), at(r.day));
            prop_assert_eq!(r.end, after.values().sum::<i64>());
            prop_assert_eq!(r.customers_end as usize, after.values().filter(|m| **m > 0).count());
            // Each organisation that moved, classified from the reference.
            let orgs: BTreeSet<Uuid> = before.keys().chain(after.keys()).copied().collect();
            let mut expected = Vec::new();
            for o in orgs {
                let (b, a) = (before.get(&o).copied().unwrap_or(0), after.get(&o).copied().unwrap_or(0));
                let paid_before = (day(0).days()..r.day.days())
                    .filter_map(Day::from_days)
                    .any(|d| at(d).get(&o).is_some_and(|m| *m > 0));
                expected.extend(classify(r.day, o, b, a, paid_before));
            }
            let got: Vec<Movement> = l.movements.iter().filter(|m| m.day == r.day).cloned().collect();
            prop_assert_eq!(got, expected);
        }
        for interval in [Interval::Week, Interval::Month] {
            let periods = rollup(&l.days, interval);
            prop_assert!(periods.iter().all(MrrDay::reconciles));
            prop_assert_eq!(periods.first().map(|p| p.start), l.days.first().map(|d| d.start));
            prop_assert_eq!(periods.last().map(|p| p.end), l.days.last().map(|d| d.end));
        }
    }
}
