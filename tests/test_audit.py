import json

import pytest
from conftest import MINI_LABELS

from classifier.model import load_model
from training.audit import audit, balance, near_duplicates, shortcuts
from training.dataset import load_dataset, read_records


def write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_near_duplicates_found_and_exact_copies_left_to_validation(tmp_path):
    path = write_rows(
        tmp_path / "f.jsonl",
        [
            {
                "id": "1",
                "text": "The council voted to close the old library on Monday night.",
                "label": "reporting",
            },
            {
                "id": "2",
                "text": "The council voted to close the old library on Tuesday night.",
                "label": "reporting",
            },
            {"id": "3", "text": "Nothing in common with the others at all.", "label": "opinion"},
            {"id": "4", "text": "nothing in common with the others at all.", "label": "opinion"},
        ],
    )
    pairs = near_duplicates(read_records(path))
    assert [(p.first, p.second) for p in pairs] == [(f"{path}:1", f"{path}:2")]
    assert 0.5 < pairs[0].similarity < 1


def test_audit_reports_every_error_and_exits_nonzero_through_cli(tmp_path):
    from click.testing import CliRunner

    from classifier.cli import cli

    path = write_rows(
        tmp_path / "f.jsonl",
        [
            {"id": "1", "text": "Same words here.", "label": "reporting"},
            {"id": "2", "text": "same words here.", "label": "opinion"},
            {"id": "3", "text": "Another row.", "label": "satire"},
        ],
    )
    result = audit([path], review=0)
    assert len(result.errors) == 2 and result.review == ()
    cli_result = CliRunner().invoke(
        cli, ["labels", "check", "--labels", str(path), "--review", "0"]
    )
    assert cli_result.exit_code == 1
    assert cli_result.stderr.startswith("Error: 2 errors in the labels; first: ")
    assert "2 errors" in cli_result.stdout


def test_balance_and_imbalance_warning(tmp_path):
    rows = [
        {
            "id": str(i),
            "text": f"row number {i} here",
            "label": "reporting" if i < 28 else "opinion",
            "topic": "sport",
            "register": "wire",
        }
        for i in range(32)
    ]
    path = write_rows(tmp_path / "f.jsonl", rows)
    assert balance(read_records(path))["topic"] == {
        "sport": {"reporting": 28, "opinion": 4, "disinformation": 0}
    }
    assert any("topic 'sport'" in w for w in audit([path], review=0).warnings)


def test_review_queue_ranks_a_planted_mislabel_first(tmp_path):
    rows = [json.loads(line) for line in MINI_LABELS.read_text().splitlines()]
    rows.append(
        {
            "id": "planted",
            "text": "Those councillors are vermin and traitors, someone should make them pay, wake up!!",
            "label": "reporting",
            "doc": "test-clinic",
        }
    )
    result = audit([write_rows(tmp_path / "f.jsonl", rows)], review=3)
    assert not result.errors
    assert len(result.review) == 3
    assert "planted" in [item.id for item in result.review]
    assert result.review[0].given_probability <= result.review[-1].given_probability


def test_shortcuts_flag_terms_from_one_topic(mini_model_dir):
    from collections import Counter

    from training.audit import CONCENTRATION

    dataset = load_dataset([MINI_LABELS])
    model = load_model(mini_model_dir)
    report = shortcuts(model, dataset, k=5)
    assert set(report) == {"reporting", "opinion", "disinformation"}
    flagged = 0
    for terms in report.values():
        assert len(terms) == 5
        for s in terms:
            rows = [r for r in dataset.records if s.term in model.featurizer.word_terms(r.text)]
            if not rows:  # a style signal: no rows of its own
                assert not s.flagged
                continue
            share = max(Counter(r.topic or r.doc for r in rows).values()) / len(rows)
            assert s.topic_share == pytest.approx(share, abs=1e-3), s.term
            assert s.flagged == (max(share, s.source_share) >= CONCENTRATION), s.term
            flagged += s.flagged
    assert flagged >= 1  # the mini set has a term found in one topic only ("unit on")


@pytest.mark.slow
@pytest.mark.parametrize("field", ["topic", "register"])
def test_bundled_labels_are_balanced_per_topic_and_register(field):
    table = balance(load_dataset().records)[field]
    assert len(table) >= (30 if field == "topic" else 24)
    for key, counts in table.items():
        if field == "topic":
            assert min(counts.values()) / sum(counts.values()) >= 0.3, key


@pytest.mark.slow
def test_bundled_labels_audit_is_clean():
    result = audit(review=5)
    assert result.errors == ()
    assert result.near_duplicates == ()
    assert result.rows >= 3000
    assert len(result.review) == 5


def test_word_trigrams_are_the_vectorizer_analysis_annotate_shares():
    from sklearn.feature_extraction.text import CountVectorizer

    from training.audit import WORD_PATTERN, jaccard, word_trigrams

    reference = CountVectorizer(token_pattern=WORD_PATTERN, ngram_range=(3, 3)).build_analyzer()
    texts = [r.text for r in read_records(MINI_LABELS)] + ["Don’t stop: it's A-OK, 3 x 4!", "a b"]
    assert all(word_trigrams(t) == reference(t) for t in texts)
    assert word_trigrams("a b") == [] and jaccard(set(), set()) == 0.0
    assert jaccard({"a b c", "b c d"}, {"b c d"}) == 0.5
