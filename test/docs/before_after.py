#!/usr/bin/python3
"""Writes test/docs/before-after.png for the README: the bundled sample beside its blurred copy.
Run test/run-demo first (it writes out/sample-blurred.jpg), then this script."""
from pathlib import Path

from PIL import Image

root = Path(__file__).resolve().parents[2]
before = Image.open(root / "test/fixtures/sample.jpg")
after = Image.open(root / "out/sample-blurred.jpg")
w, h = before.width // 3, before.height // 3
canvas = Image.new("RGB", (2 * w + 8, h), "white")
canvas.paste(before.resize((w, h), Image.LANCZOS), (0, 0))
canvas.paste(after.resize((w, h), Image.LANCZOS), (w + 8, 0))
canvas.save(root / "test/docs/before-after.png", optimize=True)
