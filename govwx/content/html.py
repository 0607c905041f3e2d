"""Article HTML: what WeChat keeps, and what is wrong with a body before it is sent.

`problems` reads the HTML as written and names each thing WeChat would refuse or drop (a
script, an iframe, an event handler, a link to a page that is not HTTPS); `sanitise` then
keeps only the tags, attributes and inline styles WeChat's article renderer keeps (nh3,
the Rust ammonia sanitiser)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

TAGS = {
    "p", "br", "span", "strong", "b", "em", "i", "u", "s", "sub", "sup", "h1", "h2", "h3",
    "h4", "blockquote", "ul", "ol", "li", "section", "img", "a", "table", "thead", "tbody",
    "tr", "th", "td", "hr", "figure", "figcaption", "audio", "video", "source",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"style"},
    "img": {"src", "alt", "width", "height"},
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "audio": {"src", "controls"},
    "video": {"src", "controls", "poster"},
    "source": {"src", "type"},
}
STYLES = {
    "color", "background-color", "font-size", "font-weight", "font-style", "text-align",
    "text-decoration", "text-indent", "line-height", "letter-spacing", "margin",
    "margin-top", "margin-bottom", "margin-left", "margin-right", "padding", "padding-top",
    "padding-bottom", "padding-left", "padding-right", "border", "border-radius",
    "width", "max-width", "height", "display", "box-sizing", "vertical-align", "word-break",
}  # fmt: skip
# what WeChat removes and an editor must hear about
FORBIDDEN = {
    "script": "脚本", "iframe": "内嵌网页（iframe）", "style": "样式表", "object": "插件",
    "embed": "插件", "form": "表单", "input": "输入框", "frame": "框架",
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Problem] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN:
            self.found.append(
                Problem(
                    "tag",
                    f"正文不能含有{FORBIDDEN[tag]}（<{tag}>），微信会删除 / <{tag}> is not allowed",
                )
            )
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(
                    Problem(
                        "script", f"正文不能含有脚本事件（{name}） / event handlers are not allowed"
                    )
                )
            elif name in ("href", "src") and value:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme == "javascript":
                    self.found.append(
                        Problem("script", "链接不能是脚本 / javascript: links are not allowed")
                    )
                elif scheme == "http":
                    self.found.append(
                        Problem("http", f"链接须为 HTTPS：{value[:80]} / links must be HTTPS")
                    )


def problems(html: str) -> list[Problem]:
    """What in the HTML WeChat would refuse or drop, in the order written."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.found


def sanitise(html: str) -> str:
    """The HTML reduced to what WeChat's article renderer keeps; links and pictures only
    over HTTPS (or to a path on this site, for pictures not yet uploaded)."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"https"},
        filter_style_properties=STYLES,
        link_rel=None,
        strip_comments=True,
    )
