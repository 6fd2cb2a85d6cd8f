"""The featurizer as a scikit-learn pipeline step: fitting a vocabulary, and a SciPy matrix.

Scoring needs only :class:`classifier.features.Featurizer`; this subclass adds what training
needs on top of the same n-gram code, so the two cannot drift apart: learning the vocabulary
and idf weights from texts, the estimator protocol (``get_params``, ``set_params``) that
``Pipeline`` and ``clone`` use, and ``transform`` into the sparse matrix a linear model fits on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from classifier.features import Featurizer
from classifier.ngrams import Chunk

#: Character words of the training text whose scores the artefact stores (with the word
#: vocabulary's); any other word is scored when a run first meets it.
FREQUENT_WORDS = 1 << 16


#: Texts per :class:`~classifier.ngrams.Chunk` when fitting and transforming. A chunk holds
#: several int64 arrays as long as its texts' characters (and ``char_grams`` several more), so
#: featurizing the whole corpus at once took over a hundred times the text's size; per chunk
#: that cost is bounded, and what grows with the data is the vocabulary and the matrix itself.
#: Fitting the featurizer on 10,000 benchmark rows (benchmarks/train_memory.py) added 213 MiB
#: to the peak in chunks of 10,000 texts, 77 MiB in chunks of 2,000 and 47 MiB in chunks of
#: 1,000, in about the same time; 2,000 keeps the merges of the document-frequency tables (one
#: pass over each table per chunk) few.
CHUNK_TEXTS = 2_000


def _chunks(texts: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(first row, texts) of each chunk of :data:`CHUNK_TEXTS` texts (one chunk when empty)."""
    size = max(CHUNK_TEXTS, 1)
    for start in range(0, max(len(texts), 1), size):
        yield start, texts[start : start + size]


