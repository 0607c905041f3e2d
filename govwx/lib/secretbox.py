"""Encryption of secrets at rest (app secrets, tokens, EncodingAESKeys).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from GOVWX_FIELD_KEY, or from
SECRET_KEY when that is unset. A value that cannot be decrypted raises: a wrong key must
never silently yield an empty secret.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


class SecretError(Exception):
    pass


@functools.cache
def _fernet(material: str) -> Fernet:
    digest = hashlib.sha256(b"govwx-secretbox:" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _box() -> Fernet:
    return _fernet(settings.GOVWX_FIELD_KEY or settings.SECRET_KEY)


def seal(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _box().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretError("cannot decrypt a stored secret: is GOVWX_FIELD_KEY right?") from exc


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
