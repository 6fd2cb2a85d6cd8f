"""The HTTP API, through Starlette's TestClient, and the real ``credscore serve`` in a subprocess."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from classifier import server
from classifier.batch import score_rows
from classifier.cli import cli
from classifier.errors import ModelError
from classifier.inputs import Row
from classifier.model import load_model
from classifier.score import score_text
from classifier.server import BatchingScorer, Settings, create_app

LOCAL = ("127.0.0.1", 50123)
ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
# Written for these tests.
PARAGRAPH = (
    "Officials said on Tuesday that 40 people were evacuated from the riverside district. "
    "Honestly, this is a disgrace and the council should resign. "
    "Wake up, people: the floods were made by a secret weather weapon!"
)


@pytest.fixture(scope="module")
def model(mini_model_dir):
    return load_model(mini_model_dir)


@pytest.fixture
def client(model):
    """A client on this machine for an app with the given settings."""

    def make(settings=None, *, address=LOCAL, raise_server_exceptions=True):
        app = create_app(model, settings or Settings())
        return TestClient(app, client=address, raise_server_exceptions=raise_server_exceptions)

    return make


def error_of(response, code, status="INVALID_ARGUMENT", error_type="INVALID_REQUEST"):
    """The error object of a reply, checked against Google's shape."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and error["status"] == status and error["message"]
    if error_type is None:
        assert "details" not in error
    else:
        assert error["details"][0]["errorType"] == error_type
    assert "Traceback" not in response.text
    return error


def analyze(c, text=PARAGRAPH, attributes=None, **more):
    body = {
        "comment": {"text": text},
        "requestedAttributes": attributes or {"DISINFORMATION": {}},
        **more,
    }
    return c.post(ANALYZE, json=body)


# -- the page, health, the model --------------------------------------------------------------


def test_page_and_assets_are_served_with_a_strict_policy(client):
    c = client()
    page = c.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert c.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert c.get("/static/app.css").headers["content-type"].startswith("text/css")


def test_page_script_never_parses_text_as_html():
    script = (Path(server.__file__).parent / "static" / "app.js").read_text(encoding="utf-8")
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "srcdoc",
    ):
        assert sink not in script, sink
    assert "textContent" in script


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/%2e%2e/server.py",
        "/static/index.html",
        "/classifier/server.py",
        "/static/",
    ],
)
def test_no_request_reaches_a_file_of_its_choosing(client, path):
    error_of(client().get(path), 404, "NOT_FOUND", None)


def test_healthz_needs_no_key(client):
    c = client(Settings(api_keys=("k",)), address=("203.0.113.9", 4000))
    reply = c.get("/healthz")
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


def test_model_summary(client, model):
    data = client(Settings(thresholds={"hold": 0.9})).get("/v1/model").json()
    assert data["model"] == model.info()
    assert data["labels"] == ["reporting", "opinion", "disinformation"]
    assert data["operating_points"]["hold"]["threshold"] == 0.9
    assert data["operating_points"]["hold"]["label"] == "disinformation"
    assert "review" not in data["operating_points"]
    assert data["attributes"] == [
        "REPORTING",
        "OPINION",
        "DISINFORMATION",
        "DISINFORMATION_HOLD",
        "DISINFORMATION_REVIEW",
    ]
    assert data["limits"]["comment_bytes"] == 20480 and data["feedback"] is False


# -- native API ------------------------------------------------------------------------------


def test_score_is_byte_for_byte_what_the_cli_prints(client, mini_model_dir):
    reply = client().post("/v1/score", json={"text": PARAGRAPH, "segments": True})
    printed = CliRunner().invoke(
        cli, ["score", "--json", "--model", str(mini_model_dir), PARAGRAPH]
    )
    assert printed.exit_code == 0
    assert reply.status_code == 200 and reply.text == printed.stdout
    data = reply.json()
    assert [s["text"] for s in data["segments"]] == [
        PARAGRAPH[s["start"] : s["end"]] for s in data["segments"]
    ]


def test_score_options(client):
    c = client()
    short = c.post("/v1/score", json={"text": PARAGRAPH, "segments": False}).json()
    assert set(short) == {"model", "summary"} and short["summary"]["segments"] == 3
    bare = c.post("/v1/score", json={"text": PARAGRAPH, "terms": 0}).json()
    assert all(s["terms"] == [] for s in bare["segments"])
    error_of(c.post("/v1/score", json={"text": "  "}), 400, error_type="COMMENT_EMPTY")
    assert "'text' is required" in error_of(c.post("/v1/score", json={"txt": "x"}), 400)["message"]
    error_of(c.post("/v1/score", json={"text": 3}), 400)
    error_of(c.post("/v1/score", json={"text": "x", "terms": 99}), 400)
    error_of(c.post("/v1/score", json={"text": "x", "segments": "yes"}), 400)
    error_of(client(Settings(max_text_bytes=10)).post("/v1/score", json={"text": "é" * 6}), 413)


