//! Recurring revenue: subscriptions as effective-dated changes, their monthly recurring revenue
//! (MRR), and the **movement ledger** that explains every day's change.
//!
//! Definitions (ChartMogul's):
//! - A subscription's **MRR** is its price × quantity per billing interval, less its discount,
//!   normalised to a month (an annual price ÷ 12, rounded half up), in integer minor units.
//!   A cancelled subscription has none. A change effective on a day counts from that day on:
//!   a day's MRR is what the subscriptions are at the end of it.
//! - An organisation's MRR in a currency is the sum over its subscriptions in that currency.
//! - A day's **movements**, per organisation, compare its MRR at the end of the day before (`b`)
//!   with the end of the day (`a`):
//!   - `b = 0 < a`: **new** if the organisation never had MRR before, else **reactivation**;
//!   - `0 < b < a`: **expansion** (`a − b`); `0 < a < b`: **contraction** (`b − a`);
//!   - `b > 0 = a`: **churn** (`b`) — only when no subscription of the organisation still pays
//!     (one of two cancelled is a contraction).
//! - So every day **reconciles**: `start + new + expansion + reactivation − contraction − churn
//!   = end`, and each day's start is the day before's end. [`MrrDay::reconciles`] checks it; the
//!   snapshot job fails loudly when it does not hold.

use super::day::Day;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// The largest price of one unit, in minor units (10 billion major units).
pub const PRICE_MAX: i64 = 1_000_000_000_000;
/// The longest ledger, in days (20 years).
pub const SPAN_MAX_DAYS: i32 = 7_305;
/// The largest quantity of a subscription.
pub const QUANTITY_MAX: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BillingInterval {
    Month,
    Year,
}

/// A plan's price of one unit per billing interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Price {
    /// Minor units (cents), never a float.
    pub amount_minor: i64,
    /// ISO 4217, upper case (`EUR`).
    pub currency: String,
    pub interval: BillingInterval,
}

/// A discount on a subscription, until it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Discount {
    /// 1 to 100 percent off.
    Percent { percent: u8 },
    /// A fixed amount off each billing interval's total, in minor units.
    Amount { amount_minor: i64 },
}

/// What happened to a subscription on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SubscriptionEvent {
    Started {
        plan_id: String,
        price: Price,
        quantity: u32,
    },
    QuantityChanged {
        quantity: u32,
    },
    PlanChanged {
        plan_id: String,
        price: Price,
    },
    DiscountStarted {
        discount: Discount,
    },
    DiscountEnded,
    Cancelled,
    Reactivated,
}

/// One effective-dated change of a subscription. Changes apply in `(day, seq)` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubscriptionChange {
    pub subscription_id: Uuid,
    pub org_id: Uuid,
    pub day: Day,
    /// Orders the changes of a day (the billing system's event order).
    pub seq: i64,
    pub event: SubscriptionEvent,
}

/// A subscription as its changes left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub org_id: Uuid,
    pub plan_id: String,
    pub price: Price,
    pub quantity: u32,
    pub discount: Option<Discount>,
    pub active: bool,
}

/// Checks an ISO 4217 currency code (three upper-case letters).
pub fn check_currency(code: &str) -> std::result::Result<(), String> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "{code:?} is not a currency code (three capital letters, like EUR)"
        ))
    }
}

fn check_price(p: &Price) -> std::result::Result<(), String> {
    check_currency(&p.currency)?;
    if !(0..=PRICE_MAX).contains(&p.amount_minor) {
        return Err(format!("a price must be 0 to {PRICE_MAX} minor units"));
    }
    Ok(())
}

fn check_quantity(q: u32) -> std::result::Result<(), String> {
    if (1..=QUANTITY_MAX).contains(&q) {
        Ok(())
    } else {
        Err(format!(
            "a quantity must be 1 to {QUANTITY_MAX} (cancel to stop paying)"
        ))
    }
}

fn check_discount(d: &Discount) -> std::result::Result<(), String> {
    match d {
        Discount::Percent { percent } if (1..=100).contains(percent) => Ok(()),
        Discount::Percent { .. } => Err("a percent discount must be 1 to 100".into()),
        Discount::Amount { amount_minor } if (1..=PRICE_MAX).contains(amount_minor) => Ok(()),
        Discount::Amount { .. } => Err(format!(
            "an amount discount must be 1 to {PRICE_MAX} minor units"
        )),
    }
}

