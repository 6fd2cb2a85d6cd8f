"""Document structure: a page's text -> article, comments and skipped boilerplate, with offsets.

A pasted page or a saved HTML page becomes one :class:`Page`: the article's blocks (headline,
byline, body), the reader comments (author, time, parent, body) and the ``other`` blocks
(navigation, author bios, pingbacks, share buttons, "Reply" links...), which are kept with their
offsets so that a report can list them, but never scored.

Offsets
-------
Every ``start``/``end`` indexes :attr:`Page.text`, and ``page.text[b.start:b.end] == b.text``
holds for every block and comment. For plain text, ``Page.text`` *is* the input. For HTML it is
the page's extracted text (one line per block element, white space collapsed), since offsets into
markup would cut through tags; the JSON says which (``source.kind``).

The text rule
-------------
Lines are classified one by one (a line never spans two blocks), then read top to bottom:

* A **comment header** is one of these shapes, as WordPress, Disqus and most comment systems
  render a comment when the page is copied as text:

  - a *name line* followed by a *time line* (blank lines between them are allowed);
  - a *"says:" line*, ``Name says:`` (also ``said:``, ``wrote:``), optionally followed by a time
    line; this is the shape for comments **without timestamps**;
  - a *one-line header*: ``Name • 3 hours ago``, ``Name | 23/10/2024 15:38``,
    ``Name on October 23, 2024 at 3:38 pm said:``.

  A name line has at most six words and 60 characters, a letter, and no sentence punctuation at
  its end. A time line is a date, a time or both in common formats ("October 23, 2024 at 3:38
  pm", "Oct 23, 2024", "23/10/2024 15:38", "2024-10-23 15:38", ISO 8601, "3 hours ago",
  "yesterday at 9:12"), optionally followed by "Reply", "Edit" or "Permalink". A reply marker
  right after the name or the time ("Reply to George", "In reply to George", "@George", or
  ``Name → George`` in the name line) is part of the header.

* **The article is safe from its dates.** A header whose time line is a bare date (no clock
  time, nothing relative) is only a header once the thread has begun: after a first header with
  a clock time, relative time or "says:", or after a comments heading ("6 Comments", "12
  thoughts on ...", "Leave a Reply"). A header before the first sentence of the article (a
  sentence-like line) is the byline, unless another header follows it (a page that is only a
  thread). A lone date line inside the article is ``other`` ("date line"), never a comment.
* Everything after the first header belongs to the thread: each line until the next header is
  the comment's text, except boilerplate lines, which end the comment and are ``other``; text
  between a boilerplate line and the next header is ``other`` too ("outside any comment"), so
  a thread never glues a pingback or a comment form onto a comment.
* **Parents**: a reply marker names the parent's author, and the parent is the latest earlier
  comment by that author; where the text keeps indentation, a header indented deeper than the
  one before is a reply to the nearest earlier comment indented less.
* **Boilerplate** lines (whole lines, case-insensitive): "Pingback:"/"Trackback:", "About the
  Author" (and the bio lines after it, up to three, to a blank line), "Story continues below
  advertisement", "Advertisement", "Tags:", "Filed under:", share buttons ("Share", "Facebook
  Twitter Email"), comment controls ("Reply", "Like · Reply · 3h", "Log in to Reply"),
  comments headings, comment form lines, navigation ("Skip to content", "Home | News | Sport"),
  lone numbers and counters, and a few site widgets ("GIPHY App Key not set.").
* **Article blocks**: the first line is the headline when it is short (at most 20 words) and
  does not end like a sentence; bylines are the lines at the top that read "By ...", a name and
  a date, or a date; when the first line glues headline, ``Name Surname, Month D, YYYY`` and the
  first sentence together, it is split into the three; a run of three or more capitalised words
  after the last sentence of the article's last line (a category string) is ``other``.

Each line is classified with anchored regular expressions on at most 200 characters, and the
walk looks ahead a bounded number of lines, so the structure step is linear in the text.

HTML pages are read by :mod:`classifier.html_page` into the same :class:`Page`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from classifier.errors import InputError

#: Pages longer than this (characters) are refused: a page is one document, not a corpus.
MAX_PAGE_CHARS = 5_000_000

BlockKind = Literal["headline", "byline", "body", "other"]
SourceKind = Literal["text", "html"]


class _Lazy:
    """A regular expression compiled on first use: the date patterns take tens of ms to compile,
    which a ``credscore`` start that reads no page should not pay.

    The first call compiles the pattern and binds the compiled pattern's methods onto the
    instance, where they shadow the class's methods: every later call goes straight to C.
    """

    _METHODS = ("fullmatch", "match", "search", "finditer", "findall", "split", "sub")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags

    def _compile(self) -> re.Pattern[str]:
        compiled = re.compile(self.pattern, self.flags)
        for method in self._METHODS:
            setattr(self, method, getattr(compiled, method))
        return compiled

    def fullmatch(self, text: str, *args: int) -> re.Match[str] | None:
        return self._compile().fullmatch(text, *args)

    def match(self, text: str, *args: int) -> re.Match[str] | None:
        return self._compile().match(text, *args)

    def search(self, text: str, *args: int) -> re.Match[str] | None:
        return self._compile().search(text, *args)

    def finditer(self, text: str, *args: int) -> Iterator[re.Match[str]]:
        return self._compile().finditer(text, *args)

    def findall(self, text: str, *args: int) -> list[Any]:
        return self._compile().findall(text, *args)

    def split(self, text: str) -> list[str]:
        return self._compile().split(text)

    def sub(self, replacement: str, text: str) -> str:
        return self._compile().sub(replacement, text)


@dataclass(frozen=True)
class Block:
    """A piece of the page: ``page.text[start:end] == text``.

    ``kind`` is ``headline``, ``byline`` or ``body`` for the article and ``other`` for what is
    skipped; ``reason`` says why an ``other`` block was skipped ("pingback", "author bio"...).
    """

    kind: BlockKind
    start: int
    end: int
    text: str
    reason: str = ""

    def __init__(self, kind: BlockKind, start: int, end: int, text: str, reason: str = "") -> None:
        # The fields go straight into the instance's dict: the generated __init__ sets each
        # through object.__setattr__ (the class is frozen), twice the work for a page's
        # thousands of blocks.
        self.__dict__.update(kind=kind, start=start, end=end, text=text, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.kind == "other":
            out["reason"] = self.reason
        out.update(start=self.start, end=self.end)
        return out


@dataclass(frozen=True)
class Comment:
    """One reader comment: its body is ``page.text[start:end]``, its header (name and time
    lines) ``page.text[header_start:header_end]``; ``parent`` is the index of the comment it
    replies to, when the page shows it."""

    index: int
    author: str | None
    time: str | None
    parent: int | None
    start: int
    end: int
    text: str
    header_start: int
    header_end: int

    def __init__(
        self,
        index: int,
        author: str | None,
        time: str | None,
        parent: int | None,
        start: int,
        end: int,
        text: str,
        header_start: int,
        header_end: int,
    ) -> None:
        # As Block's: the fields straight into the dict, not one object.__setattr__ each.
        self.__dict__.update(
            index=index,
            author=author,
            time=time,
            parent=parent,
            start=start,
            end=end,
            text=text,
            header_start=header_start,
            header_end=header_end,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "author": self.author,
            "time": self.time,
            "parent": self.parent,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "header_start": self.header_start,
            "header_end": self.header_end,
        }


@dataclass(frozen=True)
class Page:
    """A page's structure; every offset indexes :attr:`text` (see the module docstring)."""

    text: str
    article: tuple[Block, ...]
    comments: tuple[Comment, ...]
    other: tuple[Block, ...]
    source_kind: SourceKind

    def to_dict(self, *, include_text: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"source": source_info(self, include_text=include_text)}
        out["article"] = [b.to_dict() for b in self.article]
        out["comments"] = [c.to_dict() for c in self.comments]
        out["other"] = [b.to_dict() for b in self.other]
        return out


