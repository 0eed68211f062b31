//! The writer of `out/`: atomic replacement, the incremental rebuild from the manifests'
//! hashes, the manifest's guard against deleting files platc did not write, and concurrent
//! builds. A whole-tree write (a first build, a big change, `--force`) stopped at any step, or
//! killed, leaves `out/` as the previous tree or the new one, never a mix. An incremental one
//! (a small change) leaves each file the old or the new one, never torn, and the next build
//! finishes it without refusing. A rebuild writes only what changed: a hand edit of a file it
//! does not change survives it, and `--force` restores it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use platc::diff::{Tree, read_tree};
use platc::write::{
    Entry, GENERATOR, JOURNAL, Listing, MANIFEST, Manifest, Old, Stamp, WriteError, Written,
    entries_text, manifest, manifest_patched, manifest_text, manifest_text_reusing,
    nested_text_reusing, write_changed, write_changed_with, write_tree, write_tree_with,
};

#[path = "support/scratch.rs"]
mod scratch;

/// A scratch directory of this file's, removed when dropped.
fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch("write", name)
}

/// A tree with a manifest listing its files and their hashes, as `platc build` makes one.
fn tree(tag: &str, files: usize) -> Tree {
    let mut tree: Tree = (0..files)
        .map(|i| (format!("dir{}/file{i}.yaml", i % 3), format!("{tag} {i}\n")))
        .collect();
    let listed = manifest(
        tree.iter()
            .map(|(path, text)| (path.as_str(), text.as_str(), "".into())),
    );
    tree.insert(MANIFEST.into(), manifest_text(&listed));
    tree
}

/// A scratch directory whose `out` holds a tree of 20 files that platc wrote: the start of
/// every rebuild test.
fn written(name: &str) -> (scratch::Scratch, PathBuf, Tree) {
    let dir = scratch(name);
    let out = dir.join("out");
    let old = tree("old", 20);
    write_tree(&out, &old, false).unwrap();
    (dir, out, old)
}

/// A forced write of `new` over `out` swaps the whole tree in and moves `edited`, the one file
/// edited by hand, to the backup beside it.
fn forced_backs_up(dir: &Path, out: &Path, new: &Tree, edited: (&str, &str)) {
    assert!(matches!(
        write_tree(out, new, true).unwrap(),
        Written::Replaced {
            backup: Some(_),
            left: None
        }
    ));
    assert_eq!(read_tree(out).unwrap(), *new);
    assert_eq!(
        read_tree(&dir.join("out.platc-backup")).unwrap(),
        Tree::from([(edited.0.to_owned(), edited.1.to_owned())])
    );
}

fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("platc-new") || n.contains("platc-old"))
        .collect()
}

/// A hook for a file system without `RENAME_EXCHANGE`: the exchange fails as on one (EINVAL),
/// and the write falls back to two renames. Other steps go to `hook`.
fn without_exchange(
    hook: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> impl FnMut(&str) -> std::io::Result<()> + '_ {
    move |step| {
        if step == "swap" {
            Err(std::io::Error::from_raw_os_error(22))
        } else {
            hook(step)
        }
    }
}

#[test]
fn a_write_stopped_at_any_step_leaves_the_old_or_the_new_tree() {
    for exchange in [true, false] {
        stopped_at_any_step(exchange);
    }
}

