"""Writes on cases: intake of citizens' messages, routing, and the moves between
departments. Every write checks who may do it, runs in a transaction, bumps the case's
revision (a stale revision is a `Conflict`) and appends to the case's history."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Collection, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Field, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from govwx.accounts import permissions
from govwx.accounts.models import Account, Department, Membership
from govwx.accounts.services import record, role_for
from govwx.lib import textcheck
from govwx.lib.dblock import serialized_writes
from govwx.lib.workdays import WorkCalendar
from govwx.team.models import Alert
from govwx.team.services import raise_alert, settle_alerts
from govwx.wechat import media, spool
from govwx.wechat.models import InboundMessage, MessageMedia, OutboundMessage
from govwx.wechat.protocol import Reply
from govwx.wechat.services import queue_customer_messages
from govwx.workcalendar.services import calendar

from . import routing, topics
from .models import (
    OPEN_STATUSES,
    UNANSWERED,
    UNRESOLVED,
    Case,
    CaseEvent,
    CaseMessage,
    CaseType,
    IntakeCursor,
    IntakeFailure,
    Rating,
    RoutingRule,
    Status,
    TimeLimit,
)

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(minutes=1)

Unit = TimeLimit.Unit


@dataclass(frozen=True)
class Limits:
    first_response: int
    first_response_unit: str
    resolution: int
    resolution_unit: str
    restart_on_transfer: bool = False


# Defaults after the 12345 hotline norms (gov-standards.md §3): acknowledge within one
# working day; consultations answered in 3 working days, complaints, reports and
# suggestions in 10–15; a request for help acknowledged within 4 hours.
DEFAULT_LIMITS = {
    CaseType.CONSULTATION: Limits(1, Unit.WORKING_DAYS, 3, Unit.WORKING_DAYS),
    CaseType.COMPLAINT: Limits(1, Unit.WORKING_DAYS, 10, Unit.WORKING_DAYS),
    CaseType.SUGGESTION: Limits(1, Unit.WORKING_DAYS, 15, Unit.WORKING_DAYS),
    CaseType.REPORT: Limits(1, Unit.WORKING_DAYS, 15, Unit.WORKING_DAYS),
    CaseType.PRAISE: Limits(1, Unit.WORKING_DAYS, 5, Unit.WORKING_DAYS),
    CaseType.HELP: Limits(4, Unit.HOURS, 1, Unit.WORKING_DAYS),
}
SUMMARIES = {"image": "[图片]", "voice": "[语音]", "video": "[视频]", "shortvideo": "[小视频]",
             "location": "[位置]", "link": "[链接]"}  # fmt: skip


class Conflict(Exception):
    """Someone else changed the case first; reload it and decide again."""

    def __init__(self) -> None:
        super().__init__("诉求已被他人更新，请刷新后重试 / the case changed meanwhile: reload it")


# ------------------------------------------------------------------ deadlines


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def limits_for(account_id: int, case_type: str) -> Limits:
    row = TimeLimit.objects.filter(account_id=account_id, case_type=case_type).first()
    if row is None:
        return DEFAULT_LIMITS[CaseType(case_type)]
    return Limits(
        row.first_response,
        row.first_response_unit,
        row.resolution,
        row.resolution_unit,
        row.restart_on_transfer,
    )


@dataclass(frozen=True)
class Due:
    """A deadline, and the first year it assumed without a confirmed holiday
    arrangement (None: computed on confirmed years only)."""

    at: datetime
    provisional_year: int | None = None


def due_on(cal: WorkCalendar, start: datetime, value: int, unit: str) -> Due:
    """A deadline on `cal`; a year it has not confirmed is taken as plain weeks (weekends
    off, no holidays) and named, so that the deadline is shown as provisional (暂定) and
    computed again when the year is confirmed. A citizen's case never waits for a year."""
    guess = cal.provisional()
    if unit == Unit.HOURS:
        at = guess.deadline_in_hours(start, value, _tz())
    else:
        at = guess.deadline_in_working_days(start, value, _tz())
    return Due(at, guess.first_assumed)


def _earliest(*years: int | None) -> int | None:
    known = [y for y in years if y is not None]
    return min(known) if known else None


def _from_basis(cal: WorkCalendar, basis: dict[str, Any]) -> tuple[Due, Due]:
    """The first-response and resolution deadlines a case's basis gives on `cal` (the
    extensions added to the resolution). KeyError, TypeError or ValueError: no basis."""
    f_start, f_n, f_unit = basis["first_response"]
    r_start, r_n, r_unit = basis["resolution"]
    first = due_on(cal, datetime.fromisoformat(f_start), int(f_n), f_unit)
    resolve = due_on(cal, datetime.fromisoformat(r_start), int(r_n), r_unit)
    year = resolve.provisional_year
    for n in basis.get("extensions", []):
        resolve = due_on(cal, resolve.at, int(n), Unit.WORKING_DAYS)
        year = _earliest(year, resolve.provisional_year)
    return first, Due(resolve.at, year)


def deadlines(
    cal: WorkCalendar, start: datetime, limits: Limits
) -> tuple[Due, Due, dict[str, Any]]:
    """The first-response and resolution deadlines from `start`, and the basis they were
    computed from (kept on the case, so that they can be computed again)."""
    basis = {
        "first_response": [start.isoformat(), limits.first_response, limits.first_response_unit],
        "resolution": [start.isoformat(), limits.resolution, limits.resolution_unit],
        "extensions": [],
    }
    first, resolve = _from_basis(cal, basis)
    return first, resolve, basis


def recompute_deadlines(case: Case, cal: WorkCalendar) -> dict[str, Any] | None:
    """The changes that bring a case's deadlines up to `cal` (None: no basis kept)."""
    try:
        first, resolve = _from_basis(cal, case.deadline_basis or {})
    except (KeyError, TypeError, ValueError):
        return None
    return {
        "first_response_due": first.at,
        "resolve_due": resolve.at,
        "provisional_year": _earliest(first.provisional_year, resolve.provisional_year),
    }


def recompute_provisional(year: int, *, actor: Any = None, **_: Any) -> int:
    """A year was confirmed: compute again every provisional deadline (of any year: the
    calendar may now cover more than one), record the change on each case, and clear the
    sweep's marks a later deadline no longer justifies. Runs inside the confirming
    transaction (`workcalendar.signals.year_confirmed`). Returns the cases changed."""
    cal = calendar()
    now = timezone.now()
    changed = 0
    for case in Case.objects.filter(provisional_year__isnull=False).order_by("pk"):
        changes = recompute_deadlines(case, cal)
        if changes is None:
            continue
        if changes["resolve_due"] > now:
            changes.update(warned_at=None, breached_at=None)
        if changes["first_response_due"] > now:
            changes["response_breached_at"] = None
        Case.objects.filter(pk=case.pk).update(revision=F("revision") + 1, **changes)
        _event(
            case,
            "case.deadline_confirmed",
            actor,
            year=year,
            first_response_due=[case.first_response_due.isoformat(),
                                changes["first_response_due"].isoformat()],
            resolve_due=[case.resolve_due.isoformat(), changes["resolve_due"].isoformat()],
            still_provisional=changes["provisional_year"],
        )  # fmt: skip
        changed += 1
    if changed:
        from govwx.accounts.services import record

        record("desk.deadlines_recomputed", actor=actor, year=year, cases=changed)
    return changed


# ------------------------------------------------------------------ intake


def message_text(msg: InboundMessage | _Msg) -> str:
    if msg.msg_type == "text":
        return msg.content
    if msg.msg_type == "event":
        return f"[菜单：{msg.payload.get('EventKey', '')}]"
    return SUMMARIES.get(msg.msg_type, f"[{msg.msg_type}]")


