use super::*;
use crate::incident::gen::{at, build, Built, Step, MIN, T0};
use crate::incident::{default_targets, sla_state};
use crate::model::IncidentCommand as C;

const H: i64 = 60 * MIN;

fn m(n: i64) -> u32 {
    u32::try_from(n * MIN).unwrap()
}

/// `b` opened `by` ms after T0, in organisation `org`.
fn moved(mut b: Built, by: i64, id: u128, org: Option<u128>) -> (Incident, Vec<IncidentEvent>) {
    b.incident.id = Uuid::from_u128(id);
    b.incident.org_id = org.map(Uuid::from_u128);
    b.incident.opened_at = at(b.incident.opened_at.millis() + by);
    for e in &mut b.events {
        e.incident_id = b.incident.id;
        e.occurred_at = at(e.occurred_at.millis() + by);
        e.recorded_at = at(e.recorded_at.millis() + by);
    }
    (b.incident, b.events)
}

/// Four incidents in the period and one before it; every figure below is worked out by hand.
fn incidents() -> Vec<(Incident, Vec<IncidentEvent>)> {
    vec![
        // A, sev1 (15 min / 4 h): acknowledged at 10 min, resolved at 3 h (met), reopened at
        // 3 h 10, resolved again at 3 h 30 (second cycle 20 min, met). MTTR: 210 min.
        moved(
            build(
                Severity::Sev1,
                None,
                &[
                    Step::Do(m(10), C::Acknowledge),
                    Step::Do(m(170), C::Resolve),
                    Step::Do(m(10), C::Reopen),
                    Step::Do(m(20), C::Resolve),
                ],
            ),
            0,
            1,
            None,
        ),
        // B, sev1, opened at 1 h: acknowledged after 20 min (response breached), resolved after
        // 5 h (resolve breached).
        moved(
            build(
                Severity::Sev1,
                None,
                &[
                    Step::Do(m(20), C::Acknowledge),
                    Step::Do(m(280), C::Resolve),
                ],
            ),
            H,
            2,
            None,
        ),
        // C, sev3 (4 h / 3 days), org 9, opened at 2 h: acknowledged after 30 min, still open
        // (resolve clock within target: not counted).
        moved(
            build(Severity::Sev3, None, &[Step::Do(m(30), C::Acknowledge)]),
            2 * H,
            3,
            Some(9),
        ),
        // D, sev2 (30 min / 8 h), org 9, opened at 3 h, never acknowledged: by 10 h its response
        // clock is breached, its resolve clock (7 h of 8) is not yet.
        moved(build(Severity::Sev2, None, &[]), 3 * H, 4, Some(9)),
        // E: opened the day before the period: left out.
        moved(
            build(Severity::Sev1, None, &[Step::Do(m(60), C::Acknowledge)]),
            -24 * H,
            5,
            None,
        ),
    ]
}

fn report() -> IncidentMetrics {
    let period = Period::new(at(T0), at(T0 + 24 * H)).unwrap();
    mtta_mttr(&incidents(), &default_targets(), period, at(T0 + 10 * H))
}

#[test]
fn overall_figures() {
    let r = report();
    let o = &r.overall;
    assert_eq!((o.count, o.acknowledged, o.resolved), (4, 3, 2));
    assert_eq!(o.mtta_mean_ms, Some(20 * MIN), "(10 + 20 + 30) / 3 min");
    assert_eq!(o.mtta_median_ms, Some(20 * MIN));
    assert_eq!(o.mttr_mean_ms, Some(255 * MIN), "(210 + 300) / 2 min");
    assert_eq!(o.mttr_median_ms, Some(255 * MIN));
    assert_eq!((o.response_met, o.response_breached), (2, 2));
    assert_eq!(o.response_compliance_percent, Some(50.0));
    assert_eq!(
        (o.resolve_met, o.resolve_breached),
        (2, 1),
        "A's two cycles met, B's breached"
    );
    let pct = o.resolve_compliance_percent.unwrap();
    assert!((pct - 200.0 / 3.0).abs() < 1e-9, "{pct}");
}

#[test]
fn per_severity_and_per_organisation() {
    let r = report();
    let sev: Vec<Severity> = r.by_severity.iter().map(|s| s.severity).collect();
    assert_eq!(sev, Severity::ALL, "every severity, most severe first");
    let sev1 = &r.by_severity[0].metrics;
    assert_eq!(
        (sev1.count, sev1.mtta_mean_ms, sev1.mtta_median_ms),
        (2, Some(15 * MIN), Some(15 * MIN))
    );
    assert_eq!(sev1.mttr_mean_ms, Some(255 * MIN));
    assert_eq!(sev1.response_compliance_percent, Some(50.0));
    let sev2 = &r.by_severity[1].metrics;
    assert_eq!(
        (sev2.count, sev2.acknowledged, sev2.mtta_mean_ms),
        (1, 0, None)
    );
    assert_eq!(sev2.response_compliance_percent, Some(0.0));
    assert_eq!(
        sev2.resolve_compliance_percent, None,
        "nothing measured yet"
    );
    let sev3 = &r.by_severity[2].metrics;
    assert_eq!(
        (sev3.mtta_mean_ms, sev3.response_compliance_percent),
        (Some(30 * MIN), Some(100.0))
    );
    assert_eq!(r.by_severity[3].metrics, Metrics::default());

    let orgs: Vec<Option<Uuid>> = r.by_org.iter().map(|o| o.org_id).collect();
    assert_eq!(orgs, [None, Some(Uuid::from_u128(9))]);
    let org9 = &r.by_org[1].metrics;
    assert_eq!(
        (org9.count, org9.mtta_mean_ms, org9.mttr_mean_ms),
        (2, Some(30 * MIN), None)
    );
    assert_eq!((org9.response_met, org9.response_breached), (1, 1));
}

#[test]
fn clocks_behind_the_figures() {
    let (d, events) = &incidents()[3];
    let s = sla_state(
        events,
        &crate::incident::target_for(&default_targets(), d.severity),
        at(T0 + 10 * H),
    );
    assert_eq!(s.response.status, crate::model::ClockStatus::Breached);
    assert_eq!(
        s.resolve.status,
        crate::model::ClockStatus::AtRisk,
        "7 h of 8"
    );
}

#[test]
fn medians_and_periods() {
    assert_eq!(median(&[5, 1, 3]), Some(3));
    assert_eq!(median(&[4, 1, 3, 2]), Some(2), "(2 + 3) / 2 rounded down");
    assert_eq!(median(&[]), None);
    assert_eq!(mean(&[1, 2]), Some(1));
    assert!(Period::new(at(T0), at(T0)).is_err());
    let p = Period::new(at(T0), at(T0 + 1)).unwrap();
    assert!(p.contains(at(T0)) && !p.contains(at(T0 + 1)), "[from, to)");
}
