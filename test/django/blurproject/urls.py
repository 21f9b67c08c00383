from django.urls import include, path

urlpatterns = [path("", include("image_process.urls"))]
