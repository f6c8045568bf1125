//! The harness itself: what the stories rely on must hold too.

use stories::{pg_database_exists, Backend, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_that_panics_still_drops_its_database() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let story = tokio::spawn(async move {
        let db = TestDb::new(Backend::Postgres).await;
        let name = db.pg.clone().expect("a PostgreSQL database").1;
        tx.send(name).expect("the test waits for the name");
        panic!("a failing story (this panic is expected)");
    });
    let name = rx.await.expect("the story created its database");
    assert!(story.await.is_err(), "the story panicked");
    assert!(
        !pg_database_exists(&name).await,
        "{name} must be dropped when the test that made it panics, or failed runs fill the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_that_ends_drops_its_database() {
    let db = TestDb::new(Backend::Postgres).await;
    let name = db.pg.clone().expect("a PostgreSQL database").1;
    assert!(pg_database_exists(&name).await);
    db.drop_db().await;
    assert!(!pg_database_exists(&name).await, "{name} is dropped");
}
