"""The whole journey in a real browser (Debian's Chromium, driven by Playwright) against the real app.

Ask for a page logged out and land on it after logging in, load the sample and upload a file with
one bad row, see the indicator panes, fit the price axis with the range buttons and a zoom, open a range
before 2016 by URL, keep the view over a refresh, train a tiny model to the end, predict five days
into the ledger (New Year's Day skipped), read the baseline comparison, switch to the dark theme
and find it on the chart, log out, and find nothing private behind the back button. Once on the
embedded default (SQLite, a training thread) and once as a team deployment (PostgreSQL, Redis and a separate RQ worker).
Screenshots of each page go to SCREENSHOT_DIR when it is set (`make screenshots`).
"""

import os
import secrets
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from limits.storage import RedisStorage

from common.config import Settings
from core.data.sample import SAMPLE_PATH
from core.throttle import KEY_PREFIX, REGISTRATIONS_PER_ADDRESS, Throttle
from tests.e2e.app_server import CHROMIUM, PHONE, running_app
from tests.fixtures import gspc_2018_bytes
from tests.servers import fresh_postgres_database, redis_problem, redis_server_url, unavailable

TRAINING_SECONDS = 240
PASSWORD = "a long journey password"


@pytest.fixture(params=["embedded", pytest.param("team", marks=[pytest.mark.postgres, pytest.mark.redis])])
def app_url(request, tmp_path):
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser journey")
    env = {
        "APP_ENV": "development",
        "COOKIE_KEY": secrets.token_urlsafe(48),
        "LOG_DIR": str(tmp_path / "logs"),
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'journey.db'}",
    }
    if request.param == "embedded":
        with running_app(env, tmp_path, with_worker=False) as url:
            yield url
        return
    problem = redis_problem()
    if problem:
        unavailable(problem)
    forget_registrations_from_this_machine()
    with fresh_postgres_database() as database:
        env |= {
            "DATABASE_URL": database.render_as_string(hide_password=False),
            "REDIS_URL": redis_server_url(),
            "TRAINING_QUEUE": f"candlecast-e2e-{uuid.uuid4().hex[:8]}",
        }
        with running_app(env, tmp_path, with_worker=True) as url:
            yield url


def forget_registrations_from_this_machine() -> None:
    """The journey registers from the loopback address, and Redis keeps the hourly registration count
    between runs: without this the eleventh `make test` within an hour would be refused an account."""
    throttle = Throttle(RedisStorage(redis_server_url(), key_prefix=KEY_PREFIX))
    for address in ("127.0.0.1", "::ffff:127.0.0.1", "::1"):
        throttle.clear(REGISTRATIONS_PER_ADDRESS, "register-address", address)


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1500)  # let charts finish drawing
        # Streamlit scrolls inside its main block, so the window grows to the page's height for the picture.
        viewport = page.viewport_size
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight || 0")
        page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], min(height, 4000))})
        page.wait_for_timeout(1000)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True, timeout=120_000)
        page.set_viewport_size(viewport)


def open_page(page, url: str) -> None:
    """Go to a page and let its first runs settle, as a person reads a page before clicking."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)


def visible_text(page, text: str):
    return page.get_by_text(text, exact=False).first


def wait_for_session_cookie(page) -> None:
    """A component writes the session cookie a run or two after the login; a URL opened before that
    starts logged out. CI once found no cookie 2 s after a login, so the journey waits for the cookie."""
    name = Settings.model_fields["cookie_name"].default
    started = time.monotonic()
    while time.monotonic() - started < 60:
        if any(cookie["name"] == name for cookie in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the browser had no {name} cookie 60 s after the login")


def price_chart(page):
    """The price chart's plot, inside the component's own frame."""
    return page.frame_locator('iframe[src*="price_chart"]').first.locator(".js-plotly-plot").first


READ_LAYOUT = (
    "(gd, names) => Object.fromEntries(names.map(n => [n, n.split('.').reduce((o, k) => o && o[k], gd._fullLayout)]))"
)


def chart_layout(page, *names: str) -> dict:
    """Attributes of the price chart's layout as Plotly drew it (after any button or relayout)."""
    chart = price_chart(page)
    chart.wait_for()
    page.wait_for_timeout(800)
    return chart.evaluate(READ_LAYOUT, list(names))


