//! Did-you-mean: the closest candidate name, by case-insensitive match first and then
//! normalized Damerau-Levenshtein similarity of at least 0.6.

/// The candidate most like `name`, if one is close enough to be worth suggesting.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate.eq_ignore_ascii_case(name) {
            return Some(candidate.to_owned());
        }
        let score = strsim::normalized_damerau_levenshtein(name, candidate);
        if score >= 0.6 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn finds_close_names_only() {
        let names = ["paymentservice", "cartservice", "frontend"];
        assert_eq!(
            suggest("paymnetservice", names).as_deref(),
            Some("paymentservice")
        );
        assert_eq!(suggest("FRONTEND", names).as_deref(), Some("frontend"));
        assert_eq!(suggest("zzz", names), None);
    }

    #[test]
    fn prefers_the_closest() {
        assert_eq!(
            suggest("port", ["ports", "post", "probe"]).as_deref(),
            Some("ports")
        );
    }
}
