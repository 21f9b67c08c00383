from django.apps import AppConfig


class ImageProcessConfig(AppConfig):
    name = "image_process"
