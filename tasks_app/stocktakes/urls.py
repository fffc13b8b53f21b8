"""Routes of one feature: web_urlpatterns under /."""

from django.urls import path

from tasks_app.stocktakes import views

api_urlpatterns: list = []
web_urlpatterns: list = [
    path("stocktakes/", views.pack_index, name="stocktakes"),
    path("stocktakes/<int:pack_id>/", views.pack_page, name="stocktake-pack"),
    path("stocktakes/<int:pack_id>/print/", views.pack_print, name="stocktake-print"),
    path("stocktakes/<int:pack_id>/pack.docx", views.pack_download, name="stocktake-docx"),
    path("stocktakes/<int:pack_id>/hold/", views.pack_hold, name="stocktake-hold"),
    path("stocktakes/<int:pack_id>/decisions/", views.decision_add, name="stocktake-decision"),
    path("ratings/", views.ratings_page, name="ratings"),
    path("ratings/tasks/<int:task_id>/", views.rating_add, name="rating-add"),
]