/// The subscription after `change`, or why the change cannot happen to it.
pub fn apply(
    state: Option<&SubscriptionState>,
    change: &SubscriptionChange,
) -> std::result::Result<SubscriptionState, String> {
    use SubscriptionEvent as E;
    let current = match (state, &change.event) {
        (
            None,
            E::Started {
                plan_id,
                price,
                quantity,
            },
        ) => {
            check_price(price)?;
            check_quantity(*quantity)?;
            return Ok(SubscriptionState {
                org_id: change.org_id,
                plan_id: plan_id.clone(),
                price: price.clone(),
                quantity: *quantity,
                discount: None,
                active: true,
            });
        }
        (Some(_), E::Started { .. }) => {
            return Err("the subscription has already started (reactivate it instead)".into())
        }
        (None, _) => return Err("the subscription has not started".into()),
        (Some(s), _) => s,
    };
    if current.org_id != change.org_id {
        return Err("a subscription cannot move to another organisation".into());
    }
    let mut next = current.clone();
    match &change.event {
        E::Started { .. } => {}
        E::Reactivated if current.active => return Err("the subscription is active".into()),
        E::Reactivated => next.active = true,
        _ if !current.active => {
            return Err("the subscription is cancelled (reactivate it first)".into())
        }
        E::QuantityChanged { quantity } => {
            check_quantity(*quantity)?;
            next.quantity = *quantity;
        }
        E::PlanChanged { plan_id, price } => {
            check_price(price)?;
            next.plan_id = plan_id.clone();
            next.price = price.clone();
        }
        E::DiscountStarted { discount } => {
            check_discount(discount)?;
            next.discount = Some(discount.clone());
        }
        E::DiscountEnded if current.discount.is_none() => {
            return Err("the subscription has no discount".into())
        }
        E::DiscountEnded => next.discount = None,
        E::Cancelled => next.active = false,
    }
    Ok(next)
}

/// `n / d` rounded half up (both non-negative, `d > 0`).
fn div_round(n: i128, d: i128) -> i128 {
    (2 * n + d) / (2 * d)
}

/// A subscription's MRR in minor units of its price's currency (0 when cancelled).
pub fn mrr(s: &SubscriptionState) -> i64 {
    if !s.active {
        return 0;
    }
    let gross = i128::from(s.price.amount_minor) * i128::from(s.quantity);
    let net = match &s.discount {
        None => gross,
        Some(Discount::Percent { percent }) => {
            div_round(gross * i128::from(100 - (*percent).min(100)), 100)
        }
        Some(Discount::Amount { amount_minor }) => (gross - i128::from(*amount_minor)).max(0),
    };
    let monthly = match s.price.interval {
        BillingInterval::Month => net,
        BillingInterval::Year => div_round(net, 12),
    };
    i64::try_from(monthly).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    New,
    Expansion,
    Reactivation,
    Contraction,
    Churn,
}

/// One organisation's MRR movement on a day: what the ledger's columns add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Movement {
    pub day: Day,
    pub org_id: Uuid,
    pub kind: MovementKind,
    /// The organisation's MRR at the end of the day before, and of the day.
    pub before: i64,
    pub after: i64,
}

impl Movement {
    /// The movement's size (positive).
    pub fn amount(&self) -> i64 {
        (self.after - self.before).abs()
    }
}

/// A day (or a longer period, [`rollup`]) of the MRR ledger, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MrrDay {
    /// The day, or the first day of the period.
    pub day: Day,
    pub start: i64,
    pub new: i64,
    pub expansion: i64,
    pub reactivation: i64,
    pub contraction: i64,
    pub churn: i64,
    pub end: i64,
    /// Paying organisations at the start and the end.
    pub customers_start: u32,
    pub customers_end: u32,
    pub new_customers: u32,
    pub reactivated_customers: u32,
    pub churned_customers: u32,
}

