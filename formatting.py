"""Status and bio formatting: source text -> the sanitised HTML clients receive.

The markup follows Pleroma's formatter byte for byte where SPEC §4 pins it down
(mention/hashtag/link markup, `<br>` for newlines, no `<p>` around plain text,
`&#39;`-style escaping), because clients and tests compare `content` literally.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline


@dataclass(frozen=True)
class MentionTarget:
    account_id: str  # flake id string
    nickname: str  # without host
    ap_id: str  # e.g. http://127.0.0.1:5000/users/bob
    acct: str  # "bob" for local, "bob@host" for remote


@dataclass
class Rendered:
    html: str  # the content as clients see it
    mentions: list[MentionTarget]  # first-appearance order, no duplicates
    tags: list[str]  # lower-cased, first-appearance order, no duplicates
    shortcodes: list[str]  # ':shortcode:' names in the source text, no duplicates


Resolver = Callable[[str, str | None], MentionTarget | None]

# Pleroma's default scrubber allow-list; its headings are off by default, so here too.
_TAGS = {"a", "b", "blockquote", "br", "code", "del", "em", "i", "li", "ol", "p"}
_TAGS |= {"pre", "s", "span", "strong", "sub", "sup", "u", "ul"}
_ATTRIBUTES = {"a": {"class", "data-tag", "data-user", "href", "rel"}, "span": {"class"}}
_A_CLASSES = {"hashtag", "u-url", "mention", "u-url mention", "mention u-url"}
_REL_TOKENS = {"tag", "nofollow", "noopener", "noreferrer", "ugc"}
# Pleroma's default :uri_schemes; notably no javascript:, data: or vbscript:.
_URL_SCHEMES = {"http", "https", "dat", "dweb", "gopher", "hyper", "ipfs", "ipns"}
_URL_SCHEMES |= {"irc", "ircs", "magnet", "mailto", "mumble", "ssb", "xmpp"}

_URL = r"(?P<url>(?i:https?)://[^\s<>\"]+)"
# Not after a word char, "@" or "/": keeps e-mails, "@@x" and ".../@user" URLs out.
# Atomic groups keep matching linear on hostile input; a nick never ends in a dot.
_MENTION = (
    r"(?<![\w@/])@(?P<nick>(?>[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*))"
    r"(?:@(?P<host>(?>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?::\d+)?))?(?![\w@])"
)
# Not after "&" or a word char, so entities like &#39; never become tags; as in
# Pleroma, a tag needs one non-digit ("#2hu" is a tag, "#1" is not).
_HASHTAG = r"(?<![\w&#])\#(?P<tag>\w*[^\W\d]\w*)"
_TOKEN = re.compile(f"{_URL}|{_MENTION}|{_HASHTAG}")
_HANDLE = re.compile(f"{_MENTION}|{_HASHTAG}")
_URL_TRAILING = ".,:;!?'\"*"
_SHORTCODE = re.compile(r"(?=:([A-Za-z0-9_+-]+):)")
# nh3 always quotes attributes with '"', so this splits its output into tags and text.
_TAG_SPLIT = re.compile(r'(<[^>"]*(?:"[^"]*"[^>"]*)*>)')
_TAG_NAME = re.compile(r"<(/?)([A-Za-z0-9]+)")
_NO_LINKIFY = {"a", "code", "pre"}


def _escape(text: str) -> str:
    """Escape like Phoenix.HTML (Pleroma): ' becomes &#39; and " becomes &quot;."""
    return html.escape(text, quote=True).replace("&#x27;", "&#39;")


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    # Only the class and rel values Pleroma's own markup uses may pass.
    if tag == "a" and attr == "class":
        return value if value in _A_CLASSES else None
    if tag == "a" and attr == "rel":
        return " ".join(t for t in value.split() if t in _REL_TOKENS) or None
    if tag == "span" and attr == "class":
        return value if value == "h-card" else None
    return value


def sanitize_html(html_text: str) -> str:
    """Clean with Pleroma's post allow-list; text comes back escaped the Pleroma way."""
    cleaned = nh3.clean(
        html_text,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=_URL_SCHEMES,
        link_rel=None,  # keep our rel="ugc" / "tag ugc" instead of nh3's default
    )
    # nh3 writes ' and " raw in text; Pleroma's scrubber writes &#39; and &quot;.
    parts = _TAG_SPLIT.split(cleaned)
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace('"', "&quot;").replace("'", "&#39;")
    return "".join(parts)


# What nh3 gives back unchanged: printable ASCII with no markup, entity or quote (our escaping
# turned quotes into entities already). A plain-text status is mostly that, and cleaning it cost
# as much as the rest of its rendering (tests/test_formatting.py checks the equivalence).
_INERT = re.compile(r"[ !#-%(-;=?-~]*")

