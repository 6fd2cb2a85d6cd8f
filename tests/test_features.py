import pytest

from classifier.features import STYLE_FEATURES, StyleFeatures, build_featurizer, style_vector


def test_style_vector_names_and_range():
    for text in ["", "WAKE UP!!! THEY LIE???", "Officials said 40 people left, according to police."]:
        values = style_vector(text)
        assert len(values) == len(STYLE_FEATURES)
        assert all(0.0 <= v <= 1.0 for v in values)


def feature(text, name):
    return style_vector(text)[STYLE_FEATURES.index(name)]


@pytest.mark.parametrize(
    "name, high, low",
    [
        ("caps_words", "WAKE UP PEOPLE", "wake up people"),
        ("exclamation", "Stop it!!", "Stop it."),
        ("question", "Why now?", "Now."),
        ("first_person", "I think we lost", "They lost"),
        ("second_person", "You were warned", "They were warned"),
        ("hedge", "It may possibly rain", "It rains"),
        ("attribution", "the mayor said, according to police", "the mayor left"),
        ("digit", "40 people", "forty people"),
        ("link", "see www.example.com", "see the site"),
    ],
)
def test_each_signal_fires_on_its_cue(name, high, low):
    assert feature(high, name) > feature(low, name)


def test_featurizer_columns_are_named_by_kind():
    texts = ["The council met on Monday.", "What a farce this is!", "They hide the truth from you."]
    union = build_featurizer().fit(texts)
    names = union.get_feature_names_out()
    assert union.transform(texts).shape == (3, len(names))
    assert {n.split("__")[0] for n in names} == {"word", "char", "style"}
    assert "style__exclamation" in names and "word__council" in names


def test_style_features_are_stateless():
    assert StyleFeatures().fit(["a"]).transform(["Hi!"]).toarray().tolist() == [style_vector("Hi!")]