def source_info(page: Page, *, include_text: bool = False) -> dict[str, Any]:
    """What the offsets index: the input itself, or (HTML) the extracted text, included."""
    if page.source_kind == "text":
        return {"kind": "text", "offsets": "into the input text"}
    info: dict[str, Any] = {
        "kind": "html",
        "offsets": "into source.text, the page's extracted text",
    }
    if include_text:
        info["text"] = page.text
    return info


# ---------------------------------------------------------------------------------------------
# Line shapes (regular expressions over single lines of text; HTML is never matched by them)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_WORDS = (
    rf"(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?)"
)
_DATE_NUM = r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))"
_DATE = rf"(?:{_DATE_WORDS}|{_DATE_NUM})"
_ZONE = r"(?:\s*(?:utc|gmt|z|[a-z]{1,3}t|[+-]\d{2}:?\d{2}))?"
_CLOCK = rf"(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*(?:[ap]\.?m\.?)?|\d{{1,2}}\s*[ap]\.?m\.?){_ZONE}"
_ISO = r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?"
_UNIT = (
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|years?|yrs?|[smhdwy])"
)
_RELATIVE = (
    rf"(?:(?:about|over|almost|nearly)\s+)?(?:\d+|an?|one)\s*{_UNIT}\s+ago"
    r"|just\s+now|(?:a\s+)?moments?\s+ago|(?:yesterday|today)"
)
_JOIN = r"(?:\s*,\s*|\s+at\s+|\s*@\s*|\s+-\s+|\s*[|·•]\s*|\s+)"
_DATETIME = (
    rf"(?:{_ISO}|{_DATE}(?:{_JOIN}{_CLOCK})?|{_CLOCK}(?:\s*,\s*|\s+on\s+|\s+){_DATE}"
    rf"|(?:{_RELATIVE})(?:\s+at\s+{_CLOCK})?|{_CLOCK})"
)
_TIME_PREFIX = r"(?:(?:posted|published|commented|updated|edited)\s+(?:on\s+|at\s+)?|on\s+)?"
_TIME_SUFFIX = r"(?:\s*[|·•-]?\s*(?:reply|permalink|edit|edited|\(edited\)|link|#\d*))*"
_TIME_LINE = _Lazy(rf"{_TIME_PREFIX}(?P<time>{_DATETIME}){_TIME_SUFFIX}\s*", re.I)
#: What makes a time strong (see _is_strong): a clock ("3:38", which an ISO time holds too), "am"
#: or "pm" after a number, "ago" or "just now".
_CLOCK_MARK = _Lazy(r":(?<=\d:)\d\d")  # starts with ":", which the engine finds fast
_AM_PM = _Lazy(r"\d\s*[ap]\.?m\b", re.I)
_AGO_NOW = _Lazy(r"\bago\b|\bjust\s+now\b", re.I)

_SAYS = _Lazy(r"(?P<name>.{1,60}?)\s+(?:says|said|wrote|writes|commented)\s*:", re.I)
_ON_SAID = _Lazy(
    rf"(?P<name>.{{1,60}}?)\s+on\s+(?P<time>{_DATETIME})\s*,?\s*(?:says|said|wrote)\s*:?", re.I
)
_ONE_LINE = _Lazy(r"(?P<name>[^|•·]{1,60}?)\s*(?:[|•·]|\s-\s|\s—\s|\s–\s)\s*(?P<time>.+)")
_ONE_LINE_MARK = _Lazy(r"[|•·\-—–]")  # a one-line header holds one of these
_NAME_TO = _Lazy(
    r"(?P<name>.{1,60}?)\s*(?:→|->|▸|►|\breplied\s+to\b|\bin\s+reply\s+to\b)\s*(?P<to>.{1,60})",
    re.I,
)
_REPLY_TO = _Lazy(
    r"(?:[↪→]\s*)?(?:(?:in\s+)?reply(?:ing)?\s+to|replied\s+to)\s+(?P<to>.{1,60}?)\s*[.:]?", re.I
)
#: First words that make a "says:" line a sentence ("He said:"), not a commenter.
_NOT_NAMES = frozenset(
    "he she it they we i you the a an this that these those who which one someone everyone nobody "
    "his her their our my its".split()
)
_AT_NAME = _Lazy(r"@(?P<words>\S+(?:\s+\S+){0,5})")
_SENTENCE_END = _Lazy(r"[.!?…][\"'”’)\]]*$")
_NAME_BAD_END = _Lazy(r"[.!?,;:…]$")
_LETTER = _Lazy(r"[^\W\d_]")


def _words(pattern: str) -> _Lazy:
    return _Lazy(pattern, re.I)


