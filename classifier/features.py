"""Texts -> TF-IDF features of a fitted vocabulary, summed straight into a linear model.

Weights are TF-IDF: an n-gram's weight in a text is ``count * idf / norm``, where ``norm`` is
the square root of the sum of ``count * idf**2`` over the text's known n-grams of the same block
(words, characters). For a text whose n-grams are distinct, as in most sentences, that is the
usual L2-normalised TF-IDF; it needs no per-text deduplication, so scoring is one pass of
look-ups and sums. Training (:class:`training.features.PipelineFeaturizer`, which adds fitting
and a SciPy matrix) and scoring (:meth:`Featurizer.decision`) share every step up to the final
sum, which is what the parity test checks.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import numpy as np

from classifier.hashindex import HashIndex
from classifier.ngrams import DEFAULT_STYLE, STYLE_FEATURES, Chunk, lexicon_hashes

#: Per n-gram block: (text row of each known occurrence, its column in the block, the block's
#: norm per text, the block's first column).
Occurrences = tuple[np.ndarray, np.ndarray, np.ndarray, int]


class Featurizer:
    """Word and character n-gram TF-IDF plus style signals over a fitted vocabulary.

    Parameters
    ----------
    word_ngrams : int
        Longest word n-gram (1 or 2); 0 for no word features.
    char_ngrams : tuple of int, optional
        Shortest and longest character n-gram inside words; None for no character features.
    char_min_df : int
        Character n-grams seen in fewer training texts are dropped (used when fitting).
    style : tuple of str
        Which of :data:`classifier.ngrams.STYLE_FEATURES` to use, in that order.
    """

    vocabulary_: list[np.ndarray]
    idf_: list[np.ndarray]
    word_names_: list[str]

    def __init__(
        self,
        word_ngrams: int = 2,
        char_ngrams: tuple[int, int] | None = (3, 5),
        char_min_df: int = 2,
        style: tuple[str, ...] = DEFAULT_STYLE,
    ):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_min_df = char_min_df
        self.style = tuple(style)

    def params(self) -> dict[str, Any]:
        """The constructor's parameters, as JSON."""
        return {
            "word_ngrams": self.word_ngrams,
            "char_ngrams": self.char_ngrams,
            "char_min_df": self.char_min_df,
            "style": list(self.style),
        }

    def blocks(self, chunk: Chunk) -> list[tuple[tuple[np.ndarray, np.ndarray], int]]:
        """Each block's (row, hash) n-grams, words then characters, and its minimum document
        frequency in training."""
        blocks = []
        if self.word_ngrams:
            blocks.append((chunk.word_grams(self.word_ngrams), 1))
        if self.char_ngrams:
            blocks.append((chunk.char_grams(*self.char_ngrams), self.char_min_df))
        return blocks

    def set_vocabulary(
        self, vocabulary: list[np.ndarray], idf: list[np.ndarray], word_names: list[str]
    ) -> None:
        """Install a fitted vocabulary: per block its sorted hashes and idf weights."""
        self.vocabulary_ = [v.astype(np.uint64) for v in vocabulary]
        self.idf_ = [i.astype(np.float64) for i in idf]
        self._indexes = [HashIndex(v) for v in self.vocabulary_]
        self.word_names_ = word_names
        self._lexicons = lexicon_hashes()

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The fitted state as plain arrays (for ``.npz``) and JSON-able parameters."""
        arrays = {}
        # The vocabulary itself is not stored: its hash table holds every hash and its column.
        for b, (idf, index) in enumerate(zip(self.idf_, self._indexes)):
            arrays[f"idf_{b}"] = idf
            arrays[f"index_keys_{b}"] = index.keys
            arrays[f"index_values_{b}"] = index.values
        # One UTF-8 blob, not a fixed-width string array (which pads every name to the longest).
        blob = "\n".join(self.word_names_).encode("utf-8")
        arrays["word_names"] = np.frombuffer(blob, dtype=np.uint8)
        return arrays, {**self.params(), "blocks": len(self.vocabulary_)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> Featurizer:
        """Rebuild a fitted featurizer from :meth:`to_arrays`' output.

        Raises
        ------
        ValueError
            An array of the wrong type or shape (the loader reports it as a model error).
        """
        params = dict(params)
        blocks = int(params.pop("blocks"))
        if params.get("char_ngrams") is not None:
            params["char_ngrams"] = tuple(params["char_ngrams"])
        params["style"] = tuple(params["style"])
        if not set(params["style"]) <= set(STYLE_FEATURES):
            raise ValueError(
                f"unknown style signals {sorted(set(params['style']) - set(STYLE_FEATURES))}"
            )
        featurizer = cls(**params)
        featurizer.idf_ = [arrays[f"idf_{b}"] for b in range(blocks)]
        featurizer._indexes = [
            HashIndex.from_table(arrays[f"index_keys_{b}"], arrays[f"index_values_{b}"])
            for b in range(blocks)
        ]
        featurizer.vocabulary_ = []
        for index, idf in zip(featurizer._indexes, featurizer.idf_):
            keys, values = index.keys, index.values
            placed = values >= 0 if values.shape == keys.shape else np.zeros(0, dtype=bool)
            columns = values[placed]
            if (
                keys.dtype != np.uint64
                or values.dtype != np.int32
                or idf.dtype != np.float64
                or idf.ndim != 1
                or len(columns) != len(idf)
                or (np.bincount(columns, minlength=len(idf)) != 1).any()
            ):
                raise ValueError("a vocabulary and its idf weights differ in type or length")
            if not np.isfinite(idf).all():
                raise ValueError("idf weights that are not finite numbers")
            vocabulary = np.empty(len(idf), dtype=np.uint64)
            vocabulary[columns] = keys[placed]
            featurizer.vocabulary_.append(vocabulary)
        blob = arrays["word_names"].tobytes().decode("utf-8")
        featurizer.word_names_ = blob.split("\n") if blob else []
        featurizer._lexicons = lexicon_hashes()
        return featurizer

    def explained(self) -> np.ndarray:
        """Mask of the columns an explanation may name: word n-grams and style signals."""
        mask = np.zeros(self.n_features, dtype=bool)
        if self.word_ngrams:
            mask[: len(self.idf_[0])] = True
        mask[self.n_features - len(self.style) :] = True
        return mask

    def readable_names(self) -> list[str]:
        """Per column: the word n-gram, ``[signal]`` for a style column, '' for a character
        n-gram."""
        names: list[str] = []
        for b, vocab in enumerate(self.vocabulary_):
            names += self.word_names_ if b == 0 and self.word_ngrams else [""] * len(vocab)
        return names + [f"[{s}]" for s in self.style]

    @property
    def n_features(self) -> int:
        return sum(len(v) for v in self.vocabulary_) + len(self.style)

    def occurrences(self, texts: list[str]) -> tuple[list[Occurrences], np.ndarray, int]:
        """Every known n-gram occurrence per block (see :data:`Occurrences`), the style
        columns, and where the style columns start."""
        chunk = Chunk(list(texts))
        blocks = []
        offset = 0
        for ((rows, hashes), _), idf, index in zip(self.blocks(chunk), self.idf_, self._indexes):
            col = index.lookup(hashes)
            found = col >= 0
            rows, col = rows[found], col[found]
            norm = np.sqrt(np.bincount(rows, weights=(idf * idf)[col], minlength=chunk.n))
            norm[norm == 0] = 1.0
            blocks.append((rows, col, norm, offset))
            offset += len(idf)
        columns = [STYLE_FEATURES.index(s) for s in self.style]
        return blocks, chunk.style(self._lexicons)[:, columns], offset

    def explained_occurrences(self, texts: list[str]) -> tuple[Occurrences | None, np.ndarray, int]:
        """What an explanation needs, without the character n-grams it never names: the word
        block's occurrences (None without word features), the style columns and their start."""
        chunk = Chunk(list(texts))
        words = None
        if self.word_ngrams:
            rows, hashes = chunk.word_grams(self.word_ngrams)
            idf = self.idf_[0]
            col = self._indexes[0].lookup(hashes)
            found = col >= 0
            rows, col = rows[found], col[found]
            norm = np.sqrt(np.bincount(rows, weights=(idf * idf)[col], minlength=chunk.n))
            norm[norm == 0] = 1.0
            words = (rows, col, norm, 0)
        columns = [STYLE_FEATURES.index(s) for s in self.style]
        offset = self.n_features - len(self.style)
        return words, chunk.style(self._lexicons)[:, columns], offset

    def decision(self, texts: list[str], coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """``features(texts) @ coef.T + intercept`` without building the feature matrix.

        Parameters
        ----------
        texts : list of str
        coef : ndarray of shape (n_classes, n_features)
        intercept : ndarray of shape (n_classes,)

        Returns
        -------
        ndarray of shape (n_texts, n_classes)
        """
        blocks, style, offset = self.occurrences(texts)
        n = len(texts)
        out = np.tile(intercept.astype(np.float64), (n, 1))
        for (rows, cols, norm, start), idf in zip(blocks, self.idf_):
            # Sum idf * coef over each text's occurrences, then divide by the text's norm once.
            weighted = idf * coef[:, start : start + len(idf)]
            for k in range(coef.shape[0]):
                out[:, k] += np.bincount(rows, weights=weighted[k][cols], minlength=n) / norm
        out += style @ coef[:, offset:].T
        return out

    def word_terms(self, text: str) -> set[str]:
        """The word n-grams of ``text`` as the featurizer sees them (lower case)."""
        chunk = Chunk([text])
        low = chunk.low_text
        tokens = [low[s:e] for s, e in zip(chunk.starts.tolist(), chunk.ends.tolist())]
        terms = set(tokens)
        if self.word_ngrams >= 2:
            terms |= {f"{a} {b}" for a, b in itertools.pairwise(tokens)}
        return terms


#: Distinct character words met at run time that one scorer keeps (about 14 MB at three
#: labels). When the cache is full it is emptied and fills again, so memory stays bounded
#: whatever the input; the words the model was trained on are not in it (they are in the
#: artefact).
CACHE_WORDS = 1 << 18


class CharWords:
    """Per distinct character word: its character n-grams' summed ``idf * coef`` (one value
    per label) and summed ``idf**2``.

    A text's character n-grams are those of its character words (:attr:`Chunk.char_words`:
    maximal runs of non-blank characters, each padded with a space), with repetition, and the
    weights carry no per-text deduplication, so the character block's score and norm are sums
    of these two per-word values over the text's words.

    Parameters
    ----------
    index : HashIndex
        Word hash -> row of ``sums`` and ``squares``.
    sums : ndarray of shape (n_classes, n_words)
    squares : ndarray of shape (n_words,)
    """

    def __init__(self, index: HashIndex, sums: np.ndarray, squares: np.ndarray):
        self.index, self.sums, self.squares = index, sums, squares

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The table as arrays for ``scoring.npz``."""
        return {
            "char_word_keys": self.index.keys,
            "char_word_values": self.index.values,
            "char_word_sums": self.sums,
            "char_word_squares": self.squares,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> CharWords:
        """The table from :meth:`to_arrays`' arrays (checked by the model loader first)."""
        index = HashIndex.from_table(arrays["char_word_keys"], arrays["char_word_values"])
        return cls(index, arrays["char_word_sums"], arrays["char_word_squares"])


class _WordCache:
    """Character words computed at run time: a bounded table, emptied when full."""

    def __init__(self, classes: int, capacity: int):
        self.classes, self.capacity = classes, capacity
        self.lock = threading.Lock()
        self.size = 0
        self.words: CharWords | None = None  # allocated on first use

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, CharWords | None]:
        """Row of each key in :attr:`words`, or -1."""
        with self.lock:
            if self.words is None or not self.size:
                return np.full(len(keys), -1), self.words
            return self.words.index.lookup(keys), self.words

    def put(self, keys: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> None:
        """Keep distinct, absent ``keys`` and their values (as many as there is room for)."""
        with self.lock:
            if self.words is not None and self.size:  # another thread may have added some
                absent = self.words.index.lookup(keys) < 0
                keys, sums, squares = keys[absent], sums[:, absent], squares[absent]
            if self.words is None or self.size + len(keys) > self.capacity:
                self.words = CharWords(
                    HashIndex.with_capacity(self.capacity),
                    np.zeros((self.classes, self.capacity)),
                    np.zeros(self.capacity),
                )
                self.size = 0
                keys, sums, squares = keys[: self.capacity], sums[:, : self.capacity], squares
            rows = np.arange(self.size, self.size + len(keys))
            self.words.index.insert(keys, rows.astype(np.int32))
            self.words.sums[:, rows] = sums
            self.words.squares[rows] = squares[: len(keys)]
            self.size += len(keys)


class LinearScorer:
    """``featurizer``'s features times a linear model, with what depends only on the model
    computed once: each word n-gram's ``idf * coef``, and each character word's sums.

    Scores equal :meth:`Featurizer.decision`'s up to the order of floating-point additions.

    Parameters
    ----------
    featurizer : Featurizer
        Fitted.
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,)
    words : CharWords, optional
        Character words computed ahead (the artefact's); any other word is computed when first
        met and kept in a per-process cache of at most ``cache_words`` words.
    cache_words : int
    """

    def __init__(
        self,
        featurizer: Featurizer,
        coef: np.ndarray,
        intercept: np.ndarray,
        *,
        words: CharWords | None = None,
        cache_words: int = CACHE_WORDS,
    ):
        self.featurizer = featurizer
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.blocks = []  # per n-gram block: (weights (k, columns), idf**2)
        start = 0
        for idf in featurizer.idf_:
            self.blocks.append((idf * coef[:, start : start + len(idf)], idf * idf))
            start += len(idf)
        self.style_coef = np.ascontiguousarray(coef[:, start:].T)
        self.style_columns = [STYLE_FEATURES.index(s) for s in featurizer.style]
        self.words = words
        self._cache = _WordCache(coef.shape[0], cache_words)
        self._lexicon_columns = self._lexicons_by_column() if featurizer.word_ngrams >= 2 else None

    def _lexicons_by_column(self) -> tuple[np.ndarray, HashIndex, np.ndarray]:
        """The lexicon of each word column (-1: none), and the lexicon entries that are no
        column: the word look-up then finds the lexicon signals' words too."""
        index, owners = self.featurizer._lexicons
        placed = index.values >= 0
        hashes, owner = index.keys[placed], owners[index.values[placed]]
        col = self.featurizer._indexes[0].lookup(hashes)
        # One more entry, -1, for the look-up's -1 (not a column): no branch needed per gram.
        by_column = np.full(len(self.featurizer.idf_[0]) + 1, -1, dtype=np.int64)
        by_column[col[col >= 0]] = owner[col >= 0]
        return by_column, HashIndex(hashes[col < 0]), owner[col < 0]

    def _lexicon_hits(
        self, rows: np.ndarray, hashes: np.ndarray, col: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(row, lexicon) of the word 1-2-grams in a lexicon, from their column look-up."""
        if self._lexicon_columns is None:
            return None
        by_column, outside, outside_owner = self._lexicon_columns
        owner = by_column[col]
        if len(outside_owner):
            unknown = np.flatnonzero(col < 0)
            entry = outside.lookup(hashes[unknown])
            owner[unknown[entry >= 0]] = outside_owner[entry[entry >= 0]]
        hit = owner >= 0
        return rows[hit], owner[hit]

    def decision(self, texts: list[str]) -> np.ndarray:
        """``features(texts) @ coef.T + intercept``, shape (n_texts, n_classes)."""
        featurizer = self.featurizer
        chunk = Chunk(list(texts))
        n = chunk.n
        out = np.tile(self.intercept, (n, 1))
        words_block = 1 if featurizer.word_ngrams else 0
        lexicon_hits = None
        if featurizer.word_ngrams:
            rows, hashes = chunk.word_grams(featurizer.word_ngrams)
            col = featurizer._indexes[0].lookup(hashes)
            lexicon_hits = self._lexicon_hits(rows, hashes, col)
            found = col >= 0
            rows, col = rows[found], col[found]
            weights, squares = self.blocks[0]
            self._add(out, rows, weights[:, col], squares[col])
        if featurizer.char_ngrams:
            self._add_char_words(out, chunk, words_block)
        style = chunk.style(featurizer._lexicons, lexicon_hits=lexicon_hits)
        out += style[:, self.style_columns] @ self.style_coef
        return out

    @staticmethod
    def _add(out: np.ndarray, rows: np.ndarray, weights: np.ndarray, squares: np.ndarray) -> None:
        """Add one block: per text, its occurrences' weights over the root of their squares."""
        n = len(out)
        norm = np.sqrt(np.bincount(rows, weights=squares, minlength=n))
        norm[norm == 0] = 1.0
        for k in range(out.shape[1]):
            out[:, k] += np.bincount(rows, weights=weights[k], minlength=n) / norm

    def _add_char_words(self, out: np.ndarray, chunk: Chunk, block: int) -> None:
        """Add the character block: each character word's sums, from the artefact's table, the
        cache, or computed now (and then cached)."""
        rows, keys, starts, ends = chunk.char_words
        n, k = out.shape
        sums, squares = np.zeros((k, n)), np.zeros(n)

        def add(
            at_rows: np.ndarray, words_sums: np.ndarray, words_squares: np.ndarray, at: np.ndarray
        ) -> None:
            squares[:] += np.bincount(at_rows, weights=words_squares[at], minlength=n)
            for j in range(k):
                sums[j] += np.bincount(at_rows, weights=words_sums[j][at], minlength=n)

        todo = np.arange(len(keys))
        if self.words is not None:
            at = self.words.index.lookup(keys)
            hit = at >= 0
            add(rows[hit], self.words.sums, self.words.squares, at[hit])
            todo = np.flatnonzero(~hit)
        if len(todo):
            at, cached = self._cache.get(keys[todo])
            if cached is not None:
                hit = at >= 0
                add(rows[todo[hit]], cached.sums, cached.squares, at[hit])
                todo = todo[~hit]
        if len(todo):
            new, first, inverse = np.unique(keys[todo], return_index=True, return_inverse=True)
            found = todo[first]
            new_sums, new_squares = self.word_values(chunk, starts[found], ends[found], block)
            add(rows[todo], new_sums, new_squares, inverse.ravel())
            self._cache.put(new, new_sums, new_squares)
        norm = np.sqrt(squares)
        norm[norm == 0] = 1.0
        out += (sums / norm).T

    def word_values(
        self, chunk: Chunk, starts: np.ndarray, ends: np.ndarray, block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sums (k, words) and squares (words,) of the character words [starts, ends)."""
        featurizer = self.featurizer
        assert featurizer.char_ngrams is not None  # only called for a character block
        rows, hashes = chunk.word_char_grams(starts, ends, *featurizer.char_ngrams)
        col = featurizer._indexes[block].lookup(hashes)
        found = col >= 0
        rows, col = rows[found], col[found]
        weights, squares = self.blocks[block]
        m = len(starts)
        sums = np.array([np.bincount(rows, weights=w[col], minlength=m) for w in weights])
        return sums.reshape(len(weights), m), np.bincount(rows, weights=squares[col], minlength=m)

    def char_words_of(self, texts: list[str]) -> CharWords:
        """The character words of ``texts`` computed ahead (for the scoring artefact)."""
        chunk = Chunk(list(texts))
        _, keys, starts, ends = chunk.char_words
        keys, first = np.unique(keys, return_index=True)
        sums, squares = self.word_values(
            chunk, starts[first], ends[first], 1 if self.featurizer.word_ngrams else 0
        )
        return CharWords(HashIndex(keys), sums, squares)
