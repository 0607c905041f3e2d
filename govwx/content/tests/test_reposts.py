"""转载 in the matrix: who may repost from whom, what a repost copies, where an article
travelled; and the console's matrix page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership, Organisation
from govwx.conftest import make_account
from govwx.content import reposts
from govwx.content.models import Article, Material, Revision

from .conftest import member
from .test_web import BASE, TEXT, publish, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.GOVWX_PUBLIC_URL = BASE


@dataclass
class Matrix:
    province: Account
    city: Account  # the `account` fixture
    county: Account
    county2: Account
    elsewhere: Account  # a city of another province
    orphan: Account  # no organisation
    orgs: dict[str, Organisation]


@pytest.fixture
def matrix(account: Account) -> Matrix:
    org = {}
    org["省"] = Organisation.objects.create(name="示例省", level="province")
    org["市"] = Organisation.objects.create(name="示例市", level="city", parent=org["省"])
    org["县"] = Organisation.objects.create(name="东湖县", level="county", parent=org["市"])
    org["县2"] = Organisation.objects.create(name="西山县", level="county", parent=org["市"])
    org["外省"] = Organisation.objects.create(name="别的省", level="province")
    org["外市"] = Organisation.objects.create(name="别的市", level="city", parent=org["外省"])

    def placed(acc: Account, key: str) -> Account:
        Account.objects.filter(pk=acc.pk).update(organisation=org[key])
        acc.refresh_from_db()
        return acc

    return Matrix(
        province=placed(make_account("wx00000000000000a1", name="示例省发布"), "省"),
        city=placed(account, "市"),
        county=placed(make_account("wx00000000000000a2", name="东湖县发布"), "县"),
        county2=placed(make_account("wx00000000000000a3", name="西山县发布"), "县2"),
        elsewhere=placed(make_account("wx00000000000000a4", name="别的市发布"), "外市"),
        orphan=make_account("wx00000000000000a5", name="无组织的号"),
        orgs=org,
    )


def editor_of(account: Account, django_user_model: Any, name: str) -> Any:
    return member(django_user_model, account, name, Membership.Role.EDITOR)


@pytest.fixture
def source(matrix: Matrix, editor: Any, picture: Material) -> Article:
    """The city's published article with a picture in its body and as its cover."""
    a = write(
        matrix.city, editor, body=[TEXT, {"type": "image", "material": picture.pk}],
        author="水务局", digest="部分小区明日停水", cover=picture, locality="city",
    )  # fmt: skip
    return publish(a)


def snapshot() -> tuple[int, ...]:
    return (Article.objects.count(), Material.objects.count(), Revision.objects.count(),
            AuditEvent.objects.filter(name="article.reposted").count())  # fmt: skip


# ------------------------------------------------------------------ the matrix


def test_the_matrix_is_the_organisation_tree(matrix: Matrix) -> None:
    o = matrix.orgs
    family = {o["省"].pk, o["市"].pk, o["县"].pk, o["县2"].pk}
    for acc in (matrix.province, matrix.city, matrix.county, matrix.county2):
        assert reposts.matrix_organisations(acc) == family
    assert reposts.matrix_organisations(matrix.elsewhere) == {o["外省"].pk, o["外市"].pk}
    assert reposts.matrix_organisations(matrix.orphan) == set()
    assert list(reposts.matrix_accounts(matrix.county).values_list("name", flat=True)) == [
        "示例市发布", "示例省发布", "西山县发布",
    ]  # fmt: skip
    assert reposts.same_matrix(matrix.county, matrix.province)
    assert reposts.same_matrix(matrix.county, matrix.county2)
    assert not reposts.same_matrix(matrix.county, matrix.elsewhere)
    assert not reposts.same_matrix(matrix.orphan, matrix.orphan)


# ------------------------------------------------------------------ reposting


