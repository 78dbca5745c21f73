//! An exact set of seen ids: a bitset that grows with the largest id, so a
//! run of N dense ids costs N bits and every duplicate is found.

/// Ids at or above this are counted as out of range rather than stored
/// (2^32 ids: a bitset of at most 512 MiB).
pub const MAX_ID: u64 = 1 << 32;

#[derive(Debug, Default, Clone)]
pub struct IdSet {
    words: Vec<u64>,
    distinct: u64,
    duplicates: u64,
    out_of_range: u64,
    max: Option<u64>,
}

impl IdSet {
    /// Records `id`; returns false if it had been seen before (a duplicate).
    pub fn insert(&mut self, id: u64) -> bool {
        if id >= MAX_ID {
            self.out_of_range += 1;
            return true;
        }
        let (word, bit) = ((id / 64) as usize, id % 64);
        if word >= self.words.len() {
            // Grow geometrically so a rising stream of ids costs amortised O(1).
            let len = (word + 1).max(self.words.len() * 2);
            self.words.resize(len, 0);
        }
        let mask = 1u64 << bit;
        if self.words[word] & mask != 0 {
            self.duplicates += 1;
            return false;
        }
        self.words[word] |= mask;
        self.distinct += 1;
        self.max = Some(self.max.map_or(id, |m| m.max(id)));
        true
    }

    pub fn contains(&self, id: u64) -> bool {
        let word = (id / 64) as usize;
        self.words
            .get(word)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    pub fn out_of_range(&self) -> u64 {
        self.out_of_range
    }

    pub fn max(&self) -> Option<u64> {
        self.max
    }

    /// How many ids in `0..end` were not seen.
    pub fn missing_below(&self, end: u64) -> u64 {
        let end = end.min(MAX_ID);
        let full_words = (end / 64) as usize;
        let mut seen: u64 = self
            .words
            .iter()
            .take(full_words)
            .map(|w| u64::from(w.count_ones()))
            .sum();
        if !end.is_multiple_of(64)
            && let Some(w) = self.words.get(full_words)
        {
            seen += u64::from((w & ((1u64 << (end % 64)) - 1)).count_ones());
        }
        end - seen
    }

    /// Up to `limit` ids in `0..end` that were not seen, smallest first.
    pub fn first_missing(&self, end: u64, limit: usize) -> Vec<u64> {
        (0..end.min(MAX_ID))
            .filter(|&id| !self.contains(id))
            .take(limit)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duplicate_is_found() {
        let mut set = IdSet::default();
        for id in 0..10_000u64 {
            assert!(set.insert(id));
        }
        // Re-insert every seventh id, some twice.
        let mut dups = 0;
        for id in (0..10_000u64).step_by(7) {
            assert!(!set.insert(id));
            dups += 1;
        }
        for id in (0..10_000u64).step_by(700) {
            assert!(!set.insert(id));
            dups += 1;
        }
        assert_eq!(set.distinct(), 10_000);
        assert_eq!(set.duplicates(), dups);
        assert_eq!(set.missing_below(10_000), 0);
        assert_eq!(set.max(), Some(9_999));
    }

    #[test]
    fn missing_ids_are_counted_exactly() {
        let mut set = IdSet::default();
        // Out of order, with holes at 0, 63, 64, 127 and everything past 200.
        for id in (1..=200u64).rev().filter(|id| ![63, 64, 127].contains(id)) {
            set.insert(id);
        }
        assert_eq!(set.missing_below(201), 4);
        assert_eq!(set.first_missing(201, 10), vec![0, 63, 64, 127]);
        assert_eq!(set.first_missing(201, 2), vec![0, 63]);
        // Expected more than arrived: the tail is missing too.
        assert_eq!(set.missing_below(1000), 4 + 799);
        assert_eq!(set.missing_below(64), 2);
        assert_eq!(set.missing_below(0), 0);
    }

    #[test]
    fn huge_ids_are_counted_not_stored() {
        let mut set = IdSet::default();
        assert!(set.insert(u64::MAX));
        assert!(set.insert(MAX_ID));
        assert_eq!(set.out_of_range(), 2);
        assert_eq!(set.distinct(), 0);
        assert!(set.words.is_empty());
    }
}
