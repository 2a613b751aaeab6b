//! PATCH semantics for nullable fields: a field left out changes nothing, `null` clears it, a
//! value sets it. Use on `Option<Option<T>>` fields with
//! `#[serde(default, deserialize_with = "switchboard_core::patch::double_option")]`.

use serde::{Deserialize, Deserializer};

/// Absent → `None` (via `#[serde(default)]`); `null` → `Some(None)`; a value → `Some(Some(v))`.
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "super::double_option")]
        label: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_value_are_three_things() {
        let p = |s: &str| serde_json::from_str::<Patch>(s).unwrap().label;
        assert_eq!(p("{}"), None);
        assert_eq!(p(r#"{"label": null}"#), Some(None));
        assert_eq!(p(r#"{"label": "x"}"#), Some(Some("x".into())));
    }
}
