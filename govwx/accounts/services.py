"""Writes on organisations, accounts and memberships."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from .models import Account, AuditEvent, Membership, Organisation

APPID_RE = re.compile(r"^wx[0-9a-f]{16}$")
AES_KEY_RE = re.compile(r"^[A-Za-z0-9]{43}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9]{3,32}$")
ORIGINAL_ID_RE = re.compile(r"^gh_[0-9a-f]{12}$")

User = AbstractBaseUser | AnonymousUser


def record(name: str, /, *, account: Account | None = None, actor: Any = None, **data: Any) -> None:
    """Append an audit event; call inside the service's transaction."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    AuditEvent.objects.create(name=name, account=account, actor=actor, data=data)


def validate_appid(appid: str) -> str:
    if not APPID_RE.match(appid):
        raise ValidationError(
            f"AppID 格式不正确：{appid!r}（应为 wx 加 16 位十六进制字符） / "
            "invalid AppID: expected 'wx' and 16 hex digits"
        )
    return appid


def validate_aes_key(key: str) -> str:
    if not AES_KEY_RE.match(key):
        raise ValidationError(
            "EncodingAESKey 必须是 43 位字母或数字 / EncodingAESKey must be 43 letters or digits"
        )
    try:
        raw = base64.b64decode(key + "=")
    except binascii.Error as exc:  # pragma: no cover - the regex admits only base64 letters
        raise ValidationError("EncodingAESKey 不是有效的 Base64 / not valid base64") from exc
    if len(raw) != 32:  # pragma: no cover - 43 base64 letters always give 32 bytes
        raise ValidationError("EncodingAESKey 解码后应为 32 字节 / must decode to 32 bytes")
    return key


def validate_token(token: str) -> str:
    if not TOKEN_RE.match(token):
        raise ValidationError(
            "Token 必须是 3–32 位字母或数字 / Token must be 3 to 32 letters or digits"
        )
    return token


@dataclass(frozen=True)
class AccountInput:
    name: str
    appid: str
    app_secret: str
    token: str
    aes_key: str = ""
    mode: str = Account.Mode.SAFE
    kind: str = Account.Kind.SUBSCRIPTION
    original_id: str = ""
    positioning: str = ""
    organisation: Organisation | None = None


def clean_account_input(data: AccountInput, *, exclude_appid: int | None = None) -> None:
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any, value: str) -> None:
        try:
            fn(value)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)

    if not data.name.strip():
        errors["name"] = ["名称不能为空 / name is required"]
    check("appid", validate_appid, data.appid)
    check("token", validate_token, data.token)
    if not data.app_secret:
        errors["app_secret"] = ["AppSecret 不能为空 / AppSecret is required"]
    if data.mode not in Account.Mode.values:
        errors["mode"] = [f"未知的消息加解密方式 / unknown mode: {data.mode}"]
    elif data.mode != Account.Mode.PLAINTEXT or data.aes_key:
        check("aes_key", validate_aes_key, data.aes_key)
    if data.kind not in Account.Kind.values:
        errors["kind"] = [f"未知的公众号类型 / unknown kind: {data.kind}"]
    if data.original_id and not ORIGINAL_ID_RE.match(data.original_id):
        errors["original_id"] = ["原始ID 应为 gh_ 加 12 位十六进制字符 / expected gh_ + 12 hex"]
    clash = Account.objects.filter(appid=data.appid)
    if exclude_appid is not None:
        clash = clash.exclude(pk=exclude_appid)
    if "appid" not in errors and clash.exists():
        errors["appid"] = [f"AppID {data.appid} 已存在 / already registered"]
    if errors:
        raise ValidationError(errors)


def create_account(data: AccountInput, *, actor: Any = None) -> Account:
    clean_account_input(data)
    with transaction.atomic():
        account = Account.objects.create(
            name=data.name.strip(),
            appid=data.appid,
            app_secret=data.app_secret,
            token=data.token,
            aes_key=data.aes_key,
            mode=data.mode,
            kind=data.kind,
            original_id=data.original_id,
            positioning=data.positioning,
            organisation=data.organisation,
        )
        record("account.created", account=account, actor=actor, appid=account.appid)
    return account


# The fields of an account its admin edits in the console (settings → 公众号); the
# AppSecret is write-only: a blank one keeps the stored secret.
ACCOUNT_FIELDS = ("name", "appid", "token", "aes_key", "mode", "kind", "original_id", "positioning")


