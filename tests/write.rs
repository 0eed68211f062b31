//! The writer of `out/`: atomic replacement, the manifest's guard against deleting files
//! platc did not write, and concurrent builds. A build stopped at any step, or killed, leaves
//! `out/` as the previous tree or the new one, never a mix.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use platc::diff::{Tree, read_tree};
use platc::write::{
    MANIFEST, WriteError, Written, manifest, manifest_text, write_tree, write_tree_with,
};

/// A scratch directory, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("platc-write-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A tree with a manifest listing its files and their hashes, as `platc build` makes one.
fn tree(tag: &str, files: usize) -> Tree {
    let mut tree: Tree = (0..files)
        .map(|i| (format!("dir{}/file{i}.yaml", i % 3), format!("{tag} {i}\n")))
        .collect();
    let listed = manifest(
        tree.iter()
            .map(|(path, text)| (path.as_str(), text.as_str(), String::new())),
    );
    tree.insert(MANIFEST.into(), manifest_text(&listed));
    tree
}

fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("platc-new") || n.contains("platc-old"))
        .collect()
}

#[test]
fn a_write_stopped_at_any_step_leaves_the_old_or_the_new_tree() {
    let dir = scratch("steps");
    let out = dir.join("out");
    let old = tree("old", 12);
    let new = tree("new", 9);
    // Count the steps of one write.
    write_tree(&out, &old, false).unwrap();
    let mut steps = 0;
    write_tree_with(&out, &new, false, &mut |_| {
        steps += 1;
        Ok(())
    })
    .unwrap();
    assert!(
        steps > new.len(),
        "expected a hook per file plus swap and cleanup, got {steps}"
    );
    for stop in 0..steps {
        std::fs::remove_dir_all(&out).unwrap();
        write_tree(&out, &old, false).unwrap();
        let mut calls = 0;
        let result = write_tree_with(&out, &new, false, &mut |step| {
            calls += 1;
            if calls > stop {
                Err(std::io::Error::other(format!("stopped before {step}")))
            } else {
                Ok(())
            }
        });
        assert!(
            matches!(result, Err(WriteError::Io(_))),
            "stop {stop}: the write should fail"
        );
        let on_disk = read_tree(&out).unwrap();
        assert!(
            on_disk == old || on_disk == new,
            "stop {stop}: out/ is neither tree: {:?}",
            on_disk.keys()
        );
        // The next build cleans up and lands the new tree.
        // (Stopped after the swap, out/ already is the new tree and is left alone.)
        write_tree(&out, &new, false).unwrap();
        assert_eq!(read_tree(&out).unwrap(), new, "stop {stop}");
        assert!(
            leftovers(&dir).is_empty(),
            "stop {stop}: left {:?}",
            leftovers(&dir)
        );
    }
}

#[test]
fn files_it_did_not_write_are_never_deleted_without_force() {
    let dir = scratch("foreign");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    let new = tree("new", 3);
    match write_tree(&out, &new, false) {
        Err(WriteError::UserFiles(files)) => assert_eq!(files.foreign, ["notes.txt"]),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine\n"
    );
    // A file beside the ones the manifest lists is foreign too.
    std::fs::remove_dir_all(&out).unwrap();
    write_tree(&out, &new, false).unwrap();
    std::fs::write(out.join("dir0/extra.yaml"), "x\n").unwrap();
    assert!(
        matches!(write_tree(&out, &tree("newer", 3), false), Err(WriteError::UserFiles(f)) if f.foreign == ["dir0/extra.yaml"])
    );
    assert!(matches!(
        write_tree(&out, &new, true).unwrap(),
        Written::Replaced(Some(_))
    ));
    assert_eq!(read_tree(&out).unwrap(), new);
}

#[test]
fn force_moves_files_it_did_not_write_to_a_backup_beside_out() {
    let dir = scratch("backup");
    let out = dir.join("out");
    write_tree(&out, &tree("old", 3), false).unwrap();
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    std::fs::write(out.join("dir0/extra.yaml"), "x\n").unwrap();
    let new = tree("new", 3);
    write_tree(&out, &new, true).unwrap();
    assert_eq!(read_tree(&out).unwrap(), new);
    let first = Tree::from([
        ("dir0/extra.yaml".to_owned(), "x\n".to_owned()),
        ("notes.txt".to_owned(), "mine\n".to_owned()),
    ]);
    assert_eq!(read_tree(&dir.join("out.platc-backup")).unwrap(), first);
    // The next forced write takes the next free name and keeps the first backup.
    std::fs::write(out.join("notes.txt"), "again\n").unwrap();
    write_tree(&out, &tree("newer", 3), true).unwrap();
    assert_eq!(read_tree(&dir.join("out.platc-backup")).unwrap(), first);
    assert_eq!(
        read_tree(&dir.join("out.platc-backup.1")).unwrap(),
        Tree::from([("notes.txt".to_owned(), "again\n".to_owned())])
    );
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
}

