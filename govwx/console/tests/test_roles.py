"""Every role against every console page, per the permission table.

The pages are not listed here: the test walks the URL resolver (govwx.urls), so a page
added tomorrow is tested tomorrow. Every console page must carry a permission
(`console_view` sets `view.permission`); then, for a person of each role on the account
(and a superuser), the page answers 200 (a GET) or a redirect (a POST-only page, with a
valid POST) when the role has the permission, and 403 when it does not — and a refused
POST changes nothing. Pages whose URL names an object get one from the world below
(ARGS); a page with URL arguments that ARGS does not know fails the build until it is
added, as does a POST-only page missing from POSTS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db.models import Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from govwx.accounts.models import Account, Department, Membership
from govwx.accounts.permissions import PERMISSIONS, role_has
from govwx.desk.models import Case, Status
from govwx.notify.models import Channel
from govwx.replies.models import Rule
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule
from govwx.team.models import Alert, Project, Rota, Shift, ShiftPattern

from .staff import NOW, make_staff, open_case

ROLES = [*Membership.Role.values, "superuser"]  # a superuser is an admin everywhere

# URLs that are not pages of an account's console, so carry no permission: the login,
# the language switch, the Django admin, WeChat's callback, the sandbox (the simulated
# platform), the citizen's rating page (a signed link, no login) and the citizens' H5
# service pages (`hub`, public).
NOT_CONSOLE_NAMES = {"console:login", "console:logout", "set_language", "desk:rate"}
# An invitation's link: its token is the key, no login (accounts/tests/test_members.py).
NOT_CONSOLE_NAMES |= {"org_settings:join"}
# A new account is the installation's business, not a role's on an account: only a
# superuser may open it, with or without accounts (test_only_a_superuser_creates_… below).
NOT_CONSOLE_NAMES |= {"org_settings:account_new"}
# The articles' public web pages (`content_web`: H5 pages, feeds, the embeddable list)
# are public too.
NOT_CONSOLE_NAMESPACES = {"admin", "inbox", "sandbox", "hub", "content_web"}

# Pages another engineer has not finished, skipped by name until they are. Keep it
# short, and empty when nothing is in progress.
PENDING: set[str] = set()


# ------------------------------------------------------------------ the URL walk


@dataclass(frozen=True)
class Page:
    name: str  # namespaced: "desk:case"
    namespace: str
    route: str
    view: Callable[..., Any]
    params: tuple[str, ...]

    @property
    def permission(self) -> str | None:
        return getattr(self.view, "permission", None)


def _params(pattern: Any) -> list[str]:
    converters = getattr(pattern, "converters", None)
    if converters is not None:
        return list(converters)
    return list(pattern.regex.groupindex)


def all_pages() -> list[Page]:
    pages: list[Page] = []

    def walk(patterns: Any, route: str, namespace: str, params: list[str]) -> None:
        for p in patterns:
            here = params + _params(p.pattern)
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, route + str(p.pattern), ns, here)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
                page = Page(name, namespace, route + str(p.pattern), p.callback, tuple(here))
                pages.append(page)

    walk(get_resolver("govwx.urls").url_patterns, "/", "", [])
    return pages


def is_console(page: Page) -> bool:
    return (
        page.name not in NOT_CONSOLE_NAMES
        and page.namespace.split(":")[0] not in NOT_CONSOLE_NAMESPACES
    )


CONSOLE_PAGES = [p for p in all_pages() if is_console(p)]


def test_the_walk_finds_the_console() -> None:
    names = {p.name for p in CONSOLE_PAGES}
    assert {"console:home", "replies:edit", "desk:cases", "desk:case", "desk:act"} <= names
    every = {p.name for p in all_pages()}
    assert NOT_CONSOLE_NAMES <= every  # no stale exemption
    assert not {p.name for p in all_pages() if p.name.startswith("admin:")} & names


def test_every_console_page_has_a_permission() -> None:
    missing = [
        f"{p.route} ({p.name or 'unnamed'})"
        for p in CONSOLE_PAGES
        if p.name not in PENDING and p.permission not in PERMISSIONS
    ]
    assert missing == [], "console pages without @console_view(perm): " + ", ".join(missing)


# The permission of the console's own, the rules' and the desk's pages, written out: the
# walk below checks each page against the permission it carries; this pins what it must
# carry (the 试一试 box reads, the CSV export and the summary are cases.export).
OWN_PAGES = {
    "console:home": "home.view",
    "console:switch": "home.view",
    "console:messages": "messages.view",
    "replies:list": "rules.view",
    "replies:try": "rules.view",
    "replies:create": "rules.edit",
    "replies:edit": "rules.edit",
    "replies:delete": "rules.edit",
    "replies:triggers": "rules.edit",
    "desk:cases": "cases.view",
    "desk:case": "cases.view",
    "desk:act": "cases.handle",
    "desk:reply_picture": "cases.handle",
    "desk:media": "cases.view",
    "desk:export": "cases.export",
    "desk:summary": "cases.export",
    "console:matrix": "content.view",
    "console:matrix_repost": "content.edit",
    "console:content_guides": "content.edit",
    "console:content_plan": "content.plan",
    "console:content_plan_act": "content.plan",
}


def test_the_console_rules_and_desk_pages_carry_their_permissions() -> None:
    carried = {p.name: p.permission for p in CONSOLE_PAGES}
    assert {name: carried.get(name) for name in OWN_PAGES} == OWN_PAGES
    own_apps = {name for name in carried if name.split(":")[0] in ("console", "replies")}
    assert own_apps <= set(OWN_PAGES), "a new console or rules page: pin its permission"


# ------------------------------------------------------------------ the world


@dataclass
class World:
    account: Account
    depts: dict[str, Department]
    users: dict[str, Any]
    case: Case
    rule: Rule
    rota: Rota
    shift: Shift
    project: Project
    channel: Channel
    alerts: dict[int, Alert] = field(default_factory=dict)

    def alert_for(self, user: Any) -> Alert:
        """An alert addressed to `user` (acknowledging needs one of their own)."""
        if user.pk not in self.alerts:
            alert = Alert.objects.create(
                account=self.account,
                kind=Alert.Kind.NEW_CASE,
                text="新诉求",
                subject=f"test:{user.pk}",
                created_at=NOW,
            )
            alert.recipients.add(user)
            self.alerts[user.pk] = alert
        return self.alerts[user.pk]


@pytest.fixture
def world(account: Account, django_user_model: Any) -> Any:
    with time_machine.travel(NOW, tick=True):
        users, depts = make_staff(account, django_user_model)
        case = open_case(account, "o-role")
        Case.objects.filter(pk=case.pk).update(status=Status.ASSIGNED, department=depts["人社"])
        case.refresh_from_db()
        rule = create_rule(
            account,
            RuleInput(
                name="社保",
                keywords=[KeywordInput("社保")],
                replies=[ReplyInput("text", {"content": "社保答复"})],
            ),
        )
        rota = Rota.objects.create(name="值班表")
        rota.accounts.add(account)
        pattern = ShiftPattern.objects.create(rota=rota, name="白班", start=NOW.time(), hours=8)
        shift = Shift.objects.create(
            rota=rota,
            pattern=pattern,
            layer=pattern.layer,
            person=users["operator"],
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=1, hours=8),
        )
        project = Project.objects.create(
            account=account,
            name="防汛宣传",
            lead=users["admin"],
            starts_on=date(2026, 11, 1),
            due_on=date(2026, 11, 30),
        )
        channel = Channel.objects.create(
            account=account,
            kind=Channel.Kind.WEBHOOK,
            name="值班群",
            target="http://127.0.0.1:9/hook",  # nothing listens: a test send fails fast
        )
        yield World(account, depts, users, case, rule, rota, shift, project, channel)


def published_menu(w: World) -> Any:
    """A published menu version whose service is gone from the catalogue: publishing it
    is refused (already published) and restoring it is refused (invalid), both before
    any WeChat call."""
    from govwx.services.models import MenuVersion

    tree = {"button": [{"name": "办事", "kind": "service", "service": "GONE"}]}
    return MenuVersion.objects.get_or_create(
        account=w.account, number=1, defaults={"tree": tree, "status": "published"}
    )[0]


def catalogue_rows(w: World) -> dict[str, Any]:
    """The account's organisation placed under a province, with a service and an office
    of its own and one of each inherited from the province (to override or withdraw)."""
    from govwx.accounts.models import Organisation
    from govwx.services.models import Office, Service

    city = w.account.organisation
    assert city is not None  # make_staff places the account
    if city.parent is None:
        province = Organisation.objects.create(name="示例省", level="province")
        Organisation.objects.filter(pk=city.pk).update(parent=province)
        city.refresh_from_db()
    assert city.parent is not None
    up = {"organisation": city.parent}
    return {
        "own": Service.objects.get_or_create(
            organisation=city, code="OWN", defaults={"name": "本级事项", "category": "other"}
        )[0],
        "inherited": Service.objects.get_or_create(
            **up, code="UP", defaults={"name": "省级事项", "category": "other"}
        )[0],
        "own_office": Office.objects.get_or_create(
            organisation=city, code="HALL", defaults={"name": "大厅", "address": "人民路 1 号"}
        )[0],
        "inherited_office": Office.objects.get_or_create(
            **up, code="UPHALL", defaults={"name": "省大厅", "address": "省府路 1 号"}
        )[0],
    }


def case_media(w: World) -> Any:
    """A picture the case's citizen sent, fetched and stored."""
    from django.utils import timezone

    from govwx.desk.models import CaseMessage
    from govwx.wechat.media import save_files
    from govwx.wechat.models import InboundMessage, MessageMedia

    found = MessageMedia.objects.filter(media_id="ROLES-PIC").first()
    if found is not None:
        return found
    now = timezone.now()
    msg = InboundMessage.objects.create(
        account=w.account, openid=w.case.openid, dedup_key="roles-pic", msg_type="image",
        payload={"MediaId": "ROLES-PIC"}, sent_at=now, received_at=now, handled_by="desk",
    )  # fmt: skip
    CaseMessage.objects.create(
        case=w.case, direction="in", inbound=msg, text="[图片]", created_at=now
    )
    name, thumb = save_files(w.account.pk, b"GIF89a-not-read", "image/gif")
    return MessageMedia.objects.create(
        account=w.account, inbound=msg, kind="image", media_id="ROLES-PIC", status="stored",
        file=name, content_type="image/gif", created_at=now,
    )  # fmt: skip


