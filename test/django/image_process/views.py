from django.db import DataError, NotSupportedError, connection, transaction
from django.db.models import BinaryField, F, Func, Value
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from .forms import ImageFileForm
from .models import BlurredImage, ImageFile, Region

# the formats blurred_as serves, and their content types (the URL admits only these)
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}


class BlurAs(Func):
    """bytea_blur(data, sigma, quality, format) as a query expression (bytea_blur 1.3)."""

    function = "bytea_blur"
    output_field = BinaryField()

    def __init__(self, data, fmt, sigma=5.0, quality=75):
        super().__init__(data, Value(float(sigma)), Value(int(quality)), Value(fmt))


class Redact(Func):
    """bytea_blur_regions(data, boxes, sigma) as a query expression (bytea_blur 1.5): boxes is a
    list of PostgreSQL box literals, "((x1,y1),(x2,y2))", in pixels of the image as displayed."""

    function = "bytea_blur_regions"
    output_field = BinaryField()

    def __init__(self, data, boxes, sigma=5.0):
        array = "{" + ";".join(boxes) + "}"  # box[] literals separate elements by ';', box's delimiter
        super().__init__(data, RawSQL("%s::box[]", (array,)), Value(float(sigma)))


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


def blurred_as(request, pk, fmt):
    """The blurred copy of one upload in the format the URL names (a JPEG upload served as
    WebP, say), blurred in the database by one query."""
    try:
        with transaction.atomic():
            data = ImageFile.objects.filter(pk=pk).annotate(blurred=BlurAs(F("image_data"), fmt)).values_list(
                "blurred", flat=True).get()
    except ImageFile.DoesNotExist:
        raise Http404("no such image")
    except DataError as error:
        return HttpResponse(f"not a usable image: {error}", status=422, content_type="text/plain")
    except NotSupportedError as error:
        # 0A000: a conversion the format cannot hold (alpha to JPEG, CMYK to another format)
        return HttpResponse(f"not available as {fmt}: {error}", status=415, content_type="text/plain")
    if data is None:
        raise Http404("the upload has no image data")
    return HttpResponse(bytes(data), content_type=CONTENT_TYPES[fmt])


def redacted(request, pk):
    """One upload with its regions blurred (model Region) and every other pixel as it was: the
    regions are read first, then the image is redacted in the database by one query."""
    boxes = [region.as_box() for region in Region.objects.filter(image_id=pk).order_by("id")]
    try:
        with transaction.atomic():
            data, content_type = (
                ImageFile.objects.filter(pk=pk)
                .annotate(redacted=Redact(F("image_data"), boxes, sigma=8.0))
                .annotate(content_type=RawSQL("(bytea_image_info(image_data)).mime_type", ()))
                .values_list("redacted", "content_type")
                .get()
            )
    except ImageFile.DoesNotExist:
        raise Http404("no such image")
    except DataError as error:
        return HttpResponse(f"not a usable image: {error}", status=422, content_type="text/plain")
    if data is None:
        raise Http404("the upload has no image data")
    return HttpResponse(bytes(data), content_type=content_type)