def drawn_days(page) -> tuple[str, str]:
    """The first and last day of the candles Plotly has drawn (not only those in view)."""
    chart = price_chart(page)
    chart.wait_for()
    page.wait_for_timeout(800)
    return tuple(chart.evaluate("(gd) => [gd.data[0].x[0], gd.data[0].x[gd.data[0].x.length - 1]]"))


def plotly_downloads(page) -> list[int]:
    """The bytes the chart's frame fetched for each plotly.js it loaded (0: from the browser's cache)."""
    price_chart(page).wait_for()
    frame = page.frame_locator('iframe[src*="price_chart"]').first.locator("body")
    return frame.evaluate(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('plotly')).map(e => e.transferSize)"
    )


def choose_range(page, label: str) -> None:
    """Click the page's Show control, the one range control, and let the chart open on it."""
    page.get_by_test_id("stButtonGroup").get_by_text(label, exact=True).click()
    page.wait_for_url(f"**range={label}**")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)


def opens_on(range_start: str, day: str) -> bool:
    """The chart's dates open on the day's candle: the axis leaves room for half a candle before it, taken
    from the trading day before, across a weekend or holiday."""
    start = pd.Timestamp(range_start)
    return pd.Timestamp(day) - pd.Timedelta(days=4) <= start <= pd.Timestamp(day)


def zoom_dates(page, start: str, end: str) -> dict:
    """Set the dates as a mouse zoom does (one relayout of the x-axis), then read the y-ranges back."""
    chart = price_chart(page)
    refits = int(chart.get_attribute("data-refits") or 0)
    chart.evaluate("(gd, range) => Plotly.relayout(gd, {'xaxis.range': range})", [start, end])
    page.wait_for_function(
        "(n) => Number(document.querySelector('iframe[src*=price_chart]').contentDocument"
        ".querySelector('.js-plotly-plot').dataset.refits || 0) > n",
        arg=refits,
    )
    return chart_layout(page, "xaxis.range", "yaxis.range", "yaxis2.range")


def assert_fitted(layout: dict, everything_span: float) -> None:
    """The price axis holds every candle of the dates shown and little more; volume starts at zero."""
    sample = pd.read_csv(SAMPLE_PATH, parse_dates=["Date"])
    start, end = (pd.Timestamp(day) for day in layout["xaxis.range"])
    shown = sample[(sample["Date"] >= start) & (sample["Date"] <= end)]
    low, high = layout["yaxis.range"]
    assert low < shown["Low"].min() < shown["High"].max() < high, (layout, shown["Low"].min(), shown["High"].max())
    assert high - low < 3 * (shown["High"].max() - shown["Low"].min()) < everything_span / 5, layout
    volume_low, volume_high = layout["yaxis2.range"]
    assert volume_low == 0, layout
    assert shown["Volume"].max() < volume_high < shown["Volume"].max() * 1.2, layout


