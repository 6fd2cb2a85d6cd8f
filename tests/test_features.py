import itertools
import re

import numpy as np
import pytest

from classifier.features import STYLE_FEATURES, Featurizer, HashIndex, style_features
from classifier.normalise import normalise

TEXTS = [
    "Officials said 40 people were evacuated on Tuesday, according to police.",
    "WAKE UP!!! They don't tell you what’s in the water http://example.com",
    "I think this is a disgrace, don't you?",
    "",
    "Ünïcödé wörds and CJK 北京 text",
]


def feature(text, name):
    return style_features([text])[0, STYLE_FEATURES.index(name)]


@pytest.mark.parametrize(
    "name, high, low",
    [
        ("caps_words", "WAKE UP PEOPLE", "wake up people"),
        ("exclamation", "Stop it!!", "Stop it."),
        ("question", "Why now?", "Now."),
        ("quote", "he said “no”", "he said no"),
        ("digit", "40 people", "forty people"),
        ("link", "see www.example.com", "see the site"),
        ("length", "one two three four five six", "one"),
        ("first_person", "I think we lost", "They lost"),
        ("second_person", "You were warned", "They were warned"),
        ("hedge", "It may possibly rain", "It rains"),
        ("attribution", "the mayor said, according to police", "the mayor left"),
    ],
)
def test_each_signal_fires_on_its_cue(name, high, low):
    assert feature(high, name) > feature(low, name)


def test_style_values_are_in_range():
    values = style_features(TEXTS)
    assert values.shape == (len(TEXTS), len(STYLE_FEATURES))
    assert ((values >= 0) & (values <= 1)).all()


def test_word_terms_match_a_regex_tokenizer():
    text = "Russia’s war, according to officials: don't PANIC 2024"
    # The featurizer reads the normalised text, in which "’" is "'" (classifier.normalise).
    tokens = re.findall(r"\w+(?:['’]\w+)*", normalise(text).lower())
    expected = set(tokens) | {f"{a} {b}" for a, b in itertools.pairwise(tokens)}
    assert Featurizer().word_terms(text) == expected


def test_char_ngrams_match_scikit_learn_char_wb():
    from sklearn.feature_extraction.text import CountVectorizer

    # scikit-learn adds a short word's padded form once per n; with words of four letters or
    # more the two definitions agree, which pins ours down.
    texts = ["officials said people were evacuated", "wake they tell what water"]
    analyse = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    ours = Featurizer(word_ngrams=0, char_ngrams=(2, 5), char_min_df=1).fit(texts)
    assert len(ours.vocabulary_[0]) == len(set(analyse(texts[0])) | set(analyse(texts[1])))
    one = Featurizer(word_ngrams=0, char_ngrams=(2, 5), char_min_df=1).fit(texts[:1])
    assert one.transform(texts[:1])[:, : len(one.vocabulary_[0])].nnz == len(set(analyse(texts[0])))


def test_transform_and_decision_agree():
    featurizer = Featurizer().fit(TEXTS * 2)
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(3, featurizer.n_features))
    intercept = rng.normal(size=3)
    matrix = featurizer.transform(TEXTS)
    assert np.allclose(
        matrix @ coef.T + intercept, featurizer.decision(TEXTS, coef, intercept), atol=1e-12
    )
    unseen = ["completely new words here", "zzz"]
    assert np.allclose(
        featurizer.transform(unseen) @ coef.T + intercept,
        featurizer.decision(unseen, coef, intercept),
        atol=1e-12,
    )


def test_tfidf_rows_are_unit_length_per_block_when_ngrams_are_distinct():
    featurizer = Featurizer(char_ngrams=None).fit(["alpha beta gamma", "beta delta"])
    row = featurizer.transform(["alpha beta"]).toarray()[0][: len(featurizer.vocabulary_[0])]
    assert np.linalg.norm(row) == pytest.approx(1.0)


def test_round_trip_through_arrays():
    featurizer = Featurizer().fit(TEXTS)
    arrays, params = featurizer.to_arrays()
    again = Featurizer.from_arrays(arrays, params)
    coef = np.ones((3, featurizer.n_features))
    assert np.array_equal(
        featurizer.decision(TEXTS, coef, np.zeros(3)), again.decision(TEXTS, coef, np.zeros(3))
    )
    assert list(again.get_feature_names_out()) == list(featurizer.get_feature_names_out())


def test_feature_names():
    names = Featurizer().fit(TEXTS).get_feature_names_out()
    assert "word__officials said" in names and "style__exclamation" in names
    assert any(n.startswith("char__") for n in names)


def test_hash_index_finds_every_key_and_nothing_else():
    rng = np.random.default_rng(1)
    keys = np.unique(rng.integers(1, 2**63, size=5000, dtype=np.int64).astype(np.uint64))
    index = HashIndex(keys)
    assert np.array_equal(index.lookup(keys), np.arange(len(keys)))
    others = rng.integers(1, 2**63, size=5000, dtype=np.int64).astype(np.uint64)
    others = others[~np.isin(others, keys)]
    assert (index.lookup(others) == -1).all()
    assert np.array_equal(
        HashIndex.from_table(index.keys, index.values).lookup(keys), np.arange(len(keys))
    )
