//! A deterministic generator of analytics facts (`padmin seed analytics`, the demo data, the
//! benchmark): organisations signing up with growth and a weekly rhythm, subscribing to plans
//! (monthly and annual), changing seats, upgrading, getting discounts, churning and sometimes
//! coming back; their users signing up, being active, using features and walking a sign-up
//! funnel. The same spec and seed give the same facts, in chunks that can be made one by one
//! (10,000,000 events never sit in memory at once).

use super::NewSubscriptionChange;
use domain::analytics::{
    BillingInterval, Day, Discount, Price, ProductEvent, SubscriptionChange, SubscriptionEvent,
};
use domain::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    pub orgs: u32,
    /// Product events in all (spread over the organisations and days).
    pub events: u64,
    pub seed: u64,
    /// The last day of the history; it covers `days` days up to it.
    pub until: Day,
    pub days: u32,
}

/// The plans organisations subscribe to: (id, monthly or annual, price of a seat).
pub const PLANS: [(&str, BillingInterval, i64); 5] = [
    ("starter", BillingInterval::Month, 2_900),
    ("pro", BillingInterval::Month, 9_900),
    ("business", BillingInterval::Month, 29_900),
    ("pro-annual", BillingInterval::Year, 99_000),
    ("business-annual", BillingInterval::Year, 299_000),
];

/// The features `feature_used` events name (the first ones far more often).
pub const FEATURES: [&str; 8] = [
    "dashboards",
    "alerts",
    "exports",
    "api",
    "sso",
    "audit_log",
    "webhooks",
    "custom_roles",
];

/// The funnel the generated users walk (each step taken by fewer).
pub const FUNNEL: [&str; 4] = [
    "visited_pricing",
    "started_trial",
    "invited_teammate",
    "subscribed",
];

/// Events per chunk of [`events_chunk`].
pub const EVENTS_PER_CHUNK: u64 = 10_000;

fn rng_for(seed: u64, stream: u64, n: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.rotate_left(17))
}

/// The `i`th organisation's id (stable for a seed).
pub fn org_id(seed: u64, i: u32) -> Uuid {
    let mut r = rng_for(seed, 1, u64::from(i));
    uuid::Builder::from_random_bytes(r.gen()).into_uuid()
}

/// The day the `i`th organisation signs up: more of them later in the period (growth), fewer
/// at weekends.
fn signup_day(spec: &GenerateSpec, i: u32) -> Day {
    let mut r = rng_for(spec.seed, 2, u64::from(i));
    let first = spec.until.plus(1 - spec.days as i32);
    loop {
        // Growth: the density rises along the period (square root of a uniform).
        let x: f64 = r.gen::<f64>().sqrt();
        let d = first.plus((x * f64::from(spec.days.max(1) - 1)).round() as i32);
        let weekend = d.days().rem_euclid(7) >= 2 && d.days().rem_euclid(7) <= 3; // 1970-01-01 was a Thursday
        if !weekend || r.gen_bool(0.4) {
            return d;
        }
    }
}

/// Every subscription change of every organisation, in each subscription's order.
pub fn subscription_changes(spec: &GenerateSpec) -> Vec<NewSubscriptionChange> {
    let mut out = Vec::new();
    for i in 0..spec.orgs {
        let mut r = rng_for(spec.seed, 3, u64::from(i));
        let org = org_id(spec.seed, i);
        let sub = Uuid::from_u128(org.as_u128() ^ 0x5B);
        let mut day = signup_day(spec, i).plus(r.gen_range(0..14));
        let mut seq = 0i64;
        let mut push = |day: Day, seq: &mut i64, event: SubscriptionEvent| {
            *seq += 1;
            let id = Uuid::from_u128(sub.as_u128() ^ (u128::from(*seq as u64) << 64));
            out.push(NewSubscriptionChange {
                id,
                change: SubscriptionChange {
                    subscription_id: sub,
                    org_id: org,
                    day,
                    seq: *seq,
                    event,
                },
            });
        };
        if day > spec.until || r.gen_bool(0.15) {
            continue; // never pays (a free or abandoned trial)
        }
        let mut plan = r.gen_range(0..PLANS.len());
        let price = |p: usize| Price {
            amount_minor: PLANS[p].2,
            currency: "EUR".into(),
            interval: PLANS[p].1,
        };
        let mut seats: u32 = r.gen_range(1..=12);
        push(
            day,
            &mut seq,
            SubscriptionEvent::Started {
                plan_id: PLANS[plan].0.into(),
                price: price(plan),
                quantity: seats,
            },
        );
        // A launch discount for some, ended at the first month past 90 days while subscribed.
        let mut discount_until = None;
        if r.gen_bool(0.1) {
            push(
                day,
                &mut seq,
                SubscriptionEvent::DiscountStarted {
                    discount: Discount::Percent { percent: 20 },
                },
            );
            discount_until = Some(day.plus(90));
        }
        let mut active = true;
        // Month by month: churn, come back, add seats, upgrade.
        loop {
            day = day.plus(r.gen_range(25..35));
            if day > spec.until {
                break;
            }
            if active && discount_until.is_some_and(|end| day >= end) {
                discount_until = None;
                push(day, &mut seq, SubscriptionEvent::DiscountEnded);
            }
            let roll: f64 = r.gen();
            let event = if !active {
                if roll < 0.15 {
                    active = true;
                    SubscriptionEvent::Reactivated
                } else {
                    continue;
                }
            } else if roll < 0.025 {
                active = false;
                SubscriptionEvent::Cancelled
            } else if roll < 0.055 && plan < 2 {
                plan += 1;
                SubscriptionEvent::PlanChanged {
                    plan_id: PLANS[plan].0.into(),
                    price: price(plan),
                }
            } else if roll < 0.15 {
                seats = (seats + r.gen_range(1..4)).min(200);
                SubscriptionEvent::QuantityChanged { quantity: seats }
            } else if roll < 0.18 && seats > 1 {
                seats -= 1;
                SubscriptionEvent::QuantityChanged { quantity: seats }
            } else {
                continue;
            };
            push(day, &mut seq, event);
        }
    }
    out
}

