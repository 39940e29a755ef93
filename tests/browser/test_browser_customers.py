"""The registration form in a real browser: the key is checked as it is typed (check character, then
already registered) before the form is sent, and the form registers a new customer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from browser_support import Server
from playwright.sync_api import Page, expect

from archive.services import customers, users

pytestmark = pytest.mark.browser

USCC = "91350100M000100Y43"


def test_the_key_is_checked_live_and_a_registered_one_is_told_before_submit(
    page: Page, server: Server, login: Callable[..., None], customer_id: str
) -> None:
    clerk = users.resolve_actor(server.archive.uow(), username="clerk", remote_addr="127.0.0.1")
    known = customers.register_customer(server.archive.uow(), actor=clerk, id_type="resident_id",
                                        identifier=customer_id, name="张三")
    login(page, server, "clerk")
    page.goto(f"{server.url}/customers/new?lang=en")
    check = page.locator("#identifier-check")
    page.fill("#identifier", customer_id[:-1] + ("1" if customer_id[-1] != "1" else "2"))
    expect(check).to_contain_text("GB 11643")
    expect(check).to_have_class("small check-invalid")
    page.fill("#identifier", customer_id)
    expect(check).to_contain_text("Already registered.")
    expect(check.locator("a")).to_have_attribute("href", f"/customers/{known}")
    assert page.url.endswith("/customers/new?lang=en")  # nothing was submitted

    page.select_option("#id_type", "uscc")
    page.fill("#identifier", USCC)
    expect(check).to_contain_text("Valid, not yet registered.")
    page.fill("#name", "某某有限公司")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("某某有限公司")
    expect(page.locator("p.flash.ok")).to_contain_text("registered")
