"""Telegram HTML parse mode: what parses to which entities, what is refused, how splits look."""

from __future__ import annotations

import random

import pytest

from bot.render.telegram_html import (
    Entity,
    HtmlError,
    ParsedHtml,
    parse_html,
    split_html,
    utf16_length,
)

PREFIX = "Bad Request: can't parse entities: "


def test_plain_text_has_no_entities() -> None:
    assert parse_html("just text") == ParsedHtml("just text", ())


def test_empty_text_is_not_an_error() -> None:
    parsed = parse_html("<b></b>")
    assert parsed.text == ""
    assert parsed.entities == ()
    assert parsed.length == 0


def test_nested_formatting() -> None:
    parsed = parse_html("<b>bold <i>both</i></b> <u>under</u> <s>gone</s>")
    assert parsed.text == "bold both under gone"
    assert parsed.entities == (
        Entity("bold", 0, 9),
        Entity("italic", 5, 4),
        Entity("underline", 10, 5),
        Entity("strikethrough", 16, 4),
    )


@pytest.mark.parametrize(
    ("tag", "entity_type"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_every_plain_tag(tag: str, entity_type: str) -> None:
    assert parse_html(f"<{tag}>x</{tag}>").entities == (Entity(entity_type, 0, 1),)


def test_tag_names_are_case_insensitive() -> None:
    assert parse_html("<B>x</b><Strong>y</STRONG>").entities == (
        Entity("bold", 0, 1),
        Entity("bold", 1, 1),
    )


def test_empty_end_tag_closes_the_innermost_tag_as_telegram_does() -> None:
    assert parse_html("<b>x<i>y</></>").entities == (Entity("bold", 0, 2), Entity("italic", 1, 1))


def test_spoiler_span() -> None:
    assert parse_html('<span class="tg-spoiler">x</span>').entities == (Entity("spoiler", 0, 1),)


def test_offsets_count_utf16_code_units() -> None:
    parsed = parse_html("😀 <b>é😀x</b> <i>日本</i>")
    assert parsed.text == "😀 é😀x 日本"
    assert parsed.length == 10
    assert parsed.entities == (Entity("bold", 3, 4), Entity("italic", 8, 2))


def test_utf16_length() -> None:
    assert utf16_length("") == 0
    assert utf16_length("abc") == 3
    assert utf16_length("😀") == 2
    assert utf16_length("a😀é") == 4


def test_character_references_are_decoded() -> None:
    parsed = parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;&#x1F600; &#233;")
    assert parsed.text == '<b> & "q" AB😀 é'
    assert parsed.entities == ()


def test_reference_counts_as_the_character_it_stands_for() -> None:
    assert parse_html("&#x1F600;<b>&amp;</b>").entities == (Entity("bold", 2, 1),)


def test_text_link_url_is_unescaped() -> None:
    parsed = parse_html('see <a href="https://example.com/?a=1&amp;b=2">here</a>')
    assert parsed.text == "see here"
    assert parsed.entities == (Entity("text_link", 4, 4, url="https://example.com/?a=1&b=2"),)


@pytest.mark.parametrize(
    "tag",
    [
        "<a href='https://example.com/'>",
        '<a href="https://example.com/">',
        "<a  href = 'https://example.com/' >",
        "<a title='ignored' href='https://example.com/'>",
    ],
)
def test_attribute_quoting(tag: str) -> None:
    assert parse_html(f"{tag}x</a>").entities == (
        Entity("text_link", 0, 1, url="https://example.com/"),
    )


def test_unquoted_attribute_value_is_a_lowercased_name_token() -> None:
    assert parse_html("<a href=Example.COM>x</a>").entities == (
        Entity("text_link", 0, 1, url="example.com"),
    )


def test_pre_with_language() -> None:
    parsed = parse_html('<pre><code class="language-python">print(1)</code></pre>')
    assert parsed.text == "print(1)"
    assert parsed.entities == (Entity("pre", 0, 8, language="python"),)
    assert parsed.entities[0].to_api() == {
        "type": "pre",
        "offset": 0,
        "length": 8,
        "language": "python",
    }


def test_pre_around_code_without_language_is_plain_pre() -> None:
    assert parse_html("<pre><code>x</code></pre>").entities == (Entity("pre", 0, 1),)


def test_code_and_pre_contain_no_other_entities() -> None:
    assert parse_html("<code><b>x</b></code>").entities == (Entity("code", 0, 1),)
    assert parse_html("<pre>a<i>b</i></pre>").entities == (Entity("pre", 0, 2),)


def test_blockquotes() -> None:
    assert parse_html("<blockquote expandable>long</blockquote>").entities == (
        Entity("expandable_blockquote", 0, 4),
    )
    assert parse_html("<blockquote>a<blockquote>b</blockquote></blockquote>").entities == (
        Entity("blockquote", 0, 2),
    )


def test_custom_emoji() -> None:
    parsed = parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
    assert parsed.entities == (Entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286"),)
    assert parsed.entities[0].to_api() == {
        "type": "custom_emoji",
        "offset": 0,
        "length": 2,
        "custom_emoji_id": "5368324170671202286",
    }


def test_entity_to_api_leaves_out_unset_fields() -> None:
    assert Entity("bold", 1, 2).to_api() == {"type": "bold", "offset": 1, "length": 2}
    assert Entity("text_link", 0, 3, url="https://e.com").to_api() == {
        "type": "text_link",
        "offset": 0,
        "length": 3,
        "url": "https://e.com",
    }


def test_entities_sharing_a_span_follow_telegrams_order() -> None:
    assert parse_html("<i><b>x</b></i>").entities == (Entity("bold", 0, 1), Entity("italic", 0, 1))


@pytest.mark.parametrize(
    ("html", "description"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("é <div>", 'Unsupported start tag "div" at byte offset 3'),
        ("😀<br/>", 'Unsupported start tag "br/" at byte offset 4'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("1 <2 and 3", 'Unsupported start tag "2" at byte offset 2'),
        ("1 <2", "Unclosed start tag at byte offset 2"),
        ("ends with <", "Unclosed start tag at byte offset 10"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x', 'Unclosed start tag "a" at byte offset 0'),
        ("a > b", 'Character ">" at byte offset 2 must be escaped as "&gt;"'),
        ("AT&T", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("a & b", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("&nbsp;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        ("&LT;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        ("&amp", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        ("&#;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        ("&#0;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        ("&#x110000;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        (
            "&#xD83D;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a>x</a>", 'Tag "a" must have a non-empty attribute "href" at byte offset 0'),
        ('<a href="">x</a>', 'Tag "a" must have a non-empty attribute "href" at byte offset 0'),
        ("<a href=https://x>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<a href="<">x</a>', 'Character "<" at byte offset 9 must be escaped as "&lt;"'),
        ('<a href="?a&b">x</a>', 'Character "&" at byte offset 11 must be escaped as "&amp;"'),
        (
            "<b bold>x</b>",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
        ),
        ('<b ="x">y</b>', 'Empty attribute name in the tag "b" at byte offset 0'),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_refused_html(html: str, description: str) -> None:
    with pytest.raises(HtmlError) as caught:
        parse_html(html)
    assert str(caught.value) == PREFIX + description


def test_html_error_is_a_value_error() -> None:
    assert issubclass(HtmlError, ValueError)


# Splitting.


def assert_valid_pieces(pieces: list[str], limit: int) -> None:
    assert pieces
    for piece in pieces:
        parsed = parse_html(piece)
        assert parsed.length <= limit, piece
        assert parsed.text.strip(), piece


def test_text_that_fits_comes_back_unchanged() -> None:
    html = "<b>short</b>\n\nand   spaced"
    assert split_html(html, 100) == [html]
    assert split_html("", 10) == [""]


def test_limit_counts_parsed_text_not_markup() -> None:
    html = '<a href="https://example.com/a/very/long/path">link</a> &amp; more'
    assert split_html(html, 11) == [html]


def test_split_prefers_line_boundaries() -> None:
    assert split_html("first line\nsecond line\nthird", 24) == ["first line\nsecond line", "third"]
    assert split_html("aaaa bbbb\ncc dd ee ff", 12) == ["aaaa bbbb", "cc dd ee ff"]


def test_split_long_line_at_last_space() -> None:
    assert split_html("one two three four five", 10) == ["one two", "three four", "five"]


def test_split_keeps_non_breaking_spaces() -> None:
    assert split_html("ab\u00a0cd ef", 6) == ["ab\u00a0cd", "ef"]
    assert split_html("ab\u00a0cd", 3) == ["ab\u00a0", "cd"]


def test_split_word_without_spaces_hard() -> None:
    assert split_html("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_hard_split_counts_surrogate_pairs() -> None:
    assert split_html("😀😀😀", 5) == ["😀😀", "😀"]


def test_split_never_cuts_a_character_reference() -> None:
    pieces = split_html("a&amp;b&lt;c&gt;d", 2)
    assert pieces == ["a&amp;", "b&lt;", "c&gt;", "d"]


def test_split_inside_bold_reopens_it() -> None:
    pieces = split_html("<b>one two three</b> four", 10)
    assert pieces == ["<b>one two</b>", "<b>three</b> four"]
    assert_valid_pieces(pieces, 10)


def test_split_inside_link_reopens_it_with_the_same_href() -> None:
    html = '<i>x <a href="https://example.com/?a=1&amp;b=2">alpha beta</a></i>'
    pieces = split_html(html, 7)
    assert pieces == [
        '<i>x <a href="https://example.com/?a=1&amp;b=2">alpha</a></i>',
        '<i><a href="https://example.com/?a=1&amp;b=2">beta</a></i>',
    ]
    assert [parse_html(piece).entities for piece in pieces] == [
        (Entity("italic", 0, 7), Entity("text_link", 2, 5, url="https://example.com/?a=1&b=2")),
        # Telegram lists a link before formatting that shares its span.
        (Entity("text_link", 0, 4, url="https://example.com/?a=1&b=2"), Entity("italic", 0, 4)),
    ]


def test_split_inside_pre_keeps_the_language() -> None:
    pieces = split_html('<pre><code class="language-python">a = 1\nb = 2</code></pre>', 6)
    assert [parse_html(piece).entities for piece in pieces] == [
        (Entity("pre", 0, 5, language="python"),),
        (Entity("pre", 0, 5, language="python"),),
    ]


def test_closing_tags_stay_with_the_text_they_close() -> None:
    assert split_html("<b>abc</b><i>def</i>", 3) == ["<b>abc</b>", "<i>def</i>"]


def test_whitespace_only_pieces_are_left_out() -> None:
    pieces = split_html("alpha\n\n\n\n\n\n\nbeta", 5)
    assert pieces == ["alpha", "beta"]


def test_split_rejects_invalid_html() -> None:
    with pytest.raises(HtmlError):
        split_html("<div>" + "x" * 5000 + "</div>")


def test_split_rejects_a_limit_no_character_could_fit() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        split_html("abc", 1)


def test_default_limit_is_telegrams_4096() -> None:
    html = "\n".join(f"<b>line {n}</b> " + "word " * 20 for n in range(200))
    pieces = split_html(html)
    assert len(pieces) > 1
    assert_valid_pieces(pieces, 4096)


# Random valid HTML: every split must re-parse, fit, and keep each visible character with
# the same formatting.

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "😀",
    "👨‍👩‍👧",
    "日本語",
    "naïve",
    "AT&amp;T",
    "&lt;tag&gt;",
    "&quot;q&quot;",
    "caf&#233;",
    "&#x1F600;",
    "a-rather-long-word-without-any-break",
]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n", "\n\n", "\t", "\u00a0"]
TAGS = [
    ("<b>", "</b>"),
    ("<STRONG>", "</strong>"),
    ("<i>", "</i>"),
    ("<em>", "</em>"),
    ("<u>", "</>"),
    ("<ins>", "</ins>"),
    ("<s>", "</s>"),
    ("<strike>", "</strike>"),
    ("<del>", "</del>"),
    ("<tg-spoiler>", "</tg-spoiler>"),
    ("<span class='tg-spoiler'>", "</span>"),
    ('<a href="https://example.com/?q=1&amp;r=2">', "</a>"),
    ("<a href=example.org>", "</a>"),
    ("<code>", "</code>"),
    ("<pre>", "</pre>"),
    ('<pre><code class="language-python">', "</code></pre>"),
    ("<blockquote>", "</blockquote>"),
    ("<blockquote expandable>", "</blockquote>"),
    ('<tg-emoji emoji-id="5368324170671202286">', "</tg-emoji>"),
]


def random_html(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        if depth >= 3 or rng.random() < 0.55:
            words = [rng.choice(WORDS) for _ in range(rng.randint(1, 8))]
            parts.append("".join(word + rng.choice(SEPARATORS) for word in words))
        else:
            opening, closing = rng.choice(TAGS)
            parts.append(opening + random_html(rng, depth + 1) + closing)
    return "".join(parts)


Formatting = frozenset[tuple[str, str | None, str | None, str | None]]


def visible_characters(parsed: ParsedHtml) -> list[tuple[str, Formatting]]:
    """Each non-whitespace character with the formatting that covers it."""
    covering: list[set[tuple[str, str | None, str | None, str | None]]] = [
        set() for _ in range(parsed.length)
    ]
    for entity in parsed.entities:
        key = (entity.type, entity.url, entity.language, entity.custom_emoji_id)
        for unit in range(entity.offset, entity.offset + entity.length):
            covering[unit].add(key)
    result = []
    offset = 0
    for char in parsed.text:
        if not char.isspace():
            result.append((char, frozenset(covering[offset])))
        offset += 2 if ord(char) > 0xFFFF else 1
    return result


def test_random_valid_html_splits_into_valid_pieces() -> None:
    rng = random.Random(20240611)
    for _ in range(200):
        html = random_html(rng)
        limit = rng.randint(2, 120)
        original = parse_html(html)
        pieces = split_html(html, limit)
        if original.length <= limit:
            assert pieces == [html]
            continue
        assert pieces
        parsed_pieces = [parse_html(piece) for piece in pieces]
        for parsed in parsed_pieces:
            assert parsed.length <= limit, (html, limit, pieces)
            assert parsed.text.strip(), (html, limit, pieces)
        split_text = "".join(parsed.text for parsed in parsed_pieces)
        assert "".join(split_text.split()) == "".join(original.text.split())
        split_characters = [
            character for parsed in parsed_pieces for character in visible_characters(parsed)
        ]
        assert split_characters == visible_characters(original), (html, limit, pieces)
