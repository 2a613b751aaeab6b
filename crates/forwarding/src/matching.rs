//! Matching a spoken name against targets' names and aliases: case- and accent-insensitive, so
//! "Müller", "Mueller" and "muller" are the same person.
//!
//! Every string is reduced to lowercase ASCII tokens in three spellings — umlauts folded to
//! their base letter (`müller` → `muller`), umlauts as German digraphs (`müller` → `mueller`),
//! and digraphs collapsed (`mueller` → `muller`) — and two strings match when any spellings agree. Courtesy words ("Herr", "Frau", "Mr", "Dr"…)
//! are ignored. Scores rank the matches:
//!
//! | score | when |
//! |---|---|
//! | 100 | the whole name equals the query |
//! | 81–90 | every token of the name is in the query ("Herr Thomas Müller" → "Thomas Müller") |
//! | 71–80 | every token of the query is in the name ("Müller" → "Thomas Müller") |
//! | 51–60 | some tokens agree |
//! | 40 | a token of 5+ letters is one edit away (a misheard letter: "Mueler") |
//!
//! Within a tier each token left unmatched costs a point, so the closest name wins a tie
//! ("Müller" prefers "Thomas Müller" to "Anna Mueller-Schmidt").

use unicode_normalization::UnicodeNormalization;

const COURTESY: &[&str] = &[
    "herr", "frau", "mr", "mrs", "ms", "miss", "dr", "prof", "monsieur", "madame", "signor", "signora",
    "senor", "senora",
];

/// The tokens of `s` in one spelling.
fn tokens(s: &str, digraphs: bool) -> Vec<String> {
    let mut folded = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match (c, digraphs) {
            ('ä', true) => folded.push_str("ae"),
            ('ö', true) => folded.push_str("oe"),
            ('ü', true) => folded.push_str("ue"),
            ('ß', _) => folded.push_str("ss"),
            _ => {
                for d in c.to_string().nfd() {
                    if d.is_ascii_alphanumeric() {
                        folded.push(d);
                    } else if !unicode_normalization::char::is_combining_mark(d) {
                        // Separators and punctuation split tokens; accents simply vanish.
                        folded.push(' ');
                    }
                }
            }
        }
    }
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty() && !COURTESY.contains(t))
        .map(str::to_owned)
        .collect()
}

/// The spellings of `s`: umlauts folded to their base letter, umlauts as digraphs, and digraphs
/// collapsed — so "Müller", "Mueller" and "muller" share one.
fn spellings(s: &str) -> [Vec<String>; 3] {
    let collapsed =
        tokens(s, false).iter().map(|t| t.replace("ae", "a").replace("oe", "o").replace("ue", "u")).collect();
    [tokens(s, false), tokens(s, true), collapsed]
}

fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < short.len() && j < long.len() {
        if short[i] == long[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        if short.len() == long.len() {
            i += 1;
        }
        j += 1;
    }
    edits + (long.len() - j) + (short.len() - i) <= 1
}

fn score_tokens(name: &[String], query: &[String]) -> u8 {
    if name.is_empty() || query.is_empty() {
        return 0;
    }
    // Within a tier, every token left unmatched costs a point: "Müller" is closer to
    // "Thomas Müller" than to "Anna Mueller-Schmidt".
    let extra = |n: usize| u8::try_from(n.min(9)).unwrap_or(9);
    if name == query {
        return 100;
    }
    if name.iter().all(|t| query.contains(t)) {
        return 90 - extra(query.len() - name.len());
    }
    if query.iter().all(|t| name.contains(t)) {
        return 80 - extra(name.len() - query.len());
    }
    let shared = name.iter().filter(|t| query.contains(t)).count();
    if shared > 0 {
        return 60 - extra(name.len() + query.len() - 2 * shared);
    }
    let close =
        name.iter().any(|n| n.len() >= 5 && query.iter().any(|q| q.len() >= 5 && one_edit_apart(n, q)));
    if close { 40 } else { 0 }
}

/// How well `candidate` (a name or alias) matches the spoken `query`; 0 = not at all.
pub fn score(candidate: &str, query: &str) -> u8 {
    let (c, q) = (spellings(candidate), spellings(query));
    c.iter().flat_map(|c| q.iter().map(move |q| score_tokens(c, q))).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mueller_muller_and_mueller_are_one_person() {
        for query in ["Müller", "Mueller", "muller", "MÜLLER", "Herr Müller", "herr mueller"] {
            assert!(score("Müller", query) >= 90, "{query}");
            assert!(score("Mueller", query) >= 90, "{query}");
        }
        assert_eq!(score("Müller", "Müller"), 100);
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        assert!(score("Zoë Lefèvre", "zoe lefevre") >= 90);
        assert!(score("José García", "Jose Garcia") >= 90);
        assert!(score("Weiß", "Weiss") >= 90);
        assert!(score("Jean-Luc Picard", "Jean Luc") > 70, "hyphens separate");
    }

    #[test]
    fn ranking_prefers_closer_matches() {
        let exact = score("Thomas Müller", "Thomas Müller");
        let name_in_query = score("Müller", "Herr Thomas Müller bitte");
        let query_in_name = score("Thomas Müller", "Müller");
        let misheard = score("Müller", "Mülller");
        assert!(
            exact > name_in_query
                && name_in_query > query_in_name
                && query_in_name > misheard
                && misheard > 0
        );
        assert_eq!(score("Sales", "Müller"), 0);
        assert_eq!(score("Herr", "Herr"), 0, "courtesy words alone match nothing");
        assert!(score("Thomas Müller", "Müller") > score("Anna Mueller-Schmidt", "Müller"));
    }

    #[test]
    fn one_edit() {
        assert!(one_edit_apart("mueller", "muller"));
        assert!(one_edit_apart("meier", "meyer"));
        assert!(!one_edit_apart("meier", "maier2"));
    }
}
