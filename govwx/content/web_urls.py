"""The content app's public pages: articles' H5 pages, feeds and the embeddable list
(namespace `content_web`, mounted at the site's root)."""

from django.urls import path

from . import feeds, web

app_name = "content_web"

urlpatterns = [
    path("a/<str:token>/", web.article, name="article"),
    path("a/<str:token>/m/<int:pk>", web.material, name="material"),
    path("w/<str:appid>/", web.account_list, name="account"),
    path("feeds/<str:appid>/rss.xml", feeds.rss, name="rss"),
    path("feeds/<str:appid>/atom.xml", feeds.atom, name="atom"),
    path("feeds/<str:appid>/feed.json", feeds.json_view, name="json"),
    path("embed/<str:appid>/", web.embed, name="embed"),
    path("embed/<str:appid>/list.html", web.embed_fragment, name="fragment"),
]