def rows_of(items):
    return [Row({"text": t}, t, None, f"texts[{n}]") for n, t in enumerate(items)]


def test_label_records_are_what_credscore_label_writes(client, model, mini_model_dir, tmp_path):
    items = [
        {"id": 1, "text": "The council met on Monday.", "source": "a"},
        {"id": 2, "text": "", "source": "a"},
        {"id": 3, "source": "b"},
        {"id": 4, "text": "They are lying to you!!", "source": "b", "label": "mine"},
    ]
    reply = client().post("/v1/label", json={"texts": items})
    assert reply.status_code == 200
    data = reply.json()
    assert data["report"] == {"read": 4, "labelled": 2, "errors": 2}
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    labelled = CliRunner().invoke(
        cli, ["label", str(path), "-o", str(out), "--model", str(mini_model_dir)]
    )
    assert labelled.exit_code == 3  # finished, with error rows
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for mine, theirs in zip(data["records"], written, strict=True):
        if "error" in theirs:  # the same problem, named by request position instead of file:line
            assert mine["error"].split(": ", 1)[1] == theirs["error"].split(": ", 1)[1]
            assert {k: v for k, v in mine.items() if k != "error"} == {
                k: v for k, v in theirs.items() if k != "error"
            }
        else:
            assert mine == theirs
    assert data["records"][3]["input_label"] == "mine"  # a clashing field kept, as label does
    assert data["records"][1]["error"] == "texts[1]: empty text"
    assert data["records"][2]["error"] == "texts[2]: missing column 'text'"


def test_label_plain_texts_segments_and_limits(client, model):
    c = client(Settings(max_batch=3, max_text_bytes=100))
    texts = ["The council met on Monday.", "They are lying to you!! Wake up."]
    data = c.post("/v1/label", json={"texts": texts, "segments": True}).json()
    assert data["records"] == score_rows(model, rows_of(texts), segments=True)
    assert len(data["records"][1]["segments"]) == 2
    error_of(c.post("/v1/label", json={"texts": ["a"] * 4}), 413)
    long = c.post("/v1/label", json={"texts": ["x" * 101, "short one"]}).json()["records"]
    assert long[0]["error"] == "texts[0]: text longer than 100 bytes" and "label" in long[1]
    assert (
        "'texts' is required" in error_of(c.post("/v1/label", json={"text": "x"}), 400)["message"]
    )
    source = c.post(
        "/v1/label",
        json={
            "texts": [{"body": "Hello there.", "who": "z"}],
            "text_column": "body",
            "source_column": "who",
        },
    )
    assert source.json()["records"][0]["label"]


def test_label_jsonl_body_gives_jsonl_lines(client, mini_model_dir, tmp_path):
    body = '{"text": "The council met on Monday.", "id": "a"}\n\nnot json\n[1]\n{"text": "They are lying!!"}\n'
    reply = client().post(
        "/v1/label", content=body.encode(), headers={"content-type": "application/x-ndjson"}
    )
    assert reply.status_code == 200 and reply.headers["content-type"].startswith(
        "application/x-ndjson"
    )
    assert reply.headers["x-credscore-report"] == "4 rows read, 2 labelled, 2 errors"
    path = tmp_path / "in.jsonl"
    path.write_text(body, encoding="utf-8")
    out = CliRunner().invoke(cli, ["label", str(path), "--model", str(mini_model_dir)])
    mine, theirs = reply.text.splitlines(), out.stdout.splitlines()
    assert len(mine) == len(theirs) == 4
    assert mine[0] == theirs[0] and mine[3] == theirs[3]
    assert json.loads(mine[1])["error"].startswith("request:3: not valid JSON")
    assert json.loads(mine[2])["error"] == "request:4: not a JSON object"
    over = client(Settings(max_batch=1)).post(
        "/v1/label",
        content=b'{"text": "a"}\n{"text": "b"}\n',
        headers={"content-type": "application/jsonl"},
    )
    error_of(over, 413)