def update_account(account: Account, data: AccountInput, *, actor: Any) -> Account:
    """Change an account's settings, checked as `create_account` checks a new one; needs
    "settings.manage" (the account's admin). A blank AppSecret keeps the stored one.
    Audited with the names of the fields changed (never their values: the Token, the key
    and the secret are secrets)."""
    from .permissions import require  # the permission table reads this module

    require(actor, account, "settings.manage")
    secret_changed = bool(data.app_secret)
    data = replace(
        data,
        name=data.name.strip(),
        app_secret=data.app_secret or account.app_secret,
        organisation=account.organisation,
    )
    clean_account_input(data, exclude_appid=account.pk)
    with transaction.atomic():
        fresh = Account.objects.select_for_update().get(pk=account.pk)
        changed = [f for f in ACCOUNT_FIELDS if getattr(fresh, f) != getattr(data, f)]
        for f in ACCOUNT_FIELDS:
            setattr(fresh, f, getattr(data, f))
        if secret_changed and fresh.app_secret != data.app_secret:
            fresh.app_secret = data.app_secret
            changed.append("app_secret")
        if changed:
            fresh.save()
            record("account.updated", account=fresh, actor=actor, fields=changed)
    return fresh


def clean_organisation(name: str, level: str) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["organisation_name"] = ["请填写主办组织的名称 / the organisation needs a name"]
    if level not in Organisation.Level.values:
        errors["organisation_level"] = [f"未知的层级 / unknown level: {level}"]
    if errors:
        raise ValidationError(errors)


def open_account(
    data: AccountInput, *, actor: Any, organisation_name: str = "", organisation_level: str = ""
) -> Account:
    """A new account, created in the console by the installation's superuser: with its
    organisation (an existing one in `data`, or a new one named here), and the superuser
    as its admin member. Everything or nothing."""
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied(
            "只有平台管理员可以新建公众号 / only the installation's superuser creates accounts"
        )
    errors: dict[str, list[str]] = {}
    if data.organisation is None:
        try:
            clean_organisation(organisation_name, organisation_level)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        clean_account_input(data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        org = data.organisation
        if org is None:
            org = Organisation.objects.create(
                name=organisation_name.strip(), level=organisation_level
            )
            record("organisation.created", actor=actor, organisation=org.pk, name=org.name)
        account = create_account(replace(data, organisation=org), actor=actor)
        add_member(account, actor, Membership.Role.ADMIN, actor=actor)
    return account


def add_member(
    account: Account, user: Any, role: str, *, department: Any = None, actor: Any = None
) -> Membership:
    """Give a user a role on an account; a liaison needs the department they act for."""
    if role not in Membership.Role.values:
        raise ValidationError(f"未知角色 / unknown role: {role}")
    if role == Membership.Role.LIAISON:
        if department is None:
            raise ValidationError("部门联络员必须指定部门 / a liaison needs a department")
        if account.organisation_id is None or department.organisation_id != account.organisation_id:
            raise ValidationError(
                "部门不属于该公众号的主办组织 / the department is not of the account's organisation"
            )
    else:
        department = None
    with transaction.atomic():
        membership, _ = Membership.objects.update_or_create(
            user=user, account=account, defaults={"role": role, "department": department}
        )
        record(
            "membership.saved",
            account=account,
            actor=actor,
            user=user.pk,
            role=role,
            department=getattr(department, "pk", None),
        )
    return membership


# ---------------------------------------------------------------- access helpers
def accounts_for_user(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return Account.objects.none()
    if user.is_superuser:
        return Account.objects.all()
    return Account.objects.filter(memberships__user=user).distinct()


def role_for(user: Any, account: Account) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Membership.Role.ADMIN
    m = Membership.objects.filter(user=user, account=account).only("role").first()
    return m.role if m else None


def get_account_for_user(user: Any, account_id: int, *, roles: tuple[str, ...] = ()) -> Account:
    """Load an account for a console user: 404 if unknown, 403 if not theirs."""
    try:
        account = Account.objects.get(pk=account_id)
    except Account.DoesNotExist as exc:
        raise Http404("no such account") from exc
    role = role_for(user, account)
    if role is None or (roles and role not in roles):
        raise PermissionDenied("not a member of this account")
    return account
