"""The original image_process application, unchanged, on bytea_blur: uploads through the test
client, blurred copies through BlurredImage over the applyblur view, as a role that is not a
superuser. BB_DJANGO_FLOW says how the database was made: 'migrations' (Django's migrations,
then CreateExtension adopts the table) or 'extension-first' (CREATE EXTENSION, then
migrate --fake-initial). BB_DJANGO_CITUS=1: the database is a Citus coordinator's, and
migration 0006 distributed the table by id; the blur then runs on the workers, so the
one-row checks read the distributed plan instead of this backend's function counters."""
import io
import os
import re
import sys
from unittest import skipUnless
from pathlib import Path

import django
import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DataError, connection, transaction
from django.test import TestCase
from PIL import Image

from .models import BlurredImage, ImageFile, Region

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from generate import photo  # noqa: E402

FLOW = os.environ.get("BB_DJANGO_FLOW", "migrations")
CITUS = os.environ.get("BB_DJANGO_CITUS") == "1"


def encoded(arr, fmt, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **kw)
    return buf.getvalue()


def roughness(img):
    """Mean absolute horizontal gradient: lower is blurrier."""
    arr = np.asarray(img.convert("RGB"), np.float64)
    return np.mean(np.abs(np.diff(arr, axis=1)))


def blur_calls():
    """bytea_blur calls this backend made that are not yet reported (track_functions = all)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcname = 'bytea_blur'")
        return cursor.fetchone()[0]


class UploadAndBlur(TestCase):
    photo_jpeg = encoded(photo(320, 240, seed=1), "JPEG", quality=90)

    def upload(self, name, data, content_type):
        response = self.client.post("/upload/", {"image": SimpleUploadedFile(name, data, content_type=content_type)})
        self.assertEqual(response.status_code, 302, response.content)
        return int(response["Location"].rstrip("/").split("/")[-1])

    def test_jpeg_photo(self):
        pk = self.upload("photo.jpg", self.photo_jpeg, "image/jpeg")
        self.assertEqual(bytes(ImageFile.objects.get(pk=pk).image_data), self.photo_jpeg)
        response = self.client.get(f"/blurred/{pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        original = Image.open(io.BytesIO(self.photo_jpeg))
        blurred = Image.open(io.BytesIO(response.content))
        self.assertEqual((blurred.format, blurred.size, blurred.mode), ("JPEG", original.size, original.mode))
        self.assertLess(roughness(blurred), roughness(original) / 3)

    def assert_served_blurred_with_alpha(self, name, data, fmt, content_type):
        """Uploads data, then fetches its blurred copy: the same format, size and RGBA, and blurred."""
        pk = self.upload(name, data, content_type)
        response = self.client.get(f"/blurred/{pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], content_type)
        original = Image.open(io.BytesIO(data))
        blurred = Image.open(io.BytesIO(response.content))
        self.assertEqual((blurred.format, blurred.size, blurred.mode), (fmt, original.size, "RGBA"))
        self.assertLess(roughness(blurred), roughness(original) / 3)

    def test_png_with_alpha(self):
        rgba = np.dstack([photo(160, 120, seed=2), np.tile(np.linspace(0, 255, 160, dtype=np.uint8), (120, 1))])
        self.assert_served_blurred_with_alpha("logo.png", encoded(rgba, "PNG"), "PNG", "image/png")

    def test_webp_lossy_and_lossless_with_alpha(self):
        rgba = np.dstack([photo(160, 120, seed=3), np.tile(np.linspace(0, 255, 160, dtype=np.uint8), (120, 1))])
        for name, options in (("sticker.webp", {"quality": 90}), ("logo.webp", {"lossless": True})):
            with self.subTest(name=name):
                self.assert_served_blurred_with_alpha(name, encoded(rgba, "WEBP", **options), "WEBP", "image/webp")

    def test_served_in_another_format(self):
        # bytea_blur's format argument through a query expression (views.BlurAs): a JPEG upload
        # served as WebP and as PNG; a PNG with alpha cannot be a JPEG (0A000, a 415 here).
        pk = self.upload("photo.jpg", self.photo_jpeg, "image/jpeg")
        original = Image.open(io.BytesIO(self.photo_jpeg))
        for fmt, pillow in (("webp", "WEBP"), ("png", "PNG"), ("jpeg", "JPEG")):
            with self.subTest(fmt=fmt):
                response = self.client.get(f"/blurred/{pk}.{fmt}")
                self.assertEqual(response.status_code, 200, response.content[:200])
                self.assertEqual(response["Content-Type"], f"image/{fmt}")
                blurred = Image.open(io.BytesIO(response.content))
                self.assertEqual((blurred.format, blurred.size), (pillow, original.size))
                self.assertLess(roughness(blurred), roughness(original) / 3)
        rgba = np.dstack([photo(40, 30, seed=5), np.full((30, 40), 128, np.uint8)])
        logo = self.upload("logo.png", encoded(rgba, "PNG"), "image/png")
        self.assertEqual(self.client.get(f"/blurred/{logo}.jpeg").status_code, 415)
        self.assertEqual(self.client.get(f"/blurred/{logo}.webp").status_code, 200)
        self.assertEqual(self.client.get(f"/blurred/{logo}.gif").status_code, 404)

    def avif_facts(self, data):
        """What an AVIF holds (Pillow here reads none): bytea_image_info, and its pixels as PNG
        (bytea_blur's conversion at sigma 0)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT (bytea_image_info(%s)).*, bytea_blur(%s, 0, 75, 'png')", [data, data])
            *info, png = cursor.fetchone()
        pixels = Image.open(io.BytesIO(bytes(png)))
        if pixels.mode.startswith("I"):  # a 16-bit grey PNG (from 10 or 12 bits): to 8 bits
            pixels = Image.fromarray((np.asarray(pixels) / 257).round().astype(np.uint8))
        return tuple(info), pixels

    def test_avif_with_alpha_and_at_12_bits(self):
        # AVIF uploads (written by avifenc: 8-bit 4:2:2 with alpha, 12-bit monochrome) are served
        # blurred as image/avif, with their size, channels and depth kept.
        fixtures = Path(__file__).resolve().parents[2] / "fixtures"
        for name, channels, depth in (("rgba8_422.avif", 4, 8), ("gray12.avif", 1, 12)):
            with self.subTest(name=name):
                data = (fixtures / name).read_bytes()
                pk = self.upload(name, data, "image/avif")
                response = self.client.get(f"/blurred/{pk}/")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], "image/avif")
                info, blurred = self.avif_facts(response.content)
                self.assertEqual(info, ("avif", "image/avif", 67, 45, channels, depth))
                _, original = self.avif_facts(data)
                self.assertLess(roughness(blurred), roughness(original) / 3)

    def test_jpeg_served_as_avif(self):
        pk = self.upload("photo.jpg", self.photo_jpeg, "image/jpeg")
        response = self.client.get(f"/blurred/{pk}.avif")
        self.assertEqual(response.status_code, 200, response.content[:200])
        self.assertEqual(response["Content-Type"], "image/avif")
        info, blurred = self.avif_facts(response.content)
        self.assertEqual(info, ("avif", "image/avif", 320, 240, 3, 8))
        self.assertLess(roughness(blurred), roughness(Image.open(io.BytesIO(self.photo_jpeg))) / 3)
        self.assertLess(len(response.content), len(self.client.get(f"/blurred/{pk}.jpeg").content))

    def test_original_view_serves_pk_1(self):
        ImageFile.objects.create(id=1, image="first.jpg", image_data=self.photo_jpeg)
        response = self.client.get("/blurred/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(Image.open(io.BytesIO(response.content)).size, (320, 240))

    def test_bad_upload_is_stored_and_refused_with_4xx(self):
        text = b"these are my notes, not a picture\n" * 20
        bad = self.upload("notes.jpg", text, "image/jpeg")
        self.assertEqual(bytes(ImageFile.objects.get(pk=bad).image_data), text)
        response = self.client.get(f"/blurred/{bad}/")
        self.assertEqual(response.status_code, 422)
        with self.assertRaises(DataError):
            with transaction.atomic():
                BlurredImage.objects.get(pk=bad)
        # the connection is still usable for the next request
        good = self.upload("photo.jpg", self.photo_jpeg, "image/jpeg")
        self.assertEqual(self.client.get(f"/blurred/{good}/").status_code, 200)

    def test_missing_image_is_404(self):
        self.assertEqual(self.client.get("/blurred/999999/").status_code, 404)


class Redaction(TestCase):
    """Regions of an upload (model Region, in displayed pixels) served blurred by the redacted
    view through bytea_blur_regions (views.Redact), every other pixel as it was."""

    photo_jpeg = encoded(photo(320, 240, seed=4), "JPEG", quality=90)

    def test_regions_are_blurred_and_nothing_else(self):
        image = ImageFile.objects.create(image="people.jpg", image_data=self.photo_jpeg)
        Region.objects.create(image=image, x=40, y=30, width=80, height=60)  # a face
        Region.objects.create(image=image, x=200, y=180, width=64, height=24)  # a plate
        response = self.client.get(f"/redacted/{image.pk}/")
        self.assertEqual(response.status_code, 200, response.content[:200])
        self.assertEqual(response["Content-Type"], "image/jpeg")
        before = np.asarray(Image.open(io.BytesIO(self.photo_jpeg))).astype(int)
        after = np.asarray(Image.open(io.BytesIO(response.content))).astype(int)
        # outside the regions grown to the 16-pixel MCU grid (4:2:0) and one pixel: unchanged
        may_change = np.zeros(before.shape[:2], bool)
        may_change[31 - 16:96 + 1, 32 - 1:128 + 1] = True
        may_change[176 - 1:208 + 1, 192 - 1:272 + 1] = True
        self.assertTrue(np.array_equal(before[~may_change], after[~may_change]))
        for y0, y1, x0, x1 in ((30, 90, 40, 120), (180, 204, 200, 264)):
            self.assertLess(roughness(Image.fromarray(after[y0:y1, x0:x1].astype(np.uint8))),
                            roughness(Image.fromarray(before[y0:y1, x0:x1].astype(np.uint8))) / 3)

    def test_no_region_serves_the_pixels_as_they_were(self):
        image = ImageFile.objects.create(image="landscape.jpg", image_data=self.photo_jpeg)
        response = self.client.get(f"/redacted/{image.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(np.array_equal(np.asarray(Image.open(io.BytesIO(self.photo_jpeg))),
                                       np.asarray(Image.open(io.BytesIO(response.content)))))

    def test_png_outside_identical_bad_and_missing(self):
        rgba = np.dstack([photo(120, 90, seed=6), np.full((90, 120), 200, np.uint8)])
        png = encoded(rgba, "PNG")
        image = ImageFile.objects.create(image="logo.png", image_data=png)
        Region.objects.create(image=image, x=10.5, y=20, width=30, height=25)
        response = self.client.get(f"/redacted/{image.pk}/")
        self.assertEqual(response["Content-Type"], "image/png")
        after = np.asarray(Image.open(io.BytesIO(response.content)))
        outside = np.ones((90, 120), bool)
        outside[20:45, 10:40] = False  # the pixels whose centres lie in the region
        self.assertTrue(np.array_equal(rgba[outside], after[outside]))
        self.assertFalse(np.array_equal(rgba[~outside], after[~outside]))
        bad = ImageFile.objects.create(image="notes.png", image_data=b"not a picture" * 10)
        self.assertEqual(self.client.get(f"/redacted/{bad.pk}/").status_code, 422)
        self.assertEqual(self.client.get("/redacted/999999/").status_code, 404)


