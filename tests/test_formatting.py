"""Unit tests for formatting.py: exact Pleroma markup (SPEC §4) and sanitising."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from formatting import MentionTarget
from formatting import find_shortcodes
from formatting import html_to_text
from formatting import render_bio
from formatting import render_status
from formatting import sanitize_html

BASE = "http://127.0.0.1:5000"
BOB = MentionTarget("9u5SbobId", "bob", f"{BASE}/users/bob", "bob")
LAIN = MentionTarget("9u5SlainId", "lain", "https://lain.com/users/lain", "lain@lain.com")
UNDERSCORE = MentionTarget("9u5SutId", "user__test", f"{BASE}/users/user__test", "user__test")
BOB_HTML = (
    '<span class="h-card"><a class="u-url mention" data-user="9u5SbobId"'
    ' href="http://127.0.0.1:5000/users/bob" rel="ugc">@<span>bob</span></a></span>'
)
LOCAL_HOSTS = (None, "127.0.0.1", "127.0.0.1:5000")


def resolve(nickname: str, host: str | None) -> MentionTarget | None:
    if nickname == "bob" and host in LOCAL_HOSTS:
        return BOB
    if nickname == "user__test" and host is None:
        return UNDERSCORE
    if nickname == "lain" and host == "lain.com":
        return LAIN
    return None


def plain(text: str) -> str:
    return render_status(text, "text/plain", BASE, resolve).html


def tag_html(name: str, written: str) -> str:
    return f'<a class="hashtag" data-tag="{name}" href="{BASE}/tag/{name}" rel="tag ugc">#{written}</a>'


# --- text/plain ----------------------------------------------------------------------


def test_plain_mention_matches_spec_example() -> None:
    rendered = render_status("hi @bob", "text/plain", BASE, resolve)
    assert rendered.html == f"hi {BOB_HTML}"
    assert rendered.mentions == [BOB]


def test_plain_hashtag_is_lowercased_in_data_tag_and_url_only() -> None:
    rendered = render_status("I love #Cofe", "text/plain", BASE, resolve)
    assert rendered.html == f"I love {tag_html('cofe', 'Cofe')}"
    assert rendered.tags == ["cofe"]


def test_plain_url_becomes_ugc_link() -> None:
    assert plain("see https://example.com/a?b=c") == (
        'see <a href="https://example.com/a?b=c" rel="ugc">https://example.com/a?b=c</a>'
    )


def test_plain_escapes_html_like_pleroma() -> None:
    assert plain('<b>x</b> & don\'t "q"') == ("&lt;b&gt;x&lt;/b&gt; &amp; don&#39;t &quot;q&quot;")


def test_plain_newlines_become_br_without_p_wrapper() -> None:
    assert plain("hello world!\n\nsecond paragraph!") == ("hello world!<br><br>second paragraph!")
    assert plain("a\r\nb") == "a<br>b"


def test_plain_bare_text_unchanged() -> None:
    assert plain("hello world!") == "hello world!"
    assert plain("") == ""


def test_plain_unknown_mention_stays_text() -> None:
    rendered = render_status("hey @nobody and @bob@elsewhere.example", "text/plain", BASE, resolve)
    assert rendered.html == "hey @nobody and @bob@elsewhere.example"
    assert rendered.mentions == []


def test_plain_duplicate_mentions_listed_once_in_order() -> None:
    rendered = render_status("@lain@lain.com @bob @bob @lain@lain.com", "text/plain", BASE, resolve)
    assert rendered.mentions == [LAIN, BOB]
    assert rendered.html.count("u-url mention") == 4


def test_plain_remote_mention_shows_nickname_without_host() -> None:
    html = plain("@lain@lain.com D:<")
    assert html == (
        '<span class="h-card"><a class="u-url mention" data-user="9u5SlainId"'
        ' href="https://lain.com/users/lain" rel="ugc">@<span>lain</span></a></span> D:&lt;'
    )


def test_plain_mention_with_host_and_port_reaches_resolver() -> None:
    seen: list[tuple[str, str | None]] = []

    def spy(nickname: str, host: str | None) -> MentionTarget | None:
        seen.append((nickname, host))
        return resolve(nickname, host)

    html = render_status("@bob@127.0.0.1:5000 @bob@127.0.0.1", "text/plain", BASE, spy).html
    assert seen == [("bob", "127.0.0.1:5000"), ("bob", "127.0.0.1")]
    assert html == f"{BOB_HTML} {BOB_HTML}"


def test_plain_mention_trailing_punctuation_is_not_part_of_nick() -> None:
    assert plain("thanks @bob. and @bob, ok") == f"thanks {BOB_HTML}. and {BOB_HTML}, ok"
    assert plain("(@bob)") == f"({BOB_HTML})"


@pytest.mark.parametrize(
    "text",
    ["mail me at alice@bob.example", "x@bob", "@@bob", "https://example.com/@bob"],
)
def test_plain_no_mention_inside_email_double_at_or_url(text: str) -> None:
    rendered = render_status(text, "text/plain", BASE, resolve)
    assert rendered.mentions == []
    assert "h-card" not in rendered.html


def test_plain_hashtag_rules() -> None:
    rendered = render_status("#fact_3: #2hu #1 a#b &#39; #Test. #漢字? #TEST", "text/plain", BASE, resolve)
    assert rendered.tags == ["fact_3", "2hu", "test", "漢字"]
    assert "#1 a#b &amp;#39;" in rendered.html
    assert tag_html("test", "Test") + "." in rendered.html
    assert tag_html("漢字", "漢字") + "?" in rendered.html


def test_plain_apostrophe_never_becomes_a_tag() -> None:
    rendered = render_status("#tag: pleroma does what mastodon't", "text/plain", BASE, resolve)
    assert rendered.html == f"{tag_html('tag', 'tag')}: pleroma does what mastodon&#39;t"
    assert rendered.tags == ["tag"]


@pytest.mark.parametrize(
    ("text", "url", "after"),
    [
        ("https://en.wikipedia.org/wiki/Sophia_(Gnosticism)#Mythos", None, ""),
        ("https://en.wikipedia.org/wiki/Duff's_device", None, ""),
        ("https://mastodon.social:4000/@lambadalambda", None, ""),
        ("https://example.com/x.", "https://example.com/x", "."),
        ("https://example.com/x)", "https://example.com/x", ")"),
        ("https://example.com/?", "https://example.com/", "?"),
    ],
)
def test_plain_url_boundaries(text: str, url: str | None, after: str) -> None:
    url = url or text
    escaped = url.replace("'", "&#39;")
    assert plain(text) == f'<a href="{url}" rel="ugc">{escaped}</a>{after}'


def test_plain_url_ampersand_is_escaped() -> None:
    assert plain("https://forum.example/v.php?f=44&t=5") == (
        '<a href="https://forum.example/v.php?f=44&amp;t=5" rel="ugc">'
        "https://forum.example/v.php?f=44&amp;t=5</a>"
    )


def test_plain_url_then_text_in_parentheses() -> None:
    assert plain("(see https://a.example/x)") == (
        '(see <a href="https://a.example/x" rel="ugc">https://a.example/x</a>)'
    )


def test_plain_mixed_everything() -> None:
    rendered = render_status("https://example.org is the site of @bob #2hu", "text/plain", BASE, resolve)
    assert rendered.html == (
        '<a href="https://example.org" rel="ugc">https://example.org</a>'
        f" is the site of {BOB_HTML} {tag_html('2hu', '2hu')}"
    )


@pytest.mark.parametrize("content_type", ["text/x-unknown", "", None, "TEXT/PLAIN"])
def test_unknown_content_type_is_plain_text(content_type: str | None) -> None:
    rendered = render_status("**hi** <b>@bob</b>\nx", content_type, BASE, resolve)  # type: ignore[arg-type]
    assert rendered.html == f"**hi** &lt;b&gt;{BOB_HTML}&lt;/b&gt;<br>x"


# --- text/markdown -------------------------------------------------------------------


def markdown(text: str) -> str:
    return render_status(text, "text/markdown", BASE, resolve).html


def test_markdown_bold_is_strong_in_paragraph() -> None:
    assert markdown("**hello world**") == "<p><strong>hello world</strong></p>"


def test_markdown_blocks_have_no_newlines_between_them() -> None:
    assert markdown("**hello world**\n\n*another paragraph*\n") == (
        "<p><strong>hello world</strong></p><p><em>another paragraph</em></p>"
    )
    assert markdown("> cool quote\n\nby someone\n") == (
        "<blockquote><p>cool quote</p></blockquote><p>by someone</p>"
    )
    assert markdown("- one\n- two") == "<ul><li>one</li><li>two</li></ul>"
    assert markdown("1. one\n2. two\n") == "<ol><li>one</li><li>two</li></ol>"


def test_markdown_mentions_keep_underscores_and_are_linked() -> None:
    rendered = render_status(
        "*another @user__test and @user__test paragraph*", "text/markdown", BASE, resolve
    )
    mention = (
        '<span class="h-card"><a class="u-url mention" data-user="9u5SutId"'
        f' href="{BASE}/users/user__test" rel="ugc">@<span>user__test</span></a></span>'
    )
    assert rendered.html == f"<p><em>another {mention} and {mention} paragraph</em></p>"
    assert rendered.mentions == [UNDERSCORE]


def test_markdown_unknown_handle_with_underscores_is_not_emphasis() -> None:
    assert markdown("@_nobody_ and #_tag_") == (f"<p>@_nobody_ and {tag_html('_tag_', '_tag_')}</p>")


def test_markdown_code_is_not_linkified() -> None:
    rendered = render_status(
        '`@bob #tag https://a.example`\n\n```\nputs "@bob"\n```', "text/markdown", BASE, resolve
    )
    assert rendered.html == (
        "<p><code>@bob #tag https://a.example</code></p><pre><code>puts &quot;@bob&quot;</code></pre>"
    )
    assert rendered.mentions == []
    assert rendered.tags == []


def test_markdown_links_are_not_linkified_again() -> None:
    assert markdown("[@bob](https://a.example/) <https://b.example>") == (
        '<p><a href="https://a.example/">@bob</a> <a href="https://b.example">https://b.example</a></p>'
    )


def test_markdown_linkifies_bare_urls_mentions_and_tags() -> None:
    rendered = render_status("hi @bob #Cofe https://a.example", "text/markdown", BASE, resolve)
    assert rendered.html == (
        f"<p>hi {BOB_HTML} {tag_html('cofe', 'Cofe')}"
        ' <a href="https://a.example" rel="ugc">https://a.example</a></p>'
    )
    assert rendered.tags == ["cofe"]


def test_markdown_hard_break_and_strikethrough() -> None:
    assert markdown("a  \nb ~~gone~~") == "<p>a<br>b <s>gone</s></p>"


def test_markdown_headings_are_stripped_like_pleroma_default() -> None:
    assert markdown("# Title\n\ntext") == "Title<p>text</p>"


def test_markdown_raw_html_is_sanitised() -> None:
    assert markdown('<del>x</del> <img src=x onerror="alert(1)"><script>alert(1)</script>') == (
        "<p><del>x</del> </p>"
    )


def test_markdown_javascript_link_is_not_a_link() -> None:
    assert "<a" not in markdown("[click](javascript:alert(1))")


# --- text/html -----------------------------------------------------------------------


def html_post(text: str) -> str:
    return render_status(text, "text/html", BASE, resolve).html


def test_html_bare_markup_survives() -> None:
    assert html_post("<p>hello world!</p>") == "<p>hello world!</p>"
    assert html_post("<p>hello</p><br/>\n<p>second</p>") == "<p>hello</p><br>\n<p>second</p>"


def test_html_mentions_and_tags_linkified_outside_links() -> None:
    rendered = render_status(
        '<p>hi @bob #Tag <a href="https://x.example/">@bob #no</a></p>',
        "text/html",
        BASE,
        resolve,
    )
    assert rendered.html == (
        f'<p>hi {BOB_HTML} {tag_html("tag", "Tag")} <a href="https://x.example/">@bob #no</a></p>'
    )
    assert rendered.mentions == [BOB]
    assert rendered.tags == ["tag"]


def test_html_disallowed_attributes_and_classes_are_dropped() -> None:
    assert html_post(
        '<p class="x" style="color:red"><a class="evil" rel="me nofollow" href="https://a.example"'
        ' target="_blank">a</a><span class="h-card x">s</span><span class="h-card">t</span></p>'
    ) == (
        '<p><a href="https://a.example" rel="nofollow">a</a><span>s</span><span class="h-card">t</span></p>'
    )


def test_html_escaped_text_is_relinkified_safely() -> None:
    assert html_post("<p>&lt;b&gt; @bob &amp;</p>") == f"<p>&lt;b&gt; {BOB_HTML} &amp;</p>"


# --- text/bbcode ---------------------------------------------------------------------


def bbcode(text: str) -> str:
    return render_status(text, "text/bbcode", BASE, resolve).html


def test_bbcode_bold_and_newlines() -> None:
    assert bbcode("[b]hello world[/b]") == "<strong>hello world</strong>"
    assert bbcode("[b]hello world![/b]\n\nsecond paragraph!") == (
        "<strong>hello world!</strong><br><br>second paragraph!"
    )


def test_bbcode_raw_html_is_escaped() -> None:
    assert bbcode("[b]hi[/b]\n\n<strong>second</strong>") == (
        "<strong>hi</strong><br><br>&lt;strong&gt;second&lt;/strong&gt;"
    )


def test_bbcode_tags() -> None:
    assert bbcode("[i][u]a[/u][/i] [s]b[/s] [code]@bob[/code] [quote]@bob[/quote]") == (
        f"<em><u>a</u></em> <del>b</del> <code>@bob</code> <blockquote>{BOB_HTML}</blockquote>"
    )


def test_bbcode_urls() -> None:
    assert bbcode("[url]https://a.example/?x=1&y=2[/url] [url=https://b.example]B[/url]") == (
        '<a href="https://a.example/?x=1&amp;y=2" rel="ugc">https://a.example/?x=1&amp;y=2</a>'
        ' <a href="https://b.example" rel="ugc">B</a>'
    )


def test_bbcode_unsafe_url_stays_text() -> None:
    assert bbcode("[url=javascript:alert(1)]x[/url]") == "[url=javascript:alert(1)]x[/url]"


def test_bbcode_url_cannot_break_out_of_attribute() -> None:
    html = bbcode('[url=https://b.example" onclick="alert(1)]x[/url]')
    assert "onclick" not in _attributes(html)


# --- bio -----------------------------------------------------------------------------


def test_bio_is_plain_text_with_full_acct_mentions() -> None:
    rendered = render_bio("I drink #cofe with @bob\n\nand @lain@lain.com <3", BASE, resolve)
    assert rendered.html == (
        f"I drink {tag_html('cofe', 'cofe')} with {BOB_HTML}<br><br>and "
        '<span class="h-card"><a class="u-url mention" data-user="9u5SlainId"'
        ' href="https://lain.com/users/lain" rel="ugc">@<span>lain@lain.com</span></a></span>'
        " &lt;3"
    )
    assert rendered.mentions == [BOB, LAIN]
    assert rendered.tags == ["cofe"]


def test_bio_empty() -> None:
    assert render_bio("", BASE, resolve).html == ""


# --- shortcodes ----------------------------------------------------------------------


def test_shortcodes_found_without_duplicates_and_kept_in_content() -> None:
    rendered = render_status("This is :blobcat: note :firefox: :blobcat:", "text/plain", BASE, resolve)
    assert rendered.shortcodes == ["blobcat", "firefox"]
    assert rendered.html == "This is :blobcat: note :firefox: :blobcat:"


def test_find_shortcodes_edge_cases() -> None:
    assert find_shortcodes(":a:b: 12:30 :not valid: :ok_1-2:") == ["a", "b", "ok_1-2"]
    assert find_shortcodes("") == []


def test_bio_lists_shortcodes() -> None:
    assert render_bio("*sips :blank:*", BASE, resolve).shortcodes == ["blank"]


# --- html_to_text --------------------------------------------------------------------


def test_html_to_text_plain_content() -> None:
    assert html_to_text(plain("This is :blobcat: note <0> & don't\nline")) == (
        "This is :blobcat: note <0> & don't\nline"
    )


def test_html_to_text_mentions_tags_and_blocks() -> None:
    html = markdown("hi @bob #Cofe\n\n> quoted\n\n- a\n- b")
    assert html_to_text(html) == "hi @bob #Cofe\n\nquoted\n\na\nb"


def test_html_to_text_drops_script_and_decodes_entities() -> None:
    assert html_to_text("a&amp;b&#39;c<br/>d<script>evil()</script><style>x</style>") == ("a&b'c\nd")


# --- safety --------------------------------------------------------------------------

ALLOWED_TAGS = {"a", "b", "blockquote", "br", "code", "del", "em", "i", "li", "ol", "p"}
ALLOWED_TAGS |= {"pre", "s", "span", "strong", "sub", "sup", "u", "ul"}
ALLOWED_ATTRS = {"class", "data-tag", "data-user", "href", "rel"}

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<svg/onload=alert(1)>",
    '<p style="x" onclick="alert(1)">p</p>',
    "<iframe src=https://evil.example></iframe>",
    "<style>body{}</style>",
    '"><script>alert(1)</script>',
    "[url=javascript:alert(1)]x[/url]",
    '[url=https://a.example"onmouseover="alert(1)]x[/url]',
    "[x](javascript:alert(1))",
    '<div onmouseover=alert(1)>@bob #tag https://a.example/"onclick=alert(1)</div>',
    "<!--<script>alert(1)</script>-->",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _attributes(html: str) -> set[str]:
    return {name for name, _ in _parse(html).attrs}


@pytest.mark.parametrize("content_type", ["text/plain", "text/markdown", "text/html", "text/bbcode"])
@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_xss_survives_any_content_type(content_type: str, payload: str) -> None:
    html = render_status(payload, content_type, BASE, resolve).html
    parsed = _parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS
    assert {name for name, _ in parsed.attrs} <= ALLOWED_ATTRS
    for name, value in parsed.attrs:
        if name == "href":
            assert value is not None
            assert value.lower().startswith(("http://", "https://")), value
    assert "<script" not in html.lower()


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_xss_in_bio(payload: str) -> None:
    parsed = _parse(render_bio(payload, BASE, resolve).html)
    assert set(parsed.tags) <= {"a", "span", "br"}
    assert {name for name, _ in parsed.attrs} <= ALLOWED_ATTRS


def test_sanitize_html_direct() -> None:
    dirty = (
        '<p onclick="x">a<script>alert(1)</script></p><a href="javascript:alert(1)">j</a>'
        '<a href="https://ok.example" rel="ugc">ok</a><h1>h</h1>'
    )
    assert sanitize_html(dirty) == '<p>a</p><a>j</a><a href="https://ok.example" rel="ugc">ok</a>h'


@pytest.mark.parametrize("content_type", ["text/plain", "text/markdown", "text/html", "text/bbcode"])
def test_output_is_stable_under_sanitize(content_type: str) -> None:
    html = render_status(
        'don\'t @bob #x "q" https://a.example/?a=1&b=2 <i>', content_type, BASE, resolve
    ).html
    assert sanitize_html(html) == html


def test_text_left_unsanitised_is_what_the_sanitiser_would_answer() -> None:
    # _rendered skips nh3 for printable ASCII without markup, entities or quotes: prove nh3
    # gives such text back unchanged, spaces at either end included.
    import random

    from formatting import _INERT

    rng = random.Random(19)
    alphabet = [chr(c) for c in range(0x20, 0x7F) if _INERT.fullmatch(chr(c))]
    assert set(map(chr, range(0x20, 0x7F))) - set(alphabet) == set("\"&'<>")
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert sanitize_html(text) == text


@pytest.mark.parametrize(
    "text",
    ["bench write 0-1 the quick brown fox", "  spaced  ", "don't", 'say "hi"', "a & b", "x < y", "caf\u00e9"],
)
def test_plain_text_renders_as_the_sanitiser_leaves_it(text: str) -> None:
    rendered = render_status(text, "text/plain", BASE, resolve)
    assert rendered.html == sanitize_html(rendered.html)
