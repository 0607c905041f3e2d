"""Template context for every console page: the accounts the user may switch between."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def console(request: HttpRequest) -> dict[str, Any]:
    return {}
