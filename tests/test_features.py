import itertools
import re

import numpy as np
import pytest

from classifier.features import Featurizer
from classifier.hashindex import HashIndex
from classifier.ngrams import STYLE_FEATURES, style_features
from classifier.normalise import normalise
from training.features import PipelineFeaturizer

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
    assert PipelineFeaturizer().word_terms(text) == expected


def test_char_ngrams_match_scikit_learn_char_wb():
    from sklearn.feature_extraction.text import CountVectorizer

    # scikit-learn adds a short word's padded form once per n; with words of four letters or
    # more the two definitions agree, which pins ours down.
    texts = ["officials said people were evacuated", "wake they tell what water"]
    from classifier.ngrams import _KIND_CHAR, _P

    def our_hash(gram: str) -> int:
        """The rolling hash the featurizer gives a character n-gram, in plain Python."""
        h = 0
        for c in gram:
            h = (h * int(_P) + ord(c)) % 2**64
        return (h + len(gram) * int(_KIND_CHAR)) % 2**64

    analyse = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    ours = PipelineFeaturizer(word_ngrams=0, char_ngrams=(2, 5), char_min_df=1).fit(texts)
    expected = {our_hash(g) for text in texts for g in analyse(text)}
    assert set(ours.vocabulary_[0].tolist()) == expected  # the same n-grams, not just as many
    one = PipelineFeaturizer(word_ngrams=0, char_ngrams=(2, 5), char_min_df=1).fit(texts[:1])
    counts = one.transform(texts[:1]).toarray()[0][: len(one.vocabulary_[0])] > 0
    present = {h for h, seen in zip(one.vocabulary_[0].tolist(), counts) if seen}
    assert present == {our_hash(g) for g in analyse(texts[0])}


def test_transform_and_decision_agree():
    featurizer = PipelineFeaturizer().fit(TEXTS * 2)
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
    featurizer = PipelineFeaturizer(char_ngrams=None).fit(["alpha beta gamma", "beta delta"])
    row = featurizer.transform(["alpha beta"]).toarray()[0][: len(featurizer.vocabulary_[0])]
    assert np.linalg.norm(row) == pytest.approx(1.0)


def test_round_trip_through_arrays():
    featurizer = PipelineFeaturizer().fit(TEXTS)
    arrays, params = featurizer.to_arrays()
    again = Featurizer.from_arrays(arrays, params)
    coef = np.ones((3, featurizer.n_features))
    assert np.array_equal(
        featurizer.decision(TEXTS, coef, np.zeros(3)), again.decision(TEXTS, coef, np.zeros(3))
    )
    assert again.readable_names() == featurizer.readable_names()


def test_feature_names():
    names = PipelineFeaturizer().fit(TEXTS).get_feature_names_out()
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


def test_nul_character_in_text_is_scored_not_a_crash():
    # A NUL used to be read as the separator between texts: one NUL row shifted every row
    # after it and the arrays no longer matched. It now separates words like a space does.
    featurizer = PipelineFeaturizer().fit(TEXTS)
    coef = np.random.default_rng(2).normal(size=(3, featurizer.n_features))
    texts = ["said\x00officials", "\x00", "plain text", "a\x00\x00b\x00"]
    got = featurizer.decision(texts, coef, np.zeros(3))
    spaced = featurizer.decision([t.replace("\x00", " ") for t in texts], coef, np.zeros(3))
    assert got.shape == (4, 3) and np.array_equal(got, spaced)
    assert featurizer.word_terms("said\x00officials") == {"said", "officials", "said officials"}
    assert style_features(texts).shape == (4, len(STYLE_FEATURES))


def test_nul_never_merges_or_shifts_neighbouring_texts():
    featurizer = PipelineFeaturizer().fit(TEXTS)
    coef = np.random.default_rng(3).normal(size=(3, featurizer.n_features))
    alone = featurizer.decision(TEXTS, coef, np.zeros(3))
    mixed = featurizer.decision(["x\x00y", *TEXTS, "\x00"], coef, np.zeros(3))
    assert np.array_equal(mixed[1:-1], alone)


def test_lone_surrogates_are_scored_as_replacement_characters():
    # What a JSON "\ud800" or an undecodable argv byte (surrogateescape) becomes.
    featurizer = PipelineFeaturizer().fit(TEXTS)
    coef = np.random.default_rng(4).normal(size=(3, featurizer.n_features))
    texts = ["caf\udce9 said", "\ud800", "x\udfffy \ud83d\ude00"]
    # Two surrogates in a row are two code points of a Python string, not one character:
    # each is replaced, so the length and every offset stay as they were.
    replaced = ["caf\ufffd said", "\ufffd", "x\ufffdy \ufffd\ufffd"]
    assert np.array_equal(
        featurizer.decision(texts, coef, np.zeros(3)),
        featurizer.decision(replaced, coef, np.zeros(3)),
    )
    assert featurizer.word_terms("caf\udce9 said") == {"caf\ufffd", "said", "caf\ufffd said"}
    fitted = PipelineFeaturizer().fit(["lone \ud800 here", "and \udcff there"])
    arrays, params = fitted.to_arrays()  # word names are stored as UTF-8
    assert "\ufffd" in Featurizer.from_arrays(arrays, params).word_names_


