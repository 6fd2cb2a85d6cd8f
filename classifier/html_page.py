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

from classifier.errors import InputError
from classifier.structure import (
    _SAYS,
    _SPACE,
    Block,
    BlockKind,
    Comment,
    Page,
    _check_size,
    _Lazy,
    _Line,
    _other_reason,
    _structure,
    _time_of,
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
_VOID_OR_OPTIONAL = frozenset(
    "area base br col embed hr img input link meta source track wbr p li dt dd tr td th option "
    "optgroup thead tbody tfoot colgroup rb rt rp html head body".split()
)
_TAG_SCAN = _Lazy(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
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


def _classes(node: Any) -> frozenset[str]:
    value = node.attributes.get("class") if node.is_element_node else None
    return frozenset(value.split()) if value else frozenset()


def _chrome_reason(classes: frozenset[str], ident: str | None) -> str | None:
    for reason, names in _CHROME_CLASSES:
        if classes.intersection(names) or (ident is not None and ident in names):
            return reason
        if any(c.startswith(n + "-") or c.startswith(n + "_") for c in classes for n in names[:1]):
            return reason
    return None


def _depth(html: str) -> int:
    """Nesting depth the markup asks for, counting elements that must be closed (a pre-check)."""
    depth = deepest = 0
    for match in _TAG_SCAN.finditer(html):
        closing, tag, self_closing = match.groups()
        tag = tag.lower()
        if tag in _VOID_OR_OPTIONAL or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


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
    """Walks the DOM once, writing one line per block of text, each with its role."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.pending: list[str] = []
        self.pending_role: _Role | None = None
        self.lines: list[tuple[int, int, str, _Role]] = []
        self.capture: list[list[str]] = []

    def text(self, value: str, role: _Role) -> None:
        if role != self.pending_role:
            self.flush()
            self.pending_role = role
        self.pending.append(value)
        for target in self.capture:
            target.append(value)

    def flush(self) -> None:
        if self.pending and self.pending_role is not None:
            line = _SPACE.sub(" ", "".join(self.pending)).strip()
            if line:
                if self.parts:
                    self.parts.append("\n")
                    self.length += 1
                self.lines.append((self.length, self.length + len(line), line, self.pending_role))
                self.parts.append(line)
                self.length += len(line)
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
    found = _find_structure(tree)
    extractor = _Extractor()
    comments: list[_HtmlComment] = []
    _walk(root, found, extractor, comments)
    extractor.flush()
    text = "".join(extractor.parts)
    if not text.strip():
        raise InputError(f"{name}: the HTML page holds no text (only markup, scripts or styles)")
    if not found.article and not found.comments:
        return _fallback(text, extractor.lines)
    return _assemble(text, extractor.lines, comments)


@dataclass
class _Found:
    comments: dict[int, str] = field(default_factory=dict)  # mem_id -> "wp" | "disqus"
    pingbacks: set[int] = field(default_factory=set)
    contents: set[int] = field(default_factory=set)  # comment content elements
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
        owner = _nearest(
            content,
            lambda n: n.tag in ("li", "article", "div") and "comment" in _classes(n),
        )
        if owner is not None:
            found.comments[owner.mem_id] = "wp"
            if "comment-content" in _classes(content):
                found.contents.add(content.mem_id)
    for pingback in tree.css("li.pingback, li.trackback"):
        found.pingbacks.add(pingback.mem_id)
    for message in tree.css(".post-message"):
        owner = _nearest(message.parent, lambda n: "post" in _classes(n))
        if owner is not None:
            found.comments[owner.mem_id] = "disqus"
            found.contents.add(message.mem_id)

    def outside_comments(node: Any) -> bool:
        return _nearest(node, lambda n: n.mem_id in found.comments) is None

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
    role: _Role,
    found: _Found,
    comments: list[_HtmlComment],
    extractor: _Extractor,
) -> _Role:
    """The role of an element's text, from its own markup and its parent's role."""
    tag = node.tag
    classes = _classes(node)
    ident = node.attributes.get("id")
    mem = node.mem_id
    if mem in found.pingbacks:
        return ("other", "pingback")
    if mem in found.comments:
        parent = role[1] if role[0] == "comment" else None
        has_content = node.css_first(".comment-content, .post-message") is not None
        comments.append(_HtmlComment(len(comments), parent, has_content, mem, found.comments[mem]))
        return ("comment", len(comments) - 1, "body")
    if role[0] == "comment":
        index, part = role[1], role[2]
        item = comments[index]
        wp = item.system == "wp"
        if mem in found.contents:  # even where broken markup left it inside the header
            return ("comment", index, "content")
        if part == "body":
            if classes & (_WP_HEADER if wp else _DQ_HEADER) or (not wp and tag == "header"):
                part = "header"
            elif (
                classes & (_WP_CONTROLS if wp else _DQ_CONTROLS)
                or tag == "menu"
                or (not wp and tag == "footer")
            ):
                return ("other", "comment controls")
        if part == "header":
            if not item.has_author and ("fn" in classes or (not wp and "author" in classes)):
                item.has_author = True
                extractor.capture.append(item.author)
                return ("comment", index, "header", "capture")
            if not item.has_time and (tag == "time" or "time-ago" in classes):
                item.has_time = True
                extractor.capture.append(item.time)
                return ("comment", index, "header", "capture")
        return ("comment", index, part)
    if mem == found.headline:
        return ("article", "headline")
    reason = _chrome_reason(classes, ident)
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
        if classes & _BYLINE_CLASSES or node.attributes.get("rel") == "author":
            return ("article", "byline")
        return role
    return role


def _walk(root: Any, found: _Found, extractor: _Extractor, comments: list[_HtmlComment]) -> None:
    """Depth-first over the DOM without recursion (pages nest deep), one role per element."""
    base: _Role = ("page",) if found.article is not None else ("article", "body")
    stack: list[tuple[_Role, bool, int]] = []  # (role, block element, captures pushed)
    role = base
    node = root.child
    root_id = root.mem_id
    while node is not None:
        descend = False
        if node.is_text_node:
            value = node.text_content
            if value:
                line_role = role if len(role) < 4 else role[:3]
                extractor.text(value, _line_role(line_role, comments))
        elif node.is_element_node:
            tag = node.tag
            if tag not in _SKIP_TAGS:
                block = tag in _BLOCK_TAGS
                if block:
                    extractor.flush()
                captures = len(extractor.capture)
                new_role = _role_of(node, role, found, comments, extractor)
                pushed = len(extractor.capture) - captures
                if tag == "br":
                    extractor.flush()
                elif node.child is not None:
                    stack.append((role, block, pushed))
                    role = new_role
                    descend = True
                else:
                    del extractor.capture[captures:]
        if descend:
            node = node.child
            continue
        while node is not None and node.next is None:
            node = node.parent
            if node is None or node.mem_id == root_id or not stack:
                node = None
                break
            role, block, pushed = _leave(stack, extractor)
        if node is not None:
            node = node.next


def _leave(stack: list[tuple[_Role, bool, int]], extractor: _Extractor) -> tuple[_Role, bool, int]:
    """Pop an element on the way up: restore its parent's role, end its captures and line."""
    role, block, pushed = stack.pop()
    if pushed:
        del extractor.capture[len(extractor.capture) - pushed :]
    if block:
        extractor.flush()
    return role, block, pushed


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
    return _structure(text, out, "html")


def _assemble(
    text: str, lines: list[tuple[int, int, str, _Role]], found: list[_HtmlComment]
) -> Page:
    """Article blocks, comments and ``other`` blocks from the roles of the extracted lines."""
    article_lines: list[tuple[_Line, BlockKind]] = []
    other: list[Block] = []
    headline_seen = False
    for n, (start, end, line, role) in enumerate(lines):
        if role == ("article", "headline"):
            # One headline: what broken markup leaves inside an unclosed h1 is body text.
            role = ("article", "body") if headline_seen else role
            headline_seen = True
        if role[0] == "comment":
            item = found[role[1]]
            (item.header if role[2] == "header" else item.body).append(n)
        elif role[0] == "other":
            other.append(Block("other", start, end, line, role[1]))
        elif (
            role[0] == "article"
            and role[1] != "frame"
            and role[1] == "body"
            and (reason := _other_reason(line))
        ):
            other.append(Block("other", start, end, line, reason))
        elif role[0] == "article" and role[1] != "frame":
            entry = _Line(start, end, line, 0, False)
            if role[1] == "body" and _time_of(line) is not None:
                other.append(Block("other", start, end, line, "date line"))
            else:
                article_lines.append((entry, role[1]))
        elif role[0] == "article":  # inside <article> but outside its body container
            other.append(Block("other", start, end, line, "outside the article body"))
        else:  # text outside the article and the comments
            reason = _other_reason(line) or "outside the article"
            other.append(Block("other", start, end, line, reason))
    article = [Block(kind, ln.start, ln.end, ln.text) for ln, kind in article_lines]
    comments: list[Comment] = []
    for item in found:
        author = _SPACE.sub(" ", "".join(item.author)).strip() or None
        time = _SPACE.sub(" ", "".join(item.time)).strip() or None
        header_lines = [lines[n] for n in item.header]
        if author is None and header_lines:
            says = _SAYS.fullmatch(header_lines[0][2])
            author = says.group("name") if says else header_lines[0][2]
        if time is None:
            time = next((t for h in header_lines if (t := _time_of(h[2])) is not None), None)
        header_start = header_lines[0][0] if header_lines else None
        header_end = header_lines[-1][1] if header_lines else None
        runs = _runs(item.body)
        for run in runs[1:]:  # text after the comment's nested replies: shown, not scored
            for n in run:
                start, end, line, _ = lines[n]
                other.append(Block("other", start, end, line, "comment text after its replies"))
        if runs:
            start, end = lines[runs[0][0]][0], lines[runs[0][-1]][1]
        else:
            start = end = header_end if header_end is not None else 0
        if header_start is None or header_end is None:
            header_start = header_end = start
        comments.append(
            Comment(
                item.index,
                author,
                time,
                item.parent,
                start,
                end,
                text[start:end],
                header_start,
                header_end,
            )
        )
    return Page(
        text,
        tuple(article),
        tuple(comments),
        tuple(sorted(other, key=lambda b: b.start)),
        "html",
    )
