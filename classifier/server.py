"""``credscore serve``: the scoring API, Perspective's API and the moderator's page, over HTTP.

The HTTP layer is one more skin, like the CLI: each endpoint parses its request at the edge
(:mod:`classifier.api`, :mod:`classifier.perspective`), calls the library function the CLI
calls (:func:`classifier.score.score_text`, :func:`classifier.batch.score_rows`), renders the
same record, and :func:`error_response` is the one place where errors become replies, in
Google's error shape.

Endpoints
---------
``GET /``                                  the moderator's page (``classifier/static``)
``GET /healthz``                           ``{"status": "ok"}`` (no key needed)
``GET /v1/model``                          the model in use, its operating points, the limits
``POST /v1/score``                         ``{"text", "segments": true, "terms": 5}`` -> what
                                           ``credscore score --json`` prints, byte for byte
``POST /v1/label``                         ``{"texts": [...]}``, or JSON lines with Content-Type
                                           ``application/x-ndjson`` -> the rows ``credscore
                                           label`` writes
``POST /v1/summary``                       labelled records -> the per-source summary
``POST /v1/feedback``                      ``{"text", "label"}`` -> the feedback file
``POST /v1alpha1/comments:analyze``        Perspective's ``AnalyzeComment``
``POST /v1alpha1/comments:suggestscore``   Perspective's ``SuggestCommentScore``

Keys: ``?key=KEY`` or ``Authorization: Bearer KEY``, checked in constant time against the
configured keys; with none configured, only clients on this machine may call (a request that
came through a proxy, carrying ``Forwarded`` or ``X-Forwarded-For``, is not one of them).

Running it under another ASGI server: ``uvicorn --factory classifier.server:create_app_from_env``
(or the lazily built ``classifier.server:app``), configured by environment variables:
``CREDSCORE_MODEL`` (a model folder, required), ``CREDSCORE_API_KEYS_FILE`` (one key per line)
or ``CREDSCORE_API_KEYS`` (keys separated by commas or spaces), ``CREDSCORE_FEEDBACK`` (a
``.jsonl`` file) and ``CREDSCORE_THRESHOLDS`` (``hold=0.95,review=0.8``). Nothing is loaded
when this module is imported.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import ipaddress
import logging
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from classifier import LABELS, __version__
from classifier.api import (
    RequestError,
    check_batch,
    parse_feedback,
    parse_json,
    parse_label,
    parse_score,
    parse_summary,
)
from classifier.batch import BatchReport, score_rows
from classifier.decisions import Policy, parse_overrides, policy
from classifier.errors import CredscoreError, InputError, LabelError, ModelError, OptionError
from classifier.explain import Explainer
from classifier.feedback import FeedbackLog, Verdict
from classifier.inputs import InputSpec, Row
from classifier.model import Model, Scorer, load_model
from classifier.perspective import (
    ATTRIBUTES,
    TEXT_LIMIT,
    analyze_reply,
    detect_language,
    is_english,
    language_error,
    parse_analyze,
    parse_suggestion,
    suggest_reply,
    suggested_label,
    supported,
)
from classifier.render import render_json
from classifier.rows import RowWriter
from classifier.score import score_text
from classifier.summary import SourceSummary

log = logging.getLogger("credscore.server")

FACTORY = "classifier.server:create_app_from_env"

JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
_PAGE_HEADERS = {
    # The page loads its own script and style only, and sends the key in a header, never in a
    # referrer.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}


@dataclass(frozen=True)
class Settings:
    """How a server runs: keys, feedback file, threshold overrides and limits."""

    api_keys: tuple[str, ...] = field(default=(), repr=False)  # none: only this machine calls
    feedback: Path | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    max_body_bytes: int = 4 << 20
    max_text_bytes: int = 1 << 20  # per text of the native API; Perspective's is TEXT_LIMIT
    max_batch: int = 1000  # texts per /v1/label request
    max_summary_rows: int = 200_000


def read_keys(path: str | Path) -> tuple[str, ...]:
    """API keys from a file, one per line (blank lines and ``#`` comments skipped).

    Raises
    ------
    InputError
        The file cannot be read or holds no key.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the API keys ({exc})") from None
    keys = tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    if not keys:
        raise InputError(f"{path}: holds no API key; write one key per line")
    return keys


def keys_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The keys in ``$CREDSCORE_API_KEYS``, separated by commas or white space."""
    return tuple(environ.get("CREDSCORE_API_KEYS", "").replace(",", " ").split())


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    """:class:`Settings` from ``CREDSCORE_*`` environment variables (see the module's description).

    Raises
    ------
    InputError, OptionError
    """
    if environ.get("CREDSCORE_API_KEYS_FILE"):
        keys = read_keys(environ["CREDSCORE_API_KEYS_FILE"])
    else:
        keys = keys_from_env(environ)
    thresholds = [t for t in environ.get("CREDSCORE_THRESHOLDS", "").split(",") if t.strip()]
    feedback = environ.get("CREDSCORE_FEEDBACK")
    return Settings(
        api_keys=keys,
        feedback=Path(feedback) if feedback else None,
        thresholds=parse_overrides([t.strip() for t in thresholds]),
    )


def environment(model_dir: Path, settings: Settings, *, keys_file: Path | None) -> dict[str, str]:
    """The environment variables that carry ``settings`` to worker processes
    (:func:`create_app_from_env` reads them); empty values unset a variable."""
    return {
        "CREDSCORE_MODEL": str(Path(model_dir).resolve()),
        "CREDSCORE_API_KEYS_FILE": str(keys_file.resolve()) if keys_file else "",
        "CREDSCORE_FEEDBACK": str(settings.feedback.resolve()) if settings.feedback else "",
        "CREDSCORE_THRESHOLDS": ",".join(f"{k}={v}" for k, v in settings.thresholds.items()),
    }


class _Waiting:
    """One caller's texts, waiting for a batch."""

    __slots__ = ("error", "event", "lead", "result", "texts")

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.event = threading.Event()
        self.lead = False
        self.result: Any = None
        self.error: BaseException | None = None


class BatchingScorer:
    """A scorer that scores the texts of concurrent callers in one call.

    Featurizing has a large cost per call, whatever the batch: one 300-character comment takes
    about as long as a dozen (docs/speed.md), so a busy server scores the comments of all the
    requests waiting at a moment together. The first caller to find the scorer idle scores
    every text queued by then, its own included; callers arriving meanwhile wait, and the
    first of them scores the next batch. An idle server adds no wait. Probabilities are the
    same as one call per text (each text's row depends on that text alone).

    Parameters
    ----------
    scorer : Scorer
        Every other attribute (featurizer, coefficients) is the wrapped scorer's.
    """

    def __init__(self, scorer: Scorer):
        self._scorer = scorer
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._busy = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scorer, name)

    def proba(self, texts: list[str]) -> Any:
        """Probabilities of ``texts`` (as :meth:`Scorer.proba`), scored with whatever else waits."""
        me = _Waiting(texts)
        with self._lock:
            self._queue.append(me)
            lead = not self._busy
            self._busy = True
        if not lead:
            me.event.wait()
            if not me.lead:
                return self._outcome(me)
        with self._lock:
            batch, self._queue = self._queue, []
        self._score(batch)
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].event.set()
            else:
                self._busy = False
        return self._outcome(me)

    def _score(self, batch: list[_Waiting]) -> None:
        try:
            proba = self._scorer.proba([t for w in batch for t in w.texts])
            at = 0
            for waiting in batch:
                waiting.result = proba[at : at + len(waiting.texts)]
                at += len(waiting.texts)
        except BaseException as exc:  # every waiting caller gets the error, none hangs
            for waiting in batch:
                waiting.error = exc
        for waiting in batch:
            if not waiting.lead:
                waiting.event.set()

    @staticmethod
    def _outcome(waiting: _Waiting) -> Any:
        if waiting.error is not None:
            raise waiting.error
        return waiting.result


