"""What the checker knows of an account, read from the database: `context_for(account)`.

- names: the account's own name, its organisation's, the departments in use (name and
  short name), the names the catalogue gives (offices and services, through
  `register_names`: the catalogue is an app of the same floor, so the console, which
  sees both, registers it) and the names of the accounts of the same organisation tree
  (the matrix: the root of the account's organisation and everything below it);
- places: the place entries of the word lists and the places the tree's organisations
  name (「示例市人民政府」 → 示例市, 示例), so a place of one's own area is never "elsewhere";
- national_places: the provinces and their capitals (data/places_cn.txt) minus the
  account's own places;
- leaders, public numbers, formulations, words to avoid and misused words: the word list
  entries (`ProofEntry`) in use, the installation's and the account's own.

A context is kept per process for `TTL` seconds, keyed also by the word lists' version
(bumped on every entry written, in the shared cache, so every process sees it) and by the
account's `rules_version` (bumped by a catalogue change): an entry added is checked at
once; a department renamed, within a minute.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from functools import cache as memoize
from pathlib import Path

from django.core.cache import cache
from django.db import transaction

from govwx.accounts.models import Account, Department, Organisation
from govwx.content.models import ProofEntry

from . import AvoidWord, Context, Formulation, Leader

TTL = 60  # seconds
VERSION_KEY = "proofread:entries:version"
PLACES_FILE = Path(__file__).resolve().parent / "data" / "places_cn.txt"
Kind = ProofEntry.Kind

NameSource = Callable[[Account], Iterable[str]]
NAME_SOURCES: list[NameSource] = []
# sources of the numbers an account publishes on purpose (the catalogue's office phones)
NUMBER_SOURCES: list[NameSource] = []

_memo: dict[int, tuple[float, tuple[object, ...], Context]] = {}
_lock = threading.Lock()


def register_names(source: NameSource) -> NameSource:
    """Add a source of names an account uses (registering twice adds it once)."""
    if source not in NAME_SOURCES:
        NAME_SOURCES.append(source)
    return source


def register_numbers(source: NameSource) -> NameSource:
    """Add a source of public numbers (phones, mailboxes) an account publishes."""
    if source not in NUMBER_SOURCES:
        NUMBER_SOURCES.append(source)
    return source


# ------------------------------------------------------------------ the cache


def version() -> str:
    """The word lists' current version, shared by every process."""
    found = cache.get(VERSION_KEY)
    if found is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        found = cache.get(VERSION_KEY) or ""
    return str(found)


def bump() -> None:
    """A word list changed: every process builds its contexts again. Called inside the
    writing transaction (the database cache writes with it), and once more after commit,
    for a cache outside the database that another process may have read from meanwhile."""

    def new() -> None:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)

    new()
    transaction.on_commit(new)


def forget() -> None:
    """Drop this process's contexts (tests)."""
    with _lock:
        _memo.clear()


def context_for(account: Account | None) -> Context:
    """The account's context: built from the database at most once a `TTL` per version.
    No account: the installation's word lists only, and the shipped national places."""
    pk = account.pk if account is not None else 0
    key: tuple[object, ...] = (version(),)
    if account is not None:
        key += (account.rules_version, account.updated_at)
    now = time.time()
    with _lock:
        held = _memo.get(pk)
    if held is not None and held[1] == key and now < held[0]:
        return held[2]
    context = build(account)
    with _lock:
        _memo[pk] = (now + TTL, key, context)
    return context


# ------------------------------------------------------------------ building


def build(account: Account | None) -> Context:
    """The context of `account`, read now (no cache)."""
    entries = _entries(account)
    names: list[str] = []
    numbers: list[str] = [e.text for e in entries if e.kind == Kind.PUBLIC_NUMBER]
    tree_places: list[str] = []
    if account is not None:
        for source in list(NUMBER_SOURCES):
            numbers += list(source(account))
        names.append(account.name)
        org = account.organisation
        if org is not None:
            names.append(org.name)
        for name, short in Department.objects.of_account(account).values_list("name", "short_name"):
            names += [name, short]
        for source in list(NAME_SOURCES):
            names += list(source(account))
        tree = tree_of(org)
        names += list(
            Account.objects.filter(organisation_id__in=[o.pk for o in tree]).values_list(
                "name", flat=True
            )
        )
        for o in tree:
            tree_places += place_names(o.name)
    places = _unique(tree_places + [e.text for e in entries if e.kind == Kind.PLACE])
    own = set(places)
    return Context(
        names=_unique(names),
        places=places,
        national_places=tuple(p for p in national_places() if p not in own),
        leaders=tuple(Leader(e.text, e.extra) for e in entries if e.kind == Kind.LEADER),
        public_numbers=_unique(numbers),
        formulations=tuple(
            Formulation(e.text, e.note) for e in entries if e.kind == Kind.FORMULATION
        ),
        avoid=tuple(AvoidWord(e.text, e.note, e.extra) for e in entries if e.kind == Kind.AVOID),
        misused=tuple((e.text, e.extra, e.note) for e in entries if e.kind == Kind.MISUSED),
    )


