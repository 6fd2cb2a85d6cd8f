"""An open-addressing hash table from 64-bit n-gram hashes to feature columns, in NumPy."""

from __future__ import annotations

import numpy as np

_FIBONACCI = np.uint64(
    0x9E3779B97F4A7C15
)  # 2**64 / golden ratio: multiplicative hashing's constant


class HashIndex:
    """Column of each vocabulary hash, found by open addressing (vectorised linear probing).

    A key's first slot is the top bits of ``key * 0x9E37...`` (multiplicative hashing), which
    depend on every bit of the key, so rolling hashes need no extra mixing.

    Parameters
    ----------
    keys : ndarray of uint64
        The vocabulary's hashes (distinct).
    """

    EMPTY = np.uint64(0)

    def __init__(self, keys: np.ndarray):
        self._allocate(1 << max(4, int(len(keys) * 2 - 1).bit_length()))  # load factor <= 1/2
        self._place(keys, np.arange(len(keys)))

    @classmethod
    def with_capacity(cls, capacity: int) -> HashIndex:
        """An empty index with room for ``capacity`` keys (see :meth:`insert`)."""
        index = cls.__new__(cls)
        index._allocate(1 << max(4, int(capacity * 2 - 1).bit_length()))
        return index

    def _allocate(self, size: int) -> None:
        self.mask = np.uint64(size - 1)
        self.shift = np.uint64(64 - (size.bit_length() - 1))
        self.keys = np.zeros(size, dtype=np.uint64)
        self.values = np.full(size, -1, dtype=np.int32)

    def insert(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add distinct ``keys``, none of them in the index yet, with their ``values`` (>= 0);
        the caller keeps the load factor at 1/2 or less (:meth:`with_capacity`)."""
        self._place(keys, values)

    def _place(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Put each key in its first free slot from its home on (vectorised linear probing)."""
        pending = np.arange(len(keys))
        probe = np.uint64(0)
        while len(pending):
            slots = ((self._home(keys[pending]) + probe) & self.mask).astype(np.int64)
            free = self.values[slots] == -1
            # Of the keys that want the same free slot, the first takes it; the rest probe on.
            _, first = np.unique(slots, return_index=True)
            take = np.zeros(len(pending), dtype=bool)
            take[first] = True
            take &= free
            self.keys[slots[take]] = keys[pending[take]]
            self.values[slots[take]] = values[pending[take]]
            pending = pending[~take]
            probe += np.uint64(1)

    @classmethod
    def from_table(cls, keys: np.ndarray, values: np.ndarray) -> HashIndex:
        """An index from a table saved earlier (no rebuilding at load time)."""
        index = cls.__new__(cls)
        index.keys, index.values = keys, values
        index.mask = np.uint64(len(keys) - 1)
        index.shift = np.uint64(64 - (len(keys).bit_length() - 1))
        return index

    def _home(self, hashes: np.ndarray) -> np.ndarray:
        """Each hash's first slot."""
        with np.errstate(over="ignore"):
            return (hashes * _FIBONACCI) >> self.shift

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Column of each hash, or -1 for a hash not in the vocabulary."""
        # First probe over the whole array: most keys are found (or missed) there.
        home = self._home(hashes)
        slots = home.astype(np.intp)
        values = self.values[slots].astype(np.int64)
        occupied = values >= 0
        hit = occupied & (self.keys[slots] == hashes)
        out = np.where(hit, values, -1)
        todo = np.flatnonzero(occupied & ~hit)
        probe = np.uint64(1)
        while len(todo):
            slots = ((home[todo] + probe) & self.mask).astype(np.int64)
            values = self.values[slots]
            hit = self.keys[slots] == hashes[todo]
            hit &= values >= 0
            out[todo[hit]] = values[hit]
            todo = todo[~hit & (values >= 0)]  # an empty slot ends the search
            probe += np.uint64(1)
        return out