def test_summary_of_labelled_records(client):
    c = client()
    texts = [
        {"text": "The council met on Monday.", "source": "a"},
        {"text": "They are lying to you!! Wake up!", "source": "b"},
        {"text": "", "source": "b"},
        {"text": "The mayor said the bridge will reopen."},
    ]
    records = c.post("/v1/label", json={"texts": texts}).json()["records"]
    sources = c.post("/v1/summary", json={"records": records}).json()["sources"]
    by_source = {s["source"]: s for s in sources}
    assert set(by_source) == {"a", "b", "(no source)"}
    assert by_source["b"]["rows"] == 2 and by_source["b"]["errors"] == 1
    assert sum(s["labelled"] for s in sources) == 3
    error_of(c.post("/v1/summary", json={"records": [{"label": "bogus", "scores": {}}]}), 400)
    error_of(c.post("/v1/summary", json={}), 400)


# -- Perspective: analyze ----------------------------------------------------------------------


def test_analyze_reply_shape_and_values(client, model):
    c = client()
    reply = analyze(
        c,
        attributes={"DISINFORMATION": {}, "OPINION": {"scoreType": "PROBABILITY"}, "REPORTING": {}},
        clientToken="tok-1",
    )
    assert reply.status_code == 200
    data = reply.json()
    expected = score_text(PARAGRAPH, model).scores
    assert set(data["attributeScores"]) == {"DISINFORMATION", "OPINION", "REPORTING"}
    for name, scores in data["attributeScores"].items():
        assert scores["summaryScore"] == {
            "value": round(expected[name.lower()], 6),
            "type": "PROBABILITY",
        }
        # Without spanAnnotations one span covers the comment, as Perspective answers.
        assert scores["spanScores"] == [
            {"begin": 0, "end": len(PARAGRAPH), "score": scores["summaryScore"]}
        ]
    assert data["languages"] == ["en"] and data["detectedLanguages"] == ["en"]
    assert data["clientToken"] == "tok-1"
    assert "clientToken" not in analyze(c).json()


def test_analyze_accepts_every_documented_field(client):
    reply = analyze(
        client(),
        languages=["en"],
        doNotStore=True,
        clientToken="t",
        sessionId="s",
        communityId="c",
        context={"entries": [{"text": "The article.", "type": "PLAIN_TEXT"}]},
        spanAnnotations=False,
    )
    assert reply.status_code == 200 and reply.json()["clientToken"] == "t"


def test_span_offsets_count_utf16_units_with_emoji_and_accents(client, model):
    text = (
        "Café owners in Zürich said 😀 40 people left. 🇫🇷 Wake up, the floods were made by a weapon! "
        "Ünïcödé is fine."
    )
    data = analyze(client(), text, {"DISINFORMATION": {}}, spanAnnotations=True).json()
    spans = data["attributeScores"]["DISINFORMATION"]["spanScores"]
    segments = score_text(text, model).segments
    assert len(spans) == len(segments) == 3
    units = text.encode("utf-16-le")
    for span, seg in zip(spans, segments):
        assert units[2 * span["begin"] : 2 * span["end"]].decode("utf-16-le") == seg.segment.text
        assert span["score"]["value"] == round(seg.scores["disinformation"], 6)
    assert spans[1]["begin"] > segments[1].segment.start  # the emoji before it counted twice
    whole = analyze(client(), text).json()["attributeScores"]["DISINFORMATION"]["spanScores"]
    assert whole[0]["end"] == len(units) // 2


def test_score_threshold_leaves_out_scores_at_or_below_it(client):
    c = client()
    value = analyze(c).json()["attributeScores"]["DISINFORMATION"]["summaryScore"]["value"]
    for threshold, kept in [
        (value, False),
        (min(1.0, value + 0.01), False),
        (max(0.0, value - 0.001), True),
        (0, True),
    ]:
        data = analyze(
            c, attributes={"DISINFORMATION": {"scoreThreshold": threshold}, "OPINION": {}}
        ).json()
        assert ("DISINFORMATION" in data["attributeScores"]) is kept, threshold
        assert "OPINION" in data["attributeScores"]


def test_decision_attributes_follow_the_operating_points(client, model):
    segments = score_text(PARAGRAPH, model).segments
    top = max(s.scores["disinformation"] for s in segments)
    names = {"DISINFORMATION_HOLD": {}, "DISINFORMATION_REVIEW": {}}

    def values(settings):
        data = analyze(client(settings), attributes=names, spanAnnotations=True).json()
        scores = data["attributeScores"]
        return {k: v["summaryScore"]["value"] for k, v in scores.items()}, scores

    assert values(Settings())[0] == {"DISINFORMATION_HOLD": 0.0, "DISINFORMATION_REVIEW": 0.0}
    # One held segment holds the comment (the strictest of its segments' decisions).
    held, _ = values(Settings(thresholds={"hold": top - 1e-9}))
    assert held == {"DISINFORMATION_HOLD": 1.0, "DISINFORMATION_REVIEW": 1.0}
    review, scores = values(
        Settings(thresholds={"hold": min(1.0, top + 1e-6), "review": top - 1e-9})
    )
    assert review == {"DISINFORMATION_HOLD": 0.0, "DISINFORMATION_REVIEW": 1.0}
    spans = [s["score"]["value"] for s in scores["DISINFORMATION_REVIEW"]["spanScores"]]
    assert spans == [1.0 if s.scores["disinformation"] >= top - 1e-9 else 0.0 for s in segments]
    assert spans.count(1.0) == 1
    # A scoreThreshold on a decision attribute: left out unless the decision fires.
    hidden = analyze(
        client(Settings()), attributes={"DISINFORMATION_HOLD": {"scoreThreshold": 0.5}}
    ).json()
    assert hidden["attributeScores"] == {}


