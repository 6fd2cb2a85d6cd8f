"""Perspective API's JSON for credscore's scores: ``comments:analyze`` and ``comments:suggestscore``.

Requests are parsed into frozen records here (:func:`parse_analyze`, :func:`parse_suggestion`),
replies are built from a :class:`~classifier.records.DocumentScore` (:func:`analyze_reply`), with
the field names, errors and span offsets of Perspective's API reference, so that a client such
as Coral Talk can switch by changing its base URL.

Attributes
----------
``REPORTING``, ``OPINION``, ``DISINFORMATION``
    The text's three scores (probabilities summing to 1; the length-weighted mean of its
    sentences', :func:`classifier.score.combine`).
``DISINFORMATION_HOLD``, ``DISINFORMATION_REVIEW``
    The model's decision (:mod:`classifier.decisions`) as a binary score, the way Perspective
    asks binary attributes to be written: ``HOLD`` is 1.0 when the decision is ``hold``, else
    0.0; ``REVIEW`` is 1.0 when it is ``hold`` or ``review`` (a held text needs review too),
    else 0.0. A comment's decision is the strictest of its segments' (one held sentence holds
    the comment, as one disinformation sentence makes it disinformation); a span's is its
    segment's. A client that holds comments whose score is above its own threshold (Coral:
    ``score > threshold``) then applies the model's operating point for any threshold in
    [0, 1), instead of stacking a second threshold on a probability.

Spans: with ``spanAnnotations: true`` every segment (line, then sentence) gets a span score;
otherwise one span covers the whole comment, as Perspective answers. ``begin``/``end`` count
UTF-16 code units, as Perspective (and JavaScript) count them: an emoji outside the Basic
Multilingual Plane is two units, an accented letter one. An HTML comment is scored as its text
(:func:`html_to_text`), and its offsets count in that text, since offsets into the markup would
cut through tags.

Language: credscore's model is trained on English text only. A request whose ``languages``
names another language gets Perspective's ``LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`` error. Without
``languages``, :func:`detect_language` decides whether the comment looks English; when it does
not, the answer says so (``und``: undetermined) rather than guessing which language it is:
an error as Perspective gives for a language it cannot score, or, with
``dropUnsupportedAttributes``, a reply without scores. ``detectedLanguages`` always reports what
the check found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from classifier import LABELS
from classifier.api import RequestError, get_bool, get_object, get_str, invalid
from classifier.decisions import Policy
from classifier.records import DocumentScore

#: Perspective's limit on ``comment.text``, in bytes of UTF-8.
TEXT_LIMIT = 20480
LABEL_ATTRIBUTES = {label.upper(): label for label in LABELS}
#: Decision attributes: name -> the decisions for which the attribute's score is 1.0.
DECISION_ATTRIBUTES = {
    "DISINFORMATION_HOLD": ("hold",),
    "DISINFORMATION_REVIEW": ("hold", "review"),
}
ATTRIBUTES = (*LABEL_ATTRIBUTES, *DECISION_ATTRIBUTES)
#: What Coral Talk sends to ``suggestscore`` when a moderator approves or rejects a comment:
#: a verdict on the comment, not one of credscore's labels.
VERDICT_ATTRIBUTES = ("APPROVED", "DELETED")
SCORE_TYPE = "PROBABILITY"
UNDETERMINED = "und"


@dataclass(frozen=True)
class Requested:
    """One requested attribute and its options."""

    name: str
    score_threshold: float | None = None


@dataclass(frozen=True)
class AnalyzeRequest:
    """An ``AnalyzeCommentRequest``, checked."""

    text: str  # HTML already reduced to its text
    attributes: tuple[Requested, ...]
    languages: tuple[str, ...] = ()
    span_annotations: bool = False
    do_not_store: bool = False
    drop_unsupported: bool = False
    client_token: str | None = None
    session_id: str | None = None
    community_id: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A ``SuggestCommentScoreRequest``, checked: what a moderator says a comment should score."""

    text: str
    attributes: dict[str, float]  # the summary score of each attribute (else its top span's)
    languages: tuple[str, ...] = ()
    do_not_store: bool = False
    client_token: str | None = None
    session_id: str | None = None
    community_id: str | None = None
    context: tuple[str, ...] = field(default=())