#: Whole-line boilerplate patterns and the reason each gives; the first that matches wins.
_OTHER_LINES: tuple[tuple[str, _Lazy], ...] = (
    ("pingback", _words(r"(?:pingback|trackback)\s*:.*")),
    ("author bio", _words(r"about\s+the\s+(?:author|contributor|writer|reporter)s?\s*:?")),
    (
        "comments heading",
        _words(
            r"(?:\d+\s+)?(?:comments?|responses?|replies|reader\s+comments|discussion)"
            r"(?:\s*\(\d+\))?\s*:?"
            r"|(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
            r"(?:thoughts?|responses?|comments?|replies)\s+(?:on|to)\s+.+"
            r"|join\s+the\s+(?:discussion|conversation)|sort\s+by\s+\w+"
        ),
    ),
    (
        "comment form",
        _words(
            r"leave\s+a\s+(?:reply|comment)(?:\s+cancel\s+reply)?|cancel\s+reply"
            r"|(?:post|add|submit)\s+(?:a\s+)?comment|your\s+email\s+address\s+will\s+not\s+be"
            r"\s+published\..*|required\s+fields\s+are\s+marked\s*\*?"
            r"|(?:name|email|e-mail|website|comment)\s*\*|save\s+my\s+name,\s+email.*"
            r"|you\s+must\s+be\s+logged\s+in\s+to\s+post\s+a\s+comment\.?|notify\s+me\s+of\s+.*"
        ),
    ),
    (
        "advertisement",
        _words(
            r"(?:story|article)\s+continues\s+below(?:\s+(?:this\s+)?advertisement)?"
            r"|\(?advertisements?\)?|sponsored(?:\s+content)?|continue\s+reading\s+below"
            r"|scroll\s+(?:down\s+)?to\s+continue(?:\s+with\s+content)?"
        ),
    ),
    (
        "tags",
        _words(r"(?:tags|tagged(?:\s+with)?|filed\s+under|categories|category|topics)\s*:.*"),
    ),
    (
        "navigation",
        _words(
            r"skip\s+to\s+(?:main\s+)?content|(?:main\s+)?menu|home|search|log\s*in|sign\s+in"
            r"|subscribe|sign\s+up|toggle\s+navigation|(?:previous|next)\s+(?:post|article|story)"
        ),
    ),
    (
        "site widget",
        _words(
            r"giphy\s+app\s+key\s+not\s+set\.?(?:\s+please\s+check\s+settings\.?)?"
            r"|related(?:\s+(?:posts|articles|stories))?|read\s+more(?::.*)?|you\s+may\s+also\s+like"
            r"|recommended(?:\s+for\s+you)?|most\s+(?:read|popular)|trending(?:\s+now)?"
        ),
    ),
    (
        "comment controls",
        _words(
            r"(?:load|show|view|see)\s+(?:all\s+)?(?:\d+\s+)?(?:more\s+)?(?:comments?|replies|reply)"
        ),
    ),
    ("counter", _words(r"\d{1,7}(?:\s+(?:shares?|views?|likes?|votes?|points?))?")),
)
_SHARE_WORDS = frozenset(
    "share shares this article story post on via tweet email e-mail print whatsapp facebook "
    "twitter x linkedin reddit pinterest telegram copy link flipboard threads bluesky mastodon "
    "messenger sms".split()
)
_SHARE_KEYS = frozenset(
    "share tweet email print whatsapp facebook twitter linkedin reddit pinterest telegram".split()
)
_CONTROL_WORDS = frozenset(
    "reply replies report like likes dislike share flag upvote downvote vote votes permalink edit "
    "delete quote log in to view show load more hide collapse expand see link ↓ › » "
    "comment comments thread".split()
)
_CONTROL_KEYS = frozenset(
    "reply report like dislike flag upvote downvote permalink replies votes likes".split()
)
_REL_TOKEN = _Lazy(r"\d+[smhdwy]", re.I)
_BY = _Lazy(r"by\s+\S.{0,100}", re.I)
_NAME_DATE = _Lazy(rf"(?P<name>[^,|]{{1,60}}?)\s*(?:,|\||·|•|-|—)\s*(?P<time>{_DATETIME})", re.I)
_GLUED_BYLINE = _Lazy(
    rf"(?:(?<=\s)by\s+)?(?P<name>[A-Z][\w'’.-]+\s+[A-Z][\w'’-]+),\s+(?P<date>(?i:{_DATE_WORDS}))"
    rf"(?i:{_JOIN}{_CLOCK})?\s+"
)
#: A category string's words: capitalised (ASCII), then letters, digits, "_", "&", "'", "’", "-";
#: it follows sentence punctuation (see _category_tail).
_TAIL_WORD_MARKS = frozenset("_&'’-")
_TAIL_CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TAIL_AFTER = frozenset('.!?”"’)')
_MAX_SHAPE = 200  # longer lines are article or comment text, whatever they contain


#: All of them in one pattern: alternatives are tried in order, so the first still wins.
_OTHER_ANY = _Lazy(
    "|".join(f"(?P<g{n}>{p.pattern})" for n, (_, p) in enumerate(_OTHER_LINES)), re.I
)


def _other_reason(line: str) -> str | None:
    """Why a whole line is boilerplate, or None."""
    if len(line) > _MAX_SHAPE:
        return None
    match = _OTHER_ANY.fullmatch(line) if _OTHER_STARTS.may_match(line) else None
    if match:
        return _OTHER_LINES[int(str(match.lastgroup)[1:])][0]
    if len(line) > 80 or line[-1] in ".!?":  # buttons and menus do not end like sentences
        return None
    found = _tokens(line)
    # Both button rules want every token to be a button word: test the first before the rest.
    first = found[0].lower().strip(":()[]") if found else ""
    if 0 < len(found) <= 8 and (
        first in _SHARE_WORDS or first in _CONTROL_WORDS or first.isdigit() or _is_rel(first)
    ):
        tokens = [t.lower().strip(":()[]") for t in found]
        if all(t in _SHARE_WORDS for t in tokens) and any(t in _SHARE_KEYS for t in tokens):
            return "share buttons"
        if all(t in _CONTROL_WORDS or t.isdigit() or _is_rel(t) for t in tokens) and any(
            t in _CONTROL_KEYS for t in tokens
        ):
            return "comment controls"
    # Three parts or more, so two separators or more.
    if sum(map(line.count, _NAV_MARKS)) >= 2 and all(
        0 < len(p.split()) <= 3 and p[-1:] not in ".!?" for p in _nav_parts(line)
    ):
        return "navigation"
    return None