def content_article(w: World) -> Any:
    """A draft of the 人社 department (its liaison sees it), written by the superuser,
    who holds its lock: the others' editor opens read-only, their restore is refused."""
    from govwx.content import articles
    from govwx.content.models import Article

    found = Article.objects.filter(account=w.account, title="社保卡补办").first()
    if found is not None:
        return found
    values = articles.ArticleInput(
        "社保卡补办", [{"type": "text", "html": "<p>带身份证。</p>"}],
        source_department=w.depts["人社"],
    )  # fmt: skip
    return articles.create_article(w.account, values, actor=w.users["superuser"])


def library(w: World) -> dict[str, Any]:
    """Two pictures of the account's material library: one already on WeChat (a push
    asks nothing) and one an article uses (a delete is refused before any call)."""
    from django.core.files.base import ContentFile

    from govwx.content.models import Article, Material
    from govwx.wechat.models import media_storage

    found: dict[str, Any] = {}
    for key in ("pushed", "used"):
        m = Material.objects.filter(account=w.account, sha256=f"roles-{key}").first()
        if m is None:
            m = Material(
                account=w.account, kind="image", title="水厂", content_type="image/gif",
                size=15, sha256=f"roles-{key}", wechat_media_id="ROLES" if key == "pushed" else "",
                article_url="https://mmbiz.qpic.cn/roles.gif" if key == "pushed" else "",
            )  # fmt: skip
            m.file = media_storage().save(f"roles-{key}.gif", ContentFile(b"GIF89a-not-read"))
            m.save()
        found[key] = m
    Article.objects.get_or_create(
        account=w.account, title="用图的文章",
        defaults={"body": [{"type": "image", "material": found["used"].pk}]},
    )  # fmt: skip
    return found