def test_a_county_reposts_a_city_article_with_its_pictures(
    matrix: Matrix, source: Article, picture: Material, django_user_model: Any
) -> None:
    writer = editor_of(matrix.county, django_user_model, "county-editor")
    draft = reposts.repost(source, matrix.county, actor=writer)
    draft.refresh_from_db()
    assert draft.account == matrix.county and draft.status == Article.Status.DRAFT
    assert (draft.title, draft.author, draft.digest) == (
        "东湖区明日停水",
        "水务局",
        "部分小区明日停水",
    )
    assert draft.original is False
    assert draft.source_name == "示例市发布"
    assert draft.source_url == f"{BASE}/a/{source.token}/"
    assert draft.reposted_from == source
    assert draft.locked_by == writer and draft.revision == 1
    copy = Material.objects.get(account=matrix.county)
    assert copy.pk != picture.pk
    assert (copy.sha256, copy.file.name, copy.caption) == (
        picture.sha256,
        picture.file.name,
        "新建的水厂",
    )
    assert copy.wechat_media_id == "" and copy.uploaded_by == writer
    assert draft.body == [TEXT, {"type": "image", "material": copy.pk}]
    assert draft.cover == copy
    assert f"/content/materials/{copy.pk}/file" in draft.html
    event = AuditEvent.objects.get(name="article.reposted")
    assert event.account == matrix.county and event.data == {
        "article": draft.pk, "source": source.pk, "source_account": matrix.city.pk,
        "materials": [copy.pk],
    }  # fmt: skip
    assert Article.objects.get(pk=source.pk).status == Article.Status.PUBLISHED  # untouched


def test_a_picture_already_in_the_library_is_reused(
    matrix: Matrix, source: Article, picture: Material, django_user_model: Any
) -> None:
    mine = Material.objects.create(
        account=matrix.county, kind="image", title="我们的水厂", caption="本县拍的",
        file=picture.file.name, content_type="image/png", size=picture.size,
        sha256=picture.sha256,
    )  # fmt: skip
    draft = reposts.repost(
        source, matrix.county, actor=editor_of(matrix.county, django_user_model, "ce")
    )
    assert Material.objects.filter(account=matrix.county).count() == 1
    assert draft.cover == mine and draft.body[1] == {"type": "image", "material": mine.pk}


@pytest.mark.parametrize(
    ("source_of", "target"),
    [("province", "county"), ("county", "city"), ("county2", "county"), ("city", "province")],
)
def test_any_account_of_the_family_reposts_from_another(
    matrix: Matrix, django_user_model: Any, source_of: str, target: str
) -> None:
    src_account, to = getattr(matrix, source_of), getattr(matrix, target)
    src = publish(write(src_account, editor_of(src_account, django_user_model, "w1"), "通知"))
    draft = reposts.repost(src, to, actor=editor_of(to, django_user_model, "w2"))
    assert draft.account == to and draft.source_name == src_account.name


def test_an_account_outside_the_matrix_is_refused(
    matrix: Matrix, source: Article, django_user_model: Any
) -> None:
    for target in (matrix.elsewhere, matrix.orphan):
        writer = editor_of(target, django_user_model, f"w-{target.pk}")
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            reposts.repost(source, target, actor=writer)
        assert exc.value.messages == [
            "「示例市发布」不在本公众号的矩阵中，不能转载 / "
            "only articles of accounts of the same matrix can be reposted"
        ]
        assert snapshot() == before


@pytest.mark.parametrize(
    "status", [Article.Status.DRAFT, Article.Status.WITHDRAWN, Article.Status.SCHEDULED]
)
def test_only_a_published_article_is_reposted(
    matrix: Matrix, source: Article, django_user_model: Any, status: str
) -> None:
    Article.objects.filter(pk=source.pk).update(status=status)
    writer = editor_of(matrix.county, django_user_model, "ce")
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        reposts.repost(source, matrix.county, actor=writer)
    assert exc.value.messages == ["只能转载已发布的文章 / only a published article can be reposted"]
    assert snapshot() == before


def test_an_account_does_not_repost_itself_nor_twice(
    matrix: Matrix, source: Article, editor: Any, django_user_model: Any
) -> None:
    with pytest.raises(ValidationError, match="不能转载本公众号自己的文章"):
        reposts.repost(source, matrix.city, actor=editor)
    writer = editor_of(matrix.county, django_user_model, "ce")
    first = reposts.repost(source, matrix.county, actor=writer)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        reposts.repost(source, matrix.county, actor=writer)
    assert exc.value.messages == [
        "已转载过这篇文章（「东湖区明日停水」，草稿） / already reposted to this account"
    ]
    assert snapshot() == before
    Article.objects.filter(pk=first.pk).update(status=Article.Status.WITHDRAWN)
    assert reposts.repost(source, matrix.county, actor=writer).reposted_from == source


