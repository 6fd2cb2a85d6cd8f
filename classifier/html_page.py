"""HTML pages -> the page structure of :mod:`classifier.structure`, with offsets.

The page's text is extracted one line per block element (white space collapsed) and the
:class:`~classifier.structure.Page`'s offsets index that text (``Page.text``), since offsets
into markup would cut through tags.

HTML is parsed by selectolax (the Lexbor HTML5 engine), imported only when a page is HTML. The
article is ``[itemprop=articleBody]``, ``.entry-content``, ``.article-body`` and the like inside
``<article>`` or ``<main>``, with the ``h1`` as headline and ``.byline``/``.author`` elements as
byline; WordPress comments are ``li.comment`` (``.comment-author .fn``, ``.comment-metadata
time``, ``.comment-content``, replies nested in ``ol.children``), Disqus comments in a saved page
are ``.post`` elements holding a ``.post-message`` (``.author``, ``.post-meta time``, replies in
``ul.children``). Navigation, headers, footers, sidebars, forms, share and tag boxes, bios and
comment controls are ``other``, named by their element. A page with neither an article container
nor comment markup falls back to the text rule on its extracted text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier.errors import InputError
from classifier.structure import (
    _SAYS,
    _START,
    Block,
    BlockKind,
    Comment,
    Page,
    _check_size,
    _classify,
    _Line,
    _other_reason,
    _structure,
    _time_of,
    collector_paused,
)

#: HTML nested deeper than this is refused: HTML5 tree building is quadratic in nesting depth.
MAX_HTML_DEPTH = 2_000

_SKIP_TAGS = frozenset(
    "script style noscript template svg iframe object embed canvas head title meta link "
    "select option input textarea button img picture source video audio map".split()
)
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd article section header footer main nav aside "
    "blockquote pre table thead tbody tfoot tr td th caption figure figcaption form fieldset "
    "legend address details summary menu hr br body html center".split()
)
_INLINE, _BLOCK, _SKIP, _TEXT = "inline", "block", "skip", "text"
#: Tag names (as selectolax gives them; "-text" for text, "-comment" for a comment) to kinds.
_TAG_KIND = (
    dict.fromkeys(_BLOCK_TAGS, _BLOCK)
    | dict.fromkeys(_SKIP_TAGS, _SKIP)  # skip wins
    | {"-text": _TEXT, "-comment": _SKIP}
)
_VOID_OR_OPTIONAL = frozenset(
    "area base br col embed hr img input link meta source track wbr p li dt dd tr td th option "
    "optgroup thead tbody tfoot colgroup rb rt rp html head body".split()
)
#: The tag pre-scan (_depth) reads the page as character codes. A tag is "<" or "</", an ASCII
#: letter, then up to the first ">"; it closes itself when "/" comes right before that ">". A
#: name is ASCII letters, digits and "-"; the longest void name has eight characters.
_NAME_CHARS = np.zeros(256, dtype=bool)
_NAME_CHARS[list(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")] = True
_LETTERS = _NAME_CHARS.copy()
_LETTERS[list(b"0123456789-")] = False
_LOWER = np.arange(256, dtype=np.uint64)
_LOWER[65:91] += 32
_WINDOW = 9  # characters of a name read: one more than the longest void name
_SHIFTS = (8 * np.arange(_WINDOW - 1)).astype(np.uint64)
_OFFSETS = np.arange(_WINDOW)
#: The void and optional names packed as _pack makes them, and the first two characters of each
#: (lower case; 0 for a name of one character) as indexes into a table of 256 * 256.
_VOID_PACKED = np.array(
    sorted(sum(c << (8 * k) for k, c in enumerate(n.encode())) for n in _VOID_OR_OPTIONAL),
    dtype=np.uint64,
)
_VOID_TWO = np.zeros(256 * 256, dtype=bool)
for _name in _VOID_OR_OPTIONAL:
    _VOID_TWO[_name.encode()[0] * 256 + (_name.encode()[1] if len(_name) > 1 else 0)] = True
_CONTENT_SELECTORS = (
    "[itemprop=articleBody]",
    ".entry-content",
    ".article-body",
    ".article-content",
    ".article__body",
    ".story-body",
    ".post-entry",
    ".single-content",
)
_BYLINE_CLASSES = frozenset(
    "byline author author-name entry-author posted-on posted-by entry-meta article-meta "
    "post-author dateline".split()
)
_WP_HEADER = frozenset(
    "comment-author comment-meta comment-metadata comment-header comment-info vcard".split()
)
_WP_CONTROLS = frozenset("reply comment-reply-link comment-footer comment-actions".split())
_DQ_HEADER = frozenset("post-byline post-meta comment__header author".split())
_DQ_CONTROLS = frozenset("comment__footer comment-footer__menu post-menu voting".split())
_CHROME_TAGS = {
    "nav": "navigation",
    "header": "page header",
    "footer": "page footer",
    "aside": "sidebar",
    "form": "form",
}
_CHROME_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("navigation", ("nav", "navigation", "menu", "breadcrumb", "breadcrumbs", "skip-link")),
    ("share buttons", ("share", "sharing", "sharedaddy", "social", "share-buttons")),
    ("tags", ("tags", "tag-links", "post-tags", "cat-links", "entry-categories", "categories")),
    ("author bio", ("author-bio", "about-author", "author-box", "author-info", "bio")),
    ("related links", ("related", "jp-relatedposts", "related-posts", "recommended")),
    ("advertisement", ("ad", "ads", "advert", "advertisement", "sponsored", "ad-slot")),
    ("newsletter box", ("newsletter", "subscribe")),
    ("comment form", ("comment-respond", "respond", "comment-form")),
    ("comments heading", ("comments-title",)),
)


@dataclass(frozen=True)
class _Marks:
    """What an element's ``class`` attribute says about its text, worked out once per value."""

    classes: frozenset[str]
    chrome_rank: int  # index in _CHROME_CLASSES of the first reason its classes give, or past it
    header: tuple[bool, bool]  # a comment header class, (WordPress, Disqus)
    controls: tuple[bool, bool]  # a comment controls class, (WordPress, Disqus)
    byline: bool
    fn: bool
    author: bool
    time_ago: bool


