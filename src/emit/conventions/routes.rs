//! The order of a host's ingress routes and which requests each one takes: the
//! `VirtualService` (Envoy takes the first route whose match holds), the gateway's JWT
//! `AuthorizationPolicy` (which must require a route's token on exactly the requests Envoy
//! sends to that route) and the check that refuses what a policy cannot say all read it here.

use std::cmp::Reverse;

use crate::model::service::{Expose, PathMatch};

/// The place of a route among its host's routes, the most specific first: exact paths, then
/// regular expressions (after a prefix `/` they would never be reached), then prefixes, the
/// longest first; ties keep the source order.
pub fn route_specificity(expose: &Expose) -> (u8, Reverse<usize>) {
    match expose.r#match.value {
        PathMatch::Exact => (0, Reverse(0)),
        PathMatch::Regex => (1, Reverse(0)),
        PathMatch::Prefix => (2, Reverse(expose.path.value.len())),
    }
}

/// The path a prefix route ending in `/` also takes exactly: itself without the slash
/// (`/api/admin` for `/api/admin/`). Envoy's prefix `/api/admin/` does not hold `/api/admin`,
/// which would otherwise fall to a shorter prefix (`/api/`), be rewritten with that route's
/// rewrite and reach the same backend under that route's token and claims.
pub fn bare_prefix(expose: &Expose) -> Option<&str> {
    let path = expose.path.value.as_str();
    (expose.r#match.value == PathMatch::Prefix && path.len() > 1)
        .then(|| path.strip_suffix('/'))
        .flatten()
}

/// Which of `later`'s requests an `earlier` route of the same host takes first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// None of them.
    Nothing,
    /// Those `AuthorizationPolicy` paths match: exact paths, or a prefix with `*`.
    Paths(Vec<String>),
    /// Some, which no `AuthorizationPolicy` path can name: a regex, or a path with a `*` of its
    /// own (a policy reads `*` as a wildcard).
    Inexpressible,
}

/// The literal text every path a regex fully matches starts with (Envoy matches a route's
/// regex against the whole path).
fn regex_literal_prefix(regex: &str) -> String {
    let mut literal = String::new();
    // An alternative may start anywhere.
    if regex.contains('|') {
        return literal;
    }
    for c in regex.trim_start_matches('^').chars() {
        match c {
            // The character before is optional or repeated: it is not sure to be there.
            '?' | '*' | '{' => {
                literal.pop();
                break;
            }
            '+' | '\\' | '.' | '(' | ')' | '|' | '[' | ']' | '^' | '$' => break,
            c => literal.push(c),
        }
    }
    literal
}

/// Which requests of the route `later` the route `earlier` takes, when `earlier` comes first
/// in the host's order. Only a prefix route shares its paths: an exact route's path is taken
/// by no other route of the platform (two routes claiming one path are refused).
pub fn taken_first(earlier: &Expose, later: &Expose) -> Taken {
    if later.r#match.value != PathMatch::Prefix
        || route_specificity(earlier) >= route_specificity(later)
    {
        return Taken::Nothing;
    }
    let prefix = later.path.value.as_str();
    let path = earlier.path.value.as_str();
    // An exact route of the prefix's own bare path (`/api` beside `/api/`) comes first.
    if earlier.r#match.value == PathMatch::Exact && bare_prefix(later) == Some(path) {
        return Taken::Paths(vec![path.to_owned()]);
    }
    match earlier.r#match.value {
        PathMatch::Regex => {
            let literal = regex_literal_prefix(path);
            if literal.starts_with(prefix) || prefix.starts_with(&literal) {
                Taken::Inexpressible
            } else {
                Taken::Nothing
            }
        }
        _ if !path.starts_with(prefix) => Taken::Nothing,
        _ if path.contains('*') => Taken::Inexpressible,
        PathMatch::Exact => Taken::Paths(vec![path.to_owned()]),
        PathMatch::Prefix => Taken::Paths(
            std::iter::once(format!("{path}*"))
                .chain(bare_prefix(earlier).map(str::to_owned))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::regex_literal_prefix;

    #[test]
    fn a_regex_literal_prefix_stops_before_what_may_be_absent() {
        assert_eq!(regex_literal_prefix("/v[0-9]+/items/.*"), "/v");
        assert_eq!(regex_literal_prefix("^/api/v2?/x"), "/api/v");
        assert_eq!(regex_literal_prefix("/api/.*"), "/api/");
        assert_eq!(regex_literal_prefix(".*"), "");
        assert_eq!(regex_literal_prefix("/a+b"), "/a");
        assert_eq!(regex_literal_prefix("/docs/x|/api/y"), "");
    }
}
