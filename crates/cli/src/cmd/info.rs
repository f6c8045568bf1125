//! `padmin info`: where the data and the master key live, and the version.

use super::common::done;
use crate::session::Session;
use domain::error::Error;
use portal::os;

pub fn run(s: &Session) -> Result<u8, Error> {
    let info = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "database": s.location,
        "master_key": s.key_source,
        "data_folder": os::data_dir().ok().map(|d| d.display().to_string()),
    });
    done(s, &info, |i| {
        for (k, v) in i.as_object().into_iter().flatten() {
            println!(
                "{k:12} {}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            );
        }
    })
}