@pytest.mark.parametrize(
    "body, error_type, message",
    [
        (
            {"comment": {"text": ""}, "requestedAttributes": {"OPINION": {}}},
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ),
        ({"requestedAttributes": {"OPINION": {}}}, "COMMENT_EMPTY", "Comment must be non-empty."),
        (
            {
                "comment": {"text": "<p> </p>", "type": "HTML"},
                "requestedAttributes": {"OPINION": {}},
            },
            "COMMENT_EMPTY",
            "non-empty",
        ),
        (
            {"comment": {"text": "a" * 20481}, "requestedAttributes": {"OPINION": {}}},
            "COMMENT_TOO_LONG",
            "Comment text too long.",
        ),
        (
            {"comment": {"text": "x"}, "requestedAttributes": {}},
            "NO_REQUESTED_ATTRIBUTES",
            "Missing requested_attributes",
        ),
        (
            {"comment": {"text": "x"}, "requestedAttributes": {"TOXICITY": {}}},
            "INVALID_REQUEST",
            "Unknown requested attribute: TOXICITY",
        ),
        (
            {"comment": {"text": "x"}, "requestedAttributes": {"OPINION": {"scoreType": "RAW"}}},
            "INVALID_REQUEST",
            "score type RAW",
        ),
        (
            {"comment": {"text": 1}, "requestedAttributes": {"OPINION": {}}},
            "INVALID_REQUEST",
            "comment.text",
        ),
    ],
)
def test_analyze_errors(client, body, error_type, message):
    error = error_of(client().post(ANALYZE, json=body), 400, error_type=error_type)
    assert message in error["message"]
    assert (
        error["details"][0]["@type"] == "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
    )


def test_html_comments_are_scored_as_their_text(client):
    c = client()
    html = "<p>Officials <b>said</b> 40 people were evacuated.</p><script>steal()</script><p>Wake up!</p>"
    plain = "Officials said 40 people were evacuated.\nWake up!"
    scored = analyze(c, plain, spanAnnotations=True).json()
    as_html = c.post(
        ANALYZE,
        json={
            "comment": {"text": html, "type": "HTML"},
            "requestedAttributes": {"DISINFORMATION": {}},
            "spanAnnotations": True,
        },
    )
    assert as_html.json() == scored


GERMAN = "Die Regierung hat gestern beschlossen, dass die Steuern im nächsten Jahr steigen werden."


def test_languages(client):
    c = client()
    error = error_of(
        analyze(c, languages=["de"]), 400, error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    )
    assert error["message"] == "Attribute DISINFORMATION does not support request languages: de"
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {
        "detectedLanguages": ["en"],
        "requestedLanguages": ["de"],
        "attribute": "DISINFORMATION",
    }
    error_of(
        analyze(c, languages=["en", "fr"]), 400, error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    )
    assert analyze(c, languages=["en-US"]).json()["languages"] == ["en-US"]
    # Not English by the look of it: said so ("und"), not guessed.
    undetermined = error_of(
        analyze(c, GERMAN), 400, error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    )
    assert undetermined["message"].endswith("request languages: und")
    dropped = analyze(c, GERMAN, dropUnsupportedAttributes=True).json()
    assert dropped == {"attributeScores": {}, "languages": ["und"], "detectedLanguages": ["und"]}
    insisted = analyze(c, GERMAN, languages=["en"]).json()  # the client says English: scored
    assert (
        insisted["detectedLanguages"] == ["und"] and "DISINFORMATION" in insisted["attributeScores"]
    )


# -- bodies that are not what they should be ----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"{bad",
        b"",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe{}",
        b'{"comment": {"text": "\\ud800"}, "requestedAttributes": {"OPINION": {}}}',
        b"[" * 5000,
    ],
)
@pytest.mark.parametrize(
    "path", [ANALYZE, SUGGEST, "/v1/score", "/v1/label", "/v1/summary", "/v1/feedback"]
)
def test_malformed_bodies_get_a_400_never_a_500(client, tmp_path, path, content):
    c = client(Settings(feedback=tmp_path / "f.jsonl"), raise_server_exceptions=False)
    error_of(c.post(path, content=content, headers={"content-type": "application/json"}), 400)