def indicators_checks(page, app_url: str) -> None:
    """The Show control fits the price axis; a range before 2016 opens; a refresh keeps the view."""
    open_page(page, f"{app_url}/indicators?ticker=%5EGSPC&range=1Y")
    chart = price_chart(page)
    chart.get_by_text("RSI", exact=True).first.wait_for()
    chart.get_by_text("MACD", exact=True).first.wait_for()
    # Only the year in view and the one before are drawn at first: 20 years took seconds.
    first, last = drawn_days(page)
    assert "2016-12-01" < first < "2017-01-10", first
    # The axis labels fit the margin given: a margin Plotly has to widen costs a second whole draw.
    margins = chart_layout(page, "margin.r", "_size.r")
    assert margins["_size.r"] == margins["margin.r"], margins
    assert last.startswith("2018-12-31"), last
    choose_range(page, "1M")
    month = chart_layout(page, "xaxis.range", "yaxis.range", "yaxis2.range")
    assert opens_on(month["xaxis.range"][0], "2018-11-30"), month
    low, high = month["yaxis.range"]
    assert 2300 < low < 2351, f"December 2018 traded down to 2,351, the axis starts at {low}"
    assert 2800 < high < 2900, f"December 2018 traded up to 2,800, the axis ends at {high}"
    choose_range(page, "All")
    everything = chart_layout(page, "yaxis.range", "yaxis2.range")
    assert drawn_days(page)[0].startswith("1999-01-04"), "leaving the drawn days draws every day"
    assert everything["yaxis.range"][0] < 700 < 2900 < everything["yaxis.range"][1], everything

    # A zoom to a window no button offers re-fits the price and volume axes to its days.
    everything_span = everything["yaxis.range"][1] - everything["yaxis.range"][0]
    july = zoom_dates(page, "2005-07-01", "2005-07-29")
    assert_fitted(july, everything_span)
    # A pan by mouse moves the dates, and the axes follow them.
    box = price_chart(page).locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    page.wait_for_timeout(1500)
    panned = chart_layout(page, "xaxis.range", "yaxis.range", "yaxis2.range")
    assert panned["xaxis.range"][0] < july["xaxis.range"][0], "dragging to the right shows earlier days"
    assert_fitted(panned, everything_span)

    # The date picker takes any day the data has, not only the last ten years.
    open_page(page, f"{app_url}/indicators?ticker=%5EGSPC&from=2008-01-02&to=2009-12-31&panes=RSI")
    # The chart's plotly.js (4.8 MB) comes from the browser's cache on every chart after the first.
    assert plotly_downloads(page) == [0], "plotly.js was fetched again"
    start_year = page.get_by_role("spinbutton", name="year, Date range start date")
    assert start_year.get_attribute("aria-valuenow") == "2008"
    assert opens_on(chart_layout(page, "xaxis.range")["xaxis.range"][0], "2008-01-02")

    # A choice made on the page goes into the URL, and a refresh reopens the same view.
    open_page(page, f"{app_url}/indicators?ticker=%5EGSPC")
    page.get_by_test_id("stButtonGroup").get_by_text("6M", exact=True).click()
    page.wait_for_url("**range=6M**")
    page.reload()
    page.wait_for_load_state("networkidle")
    start = chart_layout(page, "xaxis.range")["xaxis.range"][0]
    assert opens_on(start, "2018-07-02"), start  # six months before 2018-12-31 is a Saturday
    assert "range=6M" in page.url
    shoot(page, "05-indicators")


@pytest.mark.timeout(900)  # a whole working session, training included, on a shared machine
def test_the_whole_journey(app_url, page, tmp_path):
    # A failed step is photographed and told with what the browser and the servers said, so a failure
    # on a CI machine (whose files are gone afterwards) can be read rather than guessed.
    browser_said = []
    page.on("console", lambda message: message.type == "error" and browser_said.append(message.text))
    page.on("response", lambda answer: answer.status >= 400 and browser_said.append(f"{answer.status} {answer.url}"))
    try:
        journey(app_url, page, tmp_path)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
        print("the browser's last errors:", *browser_said[-15:], sep="\n  ")
        for log in ("streamlit.log", "worker.log"):
            if (tmp_path / log).exists():
                print(f"the end of {log}:\n{(tmp_path / log).read_text(errors='replace')[-3000:]}")
        raise


def register_and_log_in(page, username: str) -> None:
    """From the login page: register the account, then log in with it."""
    page.get_by_role("tab", name="Register").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Username").nth(1).fill(username)
    page.get_by_label("Password", exact=True).nth(1).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    visible_text(page, f"Account '{username}' created").wait_for()
    page.get_by_role("tab", name="Log in").click()
    page.get_by_label("Username").first.fill(username)
    page.get_by_label("Password", exact=True).first.fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    visible_text(page, f"Signed in as {username}").wait_for()


