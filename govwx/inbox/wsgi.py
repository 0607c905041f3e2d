"""The WSGI fast path of the callback: `/wx/<appid>/callback` without Django's request,
URL resolver, middleware or response objects — only `gateway.handle`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

from .gateway import Answer, handle


def parse_query(qs: str) -> dict[str, str]:
    """Query string to dict; WeChat's values are plain, so unquote only when needed."""
    out: dict[str, str] = {}
    for part in qs.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        if "%" in part or "+" in part:
            k, v = unquote_plus(k), unquote_plus(v)
        out.setdefault(k, v)
    return out


PATH = re.compile(r"^/wx/([A-Za-z0-9_-]{1,64})/callback/?$")
_REASONS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


def callback_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    m = PATH.match(environ.get("PATH_INFO", ""))
    if m is None:
        answer = Answer(404, b"not found")
    else:
        raw = environ.get("CONTENT_LENGTH") or ""
        try:
            length = int(raw) if raw else None
        except ValueError:
            length = -1
        if length == -1:
            answer = Answer(400, b"bad Content-Length")
        else:
            query = parse_query(environ.get("QUERY_STRING", ""))
            answer = handle(
                m.group(1),
                environ.get("REQUEST_METHOD", ""),
                query,
                length,
                environ["wsgi.input"].read,
            )
    start_response(
        _REASONS.get(answer.status, str(answer.status)),
        [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))],
    )
    return [answer.body]