def text_mass_send(w: World) -> Any:
    """A text mass send, sent: its page reads; deleting it is refused before any call
    (WeChat deletes only articles)."""
    from django.utils import timezone

    from govwx.content.models import MassSend

    return MassSend.objects.get_or_create(
        account=w.account, kind="text", text="今晚停水",
        defaults={"to_all": True, "status": "sent", "due_at": timezone.now()},
    )[0]  # fmt: skip


def matrix_article(w: World) -> Any:
    """A published article of a county account under the account's organisation (the
    same matrix), for 转载."""
    from django.utils import timezone

    from govwx.accounts.models import Organisation
    from govwx.conftest import make_account
    from govwx.content.models import Article

    found = Article.objects.filter(title="县里的通知").first()
    if found is not None:
        return found
    county = Organisation.objects.create(
        name="示例县", level="county", parent=w.account.organisation
    )
    other = make_account("wx00000000000000c0", name="示例县发布")
    Account.objects.filter(pk=other.pk).update(organisation=county)
    return Article.objects.create(
        account=other, title="县里的通知", status=Article.Status.PUBLISHED,
        published_at=timezone.now(), body=[{"type": "text", "html": "<p>通知</p>"}],
        html="<p>通知</p>",
    )  # fmt: skip


# URL arguments of the pages that name an object: (world, user) -> kwargs.
Args = Callable[[World, Any], dict[str, Any]]
ARGS: dict[str, Args] = {
    "replies:edit": lambda w, u: {"pk": w.rule.pk},
    "replies:delete": lambda w, u: {"pk": w.rule.pk},  # GET: the confirmation page
    "desk:case": lambda w, u: {"pk": w.case.pk},
    "desk:act": lambda w, u: {"pk": w.case.pk},
    "desk:reply_picture": lambda w, u: {"pk": w.case.pk},
    "desk:media": lambda w, u: {"pk": case_media(w).pk},
    "desk:project_link": lambda w, u: {"pk": w.project.pk},
    "desk:project_unlink": lambda w, u: {"pk": w.project.pk},
    "team:rota": lambda w, u: {"pk": w.rota.pk},
    "team:rota_print": lambda w, u: {"pk": w.rota.pk},
    "team:rota_xlsx": lambda w, u: {"pk": w.rota.pk},
    "team:rota_ics": lambda w, u: {"pk": w.rota.pk},
    "team:shift": lambda w, u: {"pk": w.rota.pk, "shift_pk": w.shift.pk},
    "team:ack": lambda w, u: {"pk": w.alert_for(u).pk},
    "team:profile": lambda w, u: {"user_id": w.users["operator"].pk},
    "team:project": lambda w, u: {"pk": w.project.pk},
    "team:project_act": lambda w, u: {"pk": w.project.pk},
    "notify:edit": lambda w, u: {"pk": w.channel.pk},
    "notify:enable": lambda w, u: {"pk": w.channel.pk},
    "notify:test": lambda w, u: {"pk": w.channel.pk},
    "services:menu_publish": lambda w, u: {"pk": published_menu(w).pk},
    "services:menu_restore": lambda w, u: {"pk": published_menu(w).pk},
    "services:menu_republish": lambda w, u: {"pk": published_menu(w).pk},
    "services:service_edit": lambda w, u: {"pk": catalogue_rows(w)["own"].pk},
    "services:service_delete": lambda w, u: {"pk": catalogue_rows(w)["own"].pk},  # GET: confirm
    "services:service_override": lambda w, u: {"pk": catalogue_rows(w)["inherited"].pk},
    "services:service_withdraw": lambda w, u: {"pk": catalogue_rows(w)["inherited"].pk},
    "services:office_edit": lambda w, u: {"pk": catalogue_rows(w)["own_office"].pk},
    "services:office_delete": lambda w, u: {"pk": catalogue_rows(w)["own_office"].pk},
    "services:office_override": lambda w, u: {"pk": catalogue_rows(w)["inherited_office"].pk},
    "services:office_withdraw": lambda w, u: {"pk": catalogue_rows(w)["inherited_office"].pk},
    "org_settings:department": lambda w, u: {"pk": w.depts["城管"].pk},
    "org_settings:member": lambda w, u: {"user_id": w.users["operator"].pk},
    "org_settings:member_restore": lambda w, u: {"user_id": w.users["operator"].pk},
    "console:matrix_repost": lambda w, u: {"pk": matrix_article(w).pk},
    "content:article": lambda w, u: {"pk": content_article(w).pk},
    "content:article_edit": lambda w, u: {"pk": content_article(w).pk},
    "content:article_lock": lambda w, u: {"pk": content_article(w).pk},
    "content:article_release": lambda w, u: {"pk": content_article(w).pk},
    "content:article_unlock": lambda w, u: {"pk": content_article(w).pk},
    "content:article_compare": lambda w, u: {"pk": content_article(w).pk},
    "content:article_restore": lambda w, u: {"pk": content_article(w).pk},
    "content:article_revision": lambda w, u: {"pk": content_article(w).pk, "number": 1},
    "content:workflow": lambda w, u: {"pk": content_article(w).pk},
    "content:workflow_act": lambda w, u: {"pk": content_article(w).pk},
    "content:material": lambda w, u: {"pk": library(w)["pushed"].pk},
    "content:material_file": lambda w, u: {"pk": library(w)["pushed"].pk},
    "content:material_edit": lambda w, u: {"pk": library(w)["pushed"].pk},
    "content:material_push": lambda w, u: {"pk": library(w)["pushed"].pk},
    "content:material_delete": lambda w, u: {"pk": library(w)["used"].pk},
    "content:publish_retry": lambda w, u: {"pk": content_article(w).pk},
    "content:mass_detail": lambda w, u: {"pk": text_mass_send(w).pk},
    "content:mass_delete": lambda w, u: {"pk": text_mass_send(w).pk},
}

