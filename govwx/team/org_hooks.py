"""The team's part of the members settings page (accounts.hooks): the shifts a person has
to come on the account's rotas, named before they are deactivated, and the contact details
alerts reach them by (their staff profile's mobile number and WeCom userid). Registered
in `TeamConfig.ready()`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from govwx.accounts.hooks import Contact, WorkItem
from govwx.accounts.models import Account
from govwx.accounts.services import record

from .models import Shift, StaffProfile
from .people import PHONE_RE

# WeCom userids: letters, digits and _ - . @, at most 64 (企业微信通讯录「账号」).
WECOM_USERID_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def member_shifts(account: Account, user: Any) -> list[WorkItem]:
    tz = ZoneInfo(settings.TIME_ZONE)
    shifts = (
        Shift.objects.filter(person=user, ends_at__gt=timezone.now(), rota__accounts=account)
        .select_related("rota", "pattern")
        .distinct()
        .order_by("starts_at")
    )
    items = []
    for s in shifts:
        start, end = s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)
        label = f"{s.rota.name} · {start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        items.append(
            WorkItem(
                "shift", label, reverse("team:shift", args=[s.rota_id, s.pk]), s.get_layer_display()
            )  # fmt: skip
        )
    return items


class StaffContacts:
    """The contact book of `accounts.hooks` on the team's staff profiles."""

    def read(self, user_ids: Iterable[int]) -> dict[int, Contact]:
        return {
            p.user_id: Contact(p.phone, p.wecom_userid)
            for p in StaffProfile.objects.filter(user_id__in=list(user_ids))
        }

    def clean(self, phone: str, wecom_userid: str) -> Contact:
        errors: dict[str, list[str]] = {}
        phone = re.sub(r"[\s-]", "", phone)
        wecom_userid = wecom_userid.strip()
        if phone and not PHONE_RE.match(phone):
            errors["phone"] = [
                "手机号格式不正确（应为 11 位、以 1 开头） / "
                "invalid mobile number: 11 digits starting with 1"
            ]
        if wecom_userid and not WECOM_USERID_RE.match(wecom_userid):
            errors["wecom_userid"] = [
                "企业微信账号只能包含字母、数字和 _ - . @，最长 64 位 / invalid WeCom userid"
            ]
        if errors:
            raise ValidationError(errors)
        return Contact(phone, wecom_userid)

    def save(self, account: Any, user: Any, contact: Contact, *, actor: Any) -> None:
        StaffProfile.objects.update_or_create(
            user=user, defaults={"phone": contact.phone, "wecom_userid": contact.wecom_userid}
        )
        record("staff.contact_saved", account=account, actor=actor, user=user.pk,
               phone_set=bool(contact.phone), wecom_userid=contact.wecom_userid)  # fmt: skip
