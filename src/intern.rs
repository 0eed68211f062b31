//! Values kept once for the life of the process: a few names that many values share (the
//! platform's file name in manifest origins, the API versions and kinds of a rebuild's
//! record, the pairs of them in summaries), each a `&'static` one rather than a copy of each
//! value's own.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// One kind of interned value, holding at most `most` distinct values: past that (input
/// edited by hand to name a new one on each line, say), `get` says `None` and the caller
/// keeps its own.
pub struct Interner<T: ?Sized + Ord + 'static = str> {
    kept: Mutex<BTreeSet<&'static T>>,
    most: usize,
}

impl<T: ?Sized + Ord> Interner<T> {
    pub const fn new(most: usize) -> Self {
        Self {
            kept: Mutex::new(BTreeSet::new()),
            most,
        }
    }

    /// `value`, kept once (`keep` makes the copy kept, for the life of the process); `None`
    /// when `most` other values are kept already.
    pub fn get_with(&self, value: &T, keep: impl FnOnce(&T) -> &'static T) -> Option<&'static T> {
        // A thread that panicked holding the lock left the set whole (an insert is the one
        // change made under it).
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = kept.get(value) {
            return Some(known);
        }
        if kept.len() >= self.most {
            return None;
        }
        let leaked = keep(value);
        kept.insert(leaked);
        Some(leaked)
    }
}

impl Interner<str> {
    /// `text`, kept once; `None` when `most` other texts are kept already.
    pub fn get(&self, text: &str) -> Option<&'static str> {
        self.get_with(text, |text| Box::leak(text.to_owned().into_boxed_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Interner;

    #[test]
    fn a_text_is_kept_once_and_no_more_than_most() {
        static TEXTS: Interner = Interner::new(2);
        let a = TEXTS.get("a").unwrap();
        assert!(std::ptr::eq(a, TEXTS.get(&String::from("a")).unwrap()));
        assert_eq!(TEXTS.get("b"), Some("b"));
        assert_eq!(TEXTS.get("c"), None);
        assert_eq!(TEXTS.get("a"), Some("a"));
    }

    #[test]
    fn a_value_is_kept_once_as_keep_makes_it() {
        static PAIRS: Interner<(u8, u8)> = Interner::new(1);
        let keep = |pair: &(u8, u8)| -> &'static (u8, u8) { Box::leak(Box::new(*pair)) };
        let one = PAIRS.get_with(&(1, 2), keep).unwrap();
        let again = PAIRS
            .get_with(&(1, 2), |_| unreachable!("kept already"))
            .unwrap();
        assert!(std::ptr::eq(one, again));
        assert_eq!(PAIRS.get_with(&(3, 4), keep), None);
    }
}
