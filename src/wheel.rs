//! A hierarchical timing wheel: the data structure behind every timer shard (see `timer`).
//!
//! Time is counted in ticks (one millisecond for the real clock). Six levels of 64 slots each
//! cover 64⁶ ticks (about 2.2 years at 1 ms); a slot of level `L` spans 64^L ticks. Entries
//! beyond that sit in one overflow list. Insertion and removal are O(1) (doubly linked lists
//! threaded through one slab); finding the next expiration is a scan of six 64-bit occupancy
//! masks. The wheel does no locking and knows nothing of tokens: it stores any `T`.
//!
//! # Invariants
//!
//! Every place that relies on one of these names it as (W1)..(W3).
//!
//! 1. **(W1)** Every entry with `tick <= elapsed` has been handed out by [`Wheel::poll`]: the
//!    wheel holds only entries due after `elapsed`, and `elapsed` only moves forward.
//! 2. **(W2)** An entry in a slot of level `L` has a tick that agrees with `elapsed` in every bit
//!    above level `L`'s six, and lies in a slot *after* `elapsed`'s slot at that level. So a level's
//!    occupied slots after `elapsed`'s are, in index order, in time order, and the lowest level
//!    with one holds the next expiration. An entry whose tick differs from `elapsed` above the top
//!    level is in the overflow list instead.
//! 3. **(W3)** `elapsed` never passes the start of an occupied slot without that slot being
//!    emptied at that start ([`poll`](Wheel::poll) cascades it: its entries are re-inserted
//!    relative to the new `elapsed`, landing lower or being handed out). This is what keeps (W2)
//!    true as time moves.
//!
//! Keys carry a generation, so a key whose entry was handed out (or removed) names nothing even
//! after its slab slot is reused: a stale `remove` is a no-op, never someone else's entry.

use slab::Slab;

const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const LEVELS: usize = 6;
/// Bits of a tick that the six levels cover; a tick differing from `elapsed` above them overflows.
const SPAN_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// The overflow list comes after the `LEVELS * SLOTS` slot lists.
const OVERFLOW: usize = LEVELS * SLOTS;
const LISTS: usize = OVERFLOW + 1;
const NIL: u32 = u32::MAX;

/// An entry's name: its slab index and the generation it was inserted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u64,
}

struct Entry<T> {
    tick: u64,
    generation: u64,
    list: u16,
    prev: u32,
    next: u32,
    value: T,
}

pub(crate) struct Wheel<T> {
    elapsed: u64,
    entries: Slab<Entry<T>>,
    heads: Box<[u32; LISTS]>,
    /// Bit `s` of `occupied[L]`: the list of slot `s` at level `L` is not empty.
    occupied: [u64; LEVELS],
    /// At most the earliest tick in the overflow list (a removal may leave it lower, which only
    /// makes the list be looked at early: nothing in it is handed out before its tick).
    overflow_earliest: u64,
    next_generation: u64,
}

impl<T> Wheel<T> {
    /// An empty wheel at tick `elapsed`.
    pub(crate) fn new(elapsed: u64) -> Self {
        Wheel {
            elapsed,
            entries: Slab::new(),
            heads: Box::new([NIL; LISTS]),
            occupied: [0; LEVELS],
            overflow_earliest: u64::MAX,
            next_generation: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Stores `value`, due at `tick`. A tick already passed is due at the next poll: never early,
    /// by (W1).
    pub(crate) fn insert(&mut self, tick: u64, value: T) -> Key {
        let tick = tick.max(self.elapsed + 1);
        let generation = self.next_generation;
        self.next_generation += 1;
        let index = self.entries.insert(Entry {
            tick,
            generation,
            list: 0,
            prev: NIL,
            next: NIL,
            value,
        });
        let index = u32::try_from(index).expect("fewer than 2^32 - 1 pending deadlines per shard");
        self.link(index);
        Key { index, generation }
    }

    /// Takes the entry named by `key` out; `None` if it was already handed out or removed.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self.entries.get(key.index as usize)?;
        if entry.generation != key.generation {
            return None;
        }
        self.unlink(key.index);
        let value = self.entries.remove(key.index as usize).value;
        if self.entries.is_empty() && self.entries.capacity() > 1024 {
            // A burst leaves no memory behind.
            self.entries = Slab::new();
        }
        Some(value)
    }

    /// The entry named by `key`; `None` if it was already handed out or removed.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let entry = self.entries.get_mut(key.index as usize)?;
        (entry.generation == key.generation).then_some(&mut entry.value)
    }

