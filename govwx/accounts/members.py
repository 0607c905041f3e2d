"""The members of an account, as its admin manages them: invite a colleague by e-mail (a
one-time link that expires) or create the login directly, change a role, deactivate, and
the contact details alerts reach a person by.

Every write needs "settings.manage" on the account (accepting an invitation needs its
link), runs in one transaction and is audited (`member.*`, `invitation.*`). An account
always keeps an admin: a role change or a deactivation that would leave none is refused.
An invitation's token is shown once, in the e-mail; the database keeps its SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from . import permissions
from .hooks import Contact, WorkItem, contact_book, member_hooks
from .models import Account, AuditEvent, Department, Invitation, Membership
from .services import record

R = Membership.Role
INVITATION_DAYS = 7
USERNAME_RE = re.compile(r"^[\w.@+-]{2,150}$")
MAX_FULL_NAME = 150


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    contact: Contact

    @property
    def user(self) -> Any:
        return self.membership.user


# ------------------------------------------------------------------------ reads


def members_of(account: Account) -> list[MemberRow]:
    """The account's members with their role, department and alert contacts."""
    rows = list(
        Membership.objects.filter(account=account, user__is_active=True)
        .select_related("user", "department")
        .order_by("role", "user__username")
    )
    book = contact_book()
    contacts = book.read([m.user_id for m in rows]) if book else {}
    order = {role: i for i, role in enumerate(R.values)}
    rows.sort(key=lambda m: (order.get(m.role, 99), m.user.username))
    return [MemberRow(m, contacts.get(m.user_id, Contact())) for m in rows]


def get_member(account: Account, user_id: int | str) -> Membership:
    """A member of this account (404 for anyone else: another account's people are
    not shown)."""
    try:
        return Membership.objects.select_related("user", "department").get(
            account=account, user_id=int(user_id), user__is_active=True
        )
    except (Membership.DoesNotExist, ValueError) as exc:
        raise Http404("no such member") from exc


@dataclass(frozen=True)
class FormerMember:
    """A person deactivated from the account and not a member of it since: who, the role
    they had, who deactivated them and when (the last `member.deactivated` event)."""

    user: Any
    role: str
    department_id: int | None
    deactivated_by: Any
    deactivated_at: Any
    login_disabled: bool

    @property
    def role_label(self) -> str:
        return str(R(self.role).label) if self.role in R.values else self.role


def deactivated_of(account: Account) -> list[FormerMember]:
    """The people deactivated from this account who are not its members again, latest
    first — read from the audit (`member.deactivated`), so nothing else is stored. Three
    queries, whatever the number of people."""
    events = (
        AuditEvent.objects.filter(account=account, name="member.deactivated")
        .select_related("actor")
        .order_by("-id")
    )
    members = set(Membership.objects.filter(account=account).values_list("user_id", flat=True))
    latest: dict[int, AuditEvent] = {}
    for event in events:
        uid = event.data.get("user")
        if isinstance(uid, int) and uid not in members and uid not in latest:
            latest[uid] = event
    users = get_user_model().objects.in_bulk(list(latest))
    return [
        FormerMember(
            user=users[uid],
            role=str(e.data.get("role", "")),
            department_id=e.data.get("department"),
            deactivated_by=e.actor,
            deactivated_at=e.created_at,
            login_disabled=not users[uid].is_active,
        )
        for uid, e in latest.items()
        if uid in users
    ]


def was_deactivated(account: Account, user_id: int) -> bool:
    return AuditEvent.objects.filter(
        account=account, name="member.deactivated", data__user=user_id
    ).exists()


