from django.urls import path

from . import people_views, views

app_name = "team"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("rotas/", views.rota_list, name="rotas"),
    path("rotas/<int:pk>/", views.rota_detail, name="rota"),
    path("rotas/<int:pk>/print/", views.rota_print, name="rota_print"),
    path("rotas/<int:pk>/rota.xlsx", views.rota_xlsx, name="rota_xlsx"),
    path("rotas/<int:pk>/rota.ics", views.rota_ics, name="rota_ics"),
    path("rotas/<int:pk>/shifts/<int:shift_pk>/", views.shift_detail, name="shift"),
    path("alerts/<int:pk>/ack/", views.acknowledge, name="ack"),
    path("", people_views.team_page, name="team"),
    path("people/<int:user_id>/", people_views.profile_edit, name="profile"),
    path("projects/", people_views.project_list, name="projects"),
    path("projects/new/", people_views.project_new, name="project_new"),
    path("projects/<int:pk>/", people_views.project_detail, name="project"),
    path("projects/<int:pk>/act/", people_views.project_act, name="project_act"),
]
