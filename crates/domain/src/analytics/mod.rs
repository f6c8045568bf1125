//! Analytics (issue 12): the rules of the metrics — recurring revenue and its movement ledger,
//! funnels, revenue retention — as pure functions over facts the store reads. The store aggregates; the rules live
//! here, tested against brute-force references.

pub mod day;
pub mod events;
pub mod funnel;
pub mod growth;
pub mod retention;
pub mod revenue;

pub use day::Day;
pub use events::{check_event, ProductEvent};
pub use funnel::{
    merge, progress, progress_entering, summarize, Exclusion, FunnelEvent, FunnelSpec, FunnelStep,
    Progress,
};
pub use growth::{rollup_growth, ActiveWindow, Actives, FeatureUsage, GrowthDay, OrgUsage};
pub use retention::{across_cohorts, cohorts, period_retention, Cohort, Retention};
pub use revenue::{
    apply, check_currency, churn_rates, ledger, mrr, rollup, BillingInterval, ChurnRates, Discount,
    Interval, Ledger, Movement, MovementKind, MrrDay, Price, SubscriptionChange, SubscriptionEvent,
    SubscriptionState,
};
