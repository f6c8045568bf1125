//! The one way the product writes CSV: [`CsvWriter`] passes every cell through
//! [`domain::spreadsheet::neutralise_formula`], so a value that reached the data from outside
//! (a token's `name` claim, a `User-Agent`, an `X-Request-Id`, a resource's name) cannot become
//! a formula in the spreadsheet that opens the file. Front ends that save a CSV write the bytes
//! an export produced; they never format CSV themselves.

use domain::spreadsheet::neutralise_formula;
use std::io::Write;

/// A `csv::Writer` whose cells are made safe to open in a spreadsheet.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> std::fmt::Debug for CsvWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvWriter").finish_non_exhaustive()
    }
}

impl<W: Write> CsvWriter<W> {
    pub fn from_writer(out: W) -> Self {
        CsvWriter {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one record, each cell neutralised (and quoted where CSV needs it).
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner.write_record(
            record
                .into_iter()
                .map(|cell| neutralise_formula(cell.as_ref()).into_owned()),
        )
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl CsvWriter<Vec<u8>> {
    /// The bytes written so far, handed over (the writer goes on, empty): for writing out a
    /// page at a time.
    pub fn take(&mut self) -> csv::Result<Vec<u8>> {
        self.inner.flush()?;
        let inner = std::mem::replace(&mut self.inner, csv::Writer::from_writer(Vec::new()));
        inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_neutralised_and_quoted_as_csv_needs() {
        let mut out = Vec::new();
        let mut w = CsvWriter::from_writer(&mut out);
        w.write_record(["seq", "actor_name"]).unwrap();
        w.write_record(["1", "=HYPERLINK(\"https://evil.example\",\"x\")"])
            .unwrap();
        w.write_record(["2", "@SUM(1,2)"]).unwrap();
        w.flush().unwrap();
        drop(w);
        let mut r = csv::Reader::from_reader(out.as_slice());
        let cells: Vec<String> = r.records().map(|rec| rec.unwrap()[1].to_string()).collect();
        assert_eq!(
            cells,
            ["'=HYPERLINK(\"https://evil.example\",\"x\")", "'@SUM(1,2)"]
        );
    }
}