impl MrrDay {
    /// `start + new + expansion + reactivation − contraction − churn = end`, and the same for
    /// the paying organisations.
    pub fn reconciles(&self) -> bool {
        let mrr = i128::from(self.start)
            + i128::from(self.new)
            + i128::from(self.expansion)
            + i128::from(self.reactivation)
            - i128::from(self.contraction)
            - i128::from(self.churn);
        let customers = i64::from(self.customers_start)
            + i64::from(self.new_customers)
            + i64::from(self.reactivated_customers)
            - i64::from(self.churned_customers);
        mrr == i128::from(self.end) && customers == i64::from(self.customers_end)
    }

    /// Annual run rate: MRR at the end × 12.
    pub fn arr(&self) -> i64 {
        self.end.saturating_mul(12)
    }

    fn add(&mut self, m: &Movement) {
        let amount = m.amount();
        match m.kind {
            MovementKind::New => {
                self.new += amount;
                self.new_customers += 1;
            }
            MovementKind::Expansion => self.expansion += amount,
            MovementKind::Reactivation => {
                self.reactivation += amount;
                self.reactivated_customers += 1;
            }
            MovementKind::Contraction => self.contraction += amount,
            MovementKind::Churn => {
                self.churn += amount;
                self.churned_customers += 1;
            }
        }
    }
}

/// The MRR ledger of one currency over `[from, to]`: a row per day and the movements behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub currency: String,
    pub days: Vec<MrrDay>,
    pub movements: Vec<Movement>,
}

/// The movement of an organisation whose MRR went from `before` to `after` on `day`.
fn classify(
    day: Day,
    org_id: Uuid,
    before: i64,
    after: i64,
    paid_before: bool,
) -> Option<Movement> {
    let kind = match (before, after) {
        (b, a) if b == a => return None,
        (0, _) if paid_before => MovementKind::Reactivation,
        (0, _) => MovementKind::New,
        (_, 0) => MovementKind::Churn,
        (b, a) if a > b => MovementKind::Expansion,
        _ => MovementKind::Contraction,
    };
    Some(Movement {
        day,
        org_id,
        kind,
        before,
        after,
    })
}

/// The ledger of `currency` from `from` to `to` (inclusive) for a subscription history.
/// Changes may come in any order; they apply in `(day, seq)` order. A change that cannot
/// happen (a quantity change before the start, …) is refused with its index and reason.
pub fn ledger(
    changes: &[SubscriptionChange],
    currency: &str,
    from: Day,
    to: Day,
) -> Result<Ledger> {
    check_currency(currency).map_err(|m| Error::invalid("currency", m))?;
    if to < from {
        return Err(Error::invalid("to", "must be on or after from"));
    }
    if to.days() - from.days() >= SPAN_MAX_DAYS {
        return Err(Error::invalid(
            "to",
            format!("a ledger covers at most {SPAN_MAX_DAYS} days"),
        ));
    }
    let mut order: Vec<usize> = (0..changes.len()).collect();
    order.sort_by_key(|&i| (changes[i].day, changes[i].seq, i));
    let mut subs: HashMap<Uuid, SubscriptionState> = HashMap::new();
    let mut org_subs: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    let mut org_mrr: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut paid: BTreeSet<Uuid> = BTreeSet::new();
    // The MRR and the paying organisations at the end of the day before.
    let (mut total, mut paying) = (0i64, 0u32);
    let mut days = Vec::new();
    let mut movements = Vec::new();
    let mut k = 0;
    let first = order.first().map_or(from, |&i| changes[i].day.min(from));
    let mut day = first;
    loop {
        // Every change of the day, then each touched organisation's MRR compared.
        let mut touched = BTreeSet::new();
        while let Some(&i) = order.get(k) {
            let c = &changes[i];
            if c.day != day {
                break;
            }
            let next = apply(subs.get(&c.subscription_id), c).map_err(|m| {
                Error::invalid(
                    format!("changes[{i}]"),
                    format!("subscription {} on {}: {m}", c.subscription_id, c.day),
                )
            })?;
            subs.insert(c.subscription_id, next);
            org_subs
                .entry(c.org_id)
                .or_default()
                .insert(c.subscription_id);
            touched.insert(c.org_id);
            k += 1;
        }
        let mut row = MrrDay {
            day,
            start: total,
            end: total,
            customers_start: paying,
            customers_end: paying,
            ..Default::default()
        };
        for org in touched {
            let after: i64 = org_subs
                .get(&org)
                .into_iter()
                .flatten()
                .filter_map(|s| subs.get(s))
                .filter(|s| s.price.currency == currency)
                .map(mrr)
                .sum();
            let before = org_mrr.get(&org).copied().unwrap_or(0);
            if let Some(m) = classify(day, org, before, after, paid.contains(&org)) {
                row.end += after - before;
                match m.kind {
                    MovementKind::New | MovementKind::Reactivation => row.customers_end += 1,
                    MovementKind::Churn => row.customers_end -= 1,
                    _ => {}
                }
                row.add(&m);
                if day >= from {
                    movements.push(m);
                }
            }
            if after > 0 {
                paid.insert(org);
            }
            org_mrr.insert(org, after);
        }
        (total, paying) = (row.end, row.customers_end);
        if day >= from {
            days.push(row);
        }
        if day >= to {
            break;
        }
        // Skip ahead over days without changes before `from`.
        day = match order.get(k) {
            Some(&i) if day < from => changes[i].day.min(from),
            _ if day < from => from,
            _ => day.plus(1),
        };
    }
    Ok(Ledger {
        currency: currency.to_string(),
        days,
        movements,
    })
}