def batching(model: Model) -> Model:
    """``model`` with a :class:`BatchingScorer`: the same scores, batched across threads."""
    return Model(cast(Scorer, BatchingScorer(model.scorer)), model.manifest, model.path)


def error_response(exc: Exception) -> Response:
    """The reply to any error, in Google's shape: ``{"error": {"code", "message", "status",
    "details": [{"errorType"}]}}``; a bug gets code 500 and no details, its traceback goes to
    the server's log, never into the reply."""
    error_type: str | None = "INVALID_REQUEST"
    detail: dict[str, Any] = {}
    if isinstance(exc, RequestError):
        code, status, message = exc.code, exc.status, str(exc)
        error_type, detail = exc.error_type, exc.detail
    elif isinstance(exc, HTTPException):
        code, message, error_type = exc.status_code, exc.detail, None
        status = {404: "NOT_FOUND", 405: "UNIMPLEMENTED"}.get(code, "INVALID_ARGUMENT")
    elif isinstance(exc, ClientDisconnect):
        code, status, message = 400, "CANCELLED", "The client went away before sending its request."
    elif isinstance(exc, (InputError, LabelError, OptionError)):
        code, status, message = 400, "INVALID_ARGUMENT", str(exc)
    else:
        if isinstance(exc, CredscoreError):  # a model that broke under the server: its fault
            log.error("credscore: %s", exc, exc_info=exc)
        code, status, message, error_type = (
            500,
            "INTERNAL",
            "Internal error; see the server log.",
            None,
        )
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if error_type:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                "errorType": error_type,
                **detail,
            }
        ]
    headers = {"Allow": "POST"} if code == 405 else None
    return Response(
        orjson.dumps({"error": error}),
        status_code=code,
        media_type="application/json",
        headers=headers,
    )


