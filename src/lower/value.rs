//! Parsers for the value syntaxes of the language: durations, Kubernetes quantities,
//! percentages, CIDRs, DNS-1123 names, image references and instance types.
//!
//! Each returns `None` or an `Err(reason)` and leaves the diagnostic to the caller.

use crate::model::value::{Cidr, InstanceType, Percent};

/// `500ms`, `30s`, `5m`, `1h`, `15d`, `1m30s`: milliseconds.
pub fn duration(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1, 2)
        } else if rest.starts_with('s') {
            (1000, 1)
        } else if rest.starts_with('m') {
            (60_000, 1)
        } else if rest.starts_with('h') {
            (3_600_000, 1)
        } else if rest.starts_with('d') {
            (86_400_000, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total = total.checked_add(number.checked_mul(unit)?)?;
    }
    Some(total)
}

/// A CPU quantity in millicores: `100m`, `0.5`, `2`.
pub fn cpu(text: &str) -> Option<u128> {
    if let Some(milli) = text.strip_suffix('m') {
        return plain_number(milli)
            .filter(|&(whole, frac_digits)| frac_digits == 0 && whole > 0)
            .map(|(w, _)| w);
    }
    let (scaled, digits) = plain_number(text)?;
    // scaled holds the number without its decimal point; digits after the point.
    let millis = match digits {
        0 => scaled.checked_mul(1000)?,
        1 => scaled.checked_mul(100)?,
        2 => scaled.checked_mul(10)?,
        3 => scaled,
        _ => return None,
    };
    (millis > 0).then_some(millis)
}

/// A memory or storage quantity in bytes: `64Mi`, `1Gi`, `500M`, `1048576`.
pub fn bytes(text: &str) -> Option<u128> {
    const SUFFIXES: [(&str, u128); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ];
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((text, 1));
    let (whole, digits) = plain_number(number)?;
    let amount = whole.checked_mul(factor)? / 10u128.pow(digits);
    (amount > 0).then_some(amount)
}

/// A plain decimal number without sign or exponent: the digits as one integer, and how many of
/// them come after the decimal point.
fn plain_number(text: &str) -> Option<(u128, u32)> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.contains('.') && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if whole.len() + frac.len() > 30 {
        return None;
    }
    let joined = format!("{whole}{frac}");
    Some((joined.parse().ok()?, u32::try_from(frac.len()).ok()?))
}

/// A percentage from 0 to 100 with at most three decimals: `70`, `99.9`, `99.95`.
pub fn percent(text: &str) -> Option<Percent> {
    let (scaled, digits) = plain_number(text)?;
    if digits > 3 {
        return None;
    }
    let thousandths = scaled * 10u128.pow(3 - digits);
    (thousandths <= 100_000).then(|| Percent {
        thousandths: u32::try_from(thousandths).unwrap_or(0),
    })
}

