//! Joining shards: what is accepted, what is refused.

use std::path::PathBuf;

use mcubench_reports::merge::merge;
use mcubench_reports::results::Shard;
use mcubench_reports::{Error, Results};

use crate::sample;

/// The sample split into `n` shards by run index, each recording its shard.
fn shards(n: u64) -> Vec<(PathBuf, Results)> {
    (1..=n)
        .map(|index| {
            let mut r = sample::results();
            r.runs = r
                .runs
                .into_iter()
                .enumerate()
                .filter(|(i, _)| *i as u64 % n == index - 1)
                .map(|(_, run)| run)
                .collect();
            r.provenance.shard = Some(Shard { index, count: n });
            (PathBuf::from(format!("shard-{index}.json")), r)
        })
        .collect()
}

fn keys(r: &Results) -> Vec<String> {
    let mut k: Vec<String> = r.runs.iter().map(|r| r.key()).collect();
    k.sort();
    k
}

#[test]
fn shards_merge_back_into_the_whole() {
    let mut parts = shards(2);
    parts.reverse(); // given out of order
    let merged = merge(&parts).unwrap();
    let whole = sample::results();
    assert_eq!(keys(&merged), keys(&whole));
    assert_eq!(merged.provenance.shard, None);
    assert_eq!(merged.provenance.targets, whole.provenance.targets);
    // Shard order, not argument order: shard 1 holds run 0.
    assert_eq!(merged.runs[0].key(), whole.runs[0].key());
}

#[test]
fn another_suite_is_refused() {
    let mut parts = shards(2);
    parts[1].1.provenance.suite = "other".to_owned();
    let err = merge(&parts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "shard-1.json and shard-2.json are not from the same suite: suite differs (tinyml vs other)"
    );
    let mut parts = shards(2);
    parts[1].1.provenance.manifest_sha256 = sample::digest("changed");
    assert!(matches!(
        merge(&parts),
        Err(Error::Mismatch {
            what: "manifest_sha256",
            ..
        })
    ));
}

#[test]
fn a_run_in_two_shards_is_refused() {
    let mut parts = shards(2);
    let dup = parts[0].1.runs[0].clone();
    parts[1].1.runs.push(dup);
    let err = merge(&parts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "run kws-dscnn@stm32f407 appears in both shard-1.json and shard-2.json"
    );
}

#[test]
fn missing_or_repeated_shards_are_refused() {
    let parts = shards(3);
    let err = merge(&[parts[0].clone(), parts[2].clone()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the shards do not make up the whole suite: shard 2/3 is missing"
    );
    let mut twice = shards(2);
    twice[1].1.provenance.shard = Some(Shard { index: 1, count: 2 });
    assert!(merge(&twice)
        .unwrap_err()
        .to_string()
        .contains("shard 1/2 is given twice"));
    assert!(matches!(merge(&[]), Err(Error::NothingToMerge)));
}

#[test]
fn different_inputs_under_one_name_are_refused() {
    let mut parts = shards(2);
    parts[1].1.provenance.targets[0].sha256 = sample::digest("edited target");
    let err = merge(&parts).unwrap_err().to_string();
    assert!(
        err.contains("shard-2.json has stm32f407 with digest"),
        "{err}"
    );
}
