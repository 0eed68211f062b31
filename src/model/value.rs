//! Checked values: quantities, durations, percentages, CIDRs and image references.
//!
//! Each keeps the text the user wrote (so output can repeat it verbatim) next to the number
//! platc computes with. Parsing lives in `lower::value`.

use std::fmt;

/// A Kubernetes quantity: CPU in millicores, memory and storage in bytes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    pub text: String,
    /// Millicores for CPU, bytes for memory.
    pub amount: u128,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration such as `30s` or `1m30s`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    pub text: String,
    pub millis: u64,
}

impl Duration {
    pub fn seconds(&self) -> u64 {
        self.millis.div_ceil(1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A percentage from 0 to 100, kept in thousandths of a percent (99.95 is 99 950).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent {
    pub thousandths: u32,
}

impl Percent {
    pub fn as_f64(self) -> f64 {
        f64::from(self.thousandths) / 1000.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.thousandths / 1000;
        let frac = self.thousandths % 1000;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// An IPv4 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub address: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn last(self) -> u32 {
        // The size of a /0 does not fit u32; work in u64.
        u32::try_from(u64::from(self.address) + self.size() - 1).unwrap_or(u32::MAX)
    }

    pub fn contains(self, other: Self) -> bool {
        other.prefix >= self.prefix && other.address >= self.address && other.last() <= self.last()
    }

    pub fn overlaps(self, other: Self) -> bool {
        self.address <= other.last() && other.address <= self.last()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let octets = self.address.to_be_bytes();
        write!(
            f,
            "{}.{}.{}.{}/{}",
            octets[0], octets[1], octets[2], octets[3], self.prefix
        )
    }
}

/// An EC2 (or, with the `db.` prefix, RDS) instance type split into family and size.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceType {
    pub text: String,
    pub family: String,
    pub size: String,
}

impl fmt::Display for InstanceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_prints_without_trailing_zeros() {
        assert_eq!(
            Percent {
                thousandths: 99_500
            }
            .to_string(),
            "99.5"
        );
        assert_eq!(
            Percent {
                thousandths: 99_950
            }
            .to_string(),
            "99.95"
        );
        assert_eq!(
            Percent {
                thousandths: 70_000
            }
            .to_string(),
            "70"
        );
    }

    #[test]
    fn cidr_containment_and_overlap() {
        let vpc = Cidr {
            address: 0x0a00_0000,
            prefix: 16,
        };
        let inside = Cidr {
            address: 0x0a00_0100,
            prefix: 24,
        };
        let outside = Cidr {
            address: 0x0a01_0000,
            prefix: 24,
        };
        assert!(vpc.contains(inside));
        assert!(!vpc.contains(outside));
        assert!(vpc.overlaps(inside));
        assert!(!inside.overlaps(outside));
        assert_eq!(
            Cidr {
                address: 0,
                prefix: 0
            }
            .last(),
            u32::MAX
        );
        assert_eq!(vpc.to_string(), "10.0.0.0/16");
    }
}