async def _handle_error(request: Request, exc: Exception) -> Response:
    return error_response(exc)


def _reply(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


_FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")


class _Service:
    """The endpoints of one app: one model, its policy, keys, feedback file and page."""

    def __init__(self, model: Model, settings: Settings):
        self.model = model
        self.batched = batching(model)
        self.explainer = Explainer(model)
        self.explainer.names, self.explainer.directions  # noqa: B018 - built now, not on a request
        self.policy: Policy = policy(model.manifest, settings.thresholds)
        self.settings = settings
        self.keys = tuple(_digest(k) for k in settings.api_keys)
        self.feedback = FeedbackLog(settings.feedback) if settings.feedback else None
        folder = resources.files("classifier").joinpath("static")
        self.static = {
            path: (folder.joinpath(name).read_bytes(), kind)
            for path, (name, kind) in _STATIC.items()
        }

    # -- access ------------------------------------------------------------------------------

    def authorize(self, request: Request) -> None:
        """Let the request through, or raise the 403 of a missing or wrong key.

        Raises
        ------
        RequestError
        """
        if not self.keys:
            if not self._local(request):
                raise RequestError(
                    "This server has no API keys configured, so it answers only clients on its "
                    "own machine; start it with --api-keys FILE to serve others.",
                    code=403,
                    error_type=None,
                )
            return
        given = request.query_params.get("key")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if given is None and scheme.lower() == "bearer":
            given = token.strip()
        if given is None:
            raise RequestError("The request is missing a valid API key.", code=403, error_type=None)
        digest = _digest(given)
        match = False
        for key in self.keys:  # every key compared, in constant time: no timing to learn from
            match |= hmac.compare_digest(digest, key)
        if not match:
            raise RequestError(
                "API key not valid. Please pass a valid API key.", code=403, error_type=None
            )

    @staticmethod
    def _local(request: Request) -> bool:
        if request.client is None or any(h in request.headers for h in _FORWARDED):
            return False
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # a dual-stack socket shows 127.0.0.1 as ::ffff:127.0.0.1
        return address.is_loopback

    async def body(self, request: Request) -> bytes:
        """The request's body, read in chunks up to the size limit.

        Raises
        ------
        RequestError
            413 as soon as the body passes the limit (or declares that it will).
        """
        limit = self.settings.max_body_bytes
        too_large = RequestError(f"Request body is larger than {limit} bytes.", code=413)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def json(self, request: Request) -> Any:
        return parse_json(await self.body(request))

    # -- the page and the service ------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        content, kind = self.static[request.url.path]
        return Response(content, media_type=kind, headers=_PAGE_HEADERS)

    async def healthz(self, request: Request) -> Response:
        return _reply({"status": "ok", "model": self.model.sha256[:12]})

    async def model_info(self, request: Request) -> Response:
        self.authorize(request)
        manifest = self.model.manifest
        data = manifest.get("training_data") or {}
        return _reply(
            {
                "credscore": __version__,
                "model": self.model.info(),
                "labels": list(LABELS),
                "training_data": {k: data.get(k) for k in ("rows", "documents", "label_counts")},
                "cv": manifest.get("cv"),
                "cv_metrics": manifest.get("cv_metrics"),
                "operating_points": self.policy.to_dict(),
                "attributes": list(ATTRIBUTES),
                "languages": ["en"],
                "limits": {
                    "body_bytes": self.settings.max_body_bytes,
                    "text_bytes": self.settings.max_text_bytes,
                    "comment_bytes": TEXT_LIMIT,
                    "batch": self.settings.max_batch,
                },
                "feedback": self.feedback is not None,
            }
        )

    # -- native API --------------------------------------------------------------------------

    async def score(self, request: Request) -> Response:
        self.authorize(request)
        req = parse_score(await self.json(request), max_text_bytes=self.settings.max_text_bytes)
        # A long text (a page and its thread) is scored alone, not held up in a batch.
        model = self.batched if len(req.text) <= TEXT_LIMIT else self.model
        result = await run_in_threadpool(
            score_text,
            req.text,
            model,
            terms=req.terms,
            explainer=self.explainer,
            policy=self.policy,
        )
        if req.segments:
            body = render_json(result)  # the very text `credscore score --json` prints
        else:
            body = render_json({"model": result.model, "summary": result.summary()})
        return Response(body + "\n", media_type="application/json")

    async def label(self, request: Request) -> Response:
        self.authorize(request)
        body = await self.body(request)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in JSONL_TYPES:
            options = request.query_params
            spec = self._spec(
                options.get("text_column"), options.get("id_column"), options.get("source_column")
            )
            rows = self._jsonl_rows(body, spec)
            segments = options.get("segments", "").lower() in ("1", "true", "yes")
        else:
            req = parse_label(parse_json(body), max_batch=self.settings.max_batch)
            spec = self._spec(req.text_column, req.id_column, req.source_column)
            rows = [self._row(item, spec, f"texts[{n}]") for n, item in enumerate(req.items)]
            segments = req.segments
        records = await run_in_threadpool(
            score_rows, self.model, rows, segments=segments, policy=self.policy
        )
        report = BatchReport()
        for record in records:
            report.add(record)
        if kind in JSONL_TYPES:
            out = io.StringIO()
            RowWriter(out, "jsonl").write(records)  # the very lines `credscore label` writes
            return Response(
                out.getvalue(),
                media_type="application/x-ndjson",
                headers={"X-Credscore-Report": report.line()},
            )
        counts = {"read": report.read, "labelled": report.labelled, "errors": report.errors}
        return _reply({"records": records, "report": counts})

    @staticmethod
    def _spec(text: str | None, id_column: str | None, source: str | None) -> InputSpec:
        return InputSpec(
            paths=(),
            text_column=text or "text",
            id_column=id_column or None,
            source_column=source or None,
        )

    def _row(self, item: Any, spec: InputSpec, where: str) -> Row:
        """One batch row, read as ``credscore label`` reads a JSONL line's object."""
        from classifier.inputs import make_row

        fields = item if isinstance(item, dict) else {spec.text_column: item}
        row = make_row(fields, spec, where)
        if row.text is not None and len(row.text.encode("utf-8")) > self.settings.max_text_bytes:
            problem = f"text longer than {self.settings.max_text_bytes} bytes"
            return row._replace(text=None, error=f"{where}: {problem}")
        return row

    def _jsonl_rows(self, body: bytes, spec: InputSpec) -> list[Row]:
        """The rows of a JSON-lines body; a bad line is an error row, a blank line no row."""
        from classifier.inputs import JSONLineError, make_row, parse_json

        lines = [(n, line) for n, line in enumerate(body.split(b"\n"), 1) if line.strip()]
        check_batch(len(lines), self.settings.max_batch)
        rows = []
        for n, line in lines:
            where = f"request:{n}"
            try:  # the batch reader's own parser: the same limits and messages as `label`
                fields = parse_json(line.decode("utf-8", errors="replace"))
            except JSONLineError as exc:
                rows.append(make_row({}, spec, where, str(exc)))
                continue
            if not isinstance(fields, dict):
                rows.append(make_row({}, spec, where, "not a JSON object"))
                continue
            rows.append(self._row(fields, spec, where))
        return rows

    async def summary(self, request: Request) -> Response:
        self.authorize(request)
        req = parse_summary(await self.json(request), max_rows=self.settings.max_summary_rows)
        sources = SourceSummary()
        for source, label, score, decision in req.rows:
            sources.add(source, label, score, decision)
        return _reply({"sources": sources.rows()})

    async def feedback_page(self, request: Request) -> Response:
        self.authorize(request)
        req = parse_feedback(await self.json(request), max_text_bytes=self.settings.max_text_bytes)
        verdict = Verdict(
            "page",
            req.text,
            req.label,
            client_token=req.client_token,
            community_id=req.community_id,
            source=req.source,
            decision=req.decision,
        )
        return _reply({"trainable": await self._append(verdict)})

    async def _append(self, verdict: Verdict) -> bool:
        if self.feedback is None:
            raise RequestError(
                "This server keeps no feedback; start it with --feedback FILE.",
                status="FAILED_PRECONDITION",
                error_type=None,
            )
        return await run_in_threadpool(self.feedback.append, verdict)

    # -- Perspective's API -------------------------------------------------------------------

    async def analyze(self, request: Request) -> Response:
        self.authorize(request)
        req = parse_analyze(await self.json(request))
        detected = detect_language(req.text)
        if not supported(req.languages, detected):
            if not req.drop_unsupported:
                raise language_error(req.attributes[0].name, req.languages, detected)
            return _reply(analyze_reply(req, None, self.policy, detected))
        try:
            result = await run_in_threadpool(
                score_text,
                req.text,
                self.batched,
                terms=0,
                explainer=self.explainer,
                policy=self.policy,
            )
        except InputError:  # nothing to segment: only white space was left
            raise RequestError("Comment must be non-empty.", error_type="COMMENT_EMPTY") from None
        return _reply(analyze_reply(req, result, self.policy, detected))

    async def suggest(self, request: Request) -> Response:
        self.authorize(request)
        suggestion = parse_suggestion(await self.json(request))
        detected = detect_language(suggestion.text)
        if suggestion.languages and not supported(suggestion.languages, detected):
            name = next(iter(suggestion.attributes))
            raise language_error(name, suggestion.languages, detected)
        named = suggestion.languages and all(is_english(x) for x in suggestion.languages)
        verdict = Verdict(
            "suggestscore",
            None if suggestion.do_not_store else suggestion.text,
            suggested_label(suggestion.attributes),
            attributes=suggestion.attributes,
            client_token=suggestion.client_token,
            community_id=suggestion.community_id,
            session_id=suggestion.session_id,
            language="en" if named else detected,
        )
        await self._append(verdict)
        return _reply(suggest_reply(suggestion, detected))


Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(model: Model, settings: Settings | None = None) -> Starlette:
    """The ASGI app serving ``model``.

    Parameters
    ----------
    model : Model
        A loaded, checked model (:func:`classifier.model.load_model`).
    settings : Settings, optional

    Returns
    -------
    Starlette

    Raises
    ------
    ModelError
        The manifest's operating points are malformed.
    OptionError, InputError
        The feedback file cannot be used.
    """
    service = _Service(model, settings or Settings())
    get, post = ["GET"], ["POST"]
    routes = [
        Route("/", service.page, methods=get),
        Route("/static/app.js", service.page, methods=get),
        Route("/static/app.css", service.page, methods=get),
        Route("/healthz", service.healthz, methods=get),
        Route("/v1/model", service.model_info, methods=get),
        Route("/v1/score", service.score, methods=post),
        Route("/v1/label", service.label, methods=post),
        Route("/v1/summary", service.summary, methods=post),
        Route("/v1/feedback", service.feedback_page, methods=post),
        Route("/v1alpha1/comments:analyze", service.analyze, methods=post),
        Route("/v1alpha1/comments:suggestscore", service.suggest, methods=post),
    ]
    handlers: dict[Any, Any] = {
        CredscoreError: _handle_error,
        HTTPException: _handle_error,
        ClientDisconnect: _handle_error,
        Exception: _handle_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.service = service
    return app


def create_app_from_env() -> Starlette:
    """The app, configured by ``CREDSCORE_*`` environment variables: the factory for
    ``uvicorn --factory classifier.server:create_app_from_env`` and each worker of
    ``credscore serve --workers N``; loads and checks the model once per process.

    Raises
    ------
    ModelError
        ``CREDSCORE_MODEL`` is unset or names no usable model.
    """
    folder = os.environ.get("CREDSCORE_MODEL")
    if not folder:
        raise ModelError(
            "set CREDSCORE_MODEL to a model folder ('credscore info' names the default one), "
            "or start the server with 'credscore serve'"
        )
    return create_app(load_model(folder), settings_from_env(os.environ))


def _worker(host: str, port: int, family: int, options: dict[str, Any]) -> None:
    """One worker process: its own socket on the shared address, and uvicorn on it."""
    import uvicorn

    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    uvicorn.Server(uvicorn.Config(FACTORY, **options)).run(sockets=[sock])


def _free_port(host: str, port: int, family: socket.AddressFamily) -> int:
    """``port`` (or the port the system picks for 0) when nothing listens there yet."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Without SO_REUSEPORT the bind fails if anything listens there, a server of ours too.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"{host}:{port}: {exc.strerror}; is another server running there?"
            ) from None
        return int(probe.getsockname()[1])


def run(*, host: str, port: int, workers: int = 1, access_log: bool = False) -> None:
    """Serve :func:`create_app_from_env`'s app under uvicorn until stopped.

    With several workers each process listens on a socket of its own, bound to the same address
    with ``SO_REUSEPORT``, and the kernel spreads new connections over them. uvicorn's own
    workers share one socket, and keep-alive clients then crowd onto the worker that happened
    to accept them (measured at 16 clients: one of two workers did 84% of the work). If a
    worker stops, the others are stopped too, and the exit says so.

    Raises
    ------
    InputError
        The address is taken, or a worker stopped with an error.
    """
    import multiprocessing
    import multiprocessing.connection

    import uvicorn

    options: dict[str, Any] = {
        "factory": True,
        "access_log": access_log,
        "log_level": "info" if access_log else "warning",
    }
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(FACTORY, host=host, port=port, workers=workers, **options)
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    port = _free_port(host, port, family)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(host, port, family, options)) for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def stop(*_: Any) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests under way, then exits

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        multiprocessing.connection.wait([p.sentinel for p in processes])
    except KeyboardInterrupt:
        pass  # the terminal's Ctrl-C reached the workers as well
    finally:
        stop()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        signal.signal(signal.SIGTERM, previous)
    failed = [p.exitcode for p in processes if p.exitcode not in (0, -signal.SIGTERM)]
    if failed:
        raise InputError(f"a worker stopped with exit code {failed[0]}; see the messages above")


def __getattr__(name: str) -> Any:
    """``classifier.server:app`` for ASGI servers without a factory option, built from the
    environment when first asked for, not at import."""
    if name == "app":
        app = create_app_from_env()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