# POST-only pages and a valid POST for each: (world, user) -> form data.
POSTS: dict[str, Args] = {
    "console:switch": lambda w, u: {"account": w.account.pk},
    "desk:act": lambda w, u: {"action": "note", "text": "已电话联系", "revision": w.case.revision},
    # The door only: no picture chosen gets the page's message (desk/tests/test_media.py)
    "desk:reply_picture": lambda w, u: {"revision": w.case.revision},
    "desk:project_link": lambda w, u: {"case": w.case.pk},
    "desk:project_unlink": lambda w, u: {"case": w.case.pk},
    "team:ack": lambda w, u: {},
    # The door only: an unknown action gets the page's message and a redirect. What
    # each role may do on a project is checked by the projects' services and tests.
    "team:project_act": lambda w, u: {"action": "-"},
    "notify:create": lambda w, u: {
        "kind": "email",
        "name": f"邮件-{u.pk}",
        "target": "duty@example.gov.cn",
    },
    "notify:enable": lambda w, u: {"enabled": "1"},
    "notify:test": lambda w, u: {},
    "services:menu_publish": lambda w, u: {},
    "services:menu_restore": lambda w, u: {},
    "services:menu_republish": lambda w, u: {},  # refused: no interrupted publish
    # Queued after commit, and a test's transaction never commits: WeChat is not asked.
    "services:menu_tags_refresh": lambda w, u: {},
    "services:links_check": lambda w, u: {},
    # The door only: a user name with no failed logins gets the page's message.
    "org_settings:lockout_lift": lambda w, u: {"username": "-"},
    # The door only: an active member is not restored, the members page says so
    # (restoring itself: accounts/tests/test_members.py).
    "org_settings:member_restore": lambda w, u: {"role": "operator"},
    # The door only: what a repost copies and refuses: content/tests/test_reposts.py.
    "console:matrix_repost": lambda w, u: {},
    # The doors only (a form post, not the editor's JSON): the article is the
    # superuser's, locked to them; what each does: content/tests/test_articles_views.py.
    "content:article_check": lambda w, u: {"title": "t"},
    "content:article_lock": lambda w, u: {},
    "content:article_release": lambda w, u: {},
    "content:article_unlock": lambda w, u: {},
    "content:article_restore": lambda w, u: {"number": 1, "revision": content_article(w).revision},
    # The doors only (a form post, not the editor's JSON): what each does:
    # content/tests/test_proofread_editor_views.py.
    "content:article_proofread": lambda w, u: {"title": "t"},
    "content:article_proofread_dismiss": lambda w, u: {"title": "t"},
    # The material library: an edit that changes nothing (a liaison is told it is not
    # theirs), a push of what WeChat has already (no call), a delete refused while an
    # article uses it; what each does: content/tests/test_materials*.py.
    "content:material_edit": lambda w, u: {"title": "水厂", "caption": "", "tags": ""},
    "content:material_push": lambda w, u: {},
    "content:material_delete": lambda w, u: {},
    # The doors only: an unknown action gets the page's message and a redirect; what
    # each person may do: content/tests/test_workflow*.py, console/tests/test_content_plan.py.
    "content:workflow_act": lambda w, u: {"action": "-"},
    # The doors only: a draft is not retried, an empty form is refused in words, the tags
    # are read after commit (never, in a test's transaction), a text is not deleted;
    # what each does: content/tests/test_publishing*.py and test_mass.py.
    "content:publish_retry": lambda w, u: {},
    "content:mass_send": lambda w, u: {},
    "content:mass_preview": lambda w, u: {},
    "content:mass_tags": lambda w, u: {},
    "content:mass_delete": lambda w, u: {},
    "console:content_plan_act": lambda w, u: {"action": "-"},
}

