"""The issued 督查通报 on a phone (390 px) in Debian's chromium: nothing wider than the screen,
and the print layout is A4."""

import datetime as dt
import os
import re
import shutil

import pytest

from tasks_app.bulletins import services
from tests.conftest import CHROMIUM
from tests.stats.stats_builders import counted_plan

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_bulletin_print_page_fits_a_390px_phone(
    browser,
    live_server,
    settings,
    economic_bureau,
    tech_bureau,
    clerk,
    tech_clerk,
    supervisor,
):
    settings.GAOXIN_TODAY = dt.date(2020, 7, 3)
    plan, _tasks = counted_plan(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor)
    draft = services.bulletin_draft(
        actor=supervisor,
        plan=plan,
        as_of=dt.date(2020, 6, 30),
        opinion="各牵头单位要对照年度目标和季度节点逐项查漏补缺," * 4,
    )
    bulletin = services.bulletin_issue(actor=supervisor, bulletin=draft, expected_version=1)

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "dcs")
    page.fill("input[name=password]", "pw-dcs-123456")
    page.click("button[type=submit]")
    for path in (f"/bulletins/{bulletin.pk}/print/", f"/bulletins/{bulletin.pk}/"):
        page.goto(live_server.url + path)
        sync_api.expect(page.locator(".masthead")).to_contain_text("高新督〔2020〕1号")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (path, widths)

    page.goto(f"{live_server.url}/bulletins/{bulletin.pk}/print/")
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups()
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