#: _Marks by class attribute value: a page repeats a few values on every comment. Emptied when
#: full, so that a process reading many pages does not keep every page's classes.
_MARKS: dict[str | None, _Marks] = {}
_MAX_MARKS = 4096
#: Index in _CHROME_CLASSES of the first reason whose names hold an element's id.
_ID_RANK = {
    name: rank for rank, (_, names) in reversed(list(enumerate(_CHROME_CLASSES))) for name in names
}


def _marks_of(value: str | None) -> _Marks:
    marks = _MARKS.get(value)
    if marks is None:
        if len(_MARKS) >= _MAX_MARKS:
            _MARKS.clear()
        classes = frozenset(value.split()) if value else frozenset()
        marks = _MARKS[value] = _Marks(
            classes,
            _chrome_rank(classes),
            (bool(classes & _WP_HEADER), bool(classes & _DQ_HEADER)),
            (bool(classes & _WP_CONTROLS), bool(classes & _DQ_CONTROLS)),
            bool(classes & _BYLINE_CLASSES),
            "fn" in classes,
            "author" in classes,
            "time-ago" in classes,
        )
    return marks


def _classes(node: Any) -> frozenset[str]:
    return _marks_of(node.attributes.get("class") if node.is_element_node else None).classes


def _chrome_rank(classes: frozenset[str]) -> int:
    """The first page-chrome reason an element's classes give (a name, or a name's first word
    with "-" or "_" after it), as an index in _CHROME_CLASSES."""
    for rank, (_, names) in enumerate(_CHROME_CLASSES):
        if classes.intersection(names):
            return rank
        if any(c.startswith(n + "-") or c.startswith(n + "_") for c in classes for n in names[:1]):
            return rank
    return len(_CHROME_CLASSES)


