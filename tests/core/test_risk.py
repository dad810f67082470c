"""Risk figures against numpy and scipy references."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from core.analysis import AnalysisError, portfolio_risk
from core.data.calendar import calendar_for
from core.data.frames import normalise_provider_frame
from core.risk import (
    RiskError,
    beta,
    bootstrap_paths,
    historical_cvar,
    historical_var,
    parametric_cvar,
    parametric_var,
    periods_per_year,
    portfolio_returns,
    risk_report,
)
from db.models import RiskMetrics
from db.repositories.actor import Actor
from db.repositories.prices import upsert_prices
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_frame

RETURNS = np.random.default_rng(11).standard_t(4, 2000) * 0.01


def test_historical_var_and_cvar_match_numpy():
    for level in (0.95, 0.99):
        cut = np.quantile(RETURNS, 1 - level)
        assert historical_var(RETURNS, level) == pytest.approx(-cut)
        assert historical_cvar(RETURNS, level) == pytest.approx(-RETURNS[cut >= RETURNS].mean())
        assert historical_cvar(RETURNS, level) >= historical_var(RETURNS, level)


def test_parametric_var_and_cvar_match_the_normal_formulas():
    mu, sigma = RETURNS.mean(), RETURNS.std(ddof=1)
    assert parametric_var(RETURNS, 0.99) == pytest.approx(-(mu + norm.ppf(0.01) * sigma))
    simulated = np.random.default_rng(2).normal(mu, sigma, 2_000_000)
    tail = simulated[simulated <= -parametric_var(RETURNS, 0.95)]
    assert parametric_cvar(RETURNS, 0.95) == pytest.approx(-tail.mean(), rel=1e-2)


def test_portfolio_returns_and_beta():
    closes = pd.DataFrame({"A": [100.0, 110.0, 99.0, 108.9], "B": [50.0, 50.0, 55.0, 55.0]})
    returns = portfolio_returns(closes, {"A": 3, "B": 1})
    np.testing.assert_allclose(returns, [0.75 * 0.1, 0.75 * -0.1 + 0.25 * 0.1, 0.75 * 0.1])
    market = pd.Series([0.01, -0.02, 0.03, 0.0, 0.01])
    assert beta(2 * market, market) == pytest.approx(2.0)
    with pytest.raises(RiskError, match="weights must be non-negative"):
        portfolio_returns(closes, {"A": -1, "B": 1})


def test_bootstrap_paths_start_from_history():
    paths = bootstrap_paths(np.array([0.01, -0.01]), days=5, paths=100)
    assert paths.shape == (100, 5)
    assert set(np.round(paths[:, 0], 6)) <= {1.01, 0.99}


def test_report_for_a_real_series():
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    closes = frame.set_index("date")[["close"]].rename(columns={"close": "SPX"})
    report = risk_report(closes, {"SPX": 1.0}, days_a_year=252, horizon=20, paths=200)
    m = report.metrics
    daily = closes["SPX"].pct_change().dropna().to_numpy()
    per_year = len(daily) / ((closes.index[-1] - closes.index[0]).days / 365.25)  # 250 returns in 363 days
    assert m["annualised_volatility"] == pytest.approx(daily.std(ddof=1) * np.sqrt(per_year))
    assert m["days_a_year"] == 251.5
    assert m["var_historical_95"] == pytest.approx(-np.quantile(daily, 0.05))
    assert -0.25 < m["max_drawdown"] < -0.15  # the fourth quarter of 2018
    assert list(report.fan.columns) == ["day", "p05", "p25", "p50", "p75", "p95"]
    assert (report.fan["p05"] <= report.fan["p95"]).all()


def test_portfolio_risk_is_stored(session):
    actor = Actor.of(create_user(session=session, username="ria", email="ria@example.com", password_hash="x"))
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    upsert_prices(session=session, frame=frame, ticker="RA", owner_id=None, source="yahoo")
    upsert_prices(
        session=session,
        frame=frame.assign(close=frame["close"] * np.linspace(1, 1.2, len(frame))),
        ticker="RB",
        owner_id=None,
        source="yahoo",
    )
    report, stored = portfolio_risk(session=session, actor=actor, weights={"RA": 0.5, "RB": 0.5}, benchmark="RA")
    assert report.correlation.shape == (2, 2)
    assert 0 < report.metrics["beta"] < 2
    assert session.get(RiskMetrics, stored.id).tickers == ["RA", "RB"]
    with pytest.raises(AnalysisError, match="no cached prices of NONE"):
        portfolio_risk(session=session, actor=actor, weights={"NONE": 1.0})


def test_a_benchmark_with_a_shorter_history_leaves_the_portfolio_s_own_figures_whole(session):
    # Joined with the portfolio's closes, a benchmark of 60 days cut a year's volatility, drawdown and
    # Sharpe to those 60 days; beta alone is measured on the days both have.
    actor = Actor.of(create_user(session=session, username="rbe", email="rbe@example.com", password_hash="x"))
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    upsert_prices(session=session, frame=frame, ticker="LONG", owner_id=None, source="yahoo")
    upsert_prices(session=session, frame=frame.tail(60), ticker="SHORT", owner_id=None, source="yahoo")
    alone, _ = portfolio_risk(session=session, actor=actor, weights={"LONG": 1.0})
    against, stored = portfolio_risk(session=session, actor=actor, weights={"LONG": 1.0}, benchmark="SHORT")
    assert against.metrics["days"] == alone.metrics["days"] == len(frame) - 1
    for figure in ("annualised_volatility", "max_drawdown", "var_historical_99", "sharpe"):
        assert against.metrics[figure] == pytest.approx(alone.metrics[figure], rel=1e-12), figure
    assert against.metrics["beta"] == pytest.approx(1.0)
    assert against.metrics["beta_days"] == 59
    assert (stored.start_date, stored.benchmark) == (pd.Timestamp(frame["date"].iloc[0]).date(), "SHORT")


def test_a_coin_s_volatility_is_annualised_by_the_365_days_a_year_it_trades(session):
    actor = Actor.of(create_user(session=session, username="rco", email="rco@example.com", password_hash="x"))
    coin = daily_coin(normalise_provider_frame(gspc_2018_frame()).frame)
    upsert_prices(session=session, frame=coin, ticker="BTC-USD", owner_id=None, source="yahoo")
    report, _ = portfolio_risk(session=session, actor=actor, weights={"BTC-USD": 1.0})
    daily = coin["adjusted_close"].pct_change().dropna().to_numpy()
    assert report.metrics["days_a_year"] == 365.2, "363 returns in the 363 days from 2018-01-02 to 2018-12-31"
    assert report.metrics["annualised_volatility"] == pytest.approx(daily.std(ddof=1) * np.sqrt(365.25))
    assert len(report.fan) == 365, "the scenarios look one year ahead"


def test_risk_reads_returns_through_a_split_the_adjusted_close_accounts_for(session):
    # Read raw, a 2:1 split is a -50 % day: volatility doubles, the drawdown passes -50 %.
    actor = Actor.of(create_user(session=session, username="rsa", email="rsa@example.com", password_hash="x"))
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    halved = frame.copy()
    halved.loc[halved.index[100] :, ["open", "high", "low", "close"]] /= 2
    upsert_prices(session=session, frame=frame, ticker="WHOLE", owner_id=None, source="yahoo")
    upsert_prices(session=session, frame=halved, ticker="HALVED", owner_id=None, source="yahoo")
    whole, _ = portfolio_risk(session=session, actor=actor, weights={"WHOLE": 1.0})
    split, _ = portfolio_risk(session=session, actor=actor, weights={"HALVED": 1.0})
    for figure in ("annualised_volatility", "max_drawdown", "var_historical_99", "sharpe"):
        assert split.metrics[figure] == pytest.approx(whole.metrics[figure], rel=1e-9), figure


def weekday_closes_and_a_coin_that_matches_them_on_weekdays(days: pd.DatetimeIndex, seed: int):
    """A weekday benchmark's closes, and a coin's: the benchmark's on every weekday, moves of its own at weekends."""
    rng = np.random.default_rng(seed)
    weekdays = days[days.day_of_week < 5]
    benchmark = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(weekdays)))), index=weekdays, name="^GSPC")
    coin = benchmark.reindex(days)
    weekend = coin.isna()
    coin[weekend] = coin.ffill()[weekend] * np.exp(rng.normal(0, 0.05, weekend.sum()))
    return benchmark, coin