def _document_frequencies(rows: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct hashes and in how many texts each occurs."""
    order = np.lexsort((hashes, rows))
    rows, hashes = rows[order], hashes[order]
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = (hashes[1:] != hashes[:-1]) | (rows[1:] != rows[:-1])
    return np.unique(hashes[first], return_counts=True)


def _merge_counts(
    keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted (distinct hash, count) tables as one: counts of a shared hash add up.

    A sorted merge (one binary search per new hash, one insert pass) rather than sorting the
    union again, so a chunk costs about the size of the table, not that times its logarithm.
    """
    at = np.searchsorted(keys, new_keys)
    shared = at < len(keys)
    shared[shared] = keys[at[shared]] == new_keys[shared]
    counts = counts.copy()
    counts[at[shared]] += new_counts[shared]
    fresh = ~shared
    # np.insert places each new hash before the index it was searched to: the result stays sorted.
    return np.insert(keys, at[fresh], new_keys[fresh]), np.insert(
        counts, at[fresh], new_counts[fresh]
    )


def _word_names(
    chunk: Chunk, word_ngrams: int, tokens: dict[int, str], pairs: dict[int, str]
) -> None:
    """Add the text of each word and word pair of ``chunk`` not seen before to ``tokens`` and
    ``pairs`` (by hash; the first text wins, in corpus order)."""
    low = chunk.low_text
    words = [low[s:e] for s, e in zip(chunk.starts.tolist(), chunk.ends.tolist())]
    for h, t in zip(chunk.token_hashes.tolist(), words):
        tokens.setdefault(h, t)
    if word_ngrams >= 2 and len(words) > 1:
        _, grams = chunk.word_grams(2)
        same = (chunk.token_row[1:] == chunk.token_row[:-1]).tolist()
        texts = [f"{a} {b}" for a, b, s in zip(words[:-1], words[1:], same) if s]
        for h, t in zip(grams[len(words) :].tolist(), texts):
            pairs.setdefault(h, t)


def _count_char_words(chunk: Chunk, counts: dict[int, list[Any]], offset: int) -> None:
    """Add ``chunk``'s character words to ``counts`` (key -> [count, (chunk, first), word])."""
    _, keys, starts, ends = chunk.char_words
    unique, first, many = np.unique(keys, return_index=True, return_counts=True)
    low = chunk.low_text
    for key, at, n in zip(unique.tolist(), first.tolist(), many.tolist()):
        entry = counts.get(key)
        if entry is None:
            counts[key] = [n, (offset, at), low[int(starts[at]) : int(ends[at])]]
        else:
            entry[0] += n


def _frequent_char_words(counts: dict[int, list[Any]], limit: int) -> list[str]:
    """The ``limit`` most frequent character words (lower case), most frequent first, ties in
    order of first appearance."""
    ranked = sorted(counts.values(), key=lambda entry: (-entry[0], entry[1]))
    return [word for _, _, word in ranked[:limit]]


class PipelineFeaturizer(Featurizer):
    """A :class:`~classifier.features.Featurizer` that fits, for scikit-learn pipelines."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return self.params()

    def set_params(self, **params: Any) -> PipelineFeaturizer:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, texts: list[str], y: Any = None) -> PipelineFeaturizer:
        """Learn the vocabulary (sorted hashes), idf weights and readable word n-grams.

        Texts are featurized :data:`CHUNK_TEXTS` at a time; document frequencies and word
        names are gathered per chunk, so the result is the same as from one chunk.
        """
        texts = list(texts)
        n = len(texts)
        tables: list[tuple[np.ndarray, np.ndarray]] | None = None
        tokens: dict[int, str] = {}
        pairs: dict[int, str] = {}
        min_dfs: list[int] = []
        words: dict[int, list[Any]] = {}
        for start, part in _chunks(texts):
            chunk = Chunk(part)
            if self.char_ngrams:
                _count_char_words(chunk, words, start)
            blocks = self.blocks(chunk)
            counted = [_document_frequencies(rows, hashes) for (rows, hashes), _ in blocks]
            min_dfs = [min_df for _, min_df in blocks]
            if tables is not None:
                counted = [_merge_counts(*old, *new) for old, new in zip(tables, counted)]
            tables = counted
            if self.word_ngrams:
                _word_names(chunk, self.word_ngrams, tokens, pairs)
            del chunk, blocks, counted
        vocab, idf = [], []
        for (kept, df), min_df in zip(tables or [], min_dfs):
            kept, df = kept[df >= min_df], df[df >= min_df]
            vocab.append(kept)
            idf.append(np.log((1 + n) / (1 + df)) + 1)
        names = []
        if self.word_ngrams:
            # Word hashes before pair hashes, as one pass over the whole corpus looked them up.
            names = [tokens.get(h, pairs.get(h, "?")) for h in vocab[0].tolist()]
        self.set_vocabulary(vocab, idf, names)
        # Scored ahead into the artefact's character-word table (see training.export).
        self.frequent_words_ = (
            _frequent_char_words(words, FREQUENT_WORDS) if self.char_ngrams else []
        )
        return self

    def transform(self, texts: list[str]) -> Any:
        """The feature matrix (SciPy CSR): n-gram blocks, then the style columns.

        Built :data:`CHUNK_TEXTS` rows at a time and stacked (each row depends on its own
        text only, so the stack equals the one-chunk matrix entry for entry).
        """
        import scipy.sparse as sp

        texts = list(texts)
        parts = [self._transform_chunk(part) for _, part in _chunks(texts)]
        if len(parts) == 1:
            return parts[0]
        return sp.vstack(parts, format="csr")

    def _transform_chunk(self, texts: list[str]) -> Any:
        """The feature matrix of one chunk of texts."""
        import scipy.sparse as sp

        blocks, style, offset = self.occurrences(texts)
        n = len(texts)
        rows = np.concatenate([b[0] for b in blocks] + [np.repeat(np.arange(n), style.shape[1])])
        cols = np.concatenate(
            [col + start for _, col, _, start in blocks]
            + [np.tile(np.arange(style.shape[1]) + offset, n)]
        )
        weights = [idf[col] / norm[r] for (r, col, norm, _), idf in zip(blocks, self.idf_)]
        data = np.concatenate([*weights, style.ravel()])
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(n, self.n_features))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return matrix

    def fit_transform(self, texts: list[str], y: Any = None) -> Any:
        return self.fit(texts).transform(texts)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``word__<n-gram>``, ``char__<index>`` and ``style__<signal>`` column names."""
        names: list[str] = []
        for b, vocab in enumerate(self.vocabulary_):
            if b == 0 and self.word_ngrams:
                names += [f"word__{w}" for w in self.word_names_]
            else:
                names += [f"char__{i}" for i in range(len(vocab))]
        names += [f"style__{s}" for s in self.style]
        return np.array(names, dtype=object)


class EmbeddedFeaturizer:
    """The TF-IDF featurizer's matrix with a sentence-embedding block appended as dense columns.

    Parameters
    ----------
    featurizer : PipelineFeaturizer
        The TF-IDF part (fitted here).
    spec : classifier.embeddings.EmbeddingSpec
        Which encoder and the block's weight.
    cache : dict, optional
        Text -> encoder row, shared by the folds of one training run so that each text is
        encoded once; texts missing from it are encoded (and added). Neither the cache nor the
        encoder is pickled with the pipeline.
    """

    def __init__(self, featurizer: PipelineFeaturizer, spec: Any, cache: dict | None = None):
        self.featurizer = featurizer
        self.spec = spec
        self._cache: dict[str, np.ndarray] = {} if cache is None else cache

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"featurizer": self.featurizer, "spec": self.spec}

    def set_params(self, **params: Any) -> EmbeddedFeaturizer:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"featurizer": self.featurizer, "spec": self.spec}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = {}

    def embeddings(self, texts: list[str]) -> np.ndarray:
        """The block's columns for ``texts`` (see :func:`classifier.embeddings.embed`)."""
        from classifier.embeddings import load_encoder

        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            rows = np.asarray(load_encoder(self.spec).encode(missing), dtype=np.float64)
            self._cache.update(zip(missing, rows))
        if not texts:
            return np.zeros((0, self.spec.dimensions))
        return self.spec.weight * np.array([self._cache[t] for t in texts], dtype=np.float64)

    def fit(self, texts: list[str], y: Any = None) -> EmbeddedFeaturizer:
        self.featurizer.fit(texts)
        return self

    def transform(self, texts: list[str]) -> Any:
        """The TF-IDF matrix, then the weighted embedding columns (SciPy CSR)."""
        import scipy.sparse as sp

        texts = list(texts)
        block = sp.csr_matrix(self.embeddings(texts))
        return sp.hstack([self.featurizer.transform(texts), block], format="csr")

    def fit_transform(self, texts: list[str], y: Any = None) -> Any:
        return self.fit(texts).transform(texts)
