"""The web API's edge: JSON bodies become typed requests here, or a :class:`RequestError`.

The server (:mod:`classifier.server`) parses a body with :func:`parse_json`, hands the result to
one of the ``parse_*`` functions below (or to :mod:`classifier.perspective` for Perspective's
requests) and passes the frozen request to the library; the library never sees raw JSON.

A :class:`RequestError` carries what an HTTP reply in Google's error shape needs (the HTTP code,
Google's ``status`` and Perspective's ``errorType``); :func:`classifier.server.error_response` is
the one place that turns errors into replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from classifier import LABELS
from classifier.decisions import DECISIONS
from classifier.errors import InputError

#: Google's status names for the HTTP codes this API answers with.
STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    413: "INVALID_ARGUMENT",
    500: "INTERNAL",
}


class RequestError(InputError):
    """A request the API cannot serve, with what its error reply says.

    Parameters
    ----------
    message : str
    code : int
        HTTP status code.
    error_type : str, optional
        Perspective's ``errorType`` (``COMMENT_EMPTY``, ``INVALID_REQUEST``...), listed in the
        reply's ``details``; None for errors that have none (a missing key, a wrong path).
    status : str, optional
        Google's status name [default: by ``code``, see :data:`STATUS`].
    detail : dict, optional
        More fields for the ``details`` entry (``languageNotSupportedByAttributeError``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int = 400,
        error_type: str | None = "INVALID_REQUEST",
        status: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.error_type = error_type
        self.status = status or STATUS.get(code, "UNKNOWN")
        self.detail = dict(detail or {})


def parse_json(body: bytes) -> Any:
    """A request body as JSON.

    Raises
    ------
    RequestError
        Not UTF-8 or not JSON (orjson also refuses lone surrogates and nesting deeper than 1024,
        which the standard library would turn into errors much later).
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"Invalid JSON payload received: {exc}") from None


def _kind(value: Any) -> str:
    """What a JSON value is, for messages."""
    kinds = {
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def invalid(where: str, expected: str, value: Any) -> RequestError:
    """The error for a field of the wrong type or value."""
    return RequestError(f"Invalid value at '{where}': expected {expected}, got {_kind(value)}")


def get_object(data: Any, where: str) -> dict[str, Any]:
    """``data`` if it is a JSON object."""
    if not isinstance(data, dict):
        raise invalid(where, "an object", data)
    return data


def get_str(data: Mapping[str, Any], name: str, where: str = "") -> str | None:
    """An optional string field."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(where + name, "a string", value)
    return value


def get_bool(data: Mapping[str, Any], name: str, where: str = "", *, default: bool) -> bool:
    """An optional boolean field."""
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(where + name, "true or false", value)
    return value


def get_int(data: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    """An optional whole-number field within [low, high]."""
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(name, f"a whole number from {low} to {high}", value)
    return value


def check_size(text: str, where: str, limit: int) -> None:
    """Refuse a text longer than ``limit`` bytes of UTF-8."""
    size = len(text.encode("utf-8"))
    if size > limit:
        raise RequestError(
            f"'{where}' is {size} bytes of UTF-8; this server takes at most {limit}", code=413
        )


@dataclass(frozen=True)
class ScoreRequest:
    """``POST /v1/score``: one text, as ``credscore score --json`` would take it."""

    text: str
    segments: bool = True
    terms: int = 5


def parse_score(data: Any, *, max_text_bytes: int) -> ScoreRequest:
    """``{"text": ..., "segments": true, "terms": 5}`` as a :class:`ScoreRequest`.

    Raises
    ------
    RequestError
    """
    data = get_object(data, "body")
    text = get_str(data, "text")
    if text is None:
        raise RequestError('\'text\' is required: send {"text": "..."}')
    if not text.strip():
        raise RequestError("'text' is empty: there is nothing to score", error_type="COMMENT_EMPTY")
    check_size(text, "text", max_text_bytes)
    return ScoreRequest(
        text,
        segments=get_bool(data, "segments", default=True),
        terms=get_int(data, "terms", default=5, low=0, high=20),
    )


@dataclass(frozen=True)
class LabelRequest:
    """``POST /v1/label``: rows as ``credscore label`` reads them, and how to read them."""

    items: tuple[Any, ...]  # each a JSON object (a row's fields) or a text
    segments: bool = False
    text_column: str = "text"
    id_column: str | None = None
    source_column: str | None = None


def parse_label(data: Any, *, max_batch: int) -> LabelRequest:
    """``{"texts": [...], "segments": false, "text_column": "text", ...}`` as a LabelRequest.

    Each item of ``texts`` is a string (the text) or an object (a row's fields, the text in
    ``text_column``), as one line of a JSONL input of ``credscore label``.

    Raises
    ------
    RequestError
    """
    data = get_object(data, "body")
    items = data.get("texts")
    if not isinstance(items, list):
        raise RequestError(
            "'texts' is required: send {\"texts\": [...]}, or JSON lines with "
            "Content-Type: application/x-ndjson"
        )
    check_batch(len(items), max_batch)
    return LabelRequest(
        tuple(items),
        segments=get_bool(data, "segments", default=False),
        text_column=get_str(data, "text_column") or "text",
        id_column=get_str(data, "id_column"),
        source_column=get_str(data, "source_column"),
    )


def check_batch(count: int, max_batch: int) -> None:
    """Refuse a batch of more than ``max_batch`` rows."""
    if count > max_batch:
        raise RequestError(
            f"{count} rows in one request; this server takes at most {max_batch}: split the batch",
            code=413,
        )


@dataclass(frozen=True)
class FeedbackRequest:
    """``POST /v1/feedback``: a moderator's label for one text."""

    text: str
    label: str
    source: str | None = None
    client_token: str | None = None
    community_id: str | None = None
    decision: str | None = None  # what the model had decided, as the page showed it


def parse_feedback(data: Any, *, max_text_bytes: int) -> FeedbackRequest:
    """``{"text", "label", "source"?, "clientToken"?, "communityId"?, "decision"?}``.

    Raises
    ------
    RequestError
    """
    data = get_object(data, "body")
    text = get_str(data, "text")
    if not text or not text.strip():
        raise RequestError("'text' is required and must not be empty", error_type="COMMENT_EMPTY")
    check_size(text, "text", max_text_bytes)
    label = data.get("label")
    if label not in LABELS:
        raise invalid("label", f"one of {', '.join(LABELS)}", label)
    return FeedbackRequest(
        text,
        label,
        source=get_str(data, "source"),
        client_token=get_str(data, "clientToken"),
        community_id=get_str(data, "communityId"),
        decision=get_str(data, "decision"),
    )


@dataclass(frozen=True)
class SummaryRequest:
    """``POST /v1/summary``: the (source, label, disinformation score, decision) of rows."""

    rows: tuple[tuple[str | None, str | None, float | None, str | None], ...]


def parse_summary(data: Any, *, max_rows: int) -> SummaryRequest:
    """``{"records": [{"source", "label", "scores": {"disinformation"}, "error"}, ...]}``, the
    records ``POST /v1/label`` returned (only these fields are read), as a SummaryRequest.

    Raises
    ------
    RequestError
    """
    data = get_object(data, "body")
    records = data.get("records")
    if not isinstance(records, list):
        raise RequestError("'records' is required: send {\"records\": [...]}")
    check_batch(len(records), max_rows)
    column = get_str(data, "source_column") or "source"
    rows: list[tuple[str | None, str | None, float | None, str | None]] = []
    for n, record in enumerate(records):
        record = get_object(record, f"records[{n}]")
        source = record.get(column)
        if record.get("error"):
            rows.append((None if source is None else str(source), None, None, None))
            continue
        label, scores = record.get("label"), record.get("scores")
        score = scores.get("disinformation") if isinstance(scores, dict) else None
        if label not in LABELS or isinstance(score, bool) or not isinstance(score, (int, float)):
            raise invalid(f"records[{n}]", "a record with 'label' and 'scores'", record)
        decision = record.get("decision")
        if decision not in (None, *DECISIONS):
            raise invalid(f"records[{n}]", "a 'decision' of hold, review or accept", record)
        rows.append((None if source is None else str(source), label, float(score), decision))
    return SummaryRequest(tuple(rows))
