//! Reads the files `config … file=` names, from the directory of `platform.kdl`: after the
//! lowering, so that the lowering itself reads no file. A path must stay inside that directory
//! (relative, no `..`, no symbolic link out of it), name a UTF-8 file, and the service's
//! `ConfigMap` must stay small enough to apply.

use std::path::{Component, Path};

use crate::diagnostic::{Diagnostics, ErrorKind};
use crate::model::Platform;

/// The most a service's `ConfigMap` data may be, as JSON. The API server takes 1 MiB, but
/// `kubectl apply` without `--server-side`, as Argo CD runs it, copies the whole object into
/// its `last-applied-configuration` annotation, and an object's annotations hold 256 KiB in
/// all: 192 KiB leaves room for the metadata.
pub const CONFIG_MAP_LIMIT: usize = 192 * 1024;

/// Fills in the contents of every `file=` config, and checks each service's `ConfigMap` size.
pub fn read(platform: &mut Platform, dir: Option<&Path>, d: &mut Diagnostics) {
    for service in &mut platform.services {
        for config in &mut service.configs {
            let Some(file) = &config.file else { continue };
            match contents(&file.value, dir) {
                Ok(text) => config.data = text,
                Err(reason) => d.error(
                    ErrorKind::InvalidFile {
                        path: file.value.clone(),
                        reason,
                    },
                    file.span,
                ),
            }
        }
        let data: std::collections::BTreeMap<&str, &str> = service
            .configs
            .iter()
            .map(|c| (c.name.value.as_str(), c.data.as_str()))
            .collect();
        let size = serde_json::to_string(&data).map_or(0, |json| json.len());
        if size > CONFIG_MAP_LIMIT
            && let Some(last) = service.configs.last()
        {
            d.error(
                ErrorKind::TooLarge {
                    what: "the data of this service's ConfigMap",
                    size,
                    limit: CONFIG_MAP_LIMIT,
                },
                last.file.as_ref().map_or(last.name.span, |f| f.span),
            );
        }
    }
}

/// The text of `path` under `dir`, or why it cannot be used.
pub(crate) fn contents(path: &str, dir: Option<&Path>) -> Result<String, String> {
    let relative = Path::new(path);
    if path.is_empty()
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(
            "it must be a relative path inside the directory of platform.kdl, without `..`".into(),
        );
    }
    let Some(dir) = dir else {
        return Err("the platform was not read from a file, so it has no directory".into());
    };
    let full = dir.join(relative);
    // A symbolic link may not lead out of the directory either.
    let (Ok(root), Ok(real)) = (dir.canonicalize(), full.canonicalize()) else {
        return Err("there is no such file".into());
    };
    if !real.starts_with(&root) {
        return Err("it leads out of the directory of platform.kdl".into());
    }
    if !real.is_file() {
        return Err("it is not a file".into());
    }
    let metadata = std::fs::metadata(&real).map_err(|e| e.to_string())?;
    if usize::try_from(metadata.len()).unwrap_or(usize::MAX) > CONFIG_MAP_LIMIT {
        return Err(format!(
            "it is {} bytes, above the limit of a ConfigMap ({CONFIG_MAP_LIMIT})",
            metadata.len()
        ));
    }
    let bytes = std::fs::read(&real).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (byte {} starts an invalid sequence)",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::source::Source;

    /// The codes of compiling `platform` in a fresh directory holding `files`.
    fn codes(name: &str, platform: &str, files: &[(&str, &[u8])]) -> Vec<&'static str> {
        let dir = std::env::temp_dir().join(format!("platc-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (path, bytes) in files {
            std::fs::write(dir.join(path), bytes).unwrap();
        }
        let source = Source::new("platform.kdl", platform).with_dir(&dir);
        let result = crate::compile(&source, &crate::Options::default());
        let _ = std::fs::remove_dir_all(&dir);
        result.diagnostics.iter().map(|d| d.kind.code()).collect()
    }

    fn platform(configs: &str) -> String {
        format!(
            "platform shop {{\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n        {configs}\n    }}\n}}\n"
        )
    }

    #[test]
    fn files_inside_the_directory_are_read() {
        let text = platform("config a path=\"/etc/a\" file=\"a.conf\"");
        assert_eq!(
            codes("ok", &text, &[("a.conf", b"x = 1\n")]),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn config_files_above_the_limit_are_too_large() {
        let half = vec![b'x'; super::CONFIG_MAP_LIMIT / 2 + 10];
        let text = platform(
            "config a path=\"/etc/a\" file=\"a.conf\"\n        config b path=\"/etc/b\" file=\"b.conf\"",
        );
        assert_eq!(
            codes("big", &text, &[("a.conf", &half), ("b.conf", &half)]),
            ["platc::too-large"]
        );
        // One alone fits.
        let one = platform("config a path=\"/etc/a\" file=\"a.conf\"");
        assert_eq!(
            codes("half", &one, &[("a.conf", &half)]),
            Vec::<&str>::new()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_directory_is_refused() {
        let dir = std::env::temp_dir().join(format!("platc-files-{}-link", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("host")).unwrap();
        let source = Source::new(
            "platform.kdl",
            platform("config h path=\"/etc/h\" file=\"host\""),
        )
        .with_dir(&dir);
        let result = crate::compile(&source, &crate::Options::default());
        let _ = std::fs::remove_dir_all(&dir);
        let codes: Vec<_> = result.diagnostics.iter().map(|d| d.kind.code()).collect();
        assert_eq!(codes, ["platc::invalid-file"]);
    }
}