def test_a_coin_s_beta_against_a_weekday_index_spans_the_same_days_on_both_sides():
    # Returns taken on each side's own days set the coin's Sunday-to-Monday move beside the index's
    # Friday-to-Monday move: beta came out 1.16 for a coin that moves with the index on every day it trades.
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    benchmark, coin = weekday_closes_and_a_coin_that_matches_them_on_weekdays(days, seed=0)
    report = risk_report(pd.DataFrame({"BTC-USD": coin}), {"BTC-USD": 1.0}, days_a_year=365, benchmark=benchmark)
    assert report.metrics["beta"] == pytest.approx(1.0)
    assert report.metrics["beta_days"] == len(benchmark) - 1
    own_returns = coin.pct_change().dropna()
    assert report.metrics["days"] == len(own_returns), "the coin's own figures keep its weekends"
    assert report.metrics["annualised_volatility"] == pytest.approx(own_returns.std() * np.sqrt(365.25))


def test_a_coin_s_beta_against_the_index_through_the_service(session):
    actor = Actor.of(create_user(session=session, username="rbc", email="rbc@example.com", password_hash="x"))
    stock = normalise_provider_frame(gspc_2018_frame()).frame
    upsert_prices(session=session, frame=stock, ticker="^GSPC", owner_id=None, source="yahoo")
    # The coin: the index's bar on every day the index traded, a bar of its own on every other day.
    coin = stock.drop(columns=["date"]).set_index(pd.to_datetime(stock["date"]))
    coin = coin.reindex(pd.date_range(coin.index.min(), coin.index.max(), freq="D"))
    others = coin["close"].isna()
    moved = coin.ffill().loc[others, "close"] * np.exp(np.random.default_rng(1).normal(0, 0.03, others.sum()))
    for column in ("open", "high", "low", "close", "adjusted_close"):
        coin.loc[others, column] = moved
    coin["volume"] = coin["volume"].ffill()
    coin = coin.rename_axis("date").reset_index().assign(date=lambda frame: frame["date"].dt.date)
    upsert_prices(session=session, frame=coin[stock.columns], ticker="BTC-USD", owner_id=None, source="yahoo")
    report, _ = portfolio_risk(session=session, actor=actor, weights={"BTC-USD": 1.0}, benchmark="^GSPC")
    assert report.metrics["beta"] == pytest.approx(1.0)
    assert report.metrics["beta_days"] == len(stock) - 1


