//! Joining the shards of one suite run (`mcubench suite --shard k/n`) into one file.
//!
//! Shards must come from the same suite, manifest, schema and tool, hold disjoint runs,
//! and — when they record their shard — cover `1..=n` exactly once, so a lost CI artifact
//! can't pass for a complete result. Runs are concatenated in shard order; target and
//! image digests are united.

use std::path::{Path, PathBuf};

use crate::results::Results;
use crate::Error;

/// Merges results read from the given files (paths are used in messages).
pub fn merge(shards: &[(PathBuf, Results)]) -> Result<Results, Error> {
    let ((first_path, first), _) = shards.split_first().ok_or(Error::NothingToMerge)?;
    for (path, r) in &shards[1..] {
        let same = |what, left: &str, right: &str| {
            if left == right {
                Ok(())
            } else {
                Err(Error::Mismatch {
                    left_path: first_path.clone(),
                    right_path: path.clone(),
                    what,
                    left: left.to_owned(),
                    right: right.to_owned(),
                })
            }
        };
        same("suite", &first.provenance.suite, &r.provenance.suite)?;
        same(
            "manifest_sha256",
            &first.provenance.manifest_sha256,
            &r.provenance.manifest_sha256,
        )?;
        same("schema_version", &first.schema_version, &r.schema_version)?;
        same("tool", &tool(first), &tool(r))?;
    }
    let mut ordered: Vec<&(PathBuf, Results)> = shards.iter().collect();
    check_shards(&ordered)?;
    ordered.sort_by_key(|(_, r)| r.provenance.shard.map(|s| s.index));

    let mut merged = first.clone();
    merged.provenance.shard = None;
    merged.provenance.targets.clear();
    merged.provenance.images.clear();
    merged.runs.clear();
    let mut seen: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
    for (path, r) in ordered {
        for t in &r.provenance.targets {
            unite(
                &mut merged.provenance.targets,
                t,
                |x| &x.name,
                |x| &x.sha256,
                path,
            )?;
        }
        for i in &r.provenance.images {
            unite(
                &mut merged.provenance.images,
                i,
                |x| &x.path,
                |x| &x.sha256,
                path,
            )?;
        }
        for run in &r.runs {
            let key = run.key();
            if let Some(first) = seen.get(&key) {
                return Err(Error::DuplicateRun {
                    run: key,
                    first: first.to_path_buf(),
                    second: path.clone(),
                });
            }
            seen.insert(key, path);
            merged.runs.push(run.clone());
        }
    }
    Ok(merged)
}

fn tool(r: &Results) -> String {
    format!("{} {}", r.tool.name, r.tool.version)
}

/// Adds `item` unless an entry with the same name is there; the same name with another
/// digest means the shards ran different inputs.
fn unite<T: Clone>(
    into: &mut Vec<T>,
    item: &T,
    name: fn(&T) -> &String,
    digest: fn(&T) -> &String,
    path: &Path,
) -> Result<(), Error> {
    match into.iter().find(|x| name(x) == name(item)) {
        Some(x) if digest(x) != digest(item) => Err(Error::Shards {
            why: format!(
                "{} has {} with digest {}, another shard has {}",
                path.display(),
                name(item),
                digest(item),
                digest(x)
            ),
        }),
        Some(_) => Ok(()),
        None => {
            into.push(item.clone());
            Ok(())
        }
    }
}

/// Either no file records a shard, or all do and they cover `1..=count` once each.
fn check_shards(shards: &[&(PathBuf, Results)]) -> Result<(), Error> {
    let recorded: Vec<_> = shards
        .iter()
        .filter_map(|(p, r)| r.provenance.shard.map(|s| (p, s)))
        .collect();
    if recorded.is_empty() {
        return Ok(());
    }
    if let Some((path, _)) = shards.iter().find(|(_, r)| r.provenance.shard.is_none()) {
        return Err(Error::Shards {
            why: format!("{} is not a shard but the others are", path.display()),
        });
    }
    let count = recorded[0].1.count;
    for (path, s) in &recorded {
        if s.count != count {
            return Err(Error::Shards {
                why: format!(
                    "{} is shard {}/{}, expected n = {count}",
                    path.display(),
                    s.index,
                    s.count
                ),
            });
        }
    }
    for index in 1..=count {
        let holders: Vec<_> = recorded.iter().filter(|(_, s)| s.index == index).collect();
        match holders.as_slice() {
            [_] => {}
            [] => {
                return Err(Error::Shards {
                    why: format!("shard {index}/{count} is missing"),
                })
            }
            [(a, _), (b, _), ..] => {
                return Err(Error::Shards {
                    why: format!(
                        "shard {index}/{count} is given twice: {} and {}",
                        a.display(),
                        b.display()
                    ),
                })
            }
        }
    }
    if let Some((path, s)) = recorded
        .iter()
        .find(|(_, s)| s.index == 0 || s.index > count)
    {
        return Err(Error::Shards {
            why: format!("{} has shard {}/{}", path.display(), s.index, s.count),
        });
    }
    Ok(())
}