/// How a series is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
}

/// A snake_case name of a unit enum, parsed as its JSON string (query parameters).
fn parse_name<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> crate::error::Result<T> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string()))
        .map_err(|_| crate::error::Error::invalid(what, format!("{text:?} is not a known {what}")))
}

impl std::str::FromStr for Interval {
    type Err = crate::error::Error;
    fn from_str(text: &str) -> crate::error::Result<Interval> {
        parse_name("interval", text)
    }
}

impl std::str::FromStr for MovementKind {
    type Err = crate::error::Error;
    fn from_str(text: &str) -> crate::error::Result<MovementKind> {
        parse_name("kind", text)
    }
}

impl Interval {
    /// The first day of the period `day` is in.
    pub fn period_of(self, day: Day) -> Day {
        match self {
            Interval::Day => day,
            Interval::Week => day.week_start(),
            Interval::Month => day.month_start(),
        }
    }
}

/// Consecutive days grouped by `interval`: a period starts where its first day starts, ends
/// where its last day ends, and its movements are the sum of its days' (so it reconciles too).
pub fn rollup(days: &[MrrDay], interval: Interval) -> Vec<MrrDay> {
    let mut out: Vec<MrrDay> = Vec::new();
    for d in days {
        let period = interval.period_of(d.day);
        match out.last_mut() {
            Some(p) if interval.period_of(p.day) == period => {
                p.new += d.new;
                p.expansion += d.expansion;
                p.reactivation += d.reactivation;
                p.contraction += d.contraction;
                p.churn += d.churn;
                p.new_customers += d.new_customers;
                p.reactivated_customers += d.reactivated_customers;
                p.churned_customers += d.churned_customers;
                p.end = d.end;
                p.customers_end = d.customers_end;
            }
            _ => out.push(MrrDay {
                day: period,
                ..d.clone()
            }),
        }
    }
    out
}

/// Churn and retention rates of a period, as fractions (`None` when nothing was paying at the
/// start).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChurnRates {
    /// (churn + contraction) ÷ start MRR.
    pub gross_mrr_churn: Option<f64>,
    /// (churn + contraction − expansion − reactivation) ÷ start MRR (negative: net expansion).
    pub net_mrr_churn: Option<f64>,
    /// Churned organisations ÷ paying organisations at the start.
    pub customer_churn: Option<f64>,
}

pub fn churn_rates(p: &MrrDay) -> ChurnRates {
    let start = p.start as f64;
    let of_mrr = |x: i64| (p.start > 0).then(|| x as f64 / start);
    ChurnRates {
        gross_mrr_churn: of_mrr(p.churn + p.contraction),
        net_mrr_churn: of_mrr(p.churn + p.contraction - p.expansion - p.reactivation),
        customer_churn: (p.customers_start > 0)
            .then(|| f64::from(p.churned_customers) / f64::from(p.customers_start)),
    }
}

#[cfg(test)]
#[path = "revenue_tests.rs"]
mod tests;