/// How many chunks of [`EVENTS_PER_CHUNK`] the spec's events come in.
pub fn event_chunks(spec: &GenerateSpec) -> u64 {
    spec.events.div_ceil(EVENTS_PER_CHUNK)
}

/// The `n`th chunk of product events (the last one may be shorter).
pub fn events_chunk(spec: &GenerateSpec, n: u64) -> Vec<ProductEvent> {
    let start = n * EVENTS_PER_CHUNK;
    let count = spec.events.saturating_sub(start).min(EVENTS_PER_CHUNK);
    let mut r = rng_for(spec.seed, 4, n);
    let mut out = Vec::with_capacity(count as usize);
    let orgs = spec.orgs.max(1);
    for k in 0..count {
        let i = r.gen_range(0..orgs);
        let org = org_id(spec.seed, i);
        let joined = signup_day(spec, i);
        let span = (spec.until.days() - joined.days()).max(0);
        let day = joined.plus(r.gen_range(0..=span));
        let user: u32 = r.gen_range(0..25);
        let at = Timestamp::from_millis(day.start().millis() + r.gen_range(0..86_400_000));
        let roll: f64 = r.gen();
        let (name, feature) = if day == joined && user == 0 {
            ("signup", None)
        } else if roll < 0.55 {
            ("active", None)
        } else if roll < 0.9 {
            // Zipf-like: the first features far more often.
            let f = ((r.gen::<f64>().powi(3)) * FEATURES.len() as f64) as usize;
            (
                "feature_used",
                Some(FEATURES[f.min(FEATURES.len() - 1)].to_string()),
            )
        } else {
            // Each funnel step is taken by fewer: step k with weight 1/(k+1)².
            let x: f64 = r.gen();
            let step = if x < 0.55 {
                0
            } else if x < 0.8 {
                1
            } else if x < 0.93 {
                2
            } else {
                3
            };
            (FUNNEL[step], None)
        };
        out.push(ProductEvent {
            id: Uuid::from_u128(
                (u128::from(spec.seed) << 64) ^ u128::from(start + k) ^ 0xE0E0_0000_0000_0000,
            ),
            org_id: org,
            user_id: Some(format!("{}-u{user}", &org.simple().to_string()[..8])),
            name: name.into(),
            feature,
            at,
        });
    }
    out
}

/// What [`load`] stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub subscription_changes: u64,
    pub events: u64,
}

/// Generates the spec's facts and sends them through `portal` in batches (the CLI's
/// `seed analytics` and the demo data), reporting `(done, total)` facts as it goes. Sending the
/// same spec again stores nothing new.
pub async fn load(
    portal: &dyn super::Analytics,
    actor: &domain::Actor,
    spec: &GenerateSpec,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> domain::error::Result<Loaded> {
    let changes = subscription_changes(spec);
    let total = changes.len() as u64 + spec.events;
    let mut done = 0;
    let mut loaded = Loaded::default();
    for batch in changes.chunks(domain::analytics::events::BATCH_MAX) {
        let r = portal
            .record_subscription_changes(actor, batch.to_vec())
            .await?;
        loaded.subscription_changes += r.inserted;
        done += batch.len() as u64;
        progress(done, total);
    }
    for n in 0..event_chunks(spec) {
        let chunk = events_chunk(spec, n);
        done += chunk.len() as u64;
        loaded.events += portal.ingest_events(actor, chunk).await?.inserted;
        progress(done, total);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::analytics::{check_event, ledger};

    fn spec() -> GenerateSpec {
        GenerateSpec {
            orgs: 300,
            events: 25_000,
            seed: 42,
            until: Day::from_ymd(2026, 11, 30).unwrap(),
            days: 365,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_facts_and_another_seed_others() {
        let s = spec();
        assert_eq!(subscription_changes(&s), subscription_changes(&s));
        assert_eq!(events_chunk(&s, 1), events_chunk(&s, 1));
        let other = GenerateSpec { seed: 43, ..s };
        assert_ne!(subscription_changes(&s), subscription_changes(&other));
        assert_eq!(event_chunks(&s), 3);
        let all: usize = (0..event_chunks(&s))
            .map(|n| events_chunk(&s, n).len())
            .sum();
        assert_eq!(all, 25_000);
    }

    #[test]
    fn generated_facts_are_valid_and_the_business_moves_every_way() {
        let s = spec();
        let changes: Vec<SubscriptionChange> = subscription_changes(&s)
            .into_iter()
            .map(|c| c.change)
            .collect();
        let l = ledger(&changes, "EUR", s.until.plus(-364), s.until).expect("a valid history");
        let total = |f: fn(&domain::analytics::MrrDay) -> i64| l.days.iter().map(f).sum::<i64>();
        assert!(total(|d| d.new) > 0 && total(|d| d.expansion) > 0);
        assert!(total(|d| d.churn) > 0 && total(|d| d.contraction) > 0);
        assert!(total(|d| d.reactivation) > 0, "some come back");
        assert!(l.days.iter().all(domain::analytics::MrrDay::reconciles));
        let last = l.days.last().unwrap();
        assert!(
            last.end > l.days[180].end,
            "it grows: {} then {}",
            l.days[180].end,
            last.end
        );
        let now = s.until.plus(1).start();
        for e in events_chunk(&s, 0) {
            assert!(check_event(&e, now).is_empty(), "{e:?}");
        }
    }
}
