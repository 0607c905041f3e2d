"""An article's blocks as HTML: the WeChat article (pictures at their WeChat in-article
URLs) or this site's H5 page (pictures at this site's URLs); both sanitised.

A block is a dict with a "type":
- text: {"html"} — rich text from the editor;
- image: {"material", "caption"} — a picture of the material library;
- audio / video: {"material"} or, for a video, {"url"} on a host WeChat embeds;
- h5: {"url", "title"} — a link to a mobile page;
- service: {"title", "url", "guide"} — a card that opens a service guide of the catalogue;
- article: {"title", "url", "article"} — a link to another article.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from .html import sanitise
from .models import Material

BLOCK_TYPES = ("text", "image", "audio", "video", "h5", "service", "article")
CAPTION = 'style="text-align:center;color:#888;font-size:14px;margin:4px 0 16px"'
CARD = (
    'style="border:1px solid #e5e5e5;border-radius:8px;padding:12px 16px;margin:16px 0;'
    'background-color:#f7f9fc"'
)


def material_ids(blocks: Sequence[Mapping[str, Any]]) -> set[int]:
    """The materials the blocks use."""
    found = set()
    for block in blocks:
        value = block.get("material")
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            found.add(int(value))
    return found


def render(
    blocks: Sequence[Mapping[str, Any]],
    materials: Mapping[int, Material],
    url_of: Callable[[Material], str],
) -> str:
    """The blocks as one sanitised HTML string; `url_of` gives a material's address."""
    parts: list[str] = []
    for block in blocks:
        kind = block.get("type")
        material = materials.get(int(block.get("material") or 0))
        if kind == "text":
            parts.append(str(block.get("html") or ""))
        elif kind == "image" and material is not None:
            caption = str(block.get("caption") or material.caption or "")
            parts.append(
                f'<p style="text-align:center"><img src="{escape(url_of(material))}" '
                f'alt="{escape(caption)}" style="max-width:100%"></p>'
            )
            if caption:
                parts.append(f"<p {CAPTION}>{escape(caption)}</p>")
        elif kind == "audio" and material is not None:
            parts.append(
                f'<p><audio controls src="{escape(url_of(material))}"></audio></p>'
                f"<p {CAPTION}>{escape(material.title)}</p>"
            )
        elif kind == "video":
            src = url_of(material) if material is not None else str(block.get("url") or "")
            parts.append(
                f'<p><video controls src="{escape(src)}" style="max-width:100%"></video></p>'
            )
        elif kind in ("h5", "service", "article"):
            title = escape(str(block.get("title") or block.get("url") or ""))
            url = escape(str(block.get("url") or ""))
            label = {"h5": "🔗", "service": "办事指南", "article": "相关阅读"}[str(kind)]
            parts.append(
                f'<section {CARD}><p style="color:#888;font-size:13px;margin:0">{label}</p>'
                f'<p style="margin:4px 0 0"><a href="{url}">{title}</a></p></section>'
            )
    return sanitise("".join(parts))