@pytest.mark.parametrize("daily_growth", [1.0001, 1.001, 1.02])
def test_a_price_growing_by_the_same_ratio_every_day_has_no_sharpe_ratio(daily_growth):
    # Its daily returns differ only by rounding: divided by a deviation of 1e-16, Sharpe came out 1.5e13.
    closes = pd.DataFrame({"X": 10 * daily_growth ** np.arange(40)}, index=pd.bdate_range("2024-01-01", periods=40))
    report = risk_report(closes, {"X": 1.0}, days_a_year=252)
    assert np.isnan(report.metrics["sharpe"])
    assert report.metrics["annualised_return"] == pytest.approx(daily_growth**252 - 1)


def test_a_quiet_but_real_series_keeps_its_sharpe_ratio():
    # 70 weekdays' returns from a Monday span 98 days: over a quarter of a year, so Sharpe is annualised.
    daily = 0.0001 + np.random.default_rng(3).normal(0, 1e-6, 70)
    closes = pd.DataFrame({"X": 10 * np.cumprod(np.r_[1.0, 1 + daily])}, index=pd.bdate_range("2024-01-01", periods=71))
    report = risk_report(closes, {"X": 1.0}, days_a_year=252)
    returns = closes["X"].pct_change().dropna()
    per_year = periods_per_year(len(returns), closes.index[0], closes.index[-1], days_a_year=252)
    assert report.metrics["sharpe"] == pytest.approx(returns.mean() / returns.std() * np.sqrt(per_year))


