from django.urls import path

from tasks_app.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan-detail"),
]