# Query strings a GET page needs to answer 200.
QUERIES: dict[str, dict[str, str]] = {
    "desk:workload_csv": {"table": "people"},
}


def test_the_explicit_lists_cover_every_page_they_must() -> None:
    pages = {p.name: p for p in CONSOLE_PAGES}
    with_args = {p.name for p in CONSOLE_PAGES if p.params and p.name not in PENDING}
    assert with_args - set(ARGS) == set(), "pages with URL arguments: add them to ARGS"
    for listed in (ARGS, POSTS, QUERIES):
        assert set(listed) <= set(pages), f"stale names: {set(listed) - set(pages)}"
    assert PENDING <= set(pages), "a finished page is still PENDING"


def fingerprint() -> tuple[int, ...]:
    """Rows of every govwx table, and every case's revision: what a refusal must leave."""
    counts = [
        model._default_manager.count()
        for model in apps.get_models()
        if model.__module__.startswith("govwx.")
    ]
    revisions = Case.objects.aggregate(n=Sum("revision"))["n"] or 0
    acked = Alert.objects.filter(acknowledged_at__isnull=False).count()
    return (*counts, revisions, acked)


def _request(client: Client, page: Page, w: World, user: Any) -> Any:
    kwargs = ARGS[page.name](w, user) if page.name in ARGS else {}
    url = reverse(page.name, kwargs=kwargs)
    if page.name in POSTS:
        return client.post(url, POSTS[page.name](w, user))
    return client.get(url, QUERIES.get(page.name, {}))


