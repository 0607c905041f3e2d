"""Console URLs of proofreading in the content app (included by content/urls.py under
/content/): the editor's checks and dismissals, and the report."""

from django.urls import URLPattern, path

from .proofread import article_views

urlpatterns: list[URLPattern] = [
    path("articles/proofread/", article_views.editor_check, name="article_proofread"),
    path(
        "articles/proofread/dismiss/",
        article_views.editor_dismiss,
        name="article_proofread_dismiss",
    ),
    path("proofread/report/", article_views.report, name="proofread_report"),
]
