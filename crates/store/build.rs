//! `sqlx::migrate!` embeds the migrations at compile time, and cargo does not watch their folder
//! by itself: without this, adding a migration would leave an existing build with the old set.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
