"""The main pages of each role on the demo archive, as one list per role that the journeys
(test_browser_journeys.py) screenshot and the accessibility check (test_browser_accessibility.py) runs axe-core
on. To add a page to both, add one Stop to its role's list."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from browser_support import Server, serving
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from archive.bootstrap import Archive
from archive.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # `make assets` installs it from package.json
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
TOUR = ROOT / "docs" / "tour"  # ARCHIVE_TOUR=1 copies the README's pictures (TOUR_PICKS) there
LANGUAGES = ("zh_CN", "en")
LOAD_IMAGES = """async () => { const images = [...document.images];
    images.forEach(image => { image.loading = 'eager'; });  // lazy ones too, for whole-page screenshots
    await Promise.all(images.map(image => image.decode().catch(() => null))); }"""
DESKTOP, PHONE, NARROWEST = 1366, 390, 360


@dataclass(frozen=True)
class Stop:
    """A page on a role's tour: `path` may name the demo's ids ({document}, {customer}, {request}, ...);
    `act` runs after the page has loaded (it must be repeatable: it runs once per language and width);
    `axe_exclude` is a CSS selector of third-party content that the accessibility check leaves out."""

    name: str
    path: str
    act: Callable[[Page], None] | None = None
    axe_exclude: str | None = None


def _zoom_in(page: Page) -> None:
    page.wait_for_selector("#viewer[data-page]")
    page.keyboard.press("+")
    page.keyboard.press("+")


TOURS: dict[str, list[Stop]] = {
    "clerk": [
        Stop("home", "/"),
        Stop("capture", "/capture/"),
        Stop("rescan", "/rescan/"),
        Stop("customers", "/customers/"),
        Stop("customer", "/customers/{customer}"),
        Stop("register-customer", "/customers/new"),
        Stop("work-orders", "/work-orders/"),
        Stop("dossiers", "/dossiers/"),
        Stop("document", "/documents/{document}"),
    ],
    "staff": [
        Stop("home", "/"),
        Stop("search", "/search/"),
        Stop("results", "/search/?q=用电"),
        Stop("document", "/documents/{document}?q=用电"),
        Stop("document-zoomed", "/documents/{document}", _zoom_in),
        Stop("customers", "/customers/"),
        Stop("borrowing", "/borrow/"),
        Stop("borrow-new", "/borrow/new?code={code}"),
        Stop("borrow-request", "/borrow/{own_request}"),
        Stop("inbox", "/inbox/"),
        Stop("password", "/account/password"),
        Stop("second-factor", "/account/totp"),
        Stop("api-tokens", "/account/tokens"),
        Stop("api-docs", "/api/v1/docs", axe_exclude="#swagger-ui"),  # Swagger UI's own markup fails axe
    ],
    "approver": [
        Stop("home", "/"),
        Stop("approvals", "/borrow/approvals"),
        Stop("request", "/borrow/{request}"),
        Stop("reports", "/reports/"),
        Stop("report", "/reports/borrowing"),
    ],
    "auditor": [
        Stop("home", "/"),
        Stop("audit-log", "/compliance/"),
        Stop("audit-desk", "/audit-desk/"),
        Stop("audit-desk-query", "/audit-desk/?user=staff"),
        Stop("alerts", "/audit-desk/alerts"),
        Stop("statistics", "/audit-desk/statistics"),
        Stop("checks", "/compliance/checks"),
    ],
    "admin": [
        Stop("home", "/"),
        Stop("users", "/admin/users"),
        Stop("reference", "/admin/reference"),
    ],
    "secadmin": [
        Stop("home", "/"),
        Stop("approvals", "/admin/approvals"),
        Stop("classification", "/classification/"),
        Stop("chains", "/borrow/chains"),
        Stop("all-requests", "/borrow/all"),
        Stop("account-review", "/account-review/"),
    ],
    "records": [
        Stop("home", "/"),
        Stop("retention", "/retention/"),
        Stop("register", "/retention/register"),
        Stop("transfers", "/retention/transfers"),
        Stop("archive-room", "/borrow/room"),
    ],
}
ANONYMOUS = [Stop("login", "/login"), Stop("unlock", "/login/unlock")]
# (role, stop, language, width) of the pictures in the README's tour, each at most TOUR_HEIGHT px high.
TOUR_HEIGHT = 1600
TOUR_PICKS = [
    ("staff", "home", "zh_CN", DESKTOP), ("staff", "results", "zh_CN", DESKTOP), ("staff", "document", "zh_CN", DESKTOP),
    ("clerk", "capture", "zh_CN", DESKTOP), ("approver", "request", "en", DESKTOP),
    ("auditor", "audit-desk", "en", DESKTOP), ("admin", "users", "zh_CN", DESKTOP),
    ("staff", "document", "zh_CN", PHONE), ("staff", "results", "en", PHONE),
]


@dataclass
class DemoSite:
    """The demo archive (`archive demo`'s data) served for the browser: its logins and the ids tours name."""

    server: Server
    passwords: dict[str, str]
    ids: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def address(self, stop: Stop, lang: str | None = None) -> str:
        """The stop's full URL, in `lang` when given (the choice sticks in the session)."""
        parts = urlsplit(self.url + stop.path.format(**self.ids))
        query = parts.query + ("&" if parts.query and lang else "") + (urlencode({"lang": lang}) if lang else "")
        return urlunsplit(parts._replace(query=query))


@contextmanager
def demo_site(home: Path) -> Iterator[DemoSite]:
    """`archive demo`'s data in a fresh SQLite archive under home, served with OCR workers running."""
    from archive.demo.loading import load_demo

    archive = Archive(load_settings({"ARCHIVE_HOME": str(home)}))
    logins = load_demo(archive, echo=lambda _line: None)
    with serving(archive) as server:
        yield DemoSite(server, {username: password for username, password, _ in logins}, _demo_ids(archive))


def _demo_ids(archive: Archive) -> dict[str, object]:
    from archive.borrowing.models import BorrowRequest
    from archive.models import Department, Document
    from archive.services import users

    staff = users.resolve_actor(archive.uow(), username="staff", remote_addr="127.0.0.1")
    with archive.uow() as uow:
        readable = list(uow.session.scalars(
            select(Document).join(Department, Document.department_id == Department.id)
            .where(Department.code == "YX", Document.classification.in_(staff.visible_classifications))
            .order_by(Document.id)).unique())
        requests = list(uow.session.scalars(select(BorrowRequest).order_by(BorrowRequest.id)))
        return {
            "document": readable[0].id, "customer": readable[0].customer_id, "code": readable[-1].archive_code,
            "request": next(r.id for r in requests if r.status == "pending"),
            "own_request": next(r.id for r in requests if r.requester_id == staff.user_id),
        }


def open_as(browser: Browser, site: DemoSite, username: str | None, *, width: int = DESKTOP) -> Page:
    """A fresh Chinese-speaking context's page, logged in through the form as username (None: not logged in)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    if username:
        page.goto(f"{site.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", site.passwords[username])
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    return page


def visit(page: Page, site: DemoSite, stop: Stop, lang: str | None = None) -> None:
    """Open the stop (failing on an error status) and run its actions."""
    response = page.goto(site.address(stop, lang))
    assert response is not None and response.ok, f"{stop.name}: {response and response.status} at {page.url}"
    page.wait_for_load_state("load")
    page.evaluate(LOAD_IMAGES)
    if stop.act:
        stop.act(page)


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def serious_violations(page: Page, exclude: str | None = None) -> list[str]:
    """axe-core's violations of impact serious or critical on the page (but inside `exclude`), one line each."""
    assert AXE.exists(), f"{AXE} is missing: run `make assets`"
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the CSP allows no inline script
    found = page.evaluate("""async exclude => (await axe.run(exclude ? {exclude: [exclude]} : document,
        {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)""", exclude)
    return list(found)


def screenshot(page: Page, role: str, stop: Stop, lang: str, width: int) -> Path:
    """Save the whole page under tests/output/screenshots/<role>/; with ARCHIVE_TOUR set, copy the README's picks
    to docs/tour/."""
    path = SCREENSHOTS / role / f"{stop.name}-{lang}-{width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    if os.environ.get("ARCHIVE_TOUR") and (role, stop.name, lang, width) in TOUR_PICKS:
        height = min(page.evaluate("document.documentElement.scrollHeight"), TOUR_HEIGHT)
        picture = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
        _save_small(picture, TOUR / f"{role}-{stop.name}-{width}.png")
    return path


def _save_small(png: bytes, path: Path) -> None:
    """The window's picture as a small PNG for the README (64 colours are plenty for a quiet layout)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(png)) as image:
        image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def tour(page: Page, site: DemoSite, role: str, stops: list[Stop] | None = None) -> list[Path]:
    """Visit every stop of the role in both languages at the desktop and the phone width, check the page does not
    scroll sideways, and screenshot it. Returns the screenshots."""
    taken = []
    problems = []
    for lang in LANGUAGES:
        for width in (DESKTOP, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            for stop in stops if stops is not None else TOURS[role]:
                visit(page, site, stop, lang)
                if overflow(page) > 0:
                    problems.append(f"{stop.name} ({lang}, {width} px) is {overflow(page)} px too wide")
                taken.append(screenshot(page, role, stop, lang, width))
    assert not problems, problems
    return taken

