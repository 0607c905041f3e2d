"""The material library in Chromium, as an editor uses it: a picture uploaded in the
console shows in the grid with its thumbnail, and its caption is edited on its page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account
from govwx.content.models import Material

from .test_materials import still

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_an_editor_uploads_a_picture_sees_it_in_the_grid_and_edits_its_caption(
    live_server: Any, page: Page, account: Account, editor: Any, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "东湖水厂.jpg"
    photo.write_bytes(still("JPEG", (1200, 800)))
    base = str(live_server.url)
    login(page, base, "editor", "pw-editor")

    page.goto(base + "/content/materials/")
    expect(page.locator("#materials-empty")).to_contain_text("素材库还是空的")
    page.click("#upload-link")
    page.set_input_files("#id_files", str(photo))
    page.fill("#id_caption", "水厂")
    page.fill("#id_tags", "水务 民生")
    page.click("#upload-submit")
    expect(page.locator(".flash")).to_contain_text("已上传「东湖水厂」")
    expect(page.locator("#material-title")).to_contain_text("东湖水厂")
    m = Material.objects.get()
    assert (m.kind, m.caption, m.tags, m.uploaded_by_id) == (
        "image",
        "水厂",
        "水务 民生",
        editor.pk,
    )

    page.goto(base + "/content/materials/")
    tile = page.locator(f'.mt-tile[data-material="{m.pk}"]')
    expect(tile).to_contain_text("东湖水厂")
    expect(tile).to_contain_text("未同步")
    expect(tile).to_contain_text("1200×800")
    thumb = tile.locator("img")
    expect(thumb).to_have_attribute("src", f"/content/materials/{m.pk}/file?thumb=1")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 320", arg=thumb.element_handle()
    )
    page.screenshot(path=str(SHOTS / "materials-grid.png"), full_page=True)

    tile.locator(".mt-title").click()
    page.fill("#id_caption", "新建成的东湖水厂清水池")
    page.click("#save")
    expect(page.locator(".flash")).to_contain_text("已保存「东湖水厂」")
    expect(page.locator("#id_caption")).to_have_value("新建成的东湖水厂清水池")
    page.screenshot(path=str(SHOTS / "materials-detail.png"), full_page=True)
    m.refresh_from_db()
    assert m.caption == "新建成的东湖水厂清水池"

    page.goto(base + "/content/materials/?q=清水池")
    expect(page.locator(f'.mt-tile[data-material="{m.pk}"]')).to_contain_text(
        "新建成的东湖水厂清水池"
    )
