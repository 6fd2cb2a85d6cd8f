import numpy as np
import pytest

from classifier.explain import Explainer
from classifier.model import load_model

TEXTS = [
    "Officials said 40 people were evacuated on Tuesday, according to the fire department.",
    "This is a disgrace and the mayor should resign!",
    "WAKE UP, the floods were made by a weather weapon and the media is hiding it!",
    "the the the said said",  # repeated n-grams: pushes of one column add up
    "",
]


@pytest.fixture(scope="module")
def explainer(bundled_model_dir):
    return Explainer(load_model(bundled_model_dir))


def _one_text_at_a_time(explainer, text, k):
    """The plain definition: per column, weight in the text times its direction, summed."""
    featurizer = explainer.model.featurizer
    proba = explainer.model.predict_proba([text])
    direction = explainer.directions[int(proba.argmax())]
    blocks, style, offset = featurizer.occurrences([text])
    pushes = {}
    for (_, cols, norm, start), idf in zip(blocks, featurizer.idf_):
        for c in cols.tolist():
            pushes[start + c] = pushes.get(start + c, 0.0) + idf[c] / norm[0] * direction[start + c]
    for j, value in enumerate(style[0].tolist()):
        if value:
            pushes[offset + j] = value * direction[offset + j]
    named = [(explainer.names[c], w) for c, w in pushes.items() if w > 0 and explainer.names[c]]
    return sorted(named, key=lambda p: -p[1])[:k]


@pytest.mark.parametrize("k", [1, 5, 20])
def test_driving_terms_equal_the_plain_definition(explainer, k):
    proba = explainer.model.predict_proba(TEXTS)
    fast = explainer.driving_terms(TEXTS, proba, k=k)
    for text, terms in zip(TEXTS, fast):
        slow = _one_text_at_a_time(explainer, text, k)
        assert [t for t, _ in terms] == [t for t, _ in slow] or sorted(
            round(w, 4) for _, w in terms
        ) == sorted(round(w, 4) for _, w in slow)  # equal pushes may come in either order
        assert [w for _, w in terms] == pytest.approx([round(w, 4) for _, w in slow], abs=1e-4)


def test_character_ngrams_are_never_named(explainer):
    proba = explainer.model.predict_proba(TEXTS)
    for terms in explainer.driving_terms(TEXTS, proba, k=50):
        assert all(term for term, _ in terms)


def test_strongest_terms_push_towards_their_label(explainer):
    strongest = explainer.strongest_terms(5)
    directions = explainer.directions
    for i, (label, terms) in enumerate(strongest.items()):
        assert len(terms) == 5
        weights = [w for _, w in terms]
        assert weights == sorted(weights, reverse=True)
        assert weights[0] == pytest.approx(round(float(directions[i].max()), 4))
        assert label in ("reporting", "opinion", "disinformation")


def test_no_terms_asked_means_no_work(explainer):
    assert explainer.driving_terms(TEXTS, np.zeros((len(TEXTS), 3)), k=0) == [[]] * len(TEXTS)
