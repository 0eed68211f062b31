//! The `directory.include` glob of an Application that reads the rendered files: exactly the
//! files of one part's cluster objects, and nothing else of `out/`.
//!
//! How Argo CD reads a directory source (`reposerver/repository/repository.go`,
//! `getPotentiallyValidManifests` and `getPotentiallyValidManifestFile`, v3.1): it walks the
//! whole tree under the source's `path` (with `recurse: true`; hidden directories such as
//! `.platc/` too), keeps the files named `*.yaml`, `*.yml`, `*.json` or `*.jsonnet`, and
//! matches each one's path *relative to `path`* against `include` with `util/glob.Match`,
//! which compiles the pattern with `github.com/gobwas/glob` and no separators. So `*` (like
//! `**`) matches any run of characters, `/` included, and `{a,b}` lists alternatives. Every
//! file that matches is parsed as manifests: a dashboard's JSON, a rules file or a chart's
//! template would fail the sync or, worse, apply.
//!
//! The glob is therefore built from the output set, not from a fixed list: for each directory
//! holding one of the part's objects, the highest directory above it (below the tree's root)
//! whose every `.yaml` file is an object of that part, as `<dir>/*.yaml`; where the directory
//! itself holds other files too, the part's file by file. Nothing else of the tree lies under
//! those patterns, and `env/NAME/` (another cluster's tree) lies under none of them.

use std::collections::BTreeSet;

use crate::output::Summary;

/// Who the `.yaml` files under a directory belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purity<'a> {
    /// Every one is a cluster object of this part.
    Part(Part<'a>),
    /// Some are another part's, or are not cluster objects.
    Mixed,
}

/// A part of the platform, as one Application deploys it (`output::Part`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part<'a> {
    /// The platform-wide and per-namespace objects but the edge's.
    Platform,
    /// The edge's objects (`output::on_the_edge`).
    Edge,
    /// A service's objects.
    Service(&'a str),
}

/// The directories of a whole output set, by who their `.yaml` files belong to.
pub struct Tree<'a> {
    /// Looked up only, never iterated, so its order cannot reach the output.
    purity: HashMap<&'a str, Purity<'a>>,
    /// The directory and part of the item read before.
    last: Option<(Option<&'a str>, Purity<'a>)>,
}

/// A map hashed with foldhash: 80,000 paths' directories at 1,000 services.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

impl<'a> Tree<'a> {
    /// Reads every item of the set; `part` says whose cluster object an item is (`None` for
    /// an item that is not one).
    #[cfg(test)]
    pub fn new(
        items: impl IntoIterator<Item = &'a Summary>,
        part: impl Fn(&'a Summary) -> Option<Part<'a>>,
    ) -> Self {
        let mut tree = Self::empty();
        for item in items {
            tree.add(item, part(item));
        }
        tree
    }

    /// A tree of no items yet (`add` reads each).
    pub fn empty() -> Self {
        Self {
            purity: HashMap::default(),
            last: None,
        }
    }

    /// Reads one item of the set, whose cluster object is `part`'s (`None`: it is not one).
    pub fn add(&mut self, item: &'a Summary, part: Option<Part<'a>>) {
        // platc names every file in lower case: `.yaml` is the one spelling to compare.
        #[allow(clippy::case_sensitive_file_extension_comparisons)]
        if !item.path().ends_with(".yaml") {
            return;
        }
        let here = part.map_or(Purity::Mixed, Purity::Part);
        let dir = item.path().rsplit_once('/').map(|(dir, _)| dir);
        // The next item of the same directory and part as the one before (most of a part's
        // files share a directory) changes nothing.
        if self.last == Some((dir, here)) {
            return;
        }
        self.last = Some((dir, here));
        for dir in ancestors(item.path()) {
            self.purity
                .entry(dir)
                .and_modify(|p| {
                    if *p != here {
                        *p = Purity::Mixed;
                    }
                })
                .or_insert(here);
        }
    }

    /// The include glob of a part whose objects are at `paths`.
    pub fn include<'p>(&self, part: Part<'a>, paths: impl IntoIterator<Item = &'p str>) -> String {
        let mut patterns = BTreeSet::new();
        // The directory of the path before: the next in it gives the same pattern.
        let mut last = None;
        for path in paths {
            let Some((mut dir, _)) = path.rsplit_once('/') else {
                // A file at the top of the tree: itself.
                patterns.insert(path.to_owned());
                continue;
            };
            if last == Some(dir) {
                continue;
            }
            // A directory that holds another part's files too: the file itself.
            if self.purity.get(dir) != Some(&Purity::Part(part)) {
                patterns.insert(path.to_owned());
                continue;
            }
            last = Some(dir);
            while let Some((parent, _)) = dir.rsplit_once('/')
                && self.purity.get(parent) == Some(&Purity::Part(part))
            {
                dir = parent;
            }
            patterns.insert(format!("{dir}/*.yaml"));
        }
        // The tree's paths are made of DNS labels and platc's own directory names: no glob
        // metacharacter (`*?[]{}\,`) needs escaping.
        if patterns.len() == 1 {
            patterns.into_iter().next().unwrap_or_default()
        } else {
            format!("{{{}}}", patterns.into_iter().collect::<Vec<_>>().join(","))
        }
    }
}

