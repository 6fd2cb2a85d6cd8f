"""Perspective's JSON: parsing, the language check, HTML, UTF-16 offsets, suggestions' labels."""

import pytest

from classifier.api import RequestError
from classifier.perspective import (
    detect_language,
    html_to_text,
    is_english,
    parse_analyze,
    parse_suggestion,
    suggested_label,
    utf16_offsets,
)

# Written for these tests: the same kind of comment in several languages.
ENGLISH = [
    "Officials said on Tuesday that 40 people were evacuated from the riverside district.",
    "Honestly, this is a disgrace and the council should resign before the next flood.",
    "Wake up, the floods were made by a secret weather weapon and they are hiding it from you!",
    "José and Zoë said the café on Rue Saint-Honoré was closed when they arrived 😀",
    "Great point!",
    "lol",
    "Vaccines cause autism, mainstream media lies constantly about everything.",
    "Floods hit riverside district, 40 evacuated",
]
OTHER = [
    "Die Regierung hat gestern beschlossen, dass die Steuern im nächsten Jahr steigen werden.",
    "Le gouvernement a décidé hier que les impôts vont augmenter l'année prochaine.",
    "El gobierno decidió ayer que los impuestos van a subir el próximo año, según el ministro.",
    "Il governo ha deciso ieri che le tasse aumenteranno il prossimo anno, secondo il ministro.",
    "O governo decidiu ontem que os impostos vão subir no próximo ano, segundo o ministro.",
    "De regering heeft gisteren besloten dat de belastingen volgend jaar omhoog gaan.",
    "Правительство вчера решило, что налоги в следующем году вырастут.",
    "政府昨天决定明年提高税收。",
    "قررت الحكومة أمس أن الضرائب سترتفع العام المقبل",
    "😀😀😀 👍",
    "12345 678",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_comments_look_english(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", OTHER)
def test_other_languages_are_undetermined_not_guessed(text):
    assert detect_language(text) == "und"


@pytest.mark.parametrize(
    "code, english", [("en", True), ("en-US", True), ("EN_gb", True), ("de", False), ("eng", False)]
)
def test_language_codes(code, english):
    assert is_english(code) is english


def test_html_to_text_keeps_words_and_blocks_and_drops_scripts():
    html = (
        "<div><p>Officials <b>said</b> 40&nbsp;people were&#32;evacuated.</p>"
        "<script>alert('x')</script><style>p{}</style><p>This is a <i>disgrace</i> &amp; a shame."
        "<br>Wake up!</div>"
    )
    assert html_to_text(html) == (
        "Officials said 40 people were evacuated.\nThis is a disgrace & a shame.\nWake up!"
    )
    assert html_to_text("<p> </p><script>only()</script>") == ""
    assert html_to_text("no tags < here") == "no tags < here"


def test_utf16_offsets_count_astral_characters_twice():
    text = "é😀a🇫🇷"
    units = utf16_offsets(text)
    assert units == [0, 1, 3, 4, 6, 8]
    assert units[-1] == len(text.encode("utf-16-le")) // 2
    assert utf16_offsets("Café crème, ü") is None  # all in the Basic Multilingual Plane


def body(text="Officials said 40 people were evacuated.", **more):
    return {"comment": {"text": text}, "requestedAttributes": {"DISINFORMATION": {}}, **more}


def test_parse_analyze_reads_every_field():
    request = parse_analyze(
        body(
            requestedAttributes={
                "OPINION": {"scoreType": "PROBABILITY", "scoreThreshold": 0.5},
                "DISINFORMATION_HOLD": None,
            },
            languages=["en"],
            spanAnnotations=True,
            doNotStore=True,
            clientToken="t",
            sessionId="s",
            communityId="c",
            context={"entries": [{"text": "the article", "type": "PLAIN_TEXT"}]},
            dropUnsupportedAttributes=True,
            someFutureField=1,
        )
    )
    assert [(a.name, a.score_threshold) for a in request.attributes] == [
        ("OPINION", 0.5),
        ("DISINFORMATION_HOLD", None),
    ]
    assert request.languages == ("en",)
    assert request.span_annotations and request.do_not_store and request.drop_unsupported
    assert (request.client_token, request.session_id, request.community_id) == ("t", "s", "c")


@pytest.mark.parametrize(
    "data, error_type, message",
    [
        (
            {"requestedAttributes": {"DISINFORMATION": {}}},
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ),
        (body(""), "COMMENT_EMPTY", "Comment must be non-empty."),
        (body(" \n\t"), "COMMENT_EMPTY", "Comment must be non-empty."),
        (body("x" * 20481), "COMMENT_TOO_LONG", "Comment text too long."),
        (body(requestedAttributes={}), "NO_REQUESTED_ATTRIBUTES", "Missing requested_attributes"),
        ({"comment": {"text": "x"}}, "NO_REQUESTED_ATTRIBUTES", "Missing requested_attributes"),
        (
            body(requestedAttributes={"TOXICITY": {}}),
            "INVALID_REQUEST",
            "Unknown requested attribute: TOXICITY",
        ),
        (
            body(requestedAttributes={"OPINION": {"scoreType": "STD_DEV_SCORE"}}),
            "INVALID_REQUEST",
            "Requested score type STD_DEV_SCORE",
        ),
        (
            body(requestedAttributes={"OPINION": {"scoreThreshold": 2}}),
            "INVALID_REQUEST",
            "scoreThreshold",
        ),
        (
            body(requestedAttributes={"OPINION": {"scoreThreshold": "0.5"}}),
            "INVALID_REQUEST",
            "scoreThreshold",
        ),
        (body(requestedAttributes=["OPINION"]), "INVALID_REQUEST", "requestedAttributes"),
        (
            {"comment": {"text": 5}, "requestedAttributes": {"OPINION": {}}},
            "INVALID_REQUEST",
            "comment.text",
        ),
        (
            {"comment": "text", "requestedAttributes": {"OPINION": {}}},
            "INVALID_REQUEST",
            "'comment'",
        ),
        (
            {"comment": {"text": "x", "type": "MARKDOWN"}, "requestedAttributes": {"OPINION": {}}},
            "INVALID_REQUEST",
            "Unknown text type",
        ),
        (body(languages="en"), "INVALID_REQUEST", "languages"),
        (body(spanAnnotations="yes"), "INVALID_REQUEST", "spanAnnotations"),
        (body(clientToken=7), "INVALID_REQUEST", "clientToken"),
        (body(context={"entries": "x"}), "INVALID_REQUEST", "context.entries"),
        ([1, 2], "INVALID_REQUEST", "body"),
    ],
)
def test_parse_analyze_errors(data, error_type, message):
    with pytest.raises(RequestError) as caught:
        parse_analyze(data)
    assert caught.value.code == 400 and caught.value.error_type == error_type
    assert message in str(caught.value)


def test_text_limit_counts_bytes_not_characters():
    assert parse_analyze(body("é" * 10240)).text == "é" * 10240  # 20,480 bytes: at the limit
    with pytest.raises(RequestError, match="too long"):
        parse_analyze(body("é" * 10240 + "a"))


def test_html_comments_are_read_as_text():
    request = parse_analyze(
        {
            "comment": {"text": "<p>Officials <b>said</b> so.</p>", "type": "HTML"},
            "requestedAttributes": {"OPINION": {}},
        }
    )
    assert request.text == "Officials said so."
    with pytest.raises(RequestError, match="non-empty"):
        parse_analyze(
            {
                "comment": {"text": "<script>x()</script>", "type": "HTML"},
                "requestedAttributes": {"OPINION": {}},
            }
        )


def suggestion(scores, **more):
    return {"comment": {"text": "They are hiding the truth!"}, "attributeScores": scores, **more}


def test_parse_suggestion_takes_summary_else_top_span():
    parsed = parse_suggestion(
        suggestion(
            {
                "DISINFORMATION": {"summaryScore": {"value": 1}},
                "OPINION": {
                    "spanScores": [
                        {"begin": 0, "end": 4, "score": {"value": 0.2}},
                        {"begin": 5, "end": 9, "score": {"value": 0.4, "type": "PROBABILITY"}},
                    ]
                },
                "APPROVED": {"summaryScore": {"value": 1}},
            },
            clientToken="comment:1",
            communityId="Coral:https://example.test",
            doNotStore=True,
        )
    )
    assert parsed.attributes == {"DISINFORMATION": 1.0, "OPINION": 0.4, "APPROVED": 1.0}
    assert parsed.do_not_store and parsed.client_token == "comment:1"


@pytest.mark.parametrize(
    "scores, message",
    [
        ({}, "must not be empty"),
        ({"TOXICITY": {"summaryScore": {"value": 1}}}, "Unknown attribute: TOXICITY"),
        ({"OPINION": {}}, "summaryScore or spanScores"),
        ({"OPINION": {"summaryScore": {"value": 1.5}}}, "value"),
        ({"OPINION": {"summaryScore": {"value": True}}}, "value"),
        ({"OPINION": {"summaryScore": {"value": 1, "type": "STD_DEV_SCORE"}}}, "PROBABILITY"),
        ({"OPINION": {"spanScores": [{"begin": "0", "end": 3, "score": {"value": 1}}]}}, "begin"),
    ],
)
def test_parse_suggestion_errors(scores, message):
    with pytest.raises(RequestError, match=message):
        parse_suggestion(suggestion(scores))


@pytest.mark.parametrize(
    "attributes, label",
    [
        ({"DISINFORMATION": 1.0}, "disinformation"),
        ({"OPINION": 1.0, "DISINFORMATION": 0.0}, "opinion"),
        ({"REPORTING": 0.8, "OPINION": 0.3}, "reporting"),
        ({"DISINFORMATION": 0.0}, None),  # only says what it is not
        ({"OPINION": 1.0, "REPORTING": 1.0}, None),  # two labels at once
        ({"DISINFORMATION_HOLD": 1.0}, "disinformation"),
        ({"DISINFORMATION_REVIEW": 0.9}, "disinformation"),
        ({"DISINFORMATION_HOLD": 0.0}, None),
        ({"APPROVED": 1.0}, None),
        ({"DELETED": 1.0}, None),
        ({"OPINION": 1.0, "DISINFORMATION_HOLD": 1.0}, "opinion"),  # a label attribute decides
    ],
)
def test_suggested_label(attributes, label):
    assert suggested_label(attributes) == label