/// Stops a write at each of its steps in turn, with or without `RENAME_EXCHANGE`.
fn stopped_at_any_step(exchange: bool) {
    let dir = scratch(if exchange { "steps" } else { "steps-renames" });
    let out = dir.join("out");
    let old = tree("old", 12);
    let new = tree("new", 9);
    // Every step's hook, or every step's but the exchange's, which fails.
    let write = |hook: &mut dyn FnMut(&str) -> std::io::Result<()>| {
        if exchange {
            write_tree_with(&out, &new, false, hook)
        } else {
            write_tree_with(&out, &new, false, &mut without_exchange(hook))
        }
    };
    // Count the steps of one write.
    write_tree(&out, &old, false).unwrap();
    let mut steps = 0;
    write(&mut |_| {
        steps += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(read_tree(&out).unwrap(), new);
    assert!(
        steps > new.len(),
        "expected a hook per file plus swap and cleanup, got {steps}"
    );
    for stop in 0..steps {
        std::fs::remove_dir_all(&out).unwrap();
        write_tree(&out, &old, false).unwrap();
        let mut calls = 0;
        let result = write(&mut |step| {
            calls += 1;
            if calls > stop {
                Err(std::io::Error::other(format!("stopped before {step}")))
            } else {
                Ok(())
            }
        });
        // Stopped before the previous tree is removed, the write has succeeded. Stopped
        // between the two renames (and kept from putting the previous tree back), `out/` is
        // missing and the previous tree is beside it.
        let on_disk = match result {
            Err(WriteError::OutMissing { previous, .. }) => {
                assert!(!exchange && !out.exists(), "stop {stop}");
                read_tree(&previous).unwrap()
            }
            Err(WriteError::Io { .. }) | Ok(Written::Replaced { left: Some(_), .. }) => {
                read_tree(&out).unwrap()
            }
            other => {
                panic!("stop {stop}: the write should fail, or leave the previous tree: {other:?}")
            }
        };
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
fn a_failed_write_removes_what_it_made_and_leaves_out_as_it_was() {
    let dir = scratch("failed");
    let out = dir.join("out");
    write_tree(&out, &tree("old", 6), false).unwrap();
    // A file of the user's, so that a forced write makes a backup too.
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    let before = read_tree(&out).unwrap();
    for failing in ["file", "backup", "swap"] {
        let result = write_tree_with(&out, &tree("new", 6), true, &mut |step| {
            if step == failing {
                // EBUSY: `out` is a mount point, say.
                Err(std::io::Error::from_raw_os_error(16))
            } else {
                Ok(())
            }
        });
        assert!(result.is_err(), "{failing}: the write should fail");
        assert_eq!(read_tree(&out).unwrap(), before, "{failing}: out/ changed");
        assert!(
            leftovers(&dir).is_empty(),
            "{failing}: left {:?}",
            leftovers(&dir)
        );
        assert!(
            !dir.join("out.platc-backup").exists(),
            "{failing}: left a backup of files that are still in out/"
        );
    }
    // Without RENAME_EXCHANGE, a second rename that fails puts the previous tree back.
    let mut renames = 0;
    let result = write_tree_with(
        &out,
        &tree("new", 6),
        true,
        &mut without_exchange(&mut |step| {
            renames += usize::from(step == "rename");
            if step == "rename" && renames == 2 {
                Err(std::io::Error::from_raw_os_error(16))
            } else {
                Ok(())
            }
        }),
    );
    assert!(
        matches!(result, Err(WriteError::Io { ref left, .. }) if left.is_empty()),
        "{result:?}"
    );
    assert_eq!(read_tree(&out).unwrap(), before);
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
    assert!(!dir.join("out.platc-backup").exists());
    // When putting it back fails too, the error says where the previous tree is, and the next
    // write puts it back first.
    let mut renames = 0;
    let result = write_tree_with(
        &out,
        &tree("new", 6),
        true,
        &mut without_exchange(&mut |step| {
            renames += usize::from(step == "rename");
            if (step == "rename" && renames == 2) || step == "restore" {
                Err(std::io::Error::from_raw_os_error(16))
            } else {
                Ok(())
            }
        }),
    );
    match result {
        Err(WriteError::OutMissing { previous, .. }) => {
            assert!(!out.exists());
            assert_eq!(read_tree(&previous).unwrap(), before);
        }
        other => panic!("expected out/ to be missing, got {other:?}"),
    }
    let mut restored = None;
    let _ = write_tree_with(&out, &tree("new", 6), true, &mut |step| {
        if step == "file" && restored.is_none() {
            restored = Some(read_tree(&out).unwrap());
            return Err(std::io::Error::other("stop"));
        }
        Ok(())
    });
    assert_eq!(restored, Some(before.clone()));
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
    std::fs::remove_dir_all(dir.join("out.platc-backup")).unwrap();
    // When removing what it made fails too, the error names what is left.
    let result = write_tree_with(&out, &tree("new", 6), true, &mut |step| {
        if step == "swap" || step == "discard" {
            Err(std::io::Error::from_raw_os_error(16))
        } else {
            Ok(())
        }
    });
    match result {
        Err(WriteError::Io { left, .. }) => assert_eq!(
            left,
            [dir.join(".out.platc-new"), dir.join("out.platc-backup")]
        ),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert_eq!(read_tree(&out).unwrap(), before);
    // The next write removes the staged tree; the backup, which it cannot tell from one the
    // user keeps, stays.
    write_tree(&out, &tree("new", 6), true).unwrap();
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
}

#[test]
fn a_large_write_stopped_among_its_files_leaves_out_as_it_was() {
    // Thousands of files are staged on both cores, a batch at a time; a stop at any of them
    // (the first, one in a batch, the first of the next) still leaves nothing behind.
    let dir = scratch("stopped-large");
    let out = dir.join("out");
    let old = tree("old", 5000);
    let new = tree("new", 5000);
    write_tree(&out, &old, false).unwrap();
    for stop in [1, 2500, 4097] {
        let mut files = 0;
        let result = write_tree_with(&out, &new, true, &mut |step| {
            if step == "file" {
                files += 1;
                if files == stop {
                    return Err(std::io::Error::other("stopped"));
                }
            }
            Ok(())
        });
        assert!(result.is_err(), "stop {stop}: the write should fail");
        assert_eq!(files, stop, "stop {stop}: files staged after the stop");
        assert_eq!(read_tree(&out).unwrap(), old, "stop {stop}: out/ changed");
        assert!(
            leftovers(&dir).is_empty(),
            "stop {stop}: left {:?}",
            leftovers(&dir)
        );
    }
    write_tree(&out, &new, true).unwrap();
    assert_eq!(read_tree(&out).unwrap(), new);
}

#[test]
fn a_file_that_cannot_be_written_among_thousands_fails_the_write_and_leaves_out_as_it_was() {
    // A name over the file system's 255-byte limit: its directory is made, the file is not,
    // while the files around it are written on both cores.
    let dir = scratch("unwritable-large");
    let out = dir.join("out");
    let old = tree("old", 5000);
    write_tree(&out, &old, false).unwrap();
    let mut new = tree("new", 5000);
    new.insert(
        format!("dir1/{}.yaml", "x".repeat(300)),
        "too long\n".into(),
    );
    match write_tree(&out, &new, true) {
        // ENAMETOOLONG, from the file's own write.
        Err(WriteError::Io { error, left }) if left.is_empty() => {
            assert_eq!(error.raw_os_error(), Some(36), "{error}");
        }
        other => panic!("expected the long name's I/O error, got {other:?}"),
    }
    assert_eq!(read_tree(&out).unwrap(), old);
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
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
        Written::Replaced {
            backup: Some(_),
            left: None
        }
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
        Written::Replaced {
            backup: None,
            left: None
        }
    );
}

#[test]
fn a_symlinked_out_is_written_where_it_points_and_stays_a_link() {
    let dir = scratch("symlink");
    std::fs::create_dir_all(dir.join("real")).unwrap();
    let target = dir.join("real/out");
    write_tree(&target, &tree("old", 3), false).unwrap();
    std::os::unix::fs::symlink("real/out", dir.join("out")).unwrap();
    let new = tree("new", 4);
    write_tree(&dir.join("out"), &new, false).unwrap();
    assert_eq!(
        std::fs::read_link(dir.join("out")).unwrap(),
        Path::new("real/out")
    );
    assert_eq!(read_tree(&target).unwrap(), new);
    // Staged beside the target; the backup of a forced write goes there too.
    std::fs::write(target.join("notes.txt"), "mine\n").unwrap();
    write_tree(&dir.join("out"), &tree("newer", 4), true).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("real/out.platc-backup/notes.txt")).unwrap(),
        "mine\n"
    );
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
    assert!(
        leftovers(&dir.join("real")).is_empty(),
        "left {:?}",
        leftovers(&dir.join("real"))
    );
    // A link to a directory that does not exist yet: the tree is made where it points.
    std::os::unix::fs::symlink("real/later", dir.join("later")).unwrap();
    write_tree(&dir.join("later"), &new, false).unwrap();
    assert_eq!(
        std::fs::read_link(dir.join("later")).unwrap(),
        Path::new("real/later")
    );
    assert_eq!(read_tree(&dir.join("real/later")).unwrap(), new);
}

/// `tree` with `sub` below `dir/`, listed in `tree`'s manifest (as a whole build makes
/// `out/env/NAME/`).
fn nest(tree: &Tree, dir: &str, sub: &Tree) -> Tree {
    let mut all: Tree = tree.clone();
    all.remove(MANIFEST);
    all.extend(sub.iter().map(|(p, t)| (format!("{dir}/{p}"), t.clone())));
    let listed = manifest(
        all.iter()
            .map(|(path, text)| (path.as_str(), text.as_str(), "".into())),
    );
    all.insert(MANIFEST.into(), manifest_text(&listed));
    all
}

#[test]
fn a_tree_below_out_with_its_own_manifest_may_be_written_alone() {
    let dir = scratch("nested");
    let out = dir.join("out");
    write_tree(
        &out,
        &nest(&tree("base", 4), "env/staging", &tree("env", 3)),
        false,
    )
    .unwrap();
    // Written alone (`platc build --env staging`): out/'s manifest no longer has its hashes,
    // but its own manifest does.
    write_tree(&out.join("env/staging"), &tree("env2", 3), false).unwrap();
    // A write stopped below out/ leaves its staged tree there; it is platc's, not the user's.
    std::fs::create_dir_all(out.join("env/.staging.platc-new")).unwrap();
    std::fs::write(out.join("env/.staging.platc-new/x.yaml"), "x\n").unwrap();
    let whole = nest(&tree("base2", 4), "env/staging", &tree("env3", 3));
    assert_eq!(
        write_tree(&out, &whole, false).unwrap(),
        Written::Replaced {
            backup: None,
            left: None
        }
    );
    assert_eq!(read_tree(&out).unwrap(), whole);
    // A manifest elsewhere that none lists vouches for nothing.
    std::fs::create_dir_all(out.join("copy")).unwrap();
    for (path, text) in tree("copy", 2) {
        let file = out.join("copy").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    match write_tree(&out, &tree("base3", 4), false) {
        Err(WriteError::UserFiles(files)) => assert_eq!(files.foreign.len(), 3),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_unchanged_tree_is_not_rewritten() {
    let dir = scratch("unchanged");
    let out = dir.join("out");
    let new = tree("new", 4);
    assert_eq!(
        write_tree(&out, &new, false).unwrap(),
        Written::Replaced {
            backup: None,
            left: None
        }
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

/// `tree` with some files set (`Some(text)`) or removed (`None`), and its manifest anew.
fn changed(tree: &Tree, changes: &[(&str, Option<&str>)]) -> Tree {
    let mut files = tree.clone();
    files.remove(MANIFEST);
    for (path, text) in changes {
        match text {
            Some(text) => files.insert((*path).to_owned(), (*text).to_owned()),
            None => files.remove(*path),
        };
    }
    let listed = manifest(
        files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str(), "".into())),
    );
    files.insert(MANIFEST.into(), manifest_text(&listed));
    files
}

/// The identity of a file on disk: its inode and its modification time.
fn identity(file: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(file).unwrap();
    (meta.ino(), meta.modified().unwrap())
}

/// What an incremental write leaves only when it is stopped: its journal and its temporary
/// files.
fn unfinished(out: &Path) -> Vec<String> {
    read_tree(out)
        .unwrap()
        .into_keys()
        .filter(|p| p.ends_with(JOURNAL) || p.ends_with(".platc-tmp"))
        .collect()
}

#[test]
fn a_rebuild_writes_only_the_files_that_changed() {
    let (dir, out, old) = written("incremental");
    let untouched = identity(&out.join("dir2/file5.yaml"));
    let manifest_before = identity(&out.join(MANIFEST));
    std::thread::sleep(Duration::from_millis(20));
    let new = changed(&old, &[("dir1/file4.yaml", Some("new 4\n"))]);
    assert_eq!(
        write_tree(&out, &new, false).unwrap(),
        Written::Updated {
            written: 1,
            removed: 0
        }
    );
    assert_eq!(read_tree(&out).unwrap(), new);
    assert_eq!(
        std::fs::read_to_string(out.join("dir1/file4.yaml")).unwrap(),
        "new 4\n"
    );
    assert_eq!(identity(&out.join("dir2/file5.yaml")), untouched);
    assert_ne!(identity(&out.join(MANIFEST)), manifest_before);
    assert!(unfinished(&out).is_empty(), "left {:?}", unfinished(&out));
    assert!(leftovers(&dir).is_empty(), "left {:?}", leftovers(&dir));
    // The same tree again: up to date, from the manifests alone.
    assert_eq!(write_tree(&out, &new, false).unwrap(), Written::Unchanged);
}

#[test]
fn a_rebuild_deletes_removed_files_and_the_directories_they_leave_empty() {
    let dir = scratch("removed");
    let out = dir.join("out");
    let base = tree("old", 20);
    let old = changed(
        &base,
        &[
            ("gone/deep/x.yaml", Some("x\n")),
            ("gone/y.yaml", Some("y\n")),
            ("kept/z.yaml", Some("z\n")),
        ],
    );
    write_tree(&out, &old, false).unwrap();
    // A file of the user's keeps its directory.
    std::fs::write(out.join("kept/notes.txt"), "mine\n").unwrap();
    let new = changed(
        &old,
        &[
            ("gone/deep/x.yaml", None),
            ("gone/y.yaml", None),
            ("kept/z.yaml", None),
            ("added/deep/w.yaml", Some("w\n")),
        ],
    );
    assert_eq!(
        write_tree(&out, &new, false).unwrap(),
        Written::Updated {
            written: 1,
            removed: 3
        }
    );
    assert!(!out.join("gone").exists(), "an empty directory was left");
    assert_eq!(
        std::fs::read_to_string(out.join("kept/notes.txt")).unwrap(),
        "mine\n"
    );
    let mut expected = new.clone();
    expected.insert("kept/notes.txt".into(), "mine\n".into());
    assert_eq!(read_tree(&out).unwrap(), expected);
}

#[test]
fn a_changed_file_edited_by_hand_is_refused_and_force_backs_it_up() {
    let (dir, out, old) = written("incremental-edited");
    std::fs::write(out.join("dir1/file4.yaml"), "edited by hand\n").unwrap();
    let before = read_tree(&out).unwrap();
    let new = changed(&old, &[("dir1/file4.yaml", Some("new 4\n"))]);
    match write_tree(&out, &new, false) {
        Err(WriteError::UserFiles(files)) => {
            assert_eq!(files.edited, ["dir1/file4.yaml"]);
            assert!(files.foreign.is_empty(), "{:?}", files.foreign);
        }
        other => panic!("an edited file was overwritten: {other:?}"),
    }
    assert_eq!(read_tree(&out).unwrap(), before, "out/ changed");
    forced_backs_up(&dir, &out, &new, ("dir1/file4.yaml", "edited by hand\n"));
    // A file removed by the new tree but edited by hand is refused too.
    std::fs::write(out.join("dir2/file5.yaml"), "mine now\n").unwrap();
    match write_tree(&out, &changed(&new, &[("dir2/file5.yaml", None)]), false) {
        Err(WriteError::UserFiles(files)) => assert_eq!(files.edited, ["dir2/file5.yaml"]),
        other => panic!("an edited file was deleted: {other:?}"),
    }
}

#[test]
fn a_file_at_a_new_path_that_no_manifest_lists_is_refused() {
    let (_dir, out, old) = written("incremental-foreign");
    std::fs::write(out.join("dir0/new.yaml"), "mine\n").unwrap();
    let before = read_tree(&out).unwrap();
    let new = changed(&old, &[("dir0/new.yaml", Some("new\n"))]);
    match write_tree(&out, &new, false) {
        Err(WriteError::UserFiles(files)) => {
            assert_eq!(files.foreign, ["dir0/new.yaml"]);
        }
        other => panic!("a foreign file was overwritten: {other:?}"),
    }
    assert_eq!(read_tree(&out).unwrap(), before, "out/ changed");
}

#[test]
fn a_hand_edit_of_an_untouched_file_survives_a_build_and_force_restores_it() {
    let (dir, out, old) = written("drift");
    std::fs::write(out.join("dir2/file5.yaml"), "edited by hand\n").unwrap();
    std::fs::remove_file(out.join("dir0/file6.yaml")).unwrap();
    let new = changed(&old, &[("dir1/file4.yaml", Some("new 4\n"))]);
    // Not seen: the build writes only what the manifests say changed.
    assert_eq!(
        write_tree(&out, &new, false).unwrap(),
        Written::Updated {
            written: 1,
            removed: 0
        }
    );
    assert_eq!(
        std::fs::read_to_string(out.join("dir2/file5.yaml")).unwrap(),
        "edited by hand\n"
    );
    assert!(!out.join("dir0/file6.yaml").exists());
    assert_eq!(write_tree(&out, &new, false).unwrap(), Written::Unchanged);
    // --force takes the whole-tree write: the edit goes to the backup, the tree is whole.
    forced_backs_up(&dir, &out, &new, ("dir2/file5.yaml", "edited by hand\n"));
}

/// A write's hook that lets `stop` steps through and stops the write before the next one.
fn stop_after(stop: usize) -> impl FnMut(&str) -> std::io::Result<()> {
    let mut calls = 0;
    move |step| {
        calls += 1;
        if calls > stop {
            Err(std::io::Error::other(format!("stopped before {step}")))
        } else {
            Ok(())
        }
    }
}

/// An incremental write stopped by `stop_after(stop)` failed as a stopped one does: before its
/// journal (stop 0) with nothing left behind, else unfinished.
fn assert_stopped<T: std::fmt::Debug>(stop: usize, result: Result<T, WriteError>) {
    match result {
        Err(WriteError::Io { ref left, .. }) if stop == 0 && left.is_empty() => {}
        Err(WriteError::Unfinished { .. }) if stop > 0 => {}
        other => panic!("stop {stop}: expected the write to stop, got {other:?}"),
    }
}

#[test]
fn an_incremental_write_stopped_at_any_step_is_finished_by_the_next_build() {
    let dir = scratch("incremental-steps");
    let out = dir.join("out");
    let old = changed(&tree("old", 24), &[("gone/x.yaml", Some("x\n"))]);
    let new = changed(
        &old,
        &[
            ("dir0/file3.yaml", Some("new 3\n")),
            ("dir1/file4.yaml", Some("new 4\n")),
            ("gone/x.yaml", None),
            ("added/y.yaml", Some("y\n")),
        ],
    );
    write_tree(&out, &old, false).unwrap();
    let mut steps = Vec::new();
    let written = write_tree_with(&out, &new, false, &mut |step| {
        steps.push(step.to_owned());
        Ok(())
    })
    .unwrap();
    assert!(matches!(written, Written::Updated { .. }), "{written:?}");
    assert_eq!(read_tree(&out).unwrap(), new);
    for step in ["journal", "file", "place", "remove", "manifest"] {
        assert!(steps.iter().any(|s| s == step), "no {step} in {steps:?}");
    }
    for stop in 0..steps.len() {
        std::fs::remove_dir_all(&out).unwrap();
        write_tree(&out, &old, false).unwrap();
        let result = write_tree_with(&out, &new, false, &mut stop_after(stop));
        assert_stopped(stop, result);
        // Each file is the old or the new one, never torn.
        for (path, text) in read_tree(&out).unwrap() {
            assert!(
                old.get(&path) == Some(&text)
                    || new.get(&path) == Some(&text)
                    || path.ends_with(JOURNAL)
                    || path.ends_with(".platc-tmp"),
                "stop {stop}: {path} is neither tree's"
            );
        }
        // The next build lands the new tree, without refusing anything.
        write_tree(&out, &new, false).unwrap();
        assert_eq!(read_tree(&out).unwrap(), new, "stop {stop}");
        assert!(
            leftovers(&dir).is_empty(),
            "stop {stop}: left {:?}",
            leftovers(&dir)
        );
    }
    // Stopped half-way, the next build may go elsewhere, back to the old tree say.
    let mut calls = 0;
    let _ = write_tree_with(&out, &old, false, &mut |_| {
        calls += 1;
        if calls > 3 {
            Err(std::io::Error::other("stopped"))
        } else {
            Ok(())
        }
    });
    assert!(!unfinished(&out).is_empty());
    let third = changed(&new, &[("dir2/file5.yaml", Some("third\n"))]);
    write_tree(&out, &third, false).unwrap();
    assert_eq!(read_tree(&out).unwrap(), third);
}

#[test]
fn a_big_change_is_swapped_in_whole() {
    let (_dir, out, old) = written("big-change");
    // Six files of twenty-one: more than a quarter.
    let changes: Vec<(String, String)> = (0..6)
        .map(|i| (format!("dir{}/file{i}.yaml", i % 3), format!("new {i}\n")))
        .collect();
    let changes: Vec<(&str, Option<&str>)> = changes
        .iter()
        .map(|(p, t)| (p.as_str(), Some(t.as_str())))
        .collect();
    let new = changed(&old, &changes);
    let mut steps = Vec::new();
    let written = write_tree_with(&out, &new, false, &mut |step| {
        steps.push(step.to_owned());
        Ok(())
    })
    .unwrap();
    assert!(matches!(written, Written::Replaced { .. }), "{written:?}");
    assert!(steps.iter().any(|s| s == "swap"), "{steps:?}");
    assert!(!steps.iter().any(|s| s == "journal"), "{steps:?}");
    assert_eq!(read_tree(&out).unwrap(), new);
}

#[test]
fn a_tree_below_out_written_alone_is_not_taken_for_what_the_top_manifest_lists() {
    let dir = scratch("nested-incremental");
    let out = dir.join("out");
    let base = tree("base", 20);
    let env = tree("env", 20);
    let whole = nest(&base, "env/staging", &env);
    write_tree(&out, &whole, false).unwrap();
    // `platc build --env staging` of another platform: incremental below out/.
    let env2 = changed(&env, &[("dir0/file0.yaml", Some("env2 0\n"))]);
    assert!(matches!(
        write_tree(&out.join("env/staging"), &env2, false).unwrap(),
        Written::Updated { written: 1, .. }
    ));
    // The whole build of the first platform again: the top manifest has not changed, but
    // env/staging/ has.
    write_tree(&out, &whole, false).unwrap();
    assert_eq!(read_tree(&out).unwrap(), whole);
    // And a small change of the whole tree is incremental, env/ included.
    let env3 = changed(&env, &[("dir1/file1.yaml", Some("env3 1\n"))]);
    let whole3 = nest(&base, "env/staging", &env3);
    assert!(matches!(
        write_tree(&out, &whole3, false).unwrap(),
        Written::Updated { written: 2, .. }
    ));
    assert_eq!(read_tree(&out).unwrap(), whole3);
    assert_eq!(read_tree(&out.join("env/staging")).unwrap(), env3);
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

/// `platc build` in `dir`, killed `delay_ms` after it started; its record kept in `dir`.
fn build_killed_after(dir: &Path, delay_ms: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(dir)
        .env("PLATC_CACHE_DIR", dir.join("cache"))
        .arg("build")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = child.kill();
    let _ = child.wait();
}

/// Every tag changes: more than a quarter of the files, so each build swaps the whole tree.
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
        build_killed_after(&dir, delay_ms);
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

/// A rebuild's change of one file of the 12-file tree it writes at `out`: that tree, the
/// whole new tree, its manifest, and the rebuild's tree (the changed file and the manifest
/// alone).
fn one_file_changed(out: &Path) -> (Tree, Tree, platc::write::Manifest, Tree) {
    let whole = tree("old", 12);
    write_tree(out, &whole, false).unwrap();
    let mut new = whole.clone();
    new.insert("dir0/file0.yaml".into(), "changed\n".into());
    let listed = manifest(
        new.iter()
            .filter(|(path, _)| *path != MANIFEST)
            .map(|(path, text)| (path.as_str(), text.as_str(), "".into())),
    );
    let partial: Tree = [
        ("dir0/file0.yaml".to_owned(), "changed\n".to_owned()),
        (MANIFEST.to_owned(), manifest_text(&listed)),
    ]
    .into();
    (whole, new, listed, partial)
}

/// The tree `write_changed` leaves after the rebuild of `one_file_changed`: the new tree and
/// the rebuild's manifest.
fn after_one_file_changed(new: Tree, partial: &Tree) -> Tree {
    let mut expected = new;
    expected.insert(MANIFEST.into(), partial[MANIFEST].clone());
    expected
}

/// A rebuild's tree holds only the files it made (`write_changed`): written file by file
/// while the manifest on disk is the one the rebuild read, and not at all (`None`, nothing
/// touched) when the manifest changed since or a stopped whole-tree write left its staged
/// tree beside `out`.
#[test]
fn a_rebuilds_partial_tree_is_written_only_over_the_manifest_it_read() {
    let dir = scratch("changed");
    let out = dir.join("out");
    // The rebuild: one file changed, the tree holds it and the manifest alone.
    let (whole, new, listed, partial) = one_file_changed(&out);
    let manifest_path = out.join(MANIFEST);
    let read = |out: &Path| {
        let text = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
        (text, Stamp::of(&out.join(MANIFEST)).unwrap())
    };

    // The manifest rewritten since it was read (the same text, another write): not used.
    let (text, stamp) = read(&out);
    std::thread::sleep(Duration::from_millis(10));
    std::fs::write(&manifest_path, &text).unwrap();
    let listing = Listing::parse(&text).unwrap();
    let old = Old {
        text: &text,
        listing: &listing,
        stamp: &stamp,
        noted: &[],
        patched: None,
    };
    assert_eq!(write_changed(&out, &partial, &listed, &old).unwrap(), None);
    assert_eq!(read_tree(&out).unwrap(), whole);

    // A stopped whole-tree write's staged tree beside `out`: not used either.
    let (text, stamp) = read(&out);
    let listing = Listing::parse(&text).unwrap();
    let old = Old {
        text: &text,
        listing: &listing,
        stamp: &stamp,
        noted: &[],
        patched: None,
    };
    let staged = dir.join(".out.platc-new");
    std::fs::create_dir(&staged).unwrap();
    assert_eq!(write_changed(&out, &partial, &listed, &old).unwrap(), None);
    assert_eq!(read_tree(&out).unwrap(), whole);
    std::fs::remove_dir(&staged).unwrap();

    // Else: the one file and the manifest, and the rest left as it was.
    let written = write_changed(&out, &partial, &listed, &old).unwrap();
    assert_eq!(
        written,
        Some(Written::Updated {
            written: 1,
            removed: 0
        })
    );
    assert_eq!(
        read_tree(&out).unwrap(),
        after_one_file_changed(new, &partial)
    );
}

/// A rebuild takes a file whose stamp the last write noted (an environment's manifest,
/// `rebuild::nested`) for what the old manifest lists, unread, while it keeps that stamp;
/// once its stamp is another (edited since), it is read and hashed as any other, and an
/// edit by hand leaves the write to the whole-tree write, which refuses it.
#[test]
fn a_file_noted_by_its_stamp_is_taken_unread_until_its_stamp_changes() {
    let dir = scratch("noted");
    let out = dir.join("out");
    let (_, new, listed, partial) = one_file_changed(&out);
    let path = "dir0/file0.yaml";
    let text = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
    let stamp = Stamp::of(&out.join(MANIFEST)).unwrap();
    let listing = Listing::parse(&text).unwrap();
    let noted_before_the_edit = Stamp::of(&out.join(path)).unwrap();
    std::thread::sleep(Duration::from_millis(10));
    std::fs::write(out.join(path), "mine\n").unwrap();
    let edited = read_tree(&out).unwrap();

    // Noted before the edit: its stamp is another now, so it is read, and the edit refused.
    let noted = [(path.to_owned(), noted_before_the_edit)];
    let old = Old {
        text: &text,
        listing: &listing,
        stamp: &stamp,
        noted: &noted,
        patched: None,
    };
    assert_eq!(write_changed(&out, &partial, &listed, &old).unwrap(), None);
    assert_eq!(read_tree(&out).unwrap(), edited, "out/ changed");

    // Noted with the stamp it has: taken for the old manifest's, unread, and written.
    let noted = [(path.to_owned(), Stamp::of(&out.join(path)).unwrap())];
    let old = Old {
        text: &text,
        listing: &listing,
        stamp: &stamp,
        noted: &noted,
        patched: None,
    };
    assert_eq!(
        write_changed(&out, &partial, &listed, &old).unwrap(),
        Some(Written::Updated {
            written: 1,
            removed: 0
        })
    );
    assert_eq!(
        read_tree(&out).unwrap(),
        after_one_file_changed(new, &partial)
    );
}

/// The manifest of `files`: each file's path, text, and line of platform.kdl.
fn manifest_of(files: &[(String, String, usize)]) -> platc::write::Manifest {
    manifest(files.iter().map(|(path, text, line)| {
        let origin = platc::write::Origin::at("platform.kdl", *line);
        (path.as_str(), text.as_str(), origin)
    }))
}

/// Where a manifest read in platc's order lists `path`.
fn place_of(ordered: &platc::write::Ordered, path: &str) -> u32 {
    let at = (0..ordered.len())
        .find(|&at| ordered.path(at) == path)
        .unwrap();
    u32::try_from(at).unwrap()
}

/// A rebuild's manifest, its kept entries copied from the old manifest's text a run at a
/// time (`manifest_text_reusing`), is the manifest written whole: runs kept at its start,
/// between made entries and at its end, entries changed, added and gone; and a kept entry
/// that is not the old one at its place gives no text (the caller writes it whole).
#[test]
fn a_manifest_copied_from_the_old_in_runs_is_the_one_written_whole() {
    let origin = |i: usize| platc::write::Origin::at("platform.kdl", i);
    let old_files: Vec<(String, String, usize)> = (0..40)
        .map(|i| (format!("d{}/f{i:02}.yaml", i % 4), format!("old {i}\n"), i))
        .collect();
    let old = manifest_of(&old_files);
    let old_text = manifest_text(&old);
    let listing = Listing::parse(&old_text).unwrap();
    let ordered = listing.ordered().expect("platc's own layout and order");
    // Changed (made again), gone, and added, at the start, within and at the end.
    let changed = ["d0/f00.yaml", "d1/f13.yaml", "d1/f17.yaml", "d3/f39.yaml"];
    let gone = ["d2/f02.yaml", "d2/f06.yaml", "d3/f35.yaml"];
    let added = ["a/new.yaml", "d1/f13b.yaml", "z/new.yaml"];
    let mut files: Vec<(String, String, usize)> = old_files
        .iter()
        .filter(|(path, _, _)| !gone.contains(&path.as_str()))
        .map(|(path, text, line)| {
            let text = if changed.contains(&path.as_str()) {
                format!("new {text}")
            } else {
                text.clone()
            };
            (path.clone(), text, *line)
        })
        .collect();
    files.extend(
        added
            .iter()
            .map(|path| ((*path).to_owned(), "added\n".to_owned(), 7)),
    );
    let new = manifest(
        files
            .iter()
            .map(|(path, text, line)| (path.as_str(), text.as_str(), origin(*line))),
    );
    let mut made: Vec<&str> = changed.iter().chain(&added).copied().collect();
    made.sort_unstable();
    let places: Vec<u32> = new
        .files
        .iter()
        .filter(|(path, _)| !made.contains(&path.as_str()))
        .map(|(path, _)| place_of(&ordered, path))
        .collect();
    let mut copied = new.clone();
    let text = manifest_text_reusing(&mut copied, &[], ordered, &made, &places);
    assert_eq!(text.as_deref(), Some(manifest_text(&new).as_str()));
    assert_eq!(copied, new);

    // A place that is not the kept entry's: no text.
    let mut shifted = places.clone();
    shifted[5] += 1;
    assert_eq!(
        manifest_text_reusing(&mut new.clone(), &[], ordered, &made, &shifted),
        None
    );
    // A made entry taken for a kept one: no text.
    assert_eq!(
        manifest_text_reusing(&mut new.clone(), &[], ordered, &made[1..], &places),
        None
    );
}

/// Files `d*/fNN.yaml` of a tree, each with the line of platform.kdl it came from; those
/// numbered in `changed` hold `tag`.
fn tagged_files(tag: &str, changed: &[usize]) -> Vec<(String, String, usize)> {
    (0..24)
        .map(|i| {
            let text = if changed.contains(&i) { tag } else { "same" };
            (
                format!("d{}/f{i:02}.yaml", i % 3),
                format!("{text} {i}\n"),
                i + 1,
            )
        })
        .collect()
}

/// The tree of `files` and their manifest.
fn with_its_manifest(files: &[(String, String, usize)], listed: &Manifest) -> Tree {
    files
        .iter()
        .map(|(path, text, _)| (path.clone(), text.clone()))
        .chain([(MANIFEST.to_owned(), manifest_text(listed))])
        .collect()
}

/// A rebuild's write of the `made` files of `new` over `out`, whose manifest it reads, with
/// the manifest's hashes patched in place (`manifest_patched` must find it patchable).
fn write_patched(
    out: &Path,
    new: &[(String, String, usize)],
    made: &[&str],
    hook: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<Option<Written>, WriteError> {
    let text = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
    let stamp = Stamp::of(&out.join(MANIFEST)).unwrap();
    let listing = Listing::parse(&text).unwrap();
    let ordered = listing.ordered().expect("platc's own layout and order");
    let whole = manifest_of(new);
    let mut listed = whole.clone();
    let patched = manifest_patched(&mut listed, &[], Vec::new(), &ordered, made).expect("patched");
    assert_eq!(listed, whole);
    assert_eq!(patched.apply(&text), manifest_text(&whole));
    let partial: Tree = new
        .iter()
        .filter(|(path, _, _)| made.contains(&path.as_str()))
        .map(|(path, text, _)| (path.clone(), text.clone()))
        .collect();
    let old = Old {
        text: &text,
        listing: &listing,
        stamp: &stamp,
        noted: &[],
        patched: Some(&patched),
    };
    write_changed_with(out, &partial, &listed, &old, hook)
}

/// A rebuild whose manifest lists the old one's paths with the same origins (a new image tag,
/// say) writes the changed hashes into the manifest in place, each where it stands (the file
/// keeps its inode), and the manifest is then the one written whole. Stopped at any step,
/// each file is the old or the new one, the manifest lists each path with its old or its new
/// hash, and the next build lands the new tree without refusing anything: the journal lists
/// the changed files with their new hashes until the last is written.
#[test]
fn a_rebuild_that_moves_no_line_writes_the_manifests_hashes_in_place() {
    let dir = scratch("patched");
    let out = dir.join("out");
    let changed = [3, 10, 17];
    let (old, new) = (tagged_files("old", &changed), tagged_files("new", &changed));
    let old_tree = with_its_manifest(&old, &manifest_of(&old));
    let new_tree = with_its_manifest(&new, &manifest_of(&new));
    // The changed files, and one made again the same.
    let made = ["d0/f03.yaml", "d1/f01.yaml", "d1/f10.yaml", "d2/f17.yaml"];
    write_tree(&out, &old_tree, false).unwrap();
    let before = identity(&out.join(MANIFEST));
    let mut steps = Vec::new();
    let written = write_patched(&out, &new, &made, &mut |step| {
        steps.push(step.to_owned());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        written,
        Some(Written::Updated {
            written: 3,
            removed: 0
        })
    );
    assert_eq!(read_tree(&out).unwrap(), new_tree);
    assert_eq!(identity(&out.join(MANIFEST)).0, before.0, "not in place");
    assert_eq!(
        steps.iter().filter(|step| *step == "patch").count(),
        changed.len(),
        "{steps:?}"
    );
    let hashes = |tree: &Tree| {
        let listing = Listing::parse(&tree[MANIFEST]).unwrap();
        old.iter()
            .map(|(path, _, _)| listing.get(path).unwrap().1.to_owned())
            .collect::<Vec<_>>()
    };
    let (old_hashes, new_hashes) = (hashes(&old_tree), hashes(&new_tree));
    for stop in 0..steps.len() {
        std::fs::remove_dir_all(&out).unwrap();
        write_tree(&out, &old_tree, false).unwrap();
        let result = write_patched(&out, &new, &made, &mut stop_after(stop));
        assert_stopped(stop, result);
        let on_disk = read_tree(&out).unwrap();
        for (path, text) in &on_disk {
            assert!(
                old_tree.get(path) == Some(text)
                    || new_tree.get(path) == Some(text)
                    || path == MANIFEST
                    || path.ends_with(JOURNAL)
                    || path.ends_with(".platc-tmp"),
                "stop {stop}: {path} is neither tree's"
            );
        }
        for ((listed, old), new) in hashes(&on_disk).iter().zip(&old_hashes).zip(&new_hashes) {
            assert!(listed == old || listed == new, "stop {stop}: {listed}");
        }
        write_tree(&out, &new_tree, false).unwrap();
        assert_eq!(read_tree(&out).unwrap(), new_tree, "stop {stop}");
        assert!(unfinished(&out).is_empty(), "stop {stop}");
    }

    // A manifest with another name (a hard link, as `cp -al` makes): replaced, as every
    // file is, and the other name keeps the old text.
    std::fs::remove_dir_all(&out).unwrap();
    write_tree(&out, &old_tree, false).unwrap();
    let linked = dir.join("linked-manifest.json");
    std::fs::hard_link(out.join(MANIFEST), &linked).unwrap();
    let written = write_patched(&out, &new, &made, &mut |_| Ok(())).unwrap();
    assert!(
        matches!(written, Some(Written::Updated { .. })),
        "{written:?}"
    );
    assert_eq!(read_tree(&out).unwrap(), new_tree);
    assert_eq!(
        std::fs::read_to_string(&linked).unwrap(),
        old_tree[MANIFEST]
    );
    assert_ne!(identity(&out.join(MANIFEST)).0, identity(&linked).0);

    // A read-only manifest: replaced too, not written through (which fails after the files
    // are written, for a user who may not write it; root may, and platc does not).
    std::fs::remove_dir_all(&out).unwrap();
    write_tree(&out, &old_tree, false).unwrap();
    let mut permissions = std::fs::metadata(out.join(MANIFEST)).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(out.join(MANIFEST), permissions).unwrap();
    let before = identity(&out.join(MANIFEST));
    let written = write_patched(&out, &new, &made, &mut |_| Ok(())).unwrap();
    assert!(
        matches!(written, Some(Written::Updated { .. })),
        "{written:?}"
    );
    assert_eq!(read_tree(&out).unwrap(), new_tree);
    assert_ne!(identity(&out.join(MANIFEST)).0, before.0, "written through");
    assert!(unfinished(&out).is_empty());

    // Not patchable: a made file whose line moved, or a path added; another generator.
    let listing = Listing::parse(&old_tree[MANIFEST]).unwrap();
    let ordered = listing.ordered().unwrap();
    let mut moved = new.clone();
    moved[10].2 += 1;
    let mut added = new.clone();
    added.push(("e/new.yaml".to_owned(), "new\n".to_owned(), 30));
    for files in [&moved, &added] {
        let mut listed = manifest_of(files);
        let before = listed.clone();
        let made: Vec<&str> = ["d1/f10.yaml", "e/new.yaml"]
            .into_iter()
            .filter(|path| files.iter().any(|(p, _, _)| p == path))
            .collect();
        assert_eq!(
            manifest_patched(&mut listed, &[], Vec::new(), &ordered, &made),
            None
        );
        assert_eq!(listed, before, "changed though not patched");
    }
    let mut other = manifest_of(&new);
    other.generator = "another".to_owned();
    assert_eq!(
        manifest_patched(&mut other, &[], Vec::new(), &ordered, &made),
        None
    );
    // A pending file's hash that is no digest: not patched, and no entry changed.
    let mut listed = manifest_of(&new);
    let before = listed.clone();
    let odd = Some(platc::write::FileHash::from_hex("not a digest"));
    assert_eq!(
        manifest_patched(&mut listed, &["d0/f03.yaml"], vec![odd], &ordered, &made),
        None
    );
    assert_eq!(listed, before);
    // A made file's hash found, and one not made: its entry keeps the hash it was given.
    let mut listed = manifest_of(&new);
    listed.files.get_mut("d0/f03.yaml").unwrap().sha256 = platc::write::FileHash::PENDING;
    let hash = platc::write::FileHash::of("new 3\n");
    let patched = manifest_patched(
        &mut listed,
        &["d0/f03.yaml", "d2/f17.yaml"],
        vec![Some(hash.clone()), None],
        &ordered,
        &made,
    )
    .unwrap();
    assert_eq!(listed, manifest_of(&new));
    assert_eq!(
        patched.paths(),
        ["d0/f03.yaml", "d1/f10.yaml", "d2/f17.yaml"]
    );
}

/// A nested tree's manifest (an environment's), its kept entries copied from the old top
/// manifest's text with the tree's directory cut from their paths
/// (`nested_text_reusing`), is the one written entry by entry: made entries before, between
/// and after the kept ones; and a kept entry not at its place, or a directory its paths do
/// not begin with, gives no text (the caller writes it whole).
#[test]
fn a_nested_manifest_copied_from_the_top_one_is_the_one_written_whole() {
    let origin = |i: usize| platc::write::Origin::at("platform.kdl", i);
    let dir = "env/stage/";
    let old_files: Vec<(String, String, usize)> = (0..30)
        .map(|i| {
            let path = match i % 3 {
                0 => format!("b/f{i:02}.yaml"),
                _ => format!("{dir}d{}/f{i:02}.yaml", i % 2),
            };
            (path, format!("old {i}\n"), i)
        })
        .collect();
    let old = manifest_of(&old_files);
    let old_text = manifest_text(&old);
    let listing = Listing::parse(&old_text).unwrap();
    let ordered = listing.ordered().expect("platc's own layout and order");
    // The tree's kept entries (paths in out/) and their places in the old top manifest.
    let gone = "env/stage/d0/f04.yaml";
    let kept: Vec<(String, Entry)> = old
        .files
        .iter()
        .filter(|(path, _)| path.starts_with(dir) && path.as_str() != gone)
        .map(|(path, entry)| (path.clone(), entry.clone()))
        .collect();
    let places: Vec<u32> = kept
        .iter()
        .map(|(path, _)| place_of(&ordered, path))
        .collect();
    // Made again (paths in the tree): first, within, and last.
    let made_entries: Vec<(String, Entry)> = ["a.yaml", "d0/f04.yaml", "d1/f10b.yaml", "z.yaml"]
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let entry = Entry {
                origin: origin(100 + i),
                sha256: platc::write::FileHash::of(path),
            };
            ((*path).to_owned(), entry)
        })
        .collect();
    let made: Vec<(&str, &Entry)> = made_entries.iter().map(|(p, e)| (p.as_str(), e)).collect();
    let mut whole: Vec<(&str, &Entry)> = made
        .iter()
        .copied()
        .chain(
            kept.iter()
                .map(|(path, entry)| (path.strip_prefix(dir).unwrap(), entry)),
        )
        .collect();
    whole.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let written = entries_text(whole.into_iter(), GENERATOR);
    let copied = nested_text_reusing(&made, &kept, &places, &ordered, dir, GENERATOR);
    assert_eq!(copied.as_deref(), Some(written.as_str()));
    assert!(written.contains("\"d1/f10b.yaml\""), "{written}");

    let mut shifted = places.clone();
    shifted[3] += 1;
    assert_eq!(
        nested_text_reusing(&made, &kept, &shifted, &ordered, dir, GENERATOR),
        None
    );
    assert_eq!(
        nested_text_reusing(&made, &kept, &places, &ordered, "env/other/", GENERATOR),
        None
    );
}

/// A first build (into a missing `out/`) writes each file as soon as it is made
/// (`write::write_streamed_then`): its tree is the one the golden test holds for the root
/// platform, every environment's tree and manifest included, and nothing is left beside it.
#[test]
fn a_first_build_stages_the_whole_tree_as_it_is_made() {
    let dir = scratch("first");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("platform.kdl"), dir.join("platform.kdl")).unwrap();
    let built = Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(&dir)
        .env("PLATC_CACHE_DIR", dir.join("cache"))
        .env("PLATC_TIMINGS", "1")
        .arg("build")
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let expected = read_tree(&root.join("out")).unwrap();
    assert!(expected.keys().any(|path| path.starts_with("env/")));
    let written = read_tree(&dir.join("out")).unwrap();
    assert_eq!(written.len(), expected.len());
    for (path, text) in &expected {
        assert!(written.get(path) == Some(text), "{path} differs");
    }
    // Its laps are the streamed build's: made and written at once (the record and the
    // stamps under the write's lock, after the tree is swapped in).
    let stderr = String::from_utf8(built.stderr).unwrap();
    let (laps, message) = stderr.split_at(stderr.find("wrote").unwrap());
    let laps: Vec<&str> = laps
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(laps, ["compile", "emit+write"]);
    assert_eq!(message, format!("wrote {} files to out\n", expected.len()));
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    // The next `--check` is decided by the stamps the first build noted.
    let check = Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(&dir)
        .env("PLATC_CACHE_DIR", dir.join("cache"))
        .env("PLATC_TIMINGS", "1")
        .args(["build", "--check"])
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let timings = String::from_utf8(check.stderr).unwrap();
    assert!(timings.starts_with("timing stamps"), "{timings}");
}

/// A first build killed at any moment leaves no `out/` or the whole tree, never part of one;
/// the next build removes what the killed one staged and lands the tree.
#[test]
fn a_killed_first_build_leaves_no_out_or_a_whole_one() {
    let dir = scratch("first-kill");
    let bin = env!("CARGO_BIN_EXE_platc");
    std::fs::write(dir.join("platform.kdl"), platform(150, "v1")).unwrap();
    let build = || {
        Command::new(bin)
            .current_dir(&dir)
            .env("PLATC_CACHE_DIR", dir.join("cache"))
            .arg("build")
            .output()
            .unwrap()
    };
    assert!(build().status.success());
    let whole = read_tree(&dir.join("out")).unwrap();
    let (mut outcomes, mut staged) = ((0, 0), 0);
    for delay_ms in [0, 2, 5, 10, 20, 40, 80, 160, 320] {
        std::fs::remove_dir_all(dir.join("out")).unwrap();
        build_killed_after(&dir, delay_ms);
        staged += usize::from(!leftovers(&dir).is_empty());
        if dir.join("out").exists() {
            assert!(
                read_tree(&dir.join("out")).unwrap() == whole,
                "killed after {delay_ms} ms: out/ is not the whole tree"
            );
            outcomes.1 += 1;
        }
        outcomes.0 += 1;
        let settle = build();
        assert!(settle.status.success(), "{settle:?}");
        assert!(read_tree(&dir.join("out")).unwrap() == whole);
        assert_eq!(leftovers(&dir), Vec::<String>::new());
    }
    // Some kills stopped the build among its files (2,500 of them, a few hundred ms).
    assert!(
        staged > 0 && outcomes.1 < outcomes.0,
        "{outcomes:?}, {staged} staged"
    );
}

/// A first build that cannot write says so, exits 2 and leaves nothing: here `out`'s name
/// is as long as a name may be, and the staged tree's, beside it, is longer.
#[test]
fn a_first_build_that_cannot_write_exits_2_and_leaves_nothing() {
    let dir = scratch("first-unwritable");
    std::fs::write(dir.join("platform.kdl"), platform(3, "v1")).unwrap();
    let out = "o".repeat(250);
    let built = Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(&dir)
        .env("PLATC_CACHE_DIR", dir.join("cache"))
        .args(["build", "-o", &out])
        .output()
        .unwrap();
    let stderr = String::from_utf8(built.stderr).unwrap();
    assert_eq!(built.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot write {out}: "))
            && stderr.ends_with("; nothing was changed\n"),
        "{stderr}"
    );
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["platform.kdl"]);
}