def get_person(account: Account, user_id: int | str) -> Any:
    """A person this account knows: a member now, or one deactivated from it (404 for
    anyone else: another account's people are not shown)."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError) as exc:
        raise Http404("no such person") from exc
    if not (
        Membership.objects.filter(account=account, user_id=uid).exists()
        or was_deactivated(account, uid)
    ):
        raise Http404("no such person")
    try:
        return get_user_model().objects.get(pk=uid)
    except get_user_model().DoesNotExist as exc:
        raise Http404("no such person") from exc


def pending_invitations(account: Account) -> list[Invitation]:
    """Invitations not accepted or revoked (expired ones too: they show as expired)."""
    return list(
        Invitation.objects.filter(
            account=account, accepted_at__isnull=True, revoked_at__isnull=True
        ).select_related("department", "invited_by")
    )


def get_invitation(account: Account, pk: int | str) -> Invitation:
    try:
        return Invitation.objects.get(account=account, pk=int(pk))
    except (Invitation.DoesNotExist, ValueError) as exc:
        raise Http404("no such invitation") from exc


def contact_of(user: Any) -> Contact:
    book = contact_book()
    return book.read([user.pk]).get(user.pk, Contact()) if book else Contact()


def open_work(account: Account, user: Any) -> list[WorkItem]:
    """What the person has in hand on the account (open cases, shifts to come), as the
    apps above name it: to be handed over before they are deactivated."""
    items: list[WorkItem] = []
    for hook in member_hooks.open_work:
        items.extend(hook(account, user))
    return items


# ----------------------------------------------------------------------- checks


def _clean_role(account: Account, role: str, department: Department | None) -> Department | None:
    """The department a role keeps (liaisons only), or ValidationError."""
    if role not in R.values:
        raise ValidationError({"role": [f"未知角色 / unknown role: {role}"]})
    if role != R.LIAISON:
        return None
    if department is None:
        raise ValidationError(
            {"department": ["部门联络员必须指定部门 / a liaison needs a department"]}
        )
    if (
        account.organisation_id is None
        or department.organisation_id != account.organisation_id
        or department.retired_at is not None
    ):
        raise ValidationError(
            {"department": ["部门不是本组织在用的部门 / not a department of the account"]}
        )
    return department


def _other_admins(account: Account, user: Any) -> int:
    """Admins of the account besides `user` (rows locked: two changes at once cannot
    both remove the last but one)."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(account=account, role=R.ADMIN, user__is_active=True)
        .values_list("user_id", flat=True)
    )
    return len([u for u in admins if u != user.pk])


NO_ADMIN = (
    "公众号至少要有一名管理员：此操作会使本公众号没有管理员 / the account would have no admin"
)


def _normal_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": ["邮箱格式不正确 / invalid e-mail address"]}) from exc
    return email


def _member_with_email(account: Account, email: str) -> Membership | None:
    return (
        Membership.objects.filter(account=account, user__email__iexact=email, user__is_active=True)
        .select_related("user")
        .first()
    )


def _clean_new_login(
    username: str, full_name: str, password: str, password2: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    User = get_user_model()
    if not USERNAME_RE.match(username):
        errors["username"] = [
            "用户名为 2–150 个字母、数字或 . @ + - _ / user name: 2 to 150 letters, digits or . @ + - _"
        ]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"用户名「{username}」已被使用 / user name taken"]
    if len(full_name) > MAX_FULL_NAME:
        errors["full_name"] = ["姓名太长 / name too long"]
    if password != password2:
        errors["password2"] = ["两次输入的密码不一致 / the passwords differ"]
    else:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    return errors


def _new_user(username: str, full_name: str, email: str, password: str) -> Any:
    User = get_user_model()
    user = User.objects.create_user(username, email=email, password=password)
    # a Chinese name goes whole into first_name: the console shows get_full_name()
    user.first_name = full_name[:150]
    user.save(update_fields=["first_name"])
    return user


# ----------------------------------------------------------------------- writes


def create_member(
    account: Account,
    *,
    username: str,
    full_name: str,
    email: str,
    password: str,
    password2: str,
    role: str,
    department: Department | None,
    actor: Any,
) -> Membership:
    """Create a login directly (user name and initial password) with a role here."""
    permissions.require(actor, account, "settings.manage")
    username, full_name = username.strip(), full_name.strip()
    errors = _clean_new_login(username, full_name, password, password2)
    if email.strip():
        try:
            email = _normal_email(email)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if m := _member_with_email(account, email):
                errors["email"] = [
                    f"{email} 已是本公众号成员（{m.user.username}） / already a member"
                ]
    try:
        department = _clean_role(account, role, department)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = _new_user(username, full_name, email.strip(), password)
        m = Membership.objects.create(user=user, account=account, role=role, department=department)
        record("member.created", account=account, actor=actor, user=user.pk, username=username,
               role=role, department=getattr(department, "pk", None))  # fmt: skip
    return m


def change_role(
    account: Account, user: Any, role: str, department: Department | None, *, actor: Any
) -> Membership:
    """Give a member another role (a liaison: with their department); refused when it
    would leave the account without an admin."""
    permissions.require(actor, account, "settings.manage")
    department = _clean_role(account, role, department)
    with transaction.atomic():
        m = get_member(account, user.pk)
        before = (m.role, m.department_id)
        if before == (role, getattr(department, "pk", None)):
            return m
        if m.role == R.ADMIN and role != R.ADMIN and _other_admins(account, user) == 0:
            raise ValidationError({"role": [NO_ADMIN]})
        Membership.objects.filter(pk=m.pk).update(role=role, department=department)
        record("member.role_changed", account=account, actor=actor, user=user.pk,
               role=[before[0], role], department=[before[1], getattr(department, "pk", None)])  # fmt: skip
    m.refresh_from_db()
    return m