def test_a_span_under_a_quarter_of_a_year_has_no_sharpe_ratio():
    # 29 returns of January and February 2018 showed a Sharpe of -0.40 where a backtest of them shows none.
    closes = normalise_provider_frame(gspc_2018_frame()).frame.set_index("date")[["adjusted_close"]].iloc[:30]
    report = risk_report(closes.rename(columns={"adjusted_close": "SPX"}), {"SPX": 1.0}, days_a_year=252)
    assert report.metrics["days"] == 29
    assert np.isnan(report.metrics["sharpe"])
    assert np.isfinite(report.metrics["annualised_volatility"]), "a deviation of 29 returns is still measured"


def test_risk_and_backtests_leave_sharpe_blank_over_the_same_spans():
    # One rule for both: a Sharpe the Risk panel showed over a span its backtest left blank read as two products.
    from core.backtest import BacktestConfig, run_backtest

    blank = {}
    for returns in range(60, 70):  # from a Monday: 64 weekdays' returns span 88 days, 66 span 92
        sessions = pd.bdate_range("2024-01-01", periods=returns + 1)
        closes = pd.Series(100 * np.cumprod(np.r_[1.0, 1 + RETURNS[:returns]]), index=sessions)
        risk = risk_report(closes.to_frame("X"), {"X": 1.0}, days_a_year=252, horizon=5, paths=10)
        forecast = pd.DataFrame(
            {"origin_date": sessions[:-1], "date": sessions[1:], "previous_close": closes.to_numpy()[:-1],
             "actual": closes.to_numpy()[1:], "predicted": closes.to_numpy()[:-1] * 1.01}
        )  # fmt: skip
        backtest = run_backtest(forecast, BacktestConfig(cost_bps=0), 252).metrics["buy_and_hold"]
        blank[returns] = np.isnan(risk.metrics["sharpe"])
        assert blank[returns] == np.isnan(backtest["sharpe"]), returns
    assert set(blank.values()) == {True, False}, "the spans straddle a quarter of a year"


def daily_coin(frame: pd.DataFrame) -> pd.DataFrame:
    """A coin's bars on every calendar day of the frame's span: the weekday bars, and the last of them at weekends."""
    bars = frame.drop(columns=["date"]).set_index(pd.to_datetime(frame["date"]))
    bars = bars.reindex(pd.date_range(bars.index.min(), bars.index.max(), freq="D"))
    bars["close"] = bars["close"].ffill() * np.exp(np.random.default_rng(5).normal(0, 0.01, len(bars)))
    bars = bars.ffill().assign(adjusted_close=lambda bars: bars["close"])
    return bars.rename_axis("date").reset_index().assign(date=lambda bars: bars["date"].dt.date)[frame.columns]


@pytest.mark.parametrize("coin_days", [400, 50], ids=["2018", "under a quarter"])
def test_a_ticker_of_weight_0_plays_no_part_in_the_portfolio_s_figures(session, coin_days):
    # Read with the rest, a weight-0 ticker of 60 days cut the portfolio's history to those 60 days, and a
    # weight-0 stock beside a coin put the coin on the stock's days and annualised it by 252, not 365.
    actor = Actor.of(create_user(session=session, username="rzw", email="rzw@example.com", password_hash="x"))
    stock = normalise_provider_frame(gspc_2018_frame()).frame
    coin = daily_coin(stock).tail(coin_days)
    upsert_prices(session=session, frame=coin, ticker="BTC-USD", owner_id=None, source="yahoo")
    upsert_prices(session=session, frame=stock.tail(60), ticker="NEW", owner_id=None, source="yahoo")
    alone, _ = portfolio_risk(session=session, actor=actor, weights={"BTC-USD": 1.0})
    with_zero, stored = portfolio_risk(session=session, actor=actor, weights={"BTC-USD": 1.0, "NEW": 0.0})
    assert with_zero.metrics["days"] == alone.metrics["days"] == len(coin) - 1
    assert with_zero.metrics.keys() == alone.metrics.keys()
    for key, figure in alone.metrics.items():
        expected = figure if isinstance(figure, str) else pytest.approx(figure, rel=1e-12, nan_ok=True)
        assert with_zero.metrics[key] == expected, key  # under a quarter of a year, Sharpe is NaN on both
    assert list(with_zero.correlation.columns) == ["BTC-USD"], "a ticker the portfolio does not hold has no row"
    assert (stored.tickers, stored.weights) == (["BTC-USD", "NEW"], [1.0, 0.0]), "the weights as asked"


