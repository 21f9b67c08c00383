from django.urls import path, re_path

from . import views

urlpatterns = [
    path("upload/", views.upload, name="upload"),
    path("blurred/", views.view_blurred_example, name="blurred_example"),
    path("blurred/<int:pk>/", views.blurred, name="blurred"),
    path("redacted/<int:pk>/", views.redacted, name="redacted"),
    re_path(r"^blurred/(?P<pk>[0-9]+)\.(?P<fmt>jpeg|png|webp|avif)$", views.blurred_as, name="blurred_as"),
]