def _rules(account_id: int) -> list[RoutingRule]:
    return routing.rules_of(account_id)


def _event(
    case: Case, name: str, actor: Any = None, when: datetime | None = None, **data: Any
) -> None:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    CaseEvent.objects.create(
        case=case, actor=actor, name=name, data=data, created_at=when or timezone.now()
    )


def stamp(value: datetime) -> Any:
    """A datetime as the ORM stores it (SQLite: naive UTC text; PostgreSQL: as it is),
    without Django's checks on each of a batch's thousands of values."""
    if not _on_sqlite():
        return value
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value.replace(tzinfo=None))


@functools.cache
def _on_sqlite() -> bool:
    return connection.vendor == "sqlite"


def _json(value: Any) -> Any:
    """A JSON field's value as the database driver takes it (what the field's own
    adaptation ends in, without its layers: a batch adapts thousands)."""
    return connection.ops.adapt_json_value(value, None)


class _Msg(NamedTuple):
    """What intake reads of a stored message (no model instance: a batch reads 200)."""

    pk: int
    account_id: int
    openid: str
    msg_type: str
    content: str
    payload: dict[str, Any]
    received_at: datetime


MSG_FIELDS = ("pk", "account_id", "openid", "msg_type", "content", "payload", "received_at")


@dataclass
class _NewCase:
    account_id: int
    openid: str
    state: routing.CaseState
    opened_at: datetime
    first: Due
    resolve: Due
    basis: dict[str, Any]
    opening_type: str = ""

    @property
    def provisional_year(self) -> int | None:
        return _earliest(self.first.provisional_year, self.resolve.provisional_year)

    def row(self) -> list[Any]:
        """The INSERT's values (CASE_COLUMNS), adapted for the database."""
        basis = _json(self.basis)
        st = self.state
        return [
            self.account_id, self.openid, st.case_type, False, st.subject, st.status,
            st.suggested_id, stamp(self.opened_at), stamp(self.first.at),
            stamp(self.resolve.at), 0, 1, basis, self.provisional_year, True,
            st.department_id, st.untitled,
        ]  # fmt: skip

    def events(self) -> list[list[Any]]:
        """The opening event's values after the case id (EVENT_COLUMNS), and those of
        what routing did with the follower's further messages of the batch."""
        data = {
            "case_type": self.state.case_type,
            "suggested_department": self.state.suggested_id,
            **({"provisional_year": self.provisional_year} if self.provisional_year else {}),
        }
        opened = stamp(self.opened_at)
        return [["case.opened", _event_data(data), opened]] + [
            [name, _event_data(extra), when or opened] for name, extra, when in self.state.events
        ]


def _event_data(data: dict[str, Any]) -> Any:
    return _json(data)


class _Batch:
    """A batch of messages prepared for intake before the database's write lock is
    taken: their texts and words, and the case each follower's first message would open
    (type, department, deadlines: the calendar, routing rules and time limits read once)."""

    def __init__(
        self, messages: Sequence[_Msg], open_before: Set[tuple[int, str]] = frozenset()
    ) -> None:
        self.cal = calendar()
        self.rules: dict[int, list[RoutingRule]] = {}
        self.messages = list(messages)
        accounts = {m.account_id for m in self.messages}
        self.handoff = routing.handoff_words(accounts)
        self.modes = routing.routing_modes(accounts)
        self.limits: dict[tuple[int, str], Limits] = {
            (row.account_id, row.case_type): Limits(
                row.first_response, row.first_response_unit, row.resolution,
                row.resolution_unit, row.restart_on_transfer,
            )
            for row in TimeLimit.objects.filter(
                account_id__in={m.account_id for m in self.messages}
            )
        }  # fmt: skip
        # the deadlines of cases opened on one local day are the same (in working days)
        self.memo: dict[tuple[Any, ...], tuple[Due, Due, dict[str, Any]]] = {}
        self.texts = [message_text(m) for m in self.messages]
        self.words = [topics.words(t) for t in self.texts]
        self.counts = topics.tally(
            (m.account_id, m.received_at, found)
            for m, found in zip(self.messages, self.words, strict=True)
        )
        self.stamps = [stamp(m.received_at) for m in messages]
        # each follower's messages of the batch, in order (indexes into the lists above)
        self.of: dict[tuple[int, str], list[int]] = {}
        for i, m in enumerate(self.messages):
            self.of.setdefault((m.account_id, m.openid), []).append(i)
        # the file each picture, voice or video names, fetched from WeChat after the batch
        self.media = {
            m.pk: media.intake_row(m.account_id, m.pk, m.msg_type, m.payload, at)
            for m, at in zip(self.messages, self.stamps, strict=True)
            if media.carries_media(m.msg_type, m.payload)
        }
        # what routing makes of each message (the same for a new case or an open one)
        self.routed = {
            m.pk: self.route(m.account_id, m.msg_type, t)
            for m, t in zip(self.messages, self.texts, strict=True)
        }
        # the case each follower's messages would open (the first opens it, the others
        # may name and route it), its row and events adapted: for the followers who had
        # no open case when the batch was read (`open_before`); any other is prepared
        # when it turns out to need one (its case was closed meanwhile)
        self.new: dict[tuple[int, str], tuple[list[Any], list[list[Any]]]] = {}
        for key in dict.fromkeys((m.account_id, m.openid) for m in self.messages):
            if key not in open_before:
                self.new_rows(key)

    def new_rows(self, key: tuple[int, str]) -> tuple[list[Any], list[list[Any]]]:
        """The row and events of the case the follower's messages of the batch open."""
        if key in self.new:
            return self.new[key]
        case = None
        for i in self.of.get(key, ()):
            msg, text, at = self.messages[i], self.texts[i], self.stamps[i]
            if case is None:
                case = self.new_case(msg, text, at)
            else:
                case.state.follow(text, self.routed[msg.pk], self.modes[msg.account_id], at)
        assert case is not None, key
        if case.state.case_type != case.opening_type:  # named by a later message
            case.first, case.resolve, case.basis = self.deadlines(
                case.opened_at, self.limits_for(case.account_id, case.state.case_type)
            )
        self.new[key] = (case.row(), case.events())
        return self.new[key]

    def route(self, account_id: int, msg_type: str, text: str) -> routing.Routed:
        if account_id not in self.rules:
            self.rules[account_id] = _rules(account_id)
        return routing.route(
            self.rules[account_id], text, msg_type=msg_type, handoff=self.handoff[account_id]
        )

    def limits_for(self, account_id: int, kind: str) -> Limits:
        return self.limits.get((account_id, kind)) or DEFAULT_LIMITS[CaseType(kind)]

    def deadlines(self, opened: datetime, limits: Limits) -> tuple[Due, Due, dict[str, Any]]:
        if Unit.HOURS in (limits.first_response_unit, limits.resolution_unit):
            return deadlines(self.cal, opened, limits)
        key = (opened.astimezone(_tz()).date(), limits)
        if key not in self.memo:
            self.memo[key] = deadlines(self.cal, opened, limits)
        first, resolve, basis = self.memo[key]
        start = opened.isoformat()  # the basis names the case's own start
        return (
            first,
            resolve,
            {
                **basis,
                "first_response": [start, *basis["first_response"][1:]],
                "resolution": [start, *basis["resolution"][1:]],
            },
        )

    def new_case(self, msg: _Msg, text: str, at: Any) -> _NewCase:
        found = self.routed.get(msg.pk) or self.route(msg.account_id, msg.msg_type, text)
        state = routing.CaseState.opened(text, found, self.modes[msg.account_id], at)
        opened = msg.received_at
        first, resolve, basis = self.deadlines(
            opened, self.limits_for(msg.account_id, state.case_type)
        )
        return _NewCase(
            account_id=msg.account_id,
            openid=msg.openid,
            state=state,
            opened_at=opened,
            first=first,
            resolve=resolve,
            basis=basis,
            opening_type=state.case_type,
        )


