"""The content app's console pages, under /content/ (namespace `content`)."""

from . import urls_articles, urls_materials, urls_proofread, urls_publishing, urls_workflow

app_name = "content"

urlpatterns = [
    *urls_articles.urlpatterns,
    *urls_materials.urlpatterns,
    *urls_workflow.urlpatterns,
    *urls_publishing.urlpatterns,
    *urls_proofread.urlpatterns,
]
