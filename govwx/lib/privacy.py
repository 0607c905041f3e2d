"""Masking of personal data in what lists and exports show."""

from __future__ import annotations

import re

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask(text: str) -> str:
    """Hide mobile numbers and resident ID numbers: 138****5678, 110101********1234."""
    text = ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
