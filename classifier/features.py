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
        for b, (vocab, idf, index) in enumerate(zip(self.vocabulary_, self.idf_, self._indexes)):
            arrays[f"vocabulary_{b}"] = vocab
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
        featurizer.vocabulary_ = [arrays[f"vocabulary_{b}"] for b in range(blocks)]
        featurizer.idf_ = [arrays[f"idf_{b}"] for b in range(blocks)]
        featurizer._indexes = [
            HashIndex.from_table(arrays[f"index_keys_{b}"], arrays[f"index_values_{b}"])
            for b in range(blocks)
        ]
        for vocab, idf in zip(featurizer.vocabulary_, featurizer.idf_):
            if vocab.dtype != np.uint64 or idf.dtype != np.float64 or vocab.shape != idf.shape:
                raise ValueError("a vocabulary and its idf weights differ in type or length")
            if not np.isfinite(idf).all():
                raise ValueError("idf weights that are not finite numbers")
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
