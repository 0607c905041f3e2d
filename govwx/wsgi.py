"""WSGI entry point.

The WeChat callback (`/wx/…`) is the hot path: it is served by a handler with no
middleware (no sessions, CSRF, auth or locale work), while every other URL gets the full
stack from settings.MIDDLEWARE. Both resolve URLs through the same URLconf.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")

import django  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

django.setup(set_prefix=False)

CALLBACK_PREFIX = "/wx/"


class LeanHandler(WSGIHandler):
    """A WSGIHandler whose middleware chain is empty."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


_full = WSGIHandler()
_lean = LeanHandler()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(CALLBACK_PREFIX):
        return _lean(environ, start_response)
    return _full(environ, start_response)
