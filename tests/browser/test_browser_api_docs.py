"""The API docs page renders the OpenAPI description with Swagger UI under the app's CSP (script-src
'self', no inline script), and the tokens page shows a new token's secret once."""

from __future__ import annotations

from collections.abc import Callable

from browser_support import Server
from playwright.sync_api import Page, expect


def test_swagger_ui_renders_every_operation_with_no_csp_violation(page: Page, server: Server) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{server.url}/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("customer-file archive API")
    expect(page.locator(".opblock-summary-path", has_text="/borrow-requests/{request_id}/decision")).to_be_visible()
    assert page.locator(".opblock").count() >= 18
    page.locator("button.authorize").click()
    expect(page.locator(".auth-container", has_text="bearerAuth")).to_be_visible()
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []


def test_a_user_makes_a_token_on_the_page_and_sees_its_secret_once(page: Page, server: Server,
                                                                   login: Callable[..., None]) -> None:
    login(page, server, "clerk")
    page.click("header .session a[href='/account/tokens']")
    page.fill("input[name=name]", "每晚导出")
    page.select_option("select[name=scope]", "read")
    page.click("main section button[type=submit]")

    secret = page.locator("#new-token-secret").inner_text()
    assert secret.startswith("arch_pat_")
    page.reload()
    expect(page.locator("#tokens")).to_contain_text("每晚导出")
    assert secret not in page.content()