def test_body_is_capped_before_parsing(client):
    c = client(Settings(max_body_bytes=1000))
    big = {"comment": {"text": "a" * 2000}, "requestedAttributes": {"OPINION": {}}}
    assert "larger than 1000 bytes" in error_of(c.post(ANALYZE, json=big), 413)["message"]
    sent = []

    def chunks():  # no Content-Length: the cap is found while reading, chunk by chunk
        for _ in range(100):
            sent.append(1)
            yield b" " * 100

    error_of(c.post(ANALYZE, content=chunks()), 413)
    assert analyze(c, "A short comment.").status_code == 200


def test_wrong_paths_and_methods(client):
    c = client()
    error_of(c.get("/v1alpha1/comments:analyse"), 404, "NOT_FOUND", None)
    wrong = c.get(ANALYZE)
    error_of(wrong, 405, "UNIMPLEMENTED", None)
    assert wrong.headers["allow"] == "POST"


def test_a_bug_is_a_500_without_details_or_traceback(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(server, "score_text", broken)
    reply = client(raise_server_exceptions=False).post("/v1/score", json={"text": "x"})
    error = error_of(reply, 500, "INTERNAL", None)
    assert "secret" not in reply.text and "ZeroDivisionError" not in reply.text
    assert error["message"] == "Internal error; see the server log."


# -- keys ------------------------------------------------------------------------------------


def test_keys_by_query_or_bearer_header(client):
    c = client(Settings(api_keys=("first-key", "second-key")), address=("203.0.113.7", 4000))
    assert (
        c.post(
            f"{ANALYZE}?key=second-key",
            json={"comment": {"text": "Hello there."}, "requestedAttributes": {"OPINION": {}}},
        ).status_code
        == 200
    )
    assert c.get("/v1/model", headers={"Authorization": "Bearer first-key"}).status_code == 200
    missing = error_of(c.get("/v1/model"), 403, "PERMISSION_DENIED", None)
    assert missing["message"] == "The request is missing a valid API key."
    for wrong in ("?key=first", "?key=first-key-", "?key="):
        error_of(c.get("/v1/model" + wrong), 403, "PERMISSION_DENIED", None)
    error_of(
        c.get("/v1/model", headers={"Authorization": "Basic first-key"}),
        403,
        "PERMISSION_DENIED",
        None,
    )
    for path in ("/v1/score", "/v1/label", "/v1/summary", "/v1/feedback", SUGGEST, ANALYZE):
        error_of(c.post(path, json={}), 403, "PERMISSION_DENIED", None)  # the key is checked first


@pytest.mark.parametrize(
    "address, headers, allowed",
    [
        (("127.0.0.1", 1), {}, True),
        (("127.0.0.53", 1), {}, True),
        (("::1", 1), {}, True),
        (("::ffff:127.0.0.1", 1), {}, True),
        (("::ffff:203.0.113.7", 1), {}, False),
        (("203.0.113.7", 1), {}, False),
        (("192.168.1.20", 1), {}, False),
        (("testclient", 1), {}, False),
        (("127.0.0.1", 1), {"X-Forwarded-For": "203.0.113.7"}, False),
        (("127.0.0.1", 1), {"Forwarded": "for=203.0.113.7"}, False),
    ],
)
def test_without_keys_only_this_machine_may_call(client, address, headers, allowed):
    reply = client(address=address).get("/v1/model", headers=headers)
    if allowed:
        assert reply.status_code == 200
    else:
        assert "--api-keys" in error_of(reply, 403, "PERMISSION_DENIED", None)["message"]


# -- Perspective: suggestscore and the page's feedback -----------------------------------------


def feedback_lines(path):
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        if path.exists()
        else []
    )


def test_suggestscore_appends_the_verdict(client, tmp_path):
    path = tmp_path / "feedback.jsonl"
    c = client(Settings(feedback=path))
    text = "They are poisoning the water supply and the press is paid to hide it!"
    reply = c.post(
        SUGGEST,
        json={
            "comment": {"text": text},
            "attributeScores": {"DISINFORMATION": {"summaryScore": {"value": 1}}},
            "clientToken": "comment:42",
            "communityId": "Coral:https://news.example",
            "sessionId": "s-1",
            "languages": ["en"],
            "context": {"entries": [{"text": '{"url": "https://news.example/a"}'}]},
        },
    )
    assert reply.status_code == 200
    assert reply.json() == {
        "detectedLanguages": ["en"],
        "requestedLanguages": ["en"],
        "clientToken": "comment:42",
    }
    (row,) = feedback_lines(path)
    assert row["text"] == text and row["label"] == "disinformation" and row["origin"] == "feedback"
    assert row["clientToken"] == "comment:42" and row["communityId"] == "Coral:https://news.example"
    assert (
        row["attributes"] == {"DISINFORMATION": 1.0}
        and row["via"] == "suggestscore"
        and row["time"]
    )