class _Text(HTMLParser):
    """The text of an HTML fragment: one line per block, no script or style content."""

    BLOCKS = frozenset(
        "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 "
        "h5 h6 header hr li main nav ol p pre section table tbody td th thead tr ul".split()
    )
    HIDDEN = frozenset("script style template noscript head title".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


_SPACES = re.compile(r"[^\S\n]+")


def html_to_text(html: str) -> str:
    """The readable text of an HTML comment: tags dropped, entities decoded, each block element
    on its own line, runs of white space collapsed (Python's own ``html.parser``, which reads
    broken markup as browsers do, rather than a regular expression)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


# Function words common in English and rare elsewhere (a, in, on, so, was, will, an, me, no,
# do, he, die are left out: each is a common word of German, French, Spanish, Italian or Dutch).
_ENGLISH = frozenset(
    """
    the of and to that it for with as be this have has had not but they you are were been from
    by at or if about than which who what when would could should can there their them his her
    its our your we she my been does did is into just more only also how all any some these
    those because after before over such our while where why
    """.split()
)
# Function words of German, French, Spanish, Italian, Portuguese and Dutch that are not English.
_OTHER = frozenset(
    """
    der die das und ist nicht ein eine zu den von mit sich des auf für dem auch es wir ich sie
    le la les et est une du que qui pas pour dans sur ce sont avec nous vous mais ou été
    el los las y es por con para una del se lo como pero más su al muy ya
    il di che è per non sono della gli ha anche questo delle nel alla
    os não um uma com em os para mais foi pelo ser ao seu sua também
    het een van niet op te zijn ook aan er maar voor wordt naar bij dat
    """.split()
)
_WORD = re.compile(r"[a-zà-öø-ÿ]+")


def detect_language(text: str) -> str:
    """``"en"`` when ``text`` looks English, else ``"und"``: a cheap check, not a guess at which
    language it is.

    The rule: no letters (emoji, numbers), or more than a fifth of the letters outside ASCII
    (another script: Cyrillic, Greek, Arabic, Chinese...), is not English. Then the words are
    counted against two short lists of function words, English ones and those of German,
    French, Spanish, Italian, Portuguese and Dutch: at least two of the others and more of them
    than English ones is not English; twelve words or more with under 5% English function
    words is not English. Anything else is taken as English, so a short comment in Latin
    letters ("Great point!") passes. Other Latin-script languages may pass as English.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return UNDETERMINED
    if sum(not c.isascii() for c in letters) > len(letters) / 5:
        return UNDETERMINED
    words = _WORD.findall(text.lower())
    english = sum(w in _ENGLISH for w in words)
    other = sum(w in _OTHER for w in words)
    if other >= 2 and other > english:
        return UNDETERMINED
    if len(words) >= 12 and english < 0.05 * len(words):
        return UNDETERMINED
    return "en"


def is_english(code: str) -> bool:
    """Whether an ISO 639-1 or BCP-47 code names English (``en``, ``en-US``, ``en_GB``)."""
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] == "en"


def utf16_offsets(text: str) -> list[int] | None:
    """Per code point offset, the UTF-16 offset; None when both are the same (no character
    outside the Basic Multilingual Plane)."""
    if not any(ord(c) > 0xFFFF for c in text):
        return None
    out = [0]
    for c in text:
        out.append(out[-1] + (2 if ord(c) > 0xFFFF else 1))
    return out


def _comment(data: Mapping[str, Any], *, limit: int) -> str:
    """``comment.text`` (its text when ``comment.type`` is HTML), checked."""
    comment = data.get("comment")
    if comment is None:
        raise RequestError("Comment must be non-empty.", error_type="COMMENT_EMPTY")
    comment = get_object(comment, "comment")
    text = get_str(comment, "text", "comment.")
    kind = get_str(comment, "type", "comment.") or "PLAIN_TEXT"
    if kind not in ("PLAIN_TEXT", "HTML"):
        raise RequestError(f"Unknown text type: {kind}; use PLAIN_TEXT or HTML")
    if text is not None and len(text.encode("utf-8")) > limit:
        raise RequestError("Comment text too long.", error_type="COMMENT_TOO_LONG")
    if text is not None and kind == "HTML":
        text = html_to_text(text)
    if not text or not text.strip():
        raise RequestError("Comment must be non-empty.", error_type="COMMENT_EMPTY")
    return text


def _languages(data: Mapping[str, Any]) -> tuple[str, ...]:
    languages = data.get("languages")
    if languages is None:
        return ()
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise invalid("languages", "a list of language codes", languages)
    return tuple(x for x in languages if x.strip())


