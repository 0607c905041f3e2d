"""Console URLs of the content app (included by content/urls.py under /content/): the
editorial workflow and the publishing policy."""

from django.urls import URLPattern, path

from . import workflow_views

urlpatterns: list[URLPattern] = [
    path("workflow/", workflow_views.inbox, name="workflow_inbox"),
    path("articles/<int:pk>/workflow/", workflow_views.article_workflow, name="workflow"),
    path("articles/<int:pk>/workflow/act/", workflow_views.act, name="workflow_act"),
    path("policy/", workflow_views.policy, name="policy"),
]
