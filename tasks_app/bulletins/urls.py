"""Routes of one feature: web_urlpatterns under / (the office's 督查通报 pages)."""

from django.urls import path

from tasks_app.bulletins import views

api_urlpatterns: list = []
web_urlpatterns: list = [
    path("bulletins/", views.bulletin_home, name="bulletins"),
    path("bulletins/plans/<int:plan_id>/", views.bulletin_list, name="bulletin-list"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin-detail"),
    path("bulletins/<int:pk>/print/", views.bulletin_print, name="bulletin-print"),
    path("bulletins/<int:pk>/bulletin.docx", views.bulletin_download, name="bulletin-docx"),
]
