"""The featurizer as a scikit-learn pipeline step: fitting a vocabulary, and a SciPy matrix.

Scoring needs only :class:`classifier.features.Featurizer`; this subclass adds what training
needs on top of the same n-gram code, so the two cannot drift apart: learning the vocabulary
and idf weights from texts, the estimator protocol (``get_params``, ``set_params``) that
``Pipeline`` and ``clone`` use, and ``transform`` into the sparse matrix a linear model fits on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from classifier.features import Featurizer
from classifier.ngrams import Chunk

#: Character words of the training text whose scores the artefact stores (with the word
#: vocabulary's); any other word is scored when a run first meets it.
FREQUENT_WORDS = 1 << 16


def _document_frequencies(rows: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct hashes and in how many texts each occurs."""
    order = np.lexsort((hashes, rows))
    rows, hashes = rows[order], hashes[order]
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = (hashes[1:] != hashes[:-1]) | (rows[1:] != rows[:-1])
    return np.unique(hashes[first], return_counts=True)


def _word_names(chunk: Chunk, vocabulary: np.ndarray, word_ngrams: int) -> list[str]:
    """The text of each word-vocabulary entry (for explanations and reports)."""
    low = chunk.low_text
    tokens = [low[s:e] for s, e in zip(chunk.starts.tolist(), chunk.ends.tolist())]
    names: dict[int, str] = {}
    for h, t in zip(chunk.token_hashes.tolist(), tokens):
        names.setdefault(h, t)
    if word_ngrams >= 2 and len(tokens) > 1:
        _, grams = chunk.word_grams(2)
        same = (chunk.token_row[1:] == chunk.token_row[:-1]).tolist()
        pairs = [f"{a} {b}" for a, b, s in zip(tokens[:-1], tokens[1:], same) if s]
        for h, t in zip(grams[len(tokens) :].tolist(), pairs):
            names.setdefault(h, t)
    return [names.get(h, "?") for h in vocabulary.tolist()]


def _frequent_char_words(chunk: Chunk, limit: int) -> list[str]:
    """The ``limit`` most frequent character words of ``chunk`` (lower case), most frequent
    first, ties in order of first appearance."""
    _, keys, starts, ends = chunk.char_words
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))[:limit]
    low = chunk.low_text
    return [low[s:e] for s, e in zip(starts[first[order]].tolist(), ends[first[order]].tolist())]


class PipelineFeaturizer(Featurizer):
    """A :class:`~classifier.features.Featurizer` that fits, for scikit-learn pipelines."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return self.params()

    def set_params(self, **params: Any) -> PipelineFeaturizer:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, texts: list[str], y: Any = None) -> PipelineFeaturizer:
        """Learn the vocabulary (sorted hashes), idf weights and readable word n-grams."""
        chunk = Chunk(list(texts))
        n = len(texts)
        vocab, idf = [], []
        for (rows, hashes), min_df in self.blocks(chunk):
            kept, df = _document_frequencies(rows, hashes)
            kept, df = kept[df >= min_df], df[df >= min_df]
            vocab.append(kept)
            idf.append(np.log((1 + n) / (1 + df)) + 1)
        names = _word_names(chunk, vocab[0], self.word_ngrams) if self.word_ngrams else []
        self.set_vocabulary(vocab, idf, names)
        # Scored ahead into the artefact's character-word table (see training.export).
        self.frequent_words_ = (
            _frequent_char_words(chunk, FREQUENT_WORDS) if self.char_ngrams else []
        )
        return self

    def transform(self, texts: list[str]) -> Any:
        """The feature matrix (SciPy CSR): n-gram blocks, then the style columns."""
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
