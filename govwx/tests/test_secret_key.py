"""Safe by default: govwx never runs on a key that is public in its source; without
GOVWX_SECRET_KEY it makes its own on the first start (owner-only, said on stderr); a
forged rating link is refused; a rotated key keeps signed links (while the old key is a
fallback) and stored secrets readable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from govwx.accounts.models import Account
from govwx.desk import services
from govwx.desk.models import Rating
from govwx.desk.tests.test_rating import answered_case, token_of
from govwx.lib import keyfile, secretbox

OLD = "an-old-key-of-this-installation-" + "o" * 30
NEW = "the-new-key-of-this-installation-" + "n" * 30


def govwx(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`govwx …` in a fresh process with exactly this environment (plus PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "govwx", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_key_the_first_start_makes_one_owner_only_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = govwx({"GOVWX_DATA_DIR": str(data)}, tmp_path, "check")
    assert first.returncode == 0, first.stderr
    assert "GOVWX_SECRET_KEY is not set: made a secret key in" in first.stderr
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = key_file.read_text().strip()
    assert len(key) >= 50 and not key.startswith("django-insecure")
    second = govwx({"GOVWX_DATA_DIR": str(data)}, tmp_path, "check")
    assert second.returncode == 0 and "made a secret key" not in second.stderr
    assert key_file.read_text().strip() == key  # the same key on every start


@pytest.mark.parametrize("variable", ["GOVWX_SECRET_KEY", "GOVWX_SECRET_KEY_FALLBACKS"])
def test_the_public_development_key_is_refused(tmp_path: Path, variable: str) -> None:
    env = {"GOVWX_DATA_DIR": str(tmp_path), "GOVWX_SECRET_KEY": NEW}
    env[variable] = keyfile.PUBLIC_DEVELOPMENT_KEY
    r = govwx(env, tmp_path, "check")
    assert r.returncode != 0
    assert f"{variable} is govwx's public development key" in r.stderr
    assert not (tmp_path / "secret_key").exists()


def test_an_unusable_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(keyfile.KeyFileError, match="no usable secret key"):
        keyfile.load_or_create(tmp_path)


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(keyfile.load_or_create(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary files left


# ------------------------------------------------------------------ rating links


@pytest.mark.django_db
def test_a_forged_rating_link_is_refused(client: Client, account: Account) -> None:
    case = answered_case(account)
    payload = {"c": case.pk, "o": case.openid}
    forged = signing.dumps(
        payload, key=keyfile.PUBLIC_DEVELOPMENT_KEY, salt=services.RATING_SALT, compress=True
    )
    unsigned = signing.b64_encode(signing.JSONSerializer().dumps(payload)).decode()
    for token in (forged, unsigned, unsigned + ":", forged.rsplit(":", 1)[0] + ":AAAA"):
        assert client.get(f"/desk/rate/{token}/").status_code == 404
        r = client.post(f"/desk/rate/{token}/", {"score": "satisfied"})
        assert r.status_code == 404
    assert not Rating.objects.filter(case=case).exists()
    assert client.get(f"/desk/rate/{token_of(case)}/").status_code == 200  # the real one


@pytest.mark.django_db
def test_after_a_rotation_links_signed_with_the_old_key_work_while_it_is_a_fallback(
    client: Client, account: Account, settings: Any
) -> None:
    case = answered_case(account)
    # the account's stored secrets (read by the page) stay readable: that is another test
    settings.GOVWX_FIELD_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = OLD
    token = token_of(case)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert client.get(f"/desk/rate/{token}/").status_code == 200
    settings.SECRET_KEY_FALLBACKS = []  # the old key dropped: its links end
    assert client.get(f"/desk/rate/{token}/").status_code == 404


# ------------------------------------------------------------------ stored secrets


def test_stored_secrets_stay_readable_across_a_rotation_of_the_secret_key(settings: Any) -> None:
    settings.GOVWX_FIELD_KEY, settings.GOVWX_FIELD_KEY_FALLBACKS = "", []
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    sealed = secretbox.seal("the-app-secret")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert secretbox.unseal(sealed) == "the-app-secret"
    resealed = secretbox.reseal(sealed)
    settings.SECRET_KEY_FALLBACKS = []  # after `govwx secrets reseal` the old key can go
    assert secretbox.unseal(resealed) == "the-app-secret"
    with pytest.raises(secretbox.SecretError):
        secretbox.unseal(sealed)


def test_stored_secrets_stay_readable_when_a_field_key_of_its_own_is_set(settings: Any) -> None:
    settings.GOVWX_FIELD_KEY, settings.GOVWX_FIELD_KEY_FALLBACKS = "", []
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    sealed = secretbox.seal("the-token")
    settings.GOVWX_FIELD_KEY = "a-field-key-of-its-own-" + "f" * 30
    with pytest.raises(secretbox.SecretError, match="GOVWX_FIELD_KEY_FALLBACKS"):
        secretbox.unseal(sealed)
    settings.GOVWX_FIELD_KEY_FALLBACKS = [OLD]
    assert secretbox.unseal(sealed) == "the-token"


@pytest.mark.django_db
def test_the_reseal_command_rewrites_every_stored_secret_under_the_current_key(
    account: Account, settings: Any
) -> None:
    from django.core.management import call_command

    # the account's secrets were written under the tests' key; it becomes the old one
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [old]
    assert Account.objects.get(pk=account.pk).app_secret == "s3cr3t-" + account.appid
    call_command("secrets", "reseal")
    settings.SECRET_KEY_FALLBACKS = []
    fresh = Account.objects.get(pk=account.pk)
    assert (fresh.app_secret, fresh.token) == ("s3cr3t-" + account.appid, account.token)
