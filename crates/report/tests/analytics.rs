//! The analytics report read back with `pdftotext` (poppler-utils): its MRR is the endpoint's,
//! its sections are there, and the same contents make the same bytes.

use domain::analytics::Day;
use domain::envelope::MasterKeySet;
use domain::{Actor, ManualClock, Timestamp};
use portal::analytics::generate::{self, GenerateSpec};
use portal::{Analytics, LocalPortal};
use rand::rngs::StdRng;
use rand::SeedableRng;
use report::analytics::{gather, money, render};
use std::process::Command;
use std::sync::Arc;
use store::SqlStore;

const NOW: i64 = 1_795_651_200_000; // 2026-11-26 00:00 UTC

fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (package poppler-utils)");
    assert!(out.status.success(), "pdftotext: {:?}", out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_report_says_what_the_endpoints_say() {
    let store = Arc::new(SqlStore::sqlite_in_memory().await.unwrap());
    let keys = MasterKeySet::generate(&mut StdRng::seed_from_u64(1));
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(NOW)));
    let p = LocalPortal::with_keys(store, keys, clock).await.unwrap();
    let a = Actor::system("report-test");
    let spec = GenerateSpec {
        orgs: 30,
        events: 3_000,
        seed: 3,
        until: Day::of(Timestamp::from_millis(NOW)).plus(-1),
        days: 300,
    };
    generate::load(&p, &a, &spec, &|_, _| {}).await.unwrap();
    p.refresh_analytics(&a, true).await.unwrap();

    let generated_at = Timestamp::from_millis(NOW + 3_723_000);
    let contents = gather(&p, &a, None, None, generated_at).await.unwrap();
    let pdf = render(&contents).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        pdf,
        render(&contents).unwrap(),
        "the same contents, the same bytes"
    );

    let text = text_of(&pdf);
    if let Ok(dir) = std::env::var("REPORT_SAMPLE_DIR") {
        std::fs::write(
            std::path::Path::new(&dir).join("analytics-report.pdf"),
            &pdf,
        )
        .unwrap();
    }
    let total = contents.mrr.total.clone().expect("a year of revenue");
    let currency = contents.mrr.currency.clone().unwrap();
    let endpoint = p
        .mrr(
            &a,
            domain::model::analytics::MrrQuery {
                currency: None,
                from: Some(contents.mrr.from),
                to: None,
                interval: Some(domain::analytics::Interval::Month),
            },
        )
        .await
        .unwrap();
    assert_eq!(endpoint.total.as_ref().map(|t| t.end), Some(total.end));
    let line = format!("MRR at the end: {}", money(total.end, &currency));
    assert!(text.contains(&line), "{line:?} is in the report:\n{text}");
    for heading in [
        "Analytics report",
        "Revenue",
        "Growth",
        "Top clients by MRR",
        "Top features",
    ] {
        assert!(text.contains(heading), "{heading:?} is in the report");
    }
    let generated = format!(
        "Generated: {} 01:02:03 UTC",
        Day::of(Timestamp::from_millis(NOW))
    );
    assert!(text.contains(&generated), "{generated:?}");
    // Every month of the ledger is a row, ending with the period's MRR.
    let last = contents.mrr.points.last().unwrap();
    assert!(text.contains(&last.day.to_string()));
    assert!(text.contains(money(last.end, "").trim()));
    // A feature from the top list is there.
    assert!(text.contains(&contents.top_features.features[0].feature));

    // Another generation time is another document.
    let later = gather(&p, &a, None, None, Timestamp::from_millis(NOW + 60_000))
        .await
        .unwrap();
    assert_ne!(render(&later).unwrap(), pdf);
}

#[test]
fn money_groups_thousands() {
    assert_eq!(money(123_456_789, "EUR"), "1,234,567.89 EUR");
    assert_eq!(money(-5, "USD"), "-0.05 USD");
    assert_eq!(money(100_000, "EUR"), "1,000.00 EUR");
}
