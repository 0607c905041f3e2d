"""Encryption of secrets at rest (app secrets, tokens, EncodingAESKeys).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from GOVWX_FIELD_KEY, or from
SECRET_KEY when that is unset. A value that cannot be decrypted raises: a wrong key must
never silently yield an empty secret.

Rotation: values are written with the current key and read with it or any old one —
GOVWX_FIELD_KEY_FALLBACKS, and SECRET_KEY_FALLBACKS while the key derives from SECRET_KEY
(a MultiFernet) — so a changed key keeps stored secrets readable; `reseal` rewrites a
value under the current key, after which the old key can go (docs/deploy.md).
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class SecretError(Exception):
    pass


@functools.cache
def _fernet(material: str) -> Fernet:
    digest = hashlib.sha256(b"govwx-secretbox:" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def materials() -> list[str]:
    """The key material, current first, then the old ones that may still have written
    stored values."""
    old = list(getattr(settings, "GOVWX_FIELD_KEY_FALLBACKS", []))
    if settings.GOVWX_FIELD_KEY:
        return [settings.GOVWX_FIELD_KEY, *old]
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS, *old]


def _box() -> MultiFernet:
    return MultiFernet([_fernet(m) for m in dict.fromkeys(materials())])


def seal(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _box().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(
            "cannot decrypt a stored secret: is GOVWX_FIELD_KEY (or GOVWX_SECRET_KEY) right, "
            "and is the old key in GOVWX_FIELD_KEY_FALLBACKS or GOVWX_SECRET_KEY_FALLBACKS?"
        ) from exc


def reseal(sealed: str) -> str:
    """A stored value encrypted again under the current key (readable with any known key)."""
    try:
        return _box().rotate(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretError("cannot decrypt a stored secret with any known key") from exc


class SecretField(models.TextField):
    """A text field stored encrypted; Python code sees the plain value."""

    def from_db_value(
        self, value: str | None, expression: object, connection: object
    ) -> str | None:
        if value is None or value == "":
            return value
        return unseal(value)

    def get_prep_value(self, value: object) -> object:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return seal(str(value))


def reseal_all() -> dict[str, int]:
    """Every stored secret of every model encrypted again under the current key, in one
    transaction (the values are read with any known key): after a rotation, so that the
    old key can be dropped. Returns the number of values per `app_label.Model.field`."""
    from django.apps import apps
    from django.db import connection, transaction

    done: dict[str, int] = {}
    qn = connection.ops.quote_name
    with transaction.atomic():
        for model in apps.get_models():
            assert model._meta.pk is not None
            table, pk = qn(model._meta.db_table), qn(str(model._meta.pk.column))
            for f in model._meta.concrete_fields:
                if not isinstance(f, SecretField):
                    continue
                column = qn(str(f.column))
                with connection.cursor() as cur:
                    cur.execute(
                        f"SELECT {pk}, {column} FROM {table} "
                        f"WHERE {column} IS NOT NULL AND {column} <> ''"
                    )
                    rows = cur.fetchall()
                    for key, sealed in rows:
                        cur.execute(
                            f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",
                            [reseal(sealed), key],
                        )
                done[f"{model._meta.label}.{f.name}"] = len(rows)
    return done
