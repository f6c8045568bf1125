//! PDF documents of Provider Admin, written with krilla (pure Rust, no external tools; the
//! charts are the plotters SVGs of `crates/charts`, embedded as vectors by krilla-svg). Fonts are
//! embedded (DejaVu Sans), metadata is fixed by the caller, so the same contents make the same
//! bytes. Today: the analytics report (`analytics`); invoices come next, on the same writer.

pub mod analytics;
pub mod charts;
mod page;

pub use page::ReportError;