_MARKUP = re.compile(r"<\s*[A-Za-z!/?][^>]*>?")


def strip_tags(text: str) -> str:
    """Plain text (display names, field names, content warnings, pack descriptions): drop every
    tag-like run, keep the rest as typed (`I <3 you`, `a < b`). Clients show these as text, but a
    careless one must not find markup in them."""
    previous = None
    while previous != text:  # `<scr<script>ipt>` leaves a tag behind after one pass
        previous, text = text, _MARKUP.sub("", text)
    return text


def find_shortcodes(text: str) -> list[str]:
    """Custom emoji candidates; overlapping, so ':a:b:' yields a and b like Pleroma."""
    return list(dict.fromkeys(_SHORTCODE.findall(text or "")))


def _trim_url(url: str) -> str:
    # Sentence punctuation and an unbalanced closing bracket are not part of a link.
    while url:
        last = url[-1]
        opener = {")": "(", "]": "["}.get(last)
        unbalanced = opener is not None and url.count(opener) < url.count(last)
        if last not in _URL_TRAILING and not unbalanced:
            break
        url = url[:-1]
    return url


class _Linker:
    """Turns URLs, known mentions and hashtags into links, collecting what it found."""

    def __init__(self, base_url: str, resolve: Resolver, full_acct: bool = False):
        self.base_url = base_url.rstrip("/")
        self.resolve = resolve
        # Bios show "bob@host" for remote mentions (Pleroma's mentions_format: :full).
        self.full_acct = full_acct
        self.mentions: list[MentionTarget] = []
        self.tags: list[str] = []

    def plain(self, text: str) -> str:
        """Escape raw text and linkify it (newlines are left alone)."""
        out: list[str] = []
        pos = 0
        for match in _TOKEN.finditer(text):
            out.append(_escape(text[pos : match.start()]))
            out.append(self._replace(match))
            pos = match.end()
        out.append(_escape(text[pos:]))
        return "".join(out)

    def html(self, fragment: str) -> str:
        """Linkify the text nodes of sanitised HTML, leaving links and code alone."""
        parts = _TAG_SPLIT.split(fragment)
        depth = 0
        for i, part in enumerate(parts):
            if i % 2:
                name = _TAG_NAME.match(part)
                if name and name.group(2).lower() in _NO_LINKIFY:
                    depth += -1 if name.group(1) else 1
            elif depth <= 0 and part:
                parts[i] = self.plain(html.unescape(part))
        return "".join(parts)

    def _replace(self, match: re.Match[str]) -> str:
        if match.group("nick"):
            return self._mention(match)
        if match.group("tag"):
            return self._hashtag(match.group("tag"))
        url = _trim_url(match.group("url"))
        rest = _escape(match.group("url")[len(url) :])
        if not re.match(r"(?i:https?)://\w", url):
            return _escape(url) + rest
        return f'<a href="{_escape(url)}" rel="ugc">{_escape(url)}</a>{rest}'

    def _mention(self, match: re.Match[str]) -> str:
        target = self.resolve(match.group("nick"), match.group("host"))
        if target is None:
            return _escape(match.group(0))
        if all(m.account_id != target.account_id for m in self.mentions):
            self.mentions.append(target)
        shown = target.acct if self.full_acct else target.nickname
        return (
            '<span class="h-card"><a class="u-url mention"'
            f' data-user="{_escape(target.account_id)}" href="{_escape(target.ap_id)}"'
            f' rel="ugc">@<span>{_escape(shown)}</span></a></span>'
        )

    def _hashtag(self, tag: str) -> str:
        name = tag.lower()
        if name not in self.tags:
            self.tags.append(name)
        url = _escape(f"{self.base_url}/tag/{name}")
        return f'<a class="hashtag" data-tag="{_escape(name)}" href="{url}" rel="tag ugc">#{_escape(tag)}</a>'


def _newlines_to_br(text: str) -> str:
    return re.sub(r"\r\n?|\n", "<br>", text)


# --- Markdown ------------------------------------------------------------------------


