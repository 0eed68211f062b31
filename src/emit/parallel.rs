//! An order-preserving parallel map over the machine's cores, for work that is the same
//! function applied to many items (services, then the items of the output set). Results come
//! back in input order, so output does not depend on scheduling.
//!
//! The work runs on rayon's pool, whose threads live as long as the process: memory that one
//! stage frees (the typed set, dropped while it is encoded) is reused by the next, where
//! short-lived threads would each start from fresh pages.

use rayon::prelude::*;

/// Inputs smaller than this are not worth the hand-off.
const SMALL: usize = 64;

/// `items.iter().map(f).collect()`, spread over the pool.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < SMALL {
        return items.iter().map(f).collect();
    }
    items.par_iter().map(f).collect()
}

/// `map` of few items that are each much work (a build's batches of services): spread
/// however few they are, one item per task.
pub fn map_each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    items.par_iter().with_max_len(1).map(f).collect()
}

/// `items.into_iter().map(f).collect()`, spread like `map`: each item is consumed (and
/// dropped) on the thread that maps it, so freeing a large set costs no serial time.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < SMALL {
        return items.into_iter().map(f).collect();
    }
    items.into_par_iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = super::map(&items, |x| x * 2);
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let owned = super::map_owned(items.clone(), |x| x * 2);
        assert_eq!(owned, doubled);
        assert_eq!(super::map_each(&items, |x| x * 2), doubled);
    }
}
