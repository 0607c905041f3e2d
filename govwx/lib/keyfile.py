"""The installation's secret key when GOVWX_SECRET_KEY is not set: made once, on the first
start, and kept in the data directory readable by its owner only.

Read by settings.py before Django is set up, so it imports nothing of Django. Several
processes may start at once (`govwx serve` starts four): the key is written whole to a
file of its own and then linked to its name, which fails when the name exists, so every
process ends up reading the one key that won the race.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

# The development key of govwx 0.1, public in its source: anyone could sign with it.
PUBLIC_DEVELOPMENT_KEY = "django-insecure-govwx-development-key-set-GOVWX_SECRET_KEY"
FILE_NAME = "secret_key"


class KeyFileError(Exception):
    """The key cannot be read or made: the message says what to do."""


def refuse_public(key: str, variable: str) -> str:
    """The key, unless it is the public development key."""
    if key.strip() == PUBLIC_DEVELOPMENT_KEY:
        raise KeyFileError(
            f"{variable} is govwx's public development key: anyone can forge links signed "
            "with it. Set a key of your own (see docs/deploy.md, 'Secret key')."
        )
    return key


def load_or_create(data_dir: Path) -> str:
    """The key in `data_dir/secret_key`; made (owner-only, 0600) if the file is missing,
    and said so on standard error."""
    path = data_dir / FILE_NAME
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = data_dir / f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50) + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return _read(path)  # another process made it first
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise KeyFileError(
            f"GOVWX_SECRET_KEY is not set and no secret key could be made in {path}: {exc}. "
            "Set GOVWX_SECRET_KEY, or GOVWX_DATA_DIR to a directory govwx may write."
        ) from exc
    print(
        f"govwx: GOVWX_SECRET_KEY is not set: made a secret key in {path} (readable by its "
        "owner only). Keep it with the backups; set GOVWX_SECRET_KEY to the same key on "
        "every host that shares this database.",
        file=sys.stderr,
    )
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 50:
        raise KeyFileError(f"{path} holds no usable secret key (fewer than 50 characters)")
    return refuse_public(key, str(path))