def _chrome_reason(marks: _Marks, ident: str | None) -> str | None:
    """Why an element is page chrome by its classes or id (the first reason in
    _CHROME_CLASSES that either gives), or None."""
    rank = marks.chrome_rank
    if ident is not None:
        rank = min(rank, _ID_RANK.get(ident, rank))
    return _CHROME_CLASSES[rank][0] if rank < len(_CHROME_CLASSES) else None


def _depth(html: str) -> int:
    """Nesting depth the markup asks for, counting elements that must be closed (a pre-check).

    Every tag opens an element but a void or optional one ("<br>", "<p>", "<li>") and one that
    closes itself ("<br/>"); every end tag closes one, but not the end tag of a void or optional
    element, and not with nothing open (the HTML5 parser ignores it). Computed on arrays of
    character codes, in time linear in the page (a scan tag by tag in Python took longer than
    parsing the page).
    """
    codes = _codes(html)
    starts, ends, closing = _tag_spans(codes)
    if not len(starts):
        return 0
    self_closing = codes[ends - 1] == 47  # "/>"
    # Only a tag whose first two characters start a void or optional name may be one.
    second = codes[starts + 1]
    two = _LOWER[codes[starts]] * 256 + np.where(_NAME_CHARS[second], _LOWER[second], 0)
    maybe = np.flatnonzero(_VOID_TWO[two.astype(np.int64)])
    void = np.zeros(len(starts), dtype=bool)
    if len(maybe):
        name = codes[starts[maybe, None] + _OFFSETS]
        is_name = _NAME_CHARS[name]
        length = np.where(is_name.all(axis=1), _WINDOW, is_name.argmin(axis=1))
        chars = np.where(_OFFSETS[:-1] < length[:, None], _LOWER[name[:, :-1]], 0)
        packed = (chars << _SHIFTS).sum(axis=1, dtype=np.uint64)
        void[maybe] = (length < _WINDOW) & np.isin(packed, _VOID_PACKED)
    steps = np.where(self_closing | void, 0, np.where(closing, -1, 1))
    # The depth never goes below 0: the running sum less its lowest point so far (if below 0).
    total = np.cumsum(steps)
    return int(max(0, (total - np.minimum.accumulate(np.minimum(total, 0))).max()))


