"""WSGI entry point.

The WeChat callback (`/wx/…`) is the hot path: it goes straight to the callback's own
small WSGI function (govwx/inbox/wsgi.py), with no middleware, sessions, CSRF, auth or
locale work. Every other URL gets Django with the full middleware stack.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

_django = get_wsgi_application()

from govwx.inbox.wsgi import callback_app  # noqa: E402

CALLBACK_PREFIX = "/wx/"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(CALLBACK_PREFIX):
        return callback_app(environ, start_response)
    return _django(environ, start_response)