def set_contact(
    account: Account, user: Any, phone: str, wecom_userid: str, *, actor: Any
) -> Contact:
    """The mobile number and WeCom userid alerts reach a member by."""
    permissions.require(actor, account, "settings.manage")
    get_member(account, user.pk)
    book = contact_book()
    if book is None:  # pragma: no cover - the team registers it
        raise ValidationError("提醒联系方式不可用 / contacts are not available")
    contact = book.clean(phone, wecom_userid)
    with transaction.atomic():
        book.save(account, user, contact, actor=actor)
    return contact


def deactivate_member(account: Account, user: Any, *, actor: Any) -> bool:
    """Take the person off the account: their role here is removed (their shifts on its
    rotas become gaps, flagged and alerted: the team's receivers), and when they hold no
    role anywhere else their login is disabled too. Refused for the last admin and for
    oneself. Returns whether the login was disabled."""
    permissions.require(actor, account, "settings.manage")
    if getattr(actor, "pk", None) == user.pk:
        raise ValidationError("不能停用自己 / you cannot deactivate yourself")
    with transaction.atomic():
        m = get_member(account, user.pk)
        if m.role == R.ADMIN and _other_admins(account, user) == 0:
            raise ValidationError(NO_ADMIN)
        work = open_work(account, user)
        m.delete()
        disable = not user.is_superuser and not Membership.objects.filter(user=user).exists()
        if disable:
            user.is_active = False
            user.save(update_fields=["is_active"])
        record("member.deactivated", account=account, actor=actor, user=user.pk,
               username=user.username, role=m.role, department=m.department_id,
               login_disabled=disable, cases=sum(1 for w in work if w.kind == "case"),
               shifts=sum(1 for w in work if w.kind == "shift"))  # fmt: skip
    return disable


ALREADY_MEMBER = "{name} 已是本公众号的成员，不必恢复；要改角色请在其成员页修改 / already a member"
NEVER_MEMBER = "此人从未是本公众号的成员，不能恢复；请改用邀请 / never a member of this account"


def restore_member(
    account: Account, user: Any, role: str, department: Department | None, *, actor: Any
) -> bool:
    """Take a person deactivated from this account back, with the role chosen now (a
    liaison: with a department of the account), and re-enable their login if it was
    disabled. Refused for a person who is a member already and for one who never was
    (deactivated from here). Returns whether the login was re-enabled."""
    permissions.require(actor, account, "settings.manage")
    department = _clean_role(account, role, department)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if Membership.objects.filter(account=account, user=user).exists():
            name = user.get_full_name() or user.username
            raise ValidationError(ALREADY_MEMBER.format(name=name))
        if not was_deactivated(account, user.pk):
            raise ValidationError(NEVER_MEMBER)
        enable = not user.is_active
        if enable:
            user.is_active = True
            user.save(update_fields=["is_active"])
        Membership.objects.create(user=user, account=account, role=role, department=department)
        record("member.restored", account=account, actor=actor, user=user.pk,
               username=user.username, role=role, department=getattr(department, "pk", None),
               login_enabled=enable)  # fmt: skip
    return enable


# ------------------------------------------------------------------ invitations


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.GOVWX_PUBLIC_URL + reverse("org_settings:join", args=[token])


