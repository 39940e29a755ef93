"""Accessibility in a real browser: axe-core finds no serious or critical violation on any role's main pages
(tests/browser/tour.py) in either language, at the desktop and at the narrowest phone width (360 px), where no
page scrolls sideways; the keyboard reaches every control with a visible focus ring."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tour import (
    ANONYMOUS,
    DESKTOP,
    LANGUAGES,
    NARROWEST,
    PHONE,
    TOURS,
    DemoSite,
    open_as,
    overflow,
    serious_violations,
    visit,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", [None, *TOURS])
def test_every_main_page_of_the_role_passes_axe_and_fits_a_360_px_screen_in_both_languages(
    browser: Browser, demo: DemoSite, role: str | None
) -> None:
    page = open_as(browser, demo, role)
    problems: list[str] = []
    for lang in LANGUAGES:
        for width in (DESKTOP, NARROWEST):
            page.set_viewport_size({"width": width, "height": 800})
            for stop in TOURS[role] if role else ANONYMOUS:
                visit(page, demo, stop, lang)
                where = f"{stop.name} ({lang}, {width} px)"
                problems += [f"{where}: {violation}" for violation in serious_violations(page, stop.axe_exclude)]
                if width == NARROWEST and (extra := overflow(page)) > 0:
                    problems.append(f"{where}: {extra} px wider than the screen")
    page.context.close()
    assert not problems, "\n".join(problems)


def test_axe_reports_a_serious_violation_when_there_is_one(browser: Browser, demo: DemoSite) -> None:
    """The check above can fail: an unlabelled field and a low-contrast text are caught."""
    page = open_as(browser, demo, None)
    visit(page, demo, ANONYMOUS[0])
    page.evaluate("""() => { const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<input type=text><p id=faint>faint</p>');
        document.getElementById('faint').style.color = '#ccc'; }""")  # the CSP refuses inline style attributes
    found = " ".join(serious_violations(page))
    page.context.close()
    assert "label (critical)" in found and "color-contrast (serious)" in found


CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex='0']"
# Number every visible control (not inside a closed <details>; a radio group is one stop: arrows move inside it); describe each.
NUMBER_CONTROLS = """selector => [...document.querySelectorAll(selector)]
    .filter(e => e.checkVisibility({visibilityProperty: true}) && !e.disabled && e.tabIndex >= 0)
    .filter(e => !(e.type === 'radio' && !e.checked && e.form.querySelector(`[name="${e.name}"]:checked`)))
    .map((e, i) => { e.dataset.probe = i; return e.outerHTML.slice(0, 80); })"""
# The focused control's number (-1 for another element, null for none) and whether a focus ring shows.
FOCUSED = """() => { const e = document.activeElement;
    if (!e || e === document.body) { return [null, false]; }
    const style = getComputedStyle(e);
    return [e.dataset.probe === undefined ? -1 : Number(e.dataset.probe),
            style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2]; }"""


@pytest.mark.parametrize("role", list(TOURS))
def test_the_keyboard_reaches_every_control_of_the_main_pages_and_shows_where_it_is(
    browser: Browser, demo: DemoSite, role: str
) -> None:
    page = open_as(browser, demo, role)
    problems: list[str] = []
    for stop in TOURS[role]:
        visit(page, demo, stop)
        controls = page.evaluate(NUMBER_CONTROLS, CONTROLS)
        autofocus = page.evaluate(FOCUSED)[0]
        reached: list[int] = [] if autofocus is None else [autofocus]
        for _ in range(3 * len(controls) + 5):  # a date field takes a Tab per part
            page.keyboard.press("Tab")
            number, ring = page.evaluate(FOCUSED)
            if number is None or (reached and number == reached[-1]):
                continue  # past the end (the next Tab starts again at the top), or inside a date field
            if number in reached and number != -1:
                break  # round the page
            reached.append(number)
            if not ring:
                problems.append(f"{stop.name}: no visible focus on {controls[number] if number >= 0 else number}")
        if autofocus is None and page.locator("header.topbar").count():  # the pages of base.html
            assert controls[reached[0]].startswith('<a class="skip-link"'), controls[reached[0]]
        problems += [f"{stop.name}: the keyboard never reaches {control}"
                     for number, control in enumerate(controls) if number not in reached]
    page.context.close()
    assert not problems, "\n".join(problems)


def test_on_a_phone_the_menu_folds_behind_a_button_that_the_keyboard_opens(browser: Browser, demo: DemoSite) -> None:
    page = open_as(browser, demo, "staff", width=PHONE)
    visit(page, demo, TOURS["staff"][0])
    toggle, nav = page.locator("header .menu-toggle"), page.locator("header nav")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.locator("a", has_text="借阅")).to_be_visible()
    expect(page.locator("header .session button", has_text="退出")).to_be_visible()
    assert overflow(page) == 0
    page.set_viewport_size({"width": DESKTOP, "height": 800})  # wide enough: no button, the menu in the bar
    expect(toggle).to_be_hidden()
    expect(nav).to_be_visible()
    page.context.close()