def _read(ids: Sequence[int]) -> list[_Msg]:
    rows = InboundMessage.objects.filter(pk__in=ids).order_by("pk").values_list(*MSG_FIELDS)
    return [_Msg(*row) for row in rows]


def intake(inbound_id: int) -> Case:
    """Turn one stored message into a case, or add it to the follower's open case (the
    batch's way for one message: retries of failures, tests).

    Idempotent: a message joins one case once (a unique link), and a follower has one
    open case per account (a partial unique index), so retries, repeated runs and
    several processes at once all end in the same single case.
    """
    msgs = _read([inbound_id])
    if not msgs:
        raise InboundMessage.DoesNotExist(f"no stored message {inbound_id}")
    for _ in range(3):
        linked = CaseMessage.objects.filter(inbound_id=inbound_id).select_related("case").first()
        if linked is not None:
            return linked.case
        batch = _Batch(msgs)
        try:
            with serialized_writes(connection), transaction.atomic():
                case_id = _take_in(batch)[0]
            announce_new_cases(account_id=msgs[0].account_id)
            return Case.objects.get(pk=case_id)
        except IntegrityError:
            continue  # another process opened the case or linked the message first
    raise RuntimeError(f"could not take in message {inbound_id}")


# The columns intake writes (the others are NULL, or filled later by the desk's moves).
CASE_COLUMNS = (
    "account_id", "openid", "case_type", "type_confirmed", "subject", "status",
    "suggested_department_id", "opened_at", "first_response_due", "resolve_due",
    "extensions", "revision", "deadline_basis", "provisional_year", "announce_pending",
    "department_id", "untitled",
)  # fmt: skip
EVENT_COLUMNS = ("case_id", "name", "data", "created_at")
MESSAGE_COLUMNS = ("case_id", "direction", "inbound_id", "text", "created_at")