def _literal_handles(state: StateInline, silent: bool) -> bool:
    """Keep @nick@host and #tag verbatim so emphasis never eats their underscores."""
    if state.src[state.pos] not in "@#":
        return False
    match = _HANDLE.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        state.push("text", "", 0).content = match.group(0)
    state.pos = match.end()
    return True


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Imported here: markdown-it (~70 modules, ~1 MB per process) only where a status is posted
    # as text/markdown, not in every gunicorn process (issue 19).
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML

    class CompactRenderer(RendererHTML):
        """Pleroma's Markdown output has no newlines between blocks: <p>a</p><p>b</p>."""

        def renderToken(self, tokens, idx, options, env) -> str:
            return super().renderToken(tokens, idx, options, env).replace("\n", "")

        def hardbreak(self, tokens, idx, options, env) -> str:
            return "<br>"

        def code_block(self, tokens, idx, options, env) -> str:
            # No language class and no final newline, as in Pleroma's scrubbed output.
            code = tokens[idx].content.removesuffix("\n")
            return f"<pre><code>{_escape(code)}</code></pre>"

        fence = code_block

        def html_block(self, tokens, idx, options, env) -> str:
            return tokens[idx].content.rstrip("\n")

    options = {"html": True, "xhtmlOut": False}
    md = MarkdownIt("commonmark", options, renderer_cls=CompactRenderer)
    md.enable("strikethrough")  # Earmark (Pleroma) speaks GFM ~~strike~~
    md.inline.ruler.before("text", "kenoma_handles", _literal_handles)
    return md


# --- BBCode --------------------------------------------------------------------------

_BB_SIMPLE = re.compile(r"(?is)\[(b|i|u|s|code|quote)\](.*?)\[/\1\]")
_BB_TAGS = {"b": "strong", "i": "em", "u": "u", "s": "del", "code": "code"}
_BB_TAGS["quote"] = "blockquote"
_BB_URL = re.compile(r"(?i)\[url\](https?://[^\s\[]+?)\[/url\]")
_BB_URL_NAMED = re.compile(r"(?is)\[url=(https?://[^\s\]]+)\](.*?)\[/url\]")


def _bbcode_to_html(text: str) -> str:
    """A small BBCode subset over escaped text, so [url=...] cannot inject markup."""
    out = _newlines_to_br(_escape(text))
    out = _BB_URL.sub(r'<a href="\1" rel="ugc">\1</a>', out)
    out = _BB_URL_NAMED.sub(r'<a href="\1" rel="ugc">\2</a>', out)
    # Each pass unwraps one level of nesting; bounded against hostile input.
    for _ in range(10):
        wrapped = _BB_SIMPLE.sub(_bb_wrap, out)
        if wrapped == out:
            break
        out = wrapped
    return out


def _bb_wrap(match: re.Match[str]) -> str:
    tag = _BB_TAGS[match.group(1).lower()]
    return f"<{tag}>{match.group(2)}</{tag}>"


# --- Public API ----------------------------------------------------------------------


def render_status(text: str, content_type: str, base_url: str, resolve: Resolver) -> Rendered:
    """Render a status body per SPEC §4; unknown content types are plain text."""
    text = text or ""
    kind = (content_type or "text/plain").split(";")[0].strip().lower()
    linker = _Linker(base_url, resolve)
    if kind == "text/markdown":
        body = linker.html(sanitize_html(_markdown().render(text)))
    elif kind == "text/html":
        body = linker.html(sanitize_html(text))
    elif kind == "text/bbcode":
        body = linker.html(sanitize_html(_bbcode_to_html(text)))
    else:
        body = _newlines_to_br(linker.plain(text))
    return _rendered(body, linker, text)


def render_bio(text: str, base_url: str, resolve: Resolver) -> Rendered:
    """Account `note`: plain text with linked mentions (full acct), tags and URLs."""
    text = text or ""
    linker = _Linker(base_url, resolve, full_acct=True)
    return _rendered(_newlines_to_br(linker.plain(text)), linker, text)


def _rendered(body: str, linker: _Linker, source: str) -> Rendered:
    # Every content type ends in the sanitizer, even plain text built by us, unless nothing in
    # it is markup, an entity or outside printable ASCII: nh3 would answer the same string.
    html_out = body if _INERT.fullmatch(body) else sanitize_html(body)
    return Rendered(html_out, linker.mentions, linker.tags, find_shortcodes(source))


_TEXT_BLOCKS = {"p", "blockquote", "pre", "ul", "ol"} | {f"h{n}" for n in range(1, 7)}


class _TextExtractor(HTMLParser):
    """Collects text; <br> is a newline and a block end separates what follows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pending = ""  # separator owed before the next text; dropped at the end
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append(self.pending + "\n")
            self.pending = ""
        elif tag in ("script", "style"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in _TEXT_BLOCKS and self.parts:
            self.pending = "\n\n"
        elif tag == "li" and self.parts:
            self.pending = self.pending or "\n"

    def handle_data(self, data: str) -> None:
        if data and not self.hidden:
            self.parts.append(self.pending + data)
            self.pending = ""


@lru_cache(maxsize=4096)  # a pure function of the text: every page of statuses asks again
def html_to_text(html_text: str) -> str:
    """Plain text of content (pleroma.content["text/plain"]): no tags, entities decoded."""
    parser = _TextExtractor()
    parser.feed(html_text or "")
    parser.close()
    return "".join(parser.parts)
