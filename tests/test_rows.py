import csv
import io
import json

from classifier.rows import RowWriter


def _csv_rows(records, **options):
    out = io.StringIO()
    RowWriter(out, "csv", **options).write(records)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_cells_a_spreadsheet_would_run_are_guarded_with_a_quote():
    records = [
        {"text": '=HYPERLINK("http://x")', "source": "@bob", "label": "opinion"},
        {"text": "-5 degrees", "source": "+44 site", "label": "reporting"},
        {"text": "plain", "source": "ok", "label": "opinion", "n": -3},
    ]
    rows = _csv_rows(records)
    assert [r["text"] for r in rows] == ['\'=HYPERLINK("http://x")', "'-5 degrees", "plain"]
    assert [r["source"] for r in rows] == ["'@bob", "'+44 site", "ok"]
    assert rows[2]["n"] == "-3"  # a number is not a formula


def test_the_guard_can_be_turned_off_and_never_touches_jsonl():
    records = [{"text": "=1+1", "label": "opinion"}]
    assert _csv_rows(records, formulas=True)[0]["text"] == "=1+1"
    out = io.StringIO()
    RowWriter(out, "jsonl").write(records)
    assert json.loads(out.getvalue())["text"] == "=1+1"