def distributed_plan(queryset):
    """(task count, worker nodes, bytea_blur calls in the workers' output) of a queryset's
    Citus plan."""
    with connection.cursor() as cursor:
        cursor.execute("SET citus.explain_all_tasks = on")
    plan = queryset.explain(verbose=True)
    tasks = int(re.search(r"Task Count: (\d+)", plan).group(1))
    nodes = set(re.findall(r"Node: host=\S+ port=(\d+)", plan))
    calls = sum(line.count("bytea_blur(") for line in plan.splitlines() if "Output:" in line and "remote_scan" not in line)
    return tasks, nodes, calls


class OneRowOnly(TestCase):
    """Off Citus: this backend's own function counters show how many rows were blurred. (On
    Citus the blur runs on the workers; DistributedOneRowOnly reads the plan instead. Each class
    exists only where it applies, so neither shows up as skipped.)"""

    @classmethod
    def setUpTestData(cls):
        small = encoded(photo(64, 48, seed=3), "JPEG", quality=80)
        cls.ids = [ImageFile.objects.create(image=f"img{i}.jpg", image_data=small).pk for i in range(40)]

    def setUp(self):
        with connection.cursor() as cursor:
            cursor.execute("SHOW track_functions")
            self.assertEqual(cursor.fetchone()[0], "all", "the test role needs track_functions = all")

    def test_get_by_pk_blurs_exactly_one_row(self):
        before = blur_calls()
        image = BlurredImage.objects.get(pk=self.ids[17])
        self.assertEqual(blur_calls() - before, 1)
        self.assertEqual(Image.open(io.BytesIO(bytes(image.img_binary))).size, (64, 48))

    def test_only_and_defer_do_not_blur(self):
        before = blur_calls()
        self.assertEqual(len(BlurredImage.objects.filter(pk__in=self.ids).only("img_id")), 40)
        self.assertEqual(len(BlurredImage.objects.filter(pk__in=self.ids).defer("img_binary")), 40)
        self.assertEqual(BlurredImage.objects.count(), 40)
        self.assertEqual(blur_calls() - before, 0)
        deferred = BlurredImage.objects.defer("img_binary").get(pk=self.ids[3])
        self.assertEqual(len(bytes(deferred.img_binary)) > 0, True)  # loaded on access: one row
        self.assertEqual(blur_calls() - before, 1)

    def test_filter_blurs_only_the_rows_it_returns(self):
        before = blur_calls()
        rows = list(BlurredImage.objects.filter(pk__in=self.ids[:5]))
        self.assertEqual(len(rows), 5)
        self.assertEqual(blur_calls() - before, 5)


