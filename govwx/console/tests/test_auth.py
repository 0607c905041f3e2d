from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_shows_the_login_page_in_chinese(client: Client) -> None:
    r = client.get("/login/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "govwx 政务公众号运营平台" in body
    assert 'id="id_username"' in body and 'id="id_password"' in body
    assert '<html lang="zh-CN">' in body
    # browser tests press `button[type=submit]`: it must be the login button alone
    assert body.count('type="submit"') == 1


def test_it_logs_in_and_lands_on_home(client: Client, operator: Any) -> None:
    r = client.post("/login/", {"username": "operator", "password": "pw-operator-1"})
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_rejects_a_wrong_password(client: Client, operator: Any) -> None:
    r = client.post("/login/", {"username": "operator", "password": "wrong"})
    assert r.status_code == 200
    assert "用户名或密码不正确" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_logs_out_with_post(client: Client, operator: Any) -> None:
    client.force_login(operator)
    r = client.post("/logout/")
    assert r.status_code == 302
    assert r["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_it_switches_to_english_and_back(client: Client, operator: Any) -> None:
    client.force_login(operator)
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    body = client.get("/").content.decode()
    assert "Home" in body and "Auto-reply" in body and "Message log" in body
    assert "首页" not in body
    assert '<html lang="en">' in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    body = client.get("/").content.decode()
    assert "首页" in body and "Message log" not in body


def test_chinese_first_whatever_the_browser_asks(client: Client) -> None:
    body = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in body and "Log in" not in body


def test_it_shows_the_login_page_in_english_once_chosen(client: Client) -> None:
    client.cookies["django_language"] = "en"
    body = client.get("/login/").content.decode()
    assert "Log in" in body and "Username" in body
    assert "登录" not in body.split("<main", 1)[1]