/// The directories holding a path, innermost first, without the tree's root.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(path.rsplit_once('/').map(|(dir, _)| dir), |dir| {
        dir.rsplit_once('/').map(|(parent, _)| parent)
    })
}

#[cfg(test)]
mod tests {
    use super::{Part, Tree, ancestors};
    use crate::output::{Brief, Owner, Summary};

    fn item(path: &str, owner: Owner) -> Summary {
        Summary::new(Brief::new(path, None, None).unwrap(), owner.into())
    }

    #[test]
    fn ancestors_stop_below_the_root() {
        assert_eq!(ancestors("a/b/c.yaml").collect::<Vec<_>>(), ["a/b", "a"]);
        assert_eq!(ancestors("c.yaml").count(), 0);
    }

    /// The part of an item, with `m/rules/` holding plain rules files, not objects.
    fn part(i: &Summary) -> Option<Part<'_>> {
        if i.path().starts_with("m/rules/") {
            return None;
        }
        Some(match i.owner() {
            Owner::Service(name) => Part::Service(name.as_str()),
            _ => Part::Platform,
        })
    }

    #[test]
    fn a_part_climbs_to_the_highest_directory_that_is_its_own() {
        let items = [
            item("k/namespaces/a/ns.yaml", Owner::Namespace("a".into())),
            item("k/namespaces/b/ns.yaml", Owner::Namespace("b".into())),
            item("k/services/a/d.yaml", Owner::Service("a".into())),
            item("k/services/ab/d.yaml", Owner::Service("ab".into())),
            item("m/rules/a.yaml", Owner::Service("a".into())),
            item("m/services/a/rule.yaml", Owner::Service("a".into())),
        ];
        let tree = Tree::new(&items, part);
        assert_eq!(
            tree.include(
                Part::Platform,
                ["k/namespaces/a/ns.yaml", "k/namespaces/b/ns.yaml"]
            ),
            "k/namespaces/*.yaml"
        );
        assert_eq!(
            tree.include(
                Part::Service("a"),
                ["k/services/a/d.yaml", "m/services/a/rule.yaml"]
            ),
            "{k/services/a/*.yaml,m/services/*.yaml}"
        );
    }

    /// A directory holding the files of two parts: each part's are listed file by file, as
    /// `<dir>/*.yaml` would read the other's too.
    #[test]
    fn a_directory_two_parts_share_is_read_file_by_file() {
        let items = [
            item("i/g/gateway.yaml", Owner::Platform),
            item("i/g/route.yaml", Owner::Platform),
            item("i/g/certificate.yaml", Owner::Service("a".into())),
        ];
        let tree = Tree::new(&items, part);
        assert_eq!(
            tree.include(Part::Platform, ["i/g/gateway.yaml", "i/g/route.yaml"]),
            "{i/g/gateway.yaml,i/g/route.yaml}"
        );
        assert_eq!(
            tree.include(Part::Service("a"), ["i/g/certificate.yaml"]),
            "i/g/certificate.yaml"
        );
    }
}