def _insert(
    model: Any, columns: Sequence[str], rows: list[list[Any]], returning: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """Many rows in as few INSERTs as the database's parameter limit allows (Django's
    bulk_create builds every value of every row in Python first: most of a batch's time;
    executemany is a round trip per row on PostgreSQL); the `returning` columns of the
    rows written, in no promised order."""
    q = connection.ops.quote_name
    head = f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for c in columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    tail = f" RETURNING {', '.join(q(c) for c in returning)}" if returning else ""
    per = max(1, (connection.features.max_query_params or 65535) // len(columns))
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cur:
        for i in range(0, len(rows), per):
            chunk = rows[i : i + per]
            cur.execute(
                head + ", ".join([one] * len(chunk)) + tail, [v for row in chunk for v in row]
            )
            if returning:
                found += cur.fetchall()
    return found


# What intake reads of an open case besides its id, follower and status, to name it or
# route it again (_route_again).
UNSETTLED_FIELDS = (
    "untitled", "case_type", "department_id", "type_confirmed", "subject",
    "suggested_department_id", "opened_at", "extensions",
)  # fmt: skip


def _route_again(
    batch: _Batch, picked: Sequence[tuple[Any, ...]], unsettled: dict[tuple[int, str], Any]
) -> list[list[Any]]:
    """The batch's messages on open cases that are untitled or held by no department:
    the first message that says something names (and types) an untitled case, and
    routing runs again while no department holds it. The cases changed in one UPDATE;
    returns the history rows to write."""
    states: dict[tuple[int, str], routing.CaseState] = {}
    for msg, text, _, at in picked:
        key = (msg.account_id, msg.openid)
        row = unsettled.get(key)
        if row is None:
            continue
        if key not in states:
            _, _, _, status, untitled, kind, dept, confirmed, subject, suggested = row[:10]
            states[key] = routing.CaseState(
                subject, bool(untitled), kind, bool(confirmed), dept, suggested, status
            )
        states[key].follow(text, batch.routed[msg.pk], batch.modes[msg.account_id], at)
    events: list[list[Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    for key, st in states.items():
        if not st.events:
            continue
        pk, account_id, _, status, _, kind, dept, _, _, suggested, opened_at, extensions = (
            unsettled[key]
        )
        changes: dict[str, Any] = {
            "subject": st.subject,
            "untitled": st.untitled,
            "case_type": st.case_type,
            "suggested_department_id": st.suggested_id,
        }
        if st.department_id != dept:  # routed: held by the department, as a transfer does
            changes.update(department_id=st.department_id, status=st.status)
        if st.case_type != kind and not extensions:
            # typed by what the citizen wrote: the type's time limits, from the opening
            first, resolve, basis = batch.deadlines(
                _opened_at(opened_at), batch.limits_for(account_id, st.case_type)
            )
            changes.update(
                first_response_due=stamp(first.at),
                resolve_due=stamp(resolve.at),
                deadline_basis=_json(basis),
                provisional_year=_earliest(first.provisional_year, resolve.provisional_year),
            )
        changed[pk] = changes
        events += [[pk, name, _event_data(data), when] for name, data, when in st.events]
    _update_cases(changed)
    return events


def _update_cases(changed: dict[int, dict[str, Any]]) -> None:
    """Each case's own changes (values adapted for the database), and its revision
    bumped. SQLite: one prepared UPDATE per set of columns changed, run for each case
    (in-process, no round trips); PostgreSQL: one UPDATE for all (per chunk of the
    parameter limit): column = CASE id WHEN … THEN … ELSE column END."""
    if not changed:
        return
    q = connection.ops.quote_name
    table = q(Case._meta.db_table)
    if _on_sqlite():
        by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
        for pk, changes in changed.items():
            names = tuple(sorted(changes))
            by_columns.setdefault(names, []).append([changes[c] for c in names] + [pk])
        with connection.cursor() as cur:
            for names, rows in by_columns.items():
                assigned = ", ".join(f"{q(c)} = %s" for c in names)
                cur.executemany(
                    f"UPDATE {table} SET {assigned}, {q('revision')} = {q('revision')} + 1 "
                    f"WHERE {q('id')} = %s",
                    rows,
                )
        return
    columns = sorted({c for changes in changed.values() for c in changes})
    per = max(1, (connection.features.max_query_params or 65535) // (2 * len(columns) + 1))
    ids = list(changed)
    with connection.cursor() as cur:
        for i in range(0, len(ids), per):
            chunk = ids[i : i + per]
            sets, params = [], []
            for col in columns:
                whens = [pk for pk in chunk if col in changed[pk]]
                if not whens:
                    continue
                sets.append(
                    f"{q(col)} = CASE {q('id')} "
                    + " ".join(["WHEN %s THEN %s"] * len(whens))
                    + f" ELSE {q(col)} END"
                )
                params += [v for pk in whens for v in (pk, changed[pk][col])]
            sets.append(f"{q('revision')} = {q('revision')} + 1")
            cur.execute(
                f"UPDATE {table} SET {', '.join(sets)} "
                f"WHERE {q('id')} IN ({', '.join(['%s'] * len(chunk))})",
                params + chunk,
            )


def _open_cases(followers: Iterable[tuple[int, str]], *, lock: bool) -> list[tuple[Any, ...]]:
    """The followers' open cases: id, account, openid, status and UNSETTLED_FIELDS, as
    the database driver returns them (a batch reads a few hundred: Django's conversions
    of each value cost more than the query; `_opened_at` converts the one value used).
    The statement is written here, not by the ORM: building it for a batch's few hundred
    parameters cost more than running it. It uses the index on (account, openid)."""
    keys = list(followers)
    if not keys:
        return []
    accounts = sorted({a for a, _ in keys})
    openids = sorted({o for _, o in keys})
    statuses = [str(s) for s in OPEN_STATUSES]
    sql = _open_cases_sql().format(
        accounts=", ".join(["%s"] * len(accounts)),
        openids=", ".join(["%s"] * len(openids)),
        statuses=", ".join(["%s"] * len(statuses)),
        lock=" FOR UPDATE" if lock and connection.features.has_select_for_update else "",
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*accounts, *openids, *statuses])
        return cur.fetchall()


@functools.cache
def _open_cases_sql() -> str:
    """`_open_cases`'s statement, its lists of parameters to fill in."""
    q = connection.ops.quote_name

    def col(name: str) -> str:
        field = Case._meta.get_field(name)
        assert isinstance(field, Field) and field.column, name
        return q(field.column)

    columns = ", ".join(col(f) for f in ("id", "account", "openid", "status", *UNSETTLED_FIELDS))
    return (
        f"SELECT {columns} FROM {q(Case._meta.db_table)} WHERE {col('account')} IN ({{accounts}})"
        f" AND {col('openid')} IN ({{openids}}) AND {col('status')} IN ({{statuses}})"
        f" ORDER BY {col('id')}{{lock}}"
    )


def _opened_at(value: Any) -> datetime:
    """A case's opened_at as `_open_cases` read it (SQLite: text in UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(value)
    assert parsed is not None, value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _take_in(batch: _Batch, only: set[int] | None = None) -> list[int]:
    """Take in a prepared batch's messages (those in `only`, when given), inside the
    caller's transaction, with a handful of statements whatever their number: the
    followers' open cases in one query, the new cases, their opening events, every
    message's link, the open cases a message names or routes (routing runs again while
    no department holds a case) and the topics' counts in one statement each. Returns
    each taken message's case id, in order."""
    now = timezone.now()
    picked = [
        (msg, text, found, stamp)
        for msg, text, found, stamp in zip(
            batch.messages, batch.texts, batch.words, batch.stamps, strict=True
        )
        if only is None or msg.pk in only
    ]
    counts = (
        batch.counts
        if len(picked) == len(batch.messages)
        else topics.tally((m.account_id, m.received_at, found) for m, _, found, _ in picked)
    )
    followers = dict.fromkeys((m.account_id, m.openid) for m, _, _, _ in picked)
    open_cases: dict[tuple[int, str], int] = {}
    woken: list[tuple[int, str]] = []
    # open cases that the new messages may still name or route
    unsettled: dict[tuple[int, str], tuple[Any, ...]] = {}
    for row in _open_cases(followers, lock=True):
        pk, account_id, openid, status = row[:4]
        if (account_id, openid) in followers:
            open_cases[(account_id, openid)] = pk
            if status in (Status.ANSWERED, Status.WAITING):
                woken.append((pk, status))
            untitled, department_id = row[4], row[6]
            if untitled or (department_id is None and status in (Status.NEW, Status.REOPENED)):
                unsettled[(account_id, openid)] = row
    new = [key for key in followers if key not in open_cases]
    rows = [batch.new_rows(key)[0] for key in new]
    for pk, account_id, openid in _insert(Case, CASE_COLUMNS, rows, ("id", "account_id", "openid")):
        open_cases[(account_id, openid)] = pk
    events = [[open_cases[key], *ev] for key in new for ev in batch.new_rows(key)[1]]
    if unsettled:
        events += _route_again(batch, picked, unsettled)
    _insert(CaseEvent, EVENT_COLUMNS, events)
    for pk, status in woken:
        # the citizen wrote again: the case is back in the department's hands
        Case.objects.filter(pk=pk).update(status=Status.IN_PROGRESS, revision=F("revision") + 1)
        CaseEvent.objects.create(
            case_id=pk, name="case.citizen_wrote", data={"previous": status}, created_at=now
        )
    case_ids = [open_cases[(m.account_id, m.openid)] for m, _, _, _ in picked]
    _insert(
        CaseMessage,
        MESSAGE_COLUMNS,
        [
            [case_id, CaseMessage.Direction.IN, m.pk, text, stamp]
            for (m, text, _, stamp), case_id in zip(picked, case_ids, strict=True)
        ],
    )
    files = [batch.media[m.pk] for m, _, _, _ in picked if m.pk in batch.media]
    if files:  # one INSERT; the files are fetched later, outside this transaction
        _insert(MessageMedia, media.INTAKE_COLUMNS, files)
    topics.write(counts)
    return case_ids


# How long a message may take between its id being drawn and its row being visible to
# others. SQLite has one writer, so ids become visible in order; PostgreSQL draws ids
# from a sequence before commit, so a lower id may appear a moment after a higher one:
# the cursor stays this far behind, and rows behind it that are not linked yet are
# found by the anti-join below.
SETTLE = {"sqlite": timedelta(0)}
SETTLE_DEFAULT = timedelta(seconds=10)
BATCH_SIZE = 200


def _pending(after: int, limit: int) -> list[_Msg]:
    rows = (
        InboundMessage.objects.filter(pk__gt=after, handled_by="desk")
        .exclude(Exists(CaseMessage.objects.filter(inbound_id=OuterRef("pk"))))
        .exclude(Exists(IntakeFailure.objects.filter(inbound_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list(*MSG_FIELDS)[:limit]
    )
    return [_Msg(*row) for row in rows]


def take_in_pending(limit: int = BATCH_SIZE) -> tuple[int, int]:
    """Take in the messages the pipeline gave the desk since the last run, a batch in
    one transaction, then retry earlier failures, and announce the new cases to the
    people on duty (`announce_new_cases`). Returns (taken in, failed). Safe to run in
    several processes at once: the batch locks the cursor row, skips what another
    process linked meanwhile, and the cursor only moves forward."""
    spool.recover()  # what callbacks of a process that is gone had spooled
    cursor, _ = IntakeCursor.objects.get_or_create(pk=1)
    pending = _pending(cursor.last_inbound_id, limit)
    done = failed = 0
    advanced = False
    if pending:
        try:
            done, advanced = _take_in_batch(pending)
        except Exception:  # one bad message must not hold up the others: one by one
            log.exception("desk intake of a batch of %s messages failed", len(pending))
            for msg in pending:
                ok = _intake_or_record(msg.pk)
                done, failed = done + ok, failed + (not ok)
    if not advanced:
        _advance_cursor(cursor.last_inbound_id)
    retry = list(
        IntakeFailure.objects.filter(updated_at__lt=timezone.now() - RETRY_AFTER)
        .order_by("updated_at")
        .values_list("inbound_id", flat=True)[:100]
    )
    for inbound_id in retry:
        ok = _intake_or_record(inbound_id)
        done, failed = done + ok, failed + (not ok)
    if done:
        announce_new_cases()
    return done, failed


def _take_in_batch(pending: list[_Msg]) -> tuple[int, bool]:
    """Take in a batch; returns how many it took in, and whether the cursor moved past
    it in the same transaction (SQLite: ids become visible in order, so every desk
    message up to the batch's last is now linked or failed; PostgreSQL: later, by
    `_advance_cursor`, which waits for lower ids that commit late)."""
    # the work that needs no lock first: texts, words, the cases they would open (for
    # the followers with no open case now: read again under the lock)
    followers = {(m.account_id, m.openid) for m in pending}
    open_now = {(row[1], row[2]) for row in _open_cases(followers, lock=False)}
    batch = _Batch(pending, open_now)
    in_order = not SETTLE.get(connection.vendor, SETTLE_DEFAULT)
    with serialized_writes(connection), transaction.atomic():
        # Two loops at once queue here (the row lock; SQLite's single writer), and the
        # second skips what the first linked.
        _lock_cursor()
        linked = _linked([m.pk for m in pending])
        todo = {m.pk for m in pending} - linked
        if todo:
            _take_in(batch, todo)
        if in_order:
            _move_cursor(pending[-1].pk)
    return len(todo), in_order


def _lock_cursor() -> None:
    """The cursor row, locked for the transaction (PostgreSQL; SQLite's write lock is
    the whole database's)."""
    q = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {q('id')} FROM {q(IntakeCursor._meta.db_table)} WHERE {q('id')} = 1{lock}"
        )


def _move_cursor(upto: int) -> None:
    q = connection.ops.quote_name
    table, column = q(IntakeCursor._meta.db_table), q("last_inbound_id")
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET {column} = %s WHERE {q('id')} = 1 AND {column} < %s",
            [upto, upto],
        )


def _linked(ids: Sequence[int]) -> set[int]:
    """Which of these messages are in a case already (the unique index on the link;
    written here: the ORM's building of a 200-id list cost more than the query)."""
    q = connection.ops.quote_name
    table, column = q(CaseMessage._meta.db_table), q("inbound_id")
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {column} FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(ids))})",
            list(ids),
        )
        return {row[0] for row in cur.fetchall()}


