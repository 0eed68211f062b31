//! The language's node tree: every node platc reads, where it may stand and how often, its
//! arguments and its properties, each with its kind of value and an example.
//!
//! This table is the one list of the language. The lowering consults it: a child node that its
//! parent's entry does not list is `platc::unknown-node`, and a property its entry does not
//! list is `platc::unknown-property` with a did-you-mean among those it does (`Reader`); a
//! lowering that reads a property the table lacks fails in debug builds. `platc schema` prints
//! it as a JSON Schema (`crate::schema`), and the tests hold each entry's counts, required
//! parts, keywords and ranges to what the lowering reports.

pub mod nodes;
pub mod service;

pub use nodes::{DOCUMENT, PLATFORM, REGIONS};

/// A node of the language.
#[derive(Debug)]
pub struct Node {
    pub name: &'static str,
    /// What it is, in one sentence.
    pub about: &'static str,
    /// Its arguments, in order; a `repeated` one is last.
    pub args: &'static [Arg],
    pub props: &'static [Prop],
    /// Properties of any name, each a value of this kind (a canary's `header x-user=…`).
    pub any_props: Option<Value>,
    pub children: &'static [Child],
}

/// A child node of a node, and how many of it the block may hold.
#[derive(Debug)]
pub struct Child {
    pub node: &'static Node,
    pub count: Count,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// At most one (`platc::duplicate-node` for a second).
    Once,
    /// Exactly one (`platc::missing-node` without it).
    One,
    /// Any number.
    Any,
    /// One or more (`platc::missing-node` without one).
    Some,
}

/// An argument.
#[derive(Debug)]
pub struct Arg {
    /// Its name in the reference, upper case (`NAME`, `CIDR`).
    pub name: &'static str,
    pub value: Value,
    pub required: bool,
    /// Every argument from here on (a view's services, a probe's command).
    pub repeated: bool,
    pub example: Example,
}

/// A property, `name=value`.
#[derive(Debug)]
pub struct Prop {
    pub name: &'static str,
    pub value: Value,
    /// Required on every such node (`platc::missing-property`, or `platc::missing-reason` for
    /// a `reason`).
    pub required: bool,
    pub example: Example,
}

/// The kind of a value, as `docs/language.md` lists them under "Value types".
#[derive(Clone, Copy, Debug)]
pub enum Value {
    String,
    /// A DNS-1123 label.
    Name,
    Host,
    Duration,
    Cpu,
    Memory,
    Percent,
    Cidr,
    PortNumber,
    PortName,
    EnvName,
    Image,
    InstanceType,
    /// A version: a string, or a number read as written.
    Version,
    /// An env var's value: a string, or a number or boolean taken as its text.
    Text,
    Boolean,
    Integer {
        min: i64,
        max: i64,
    },
    /// One of a fixed list.
    Keyword(&'static [&'static str]),
    /// A comma-separated list of these words and HTTP status codes (`"unavailable,503"`).
    Conditions(&'static [&'static str]),
}

/// An example value, written in KDL as it is (`Number` and `Boolean` bare, `String` quoted).
#[derive(Clone, Copy, Debug)]
pub enum Example {
    String(&'static str),
    Number(&'static str),
    Boolean(bool),
}

impl Node {
    /// A node with nothing but its name and what it is; the table fills in the rest.
    pub const fn new(name: &'static str, about: &'static str) -> Self {
        Self {
            name,
            about,
            args: &[],
            props: &[],
            any_props: None,
            children: &[],
        }
    }

    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// The entry of the child node `name`, when this node may hold one.
    pub fn child(&self, name: &str) -> Option<&'static Node> {
        self.children
            .iter()
            .find(|c| c.node.name == name)
            .map(|c| c.node)
    }

    /// The names of the children, in the table's (alphabetical) order.
    pub fn child_names(&self) -> impl Iterator<Item = &'static str> {
        self.children.iter().map(|c| c.node.name)
    }
}

impl Child {
    pub const fn once(node: &'static Node) -> Self {
        Self {
            node,
            count: Count::Once,
        }
    }

    pub const fn one(node: &'static Node) -> Self {
        Self {
            node,
            count: Count::One,
        }
    }

    pub const fn any(node: &'static Node) -> Self {
        Self {
            node,
            count: Count::Any,
        }
    }

    pub const fn some(node: &'static Node) -> Self {
        Self {
            node,
            count: Count::Some,
        }
    }
}

impl Arg {
    pub const fn required(name: &'static str, value: Value, example: Example) -> Self {
        Self {
            name,
            value,
            required: true,
            repeated: false,
            example,
        }
    }

    pub const fn optional(name: &'static str, value: Value, example: Example) -> Self {
        Self {
            required: false,
            ..Self::required(name, value, example)
        }
    }

    pub const fn repeated(name: &'static str, value: Value, example: Example) -> Self {
        Self {
            required: false,
            repeated: true,
            ..Self::required(name, value, example)
        }
    }
}

impl Prop {
    pub const fn optional(name: &'static str, value: Value, example: Example) -> Self {
        Self {
            name,
            value,
            required: false,
            example,
        }
    }

