"""Personal data (个人信息) in a text about to be published: a veto.

What is recognised, each a stable `rule` name:

- ``id_card``: a resident identity card number (居民身份证号码, GB 11643-1999): 18
  characters, a province code, a valid date of birth and the ISO 7064 MOD 11-2 check
  character; or the old 15-digit form with a valid date (19YYMMDD).
- ``mobile``: a mainland mobile number, 1[3-9] and nine more digits (3-4-4 groups with
  spaces or hyphens too, +86 before it), not part of a longer run of digits.
- ``landline``: a fixed line with its area code, 0xx-xxxxxxxx or (0xxx)xxxxxxx.
- ``bank_card``: 16 to 19 digits (in groups of four or not) that pass the Luhn check and
  are not an identity card number.
- ``email``: an e-mail address.
- ``plate``: a vehicle licence plate (GA 36): a province's abbreviation, a letter, five
  characters (six for new-energy vehicles: 陕AD12345).

Phones and mailboxes the account publishes on purpose (`context.public_numbers`:
hotlines, office phones, the office's mailbox) are left alone: digits are compared without separators,
and a number written with its area code matches the same number listed without it.
The suggestion masks what was found (138****5678), as `govwx.lib.privacy.mask` does.
"""

from __future__ import annotations

import datetime
import re

from . import PERSONAL_DATA, VETO, Context, Finding, family

PROVINCE_CODES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
    "63", "64", "65", "71", "81", "82", "83",
}  # fmt: skip
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# The patterns start with what a match starts with (a character, or a lookahead of the
# characters it may start with), and only then look behind: the search skips to those
# characters, where a pattern that starts by looking behind is tried at every position.
ID_18 = re.compile(r"[0-9](?<![0-9A-Za-z][0-9])[0-9]{16}[0-9Xx](?![0-9A-Za-z])")
ID_15 = re.compile(r"[0-9](?<![0-9A-Za-z][0-9])[0-9]{14}(?![0-9A-Za-z])")
BANK_CARD = re.compile(
    r"[0-9](?<![0-9A-Za-z][0-9])"
    r"(?:[0-9]{15,18}|[0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?)(?![0-9A-Za-z])"
)
MOBILE = re.compile(
    r"(?=[+081])(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?(1[3-9][0-9])([ -]?)([0-9]{4})\2([0-9]{4})(?![0-9])"
)
LANDLINE = re.compile(
    r"(?=[(（0])(?<![0-9])(?:[(（](0[0-9]{2,3})[)）][ -]?|(0[0-9]{2,3})[ -])([0-9]{7,8})(?:-[0-9]{1,5})?(?![0-9])"
)
EMAIL = re.compile(
    r"([A-Za-z0-9._%+-](?<![A-Za-z0-9._%+-][A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*)"
    r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE = re.compile(
    rf"([{PROVINCES}])([A-HJ-NP-Z])[·•\s]?([A-HJ-NP-Z0-9]{{5,6}}|[A-HJ-NP-Z0-9]{{4}}[警学挂])(?![A-Za-z0-9])"
)

KINDS = {
    "id_card": "身份证号码",
    "mobile": "手机号码",
    "landline": "固定电话号码",
    "bank_card": "银行卡号",
    "email": "电子邮箱地址",
    "plate": "车牌号码",
}


PUBLISHABLE = ("mobile", "landline", "email")  # what an office may publish as its own


def digits(s: str) -> str:
    return "".join(c for c in s if c.isascii() and c.isdigit())


def valid_id(number: str) -> bool:
    """An 18-character (checked) or 15-digit resident identity card number."""
    number = number.upper()
    if number[:2] not in PROVINCE_CODES:
        return False
    if len(number) == 18:
        born = number[6:14]
        total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
        if ID_CHECK[total % 11] != number[17]:
            return False
    elif len(number) == 15:
        born = "19" + number[6:12]
    else:
        return False
    try:
        day = datetime.date(int(born[:4]), int(born[4:6]), int(born[6:8]))
    except ValueError:
        return False
    return day.year >= 1900


def luhn(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        d = int(c)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _public(found: str, public: list[str]) -> bool:
    """A public number or mailbox: the same digits, or the same number with or without
    its area code (or country code)."""
    if "@" in found:
        return found.lower() in public
    d = digits(found)
    for p in public:
        if not p or "@" in p:
            continue
        if d == p or (min(len(d), len(p)) >= 7 and (d.endswith(p) or p.endswith(d))):
            return True
    return False


def _mask(kind: str, m: re.Match[str]) -> str:
    s = m.group(0)
    if kind == "id_card":
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    if kind == "bank_card":
        d = digits(s)
        return "*" * (len(d) - 4) + d[-4:]
    if kind == "mobile":
        return f"{m.group(1)}****{m.group(4)}"
    if kind == "landline":
        area = m.group(1) or m.group(2)
        return f"{area}-****{m.group(3)[-4:]}"
    if kind == "email":
        return f"{m.group(1)[0]}***@{m.group(2)}"
    return f"{m.group(1)}{m.group(2)}{'*' * (len(m.group(3)) - 2)}{m.group(3)[-2:]}"


@family(PERSONAL_DATA)
def personal_data(text: str, context: Context) -> list[Finding]:
    public = [p.strip().lower() if "@" in p else digits(p) for p in context.public_numbers]
    taken: list[tuple[int, int]] = []
    found: list[Finding] = []

    def add(kind: str, m: re.Match[str]) -> None:
        s, e = m.start(), m.end()
        if any(a < e and s < b for a, b in taken):
            return
        taken.append((s, e))
        if kind in PUBLISHABLE and _public(m.group(0), public):
            return
        found.append(
            Finding(
                start=s,
                end=e,
                text=text[s:e],
                family=PERSONAL_DATA,
                severity=VETO,
                message=f"含有{KINDS[kind]}，发布前应删除或遮盖（《个人信息保护法》）",
                suggestion=_mask(kind, m),
                rule=f"personal_data.{kind}",
            )
        )

    for pattern in (ID_18, ID_15):
        for m in pattern.finditer(text):
            if valid_id(m.group(0)):
                add("id_card", m)
    for m in BANK_CARD.finditer(text):
        number = digits(m.group(0))
        if number[0] in "345689" and luhn(number):
            add("bank_card", m)
    for m in MOBILE.finditer(text):
        add("mobile", m)
    for m in LANDLINE.finditer(text):
        add("landline", m)
    for m in EMAIL.finditer(text):
        add("email", m)
    for m in PLATE.finditer(text):
        if sum(c.isdigit() for c in m.group(3)) >= 3:
            add("plate", m)
    return found
