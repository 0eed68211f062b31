//! Texts kept once for the life of the process: a few names that many values share (the
//! platform's file name in manifest origins, the API versions and kinds of a rebuild's
//! record), each a `&'static str` rather than a string of each value's own.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// One kind of interned text, holding at most `most` distinct texts: past that (input edited
/// by hand to name a new one on each line, say), `get` says `None` and the caller keeps its
/// own string.
pub struct Interner {
    texts: Mutex<BTreeSet<&'static str>>,
    most: usize,
}

impl Interner {
    pub const fn new(most: usize) -> Self {
        Self {
            texts: Mutex::new(BTreeSet::new()),
            most,
        }
    }

    /// `text`, kept once; `None` when `most` other texts are kept already.
    pub fn get(&self, text: &str) -> Option<&'static str> {
        let mut texts = self.texts.lock().ok()?;
        if let Some(known) = texts.get(text) {
            return Some(known);
        }
        if texts.len() >= self.most {
            return None;
        }
        let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
        texts.insert(leaked);
        Some(leaked)
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
}
