//! Rules for the plain-text fields people type: names, labels, messages.

/// Trims `value` and checks it is 1..=`max` characters with no control characters.
/// The message says what is wrong, for a field error.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    optional_text(trimmed, max).map(|s| s.unwrap_or_default())
}

/// Like [`required_text`], but blank means absent (`None`).
pub fn optional_text(value: &str, max: usize) -> Result<Option<String>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(format!("must be at most {max} characters, got {len}"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters (line breaks, tabs, …)".into());
    }
    Ok(Some(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(required_text("  Support  ", 120).unwrap(), "Support");
        assert!(required_text("   ", 120).is_err());
        assert!(required_text(&"x".repeat(121), 120).is_err());
        assert_eq!(required_text(&"ü".repeat(120), 120).unwrap().chars().count(), 120);
        assert!(required_text("a\nb", 120).is_err());
        assert_eq!(optional_text("  ", 10).unwrap(), None);
    }
}