def _codes(html: str) -> Any:
    """The page's character codes, past 255 as 255 (no tag character), and _WINDOW + 2 zeros."""
    if html.isascii():
        data = np.frombuffer(html.encode("ascii"), dtype=np.uint8)
    else:
        wide = np.frombuffer(html.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        data = np.minimum(wide, 255).astype(np.uint8)
    return np.concatenate([data, np.zeros(_WINDOW + 2, dtype=np.uint8)])


def _tag_spans(codes: Any) -> tuple[Any, Any, Any]:
    """Where each tag's name starts, where its ">" is, and whether it is an end tag.

    A "<" starts a tag when "/" or not, then a letter, follow it and a ">" comes later; a "<"
    between a tag's "<" and its ">" is inside it (the first of those that starts a tag wins).
    """
    opens = np.flatnonzero(codes == 60)
    closes = np.flatnonzero(codes == 62)
    following = np.searchsorted(closes, opens)
    opens = opens[following < len(closes)]
    ends = closes[following[: len(opens)]]
    closing = codes[opens + 1] == 47
    starts = opens + 1 + closing
    tag = _LETTERS[codes[starts]]
    starts, ends, closing = starts[tag], ends[tag], closing[tag]
    first = np.ones(len(ends), dtype=bool)
    first[1:] = ends[1:] != ends[:-1]
    return starts[first], ends[first], closing[first]


@dataclass
class _HtmlComment:
    index: int
    parent: int | None
    content: bool  # has a content element: text outside it and the header is controls
    owner: int  # mem_id of the comment's element
    system: str  # "wp" | "disqus"
    has_author: bool = False
    has_time: bool = False
    author: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    header: list[int] = field(default_factory=list)  # line numbers
    body: list[int] = field(default_factory=list)


#: A role: ("article", kind) | ("comment", index, part) | ("other", reason) | ("page",)
_Role = tuple[Any, ...]


class _Extractor:
    """Walks the DOM once, writing one line per block of text, each with its role; the page's
    text is the lines joined by newlines."""

    def __init__(self) -> None:
        self.length = 0  # of the text so far
        self.pending: list[str] = []  # text of the line being written, non-empty with its role
        self.pending_role: _Role | None = None
        self.lines: list[tuple[int, int, str, _Role]] = []
        self.capture: list[list[str]] = []

    def text(self, value: str, role: _Role) -> None:
        if role is not self.pending_role and role != self.pending_role:
            if self.pending:
                self.flush()
            self.pending_role = role
        self.pending.append(value)
        if self.capture:
            for target in self.capture:
                target.append(value)

    def flush(self) -> None:
        """End the line being written."""
        pending, role = self.pending, self.pending_role
        if pending and role is not None:
            line = pending[0] if len(pending) == 1 else "".join(pending)
            if not (line.isascii() and line.isprintable()) or "  " in line or line[:1] == " ":
                line = " ".join(line.split())  # white space collapsed and stripped
            elif line[-1:] == " ":
                line = line[:-1]  # one space and printable ASCII otherwise: nothing to collapse
            if line:
                start = self.length + 1 if self.lines else 0
                self.length = end = start + len(line)
                self.lines.append((start, end, line, role))
            self.pending = []
            self.pending_role = None


def parse_html_page(html: str, *, name: str = "<page>") -> Page:
    """The structure of an HTML page (see the module docstring).

    Parameters
    ----------
    html : str
        The page's HTML source (broken markup is repaired as browsers do).
    name : str
        What to call the input in error messages.

    Returns
    -------
    Page
        ``source_kind`` ``"html"``; ``text`` is the page's extracted text and every offset
        indexes it.

    Raises
    ------
    InputError
        The page is over :data:`MAX_PAGE_CHARS`, holds NUL characters, is nested deeper than
        :data:`MAX_HTML_DEPTH`, or holds no text.
    """
    _check_size(html, name)
    depth = _depth(html)
    if depth > MAX_HTML_DEPTH:
        raise InputError(
            f"{name}: the HTML nests {depth:,} elements deep (over {MAX_HTML_DEPTH:,}): it is "
            "broken or machine-made; save the page again, or paste its text instead"
        )
    try:
        from selectolax.lexbor import LexborHTMLParser
    except ImportError:  # pragma: no cover - an install without the dependency
        raise InputError("reading HTML needs selectolax: pip install selectolax") from None
    try:
        tree = LexborHTMLParser(html)
    except Exception as exc:  # the parser's own errors are not part of its API
        raise InputError(f"{name}: the HTML parser cannot read this page ({exc})") from None
    root = tree.body or tree.root
    if root is None:
        raise InputError(f"{name}: the HTML page holds no text")
    with collector_paused():
        found = _find_structure(tree)
        extractor = _Extractor()
        comments: list[_HtmlComment] = []
        _walk(root, found, extractor, comments)
        extractor.flush()
        text = "\n".join(line for _, _, line, _ in extractor.lines)
        if not text.strip():
            raise InputError(
                f"{name}: the HTML page holds no text (only markup, scripts or styles)"
            )
        if not found.article and not found.comments:
            return _fallback(text, extractor.lines)
        return _assemble(text, extractor.lines, comments)


@dataclass
class _Found:
    comments: dict[int, str] = field(default_factory=dict)  # mem_id -> "wp" | "disqus"
    pingbacks: set[int] = field(default_factory=set)
    contents: set[int] = field(default_factory=set)  # comment content elements
    with_content: set[int] = field(default_factory=set)  # elements holding a content element
    article: int | None = None
    body: int | None = None
    headline: int | None = None


def _nearest(node: Any, test: Any) -> Any:
    while node is not None and node.is_element_node:
        if test(node):
            return node
        node = node.parent
    return None


def _find_structure(tree: Any) -> _Found:
    """Locate comments, the article and its body and headline by the common markup."""
    found = _Found()
    for content in tree.css(".comment-content, .comment-body"):
        owner = content  # the nearest li, article or div of class "comment", itself included
        while owner is not None and owner.is_element_node:
            if owner.tag in ("li", "article", "div") and "comment" in _classes(owner):
                break
            owner = owner.parent
        if owner is not None and owner.is_element_node:
            found.comments[owner.mem_id] = "wp"
            if "comment-content" in _classes(content):
                found.contents.add(content.mem_id)
    for content in tree.css(".comment-content, .post-message"):
        # Mark it and its ancestors, up to one already marked: linear in the page.
        node = content
        while node is not None and node.is_element_node and node.mem_id not in found.with_content:
            found.with_content.add(node.mem_id)
            node = node.parent
    for pingback in tree.css("li.pingback, li.trackback"):
        found.pingbacks.add(pingback.mem_id)
    for message in tree.css(".post-message"):
        owner = _nearest(message.parent, lambda n: "post" in _classes(n))
        if owner is not None:
            found.comments[owner.mem_id] = "disqus"
            found.contents.add(message.mem_id)

    def outside_comments(node: Any) -> bool:
        comments = found.comments
        while node is not None and node.is_element_node:
            if node.mem_id in comments:
                return False
            node = node.parent
        return True

    article = None
    for candidate in tree.css("article, main, [role=main]"):
        if candidate.mem_id not in found.comments and outside_comments(candidate):
            article = candidate
            break
    scope = article if article is not None else tree
    for selector in _CONTENT_SELECTORS:
        body = next((n for n in scope.css(selector) if outside_comments(n)), None)
        if body is not None:
            found.body = body.mem_id
            break
    if article is not None:
        found.article = article.mem_id
    elif found.body is not None:
        found.article = found.body
    h1 = next((n for n in scope.css("h1") if outside_comments(n)), None)
    if h1 is None and found.article is not None:
        h1 = next((n for n in tree.css("h1") if outside_comments(n)), None)
    if h1 is not None:
        found.headline = h1.mem_id
    return found


def _role_of(
    node: Any,
    tag: str,
    role: _Role,
    found: _Found,
    comments: list[_HtmlComment],
    extractor: _Extractor,
) -> _Role:
    """The role of an element's text, from its own markup and its parent's role."""
    mem = node.mem_id
    if mem in found.pingbacks:
        return ("other", "pingback")
    if mem in found.comments:
        parent = role[1] if role[0] == "comment" else None
        has_content = mem in found.with_content
        comments.append(_HtmlComment(len(comments), parent, has_content, mem, found.comments[mem]))
        return ("comment", len(comments) - 1, "body")
    if role[0] == "comment" and role[2] == "content":
        return role  # inside a comment's content only a nested comment or pingback is news
    attributes = node.attributes
    marks = _MARKS.get(attributes.get("class")) or _marks_of(attributes.get("class"))
    if role[0] == "comment":
        return _comment_part(tag, marks, mem in found.contents, role, comments, extractor)
    if mem == found.headline:
        return ("article", "headline")
    reason = _chrome_reason(marks, attributes.get("id"))
    if (
        reason is None
        and tag in _CHROME_TAGS
        and (tag in ("nav", "aside", "form") or role == ("page",) or found.article is None)
    ):
        reason = _CHROME_TAGS[tag]
    if role[0] == "other":  # the most specific reason names the text
        return ("other", reason) if reason is not None else role
    if reason is not None and mem not in (found.article, found.body):
        return ("other", reason)
    if mem == found.body:
        return ("article", "body")
    if mem == found.article:
        return ("article", "body" if found.body is None else "frame")
    if role[0] == "article":
        if marks.byline or attributes.get("rel") == "author":
            return ("article", "byline")
        return role
    return role


def _comment_part(
    tag: str,
    marks: _Marks,
    content: bool,
    role: _Role,
    comments: list[_HtmlComment],
    extractor: _Extractor,
) -> _Role:
    """The role of an element inside a comment: header, content, controls; author and time
    elements start capturing their text."""
    index, part = role[1], role[2]
    item = comments[index]
    wp = item.system == "wp"
    if content:  # a content element, even where broken markup left it inside the header
        return ("comment", index, "content")
    if part == "body":
        if marks.header[0 if wp else 1] or (not wp and tag == "header"):
            part = "header"
        elif marks.controls[0 if wp else 1] or tag == "menu" or (not wp and tag == "footer"):
            return ("other", "comment controls")
    if part == "header":
        if not item.has_author and (marks.fn or (not wp and marks.author)):
            item.has_author = True
            extractor.capture.append(item.author)
            return ("comment", index, "header", "capture")
        if not item.has_time and (tag == "time" or marks.time_ago):
            item.has_time = True
            extractor.capture.append(item.time)
            return ("comment", index, "header", "capture")
    return ("comment", index, part)


def _walk(root: Any, found: _Found, extractor: _Extractor, comments: list[_HtmlComment]) -> None:
    """Depth-first over the DOM without recursion (pages nest deep), one role per element."""
    role: _Role = ("page",) if found.article is not None else ("article", "body")
    text_role: _Role | None = None  # the role of the text directly inside, once needed
    stack: list[tuple[_Role, bool, int]] = []  # (role, block element, captures pushed)
    capture = extractor.capture
    news = found.pingbacks | found.comments.keys()  # what changes a role inside content
    node = root.child
    root_id = root.mem_id
    while node is not None:
        tag = node.tag
        kind = _TAG_KIND.get(tag) or (_INLINE if node.is_element_node else _SKIP)
        if kind is _TEXT:
            value = node.text_content
            if value:
                if text_role is None:
                    text_role = _line_role(role[:3], comments)
                extractor.text(value, text_role)
        elif kind is not _SKIP:
            block = kind is _BLOCK
            if block and extractor.pending:
                extractor.flush()
            captures = len(capture)
            if role[0] == "comment" and role[2] == "content" and node.mem_id not in news:
                new_role = role  # what _role_of says inside a comment's content
            else:
                new_role = _role_of(node, tag, role, found, comments, extractor)
            child = node.child
            if tag == "br":
                if extractor.pending:
                    extractor.flush()
            elif child is None or (child.next is None and child.is_text_node):
                # No descent into a leaf ("<p>text</p>"): its text, then leave it.
                if child is not None and (value := child.text_content):
                    extractor.text(value, _line_role(new_role[:3], comments))
                if len(capture) > captures:
                    del capture[captures:]
                if block and child is not None and extractor.pending:
                    extractor.flush()
            else:
                stack.append((role, block, len(capture) - captures))
                role, text_role, node = new_role, None, child
                continue
        following = node.next  # (each .next makes a new node object: asked once)
        while following is None:  # climb: leave every element whose last child this was
            node = node.parent
            if node is None or node.mem_id == root_id or not stack:
                return
            role, block, pushed = stack.pop()
            text_role = None
            if pushed:
                del capture[len(capture) - pushed :]
            if block and extractor.pending:
                extractor.flush()
            following = node.next
        node = following


def _line_role(role: _Role, comments: list[_HtmlComment]) -> _Role:
    """A comment's body text is its content; without a content element, any other text."""
    if role[0] == "comment" and role[2] == "body" and comments[role[1]].content:
        return ("other", "comment controls")
    if role[0] == "comment" and role[2] == "content":
        return ("comment", role[1], "body")
    return role


def _runs(numbers: list[int]) -> list[list[int]]:
    """Consecutive runs of line numbers."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def _fallback(text: str, lines: list[tuple[int, int, str, _Role]]) -> Page:
    """No article or comment markup: the text rule over the extracted lines."""
    out = []
    previous_role: _Role | None = None
    for start, end, line, role in lines:
        preset = role[1] if role[0] == "other" else None
        out.append(
            _Line(start, end, line, 0, previous_role is not None and role != previous_role, preset)
        )
        previous_role = role
    _classify(out)
    return _structure(text, out, "html")


def _assemble(
    text: str, lines: list[tuple[int, int, str, _Role]], found: list[_HtmlComment]
) -> Page:
    """Article blocks, comments and ``other`` blocks from the roles of the extracted lines."""
    article_lines: list[tuple[_Line, BlockKind]] = []
    other: list[Block] = []
    headline_seen = False
    for n, (start, end, line, role) in enumerate(lines):
        kind = role[0]
        if kind == "comment":
            item = found[role[1]]
            (item.header if role[2] == "header" else item.body).append(n)
            continue
        if kind == "other":
            other.append(Block("other", start, end, line, role[1]))
            continue
        if role == ("article", "headline"):
            # One headline: what broken markup leaves inside an unclosed h1 is body text.
            role = ("article", "body") if headline_seen else role
            headline_seen = True
        if kind == "article" and role[1] == "body" and (reason := _other_reason(line)):
            other.append(Block("other", start, end, line, reason))
        elif kind == "article" and role[1] != "frame":
            if role[1] == "body" and _time_of(line) is not None:
                other.append(Block("other", start, end, line, "date line"))
            else:
                article_lines.append((_Line(start, end, line, 0, False), role[1]))
        elif kind == "article":  # inside <article> but outside its body container
            other.append(Block("other", start, end, line, "outside the article body"))
        else:  # text outside the article and the comments
            reason = _other_reason(line) or "outside the article"
            other.append(Block("other", start, end, line, reason))
    article = [Block(kind, ln.start, ln.end, ln.text) for ln, kind in article_lines]
    comments = [_comment(item, text, lines, other) for item in found]
    return Page(
        text,
        tuple(article),
        tuple(comments),
        tuple(sorted(other, key=_START)),
        "html",
    )


def _comment(
    item: _HtmlComment, text: str, lines: list[tuple[int, int, str, _Role]], other: list[Block]
) -> Comment:
    """One comment from its header and body lines; body text after its nested replies goes to
    ``other`` (shown, not scored)."""
    author = " ".join("".join(item.author).split()) or None
    time = " ".join("".join(item.time).split()) or None
    header_lines = [lines[n] for n in item.header]
    if author is None and header_lines:
        says = _SAYS.fullmatch(header_lines[0][2])
        author = says.group("name") if says else header_lines[0][2]
    if time is None:
        time = next((t for h in header_lines if (t := _time_of(h[2])) is not None), None)
    header_start = header_lines[0][0] if header_lines else None
    header_end = header_lines[-1][1] if header_lines else None
    body = item.body
    # Line numbers only grow: consecutive ones make a single run.
    runs = [body] if body and body[-1] - body[0] + 1 == len(body) else _runs(body)
    for run in runs[1:]:
        for n in run:
            start, end, line, _ = lines[n]
            other.append(Block("other", start, end, line, "comment text after its replies"))
    if runs:
        start, end = lines[runs[0][0]][0], lines[runs[0][-1]][1]
    else:
        start = end = header_end if header_end is not None else 0
    if header_start is None or header_end is None:
        header_start = header_end = start
    return Comment(
        item.index, author, time, item.parent, start, end, text[start:end], header_start, header_end
    )
