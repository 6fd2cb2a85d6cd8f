"""render_page: the readable page report leaves nothing the structure step found unsaid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from classifier.model import load_model
from classifier.page import score_page
from classifier.page_render import render_page
from classifier.structure import parse_page

GOLDEN = Path(__file__).parent / "golden" / "pages"


@pytest.fixture(scope="module")
def mini(mini_model_dir):
    return load_model(mini_model_dir)


@pytest.mark.parametrize("name", ["wordpress_says.txt", "disqus.html", "thread_only.txt"])
def test_report_names_every_comment_and_every_skipped_block(mini, name):
    page = parse_page((GOLDEN / name).read_text(encoding="utf-8"))
    result = score_page(page, mini)
    report = render_page(result)
    lines = report.splitlines()
    assert lines[0].startswith(("Headline:", "Article:"))
    for c in result.comments:
        head = next(line for line in lines if line.startswith(f"[{c.comment.index + 1}] "))
        assert (c.comment.author or "(no author)") in head and str(c.label) in head
        if c.comment.parent is not None:
            assert f"reply to [{c.comment.parent + 1}]" in head
    for r in result.commenters():
        assert any(line.startswith(f"  {r['author']}: {r['comments']} comment") for line in lines)
    if page.other:
        assert f"Skipped, not scored ({len(page.other)}):" in lines
        skipped = lines[lines.index(f"Skipped, not scored ({len(page.other)}):") + 1 :]
        for b in page.other:
            assert any(line.startswith(f"  {b.reason}: ") for line in skipped)
    assert ("Read as HTML" in report) == (page.source_kind == "html")


def test_a_comment_without_text_says_so(mini):
    page = parse_page(
        "The ferry resumed on Monday, the operator said.\nAnn says:\n\nBo says:\nGood.\n"
    )
    report = render_page(score_page(page, mini))
    assert "[1] Ann: no text to score" in report


def test_plain_text_runtime_does_not_import_the_html_parser():
    code = (
        "import sys; from classifier.structure import parse_page; "
        "parse_page('Ann\\n3 hours ago\\nHello.\\nBo\\n2 hours ago\\nHi.'); "
        "print('selectolax' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