    pub const fn required(name: &'static str, value: Value, example: Example) -> Self {
        Self {
            required: true,
            ..Self::optional(name, value, example)
        }
    }
}

impl Value {
    /// What a value of this kind is, for people (an editor's hover, the schema's description).
    pub fn about(self) -> String {
        match self {
            Self::String => "a string".into(),
            Self::Name => "a name: 1–63 lowercase letters, digits and `-`, starting and ending with a letter or digit".into(),
            Self::Host => "a DNS host name, optionally starting with `*.`".into(),
            Self::Duration => "a duration: digits and a unit `ms`, `s`, `m`, `h` or `d`, such as \"30s\" or \"1m30s\"".into(),
            Self::Cpu => "a CPU quantity: millicores \"100m\" or cores \"0.5\", 2".into(),
            Self::Memory => "a memory quantity, such as \"64Mi\", \"1.5Gi\" or \"500M\"".into(),
            Self::Percent => "a percentage from 0 to 100, such as 70 or \"99.9\"".into(),
            Self::Cidr => "an IPv4 network, such as \"10.0.0.0/16\"".into(),
            Self::PortNumber => "a port number, 1 to 65535".into(),
            Self::PortName => "a port name: a name of at most 15 characters with a letter in it".into(),
            Self::EnvName => "an environment variable's name: letters, digits and `_`, not starting with a digit".into(),
            Self::Image => "an image reference: [host[:port]/]path[:tag][@sha256:digest]".into(),
            Self::InstanceType => "an EC2 instance type, such as \"m6i.large\" (with `db.` for a database class, `cache.` for a cache node)".into(),
            Self::Version => "a version, best quoted: \"1.31\"".into(),
            Self::Text => "a string; a number or boolean is taken as its text".into(),
            Self::Boolean => "#true or #false".into(),
            Self::Integer { min, max } => format!("an integer from {min} to {max}"),
            Self::Keyword(words) => format!("one of {}", words.join(", ")),
            Self::Conditions(words) => format!(
                "a comma-separated list of HTTP status codes and {}",
                words.join(", ")
            ),
        }
    }
}

impl Example {
    /// The example as KDL text.
    pub fn kdl(self) -> String {
        match self {
            Self::String(s) => format!("{s:?}"),
            Self::Number(n) => n.to_owned(),
            Self::Boolean(b) => format!("#{b}"),
        }
    }
}

/// The entry at `path` from `platform` (`["platform", "service", "port"]`).
pub fn find(path: &[&str]) -> Option<&'static Node> {
    let (first, rest) = path.split_first()?;
    let mut node = DOCUMENT.child(first)?;
    for name in rest {
        node = node.child(name)?;
    }
    Some(node)
}

/// Every node of the tree with its path from `platform` (`["platform", "aws", "vpc"]`), in
/// depth-first order, each entry under each parent once. The children of an `env` overlay are
/// the platform's own, and are not walked again.
pub fn walk() -> Vec<(Vec<&'static str>, &'static Node)> {
    fn visit(
        node: &'static Node,
        path: &mut Vec<&'static str>,
        out: &mut Vec<(Vec<&'static str>, &'static Node)>,
    ) {
        path.push(node.name);
        out.push((path.clone(), node));
        if !is_overlay(node) {
            for child in node.children {
                visit(child.node, path, out);
            }
        }
        path.pop();
    }
    let mut out = Vec::new();
    visit(&PLATFORM, &mut Vec::new(), &mut out);
    out
}

/// Whether `node` may stand only inside an `env NAME { … }` overlay (`remove`), where the
/// overlay consumes it before the lowering reads the merged platform.
pub fn is_overlay_only(node: &Node) -> bool {
    std::ptr::eq(node, &raw const service::REMOVE)
}

/// Whether `node` is the entry of an `env NAME { … }` overlay.
pub fn is_overlay(node: &Node) -> bool {
    std::ptr::eq(node, &raw const nodes::ENV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_holds_the_platforms_children_but_itself() {
        let platform: Vec<&str> = PLATFORM.child_names().filter(|n| *n != "env").collect();
        let overlay: Vec<&str> = nodes::ENV.child_names().collect();
        assert_eq!(overlay, platform);
        for (a, b) in PLATFORM
            .children
            .iter()
            .filter(|c| c.node.name != "env")
            .zip(nodes::ENV.children)
        {
            assert!(std::ptr::eq(a.node, b.node), "{}", a.node.name);
        }
    }

    #[test]
    fn names_are_sorted_and_unique_and_repeated_arguments_come_last() {
        for (path, node) in walk() {
            let children: Vec<&str> = node.child_names().collect();
            let mut sorted = children.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(children, sorted, "the children of {path:?}");
            let props: Vec<&str> = node.props.iter().map(|p| p.name).collect();
            let mut sorted = props.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(props, sorted, "the properties of {path:?}");
            if let Some(at) = node.args.iter().position(|a| a.repeated) {
                assert_eq!(at, node.args.len() - 1, "{path:?}");
            }
            // A required argument never follows an optional one.
            assert!(
                node.args
                    .windows(2)
                    .all(|w| w[0].required || !w[1].required),
                "{path:?}"
            );
        }
    }
}
