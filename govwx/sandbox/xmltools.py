"""Hardened XML in and out for the callback channel.

The sandbox parses what an account's server returns, which is untrusted: expat is used
directly and any DOCTYPE or entity declaration is refused before it can be expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

MAX_BODY = 1024 * 1024


class XMLError(Exception):
    """Not well-formed, too large, or carrying a DTD/entities."""


@dataclass
class Node:
    tag: str
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def child(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def get(self, tag: str, default: str = "") -> str:
        """Text of the first child `tag`, stripped of surrounding whitespace."""
        node = self.child(tag)
        return node.text.strip() if node is not None else default

    def all(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]


def parse(data: bytes | str) -> Node:
    """Parse `data` into a Node tree; refuse DTDs, entities and oversized bodies."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BODY:
        raise XMLError("body too large")
    parser = expat.ParserCreate(encoding="utf-8")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Node] = []
    root: list[Node] = []

    def refuse(*_args: object) -> None:
        raise XMLError("DTDs and entities are not allowed")

    def start(tag: str, _attrs: dict[str, str]) -> None:
        node = Node(tag)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].text += text

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise XMLError(str(exc)) from exc
    if not root:
        raise XMLError("no root element")
    return root[0]


def cdata(text: str) -> str:
    """Wrap in CDATA, splitting any ']]>' so the value cannot close the section."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


Value = str | int | float | list["Element"] | dict[str, "Value"]
Element = tuple[str, Value]


def render(fields: list[Element]) -> str:
    """Render (tag, value) pairs: str → CDATA, numbers bare, lists/dicts nested."""
    out: list[str] = []
    for tag, value in fields:
        if isinstance(value, bool):
            raise TypeError("booleans have no WeChat XML form")
        if isinstance(value, int | float):
            out.append(f"<{tag}>{value}</{tag}>")
        elif isinstance(value, str):
            out.append(f"<{tag}>{cdata(value)}</{tag}>")
        elif isinstance(value, dict):
            out.append(f"<{tag}>{render(list(value.items()))}</{tag}>")
        else:
            out.append(f"<{tag}>{render(value)}</{tag}>")
    return "".join(out)


def document(fields: list[Element]) -> str:
    return "<xml>" + render(fields) + "</xml>"
