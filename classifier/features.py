"""Text -> feature matrix: word and character TF-IDF plus a few stylistic signals.

Everything here is pickled inside a model, so each transformer and pattern is defined at module
level and depends on nothing but the standard library, NumPy, SciPy and scikit-learn.
"""

from __future__ import annotations

import math
import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

#: Word tokens: runs of letters/digits, keeping inner apostrophes ("don't", "Russia’s").
WORD_PATTERN = r"(?u)\b\w[\w'’]*\b"

_WORDS = re.compile(WORD_PATTERN)
_STYLE_PATTERNS: dict[str, re.Pattern[str]] = {
    "first_person": re.compile(r"(?i)\b(i|me|my|mine|we|us|our|ours|i'm|i’m)\b"),
    "second_person": re.compile(r"(?i)\b(you|your|yours|you're|you’re|u|ya)\b"),
    "hedge": re.compile(
        r"(?i)\b(may|might|could|perhaps|possibly|likely|probably|seems?|appears?|suggests?|"
        r"reportedly|allegedly|arguably)\b"
    ),
    "attribution": re.compile(
        r"(?i)\b(said|says|told|stated|announced|confirmed|reported|added|according to|"
        r"spokes(wo)?man|spokesperson|statement|officials?)\b"
    ),
    "quote": re.compile(r"[\"“”]"),
    "digit": re.compile(r"\d"),
    "link": re.compile(r"(?i)(https?://|www\.|\.com\b|\.org\b)"),
}

#: Names of the stylistic features, in column order.
STYLE_FEATURES: tuple[str, ...] = (
    "caps_words",
    "exclamation",
    "question",
    *_STYLE_PATTERNS,
    "length",
)


def style_vector(text: str) -> list[float]:
    """Stylistic signals of one text, each scaled to roughly [0, 1]."""
    words = _WORDS.findall(text)
    n = max(len(words), 1)
    caps = sum(1 for w in words if len(w) > 1 and w.isupper()) / n
    values = [
        caps,
        min(text.count("!"), 3) / 3,
        min(text.count("?"), 3) / 3,
    ]
    values += [min(len(p.findall(text)), 3) / 3 for p in _STYLE_PATTERNS.values()]
    values.append(min(math.log1p(len(words)) / math.log(64), 1.0))
    return values


class StyleFeatures(TransformerMixin, BaseEstimator):
    """Sparse matrix of :data:`STYLE_FEATURES` for each text (stateless)."""

    def fit(self, texts, y=None):
        return self

    def transform(self, texts):
        return sp.csr_matrix(np.array([style_vector(t) for t in texts], dtype=np.float64))

    def get_feature_names_out(self, input_features=None):
        return np.array(STYLE_FEATURES, dtype=object)


def build_featurizer() -> FeatureUnion:
    """The unfitted feature union: ``word__*``, ``char__*`` and ``style__*`` columns.

    Returns
    -------
    sklearn.pipeline.FeatureUnion
        Word 1-2-gram and character 2-5-gram TF-IDF (sublinear tf) and style signals.
    """
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    token_pattern=WORD_PATTERN, ngram_range=(1, 2), sublinear_tf=True, min_df=1
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
            ("style", StyleFeatures()),
        ]
    )