PERMISSIONED = [p for p in CONSOLE_PAGES if p.name not in PENDING and p.permission]


@pytest.mark.django_db
# (not "page": that is Playwright's fixture)
@pytest.mark.parametrize("url", PERMISSIONED, ids=[p.name for p in PERMISSIONED])
def test_each_role_on_the_page(url: Page, world: World, django_user_model: Any) -> None:
    """The page answers each role as the table says; anonymous: the login page; a
    person with no account: the no-account page."""
    perm = url.permission
    assert perm is not None
    with time_machine.travel(NOW, tick=True):
        root = world.users["superuser"]  # whose objects the URL names, for strangers
        r = _request(Client(), url, world, root)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url.name
        for role in ROLES:
            user = world.users[role]
            client = Client()
            client.force_login(user)
            before = fingerprint()
            r = _request(client, url, world, user)
            granted = role_has(Membership.Role.ADMIN if role == "superuser" else role, perm)
            where = f"{url.name} ({perm}) as {role}"
            if not granted:
                assert r.status_code == 403, f"{where}: {r.status_code}, expected 403"
                assert fingerprint() == before, f"{where}: a refusal changed something"
            elif url.name in POSTS:
                assert r.status_code == 302, f"{where}: {r.status_code}, expected a redirect"
            else:
                assert r.status_code == 200, f"{where}: {r.status_code}, expected 200"
        client = Client()  # a person with no role anywhere: the no-account page
        client.force_login(django_user_model.objects.create_user("r-nobody"))
        r = _request(client, url, world, root)
        assert r.status_code == 200, url.name
        assert "console/no_account.html" in [t.name for t in r.templates], url.name


@pytest.mark.django_db
def test_get_only_pages_are_not_post_only(world: World) -> None:
    """A POST-only page missing from POSTS would answer a GET with 405: catch it here,
    not as a confusing failure above."""
    client = Client()
    client.force_login(world.users["superuser"])
    with time_machine.travel(NOW, tick=True):
        for page in PERMISSIONED:
            if page.name in POSTS:
                continue
            r = _request(client, page, world, world.users["superuser"])
            assert r.status_code != 405, f"{page.name} is POST-only: add it to POSTS"


@pytest.mark.django_db
def test_only_a_superuser_creates_an_account(world: World, django_user_model: Any) -> None:
    """「新建公众号」: no role on an account opens it, an admin's neither, nor a person
    with no role; a superuser does (without accounts too: accounts/tests/
    test_account_settings.py); a refused POST changes nothing."""
    url = reverse("org_settings:account_new")
    r = Client().get(url)
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    post = {"name": "新号", "appid": "wx0000000000000abc", "app_secret": "s", "token": "tok",
            "aes_key": "C" * 43, "mode": "safe", "kind": "subscription",
            "organisation_name": "新组织", "organisation_level": "city"}  # fmt: skip
    for role in ROLES:
        client = Client()
        client.force_login(world.users[role])
        expected = 200 if role == "superuser" else 403
        assert client.get(url).status_code == expected, role
        if role != "superuser":
            before = fingerprint()
            assert client.post(url, post).status_code == 403, role
            assert fingerprint() == before, role
    client = Client()  # a person with no role anywhere
    client.force_login(django_user_model.objects.create_user("r-nobody"))
    assert client.get(url).status_code == 403