#[test]
fn hand_edited_files_are_not_overwritten_without_force() {
    let dir = scratch("edited");
    let out = dir.join("out");
    write_tree(&out, &tree("old", 3), false).unwrap();
    std::fs::write(out.join("dir1/file1.yaml"), "edited by hand\n").unwrap();
    let new = tree("new", 3);
    match write_tree(&out, &new, false) {
        Err(WriteError::UserFiles(files)) => {
            assert_eq!(files.edited, ["dir1/file1.yaml"]);
            assert!(files.foreign.is_empty(), "{:?}", files.foreign);
        }
        other => panic!("an edited file was overwritten: {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(out.join("dir1/file1.yaml")).unwrap(),
        "edited by hand\n"
    );
    write_tree(&out, &new, true).unwrap();
    assert_eq!(read_tree(&out).unwrap(), new);
    assert_eq!(
        read_tree(&dir.join("out.platc-backup")).unwrap(),
        Tree::from([("dir1/file1.yaml".to_owned(), "edited by hand\n".to_owned())])
    );
    // An edit that made a file what the next tree holds loses nothing.
    std::fs::write(out.join("dir0/file0.yaml"), "newer 0\n").unwrap();
    assert_eq!(
        write_tree(&out, &tree("newer", 3), false).unwrap(),
        Written::Replaced(None)
    );
}

#[test]
fn an_unchanged_tree_is_not_rewritten() {
    let dir = scratch("unchanged");
    let out = dir.join("out");
    let new = tree("new", 4);
    assert_eq!(
        write_tree(&out, &new, false).unwrap(),
        Written::Replaced(None)
    );
    let before = std::fs::metadata(out.join(MANIFEST))
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(write_tree(&out, &new, false).unwrap(), Written::Unchanged);
    assert_eq!(
        std::fs::metadata(out.join(MANIFEST))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
}

#[test]
fn concurrent_writes_leave_one_whole_tree() {
    let dir = scratch("concurrent");
    let out = dir.join("out");
    let trees: Vec<Tree> = (0..4).map(|i| tree(&format!("t{i}"), 30 + i)).collect();
    std::thread::scope(|scope| {
        for t in &trees {
            let out = &out;
            scope.spawn(move || {
                for _ in 0..5 {
                    write_tree(out, t, false).unwrap();
                }
            });
        }
    });
    let on_disk = read_tree(&out).unwrap();
    assert!(trees.contains(&on_disk), "out/ is a mix of trees");
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
}

/// A platform of `n` services, large enough that a build takes a while.
fn platform(n: usize, tag: &str) -> String {
    let mut text = String::from("platform big {\n");
    for i in 0..n {
        let _ = write!(
            text,
            "    service svc{i} {{\n        image \"ghcr.io/acme/svc{i}\" tag=\"{tag}\"\n        port grpc 5000 protocol=grpc\n        probe grpc port=grpc\n"
        );
        if i > 0 {
            let _ = writeln!(text, "        calls svc{} env=DEP_ADDR", i - 1);
        }
        text.push_str("    }\n");
    }
    text.push_str("}\n");
    text
}

#[test]
fn a_killed_build_leaves_out_intact() {
    let dir = scratch("kill");
    let bin = env!("CARGO_BIN_EXE_platc");
    let build = |tag: &str| {
        std::fs::write(dir.join("platform.kdl"), platform(150, tag)).unwrap();
        Command::new(bin)
            .current_dir(&dir)
            .arg("build")
            .output()
            .unwrap()
    };
    assert!(build("v1").status.success());
    let v1 = read_tree(&dir.join("out")).unwrap();
    assert!(build("v2").status.success());
    let v2 = read_tree(&dir.join("out")).unwrap();
    assert_ne!(v1, v2);
    let mut outcomes = (0, 0);
    for delay_ms in [0, 2, 5, 10, 20, 40, 80, 160, 320] {
        // Alternate the target so every kill interrupts a real change.
        let (from, to, tag) = if outcomes.0 % 2 == 0 {
            (&v2, &v1, "v1")
        } else {
            (&v1, &v2, "v2")
        };
        std::fs::write(dir.join("platform.kdl"), platform(150, tag)).unwrap();
        let mut child = Command::new(bin)
            .current_dir(&dir)
            .arg("build")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let on_disk = read_tree(&dir.join("out")).unwrap();
        if &on_disk == to {
            outcomes.1 += 1;
        } else {
            assert!(
                &on_disk == from,
                "killed after {delay_ms} ms: out/ is neither the old nor the new tree"
            );
        }
        outcomes.0 += 1;
        // Leave a settled tree for the next round.
        let settle = Command::new(bin)
            .current_dir(&dir)
            .arg("build")
            .output()
            .unwrap();
        assert!(settle.status.success());
        assert!(
            read_tree(&dir.join("out")).unwrap() == *to,
            "a build after a kill did not land the new tree"
        );
    }
}