#: The only characters but ASCII letters that case-insensitive patterns match as ASCII letters
#: (U+0130, U+0131, U+017F, U+212A), or whose lower case holds one.
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
_NAV_MARKS = "|•·»›"


class _Starts:
    """How the matches of a case-insensitive pattern can start: a number, or (in lower case) one
    of a few words; a line that starts otherwise cannot match, and needs no try."""

    def __init__(self, words: str) -> None:
        starts = words.split()
        self.longest = max(map(len, starts))
        self.singles = frozenset(w for w in starts if len(w) == 1)
        self.by_two = {
            two: tuple(w for w in starts if w[:2] == two) for two in {w[:2] for w in starts}
        }

    def may_match(self, line: str) -> bool:
        """Whether a match may start ``line`` (no match starts with white space)."""
        head = line[: self.longest]
        low = head.lower()
        starts = self.by_two.get(low[:2])
        return (
            line[:1].isdecimal()  # what "\\d" matches
            or line[:1] in self.singles
            or (starts is not None and low.startswith(starts))
            or (not head.isascii() and not _FOLDS_TO_ASCII.isdisjoint(head))
        )


#: How each pattern in _OTHER_LINES can start. tests/test_structure.py checks them against the
#: patterns.
_OTHER_STARTS = _Starts(
    "pingback trackback about comment response replies reader discussion one two three four "
    "five six seven eight nine ten join sort leave cancel post add submit your required name "
    "email e-mail website save you notify story article ( advertisement sponsored continue "
    "scroll tags tagged filed categor topics skip main menu home search log sign subscribe "
    "toggle previous next giphy related read recommended most trending load show view see"
)
#: How a time line (_TIME_LINE) can start: a prefix ("posted on"), a weekday, a month or a
#: relative time ("a minute ago", "about 3 hours ago", "yesterday").
_TIME_STARTS = _Starts(
    "posted published commented updated edited on mon tue wed thu fri sat sun jan feb mar apr "
    "may jun jul aug sep oct nov dec about over almost nearly a an one just moment yesterday today"
)


def _is_rel(token: str) -> bool:
    """A relative time token ("3h", "2d"), as :data:`_REL_TOKEN` matches it."""
    return token[:1].isdecimal() and _REL_TOKEN.fullmatch(token) is not None


def _tokens(line: str) -> list[str]:
    """The runs of characters that are neither white space nor "|", "·", "•" or "/" (as
    ``re.findall(r"[^\\s|·•/]+", line)``, without a pattern)."""
    return line.replace("|", " ").replace("·", " ").replace("•", " ").replace("/", " ").split()


def _nav_parts(line: str) -> list[str]:
    """A stripped line split at "|", "•", "·", "»" and "›", white space around them dropped (as
    ``re.split(r"\\s*(?:\\||•|·|»|›)\\s*", line)``, without a pattern)."""
    line = line.replace("•", "|").replace("·", "|").replace("»", "|").replace("›", "|")
    return [part.strip() for part in line.split("|")]


def _time_of(line: str) -> str | None:
    """The date/time a whole line states, or None."""
    if len(line) > 80 or not _TIME_STARTS.may_match(line):
        return None
    match = _TIME_LINE.fullmatch(line)
    return match.group("time") if match else None


def _is_strong(time: str) -> bool:
    """A clock time or a relative time: a comment stamp rather than an article's dateline.

    Each pattern is tried only if the time holds a character it needs ("m" and "o" have no
    other case-insensitive matches).
    """
    if ":" in time and _CLOCK_MARK.search(time):
        return True
    if ("m" in time or "M" in time) and _AM_PM.search(time):
        return True
    return ("o" in time or "O" in time) and _AGO_NOW.search(time) is not None


def _name_shape(line: str) -> str | None:
    """``line`` as a name line, given that it is neither a time nor boilerplate."""
    if not 0 < len(line) <= 60 or len(line.split()) > 6 or _NAME_BAD_END.search(line):
        return None
    return line if _LETTER.search(line) else None


@functools.lru_cache(maxsize=4096)  # a thread names its commenters again and again
def _name_of(line: str) -> str | None:
    """``line`` as a commenter's name line, or None."""
    if _name_shape(line) is None or _time_of(line) is not None or _other_reason(line):
        return None
    return line


def _reply_to(line: str) -> str | None:
    """The author a reply-marker line names ("Reply to X", "In reply to X", "@X"), or None."""
    if len(line) > 70:
        return None
    match = _REPLY_TO.fullmatch(line)
    if not match or len(match.group("to").split()) > 6:
        return None
    return match.group("to").strip()


@functools.lru_cache(maxsize=4096)
def _split_name(name: str) -> tuple[str, str | None]:
    """``Name → Parent`` or ``Name replied to Parent`` -> (name, parent name)."""
    match = _NAME_TO.fullmatch(name)
    if match and _name_of(match.group("name")) and _name_of(match.group("to")):
        return match.group("name").strip(), match.group("to").strip()
    return name, None


def _may_end_said(line: str) -> bool:
    """Whether ``line`` may end as :data:`_ON_SAID` wants: "says", "said" or "wrote", then
    perhaps white space and ":" (checked without a pattern when the end is ASCII)."""
    end = line.rstrip(":").rstrip()[-5:]
    return not end.isascii() or end.lower().endswith(("says", "said", "wrote"))


def _is_sentence(line: str) -> bool:
    """A line of running text: ends like a sentence or is long."""
    return bool(_SENTENCE_END.search(line)) or len(line.split()) > 12


# ---------------------------------------------------------------------------------------------
# Lines


@dataclass(slots=True)
class _Line:
    start: int  # offsets of the stripped line
    end: int
    text: str
    indent: int
    blank_before: bool
    preset: str | None = None  # an ``other`` reason decided by the HTML markup
    # Shapes, filled by _classify (see _Shapes)
    other: str | None = None
    time: str | None = None
    name: str | None = None
    says: str | None = None
    one_line: tuple[str, str] | None = None
    reply_to: str | None = None
    #: For a run of plain lines read as one item (see :func:`_scan`): the input's raw lines, the
    #: indexes of the run's first and last line and the offset of the first. ``text`` is then
    #: the first line's, ``end`` the last line's.
    run: tuple[list[str], int, int, int] | None = None