def test_reposting_needs_content_edit_on_the_target(
    matrix: Matrix, source: Article, django_user_model: Any, editor: Any
) -> None:
    reviewer = member(django_user_model, matrix.county, "county-reviewer", "reviewer")
    before = snapshot()
    for actor in (reviewer, editor):  # editor: of the city, not of the county
        with pytest.raises(PermissionDenied):
            reposts.repost(source, matrix.county, actor=actor)
    assert snapshot() == before


def test_a_liaison_reposts_for_their_department(
    matrix: Matrix, source: Article, django_user_model: Any
) -> None:
    from govwx.accounts.models import Department

    dept = Department.objects.create(organisation=matrix.orgs["县"], name="县水利局")
    liaison = member(django_user_model, matrix.county, "county-liaison", "liaison", department=dept)
    draft = reposts.repost(source, matrix.county, actor=liaison)
    assert draft.source_department == dept


# ------------------------------------------------------------------ where it travelled


def test_the_matrix_sees_where_an_article_travelled(
    matrix: Matrix, source: Article, django_user_model: Any
) -> None:
    Article.objects.filter(pk=source.pk).update(reads=10)
    source.refresh_from_db()
    county = reposts.repost(
        source, matrix.county, actor=editor_of(matrix.county, django_user_model, "a")
    )
    province = reposts.repost(
        source, matrix.province, actor=editor_of(matrix.province, django_user_model, "b")
    )
    publish(county, reads=5)
    # the second county reposts the first county's repost
    again = reposts.repost(
        county, matrix.county2, actor=editor_of(matrix.county2, django_user_model, "c")
    )
    publish(again, reads=3)
    Article.objects.filter(pk=province.pk).update(reads=0)

    t = reposts.travel(source)
    assert [(h.account.name, h.status, h.reads) for h in t.hops] == [
        ("东湖县发布", "published", 5),  # published first, then drafts; then the next level
        ("示例省发布", "draft", 0),
        ("西山县发布", "published", 3),
    ]
    by_name = {h.account.name: h for h in t.hops}
    assert by_name["西山县发布"].via is not None and by_name["西山县发布"].via.pk == county.pk
    assert by_name["东湖县发布"].via is None
    assert (
        by_name["东湖县发布"].published_at is not None
        and by_name["示例省发布"].published_at is None
    )
    assert t.reach == 10 + 5 + 3 and t.reposted == 3 and t.published_reposts == 2
    assert reposts.travel(again).hops == [] and reposts.travel(again).reach == 3


def test_travel_is_read_in_one_query_per_level(
    matrix: Matrix, source: Article, django_user_model: Any, django_assert_num_queries: Any
) -> None:
    reposts.repost(source, matrix.county, actor=editor_of(matrix.county, django_user_model, "a"))
    with django_assert_num_queries(2):  # the reposts, then (none) of theirs
        t = reposts.travel(source)
    assert len(t.hops) == 1


# ------------------------------------------------------------------ the console's page


def test_the_matrix_page_lists_and_reposts(
    client: Client, matrix: Matrix, source: Article, django_user_model: Any
) -> None:
    writer = editor_of(matrix.county, django_user_model, "county-editor")
    client.force_login(writer)
    r = client.get("/matrix/")
    assert r.status_code == 200
    html = r.content.decode()
    assert f'action="/matrix/{source.pk}/repost/"' in html and "示例市发布" in html
    assert "别的市发布" not in html
    r = client.post(f"/matrix/{source.pk}/repost/")
    assert r.status_code == 302 and r["Location"] == "/matrix/"
    draft = Article.objects.get(account=matrix.county)
    assert draft.reposted_from == source
    page = client.get("/matrix/").content.decode()
    assert "已转载为草稿「东湖区明日停水」" in page and "已转载</span>" in page
    assert f'action="/matrix/{source.pk}/repost/"' not in page
    # a second POST is refused in words and adds nothing
    client.post(f"/matrix/{source.pk}/repost/")
    assert "已转载过这篇文章" in client.get("/matrix/").content.decode()
    assert Article.objects.filter(account=matrix.county).count() == 1


