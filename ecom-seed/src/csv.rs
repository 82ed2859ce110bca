//! The canonical row encoding: PostgreSQL's CSV format, as `COPY ... (FORMAT csv)` and
//! `psql \copy ... csv` read it. The same bytes are loaded, written by `--out` and
//! hashed for the checksum, so what is checked is exactly what is stored.
//!
//! NULL is an empty unquoted field; text is quoted when it is empty or holds a
//! delimiter, a quote, a line break or a backslash (so `\.` can never end the data).

use chrono::{DateTime, Datelike, Timelike, Utc};
use ecom_domain::money::Money;
use rust_decimal::Decimal;

/// Appends rows to a byte buffer, field by field.
#[derive(Debug)]
pub struct RowWriter {
    buf: Vec<u8>,
    first: bool,
    rows: u64,
}

impl Default for RowWriter {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl RowWriter {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            first: true,
            rows: 0,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    /// Ends the current row.
    pub fn end(&mut self) {
        self.buf.push(b'\n');
        self.first = true;
        self.rows += 1;
    }

    /// A NULL.
    pub fn null(&mut self) {
        self.sep();
    }

    /// An integer.
    pub fn int(&mut self, value: i64) {
        self.sep();
        let mut scratch = [0u8; 20];
        let negative = value < 0;
        let mut n = value.unsigned_abs();
        let mut at = scratch.len();
        loop {
            at -= 1;
            scratch[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if negative {
            self.buf.push(b'-');
        }
        self.buf.extend_from_slice(&scratch[at..]);
    }

    /// An optional integer.
    pub fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    /// A boolean (`t` / `f`).
    pub fn bool(&mut self, value: bool) {
        self.sep();
        self.buf.push(if value { b't' } else { b'f' });
    }

    /// Bytes, as PostgreSQL writes a `bytea` in CSV: `\x` and hex digits, unquoted.
    pub fn bytea(&mut self, value: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.sep();
        self.buf.extend_from_slice(b"\\x");
        for byte in value {
            self.buf.push(HEX[usize::from(byte >> 4)]);
            self.buf.push(HEX[usize::from(byte & 0x0f)]);
        }
    }

    /// Optional bytes.
    pub fn opt_bytea(&mut self, value: Option<&[u8]>) {
        match value {
            Some(v) => self.bytea(v),
            None => self.null(),
        }
    }

    /// Text, quoted when needed.
    pub fn text(&mut self, value: &str) {
        self.sep();
        let needs_quotes = value.is_empty()
            || value
                .bytes()
                .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r' | b'\\'));
        if needs_quotes {
            self.buf.push(b'"');
            for b in value.bytes() {
                if b == b'"' {
                    self.buf.push(b'"');
                }
                self.buf.push(b);
            }
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(value.as_bytes());
        }
    }

    /// Optional text.
    pub fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// An amount at its currency's minor unit (`19.99`), without the currency.
    pub fn money(&mut self, value: Money) {
        self.sep();
        // Money keeps its amount at the currency's scale, so Display is canonical.
        let text = value.amount().to_string();
        self.buf.extend_from_slice(text.as_bytes());
    }

    /// A decimal as it is, at its own scale: give it the column's scale (`0.19000` for a
    /// `numeric(6,5)`) to write what PostgreSQL prints.
    pub fn decimal(&mut self, value: Decimal) {
        self.sep();
        self.buf.extend_from_slice(value.to_string().as_bytes());
    }

    /// An optional amount.
    pub fn opt_money(&mut self, value: Option<Money>) {
        match value {
            Some(v) => self.money(v),
            None => self.null(),
        }
    }

    /// An optional timestamp.
    pub fn opt_ts(&mut self, value: Option<DateTime<Utc>>) {
        match value {
            Some(v) => self.ts(v),
            None => self.null(),
        }
    }

    /// A UTC timestamp to the second: `2025-03-04 05:06:07+00`.
    pub fn ts(&mut self, at: DateTime<Utc>) {
        self.sep();
        let d = at.date_naive();
        let t = at.time();
        let mut put = |n: u32, width: usize| {
            let mut tmp = [b'0'; 4];
            let mut n = n;
            for slot in tmp[..width].iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
            self.buf.extend_from_slice(&tmp[..width]);
        };
        put(u32::try_from(d.year()).unwrap_or(0), 4);
        self.buf.push(b'-');
        let put = |buf: &mut Vec<u8>, n: u32| {
            buf.push(b'0' + (n / 10) as u8);
            buf.push(b'0' + (n % 10) as u8);
        };
        put(&mut self.buf, d.month());
        self.buf.push(b'-');
        put(&mut self.buf, d.day());
        self.buf.push(b' ');
        put(&mut self.buf, t.hour());
        self.buf.push(b':');
        put(&mut self.buf, t.minute());
        self.buf.push(b':');
        put(&mut self.buf, t.second());
        self.buf.extend_from_slice(b"+00");
    }

    /// Rows ended so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The encoded rows, leaving this writer empty.
    pub fn take(&mut self) -> (Vec<u8>, u64) {
        let rows = std::mem::take(&mut self.rows);
        (std::mem::take(&mut self.buf), rows)
    }
}

/// The header line of a table's CSV file: its column names.
pub fn header(columns: &[&str]) -> String {
    let mut line = columns.join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ecom_domain::money::Currency;

    #[test]
    fn fields_are_encoded_as_postgres_csv_reads_them() {
        let mut w = RowWriter::default();
        w.int(-42);
        w.null();
        w.text("plain");
        w.text("");
        w.text("a,b \"quoted\"\nnext");
        w.text("\\.");
        w.bool(true);
        w.money(Money::from_minor(1999, Currency::EUR));
        w.money(Money::from_minor(5, Currency::JPY));
        w.ts(Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap());
        w.decimal(Decimal::new(19_000, 5));
        w.opt_money(None);
        w.opt_ts(None);
        w.end();
        let (bytes, rows) = w.take();
        assert_eq!(rows, 1);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "-42,,plain,\"\",\"a,b \"\"quoted\"\"\nnext\",\"\\.\",t,19.99,5,2025-03-04 05:06:07+00,0.19000,,\n"
        );
    }

    #[test]
    fn integers_cover_the_whole_range() {
        for v in [0, 7, 10, i64::MAX, i64::MIN, -1] {
            let mut w = RowWriter::default();
            w.int(v);
            assert_eq!(String::from_utf8(w.take().0).unwrap(), v.to_string());
        }
    }
}
