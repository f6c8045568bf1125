//! `padmin` analytics through the real binary, on SQLite and PostgreSQL: a generated history
//! (deterministic: the same seed adds nothing twice), each chart's JSON and CSV carrying the
//! same numbers, every MRR row reconciling, a funnel, and an events file with a bad row refused
//! whole.

mod common;

use common::{json, padmin};
use std::path::Path;
use stories::{Backend, TestDb};

/// A CSV file's rows as maps of column to cell.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("the CSV reads");
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn story(db: &str, dir: &Path) {
    let kf = dir.join("master.key");
    let env = [("PORTAL_MASTER_KEY_FILE", kf.to_str().unwrap())];
    let run = |args: &[&str]| {
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        padmin(&env, &all, None)
    };
    let seed = [
        "seed",
        "analytics",
        "--orgs",
        "25",
        "--events",
        "4000",
        "--days",
        "120",
        "--json",
    ];
    let first = json(&run(&seed));
    assert_eq!(first["events"], 4000);
    assert!(first["subscription_changes"].as_u64().unwrap() > 25);
    assert!(first["refresh"]["days"].as_u64().unwrap() > 0);
    let again = json(&run(&seed));
    assert_eq!(
        (
            again["events"].as_u64(),
            again["subscription_changes"].as_u64()
        ),
        (Some(0), Some(0)),
        "the same seed generates the same facts"
    );

    // MRR: every row reconciles; the CSV has the same numbers as the JSON.
    let mrr = json(&run(&["analytics", "mrr", "--interval", "week", "--json"]));
    let points = mrr["points"].as_array().unwrap();
    assert!(points.len() >= 12, "{mrr}");
    for p in points {
        let n = |k: &str| p[k].as_i64().unwrap();
        assert_eq!(
            n("start") + n("new") + n("expansion") + n("reactivation")
                - n("contraction")
                - n("churn"),
            n("end"),
            "{p}"
        );
    }
    let file = dir.join("mrr.csv");
    let out = run(&[
        "analytics",
        "mrr",
        "--interval",
        "week",
        "--csv",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = csv_rows(&file);
    assert_eq!(rows.len(), points.len());
    for (row, p) in rows.iter().zip(points) {
        assert_eq!(row["period"], p["day"].as_str().unwrap());
        for (col, key) in [
            ("mrr_start", "start"),
            ("new", "new"),
            ("churn", "churn"),
            ("mrr_end", "end"),
        ] {
            assert_eq!(row[col], p[key].to_string(), "{col}");
        }
    }

    // Growth and top features: CSV equals JSON.
    let growth = json(&run(&["analytics", "growth", "--json"]));
    let file = dir.join("growth.csv");
    assert_eq!(
        run(&["analytics", "growth", "--csv", file.to_str().unwrap()]).code,
        0
    );
    let rows = csv_rows(&file);
    let points = growth["points"].as_array().unwrap();
    assert_eq!(rows.len(), points.len());
    for (row, p) in rows.iter().zip(points) {
        assert_eq!(row["signups"], p["signups"].to_string());
        assert_eq!(row["users_monthly"], p["users"]["monthly"].to_string());
    }
    let features = json(&run(&[
        "analytics",
        "top-features",
        "--by",
        "orgs",
        "--json",
    ]));
    let file = dir.join("features.csv");
    let out = run(&[
        "analytics",
        "top-features",
        "--by",
        "orgs",
        "--csv",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0);
    let names: Vec<String> = csv_rows(&file)
        .iter()
        .map(|r| r["feature"].clone())
        .collect();
    let listed: Vec<String> = features["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["feature"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, listed);
    assert!(!listed.is_empty());

    // A funnel, and a bad one refused with its reason.
    let since = domain::analytics::Day::of(domain::Clock::now(&domain::SystemClock))
        .plus(-150)
        .to_string();
    let funnel = json(&run(&[
        "analytics",
        "funnel",
        "--steps",
        "visited_pricing,started_trial,subscribed",
        "--window",
        "30d",
        "--from",
        &since,
        "--json",
    ]));
    let counts: Vec<u64> = funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .collect();
    assert!(
        counts[0] > 0 && counts.windows(2).all(|w| w[0] >= w[1]),
        "{counts:?}"
    );
    let bad = run(&["analytics", "funnel", "--steps", "only_one"]);
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    let bad = run(&["analytics", "mrr", "--from", "2026-13-01"]);
    assert_eq!(bad.code, 3);
    assert!(bad.stderr.contains("YYYY-MM-DD"), "{}", bad.stderr);

    // The PDF report says the MRR the JSON says.
    let yearly = json(&run(&[
        "analytics",
        "mrr",
        "--interval",
        "month",
        "--from",
        &since,
        "--json",
    ]));
    let pdf = dir.join("report.pdf");
    let wrote = run(&[
        "analytics",
        "report",
        "--pdf",
        pdf.to_str().unwrap(),
        "--from",
        &since,
    ]);
    assert_eq!(wrote.code, 0, "{}", wrote.stderr);
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    let end = yearly["total"]["end"].as_i64().unwrap();
    let currency = yearly["currency"].as_str().unwrap();
    let expected = format!(
        "MRR at the end: {}",
        report::analytics::money(end, currency)
    );
    assert!(text.contains(&expected), "{expected:?} in:\n{text}");

    // An events file with a bad row imports nothing; fixed, it imports, once.
    let events = dir.join("events.ndjson");
    let good = |id: u32, user: &str| {
        serde_json::json!({"id": format!("00000000-0000-0000-0000-{id:012}"), "org_id": "00000000-0000-0000-0000-0000000000a1",
            "user_id": user, "name": "active", "at": "2026-11-20T10:00:00Z"})
        .to_string()
    };
    std::fs::write(&events, format!("{}\n{}\n", good(1, "ann"), good(2, ""))).unwrap();
    let refused = run(&["events", "import", events.to_str().unwrap()]);
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("line 2: user_id"),
        "{}",
        refused.stderr
    );
    let usage = |r: &dyn Fn(&[&str]) -> common::Out| -> u64 {
        let g = json(&r(&[
            "analytics",
            "growth",
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-20",
            "--json",
        ]));
        g["points"][0]["users"]["daily"].as_u64().unwrap()
    };
    json(&run(&["analytics", "refresh", "--json"]));
    let before = usage(&run);
    std::fs::write(&events, format!("{}\n{}\n", good(1, "ann"), good(2, "bob"))).unwrap();
    let imported = json(&run(&[
        "events",
        "import",
        events.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(imported["inserted"], 2);
    let again = json(&run(&[
        "events",
        "import",
        events.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(
        (again["inserted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    json(&run(&["analytics", "refresh", "--json"]));
    let after = usage(&run);
    assert_eq!(
        after,
        before + 2,
        "the refused file added nothing, the good one two"
    );
}

#[test]
fn analytics_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.sqlite");
    story(db.to_str().unwrap(), dir.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn analytics_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let (url, _) = db.pg.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || story(&url, &path))
        .await
        .unwrap();
    db.drop_db().await;
}
