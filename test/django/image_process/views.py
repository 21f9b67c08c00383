from django.db import DataError, connection, transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from .forms import ImageFileForm
from .models import BlurredImage


@csrf_exempt
def upload(request):
    """POST an image (multipart field "image"); it is stored as uploaded, bytes included."""
    if request.method != "POST":
        return HttpResponse(
            '<form method="post" enctype="multipart/form-data">'
            '<input type="file" name="image"><button>Upload</button></form>'
        )
    form = ImageFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    upload = form.save(commit=False)
    request.FILES["image"].seek(0)
    upload.image_data = request.FILES["image"].read()
    upload.save()
    return HttpResponseRedirect(reverse("blurred", args=[upload.pk]))


def view_blurred_example(request):
    """The original application's view, unchanged."""
    blurred_image = BlurredImage.objects.get(pk=1)
    return HttpResponse(blurred_image.img_binary, content_type="image/jpeg")


def blurred(request, pk):
    """The blurred copy of one upload, with its own content type (JPEG or PNG)."""
    try:
        # A savepoint: if the image is bad, only this query fails, not the request's transaction.
        with transaction.atomic():
            blurred_image = BlurredImage.objects.get(pk=pk)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT (bytea_image_info(image_data)).mime_type FROM image_process_imagefile WHERE id = %s",
                    [pk],
                )
                (content_type,) = cursor.fetchone()
    except BlurredImage.DoesNotExist:
        raise Http404("no such image")
    except DataError as error:
        # bytea_blur raises SQLSTATE class 22 for data that is not a usable image
        return HttpResponse(f"not a usable image: {error}", status=422, content_type="text/plain")
    if blurred_image.img_binary is None:
        raise Http404("the upload has no image data")
    return HttpResponse(bytes(blurred_image.img_binary), content_type=content_type)