def _intake_or_record(inbound_id: int) -> bool:
    try:
        intake(inbound_id)
    except Exception as exc:  # recorded and retried; never blocks the messages after it
        log.exception("desk intake of message %s failed", inbound_id)
        row, created = IntakeFailure.objects.get_or_create(
            inbound_id=inbound_id, defaults={"error": str(exc)[:2000]}
        )
        if not created:
            IntakeFailure.objects.filter(pk=row.pk).update(
                error=str(exc)[:2000], attempts=F("attempts") + 1, updated_at=timezone.now()
            )
        return False
    IntakeFailure.objects.filter(inbound_id=inbound_id).delete()
    return True


def _advance_cursor(last: int) -> None:
    """Move the cursor past every desk message that is settled and linked (or failed,
    which the retry takes care of): the next pass starts there.

    The end is read first and the messages still waiting only up to it: each statement
    sees its own snapshot, and a message stored between the two must not be passed over.
    """
    settle = SETTLE.get(connection.vendor, SETTLE_DEFAULT)
    end = (
        InboundMessage.objects.filter(
            pk__gt=last, handled_by="desk", received_at__lt=timezone.now() - settle
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if end is None:
        return
    waiting = (
        InboundMessage.objects.filter(pk__gt=last, pk__lte=end, handled_by="desk")
        .exclude(Exists(CaseMessage.objects.filter(inbound_id=OuterRef("pk"))))
        .exclude(Exists(IntakeFailure.objects.filter(inbound_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    upto = end if waiting is None else waiting - 1
    if upto > last:
        IntakeCursor.objects.filter(pk=1, last_inbound_id__lt=upto).update(last_inbound_id=upto)


# ------------------------------------------------------------------ new-case alerts


# New cases of one account are announced at most once per window: the first case after a
# quiet window at once (「新诉求 #42：…」), the rest of a burst together when the window
# has passed (「5 分钟内新诉求 312 件」, with what they are about).
def announce_window() -> timedelta:
    return timedelta(seconds=settings.GOVWX_ALERT_WINDOW)


EXAMPLES = 3


def announce_new_cases(now: datetime | None = None, *, account_id: int | None = None) -> int:
    """Announce the cases opened and not yet announced, per account: one alert each
    window, to whoever is on duty. Returns the alerts raised. Idempotent and safe in
    several processes (the cases are claimed under a lock, each announced once)."""
    now = now or timezone.now()
    waiting = Case.objects.filter(announce_pending=True)
    if account_id is not None:
        waiting = waiting.filter(account_id=account_id)
    raised = 0
    for account in waiting.values_list("account_id", flat=True).distinct().order_by():
        last = (
            Alert.objects.filter(account_id=account, kind=Alert.Kind.NEW_CASE)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and last > now - announce_window():
            continue  # within the window: the next alert sums up
        raised += _announce(account, now, since=last)
    return raised


def _announce(account_id: int, now: datetime, since: datetime | None) -> int:
    with serialized_writes(connection), transaction.atomic():
        cases = list(
            Case.objects.select_for_update()
            .filter(account_id=account_id, announce_pending=True)
            .order_by("pk")
            .values_list("pk", "subject", "opened_at")
        )
        if not cases:
            return 0
        account = Account.objects.get(pk=account_id)
        if len(cases) == 1:
            pk, subject, _ = cases[0]
            alert = raise_alert(
                account,
                Alert.Kind.NEW_CASE,
                f"case:{pk}",
                f"新诉求 #{pk}：{subject[:60]}",
                link=f"/desk/cases/{pk}/",
                at=now,
            )
        else:
            first = min(opened for _, _, opened in cases)
            minutes = max(1, math.ceil((now - min(first, since or first)).total_seconds() / 60))
            alert = raise_alert(
                account,
                Alert.Kind.NEW_CASE,
                f"cases:{cases[0][0]}-{cases[-1][0]}",
                f"{minutes} 分钟内新诉求 {len(cases)} 件",
                detail=_what_about([subject for _, subject, _ in cases]),
                link="/desk/cases/?alert={alert}",
                at=now,
            )
        if alert is None:
            return 0  # announced by another process meanwhile
        ids = [pk for pk, _, _ in cases]
        for i in range(0, len(ids), 500):
            Case.objects.filter(pk__in=ids[i : i + 500]).update(
                announce_pending=False, announced_in=alert
            )
    return 1


def _what_about(texts: Sequence[str]) -> str:
    """「主要涉及：停水（120）、水压（35）…」 and a few examples."""
    try:
        from .topics import summary
    except ImportError:  # pragma: no cover - while topics is not there
        return "例：" + "；".join(t[:40] for t in texts[:EXAMPLES])
    found = summary(texts, top=5, examples=EXAMPLES)
    lines = []
    if found.words:
        lines.append("主要涉及：" + "、".join(f"{w}（{n}）" for w, n in found.words))
    if found.examples:
        lines.append("例：" + "；".join(f"“{e}”" for e in found.examples))
    return "\n".join(lines)


# ------------------------------------------------------------------ access


def get_case_for_user(user: Any, case_id: int) -> Case:
    """Load a case for a person whose role on its account has `cases.view`: all of the
    account's cases, or for a department-scoped role (a liaison) those their department
    leads or assists. Anyone else gets 404 (not even its existence)."""
    case = Case.objects.select_related("account", "department").filter(pk=case_id).first()
    if case is None or not getattr(user, "is_authenticated", False):
        raise Http404("no such case")
    role = role_for(user, case.account)
    if not permissions.role_has(role, "cases.view"):
        raise Http404("no such case")
    if role not in permissions.DEPARTMENT_SCOPED:
        return case
    dept = _liaison_department(user, case.account)
    if dept and (case.department_id == dept or case.assisting.filter(pk=dept).exists()):
        return case
    raise Http404("no such case")


def _liaison_department(user: Any, account: Account) -> int | None:
    """The department a department-scoped role (a liaison) acts for on an account
    (None for anyone else)."""
    m = Membership.objects.filter(user=user, account=account).first()
    if m is None or m.role not in permissions.DEPARTMENT_SCOPED:
        return None
    return m.department_id


def _require_in_department(actor: Any, case: Case, perm: str, refusal: str) -> None:
    """`perm` on the case's account and, for a department-scoped role, the case led by
    their department (a liaison acts only on their own department's cases)."""
    role = role_for(actor, case.account)
    if not permissions.role_has(role, perm):
        raise permissions.denied(perm)
    if role in permissions.DEPARTMENT_SCOPED and (
        case.department_id is None or _liaison_department(actor, case.account) != case.department_id
    ):
        raise PermissionDenied(refusal)


# ------------------------------------------------------------------ moves


def _move(
    case: Case, revision: int, actor: Any, event: str, data: dict[str, Any], **changes: Any
) -> Case:
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, revision=revision).update(
            revision=F("revision") + 1, **changes
        )
        if not updated:
            raise Conflict()
        _event(case, event, actor, **data)
    case.refresh_from_db()
    return case


def assign_case(
    case: Case, department: Department, *, revision: int, actor: Any, case_type: str | None = None
) -> Case:
    """转办: the operations office gives the case to a responsible department (and may
    confirm or correct its type). Allowed while new, reopened or already assigned."""
    permissions.require(actor, case.account, "cases.route")
    if department.organisation_id != case.account.organisation_id:
        raise ValidationError("部门不属于该公众号的主办组织 / department of another organisation")
    movable = (Status.NEW, Status.REOPENED, Status.ASSIGNED)
    # in progress: when the department asked for it to go elsewhere, or when no
    # department has it (the office took it itself, 领取, and now hands it on)
    if case.status not in movable and not (
        case.status == Status.IN_PROGRESS
        and (case.reassign_requested_at or case.department_id is None)
    ):
        raise ValidationError(f"当前状态不能转办 / cannot assign a case that is {case.status}")
    if case_type is not None and case_type not in CaseType.values:
        raise ValidationError(f"未知类型 / unknown type {case_type!r}")
    changes: dict[str, Any] = {
        "department": department,
        "status": Status.ASSIGNED,
        "reassign_requested_at": None,
    }
    if case_type is not None:
        changes.update(case_type=case_type, type_confirmed=True)
    limits = limits_for(case.account_id, case_type or case.case_type)
    moved = CaseEvent.objects.filter(case=case, name="case.assigned").exists()
    if moved and limits.restart_on_transfer:
        first, resolve, basis = deadlines(calendar(), timezone.now(), limits)
        changes.update(
            first_response_due=first.at,
            resolve_due=resolve.at,
            deadline_basis=basis,
            provisional_year=_earliest(first.provisional_year, resolve.provisional_year),
            warned_at=None,
            breached_at=None,
            response_breached_at=None,
        )
    return _move(
        case,
        revision,
        actor,
        "case.assigned",
        {"department": department.pk, "case_type": case_type},
        **changes,
    )


def accept_case(case: Case, *, revision: int, actor: Any) -> Case:
    """The responsible department's liaison takes the case on."""
    _require_in_department(
        actor, case, "cases.accept", "只有主办部门联络员可以接收 / only the lead department accepts"
    )
    if case.status != Status.ASSIGNED:
        raise ValidationError(f"当前状态不能接收 / cannot accept a case that is {case.status}")
    return _move(case, revision, actor, "case.accepted", {}, status=Status.IN_PROGRESS)


def return_case(case: Case, reason: str, *, revision: int, actor: Any) -> Case:
    """退回: the department says the case is not theirs, with a reason; it goes back to
    the operations office. The clock keeps running."""
    _require_in_department(
        actor, case, "cases.accept", "只有主办部门联络员可以退回 / only the lead department returns"
    )
    if not reason.strip():
        raise ValidationError("退回必须说明理由 / a return needs a reason")
    if case.status not in (Status.ASSIGNED, Status.IN_PROGRESS):
        raise ValidationError(f"当前状态不能退回 / cannot return a case that is {case.status}")
    return _move(
        case,
        revision,
        actor,
        "case.returned",
        {"department": case.department_id, "reason": reason.strip()},
        department=None,
        status=Status.NEW,
    )


# What makes a person the case's handler, and what ends it (the case goes to a department).
HANDLER_EVENTS = ("case.taken", "case.assigned", "case.returned")


def handler_of(case: Case) -> Any:
    """The person who took the case (领取), or None: the actor of the last `case.taken`
    event, unless the case was transferred or returned since."""
    last = (
        CaseEvent.objects.filter(case=case, name__in=HANDLER_EVENTS)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    return last.actor if last is not None and last.name == "case.taken" else None


def take_case(case: Case, *, revision: int, actor: Any) -> Case:
    """领取: the person handles the case themselves. Whoever may handle cases
    (`cases.handle`; a liaison only the cases their department leads); a new, reopened or
    transferred case goes in progress. The case's history names the person (the
    `case.taken` event: `handler_of`); taking a case someone else took takes it over."""
    _require_in_department(
        actor, case, "cases.handle", "只有主办部门可以领取 / only the lead department takes it"
    )
    if case.status not in OPEN_STATUSES:
        raise ValidationError(
            f"当前状态不能领取 / cannot take a case that is {case.get_status_display()}"
        )
    before = handler_of(case)
    if before is not None and before.pk == actor.pk:
        raise ValidationError("您已领取此诉求 / you have already taken this case")
    changes: dict[str, Any] = {}
    if case.status in (Status.NEW, Status.REOPENED, Status.ASSIGNED):
        changes["status"] = Status.IN_PROGRESS
    with transaction.atomic():
        _move(
            case,
            revision,
            actor,
            "case.taken",
            {"from": before.pk} if before is not None else {},
            **changes,
        )
        record(
            "case.taken",
            account=case.account,
            actor=actor,
            case=case.pk,
            took_over=before.pk if before is not None else None,
        )
    return case


# A customer-service text carries 2,048 bytes; the rating link takes up to ~300 of them.
MAX_REPLY_BYTES = 1700
REPLY_CHECK = "case_reply"  # what the text checker is told it checks


def reply_to_case(
    case: Case,
    text: str,
    *,
    revision: int,
    actor: Any,
    ask: bool = False,
    confirmed: Collection[str] = (),
) -> CaseMessage:
    """Answer the citizen. The reply is stored with the case and sent as a customer-service
    message after the commit; outside WeChat's 48-hour window it is held and goes out when
    the follower next writes (see wechat.services.release_held), and the case shows it.

    The text checker reads it first: a veto (someone's ID or phone number …) stops it
    (textcheck.TextRefused, nothing stored or sent); so does an error until the sender
    has seen it and sends anyway (`confirmed`: the keys of the errors shown). Replies are
    held to time limits and written by people on duty, who may not dismiss findings: an
    error is theirs to judge, and the case's history records that they did."""
    _require_in_department(
        actor, case, "cases.handle", "只有主办部门可以答复 / only the lead department replies"
    )
    text = text.strip()
    if not text:
        raise ValidationError("答复不能为空 / the reply is empty")
    if len(text.encode()) > MAX_REPLY_BYTES:
        raise ValidationError(
            f"答复超过 {MAX_REPLY_BYTES} 字节 / longer than {MAX_REPLY_BYTES} bytes"
        )
    if case.status not in OPEN_STATUSES:
        raise ValidationError(f"当前状态不能答复 / cannot reply to a case that is {case.status}")
    sent_anyway = textcheck.unconfirmed(case.account, [("答复", text)], REPLY_CHECK, confirmed)
    data = {"proofread_confirmed": [f.key for f in sent_anyway]} if sent_anyway else {}
    now = timezone.now()
    with transaction.atomic():
        first = Coalesce("first_responded_at", Value(now))
        if ask:  # a question to the citizen: the case waits for their answer
            _move(
                case,
                revision,
                actor,
                "case.asked",
                data,
                status=Status.WAITING,
                first_responded_at=first,
            )
        else:
            _move(
                case,
                revision,
                actor,
                "case.replied",
                data,
                status=Status.ANSWERED,
                answered_at=now,
                first_responded_at=first,
            )
        sent = text
        if not ask and not Rating.objects.filter(case=case).exists():
            sent += f"\n\n请对本次答复进行评价：{rating_url(case)}"
        [outbound_id] = queue_customer_messages(
            case.account_id, case.openid, [Reply("text", {"content": sent})]
        )
        return CaseMessage.objects.create(
            case=case,
            direction=CaseMessage.Direction.OUT,
            outbound_id=outbound_id,
            author=actor,
            text=text,
            created_at=now,
        )


def add_note(case: Case, text: str, *, actor: Any) -> CaseMessage:
    """An internal note: seen by staff, never sent."""
    _require_in_department(actor, case, "cases.handle", "无权在此诉求中记录 / not yours to note")
    if not text.strip():
        raise ValidationError("备注不能为空 / the note is empty")
    with transaction.atomic():
        note = CaseMessage.objects.create(
            case=case,
            direction=CaseMessage.Direction.NOTE,
            author=actor,
            text=text.strip(),
            created_at=timezone.now(),
        )
        _event(case, "case.noted", actor)
    return note


def resolve_case(case: Case, *, revision: int, actor: Any) -> Case:
    """办结: the matter is dealt with; the citizen's rating comes next."""
    _require_in_department(
        actor, case, "cases.handle", "只有主办部门可以办结 / only the lead department resolves"
    )
    if case.status not in (Status.ANSWERED, Status.IN_PROGRESS, Status.REOPENED):
        raise ValidationError(f"当前状态不能办结 / cannot resolve a case that is {case.status}")
    with transaction.atomic():
        _move(
            case,
            revision,
            actor,
            "case.resolved",
            {},
            status=Status.RESOLVED,
            resolved_at=timezone.now(),
        )
        _settle_alerts(case, actor)
    return case


def close_case(case: Case, *, revision: int, actor: Any) -> Case:
    """关闭: the office closes a resolved case (a satisfied rating closes it by itself)."""
    permissions.require(actor, case.account, "cases.route")
    if case.status != Status.RESOLVED:
        raise ValidationError(
            f"只能关闭已办结的诉求 / only a resolved case closes, not {case.status}"
        )
    with transaction.atomic():
        _move(
            case, revision, actor, "case.closed", {}, status=Status.CLOSED, closed_at=timezone.now()
        )
        _settle_alerts(case, actor)
    return case


def _settle_alerts(case: Case, actor: Any) -> int:
    """The open alerts about a case that is now resolved or closed, each settled once
    nothing it announces is left to do: its new-case alert (a burst's, once every case
    it announced is resolved or closed) and the sweep's 即将超时 / 已超时 alerts that
    counted it (likewise, with the cases of that sweep)."""
    about = Q(kind=Alert.Kind.NEW_CASE, subject=f"case:{case.pk}")
    if case.announced_in_id is not None:
        about |= Q(pk=case.announced_in_id)
    if case.warned_at is not None:
        about |= Q(kind=Alert.Kind.WARNING, created_at=case.warned_at)
    if case.breached_at is not None:
        about |= Q(kind=Alert.Kind.BREACH, created_at=case.breached_at)
    open_alerts = Alert.objects.filter(
        about, account_id=case.account_id, acknowledged_at__isnull=True
    ).select_related("account")
    settled = []
    for alert in open_alerts:
        cases = Case.objects.filter(account_id=case.account_id)
        if alert.kind == Alert.Kind.NEW_CASE:
            cases = cases.filter(Q(announced_in=alert) | Q(pk=case.pk))
        elif alert.kind == Alert.Kind.WARNING:
            cases = cases.filter(warned_at=alert.created_at)
        else:
            cases = cases.filter(breached_at=alert.created_at)
        if not cases.filter(status__in=UNRESOLVED).exists():
            settled.append(alert)
    return settle_alerts(settled, actor=actor, why=f"case:{case.pk}")


# ------------------------------------------------------------------ time limits

WARN_BEFORE = timedelta(hours=24)
MAX_EXTENSIONS = 1


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Find warnings and breaches. Idempotent and kept in the database: each is marked
    once on the case (a conditional update) with an event, so running it again, after a
    restart or in two processes, repeats nothing."""
    now = now or timezone.now()
    open_cases = Case.objects.filter(status__in=UNRESOLVED)
    found = {
        "warning": _mark(
            open_cases.filter(
                warned_at__isnull=True,
                breached_at__isnull=True,
                resolve_due__gt=now,
                resolve_due__lte=now + WARN_BEFORE,
            ),
            "warned_at",
            "case.warning",
            now,
        ),
        "response_breached": _mark(
            Case.objects.filter(
                status__in=UNANSWERED,
                first_responded_at__isnull=True,
                response_breached_at__isnull=True,
                first_response_due__lt=now,
            ),
            "response_breached_at",
            "case.response_breached",
            now,
        ),
        "breached": _mark(
            open_cases.filter(breached_at__isnull=True, resolve_due__lt=now),
            "breached_at",
            "case.breached",
            now,
        ),
    }
    # one alert per account and kind for this sweep, not one per case
    for field, kind, label, due in (
        ("warned_at", Alert.Kind.WARNING, "即将超时", "soon"),
        ("breached_at", Alert.Kind.BREACH, "已超时", "breached"),
    ):
        counts = (
            Case.objects.filter(**{field: now})
            .values("account")
            .annotate(
                n=Count("id"), provisional=Count("id", filter=Q(provisional_year__isnull=False))
            )
        )
        for row in counts:
            account = Account.objects.get(pk=row["account"])
            years = sorted(
                {
                    y
                    for y in Case.objects.filter(
                        **{field: now}, account=account, provisional_year__isnull=False
                    ).values_list("provisional_year", flat=True)
                    if y is not None
                }
            )
            detail = (
                f"其中 {row['provisional']} 件的截止时间为暂定（"
                + "、".join(f"{y} 年" for y in years)
                + "节假日安排尚未确认）"
                if row["provisional"]
                else ""
            )
            raise_alert(
                account,
                kind,
                f"sweep:{now.isoformat()}",
                f"{row['n']} 件诉求{label}",
                detail=detail,
                link=f"/desk/cases/?due={due}",
                at=now,
            )
    return found


def _mark(qs: Any, field: str, event: str, now: datetime) -> int:
    """Set `field` to `now` on the cases of `qs` that do not have it yet, and add an event
    for each: two statements on the server, whatever the number of cases (the events are
    the rows that now carry exactly this sweep's timestamp)."""
    q = connection.ops.quote_name
    table, events, column = q(Case._meta.db_table), q(CaseEvent._meta.db_table), q(field)
    inner, params = qs.filter(**{f"{field}__isnull": True}).values("pk").query.sql_with_params()
    # stored as the ORM stores it, so that filters on the field find these rows
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET {column} = %s WHERE id IN ({inner}) AND {column} IS NULL",
            [stamp, *params],
        )
        marked = cur.rowcount
        cur.execute(
            f"INSERT INTO {events} (case_id, name, data, created_at) "
            f"SELECT id, %s, '{{}}', %s FROM {table} WHERE {column} = %s",
            [event, stamp, stamp],
        )
    return marked


def extend_case(case: Case, working_days: int, reason: str, *, revision: int, actor: Any) -> Case:
    """延期: once, by the operations office, for at most the type's own time limit."""
    permissions.require(actor, case.account, "cases.route")
    limit = limits_for(case.account_id, case.case_type)
    if case.extensions >= MAX_EXTENSIONS:
        raise ValidationError("已延期过一次，不能再延期 / a case is extended once at most")
    cap = limit.resolution if limit.resolution_unit == Unit.WORKING_DAYS else 1
    if not 1 <= working_days <= cap:
        raise ValidationError(f"延期应为 1–{cap} 个工作日 / extend by 1 to {cap} working days")
    if not reason.strip():
        raise ValidationError("延期必须说明理由 / an extension needs a reason")
    if case.status not in UNRESOLVED:
        raise ValidationError(f"当前状态不能延期 / cannot extend a case that is {case.status}")
    extended = due_on(calendar(), case.resolve_due, working_days, Unit.WORKING_DAYS)
    new_due = extended.at
    basis = dict(case.deadline_basis or {})
    if basis:
        basis["extensions"] = [*basis.get("extensions", []), working_days]
    return _move(
        case,
        revision,
        actor,
        "case.extended",
        {
            "working_days": working_days,
            "reason": reason.strip(),
            "from": case.resolve_due.isoformat(),
            "to": new_due.isoformat(),
        },
        resolve_due=new_due,
        deadline_basis=basis,
        provisional_year=_earliest(case.provisional_year, extended.provisional_year),
        extensions=F("extensions") + 1,
        warned_at=None,
        breached_at=None,
    )


def supervise_case(case: Case, note: str, *, actor: Any) -> Case:
    """督办: a supervisor takes a case under supervision (it stays so)."""
    permissions.require(actor, case.account, "cases.supervise")
    with transaction.atomic():
        Case.objects.filter(pk=case.pk, supervised_at__isnull=True).update(
            supervised_at=timezone.now()
        )
        _event(case, "case.supervised", actor, note=note.strip())
    case.refresh_from_db()
    return case


def urge_case(case: Case, note: str, *, actor: Any) -> None:
    """催办: a supervisor or the office presses the responsible department."""
    permissions.require(actor, case.account, "cases.route")
    if case.department_id is None:
        raise ValidationError("尚未转办，无从催办 / not assigned to a department yet")
    with transaction.atomic():
        _event(case, "case.urged", actor, department=case.department_id, note=note.strip())


# ------------------------------------------------------------------ satisfaction

RATING_SALT = "govwx.desk.rating"
RATING_MAX_AGE = 30 * 24 * 3600  # a rating link works for 30 days


def rating_url(case: Case) -> str:
    """A signed link that lets the case's follower rate it, once."""
    token = signing.dumps({"c": case.pk, "o": case.openid}, salt=RATING_SALT, compress=True)
    return f"{settings.GOVWX_PUBLIC_URL}{reverse('desk:rate', args=[token])}"


def case_for_rating(token: str) -> Case:
    """The case a rating link is for; 404 if the link is forged, expired or stale."""
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=RATING_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("invalid or expired link") from exc
    case = Case.objects.filter(pk=data.get("c"), openid=data.get("o")).first()
    if case is None:
        raise Http404("no such case")
    return case


def rate_case(token: str, score: str, comment: str = "") -> Rating:
    """The citizen rates: once per case. Dissatisfied reopens the case for review."""
    case = case_for_rating(token)
    if score not in Rating.Score.values:
        raise ValidationError("请选择满意、基本满意或不满意 / choose a rating")
    if len(comment) > 500:
        raise ValidationError("意见最多 500 字 / at most 500 characters")
    if case.status not in (Status.ANSWERED, Status.RESOLVED, Status.CLOSED):
        raise ValidationError("诉求尚未答复，暂不能评价 / the case has not been answered yet")
    now = timezone.now()
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                case=case, score=score, comment=comment.strip(), created_at=now
            )
            _event(case, "case.rated", when=now, score=score)
    except IntegrityError as exc:
        raise ValidationError("该诉求已经评价过 / this case has been rated already") from exc
    if score != Rating.Score.DISSATISFIED and case.status == Status.RESOLVED:
        Case.objects.filter(pk=case.pk, status=Status.RESOLVED).update(
            status=Status.CLOSED, closed_at=now, revision=F("revision") + 1
        )
        _event(case, "case.closed", when=now, reason="rated")
        _settle_alerts(case, None)
    if score == Rating.Score.DISSATISFIED:
        try:
            with transaction.atomic():
                Case.objects.filter(pk=case.pk).update(
                    status=Status.REOPENED, revision=F("revision") + 1
                )
                _event(case, "case.reopened", when=now, reason="dissatisfied")
        except IntegrityError:
            # the follower already has another open case: review happens there
            _event(case, "case.reopen_skipped", when=now, reason="another case is open")
    return rating


def request_reassign(case: Case, reason: str, *, revision: int, actor: Any) -> Case:
    """改派: the lead department asks the office to reassign; it keeps the case (and the
    clock runs) until the office decides with assign_case."""
    _require_in_department(
        actor,
        case,
        "cases.accept",
        "只有主办部门联络员可以申请改派 / only the lead department asks",
    )
    if not reason.strip():
        raise ValidationError("申请改派必须说明理由 / a request needs a reason")
    if case.status not in (Status.ASSIGNED, Status.IN_PROGRESS):
        raise ValidationError(f"当前状态不能申请改派 / cannot ask for a case that is {case.status}")
    return _move(
        case,
        revision,
        actor,
        "case.reassign_requested",
        {"department": case.department_id, "reason": reason.strip()},
        reassign_requested_at=timezone.now(),
    )


def add_assisting(case: Case, department: Department, *, actor: Any) -> Case:
    """协办: another department helps; its liaison then sees and may note the case."""
    permissions.require(actor, case.account, "cases.route")
    if department.organisation_id != case.account.organisation_id:
        raise ValidationError("部门不属于该公众号的主办组织 / department of another organisation")
    if department.pk == case.department_id:
        raise ValidationError("主办部门不能同时协办 / the lead department cannot also assist")
    with transaction.atomic():
        case.assisting.add(department)
        _event(case, "case.assisting_added", actor, department=department.pk)
    return case


def notify_held_replies(limit: int = 200) -> int:
    """A reply held for a closed window, on an account with a notice template: tell the
    follower by template message, with the link to read the reply (and rate it). Once per
    reply; a failure is logged and tried again on the next run."""
    from govwx.wechat.client import WeChatClient
    from govwx.wechat.errors import WeChatAPIError

    held = (
        CaseMessage.objects.filter(
            direction=CaseMessage.Direction.OUT,
            notified_at__isnull=True,
            outbound__status=OutboundMessage.Status.HELD,
        )
        .exclude(case__account__notice_template_id="")
        .select_related("case__account")[:limit]
    )
    sent = 0
    for message in held:
        case = message.case
        fields = {  # the subject is the citizen's words: personal data in it masked
            "thing1": textcheck.masked(case.account, case.subject, REPLY_CHECK)[:20],
            "phrase2": "已答复",
            "time3": timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M"),
        }
        try:
            WeChatClient(case.account).send_template_message(
                case.openid, case.account.notice_template_id, fields, url=rating_url(case)
            )
        except WeChatAPIError:
            log.exception("template notice for case %s failed", case.pk)
            continue
        CaseMessage.objects.filter(pk=message.pk).update(notified_at=timezone.now())
        _event(case, "case.notified", template=case.account.notice_template_id)
        sent += 1
    return sent


def cases_for_user(user: Any, account: Account) -> Any:
    """The cases of an account a person may see (as get_case_for_user)."""
    role = role_for(user, account)
    qs = Case.objects.filter(account=account)
    if not permissions.role_has(role, "cases.view"):
        return qs.none()
    if role not in permissions.DEPARTMENT_SCOPED:
        return qs
    dept = _liaison_department(user, account)
    return qs.filter(Q(department_id=dept) | Q(assisting__id=dept)).distinct()