# The character block scored by word (classifier.features.LinearScorer) against the n-gram
# definition (Featurizer.decision, which the pipeline's matrix is tested against above).
WORDY = [
    "Officials said 40 people were evacuated, police said; officials said so.",
    "don't DON'T don’t (don't) 'quoted' Russia's Russia’s",
    "a\x00b said\x00",  # a NUL inside a text is a blank
    "x \ud800 y",  # a lone surrogate (JSON can carry one)
    "ΑΣ σ Σ. İstanbul 北京 \U0001f600\U0001f600 𐐀𐐨",
    "",
    "   ",
    "www.example.com http://x.org",
]


def _scorers(featurizer, **options):
    from classifier.features import LinearScorer

    rng = np.random.default_rng(2)
    coef = rng.normal(size=(3, featurizer.n_features))
    intercept = rng.normal(size=3)
    return coef, intercept, LinearScorer(featurizer, coef, intercept, **options)


@pytest.mark.parametrize("ahead", [True, False])
def test_scoring_by_character_word_equals_the_ngram_definition(ahead):
    featurizer = PipelineFeaturizer().fit(TEXTS * 2 + WORDY[:2])
    coef, intercept, scorer = _scorers(featurizer)
    if ahead:  # the artefact's table: some words known ahead, the rest met at run time
        scorer.words = scorer.char_words_of(featurizer.frequent_words_)
    texts = TEXTS + WORDY + ["completely new words here", "zzz"]
    expected = featurizer.decision(texts, coef, intercept)
    assert np.abs(scorer.decision(texts) - expected).max() < 1e-12
    assert np.abs(scorer.decision(texts[::-1])[::-1] - expected).max() < 1e-12  # cached now
    for text, row in zip(texts, expected):  # and one text at a time
        assert np.abs(scorer.decision([text])[0] - row).max() < 1e-12


def test_the_word_cache_stays_within_its_capacity():
    featurizer = PipelineFeaturizer().fit(TEXTS)
    coef, intercept, scorer = _scorers(featurizer, cache_words=5)
    texts = [f"w{i} x{i} y{i % 3}" for i in range(40)] + WORDY
    expected = featurizer.decision(texts, coef, intercept)
    for start in range(0, len(texts), 7):
        part = texts[start : start + 7]
        assert np.abs(scorer.decision(part) - expected[start : start + 7]).max() < 1e-12
        assert scorer._cache.size <= 5
    assert np.abs(scorer.decision(texts) - expected).max() < 1e-12  # more words than room


def test_character_words_are_runs_of_non_blank_characters():
    from classifier.ngrams import Chunk, _lower, _replace_surrogates

    texts = [*WORDY, *TEXTS, "tab\there\u00a0nbsp\u3000ideographic\u2028line (paren) end."]
    chunk = Chunk(texts)
    rows, _, starts, ends = chunk.char_words
    low = chunk.low_text
    found = [[] for _ in texts]
    for row, start, end in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        found[row].append(low[start:end])
    # White space as str.isspace() says (re's \s for str patterns), and NUL; lower case as the
    # chunk's (a chunk with "İ" in it lower-cases character by character: no final sigma).
    # A lone surrogate counts as U+FFFD (the featurizer's entry policy), one for one.
    # Text is normalised first (classifier/normalise.py: curly apostrophes made straight...).
    expected = [re.findall(r"[^\s\x00]+", _lower(_replace_surrogates(normalise(t)))) for t in texts]
    assert found == expected
    assert found[1][:4] == ["don't", "don't", "don't", "(don't)"]


def test_a_nul_is_a_blank_and_texts_keep_their_rows():
    featurizer = PipelineFeaturizer().fit(TEXTS)
    *_, scorer = _scorers(featurizer)
    with_nul = scorer.decision(["a\x00b said", "the council", "x\x00"])
    with_space = scorer.decision(["a b said", "the council", "x "])
    assert np.allclose(with_nul, with_space, atol=1e-12)
    assert style_features(["a\x00b!", "ok"]).shape == (2, len(STYLE_FEATURES))


def test_big_chunks_lower_case_by_table_as_str_lower_does():
    from classifier.ngrams import _BIG_CHUNK, Chunk, _code_points

    rng = np.random.default_rng(3)
    letters = [c for c in range(0x10000) if not 0xD800 <= c < 0xE000 and c != 0x3A3]
    letters += [0x10400, 0x1F600]  # above the BMP: one by one
    shuffled = "".join(map(chr, rng.permutation(letters)))  # neighbours change: context-free?
    texts = [shuffled[i : i + 50] for i in range(0, len(shuffled), 50)] * 2
    chunk = Chunk(texts)
    assert len(chunk.cp) >= _BIG_CHUNK
    assert np.array_equal(chunk.low, _code_points(chunk.low_text).astype(np.uint64))
    # Capital sigma: the str.lower path (final sigma), in a chunk without "İ" (which would make
    # the chunk lower-case character by character).
    with_sigma = Chunk([*(t.replace("\u0130", "") for t in texts), "ΑΣ ΑΣΑ"])
    assert with_sigma.low_text.endswith(" ας ασα \x00")
    assert np.array_equal(with_sigma.low, _code_points(with_sigma.low_text).astype(np.uint64))


def test_what_the_character_tables_assume_of_unicode():
    """Only h, H, w, W and '.' lower-case to a link marker's first character, and no code
    point above the BMP has a lower case longer than one character."""
    starts = {c for c in range(0x110000) if chr(c).lower() in ("h", "w", ".")}
    assert starts == set(map(ord, "hHwW."))
    assert all(len(chr(c).lower()) == 1 for c in range(0x10000, 0x110000))