class DistributedOneRowOnly(TestCase):
    """BlurredImage.objects.get(pk=N) is routed to the one worker that holds the row, and blurs
    there; only() and defer() blur nowhere; a scan runs on every worker."""

    @classmethod
    def setUpTestData(cls):
        small = encoded(photo(64, 48, seed=3), "JPEG", quality=80)
        cls.ids = [ImageFile.objects.create(image=f"img{i}.jpg", image_data=small).pk for i in range(40)]

    def test_get_by_pk_is_routed_to_one_worker_and_blurs_there(self):
        tasks, nodes, calls = distributed_plan(BlurredImage.objects.filter(pk=self.ids[17]))
        self.assertEqual((tasks, len(nodes), calls), (1, 1, 1))
        image = BlurredImage.objects.get(pk=self.ids[17])
        self.assertEqual(Image.open(io.BytesIO(bytes(image.img_binary))).size, (64, 48))

    def test_only_and_defer_do_not_blur(self):
        self.assertEqual(distributed_plan(BlurredImage.objects.filter(pk__in=self.ids).only("img_id"))[2], 0)
        self.assertEqual(distributed_plan(BlurredImage.objects.filter(pk__in=self.ids).defer("img_binary"))[2], 0)
        self.assertEqual(len(BlurredImage.objects.filter(pk__in=self.ids).only("img_id")), 40)

    def test_scan_runs_on_every_worker(self):
        tasks, nodes, calls = distributed_plan(BlurredImage.objects.all())
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM citus_get_active_worker_nodes()")
            workers = cursor.fetchone()[0]
        self.assertGreater(tasks, 1)
        self.assertEqual(len(nodes), workers)
        self.assertGreater(calls, 0)  # the blur is in the workers' scans, not on the coordinator
        self.assertEqual(sum(1 for image in BlurredImage.objects.filter(pk__in=self.ids) if image.img_binary), 40)


