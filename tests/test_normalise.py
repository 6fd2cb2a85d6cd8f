"""classifier.normalise: one spelling for exported text, and the featurizer reading it."""

import html
import random
import re

import numpy as np
import pytest

from classifier.normalise import normalise
from training.features import PipelineFeaturizer


@pytest.mark.parametrize(
    "exported, typed",
    [
        ("the film , which is long , is fine .", "the film, which is long, is fine."),
        ("Wait ... what ?", "Wait... what?"),
        ("i do n't know what it 's about", "i don't know what it's about"),
        ("They 're here and I 'm not", "They're here and I'm not"),
        ("dr . smith ( the vet ) arrived ;", "dr. smith (the vet) arrived;"),
        ("prices rose 5 % in May", "prices rose 5% in May"),
        ("see https : //t . co/AbC12 now", "see https://t.co/AbC12 now"),
        ("see https:// t.co/AbC12 now", "see https://t.co/AbC12 now"),
        ("go to www . example . com today", "go to www.example.com today"),
        ("awww . so cute", "awww. so cute"),  # not a host name: only the full stop moves
        ("R&amp;D costs &#39;rose&#39; &gt; 5", "R&D costs 'rose' > 5"),
        ("fish &amp ; chips", "fish & chips"),
        ("&#x201C;quoted&#x201D;", '"quoted"'),
        ("“Quote” and ‘single’ don’t", "\"Quote\" and 'single' don't"),
        ("``hello'' he said", '"hello" he said'),
    ],
)
def test_each_export_shape_is_undone(exported, typed):
    assert normalise(exported) == typed


@pytest.mark.parametrize(
    "text",
    [
        "Officials said 40 people were evacuated.",
        "AT&T and P&G reported results",  # no entity: an ampersand stays
        "WAKE UP!!! They don't tell you",
        "",
        "Ünïcödé wörds and CJK 北京 text",
    ],
)
def test_typed_text_is_left_alone(text):
    assert normalise(text) == text


def test_letters_digits_and_case_are_never_changed():
    # Entities aside (they stand for other characters), only spaces and quote marks change.
    rng = random.Random(3)
    alphabet = "aZ9 ,.;:!?()'\"/\u2019\u201c\u201d``x\tnhtps:w"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        out = normalise(text)
        assert re.sub(r"[^A-Za-z0-9]", "", out) == re.sub(r"[^A-Za-z0-9]", "", text)
        assert len(out) <= len(text)


def _export(text: str) -> str:
    """What a tokenising exporter makes of a text (the shapes normalise undoes)."""
    text = re.sub(r"(\w)(n't)\b", r"\1 \2", text)
    text = re.sub(r"(?<=\w)([,.;:!?])(?=\s|$)", r" \1", text)
    return html.escape(text.replace("'", "\u2019"), quote=False)


def test_a_chunk_is_normalised_as_its_texts_are():
    # The featurizer normalises a whole NUL-separated chunk in one call.
    rng = random.Random(5)
    alphabet = "ab ,.;:!?()'\"&#;/\u2019\u201c\u201d\x00n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(500)]
    texts = [t.replace("\x00", "") for t in texts]
    joined = "\x00".join(f" {t} " for t in texts) + "\x00"
    assert normalise(joined) == "\x00".join(f" {normalise(t)} " for t in texts) + "\x00"


def test_the_featurizer_scores_an_exported_text_as_the_typed_one():
    typed = [
        "Officials said 40 people were evacuated, according to police.",
        "I don't think this is fair, and it's not the council's money to waste.",
        "They don't want you to know what's in the water!",
        "The bridge, which opened in 1961, closes on Monday.",
    ]
    exported = [_export(t) for t in typed]
    assert exported != typed
    featurizer = PipelineFeaturizer(char_min_df=1).fit(typed * 2)
    coef = np.random.default_rng(0).normal(size=(3, featurizer.n_features))
    intercept = np.zeros(3)
    np.testing.assert_allclose(
        featurizer.decision(exported, coef, intercept), featurizer.decision(typed, coef, intercept)
    )


def test_segment_offsets_still_index_the_original_text(mini_model_dir):
    from classifier.model import load_model
    from classifier.score import score_text

    text = "Officials said 40 people were evacuated . R&amp;D costs &#39;rose&#39; today . Don’t panic !"
    result = score_text(text, load_model(mini_model_dir))
    assert result.segments
    for scored in result.segments:
        assert text[scored.segment.start : scored.segment.end] == scored.segment.text
