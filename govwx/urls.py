from django.conf import settings
from django.contrib import admin
from django.urls import include, path

handler403 = "govwx.console.forbidden.handler403"

urlpatterns = [
    path("wx/", include("govwx.inbox.urls")),
    path("desk/", include("govwx.desk.urls")),
    path("team/channels/", include("govwx.notify.urls")),
    path("team/", include("govwx.team.urls")),
    path("calendar/", include("govwx.desk.calendar_watch.urls")),
    path("settings/", include("govwx.accounts.settings_urls")),
    path("settings/", include("govwx.desk.settings_urls")),
    path("settings/", include("govwx.content.proofread.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("rules/", include("govwx.replies.urls")),
    path("services/", include("govwx.services.urls")),
    path("h/", include("govwx.services.hub_urls")),
    path("content/", include("govwx.content.urls")),
    path("", include("govwx.content.web_urls")),
    path("", include("govwx.console.urls")),
]

if settings.GOVWX_SANDBOX:
    urlpatterns.insert(0, path("sandbox/", include("govwx.sandbox.urls")))