def _entries(account: Account | None) -> list[ProofEntry]:
    """The entries in use for the account: the installation's, then the account's own;
    an entry of the account's with the same kind and text as the installation's wins."""
    rows = ProofEntry.objects.filter(retired_at__isnull=True)
    if account is None:
        rows = rows.filter(account__isnull=True)
    else:
        rows = rows.filter(account__isnull=True) | rows.filter(account=account)
    chosen: dict[tuple[str, str], ProofEntry] = {}
    for e in rows.order_by("kind", "text", "id"):
        if (e.kind, e.text) not in chosen or e.account_id is not None:
            chosen[(e.kind, e.text)] = e
    return list(chosen.values())


def tree_of(org: Organisation | None) -> list[Organisation]:
    """The organisation tree the account's organisation belongs to: its root and every
    organisation below it (the accounts of one matrix)."""
    if org is None:
        return []
    seen = {org.pk}
    root = org
    while root.parent_id is not None and root.parent_id not in seen:
        seen.add(root.parent_id)
        root = Organisation.objects.get(pk=root.parent_id)
    found = [root]
    frontier = [root.pk]
    while frontier:
        below = list(
            Organisation.objects.filter(parent_id__in=frontier).exclude(
                pk__in=[o.pk for o in found]
            )
        )
        found += below
        frontier = [o.pk for o in below]
    return found


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.strip() for s in items if s and s.strip()))


# ------------------------------------------------------------------ places

# The administrative units an organisation's name starts with: 浙江省杭州市人民政府 →
# 浙江省, 杭州市. 州 alone is no unit's end (杭州市 is not 杭 + 州); a unit after the
# first has at least three characters.
UNIT = re.compile(r".+?(?:特别行政区|自治区|自治州|自治县|自治旗|新区|地区|省|市|县|区|盟|旗)")
# The ends a unit is named without in running text (杭州市 → 杭州), the rest at least two
# characters long (城区 stays 城区).
SHORT_ENDS = ("新区", "地区", "省", "市", "县", "区")


def place_names(name: str) -> list[str]:
    """The places an organisation's name names, each with its short form: 「示例市人民政府」
    → [示例市, 示例]; a province or capital as data/places_cn.txt names it
    (广西壮族自治区 → 广西)."""
    found: list[str] = []
    rest = name.strip().removeprefix("中国共产党").removeprefix("中共")
    while m := UNIT.match(rest):
        unit = m.group(0)
        if found and len(unit) < 3:  # 示例市城市管理局: 城市 is no place
            break
        found.append(unit)
        short = _known_short().get(unit)
        if short is None:
            short = next(
                (
                    unit[: -len(e)]
                    for e in SHORT_ENDS
                    if unit.endswith(e) and len(unit) - len(e) >= 2
                ),
                None,
            )
        if short:
            found.append(short)
        rest = rest[len(unit) :]
    return found


@memoize
def _shipped() -> tuple[tuple[str, str, str, str], ...]:
    rows = []
    for line in PLACES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            full, short, capital, capital_short = line.split()
            rows.append((full, short, capital, capital_short))
    return tuple(rows)


@memoize
def _known_short() -> dict[str, str]:
    known: dict[str, str] = {}
    for full, short, capital, capital_short in _shipped():
        known[full] = short
        if capital != "-":
            known[capital] = capital_short
    return known


def national_places() -> tuple[str, ...]:
    """Every province and capital of data/places_cn.txt, full and short names."""
    return _unique(n for row in _shipped() for n in row if n != "-")
