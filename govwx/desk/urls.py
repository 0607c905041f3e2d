from django.urls import path

from . import failure_views, media_views, project_views, views, workload_views

app_name = "desk"
urlpatterns = [
    path("rate/<str:token>/", views.rate, name="rate"),
    path("cases/", views.case_list, name="cases"),
    path("summary/", views.case_summary, name="summary"),
    path("intake-failures/", failure_views.intake_failures, name="intake_failures"),
    path("cases/export.csv", views.case_export, name="export"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/act/", views.case_action, name="act"),
    path("cases/<int:pk>/picture/", media_views.reply_picture, name="reply_picture"),
    path("media/<int:pk>/", media_views.media_file, name="media"),
    path("workload/", workload_views.workload_page, name="workload"),
    path("workload/export.csv", workload_views.workload_csv, name="workload_csv"),
    path("workload/export.xlsx", workload_views.workload_xlsx, name="workload_xlsx"),
    path("projects/<int:pk>/link/", project_views.link_case, name="project_link"),
    path("projects/<int:pk>/unlink/", project_views.unlink_case, name="project_unlink"),
]