/// An IPv4 network `a.b.c.d/n` with no host bits set.
pub fn cidr(text: &str) -> Result<Cidr, String> {
    let (address, prefix) = text.split_once('/').ok_or("no prefix length (`/16`)")?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or("the prefix length must be 0 to 32")?;
    let octets: Vec<&str> = address.split('.').collect();
    if octets.len() != 4 {
        return Err("an IPv4 address has four parts".into());
    }
    let mut value: u32 = 0;
    for octet in octets {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{octet}` is not a number from 0 to 255"));
        }
        let byte: u8 = octet
            .parse()
            .map_err(|_| format!("`{octet}` is not a number from 0 to 255"))?;
        value = (value << 8) | u32::from(byte);
    }
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    if value & !mask != 0 {
        let network = Cidr {
            address: value & mask,
            prefix,
        };
        return Err(format!("host bits are set; the network is `{network}`"));
    }
    Ok(Cidr {
        address: value,
        prefix,
    })
}

/// A DNS-1123 label: what Kubernetes accepts as a namespace or Service name.
pub fn dns_label(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if text.len() > 63 {
        return Err(format!(
            "it is {} characters long, the limit is 63",
            text.len()
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    if text.starts_with('-') || text.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// What a name of platform.kdl needs beyond a DNS-1123 label, for the objects it names: a
/// letter first, as a Kubernetes `Service`'s name (DNS-1035) and the AWS identifiers made of
/// it (RDS and `ElastiCache` identifiers, a database's name) need, and no `--`, which RDS,
/// `ElastiCache` and ECR refuse in their identifiers and repository names.
pub fn object_name(text: &str) -> Result<(), String> {
    if !text.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a letter".into());
    }
    if text.contains("--") {
        return Err("`--` is not allowed".into());
    }
    Ok(())
}

/// A DNS name such as `shop.example.com`, optionally starting with `*.`.
pub fn host(text: &str) -> Result<(), String> {
    let name = text.strip_prefix("*.").unwrap_or(text);
    if name.len() > 253 {
        return Err("a host name is at most 253 characters".into());
    }
    for label in name.split('.') {
        dns_label(label).map_err(|reason| format!("label `{label}`: {reason}"))?;
    }
    Ok(())
}

/// An image reference: `[host[:port]/]path[:tag][@sha256:digest]`, split into repository,
/// tag and digest.
pub fn image(text: &str) -> Result<(String, Option<String>, Option<String>), String> {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => {
            self::digest(digest)?;
            (rest, Some(digest.to_owned()))
        }
        None => (text, None),
    };
    // A tag follows the last `:` that comes after the last `/` (a registry port comes before).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        self::tag(tag)?;
    }
    repository_name(repository)?;
    Ok((repository.to_owned(), tag.map(str::to_owned), digest))
}

fn repository_name(text: &str) -> Result<(), String> {
    let mut parts: Vec<&str> = text.split('/').collect();
    // The first part is a registry host when it has a `.` or `:` or is `localhost`.
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        let host = parts.remove(0);
        let (name, port) = host.split_once(':').unwrap_or((host, ""));
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(format!("`{host}` is not a registry host"));
        }
        if host.contains(':') && port.parse::<u16>().is_err() {
            return Err(format!("`{port}` is not a registry port"));
        }
    }
    for part in parts {
        let ok = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "path component `{part}` must be lowercase letters and digits, separated by `.`, `_` or `-`"
            ));
        }
    }
    Ok(())
}

/// An image tag: up to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
pub fn tag(text: &str) -> Result<(), String> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !text.starts_with(['.', '-']);
    if text.is_empty() {
        Err("the tag after `:` is empty".into())
    } else if ok {
        Ok(())
    } else {
        Err(format!("`{text}` is not a valid tag"))
    }
}

/// An image digest: `sha256:` and 64 lowercase hex digits.
pub fn digest(text: &str) -> Result<(), String> {
    let ok = text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("`{text}` is not a sha256 digest"))
    }
}

/// An instance type `family.size` (`m6i.large`), or with `db_prefix` an RDS class
/// (`db.t4g.micro`).
pub fn instance_type(text: &str, prefix: &str) -> Option<InstanceType> {
    let rest = text.strip_prefix(prefix)?;
    let (family, size) = rest.split_once('.')?;
    let family_ok = family.len() >= 2
        && family.starts_with(|c: char| c.is_ascii_lowercase())
        && family
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && family.chars().any(|c| c.is_ascii_digit());
    let size_ok = matches!(
        size,
        "nano" | "micro" | "small" | "medium" | "large" | "xlarge" | "metal"
    ) || size.strip_suffix("xlarge").is_some_and(|n| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0')
    }) || size
        .strip_prefix("metal-")
        .is_some_and(|n| n.ends_with("xl"));
    (family_ok && size_ok).then(|| InstanceType {
        text: text.to_owned(),
        family: family.to_owned(),
        size: size.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Some(500));
        assert_eq!(duration("1m30s"), Some(90_000));
        assert_eq!(duration("2h"), Some(7_200_000));
        assert_eq!(duration("5"), None);
        assert_eq!(duration("s"), None);
        assert_eq!(duration("1.5s"), None);
        assert_eq!(duration("99999999999999h"), None);
    }

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpu("100m"), Some(100));
        assert_eq!(cpu("0.5"), Some(500));
        assert_eq!(cpu("2"), Some(2000));
        assert_eq!(cpu("1.2345"), None);
        assert_eq!(cpu("0"), None);
        assert_eq!(cpu("10x"), None);
        assert_eq!(cpu("-1"), None);
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(bytes("64Mi"), Some(64 << 20));
        assert_eq!(bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(bytes("128M"), Some(128_000_000));
        assert_eq!(bytes("1024"), Some(1024));
        assert_eq!(bytes("64MB"), None);
        assert_eq!(bytes("Mi"), None);
    }

    #[test]
    fn percents() {
        assert_eq!(percent("99.95").map(|p| p.thousandths), Some(99_950));
        assert_eq!(percent("100").map(|p| p.thousandths), Some(100_000));
        assert_eq!(percent("100.1"), None);
        assert_eq!(percent("99.9999"), None);
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            cidr("10.0.0.0/16").map(|c| c.to_string()),
            Ok("10.0.0.0/16".into())
        );
        assert!(cidr("10.0.0.1/16").unwrap_err().contains("10.0.0.0/16"));
        assert!(cidr("10.0.0/16").is_err());
        assert!(cidr("10.0.0.256/32").is_err());
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("10.0.0.0").is_err());
    }

    #[test]
    fn names_and_hosts() {
        assert!(dns_label("checkout-service2").is_ok());
        assert!(dns_label("Checkout").is_err());
        assert!(dns_label("-a").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(host("shop.example.com").is_ok());
        assert!(host("*.example.com").is_ok());
        assert!(host("shop..com").is_err());
    }

    #[test]
    fn images() {
        let upstream =
            "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend:v0.10.6";
        let (repo, tag, digest) = image(upstream).unwrap();
        assert_eq!(
            repo,
            "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend"
        );
        assert_eq!(tag.as_deref(), Some("v0.10.6"));
        assert_eq!(digest, None);
        let (repo, tag, _) = image("localhost:5000/redis").unwrap();
        assert_eq!((repo.as_str(), tag), ("localhost:5000/redis", None));
        assert!(image("Redis").is_err());
        assert!(image("redis:").is_err());
        assert!(image("redis@sha256:abc").is_err());
        let digest_ref = format!("busybox:1.38.0@sha256:{}", "a".repeat(64));
        assert!(image(&digest_ref).is_ok());
    }

    #[test]
    fn instance_types() {
        assert!(instance_type("m6i.large", "").is_some());
        assert!(instance_type("c7g.16xlarge", "").is_some());
        assert!(instance_type("db.t4g.micro", "db.").is_some());
        assert!(instance_type("t4g.micro", "db.").is_none());
        assert!(instance_type("cache.t4g.micro", "cache.").is_some());
        assert!(instance_type("cache.t4g.micro", "db.").is_none());
        assert!(instance_type("m6i.huge", "").is_none());
        assert!(instance_type("large", "").is_none());
    }
}
