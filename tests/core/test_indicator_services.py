"""The Indicators page's services against a real database: tickers, chart data, refusals, the screener."""

from datetime import date

import pandas as pd
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from common.errors import Refusal
from core.data.service import load_sample
from core.indicator_view import IndicatorParams, adjusted_prices
from core.screener import Criteria
from core.services.indicators import BadParameters, chart_data, open_indicators, run_screener
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from tests.accounts import make_account


@pytest.fixture
def sample_url(monkeypatch, tmp_path) -> URL:
    url = URL.create("sqlite", database=str(tmp_path / "services.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    with session_scope(sessionmaker(bind=engine)) as session:
        load_sample(session=session, actor=None)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def test_the_tickers_to_chart_span_every_day_the_actor_sees(sample_url):
    start = open_indicators(make_account(sample_url))
    assert [(s.ticker, s.first_date, s.last_date) for s in start.tickers] == [
        ("^GSPC", date(1999, 1, 4), date(2018, 12, 31))
    ]
    assert start.preferences.chart_theme == "light", "no preferences saved yet: the defaults"


def test_chart_data_holds_the_chosen_days_and_the_last_days_values(sample_url):
    chart = chart_data(make_account(sample_url), "^GSPC", start=date(2018, 12, 1), end=None, params=IndicatorParams())
    assert chart.view["date"].min() == pd.Timestamp("2018-12-03")
    assert chart.view["ema_200"].notna().all(), "the warm-up is computed on the whole history, before the range"
    assert chart.latest["close"] == chart.view["close"].iloc[-1]
    assert "date" not in chart.latest.index


def test_a_bad_parameter_is_refused_by_name(sample_url):
    params = IndicatorParams(macd_fast=40, macd_slow=26)
    with pytest.raises(BadParameters, match="Parameters: macd_fast must be below macd_slow") as refused:
        chart_data(make_account(sample_url), "^GSPC", start=None, end=None, params=params)
    assert isinstance(refused.value, Refusal)


def test_a_ticker_nobody_stored_has_no_chart(sample_url):
    assert chart_data(make_account(sample_url), "NOPE", start=None, end=None, params=IndicatorParams()).empty


def test_the_screener_runs_for_the_actor(sample_url):
    matches = run_screener(make_account(sample_url), Criteria(close_below_ema200=True))
    assert list(matches["ticker"]) == ["^GSPC"]
    assert run_screener(make_account(sample_url), Criteria(close_above_ema200=True)).empty


def test_adjusted_prices_scale_each_day_by_its_adjusted_close():
    prices = pd.DataFrame(
        {
            "date": pd.bdate_range("2024-01-02", periods=3),
            "open": [100.0, 52.0, 10.0],
            "high": [110.0, 55.0, 11.0],
            "low": [90.0, 50.0, 9.0],
            "close": [104.0, 54.0, 10.0],
            "adjusted_close": [52.0, 54.0, None],
            "volume": [1, 2, 3],
        }
    )
    adjusted = adjusted_prices(prices)
    assert adjusted["open"].tolist() == [50.0, 52.0, 10.0]
    assert adjusted["high"].tolist() == [55.0, 55.0, 11.0]
    assert adjusted["close"].tolist() == [52.0, 54.0, 10.0], "a day without an adjusted close stays as traded"
    assert adjusted["volume"].tolist() == [2, 2, 3], "a share before the 2:1 split counts as two after it"
    assert prices["open"].iloc[0] == 100.0, "the prices read are left as they are"
