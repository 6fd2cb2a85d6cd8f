"""training.features: fitting and transforming in chunks of texts equals one chunk."""

import numpy as np
import pytest

import training.features as tf
from training.features import PipelineFeaturizer, _merge_counts

# Chunks of 3 texts cut this list after "gamma delta" and after the NUL text, so words, word
# pairs and character n-grams recur across chunk borders; "kessington" occurs once in the
# first chunk and once in the second, so it clears char_min_df=2 only if the counts are merged.
TEXTS = [
    "Officials said 40 people were evacuated, according to police.",
    "Kessington county said nothing",
    "gamma delta",
    "THEY don't tell you!!! http://example.com",
    "kessington road, gamma delta epsilon",
    "nul\x00inside",
    "",
    "Ünïcödé wörds and CJK 北京 text said officials",
    "Officials said they don’t know",
    "according to police, gamma",
]


def _fit(texts, chunk_texts, monkeypatch, **params):
    monkeypatch.setattr(tf, "CHUNK_TEXTS", chunk_texts)
    featurizer = PipelineFeaturizer(**params).fit(texts)
    return featurizer, featurizer.transform(texts)


@pytest.mark.parametrize(
    "params", [{}, {"word_ngrams": 1}, {"char_ngrams": None}, {"word_ngrams": 0}]
)
def test_chunked_fit_and_transform_equal_one_chunk(monkeypatch, params):
    whole, whole_matrix = _fit(TEXTS, 10_000, monkeypatch, **params)
    for size in (1, 3, 4):
        chunked, matrix = _fit(TEXTS, size, monkeypatch, **params)
        assert len(chunked.vocabulary_) == len(whole.vocabulary_)
        for a, b in zip(chunked.vocabulary_, whole.vocabulary_):
            assert np.array_equal(a, b)
        for a, b in zip(chunked.idf_, whole.idf_):
            assert np.array_equal(a, b)  # bit for bit, not approximately
        assert chunked.word_names_ == whole.word_names_
        assert matrix.shape == whole_matrix.shape
        assert np.array_equal(matrix.indptr, whole_matrix.indptr)
        assert np.array_equal(matrix.indices, whole_matrix.indices)
        assert np.array_equal(matrix.data, whole_matrix.data)


def test_counts_merged_across_chunks_keep_a_char_gram_seen_once_per_chunk(monkeypatch):
    featurizer, _ = _fit(TEXTS, 3, monkeypatch, word_ngrams=0)
    # "kess" and "ngton" in no other text: seen by one text in each of two chunks.
    only_in_kessington = PipelineFeaturizer(word_ngrams=0, char_min_df=1).fit(["kessington"])
    kept = np.isin(only_in_kessington.vocabulary_[0], featurizer.vocabulary_[0])
    assert kept.any()


def test_word_names_come_from_every_chunk(monkeypatch):
    featurizer, _ = _fit(TEXTS, 2, monkeypatch)
    assert {"kessington", "gamma delta", "officials said", "don't", "北京"} <= set(
        featurizer.word_names_
    )
    assert "?" not in featurizer.word_names_


def test_transform_of_more_texts_than_a_chunk_keeps_row_order(monkeypatch):
    featurizer, _ = _fit(TEXTS, 10_000, monkeypatch)
    one_by_one = [featurizer.transform([t]).toarray() for t in TEXTS]
    monkeypatch.setattr(tf, "CHUNK_TEXTS", 4)
    assert np.array_equal(featurizer.transform(TEXTS).toarray(), np.vstack(one_by_one))
    assert featurizer.transform([]).shape == (0, featurizer.n_features)


def test_merge_counts_equals_counting_the_union():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 50, size=rng.integers(0, 40)).astype(np.uint64)
        b = rng.integers(0, 50, size=rng.integers(0, 40)).astype(np.uint64)
        ka, ca = np.unique(a, return_counts=True)
        kb, cb = np.unique(b, return_counts=True)
        keys, counts = _merge_counts(ka, ca, kb, cb)
        expected_keys, expected_counts = np.unique(np.concatenate((a, b)), return_counts=True)
        assert np.array_equal(keys, expected_keys) and keys.dtype == np.uint64
        assert np.array_equal(counts, expected_counts)
