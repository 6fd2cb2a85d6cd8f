"""Which words and style signals push a text towards its label, and a model towards each label.

Only word n-grams and style signals are named: a character n-gram counts in the score but is
not a term a reader can check. A feature's push towards a label is its weight in the text times
how much more it adds to that label's decision than to the labels' average.
"""

from __future__ import annotations

import functools

import numpy as np

from classifier import LABELS
from classifier.model import Model

Terms = list[tuple[str, float]]


class Explainer:
    """Explanations of one model's scores.

    Parameters
    ----------
    model : Model
    """

    def __init__(self, model: Model):
        self.model = model

    @functools.cached_property
    def names(self) -> list[str]:
        """Readable name of each feature column; '' for character n-grams (not explained)."""
        return list(self.model.featurizer.readable_names())

    @functools.cached_property
    def directions(self) -> np.ndarray:
        """Per label, how much each explainable feature pushes towards it (others zeroed)."""
        coef = self.model.scorer.coef
        return np.where(self.model.featurizer.explained(), coef - coef.mean(axis=0), 0.0)

    def strongest_terms(self, k: int = 10) -> dict[str, Terms]:
        """Per label, the ``k`` word or style features that push hardest towards it."""
        strongest = {}
        for row, label in zip(self.directions, LABELS):
            order = row.argsort()[::-1][:k]
            strongest[label] = [(self.names[j], round(float(row[j]), 4)) for j in order]
        return strongest

    def _pushes(self, texts: list[str], top: np.ndarray) -> tuple[np.ndarray, ...]:
        """(text row, column, push towards the text's top label) of every explainable feature
        present in a text, one entry per (row, column)."""
        featurizer = self.model.featurizer
        words, style, offset = featurizer.explained_occurrences(texts)
        rows_parts, cols_parts, push_parts = [], [], []
        if words is not None:
            rows, cols, norm, start = words
            width = len(featurizer.idf_[0])
            push = featurizer.idf_[0][cols] / norm[rows] * self.directions[top[rows], start + cols]
            keys, where = np.unique(rows.astype(np.int64) * width + cols, return_inverse=True)
            rows_parts.append(keys // width)
            cols_parts.append(keys % width + start)
            push_parts.append(np.bincount(where.ravel(), weights=push, minlength=len(keys)))
        present = np.nonzero(style)
        rows_parts.append(present[0])
        cols_parts.append(present[1] + offset)
        push_parts.append(style[present] * self.directions[top[present[0]], present[1] + offset])
        return tuple(np.concatenate(parts) for parts in (rows_parts, cols_parts, push_parts))

    def driving_terms(self, texts: list[str], proba: np.ndarray, *, k: int) -> list[Terms]:
        """Per text, up to ``k`` (term, push) pairs, strongest first, that pushed it towards
        its most likely label.

        Parameters
        ----------
        texts : list of str
        proba : ndarray
            The texts' probabilities (:meth:`Model.predict_proba`).
        k : int

        Returns
        -------
        list of list of (str, float)
        """
        out: list[Terms] = [[] for _ in texts]
        if not k or not texts:
            return out
        rows, cols, push = self._pushes(texts, proba.argmax(axis=1))
        keep = push > 0
        rows, cols, push = rows[keep], cols[keep], push[keep]
        order = np.lexsort((-push, rows))
        rows, cols, push = rows[order], cols[order], push[order]
        first = np.searchsorted(rows, rows, side="left")
        chosen = np.flatnonzero(np.arange(len(rows)) - first < k)
        names = self.names
        for r, c, p in zip(rows[chosen].tolist(), cols[chosen].tolist(), push[chosen].tolist()):
            out[r].append((names[c], round(p, 4)))
        return out
