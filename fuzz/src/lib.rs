//! Helpers shared by the fuzz targets: the input layout, single-character mutations and a
//! block_on for futures that never wait.
//!
//! Most targets read `<2-byte selector><field>\n<field>\n…<rest>`: the selector picks which part
//! of the input a mutation check changes, the fields are text, the rest is a raw body. A plain
//! layout keeps the seed corpora readable and easy to write by hand (see `fuzz/seeds.py`).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The selector and up to `n` newline-separated fields; the last field is the rest of the input.
pub fn split(data: &[u8], n: usize) -> Option<(u16, Vec<&[u8]>)> {
    let (selector, rest) = data.split_first_chunk::<2>()?;
    let fields: Vec<&[u8]> = rest.splitn(n, |b| *b == b'\n').collect();
    (fields.len() == n).then_some((u16::from_le_bytes(*selector), fields))
}

/// `text` with the character at `selector % chars` replaced by a different ASCII character, so
/// the result is still UTF-8 and differs from `text`; `None` for an empty string.
pub fn change_one_char(text: &str, selector: usize) -> Option<String> {
    let count = text.chars().count();
    if count == 0 {
        return None;
    }
    let target = selector % count;
    Some(
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                if i != target {
                    c
                } else if c == 'a' {
                    'b'
                } else {
                    'a'
                }
            })
            .collect(),
    )
}

/// Runs a future that completes on its first poll (the fuzz targets' certificate source answers
/// at once); panics if it ever waits, since nothing would wake it.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("future waited; the fuzz targets only run futures that complete at once"),
    }
}
