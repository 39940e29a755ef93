"""The load test's users (run by benchmarks/load/run.py, which seeds the archive and writes the plan).

Each simulated user signs in once with its own account, then mixes search (70 %), document view and
page image (25 %) and upload (5 %), one to two seconds apart. The plan (accounts, document ids, words,
customer) comes from the JSON file named by LOAD_TEST_PLAN.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re

from locust import HttpUser, between, task
from PIL import Image, ImageDraw

PLAN = json.loads(open(os.environ["LOAD_TEST_PLAN"], encoding="utf-8").read())  # noqa: SIM115
ACCOUNTS = itertools.count()
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _token(html: str) -> str:
    match = CSRF.search(html) or META_CSRF.search(html)
    if match is None:
        raise RuntimeError("no CSRF token on the page")
    return next(group for group in match.groups() if group)


def _scan(serial: str) -> bytes:
    """A small page scan that no other upload repeats (capture refuses a duplicate per customer)."""
    image = Image.new("L", (827, 1169), 255)  # A4 at 100 dpi
    draw = ImageDraw.Draw(image)
    draw.text((60, 60), f"LOAD TEST {serial}", fill=0)
    for row in range(8):
        draw.line((60, 140 + row * 40, 760, 140 + row * 40), fill=0, width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(100, 100))
    return buffer.getvalue()


class ArchiveUser(HttpUser):
    wait_time = between(1.0, 2.0)

    def on_start(self) -> None:
        number = next(ACCOUNTS) % len(PLAN["accounts"])
        self.username, password = PLAN["accounts"][number]
        self.rng = random.Random(f"{os.getpid()}:{number}")
        self.uploads = 0
        page = self.client.get("/login", name="login page")
        response = self.client.post("/login", name="login", allow_redirects=False, data={
            "csrf_token": _token(page.text), "username": self.username, "password": password})
        if response.status_code != 302:
            raise RuntimeError(f"login of {self.username} failed: {response.status_code}")
        self.csrf = _token(self.client.get("/capture/", name="capture page").text)

    @task(70)
    def search(self) -> None:
        word = self.rng.choice(PLAN["words"])
        self.client.get("/api/v1/search", params={"q": word}, name="search")

    @task(13)
    def view_document(self) -> None:
        document_id = self.rng.choice(PLAN["documents"])
        self.client.get(f"/api/v1/documents/{document_id}", name="document view")

    @task(12)
    def page_image(self) -> None:
        document_id = self.rng.choice(PLAN["documents"])
        self.client.get(f"/documents/{document_id}/pages/1.png", name="page image")

    @task(5)
    def upload(self) -> None:
        self.uploads += 1
        serial = f"{self.username}-{os.getpid()}-{self.uploads}-{self.rng.random()}"
        self.client.post(
            "/api/v1/documents", name="upload", headers={"X-CSRFToken": self.csrf},
            data={"customer": PLAN["customer"], "customer_name": PLAN["customer_name"],
                  "document_type": "application_form"},
            files={"files": (f"scan-{self.uploads}.png", _scan(serial), "image/png")},
        )
