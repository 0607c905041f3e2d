"""Cells of a spreadsheet export that a spreadsheet cannot run.

A cell whose text begins with = + - @ (or a tab or carriage return before one) is read
by Excel and WPS as a formula: a citizen's message `=HYPERLINK("http://x","点击")` in a
CSV would become a live link in the office's spreadsheet (CSV/formula injection, OWASP).
Such text is written with a leading apostrophe, which spreadsheets show as plain text.
Numbers, dates and other values pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should hold it: text that a spreadsheet would run as a
    formula gets a leading apostrophe; anything that is not text is left as it is."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """`safe_cell` of every value of a row."""
    return [safe_cell(v) for v in row]