def journey(app_url: str, page, tmp_path: Path) -> None:
    username = f"analyst{uuid.uuid4().hex[:6]}"

    # A visitor who types a page's URL gets the login page, then that page once logged in.
    open_page(page, f"{app_url}/metrics")
    visible_text(page, "Log in or create an account").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert "next=metrics" in page.url
    shoot(page, "01-login")
    register_and_log_in(page, username)
    page.get_by_role("heading", name="Metrics").wait_for()
    assert "/metrics" in page.url
    wait_for_session_cookie(page)

    open_page(page, app_url)
    visible_text(page, "Getting started").wait_for()
    visible_text(page, "Watchlist").wait_for()
    assert page.get_by_text("System status").count() == 0, "the status panel is for admins"

    # Prices: the bundled sample, then an upload with one bad row.
    open_page(page, f"{app_url}/tickers")
    page.get_by_role("button", name="Load the S&P 500 sample").click()
    with page.expect_download() as download:  # the CSV is written when the button is pressed
        page.get_by_role("button", name="Download ^GSPC as CSV").click()
    downloaded = pd.read_csv(download.value.path())
    assert len(downloaded) == len(pd.read_csv(SAMPLE_PATH)), "every day of the sample"
    # A page view reads the session cookie from the request; a cookie component would rerun the page.
    assert page.locator('iframe[src*="cookie_manager"]').count() == 0
    shoot(page, "03-tickers")
    page.get_by_role("tab", name="Upload prices").click()
    bad = gspc_2018_bytes().replace(b"2018-12-28,2498.77002", b"2018-12-28,-2498.77002")
    file = tmp_path / "spx-with-one-bad-row.csv"
    file.write_bytes(bad)
    page.locator('input[type="file"]').first.set_input_files(str(file))
    page.get_by_label("Ticker", exact=True).fill("SPX")
    page.get_by_role("button", name="Import").click()
    visible_text(page, "Rejected, nothing written: 1 of 251 rows invalid").wait_for()
    visible_text(page, "First offending rows").wait_for()
    shoot(page, "04-upload-report")

    indicators_checks(page, app_url)

    # Train the default model (the ensemble, seconds on the sample) and watch the job run to the end.
    open_page(page, f"{app_url}/train")
    page.get_by_role("button", name="Train").click()
    visible_text(page, "Queued 1 training job").wait_for()
    visible_text(page, "^GSPC · training of auto ensemble · succeeded").wait_for(timeout=TRAINING_SECONDS * 1000)
    shoot(page, "06-train")

    # Predict five trading days into the ledger.
    open_page(page, f"{app_url}/predictions")
    page.get_by_role("button", name="Predict").click()
    # Five trading days after 2018-12-31: New Year's Day is an exchange holiday, so they end on 01-08.
    visible_text(page, "Stored 5 predictions of ^GSPC in the ledger, for 2019-01-02 to 2019-01-08.").wait_for(
        timeout=90_000
    )
    visible_text(page, "This forecast uses prices of ^GSPC up to 2018-12-31").wait_for()
    page.get_by_role("button", name="Download the ledger (CSV)").wait_for()
    shoot(page, "07-predictions")

    # Metrics: the model beside tomorrow = today.
    open_page(page, f"{app_url}/metrics")
    visible_text(page, "Active ^GSPC v1").wait_for()
    visible_text(page, "against persistence").wait_for()
    shoot(page, "08-metrics")

    open_page(page, f"{app_url}/account")
    visible_text(page, "Change password").wait_for()
    shoot(page, "09-account")
    page.get_by_role("tab", name="Preferences").click()
    page.locator('textarea[aria-label="Default tickers"]').fill("^GSPC")
    page.get_by_text("dark", exact=True).click()
    page.get_by_role("button", name="Save preferences").click()
    visible_text(page, "Preferences saved.").wait_for()

    # The dark theme reaches the chart, and Home shows the watchlist.
    open_page(page, f"{app_url}/indicators")
    assert chart_layout(page, "paper_bgcolor")["paper_bgcolor"] == "#0e1117"
    shoot(page, "10-indicators-dark")
    open_page(page, app_url)
    visible_text(page, "Watchlist").wait_for()
    shoot(page, "02-home")
    phone = page.context.new_page()
    phone.set_viewport_size(PHONE)
    for name, path in (("11-home-phone", ""), ("12-indicators-phone", "/indicators")):
        open_page(phone, f"{app_url}{path}")
        phone.locator("h1").first.wait_for()
        shoot(phone, name)
    phone.close()

    # Log out; the back button shows nothing private.
    page.get_by_role("button", name="Log out").click()
    visible_text(page, "You are logged out.").wait_for()
    page.go_back()
    visible_text(page, "Log in or create an account").wait_for()
    page.wait_for_timeout(1500)
    assert page.get_by_text("Signed in as").count() == 0
    assert page.get_by_text("Change password").count() == 0
    assert page.get_by_text("System status").count() == 0
    page.reload()
    visible_text(page, "Log in or create an account").wait_for()
    assert page.get_by_text("Signed in as").count() == 0