def _lines(text: str) -> list[_Line]:
    """Non-blank lines with offsets of their stripped text and their indentation."""
    out: list[_Line] = []
    append = out.append
    pos = 0
    blank = False
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()
        if stripped:
            if raw[0].isspace():
                lead = len(raw) - len(raw.lstrip())
                start, indent = pos + lead, len(raw[:lead].expandtabs(4))
            else:
                start, indent = pos, 0
            append(_Line(start, start + len(stripped), stripped, indent, blank and bool(out)))
            blank = False
        else:
            blank = True
        pos += len(raw)
    return out


#: A line's shapes: (other, time, name, says, one_line, reply_to), as :class:`_Line` holds them.
_Shapes = tuple[str | None, str | None, str | None, str | None, tuple[str, str] | None, str | None]
_PLAIN: _Shapes = (None, None, None, None, None, None)


def _classify(lines: list[_Line]) -> None:
    """Fill in the shapes every line has.

    A line's shapes depend on its text alone, and pages repeat their short lines ("Reply", a
    commenter's name, "Jo says:"), so each distinct text is classified once. Lines over
    :data:`_MAX_SHAPE` characters have no shape; a line that ends like a sentence skips the
    header tests, whose every shape ends otherwise.
    """
    known: dict[str, _Shapes] = {}
    memo = _Memo()
    for line in lines:
        if line.preset is not None:
            line.other = line.preset
            continue
        text = line.text
        if len(text) > _MAX_SHAPE:
            continue
        shapes = known.get(text)
        if shapes is None:
            shapes = known[text] = _shapes(text, memo)
        if shapes is not _PLAIN:
            line.other, line.time, line.name, line.says, line.one_line, line.reply_to = shapes


#: Line breaks other than "\n" and "\r\n" (``str.splitlines`` breaks at them too); a text
#: holding one is read line by line by :func:`_lines`.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: What a line that ends like a sentence must start with to be boilerplate (the first word of
#: each pattern in _OTHER_LINES that can end in ".", "!" or "?"), in lower case, and their first
#: three letters. tests/test_structure.py checks them against the patterns.
_OTHER_HEADS = tuple(
    "pingback trackback one two three four five six seven eight nine ten your you save notify "
    "tag topics filed categor giphy read".split()
)
_HEADS3 = frozenset(head[:3] for head in _OTHER_HEADS)
#: First characters of a line that may be plain: ASCII, no number ("12 thoughts on ...") and no
#: reply marker ("In reply to", "Reply to").
_PLAIN_FIRST = frozenset(chr(c) for c in range(32, 127)) - frozenset("IiRr0123456789")


def _scan(text: str) -> list[_Line] | None:
    """The classified lines of ``text``, each run of plain lines (see :func:`_plain`) as one
    item; None when the text breaks lines at anything but "\\n" or "\\r\\n".

    The same lines as :func:`_lines` and :func:`_classify` give, but a line that ends like a
    sentence and starts no boilerplate word or reply marker (most lines of running text) is
    known to be plain without any pattern, and only the first line of a run gets an object.
    """
    if _other_breaks(text):
        return None
    raws = text.split("\n")
    items: list[_Line] = []
    known: dict[str, _Shapes] = {}
    memo = _Memo()
    pos = 0
    blank = False
    run: list[int] = []  # the open run: first line's index, its offset, blank before it
    last = last_pos = 0  # the open run's last line and its offset
    for n, raw in enumerate(raws):
        stripped = raw.strip()
        if not stripped:
            blank = True
            pos += len(raw) + 1
            continue
        if (
            (  # _plain(stripped), inlined: most lines are plain
                stripped[-1] in ".!?"
                and stripped[0] in _PLAIN_FIRST
                and stripped[-2:] not in _M_ENDS
                and stripped[:3].isascii()
                and stripped[:3].lower() not in _HEADS3
            )
            or len(stripped) > _MAX_SHAPE
        ):
            shapes = _PLAIN
        else:
            shapes = known.get(stripped) or _remember_shapes(stripped, known, memo)
        if shapes is _PLAIN:
            if not run:
                run = [n, pos, blank and bool(items)]
            last, last_pos = n, pos
        else:
            if run:
                items.append(_run_item(raws, run, last, last_pos))
                run = []
            lead = len(raw) - len(raw.lstrip()) if raw[0].isspace() else 0
            indent = len(raw[:lead].expandtabs(4)) if lead else 0
            start = pos + lead
            end = start + len(stripped)
            items.append(_Line(start, end, stripped, indent, blank and bool(items), None, *shapes))
        blank = False
        pos += len(raw) + 1
    if run:
        items.append(_run_item(raws, run, last, last_pos))
    return items


def _remember_shapes(stripped: str, known: dict[str, _Shapes], memo: _Memo) -> _Shapes:
    """A line's shapes, kept in ``known`` (a thread repeats its header lines), plain ones as
    the one :data:`_PLAIN` object so that ``is`` tells them."""
    found = _shapes(stripped, memo)
    found = known[stripped] = _PLAIN if found == _PLAIN else found
    return found


_M_ENDS = ("m.", "M.")  # "3 p.m.": a time, not the end of a sentence


