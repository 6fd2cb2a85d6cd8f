"""The nltk-free Punkt gives exactly nltk's segments."""

import random
from pathlib import Path

import pytest
from conftest import SHARED, shared_texts

from classifier.segment import ABBREVIATIONS, SENTENCE_STARTERS, segment
from training.dataset import load_dataset

GOLDEN = sorted((Path(__file__).parent / "golden" / "segment").glob("*.txt"))


@pytest.fixture(scope="module")
def nltk_punkt():
    """nltk's ``PunktSentenceTokenizer`` with the segmenter's parameters: the reference."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    params.sent_starters = set(SENTENCE_STARTERS)
    return PunktSentenceTokenizer(params)


def assert_same(texts, nltk_punkt):
    for text in texts:
        assert segment(text) == segment(text, tokenizer=nltk_punkt), repr(text)


def test_golden_cases(nltk_punkt):
    assert_same([p.read_bytes().decode("utf-8") for p in GOLDEN], nltk_punkt)


def test_every_labelled_segment(nltk_punkt):
    assert_same(load_dataset().texts, nltk_punkt)


def test_generated_punctuation_torture(nltk_punkt):
    pieces = [
        "Mr.",
        "Dr.",
        "U.S.",
        "J.",
        "p.m.",
        "etc.",
        "No.",
        "3.",
        "1.5",
        "A.",
        "e.g.",
        "...",
        "..",
        "!",
        "?",
        "?!",
        "!!!",
        ".",
        ",",
        ";",
        ":",
        "--",
        "-",
        "(",
        ")",
        "[",
        "]",
        '"',
        "'",
        "“",
        "”",
        "‘",
        "’",
        "«",
        "»",
        "The",
        "the",
        "He",
        "he",
        "It",
        "word",
        "Word",
        "WORD",
        "x",
        "42",
        "2024.",
        "a-b.",
        "co-op.",
        "Inc.",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u3000",
    ]
    rng = random.Random(7)
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 20))) for _ in range(1000)]
    assert_same(texts, nltk_punkt)


SEEDS = SHARED / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this clone")
def test_seed_documents(nltk_punkt):
    assert_same([p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))], nltk_punkt)


def test_thousands_of_texts_from_other_corpora(nltk_punkt):
    texts = shared_texts(400, seed=0)
    assert len(texts) >= 3000
    assert_same(texts, nltk_punkt)


def test_segmenting_does_not_import_nltk():
    import subprocess
    import sys

    code = (
        "import sys; from classifier.segment import segment; "
        "segment('Mr. Smith left. He said so!'); print('nltk' in sys.modules)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
