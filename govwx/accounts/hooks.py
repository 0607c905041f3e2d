"""What the apps above tell the settings pages of this app, which may not import them.

The departments and members pages live here (floor 1), but a department's open cases are
the desk's and a person's shifts and alert contacts are the team's. Each of those apps
registers its part once, in its `AppConfig.ready()`, and the services here call them by
name, inside their own transaction — as the calendar's `year_confirmed` does, but with
answers: how many open cases, which shifts.

- `department_hooks`: `usage(departments) -> {department id: {what: how many}}` (the
  desk: `open_cases`, `routing_rules`; grouped queries, whatever the number of
  departments), and `merge(source, target, actor)`
  that moves what the app keeps of `source` to `target` (the desk: open cases, routing
  rules) and returns {what: how many} for the audit record.
- `member_hooks`: `open_work(account, user) -> list[WorkItem]`, what a person has in hand
  on the account (the desk: open cases; the team: shifts to come), named before they are
  deactivated.
- `contacts`: one `ContactBook` (the team's staff profiles): the mobile number and WeCom
  userid alerts reach a person by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class WorkItem:
    """One thing a person has in hand: an open case, a shift to come."""

    kind: str  # "case" | "shift"
    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Contact:
    phone: str = ""
    wecom_userid: str = ""


class ContactBook(Protocol):
    def read(self, user_ids: Iterable[int]) -> dict[int, Contact]: ...

    def clean(self, phone: str, wecom_userid: str) -> Contact:
        """The contact as stored, or ValidationError({field: [message]})."""
        ...

    def save(self, account: Any, user: Any, contact: Contact, *, actor: Any) -> None: ...


@dataclass
class DepartmentHooks:
    usage: list[Callable[[Sequence[Any]], dict[int, dict[str, int]]]] = field(default_factory=list)
    merge: list[Callable[[Any, Any, Any], dict[str, int]]] = field(default_factory=list)


@dataclass
class MemberHooks:
    open_work: list[Callable[[Any, Any], list[WorkItem]]] = field(default_factory=list)


department_hooks = DepartmentHooks()
member_hooks = MemberHooks()
contacts: list[ContactBook] = []


def register_department(
    *,
    usage: Callable[[Sequence[Any]], dict[int, dict[str, int]]] | None = None,
    merge: Callable[[Any, Any, Any], dict[str, int]] | None = None,
) -> None:
    """Register an app's part of a department (idempotent: `ready()` may run twice)."""
    if usage is not None and usage not in department_hooks.usage:
        department_hooks.usage.append(usage)
    if merge is not None and merge not in department_hooks.merge:
        department_hooks.merge.append(merge)


def register_member(open_work: Callable[[Any, Any], list[WorkItem]]) -> None:
    if open_work not in member_hooks.open_work:
        member_hooks.open_work.append(open_work)


def register_contacts(book: ContactBook) -> None:
    contacts[:] = [book]


def contact_book() -> ContactBook | None:
    return contacts[0] if contacts else None