def invite(
    account: Account, email: str, role: str, department: Department | None, *, actor: Any
) -> tuple[Invitation, str]:
    """Invite a colleague by e-mail: a one-time link valid for INVITATION_DAYS, sent with
    Django's mail API. An earlier open invitation to the same address is replaced. If
    the mail cannot be sent nothing is written. Returns the invitation and its token."""
    permissions.require(actor, account, "settings.manage")
    errors: dict[str, list[str]] = {}
    try:
        email = _normal_email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if m := _member_with_email(account, email):
            errors["email"] = [
                f"{email} 已是本公众号成员（用户名 {m.user.username}），不必邀请 / already a member"
            ]
    try:
        department = _clean_role(account, role, department)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    inv = Invitation(
        account=account,
        email=email,
        role=role,
        department=department,
        token_hash=token_hash(token),
        created_at=now,
        invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    # The mail goes first, outside any transaction (an SMTP server may take seconds, and
    # SQLite has one writer): if it cannot be sent, nothing is written.
    try:
        send_mail(*_invitation_mail(inv, token), [email])
    except Exception as exc:  # SMTP refusals, a server down
        raise ValidationError(
            {"email": [f"邀请邮件发送失败：{exc} / the e-mail could not be sent"]}
        ) from exc
    with transaction.atomic():
        replaced = Invitation.objects.filter(
            account=account, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        inv.save()
        record("invitation.sent", account=account, actor=actor, invitation=inv.pk, email=email,
               role=role, department=getattr(department, "pk", None), replaced=replaced)  # fmt: skip
    return inv, token


def _invitation_mail(inv: Invitation, token: str) -> tuple[str, str, str]:
    who = inv.invited_by.get_full_name() or inv.invited_by.username if inv.invited_by else "管理员"
    role = str(R(inv.role).label)
    if inv.department is not None:
        role = f"{role}（{inv.department.name}）"
    until = inv.expires_at.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M")
    subject = f"【{inv.account.name}】邀请您加入 govwx 政务公众号运营平台"
    body = (
        f"您好：\n\n{who} 邀请您以「{role}」的身份加入公众号「{inv.account.name}」的运营平台。\n\n"
        f"请打开以下链接，设置姓名和密码后加入（链接仅可使用一次，{until} 前有效）：\n\n"
        f"{invitation_url(token)}\n\n如果您不认识邀请人，请忽略本邮件。\n"
    )
    return subject, body, settings.DEFAULT_FROM_EMAIL


def revoke_invitation(account: Account, inv: Invitation, *, actor: Any) -> None:
    permissions.require(actor, account, "settings.manage")
    with transaction.atomic():
        n = Invitation.objects.filter(
            pk=inv.pk, account=account, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if not n:
            raise ValidationError("邀请已被接受或撤回 / the invitation is no longer open")
        record("invitation.revoked", account=account, actor=actor, invitation=inv.pk,
               email=inv.email)  # fmt: skip


class InvitationInvalid(Exception):
    """An invitation link that cannot be used: unknown, used, revoked or expired. The
    message says which, in words."""


def open_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The invitation of a link, if it can still be used, else InvitationInvalid."""
    qs = Invitation.objects.select_related("account", "department")
    if lock:
        qs = qs.select_for_update(of=("self",))
    inv = qs.filter(token_hash=token_hash(token)).first()
    if inv is None:
        raise InvitationInvalid("邀请链接无效：请核对链接，或请管理员重新邀请。")
    if inv.accepted_at is not None:
        raise InvitationInvalid(
            "此邀请链接已使用过（每个链接只能用一次）。请直接登录，或请管理员重新邀请。"
        )
    if inv.revoked_at is not None:
        raise InvitationInvalid("此邀请已被撤回。如仍需加入，请联系管理员重新邀请。")
    if inv.expires_at <= timezone.now():
        raise InvitationInvalid("此邀请链接已过期。请联系管理员重新邀请。")
    return inv


def existing_login(inv: Invitation) -> Any:
    """The active login that already has the invited address, if any: it joins with its
    own password instead of making a second login."""
    return (
        get_user_model()
        .objects.filter(email__iexact=inv.email, is_active=True)
        .order_by("id")
        .first()
    )


def accept_invitation(
    token: str,
    *,
    username: str = "",
    full_name: str = "",
    password: str,
    password2: str = "",
) -> Any:
    """Join through an invitation link: with a new login (user name, name, password), or
    — when a login with the address exists — with that login's password. The link is
    used up. Returns the user, who then signs in."""
    with transaction.atomic():
        inv = open_invitation(token, lock=True)
        account = inv.account
        try:
            department = _clean_role(account, inv.role, inv.department)
        except ValidationError as exc:
            raise InvitationInvalid(
                "邀请的部门已撤销，此邀请不能再用。请联系管理员重新邀请。"
            ) from exc
        user = existing_login(inv)
        if user is not None:
            # the link is the key; its holder proves the login is theirs
            if not user.check_password(password):
                raise ValidationError({"password": ["密码不正确 / wrong password"]})
            if Membership.objects.filter(user=user, account=account).exists():
                raise InvitationInvalid("您已是本公众号的成员，请直接登录。")
        else:
            username, full_name = username.strip(), full_name.strip()
            errors = _clean_new_login(username, full_name, password, password2)
            if errors:
                raise ValidationError(errors)
            user = _new_user(username, full_name, inv.email, password)
        Membership.objects.create(user=user, account=account, role=inv.role, department=department)
        inv.accepted_at = timezone.now()
        inv.accepted_by = user
        inv.save(update_fields=["accepted_at", "accepted_by"])
        record("invitation.accepted", account=account, actor=user, invitation=inv.pk,
               user=user.pk, role=inv.role, department=getattr(department, "pk", None))  # fmt: skip
    return user
