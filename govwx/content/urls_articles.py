"""Console URLs of the articles (included by content/urls.py under /content/)."""

from django.urls import path

from . import articles_views as v

urlpatterns = [
    path("articles/", v.article_list, name="articles"),
    path("articles/new/", v.article_new, name="article_new"),
    path("articles/check/", v.article_check, name="article_check"),
    path("articles/pick/materials/", v.pick_materials, name="article_pick_materials"),
    path("articles/pick/articles/", v.pick_articles, name="article_pick_articles"),
    path("articles/<int:pk>/", v.article_detail, name="article"),
    path("articles/<int:pk>/edit/", v.article_edit, name="article_edit"),
    path("articles/<int:pk>/lock/", v.article_lock, name="article_lock"),
    path("articles/<int:pk>/release/", v.article_release, name="article_release"),
    path("articles/<int:pk>/unlock/", v.article_unlock, name="article_unlock"),
    path("articles/<int:pk>/compare/", v.article_compare, name="article_compare"),
    path("articles/<int:pk>/restore/", v.article_restore, name="article_restore"),
    path("articles/<int:pk>/revisions/<int:number>/", v.article_revision, name="article_revision"),
]