def _context(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The texts of ``context.entries`` (accepted; credscore does not use them)."""
    context = data.get("context")
    if context is None:
        return ()
    entries = get_object(context, "context").get("entries") or []
    if not isinstance(entries, list):
        raise invalid("context.entries", "a list", entries)
    texts = []
    for n, entry in enumerate(entries):
        text = get_str(get_object(entry, f"context.entries[{n}]"), "text", "context.entries.")
        texts.append(text or "")
    return tuple(texts)


def _threshold(options: Mapping[str, Any], name: str) -> float | None:
    value = options.get("scoreThreshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise invalid(f"requestedAttributes.{name}.scoreThreshold", "a number from 0 to 1", value)
    return float(value)


def parse_analyze(data: Any, *, limit: int = TEXT_LIMIT) -> AnalyzeRequest:
    """An ``AnalyzeCommentRequest`` body as an :class:`AnalyzeRequest`.

    Unknown fields are ignored (Google's front end would refuse them; a client of a newer
    Perspective should not break here).

    Raises
    ------
    RequestError
        With Perspective's ``errorType``: ``COMMENT_EMPTY``, ``COMMENT_TOO_LONG``,
        ``NO_REQUESTED_ATTRIBUTES``, else ``INVALID_REQUEST`` (an unknown attribute, a score
        type other than PROBABILITY, a field of the wrong type).
    """
    data = get_object(data, "body")
    text = _comment(data, limit=limit)
    requested = data.get("requestedAttributes")
    if not requested:
        raise RequestError("Missing requested_attributes", error_type="NO_REQUESTED_ATTRIBUTES")
    requested = get_object(requested, "requestedAttributes")
    attributes = []
    for name, options in requested.items():
        if name not in ATTRIBUTES:
            raise RequestError(
                f"Unknown requested attribute: {name} (credscore serves {', '.join(ATTRIBUTES)})"
            )
        options = get_object(options or {}, f"requestedAttributes.{name}")
        score_type = get_str(options, "scoreType", f"requestedAttributes.{name}.")
        if score_type not in (None, "", SCORE_TYPE):
            raise RequestError(
                f"Requested score type {score_type} is not supported by attribute {name}"
            )
        attributes.append(Requested(name, _threshold(options, name)))
    _context(data)
    return AnalyzeRequest(
        text,
        tuple(attributes),
        languages=_languages(data),
        span_annotations=get_bool(data, "spanAnnotations", default=False),
        do_not_store=get_bool(data, "doNotStore", default=False),
        drop_unsupported=get_bool(data, "dropUnsupportedAttributes", default=False),
        client_token=get_str(data, "clientToken"),
        session_id=get_str(data, "sessionId"),
        community_id=get_str(data, "communityId"),
    )


def language_error(attribute: str, languages: tuple[str, ...], detected: str) -> RequestError:
    """Perspective's error for a language an attribute does not support."""
    named = languages or (detected,)
    return RequestError(
        f"Attribute {attribute} does not support request languages: {', '.join(named)}",
        error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        detail={
            "languageNotSupportedByAttributeError": {
                "detectedLanguages": [detected],
                "requestedLanguages": list(languages),
                "attribute": attribute,
            }
        },
    )


def supported(languages: tuple[str, ...], detected: str) -> bool:
    """Whether credscore can score a comment: the languages it names are English, or it names
    none and looks English."""
    if languages:
        return all(is_english(code) for code in languages)
    return detected == "en"


def _score(value: float) -> dict[str, Any]:
    return {"value": round(value, 6), "type": SCORE_TYPE}


def _value(name: str, scores: Mapping[str, float], decision: str) -> float:
    """An attribute's value for a text's (or a segment's) scores and decision."""
    if name in LABEL_ATTRIBUTES:
        return scores[LABEL_ATTRIBUTES[name]]
    return 1.0 if decision in DECISION_ATTRIBUTES[name] else 0.0


def analyze_reply(
    request: AnalyzeRequest, result: DocumentScore | None, policy: Policy, detected: str
) -> dict[str, Any]:
    """An ``AnalyzeCommentResponse`` for a scored comment.

    Parameters
    ----------
    request : AnalyzeRequest
    result : DocumentScore or None
        The comment's scores; None when its language is not supported and the request asked
        to drop unsupported attributes (the reply then has no scores).
    policy : Policy
        The operating points the decision attributes follow.
    detected : str
        :func:`detect_language`'s verdict.

    Returns
    -------
    dict
        ``attributeScores`` (an attribute whose summary score is at or below its
        ``scoreThreshold`` is left out), ``languages``, ``detectedLanguages``, ``clientToken``.
    """
    scores: dict[str, Any] = {}
    if result is not None:
        units = utf16_offsets(request.text)
        whole = units[-1] if units else len(request.text)
        decision = result.decision  # the strictest of its segments' (classifier.decisions)
        for attribute in request.attributes:
            summary = _value(attribute.name, result.scores, decision)
            if (
                attribute.score_threshold is not None
                and round(summary, 6) <= attribute.score_threshold
            ):
                continue
            if request.span_annotations:
                spans = [
                    {
                        "begin": units[s.segment.start] if units else s.segment.start,
                        "end": units[s.segment.end] if units else s.segment.end,
                        "score": _score(_value(attribute.name, s.scores, s.decision)),
                    }
                    for s in result.segments
                ]
            else:
                spans = [{"begin": 0, "end": whole, "score": _score(summary)}]
            scores[attribute.name] = {"spanScores": spans, "summaryScore": _score(summary)}
    reply: dict[str, Any] = {
        "attributeScores": scores,
        "languages": list(request.languages) or (["en"] if detected == "en" else [detected]),
        "detectedLanguages": [detected],
    }
    if request.client_token is not None:
        reply["clientToken"] = request.client_token
    return reply


def _suggested(name: str, options: Any) -> float:
    """The value a suggestion gives an attribute: its summary score, else its top span score."""
    where = f"attributeScores.{name}"
    options = get_object(options, where)
    values = []
    summary = options.get("summaryScore")
    if summary is not None:
        values.append(_suggested_score(summary, f"{where}.summaryScore"))
    spans = options.get("spanScores") or []
    if not isinstance(spans, list):
        raise invalid(f"{where}.spanScores", "a list", spans)
    span_values = []
    for n, span in enumerate(spans):
        span = get_object(span, f"{where}.spanScores[{n}]")
        for end in ("begin", "end"):
            if isinstance(span.get(end), bool) or not isinstance(span.get(end), int):
                raise invalid(f"{where}.spanScores[{n}].{end}", "a whole number", span.get(end))
        span_values.append(_suggested_score(span.get("score"), f"{where}.spanScores[{n}].score"))
    if not values and not span_values:
        raise RequestError(f"'{where}' must hold a summaryScore or spanScores")
    return values[0] if values else max(span_values)


def _suggested_score(score: Any, where: str) -> float:
    score = get_object(score, where)
    value = score.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise invalid(f"{where}.value", "a number from 0 to 1", value)
    if get_str(score, "type", f"{where}.") not in (None, "", SCORE_TYPE):
        raise RequestError(f"'{where}.type': only {SCORE_TYPE} scores are taken")
    return float(value)


def parse_suggestion(data: Any, *, limit: int = TEXT_LIMIT) -> Suggestion:
    """A ``SuggestCommentScoreRequest`` body as a :class:`Suggestion`.

    Attributes are credscore's five and Coral Talk's verdicts ``APPROVED`` and ``DELETED``.

    Raises
    ------
    RequestError
        An empty or too long comment, no attribute scores, an unknown attribute, a score outside
        [0, 1] or a field of the wrong type.
    """
    data = get_object(data, "body")
    text = _comment(data, limit=limit)
    scores = data.get("attributeScores")
    if not scores:
        raise RequestError("attributeScores must not be empty")
    scores = get_object(scores, "attributeScores")
    attributes = {}
    for name, options in scores.items():
        if name not in ATTRIBUTES and name not in VERDICT_ATTRIBUTES:
            known = ", ".join((*ATTRIBUTES, *VERDICT_ATTRIBUTES))
            raise RequestError(f"Unknown attribute: {name} (credscore takes {known})")
        attributes[name] = _suggested(name, options)
    return Suggestion(
        text,
        attributes,
        languages=_languages(data),
        do_not_store=get_bool(data, "doNotStore", default=False),
        client_token=get_str(data, "clientToken"),
        session_id=get_str(data, "sessionId"),
        community_id=get_str(data, "communityId"),
        context=_context(data),
    )


def suggested_label(attributes: Mapping[str, float]) -> str | None:
    """The credscore label a suggestion gives its comment, or None when it gives none.

    The label attributes decide when any is given: the one with the single highest value, if
    that value is at least 0.5 (``{"DISINFORMATION": 0}`` only says what the comment is not).
    Else a decision attribute at 0.5 or more means ``disinformation``. Coral's ``APPROVED`` and
    ``DELETED`` are verdicts on the comment (a comment is deleted for many reasons) and give no
    label.
    """
    given = {LABEL_ATTRIBUTES[k]: v for k, v in attributes.items() if k in LABEL_ATTRIBUTES}
    if given:
        best = max(given.values())
        top = [label for label, value in given.items() if value == best]
        return top[0] if best >= 0.5 and len(top) == 1 else None
    if any(attributes.get(name, 0.0) >= 0.5 for name in DECISION_ATTRIBUTES):
        return "disinformation"
    return None


def suggest_reply(suggestion: Suggestion, detected: str) -> dict[str, Any]:
    """A ``SuggestCommentScoreResponse``."""
    reply: dict[str, Any] = {"detectedLanguages": [detected]}
    if suggestion.languages:
        reply["requestedLanguages"] = list(suggestion.languages)
    if suggestion.client_token is not None:
        reply["clientToken"] = suggestion.client_token
    return reply
