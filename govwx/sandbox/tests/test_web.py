"""The stand-in government service website that demo links point to."""

from __future__ import annotations

from django.test import Client


def test_it_answers_any_page_and_may_be_framed_by_the_phone() -> None:
    r = Client().get("/sandbox/web/gjj/tiqu")
    assert r.status_code == 200
    assert "政务服务网（沙箱）" in r.content.decode()
    assert "/gjj/tiqu" in r.content.decode()
    assert r["X-Frame-Options"] == "SAMEORIGIN"


def test_a_page_under_gone_is_taken_down() -> None:
    assert Client().get("/sandbox/web/gone/old-portal").status_code == 404
    assert Client().get("/sandbox/web/").status_code == 200
