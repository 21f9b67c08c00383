from django.urls import path

from . import views

urlpatterns = [
    path("upload/", views.upload, name="upload"),
    path("blurred/", views.view_blurred_example, name="blurred_example"),
    path("blurred/<int:pk>/", views.blurred, name="blurred"),
]