if CITUS:
    del OneRowOnly
else:
    del DistributedOneRowOnly


class Versions(TestCase):
    @skipUnless(os.environ.get("BB_DJANGO_EXPECT"), "BB_DJANGO_EXPECT names the Django version under test")
    def test_runs_on_the_django_version_under_test(self):
        self.assertEqual("%d.%d" % django.VERSION[:2], os.environ["BB_DJANGO_EXPECT"])

    @skipUnless(os.environ.get("BB_DJANGO_DRIVER"), "BB_DJANGO_DRIVER names the driver under test")
    def test_runs_on_the_driver_under_test(self):
        self.assertEqual(connection.Database.__name__, os.environ["BB_DJANGO_DRIVER"])

    def test_models_match_the_migrations(self):
        # the original app's migrations, unchanged, are all this Django version wants
        out = io.StringIO()
        call_command("makemigrations", "image_process", "--check", "--dry-run", stdout=out)
        self.assertIn("No changes detected", out.getvalue())


class Database(TestCase):
    def test_role_is_not_a_superuser(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user")
            self.assertEqual(cursor.fetchone(), (False, True))

    def test_table_ownership_follows_the_flow(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_depend WHERE objid = 'image_process_imagefile'::regclass"
                           " AND deptype = 'e'")
            membership = cursor.fetchone()[0]
        # Django's migrations made the table: adopted. The extension made it: a member, except
        # under Citus, where it never is (bytea_blur 1.2).
        self.assertEqual(membership, 1 if FLOW == "extension-first" and not CITUS else 0)

    def test_table_is_distributed_by_id_on_citus_only(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")
            self.assertEqual(cursor.fetchone()[0], 1 if CITUS else 0)
            if CITUS:
                cursor.execute("SELECT distribution_column FROM citus_tables"
                               " WHERE table_name = 'image_process_imagefile'::regclass")
                self.assertEqual(cursor.fetchall(), [("id",)])