    /// The tick at which the next entry may be due (a slot to empty), or `None` when empty. Polling
    /// before it hands out nothing.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_list().map(|(tick, _)| tick)
    }

    /// Moves the wheel to `now`, pushing every entry due at or before it onto `due`.
    pub(crate) fn poll(&mut self, now: u64, due: &mut Vec<T>) {
        while let Some((start, list)) = self.next_list().filter(|&(start, _)| start <= now) {
            // (W3) stop at the slot's start and empty it there.
            self.elapsed = start;
            let mut index = std::mem::replace(&mut self.heads[list], NIL);
            self.clear_occupied(list);
            if list == OVERFLOW {
                self.overflow_earliest = u64::MAX; // recomputed as its entries are linked again
            }
            while index != NIL {
                let entry = &mut self.entries[index as usize];
                let next = entry.next;
                if entry.tick <= self.elapsed {
                    due.push(self.entries.remove(index as usize).value);
                } else {
                    self.link(index); // a cascade: lower, relative to the new `elapsed` (W2)
                }
                index = next;
            }
        }
        // Nothing is due up to `now`, so no occupied slot starts before it (W3).
        self.elapsed = self.elapsed.max(now);
    }

    /// The next list to empty and the tick it is due at: the first occupied slot after
    /// `elapsed`'s, at the lowest level that has one (W2); else the overflow list, at the start of
    /// the next span.
    fn next_list(&self) -> Option<(u64, usize)> {
        for (level, &occupied) in self.occupied.iter().enumerate() {
            let shift = SLOT_BITS * level as u32;
            let current = (self.elapsed >> shift) & (SLOTS as u64 - 1);
            let later = match current {
                63 => 0,
                _ => occupied & (u64::MAX << (current + 1)),
            };
            if later != 0 {
                let slot = u64::from(later.trailing_zeros());
                let above = self.elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
                return Some((above | (slot << shift), level * SLOTS + slot as usize));
            }
        }
        // The span of the earliest overflowing entry: it starts after `elapsed`'s span (W2), and
        // jumping straight there skips the empty spans between.
        (self.heads[OVERFLOW] != NIL).then(|| {
            let span_start = (self.overflow_earliest >> SPAN_BITS) << SPAN_BITS;
            (span_start.max(self.elapsed + 1), OVERFLOW)
        })
    }

    /// Which list an entry due at `tick` belongs in, relative to `elapsed` (W2).
    fn list_for(&self, tick: u64) -> usize {
        let differing = tick ^ self.elapsed;
        if differing >> SPAN_BITS != 0 {
            return OVERFLOW;
        }
        let top_bit = 63 - (differing | (SLOTS as u64 - 1)).leading_zeros();
        let level = (top_bit / SLOT_BITS) as usize;
        let slot = (tick >> (SLOT_BITS * level as u32)) as usize & (SLOTS - 1);
        level * SLOTS + slot
    }

    /// Pushes entry `index` onto the front of the list its tick belongs in.
    fn link(&mut self, index: u32) {
        let list = self.list_for(self.entries[index as usize].tick);
        let head = self.heads[list];
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        let entry = &mut self.entries[index as usize];
        entry.list = list as u16;
        entry.prev = NIL;
        entry.next = head;
        self.heads[list] = index;
        if list == OVERFLOW {
            self.overflow_earliest = self
                .overflow_earliest
                .min(self.entries[index as usize].tick);
        } else {
            self.occupied[list / SLOTS] |= 1 << (list % SLOTS);
        }
    }

    fn unlink(&mut self, index: u32) {
        let entry = &self.entries[index as usize];
        let (list, prev, next) = (entry.list as usize, entry.prev, entry.next);
        match prev {
            NIL => self.heads[list] = next,
            prev => self.entries[prev as usize].next = next,
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        if self.heads[list] == NIL {
            self.clear_occupied(list);
        }
    }

    fn clear_occupied(&mut self, list: usize) {
        if list != OVERFLOW {
            self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Remove(usize),
        Poll(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Deltas spread over every level and the overflow.
        let delta = prop_oneof![
            0..70u64,
            0..5_000u64,
            0..300_000u64,
            0..(1u64 << 38),
            Just(u64::MAX / 4),
        ];
        prop_oneof![
            4 => delta.clone().prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Remove),
            3 => delta.prop_map(Op::Poll),
        ]
    }

    proptest! {
        /// Against a sorted map: every entry comes out at the first poll at or after its tick,
        /// never before; removal takes exactly the named entry; stale keys name nothing.
        #[test]
        fn behaves_like_a_sorted_map(start in 0..(1u64 << 40), ops in prop::collection::vec(op(), 1..200)) {
            let mut wheel = Wheel::new(start);
            let mut model: BTreeMap<u64, u64> = BTreeMap::new(); // id -> tick
            let mut keys: Vec<(u64, Key)> = Vec::new();
            let mut now = start;
            for (id, op) in ops.into_iter().enumerate() {
                let id = id as u64;
                match op {
                    Op::Insert(delta) => {
                        let tick = now.saturating_add(delta);
                        keys.push((id, wheel.insert(tick, id)));
                        model.insert(id, tick.max(now + 1));
                    }
                    Op::Remove(i) if !keys.is_empty() => {
                        let (id, key) = keys[i % keys.len()];
                        prop_assert_eq!(wheel.remove(key), model.remove(&id).map(|_| id));
                    }
                    Op::Remove(_) => {}
                    Op::Poll(delta) => {
                        now = now.saturating_add(delta).min(u64::MAX / 2);
                        let mut due = Vec::new();
                        wheel.poll(now, &mut due);
                        due.sort_unstable();
                        let expected: Vec<u64> = model.iter().filter(|&(_, &t)| t <= now).map(|(&id, _)| id).collect();
                        model.retain(|_, &mut t| t > now);
                        prop_assert_eq!(due, expected);
                        if let Some(next) = wheel.next_expiration() {
                            prop_assert!(next > now);
                            let earliest = model.values().min().copied().unwrap();
                            prop_assert!(next <= earliest, "would sleep past a deadline");
                        } else {
                            prop_assert!(model.is_empty());
                        }
                    }
                }
                prop_assert_eq!(wheel.len(), model.len());
            }
        }
    }

    #[test]
    fn an_entry_comes_out_at_its_tick_exactly() {
        let mut wheel = Wheel::new(0);
        for tick in [1u64, 63, 64, 65, 4095, 4096, 1 << 20, (1 << 36) + 5] {
            wheel.insert(tick, tick);
            let mut due = Vec::new();
            wheel.poll(tick - 1, &mut due);
            assert!(due.is_empty(), "{tick} came out early");
            wheel.poll(tick, &mut due);
            assert_eq!(due, [tick]);
        }
    }
}
