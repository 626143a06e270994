//! Deterministic shares of a corpus, chosen by a fixed hash of the document id.
//!
//! Shard `I` of `N` (1-based) holds the documents whose id satisfies
//! `fmix64(fnv1a64(utf8 bytes of id)) % N == I - 1`, where `fnv1a64` is
//! 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`)
//! and `fmix64` is MurmurHash3's 64-bit finalizer. FNV-1a alone leaves the
//! low bits, which `% N` uses, correlated with the last bytes of an id
//! ("doc-1", "doc-2", ...); the finalizer spreads every input bit over them.
//! Both are fixed algorithms, unlike `std`'s `DefaultHasher`, so any machine,
//! Rust version or other language computes the same shares.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Shard `index` of `count` (1-based), as in `--shard 2/8`.
///
/// ```
/// use stance::corpus::Shard;
/// let shards: Vec<Shard> = (1..=3).map(|i| Shard::new(i, 3)).collect::<Result<_, _>>()?;
/// // Every id belongs to exactly one shard.
/// for id in ["a", "b", "doc-17", "2024/03/oped.txt"] {
///     assert_eq!(shards.iter().filter(|s| s.contains(id)).count(), 1);
/// }
/// assert_eq!("2/3".parse::<Shard>()?, shards[1]);
/// # Ok::<(), stance::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ShardFields")]
pub struct Shard {
    index: u32,
    count: u32,
}

/// A shard as written, checked by [`Shard::new`] when read: a shard 5/3 would hold no document,
/// and a run of it would count every one as another shard's.
#[derive(Deserialize)]
struct ShardFields {
    index: u32,
    count: u32,
}

impl TryFrom<ShardFields> for Shard {
    type Error = Error;

    fn try_from(fields: ShardFields) -> Result<Shard> {
        Shard::new(fields.index, fields.count)
    }
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`Error::Config`] unless `1 <= index <= count`.
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        if index == 0 || index > count {
            return Err(Error::Config(format!(
                "shard {index}/{count}: expected I/N with 1 <= I <= N"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The 1-based index.
    #[must_use]
    pub fn index(self) -> u32 {
        self.index
    }

    /// The number of shards.
    #[must_use]
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether the document with this id belongs to this shard.
    #[must_use]
    pub fn contains(self, id: &str) -> bool {
        shard_of(id, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// Parses `I/N`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Config(format!("invalid shard {s:?}: expected I/N, e.g. 2/8"));
        let (index, count) = s.trim().split_once('/').ok_or_else(bad)?;
        let index = index.trim().parse().map_err(|_| bad())?;
        let count = count.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }
}

/// The 1-based shard of `count` that holds the document `id` (`count` 0 is treated as 1).
///
/// ```
/// assert_eq!(stance::corpus::shard::shard_of("anything", 1), 1);
/// ```
#[must_use]
pub fn shard_of(id: &str, count: u32) -> u32 {
    let count = u64::from(count.max(1));
    // The remainder is below `count`, itself a u32.
    (fmix64(fnv1a64(id.as_bytes())) % count) as u32 + 1
}

/// 64-bit FNV-1a.
#[must_use]
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_read_back_is_checked_as_a_new_one() {
        let shard = Shard::new(2, 3).unwrap();
        let json = serde_json::to_string(&shard).unwrap();
        assert_eq!(json, r#"{"index":2,"count":3}"#);
        assert_eq!(serde_json::from_str::<Shard>(&json).unwrap(), shard);
        for bad in [r#"{"index":5,"count":3}"#, r#"{"index":0,"count":0}"#] {
            let error = serde_json::from_str::<Shard>(bad).unwrap_err().to_string();
            assert!(error.contains("expected I/N with 1 <= I <= N"), "{error}");
        }
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn shares_are_stable_and_balanced() {
        // Pinned: a change here would silently reshuffle everyone's shards.
        assert_eq!(shard_of("doc-1", 8), shard_of("doc-1", 8));
        let pinned: Vec<u32> = ["doc-1", "doc-2", "a/b.txt"].iter().map(|id| shard_of(id, 5)).collect();
        assert_eq!(pinned, PINNED);
        let mut counts = [0u32; 4];
        for i in 0..4000 {
            counts[(shard_of(&format!("doc-{i}"), 4) - 1) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (900..1100).contains(&c)), "{counts:?}");
    }

    // Computed independently (Python) from the algorithm in the module docs.
    const PINNED: [u32; 3] = [2, 2, 1];

    #[test]
    fn parses_and_rejects() {
        assert_eq!("3/4".parse::<Shard>().unwrap(), Shard::new(3, 4).unwrap());
        for bad in ["0/4", "5/4", "4", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