def test_suggestions_that_cannot_train_are_kept_aside(client, tmp_path):
    path = tmp_path / "feedback.jsonl"
    c = client(Settings(feedback=path))
    text = "A perfectly calm comment about the ferry timetable."
    private = c.post(
        SUGGEST,
        json={
            "comment": {"text": text},
            "attributeScores": {"DISINFORMATION": {"summaryScore": {"value": 1}}},
            "doNotStore": True,
            "clientToken": "p",
        },
    )
    coral = c.post(
        SUGGEST,
        json={
            "comment": {"text": text},
            "attributeScores": {"APPROVED": {"summaryScore": {"value": 1}}},
            "clientToken": "comment:7",
            "communityId": "Coral:x",
            "languages": ["en"],
        },
    )
    german = c.post(
        SUGGEST,
        json={
            "comment": {"text": GERMAN},
            "attributeScores": {"OPINION": {"summaryScore": {"value": 1}}},
        },
    )
    assert private.status_code == coral.status_code == german.status_code == 200
    assert german.json()["detectedLanguages"] == ["und"]
    assert feedback_lines(path) == []
    aside = feedback_lines(tmp_path / "feedback.verdicts.ndjson")
    assert [r.get("text") for r in aside] == [None, text, GERMAN]
    assert aside[0]["clientToken"] == "p" and text not in json.dumps(aside[0])
    assert aside[1]["attributes"] == {"APPROVED": 1.0} and aside[1]["label"] is None
    error_of(
        c.post(
            SUGGEST,
            json={
                "comment": {"text": text},
                "attributeScores": {"OPINION": {"summaryScore": {"value": 1}}},
                "languages": ["fr"],
            },
        ),
        400,
        error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    error_of(
        c.post(
            SUGGEST,
            json={
                "comment": {"text": text},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
            },
        ),
        400,
    )
    error_of(c.post(SUGGEST, json={"comment": {"text": text}, "attributeScores": {}}), 400)


def test_without_a_feedback_file_verdicts_are_refused(client):
    c = client()
    body = {
        "comment": {"text": "x"},
        "attributeScores": {"OPINION": {"summaryScore": {"value": 1}}},
    }
    error = error_of(c.post(SUGGEST, json=body), 400, "FAILED_PRECONDITION", None)
    assert "--feedback" in error["message"]
    error_of(
        c.post("/v1/feedback", json={"text": "x", "label": "opinion"}),
        400,
        "FAILED_PRECONDITION",
        None,
    )


def test_page_feedback(client, tmp_path):
    path = tmp_path / "feedback.jsonl"
    c = client(Settings(feedback=path))
    ok = c.post(
        "/v1/feedback",
        json={
            "text": "The mayor said the bridge reopens Friday.",
            "label": "reporting",
            "source": "site-a",
            "decision": "review",
        },
    )
    assert ok.status_code == 200 and ok.json() == {"trainable": True}
    (row,) = feedback_lines(path)
    assert (row["label"], row["source"], row["decision"], row["via"]) == (
        "reporting",
        "site-a",
        "review",
        "page",
    )
    error_of(c.post("/v1/feedback", json={"text": "x", "label": "toxic"}), 400)
    error_of(
        c.post("/v1/feedback", json={"text": "", "label": "opinion"}),
        400,
        error_type="COMMENT_EMPTY",
    )
    # A request cannot choose where the verdict goes.
    c.post(
        "/v1/feedback",
        json={
            "text": "Another one.",
            "label": "opinion",
            "path": str(tmp_path / "x.jsonl"),
            "file": "/etc/passwd",
        },
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback.jsonl"]


def test_concurrent_suggestions_never_interleave(model, tmp_path):
    path = tmp_path / "feedback.jsonl"
    app = create_app(model, Settings(feedback=path))
    per_thread, threads, failures = 15, [], []

    def send(n):
        with TestClient(app, client=LOCAL) as c:
            for i in range(per_thread):
                text = f"Thread {n} says {i}: they are hiding the truth from all of us. " * 40
                reply = c.post(
                    SUGGEST,
                    json={
                        "comment": {"text": text},
                        "attributeScores": {"DISINFORMATION": {"summaryScore": {"value": 1}}},
                        "clientToken": f"{n}-{i}",
                    },
                )
                if reply.status_code != 200:
                    failures.append(reply.text)

    for n in range(6):
        threads.append(threading.Thread(target=send, args=(n,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    rows = feedback_lines(path)
    assert sorted(r["clientToken"] for r in rows) == sorted(
        f"{n}-{i}" for n in range(6) for i in range(per_thread)
    )
    assert all(r["text"].startswith(f"Thread {r['clientToken'].split('-')[0]} says") for r in rows)


# -- batching ------------------------------------------------------------------------------------


def test_batching_scorer_gives_each_caller_its_own_scores(model):
    batched = BatchingScorer(model.scorer)
    texts = [
        f"Comment number {n}: the council {'lied' if n % 2 else 'met'} on Monday!"
        for n in range(40)
    ]
    expected = model.scorer.proba(texts)
    results = {}

    def call(n):
        results[n] = batched.proba([texts[n], texts[(n + 1) % 40]])

    threads = [threading.Thread(target=call, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(40):
        np.testing.assert_allclose(results[n], expected[[n, (n + 1) % 40]], rtol=0, atol=1e-12)
    assert batched.featurizer is model.scorer.featurizer


def test_batching_scorer_passes_errors_to_every_caller(model):
    class Broken:
        def proba(self, texts):
            time.sleep(0.05)
            raise ValueError("broken scorer")

    batched = BatchingScorer(Broken())
    errors = []

    def call():
        try:
            batched.proba(["x"])
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == ["broken scorer"] * 5


# -- configuration, the CLI and a real server -------------------------------------------------


def test_settings_from_the_environment(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("# ours\nalpha\n\n  beta  \n", encoding="utf-8")
    settings = server.settings_from_env(
        {
            "CREDSCORE_API_KEYS_FILE": str(keys),
            "CREDSCORE_API_KEYS": "ignored",
            "CREDSCORE_FEEDBACK": str(tmp_path / "f.jsonl"),
            "CREDSCORE_THRESHOLDS": "hold=0.9,review=0.5",
        }
    )
    assert settings.api_keys == ("alpha", "beta") and settings.thresholds == {
        "hold": 0.9,
        "review": 0.5,
    }
    assert "alpha" not in repr(settings)
    assert server.settings_from_env({"CREDSCORE_API_KEYS": "a, b c"}).api_keys == ("a", "b", "c")
    assert server.settings_from_env({}) == Settings()
    (tmp_path / "empty.txt").write_text("# none\n", encoding="utf-8")
    with pytest.raises(Exception, match="holds no API key"):
        server.read_keys(tmp_path / "empty.txt")


def test_app_from_the_environment(monkeypatch, mini_model_dir):
    monkeypatch.delenv("CREDSCORE_MODEL", raising=False)
    with pytest.raises(ModelError, match="set CREDSCORE_MODEL"):
        server.create_app_from_env()
    monkeypatch.setenv("CREDSCORE_MODEL", str(mini_model_dir))
    app = server.create_app_from_env()
    assert TestClient(app, client=LOCAL).get("/healthz").status_code == 200


def test_importing_the_server_loads_nothing():
    code = (
        "import classifier.model as m\n"
        "def boom(*a): raise SystemExit('a model was loaded at import')\n"
        "m.load_model = boom\n"
        "import classifier.server\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CREDSCORE_MODEL"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lazy = subprocess.run(
        [sys.executable, "-c", "import classifier.server as s; s.app"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert lazy.returncode != 0 and "set CREDSCORE_MODEL" in lazy.stderr  # built on first use


def test_serve_command_builds_settings_and_runs_the_server(monkeypatch, mini_model_dir, tmp_path):
    calls = []
    monkeypatch.setattr(server, "run", lambda **kwargs: calls.append(kwargs))
    for name in (
        "CREDSCORE_API_KEYS",
        "CREDSCORE_API_KEYS_FILE",
        "CREDSCORE_FEEDBACK",
        "CREDSCORE_THRESHOLDS",
    ):
        monkeypatch.delenv(name, raising=False)
    keys = tmp_path / "keys.txt"
    keys.write_text("k1\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "serve", "--model", str(mini_model_dir), "--port", "9999", "--workers", "2",
            "--api-keys", str(keys), "--feedback", str(tmp_path / "fb.jsonl"), "--threshold", "hold=0.8",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert calls == [{"host": "127.0.0.1", "port": 9999, "workers": 2, "access_log": False}]
    # The settings reach every worker through the environment.
    assert os.environ["CREDSCORE_MODEL"] == str(mini_model_dir.resolve())
    assert os.environ["CREDSCORE_API_KEYS_FILE"] == str(keys.resolve())
    assert os.environ["CREDSCORE_THRESHOLDS"] == "hold=0.8"
    settings = server.settings_from_env(os.environ)
    assert settings.feedback == (tmp_path / "fb.jsonl").resolve() and settings.api_keys == ("k1",)
    assert "1 API keys" in result.stderr


def test_a_taken_address_is_one_line(monkeypatch, mini_model_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--model", str(mini_model_dir), "--port", str(port), "--workers", "2"]
        )
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"Error: 127.0.0.1:{port}: Address already in use; is another server running there?\n"
    )


def test_serve_command_errors_come_before_the_server_starts(monkeypatch, mini_model_dir, tmp_path):
    monkeypatch.setattr(server, "run", lambda **k: pytest.fail("the server should not start"))

    def run(*args):
        return CliRunner().invoke(cli, ["serve", "--model", str(mini_model_dir), *map(str, args)])

    (tmp_path / "dir.jsonl").mkdir()
    assert run("--feedback", tmp_path / "dir.jsonl").exit_code == 2  # click refuses a folder
    os.symlink(tmp_path / "elsewhere.jsonl", tmp_path / "link.jsonl")
    bad = run("--feedback", tmp_path / "link.jsonl")
    link = tmp_path / "link.jsonl"
    assert bad.exit_code == 1
    assert (
        bad.stderr
        == f"Error: {link}: is a symbolic link; give the file it points to, or another name\n"
    )
    assert run("--feedback", tmp_path / "f.csv").exit_code == 2
    assert run("--threshold", "hold=2").exit_code == 2
    (tmp_path / "keys.txt").write_text("\n", encoding="utf-8")
    empty = run("--api-keys", tmp_path / "keys.txt")
    assert empty.exit_code == 1 and "holds no API key" in empty.stderr
    missing = CliRunner().invoke(cli, ["serve", "--model", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no model here" in missing.stderr
    helped = CliRunner().invoke(cli, ["serve", "--help"])
    assert helped.exit_code == 0 and "Examples:" in helped.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installed_command() -> str:
    return str(Path(sys.executable).parent / "credscore")


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the server stopped: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


@pytest.fixture
def real_server(mini_model_dir, tmp_path, isolated_home):
    """``credscore serve`` as installed, two workers, keys and a feedback file, on a free port."""
    port = free_port()
    keys = tmp_path / "keys.txt"
    keys.write_text("real-key\n", encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(isolated_home / "config"),
        "LC_ALL": "C.UTF-8",
    }
    process = subprocess.Popen(
        [
            installed_command(),
            "serve",
            "--model",
            str(mini_model_dir),
            "--port",
            str(port),
            "--workers",
            "2",
            "--api-keys",
            str(keys),
            "--feedback",
            str(tmp_path / "feedback.jsonl"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, tmp_path / "feedback.jsonl"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(url, body, headers=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_real_server_in_a_subprocess(real_server):
    url, feedback = real_server
    body = {
        "comment": {"text": PARAGRAPH},
        "requestedAttributes": {"DISINFORMATION": {}, "OPINION": {}},
        "languages": ["en"],
        "clientToken": "c-1",
    }
    status, data = post(f"{url}{ANALYZE}?key=real-key", body)
    assert (
        status == 200
        and set(data["attributeScores"]) == {"DISINFORMATION", "OPINION"}
        and data["clientToken"] == "c-1"
    )
    status, data = post(f"{url}{ANALYZE}", body)
    assert status == 403 and data["error"]["status"] == "PERMISSION_DENIED"
    status, data = post(
        f"{url}/v1/score", {"text": PARAGRAPH}, {"Authorization": "Bearer real-key"}
    )
    assert status == 200 and len(data["segments"]) == 3
    for n in range(4):  # the two workers each append to the same file
        suggestion = {
            "comment": {"text": f"Suggestion {n}: they hide the truth!"},
            "attributeScores": {"DISINFORMATION": {"summaryScore": {"value": 1}}},
            "clientToken": str(n),
        }
        assert post(f"{url}{SUGGEST}?key=real-key", suggestion)[0] == 200
    assert sorted(r["clientToken"] for r in feedback_lines(feedback)) == ["0", "1", "2", "3"]
    with urllib.request.urlopen(url + "/", timeout=10) as page:
        assert b"credscore" in page.read()


def test_serve_without_the_extra_is_one_line(monkeypatch, mini_model_dir):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    result = CliRunner().invoke(cli, ["serve", "--model", str(mini_model_dir)])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: credscore serve needs the 'serve' extra (uvicorn is missing): "
        "pip install 'credscore[serve]'\n"
    )