def test_a_ticker_of_weight_0_needs_no_prices(session):
    actor = Actor.of(create_user(session=session, username="rzn", email="rzn@example.com", password_hash="x"))
    upsert_prices(
        session=session,
        frame=normalise_provider_frame(gspc_2018_frame()).frame,
        ticker="HELD",
        owner_id=None,
        source="yahoo",
    )
    report, _ = portfolio_risk(session=session, actor=actor, weights={"HELD": 1.0, "NONE": 0.0})
    assert report.metrics["days"] == 250
    with pytest.raises(AnalysisError, match="sum to more than 0"):
        portfolio_risk(session=session, actor=actor, weights={"HELD": 0.0})


def grows_ten_percent_a_year(tickers: list[str], start: str = "2010-01-04", end: str = "2019-12-31") -> pd.DataFrame:
    """Closes growing exactly 10 % a calendar year, on the sessions every one of these tickers' exchanges holds."""
    columns = {}
    for ticker in tickers:
        sessions = calendar_for(ticker).sessions_in_range(start, end)
        columns[ticker] = pd.Series(100 * 1.1 ** ((sessions - sessions[0]).days / 365.25), index=sessions)
    return pd.DataFrame(columns).dropna()


@pytest.mark.parametrize("tickers", [["AAPL"], ["7203.T"], ["7203.T", "AAPL"], ["VOD.L", "AAPL"]])
def test_a_price_growing_10_percent_a_year_is_annualised_at_10_percent_whatever_days_its_markets_trade(tickers):
    # Scaled by 252 returns a year, Tokyo's 245 sessions came out 10.29 % a year, Tokyo's and New York's 237
    # shared ones 10.67 %, and their volatility and Sharpe by the square root of 252/237 too much.
    closes = grows_ten_percent_a_year(tickers)
    report = risk_report(closes, dict.fromkeys(tickers, 1.0), days_a_year=252, horizon=5, paths=10)
    returns = closes.iloc[:, 0].pct_change().dropna()
    per_year = len(returns) / ((closes.index[-1] - closes.index[0]).days / 365.25)
    assert report.metrics["annualised_return"] == pytest.approx(0.10, rel=1e-9)
    assert report.metrics["annualised_volatility"] == pytest.approx(returns.std() * np.sqrt(per_year), rel=1e-9)
    assert report.metrics["sharpe"] == pytest.approx(returns.mean() / returns.std() * np.sqrt(per_year), rel=1e-9)
    assert report.metrics["days_a_year"] == pytest.approx(per_year, abs=0.05)


def test_returns_a_year_are_counted_over_the_calendar_span_from_the_day_before_the_first_return():
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")  # 366 days
    assert periods_per_year(250, start, end, days_a_year=252) == pytest.approx(250 / (366 / 365.25))
    assert periods_per_year(366, start, end, days_a_year=365) == pytest.approx(365.25)


@pytest.mark.parametrize("days", [1, 5, 91])
def test_a_span_under_a_quarter_of_a_year_is_annualised_by_the_market_s_convention(days):
    # Two returns over a weekend and a day would otherwise be 243 returns a year, one return over a day 365.
    start = pd.Timestamp("2024-01-05")
    assert periods_per_year(days, start, start + pd.Timedelta(days=days), days_a_year=252) == 252