def _other_breaks(text: str) -> bool:
    """Whether ``text`` breaks a line at anything but "\\n" and "\\r\\n"."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    return any(c in text for c in _OTHER_BREAKS)


def _plain(line: str) -> bool:
    """Whether a stripped line surely has no shape: over :data:`_MAX_SHAPE` characters, or
    ending like a sentence (not in "m.") and starting no boilerplate word, number or reply
    marker (as :func:`_scan` tests it, inlined).

    Every boilerplate pattern that can end in ".", "!" or "?" starts with one of
    :data:`_OTHER_HEADS`, ASCII words of three letters or more: a line whose first three
    characters are ASCII and start none of them does not match one (case-insensitively).
    """
    return len(line) > _MAX_SHAPE or (
        line[-1] in ".!?"
        and line[0] in _PLAIN_FIRST
        and line[-2:] not in _M_ENDS
        and line[:3].isascii()
        and line[:3].lower() not in _HEADS3
    )


def _run_item(raws: list[str], run: list[int], last: int, last_pos: int) -> _Line:
    """One item for the plain lines ``raws[run[0]:last + 1]`` (blank ones among them)."""
    first, pos, blank = run
    raw = raws[first]
    lead = len(raw) - len(raw.lstrip())
    indent = len(raw[:lead].expandtabs(4)) if lead else 0
    tail = raws[last]
    end = last_pos + len(tail) - len(tail.lstrip()) + len(tail.strip())
    line = _Line(pos + lead, end, raw.strip(), indent, bool(blank))
    line.run = (raws, first, last, pos)
    return line


def _expand(item: _Line) -> list[_Line]:
    """The lines a run item stands for, as :func:`_lines` gives them (all plain)."""
    if item.run is None:
        return [item]
    raws, first, last, pos = item.run
    out: list[_Line] = []
    blank = item.blank_before
    for raw in raws[first : last + 1]:
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            indent = len(raw[:lead].expandtabs(4)) if lead else 0
            out.append(_Line(pos + lead, pos + lead + len(stripped), stripped, indent, blank))
            blank = False
        else:
            blank = True
        pos += len(raw) + 1
    return out


#: Every ASCII digit to "0": neither the boilerplate nor the time test tells digits apart (their
#: patterns hold "\\d", no digit), so lines that differ only in digits share their results.
_ZEROS = str.maketrans("123456789", "000000000")
_ZERO_BYTES = bytes.maketrans(b"123456789", b"000000000")


def _zeros(line: str) -> str:
    """``line.translate(_ZEROS)`` for an ASCII line (as bytes, much faster), else ``line``."""
    return line.encode().translate(_ZERO_BYTES).decode() if line.isascii() else line


class _Memo:
    """The boilerplate and time tests of one page's lines, kept by the line with its digits as
    zeros (an ASCII line's): a thread's time stamps ("October 3, 2024 at 3:02 pm") come in a
    few shapes."""

    def __init__(self) -> None:
        self.other: dict[str, str | None] = {}
        self.times: dict[str, tuple[int, int] | None] = {}

    def other_reason(self, line: str) -> str | None:
        """:func:`_other_reason`, once per shape of digits."""
        key = _zeros(line)
        if key in self.other:
            return self.other[key]
        reason = self.other[key] = _other_reason(key)
        return reason

    def time_of(self, line: str) -> str | None:
        """:func:`_time_of`, once per shape of digits: the time's place in the line is kept."""
        key = _zeros(line)
        if key in self.times:
            span = self.times[key]
        else:
            match = None
            if len(key) <= 80 and _TIME_STARTS.may_match(key):
                match = _TIME_LINE.fullmatch(key)
            span = self.times[key] = match.span("time") if match else None
        return None if span is None else line[span[0] : span[1]]


def _shapes(text: str, memo: _Memo | None = None) -> _Shapes:
    """The shapes of a line of at most :data:`_MAX_SHAPE` characters (each test is anchored);
    ``memo`` keeps the boilerplate and time tests of the lines read so far."""
    memo = memo if memo is not None else _Memo()
    other = memo.other_reason(text)
    if other is not None:
        return (other, None, None, None, None, None)
    if text[-1] in ".!?…" and not text.endswith(("m.", "M.")):
        # Ends like a sentence: no name, time or "says:" line does; a reply marker may.
        reply = _reply_to(text) if text[:1] in "IiRr↪→" else None
        return _PLAIN if reply is None else (None, None, None, None, None, reply)
    time = memo.time_of(text)
    if time is not None:
        return (None, time, None, None, None, None)
    reply_to = _reply_to(text)
    says = _SAYS.fullmatch(text) if text[-1] == ":" else None  # the pattern ends in ":"
    # A name before "says:" may end in an initial ("Dave R. says:"), but has no comma.
    if (
        says
        and _name_of(says.group("name").strip().rstrip("."))
        and "," not in says.group("name")
        and says.group("name").split()[0].casefold() not in _NOT_NAMES
    ):
        return (None, None, None, says.group("name").strip(), None, reply_to)
    on_said = _ON_SAID.fullmatch(text) if _may_end_said(text) else None
    if on_said and _name_of(on_said.group("name").strip()):
        one_line = (on_said.group("name").strip(), on_said.group("time"))
        return (None, None, None, None, one_line, reply_to)
    one = _ONE_LINE.fullmatch(text) if _ONE_LINE_MARK.search(text) else None
    if one:
        name, one_time = one.group("name").strip(), memo.time_of(one.group("time").strip())
        if one_time is not None and _name_of(name):
            return (None, None, None, None, (name, one_time), reply_to)
    name_line = _name_shape(text) if reply_to is None else None
    return (None, None, name_line, None, None, reply_to)


# ---------------------------------------------------------------------------------------------
# Headers


@dataclass(slots=True)
class _Header:
    first: int  # line indexes: lines[first:after] are the header
    after: int
    author: str
    time: str | None
    reply_to: str | None
    strong: bool


def _header_at(lines: list[_Line], i: int, *, many_says: bool) -> _Header | None:
    """The comment header starting at line ``i``, if the lines there have a header's shape.

    Blank lines may come between a header's lines, but not before a reply marker that follows
    the header. A "says:" line without a time line is a strong header only when the page has
    several.
    """
    n = len(lines)
    line = lines[i]
    reply_to: str | None = None
    if line.says is not None:
        author, parent = _split_name(line.says)
        after, time = i + 1, None
        if after < n and lines[after].time is not None:
            time, after = lines[after].time, after + 1
        strong = time is not None or many_says
    elif line.one_line is not None:
        author, parent = _split_name(line.one_line[0])
        time, after = line.one_line[1], i + 1
        strong = _is_strong(time)
    elif line.name is not None:
        author, parent = _split_name(line.name)
        j = i + 1
        if j < n and lines[j].reply_to is not None:
            reply_to = lines[j].reply_to
            j += 1
        if j >= n or lines[j].time is None:
            return None
        time, after = lines[j].time, j + 1
        strong = _is_strong(time or "")
    else:
        return None
    if reply_to is None and after < n:
        marker = lines[after]
        if marker.reply_to is not None and not marker.blank_before:
            reply_to, after = marker.reply_to, after + 1
    return _Header(i, after, author, time, reply_to or parent, strong)


# ---------------------------------------------------------------------------------------------
# The walk


@dataclass(slots=True)
class _Open:
    """A comment being read: its header, and its body's first and last lines so far."""

    header: _Header
    header_start: int
    header_end: int
    indent: int
    body_start: int = -1  # -1: no body line yet
    body_end: int = -1
    body_first: str = ""  # the first body line's text

    def add(self, line: _Line) -> None:
        """One more line (or run of lines) of the comment's text."""
        if self.body_start < 0:
            self.body_start, self.body_first = line.start, line.text
        self.body_end = line.end


class _Builder:
    """Collects blocks and comments in order while the lines are read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.article: list[tuple[_Line, BlockKind]] = []
        self.other: list[Block] = []
        self.comments: list[Comment] = []
        self.by_author: dict[str, int] = {}
        self.indents: list[tuple[int, int]] = []  # (indent, comment index), a stack

    def skip(self, line: _Line, reason: str) -> None:
        self.other.append(Block("other", line.start, line.end, line.text, reason))

    def close(self, item: _Open) -> None:
        """Turn an open comment into a :class:`Comment` and resolve its parent."""
        header = item.header
        if item.body_start >= 0:
            start, end = item.body_start, item.body_end
        else:
            start = end = item.header_end
        index = len(self.comments)
        parent = self._parent(header.reply_to, item, index)
        text = self.text[start:end]
        self.comments.append(
            Comment(
                index,
                header.author,
                header.time,
                parent,
                start,
                end,
                text,
                item.header_start,
                item.header_end,
            )
        )
        self.by_author[header.author.casefold()] = index

    def _parent(self, reply_to: str | None, item: _Open, index: int) -> int | None:
        if reply_to is None and item.body_first[:1] == "@":
            at = _AT_NAME.match(item.body_first)
            if at:
                # "@Jane Doe thanks": try the longest run of words that names an earlier author.
                words = at.group("words").split()
                for n in range(len(words), 0, -1):
                    name = " ".join(words[:n]).rstrip(",:;.!?").casefold()
                    if name in self.by_author:
                        reply_to = name
                        break
        by_indent: int | None = None
        indents, indent = self.indents, item.indent
        while indents and indents[-1][0] >= indent:
            indents.pop()
        if indents:
            by_indent = indents[-1][1]
        indents.append((indent, index))
        if reply_to is not None:
            return self.by_author.get(reply_to.casefold())
        return by_indent


def parse_text_page(text: str, *, name: str = "<page>") -> Page:
    """The structure of a page given as text (see the module docstring for the rule).

    Parameters
    ----------
    text : str
        The page as pasted text.
    name : str
        What to call the input in error messages (a file name, ``<stdin>``).

    Returns
    -------
    Page
        ``source_kind`` ``"text"``; every offset indexes ``text``.

    Raises
    ------
    InputError
        The text is over :data:`MAX_PAGE_CHARS` or holds NUL characters.
    """
    _check_size(text, name)
    with collector_paused():
        lines = _scan(text)
        if lines is None:
            lines = _lines(text)
            _classify(lines)
        return _structure(text, lines, "text")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused (if it runs), as while a page is read.

    Reading a page allocates tens of thousands of objects that live until it is read, in no
    reference cycle; every collection their allocation sets off walks them all again, a tenth
    of the structure step's work on a long thread.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class _Walk:
    """Where the top-to-bottom read of a page's lines is: what has been seen so far."""

    out: _Builder
    thread: bool = False  # the thread has begun: every header shape is a header
    body_seen: bool = False  # a sentence of the article has been read
    stray: str = "outside any comment"
    current: _Open | None = None
    bio_left: int = 0

    def line(self, line: _Line) -> None:
        """One line that starts no comment: boilerplate, a bio, a comment's text, the article."""
        out = self.out
        if self.bio_left and (line.blank_before or line.other is not None):
            self.bio_left = 0
        if line.other is not None:
            if self.current is not None:
                out.close(self.current)
                self.current = None
            out.skip(line, line.other)
            if line.other == "author bio" and line.preset is None:
                self.bio_left = 3
            elif line.other in ("comments heading", "comment form"):
                self.thread = True
                form = line.other == "comment form"
                self.stray = "comment form" if form else "outside any comment"
            elif self.thread:
                self.stray = "outside any comment"
        elif self.bio_left:
            out.skip(line, "author bio")
            self.bio_left -= 1
        elif self.current is not None:
            self.current.add(line)
        elif self.thread:
            out.skip(line, self.stray)
        elif line.time is not None:
            if self.body_seen:
                out.skip(line, "date line")
            else:
                out.article.append((line, "byline"))
        else:
            out.article.append((line, "body"))
            self.body_seen = self.body_seen or _is_sentence(line.text)


def _structure(text: str, lines: list[_Line], kind: SourceKind) -> Page:
    """The page from its classified lines (:func:`_classify`; a run item stands for its lines)."""
    headers, last_strong = _headers(lines)
    walk = _Walk(_Builder(text))
    out = walk.out
    i = 0
    while i < len(lines):
        line = lines[i]
        header = headers[i]
        if header is None:
            current = walk.current
            if current is not None and line.other is None and not walk.bio_left:
                # The common case in a thread (a run of text lines included): _Open.add.
                if current.body_start < 0:
                    current.body_start, current.body_first = line.start, line.text
                current.body_end = line.end
            elif line.run is not None:
                for one in _expand(line):
                    walk.line(one)
            else:
                walk.line(line)
            i += 1
        elif walk.thread or (header.strong and (walk.body_seen or header.after <= last_strong)):
            if walk.current is not None:
                out.close(walk.current)
            first, last = lines[header.first], lines[header.after - 1]
            walk.current = _Open(header, first.start, last.end, line.indent)
            walk.thread, walk.bio_left = True, 0
            i = header.after
        elif not walk.body_seen and header.strong:
            # A name and a time at the top with no thread after them: the byline.
            for j in range(header.first, header.after):
                out.article.append((lines[j], "byline"))
            i = header.after
        else:
            walk.line(line)
            i += 1
    if walk.current is not None:
        out.close(walk.current)
    article, glued = _article_blocks(text, out.article)
    other = sorted(out.other + glued, key=_START)
    return Page(text, tuple(article), tuple(out.comments), tuple(other), kind)


_START = operator.attrgetter("start")


def _headers(lines: list[_Line]) -> tuple[list[_Header | None], int]:
    """The header starting at each line, if any, and the last line where a strong one starts
    (-1 if none): a header at the top is a thread's when a strong one follows."""
    many_says = sum(line.says is not None for line in lines) >= 2
    headers: list[_Header | None] = [None] * len(lines)
    last_strong = -1
    for i, line in enumerate(lines):
        if line.says is not None or line.one_line is not None or line.name is not None:
            header = headers[i] = _header_at(lines, i, many_says=many_says)
            if header is not None and header.strong:
                last_strong = i
    return headers, last_strong


def _article_blocks(
    text: str, lines: list[tuple[_Line, BlockKind]]
) -> tuple[list[Block], list[Block]]:
    """Article blocks (headline, bylines, body) and any glued category string (``other``)."""
    blocks: list[Block] = []
    other: list[Block] = []
    if not lines:
        return blocks, other
    kinds: list[BlockKind] = [kind for _, kind in lines]
    first = lines[0][0]
    if (
        kinds[0] == "body"
        and len(lines) > 1
        and len(first.text.split()) <= 20
        and not re.search(r"[.,;:]$", first.text)
        and first.preset is None
    ):
        kinds[0] = "headline"
    # Bylines: right after the headline (or at the top), "By ...", "Name, date" or a date.
    for n in range(1 if kinds[0] == "headline" else 0, min(len(lines), 4)):
        line = lines[n][0]
        if kinds[n] == "byline":
            continue
        if _BY.fullmatch(line.text) or _NAME_DATE.fullmatch(line.text):
            kinds[n] = "byline"
        else:
            break
    for n, (line, _kind) in enumerate(lines):
        pieces = [(kinds[n], line.start, line.end)]
        if n == 0 and kinds[0] in ("body", "headline") and len(lines[0][0].text) > 80:
            pieces = _unglue_top(line) or pieces
        if n == len(lines) - 1 and pieces[-1][0] == "body":
            tail = _category_tail(text, pieces[-1][1], pieces[-1][2])
            if tail is not None:
                kind, start, end = pieces.pop()
                pieces.append((kind, start, _rstrip(text, start, tail)))
                other.append(Block("other", tail, end, text[tail:end], "site widget"))
        for kind, start, end in pieces:
            if end > start:
                blocks.append(Block(kind, start, end, text[start:end]))
    return blocks, other


def _category_tail(text: str, start: int, end: int) -> int | None:
    """Where a category string ends ``text[start:end]``, or None.

    A category string is three or more capitalised words (see :data:`_TAIL_CAPITALS` and
    :data:`_TAIL_WORD_MARKS`), separated by and preceded by white space, running to ``end``,
    after sentence punctuation (:data:`_TAIL_AFTER`); the leftmost such start wins. The words
    are read from the end, once each: a line of capitalised words costs linear time, as the
    regular expression this replaces, searched from the left, did not.
    """
    found = None
    words = 0
    pos = end
    while pos > start:
        word_end = pos
        while pos > start and (text[pos - 1].isalnum() or text[pos - 1] in _TAIL_WORD_MARKS):
            pos -= 1
        if pos == word_end or text[pos] not in _TAIL_CAPITALS:
            break
        word_start = pos
        while pos > start and text[pos - 1].isspace():
            pos -= 1
        if pos == word_start:  # no white space before the word: the run of words ends here
            break
        words += 1
        if words >= 3 and pos > 0 and text[pos - 1] in _TAIL_AFTER:
            found = word_start
    return found


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _unglue_top(line: _Line) -> list[tuple[BlockKind, int, int]] | None:
    """Headline, ``Name Surname, Month D, YYYY`` and first sentence glued into one line."""
    match = _GLUED_BYLINE.search(line.text, 0, 200)
    if not match or match.start() == 0:
        return None
    headline = line.text[: match.start()].rstrip()
    if len(headline.split()) < 2 or _SENTENCE_END.search(headline):
        return None
    at = line.start
    return [
        ("headline", at, at + len(headline)),
        (
            "byline",
            at + match.start(),
            at + match.end() - (len(match.group()) - len(match.group().rstrip())),
        ),
        ("body", at + match.end(), line.end),
    ]


# ---------------------------------------------------------------------------------------------
# Input kinds and limits

_HTML_START = _Lazy(r"\s*(?:<!doctype\s+html|<html[\s>]|<\?xml[^>]*>\s*<(?:!doctype|html))", re.I)
_HTML_TAG = _Lazy(
    r"</?(?:html|head|body|article|main|section|div|p|span|a|ul|ol|li|h[1-6]|table|tr|td|br|meta"
    r"|title|header|footer|nav|aside|time|script|style)(?:\s[^<>]*)?/?>",
    re.I,
)


def looks_like_html(text: str) -> bool:
    """Whether ``text`` is an HTML page, judged by its content.

    HTML when it starts with a doctype or ``<html>``, or when its first 64 KB hold at least
    three tags of common HTML elements (``<p>``, ``</div>``, ``<br/>``...): prose that quotes a
    tag or writes ``a < b`` stays text.
    """
    head = text[:65536].lstrip("\ufeff")
    if _HTML_START.match(head):
        return True
    return sum(1 for _, _match in zip(range(3), _HTML_TAG.finditer(head))) >= 3


def _check_size(text: str, name: str) -> None:
    if len(text) > MAX_PAGE_CHARS:
        raise InputError(
            f"{name}: the page is {len(text):,} characters, over the {MAX_PAGE_CHARS:,} a page "
            "may have; split it, or label it as rows with 'credscore label'"
        )
    if "\x00" in text:
        raise InputError(f"{name}: the page holds NUL characters: it is binary, not text or HTML")


def parse_page(text: str, *, name: str = "<page>") -> Page:
    """The structure of a page, telling HTML from text by its content.

    Parameters
    ----------
    text : str
        A page as pasted text or as HTML source; :func:`looks_like_html` decides which.
    name : str
        What to call the input in error messages.

    Returns
    -------
    Page

    Raises
    ------
    InputError
        The page is too large, binary, nested too deep, or (HTML) holds no text.
    """
    _check_size(text, name)
    if looks_like_html(text):
        from classifier.html_page import parse_html_page  # its parser loads only for HTML

        return parse_html_page(text, name=name)
    return parse_text_page(text, name=name)
