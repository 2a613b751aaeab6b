//! Cursor pagination (SPEC §13): `?limit=&cursor=` in, `{"data": [...], "next_cursor": …}` out.
//!
//! Lists are ordered by id, which is time-ordered, so the cursor is simply the last id seen,
//! wrapped so clients treat it as opaque. Keyset pagination stays correct while rows are added.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;
const CURSOR_VERSION: &str = "v1:";

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    /// The id after which the page starts (exclusive).
    pub after: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

impl PageRequest {
    /// Validates raw query values; a bad limit or cursor is a 422 naming the field.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) if (1..=MAX_LIMIT as i64).contains(&l) => l as u64,
            Some(_) => {
                return Err(Error::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                Error::invalid("cursor", "is not a cursor this API returned; start again without it")
            })?),
        };
        Ok(Self { limit, after })
    }

    /// How many rows a store should fetch: one more than the page, to know whether more follow.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }
}

/// One page of a list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with [`PageRequest::fetch_limit`], ordered by `key`.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let more = rows.len() as u64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if more { rows.last().map(|r| encode_cursor(&key(r))) } else { None };
        Self { data: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{key}"))
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let key = text.strip_prefix(CURSOR_VERSION)?;
    (!key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert_eq!(PageRequest::parse(Some(200), None).unwrap().limit, 200);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert!(PageRequest::parse(None, Some("garbage!")).is_err());
    }

    #[test]
    fn cursor_round_trips_and_pages_end() {
        let req = PageRequest { limit: 2, after: None };
        let page = Page::from_rows(vec!["a1", "b2", "c3"], &req, |s| s.to_string());
        assert_eq!(page.data, vec!["a1", "b2"]);
        let next = PageRequest::parse(Some(2), page.next_cursor.as_deref()).unwrap();
        assert_eq!(next.after.as_deref(), Some("b2"));
        let last = Page::from_rows(vec!["c3"], &next, |s| s.to_string());
        assert_eq!(last.next_cursor, None);
    }
}