def test_the_source_account_sees_the_travel_panel(
    client: Client, matrix: Matrix, source: Article, editor: Any, django_user_model: Any
) -> None:
    county = reposts.repost(
        source, matrix.county, actor=editor_of(matrix.county, django_user_model, "a")
    )
    publish(county, reads=7)
    client.force_login(editor)
    html = client.get("/matrix/").content.decode()
    assert f'<div class="travel" id="travel-{source.pk}">' in html
    assert f'<tr data-account="{matrix.county.appid}"><td>东湖县发布</td>' in html
    assert "总触达 <strong>7</strong> 次阅读（本号 0，转载 1 次）" in html


def test_the_matrix_page_refuses_what_it_must(
    client: Client, matrix: Matrix, source: Article, django_user_model: Any, editor: Any
) -> None:
    assert client.post(f"/matrix/{source.pk}/repost/").status_code == 302  # to the login
    reviewer = member(django_user_model, matrix.county, "county-reviewer", "reviewer")
    client.force_login(reviewer)
    before = snapshot()
    assert client.post(f"/matrix/{source.pk}/repost/").status_code == 403
    assert client.get("/matrix/").status_code == 200  # may look
    assert snapshot() == before
    # across matrices: refused in words
    client.force_login(editor_of(matrix.elsewhere, django_user_model, "far"))
    assert client.post(f"/matrix/{source.pk}/repost/").status_code == 302
    assert "不在本公众号的矩阵中" in client.get("/matrix/").content.decode()
    assert snapshot() == before
    # a draft is not public: not found
    draft = write(matrix.city, editor, "草稿")
    client.force_login(editor_of(matrix.county, django_user_model, "ce"))
    assert client.post(f"/matrix/{draft.pk}/repost/").status_code == 404
    assert client.get(f"/matrix/{source.pk}/repost/").status_code == 405
    assert snapshot()[0] == before[0] + 1


def test_a_repost_of_its_own_article_does_not_come_back(
    matrix: Matrix, source: Article, editor: Any, django_user_model: Any
) -> None:
    county = reposts.repost(
        source, matrix.county, actor=editor_of(matrix.county, django_user_model, "a")
    )
    publish(county)
    other = publish(
        write(matrix.county, editor_of(matrix.county, django_user_model, "b"), "县里的通知")
    )
    assert [a.pk for a in reposts.repostable(matrix.city)] == [other.pk]
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        reposts.repost(county, matrix.city, actor=editor)
    assert exc.value.messages == [
        "这篇文章转载自本公众号，不能再转载回来 / this repost is of this account's own article"
    ]
    assert snapshot() == before
    # another account of the family may repost the repost
    assert reposts.repost(
        county, matrix.county2, actor=editor_of(matrix.county2, django_user_model, "c")
    )


def test_a_repost_from_a_site_served_over_http_names_its_source(
    matrix: Matrix, source: Article, django_user_model: Any, settings: Any
) -> None:
    """The source's page on this site is the repost's source link, whatever the scheme
    the installation is served with (a local demo on http)."""
    settings.GOVWX_PUBLIC_URL = "http://127.0.0.1:8000"
    writer = editor_of(matrix.county, django_user_model, "county-editor")
    draft = reposts.repost(source, matrix.county, actor=writer)
    assert draft.source_url == f"http://127.0.0.1:8000/a/{source.token}/"


def test_deleting_a_reposts_picture_keeps_the_file_the_source_still_shows(
    matrix: Matrix,
    source: Article,
    picture: Material,
    django_user_model: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from govwx.content import articles, materials
    from govwx.wechat.models import media_storage

    writer = editor_of(matrix.county, django_user_model, "county-editor")
    draft = reposts.repost(source, matrix.county, actor=writer)
    copy = Material.objects.get(account=matrix.county)
    # the repost drops the picture, then the county deletes its copy
    articles.save_article(
        draft, articles.ArticleInput(draft.title, [TEXT], original=False,
                                     source_name=draft.source_name, source_url=draft.source_url),
        revision=draft.revision, actor=writer,
    )  # fmt: skip
    admin = member(django_user_model, matrix.county, "county-admin", Membership.Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        materials.delete_material(copy, actor=admin)
    assert not Material.objects.filter(pk=copy.pk).exists()
    assert media_storage().exists(picture.file.name)  # the city's picture is still there
