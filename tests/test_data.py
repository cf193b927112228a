import hashlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tutorials_lib import data
from tutorials_lib.data import (
    ChecksumWarning,
    MissingFieldsWarning,
    check_known_file,
    describe_source,
    load_bitcoin,
    load_stock,
    read_prices,
    synthetic_bitcoin,
)

CDD_2018 = (
    "Date,Symbol,Open,High,Low,Close,Volume From,Volume To\n"
    "12/3/2014,BTCUSD,378,378,377.01,378,0.5466,206.52\n"
    "12/2/2014,BTCUSD,370,378,370,378,15.01,5675.07\n"
    "12/1/2014,BTCUSD,300,370,300,370,0.05656,19.53\n"
)
CDD_2019 = (
    "Created on 06-21-2019,https://www.CryptoDataDownload.com\n"
    "Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD\n"
    "2019-06-20,BTCUSD,9280.0,9590.0,9240.0,9530.0,12000.5,114000000.0\n"
    "2019-06-19,BTCUSD,9080.0,9300.0,9050.0,9280.0,9000.25,83000000.0\n"
)
KAGGLE = (
    "Date,Open,High,Low,Close,Volume,Name\n"
    "2006-01-03,82.45,82.55,80.81,82.06,11715200,IBM\n"
    "2006-01-04,82.2,82.5,81.33,81.95,9840600,IBM\n"
    "2006-01-05,81.4,82.9,81.0,82.5,7213500,IBM\n"
)
YAHOO = (
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    "2018-01-02,86.12999725341797,86.30999755859375,85.5,85.94999694824219,80.738,22483800\n"
    "2018-01-03,86.05999755859375,86.51000213623047,85.97,86.3499984741211,81.114,26061400\n"
)


def write(tmp_path: Path, text: str, name: str = "prices.csv", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_cryptodatadownload_2018_layout_sorted_ascending(tmp_path):
    frame = read_prices(write(tmp_path, CDD_2018))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume", "volume_quote"]
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2014-12-01", "2014-12-02", "2014-12-03"]
    assert frame.index.name == "date" and isinstance(frame.index, pd.DatetimeIndex)
    assert frame["close"].tolist() == [370.0, 378.0, 378.0]
    assert frame["volume"].iloc[0] == pytest.approx(0.05656)  # BTC
    assert frame["volume_quote"].iloc[0] == pytest.approx(19.53)  # USD
    assert frame.attrs["layout"] == "cryptodatadownload"
    assert frame.attrs["symbol"] == "BTCUSD" and frame.attrs["newest_first"] is True


def test_cryptodatadownload_banner_iso_dates_and_crlf(tmp_path):
    frame = read_prices(write(tmp_path, CDD_2019, newline="\r\n"))
    assert frame.index[0] == pd.Timestamp("2019-06-19")
    assert frame["close"].tolist() == [9280.0, 9530.0]
    assert frame["volume"].tolist() == [9000.25, 12000.5]
    assert frame["volume_quote"].iloc[1] == pytest.approx(114e6)


def test_dates_in_order_either_way_are_read_oldest_first(tmp_path):
    rows = [f"2020-01-{d:02d},1,2,0.5,{d}" for d in (1, 2, 5, 6, 7)]  # gaps are fine
    header = "Date,Open,High,Low,Close\n"
    oldest = read_prices(write(tmp_path, header + "\n".join(rows) + "\n", name="up.csv"))
    newest = read_prices(write(tmp_path, header + "\n".join(rows[::-1]) + "\n", name="down.csv"))
    assert oldest.attrs["newest_first"] is False and newest.attrs["newest_first"] is True
    assert oldest.index.is_monotonic_increasing and newest["close"].tolist() == [1, 2, 5, 6, 7]
    pd.testing.assert_frame_equal(oldest, newest)
    one = read_prices(write(tmp_path, header + rows[0] + "\n", name="one.csv"))
    assert one.attrs["newest_first"] is False and len(one) == 1


def test_kaggle_djia_layout(tmp_path):
    frame = read_prices(write(tmp_path, KAGGLE))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.loc["2006-01-03", "high"] == pytest.approx(82.55)
    assert frame.attrs["layout"] == "kaggle_djia" and frame.attrs["symbol"] == "IBM"
    assert frame.attrs["newest_first"] is False and frame.attrs["missing"] == []


def test_yahoo_layout_with_mixed_line_endings(tmp_path):
    lines = YAHOO.splitlines()
    path = tmp_path / "mixed.csv"
    path.write_bytes((lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r").encode())
    frame = read_prices(path)
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert frame["adj_close"].tolist() == pytest.approx([80.738, 81.114])
    assert frame.attrs["layout"] == "yahoo" and len(frame) == 2


def test_later_cryptodatadownload_layout_with_unix_column(tmp_path):
    text = (
        "Created on 2020-04-12,https://www.CryptoDataDownload.com\n"
        "Unix Timestamp,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD\n"
        "1586563200,2020-04-11 00:00:00,BTCUSD,6865.0,6950.0,6770.0,6887.0,5100.0,35000000.0\n"
        "1586476800,2020-04-10 00:00:00,BTCUSD,7300.0,7310.0,6750.0,6865.0,9800.0,68000000.0\n"
    )
    frame = read_prices(write(tmp_path, text))
    assert frame.index[0] == pd.Timestamp("2020-04-10") and frame["close"].iloc[-1] == 6887.0
    assert frame.attrs["ignored_columns"] == ["Unix Timestamp"]
    assert frame.attrs["layout"] == "cryptodatadownload"


def test_provenance_attrs(tmp_path):
    path = write(tmp_path, KAGGLE)
    frame = read_prices(path)
    assert frame.attrs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert frame.attrs["file"] == "prices.csv" and frame.attrs["synthetic"] is False
    assert describe_source(frame).startswith("Data: file prices.csv, 2006-01-03 to 2006-01-05")


@pytest.mark.parametrize(
    "text,message",
    [
        ("", r"bad\.csv: the file is empty"),
        ("\n\n  \n", "the file is empty"),
        ("Date,Open,High,Low,Close\n", "header but no data rows"),
        (
            "Date,Open,High,Close\n2020-01-01,1,2,1.5\n",
            r"line 1: missing required columns \['low'\]",
        ),
        ("Open,High,Low,Close\n1,2,0.5,1.5\n", r"line 1: missing required columns \['date'\]"),
        ("Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\nyesterday,1,2,0.5,1.5\n", None),
        ("Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-02-30,1,2,0.5,1.5\n", None),
        (
            "Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-01-02,1,2,0.5,1.5\n"
            "2020-01-01,1,2,0.5,1.5\n",
            "duplicate date 2020-01-01 on lines 2, 4",
        ),
        ("Date,Open,High,Low,Close\n2020-01-01,1,2,abc,1.5\n", "line 2: non-numeric value 'abc'"),
        ("Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,-1.5\n", "line 2: negative price -1.5"),
        (
            "Date,Open,High,Low,Close\n2020-01-01,0,2,0.5,1.5\n",
            "line 2: zero price 0 in column 'open'",
        ),
        ("Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,-3\n", "negative value -3"),
        ("Date,Open,High,Low,Close\n2020-01-01,1,2,0.5\n", "line 2: 4 fields, the header has 5"),
        (
            "Date,Symbol,Open,High,Low,Close\n2020-01-01,A,1,2,0.5,1.5\n2020-01-02,B,1,2,0.5,1.5\n",
            "column 'symbol' holds several values",
        ),
        (
            "Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-01-02,1,2,0.5,inf\n",
            r"bad\.csv: line 3: infinite value 'inf' in column 'close'",
        ),
        (
            "Date,Open,High,Low,Close\n2020-01-01,1,Infinity,0.5,1.5\n",
            r"bad\.csv: line 2: infinite value 'Infinity' in column 'high'",
        ),
        (
            "Date,Open,High,Low,Close\n2020-01-01,1e400,2,0.5,1.5\n",
            r"bad\.csv: line 2: infinite value '1e400' in column 'open'",
        ),
        (
            "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,-inf\n",
            r"bad\.csv: line 2: infinite value '-inf' in column 'volume'",
        ),
        (
            "Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-01-03,1,2,0.5,1.5\n"
            "2020-01-02,1,2,0.5,1.5\n2020-01-04,1,2,0.5,1.5\n",
            r"bad\.csv: line 4: date '2020-01-02' is out of order: the dates run oldest first "
            r"from line 2, and line 3 has '2020-01-03'",
        ),
        (
            "Date,Open,High,Low,Close\n12/3/2014,1,2,0.5,1.5\n12/1/2014,1,2,0.5,1.5\n"
            "12/2/2014,1,2,0.5,1.5\n",
            r"bad\.csv: line 4: date '12/2/2014' is out of order: the dates run newest first "
            r"from line 2, and line 3 has '12/1/2014'",
        ),
    ],
)
def test_bad_files_raise_naming_file_and_row(tmp_path, text, message):
    path = write(tmp_path, text, name="bad.csv")
    if message is None:
        message = r"bad\.csv: line 3: unparseable date"
    with pytest.raises(ValueError, match=message):
        read_prices(path)


def test_unparseable_first_date_and_absent_file(tmp_path):
    with pytest.raises(ValueError, match=r"line 2: unparseable date '01\.01\.2020'"):
        read_prices(write(tmp_path, "Date,Open,High,Low,Close\n01.01.2020,1,2,0.5,1.5\n"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5 \u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv: not UTF-8 text"):
        read_prices(latin)
    with pytest.raises(ValueError, match="no such file"):
        read_prices(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="missing must be"):
        read_prices(write(tmp_path, KAGGLE), missing="fill")


MISSING = (
    "Date,Open,High,Low,Close,Volume,Name\n"
    "2017-07-28,144.0,145.0,143.5,144.29,3000000,IBM\n"
    "2017-07-31,,144.93,,144.67,4355718,IBM\n"
    "2017-08-01,144.7,145.5,144.2,145.3,3100000,IBM\n"
)


def test_missing_fields_kept_as_nan_with_a_warning(tmp_path):
    with pytest.warns(MissingFieldsWarning, match=r"line 3 \(2017-07-31\): open, low; kept"):
        frame = read_prices(write(tmp_path, MISSING))
    assert len(frame) == 3
    assert np.isnan(frame.loc["2017-07-31", "open"]) and np.isnan(frame.loc["2017-07-31", "low"])
    assert frame.loc["2017-07-31", "high"] == pytest.approx(144.93)
    assert frame.attrs["missing"] == [{"line": 3, "date": "2017-07-31", "columns": ["open", "low"]}]
    assert "1 row(s) with empty fields, kept as NaN: 2017-07-31 (open, low)" in describe_source(
        frame
    )


def test_missing_fields_drop_and_raise(tmp_path):
    path = write(tmp_path, MISSING)
    with pytest.warns(MissingFieldsWarning, match="dropped those rows"):
        frame = read_prices(path, missing="drop")
    assert pd.Timestamp("2017-07-31") not in frame.index and len(frame) == 2
    with pytest.raises(ValueError, match=r"empty price fields on line 3 \(2017-07-31\)"):
        read_prices(path, missing="raise")


def test_checksum_mismatch_warns_with_both_hashes(tmp_path):
    path = write(tmp_path, KAGGLE, name="btc.csv")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.warns(ChecksumWarning) as record:
        assert check_known_file(path) is False
    text = str(record[0].message)
    assert actual in text and data.KNOWN_SHA256["btc.csv"] in text
    assert check_known_file(write(tmp_path, KAGGLE, name="other.csv")) is False


def test_loader_reports_a_changed_file(tmp_path, monkeypatch):
    write(tmp_path, CDD_2018, name="btc.csv")
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    with pytest.warns(ChecksumWarning, match="differs from the book's"):
        frame = load_bitcoin()
    assert frame.attrs["checksum_ok"] is False and frame.attrs["synthetic"] is False
    assert "sha256 DIFFERS" in describe_source(frame)


def test_bitcoin_falls_back_to_a_labelled_synthetic_series(monkeypatch, tmp_path):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    frame = load_bitcoin(seed=3)
    assert frame.attrs["synthetic"] is True
    assert "SYNTHETIC" in describe_source(frame) and "is not set" in describe_source(frame)
    assert len(frame) == 1273 and frame.index[0] == pd.Timestamp("2014-12-01")
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))  # set, but the file is not there
    frame = load_bitcoin(seed=3)
    assert frame.attrs["synthetic"] is True
    assert frame.attrs["fallback_reason"] == f"btc.csv not found in {tmp_path}"


def test_synthetic_bitcoin_matches_the_real_log_return_statistics():
    frame = synthetic_bitcoin(seed=0)
    returns = np.diff(np.log(frame["close"].to_numpy()))
    assert returns.mean() == pytest.approx(data.BITCOIN_LOG_RETURN_MEAN, abs=1e-12)
    assert returns.std(ddof=1) == pytest.approx(data.BITCOIN_LOG_RETURN_STD, rel=1e-9)
    assert frame["close"].iloc[0] == data.BITCOIN_FIRST_CLOSE
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    same = synthetic_bitcoin(seed=0)
    other = synthetic_bitcoin(seed=1)
    pd.testing.assert_frame_equal(frame, same)
    assert not np.allclose(frame["close"], other["close"])
    with pytest.raises(ValueError, match="n_days must be >= 3"):
        synthetic_bitcoin(n_days=2)
    with pytest.raises(ValueError, match="tail_df must be > 2"):
        synthetic_bitcoin(tail_df=2.0)


@pytest.mark.parametrize("ticker", ["IBM", "msft"])
def test_stock_fallback_is_the_same_ticker_from_bokeh_sampledata(monkeypatch, ticker):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    frame = load_stock(ticker)
    assert frame.attrs["symbol"] == ticker.upper() and frame.attrs["synthetic"] is False
    assert "bokeh_sampledata" in frame.attrs["source"]
    assert frame.index[0] == pd.Timestamp("2000-03-01") and frame.index[-1] == pd.Timestamp(
        "2013-03-01"
    )
    assert frame.index.is_monotonic_increasing and not frame.index.has_duplicates
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert not frame.isna().to_numpy().any()


def test_bokeh_ibm_first_day_is_known():
    frame = data.bokeh_stock("IBM")
    assert frame.loc["2000-03-01", "close"] == pytest.approx(100.25)


def test_unknown_tickers_raise():
    with pytest.raises(ValueError, match=r"ticker must be one of \['IBM', 'MSFT'\]"):
        load_stock("AAPL")
    with pytest.raises(ValueError, match="ticker must be one of"):
        data.bokeh_stock("TSLA")


def test_data_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_ENV, "")
    assert data.data_dir() is None and data.data_file("btc.csv") is None
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.data_dir() == tmp_path and data.data_file("btc.csv") is None
    (tmp_path / "btc.csv").write_text(CDD_2018)
    assert data.data_file("btc.csv") == tmp_path / "btc.csv"


# ---------------------------------------------------------------- the real files, when present

REAL_DIR = data.data_dir()


def real(name: str) -> Path:
    if REAL_DIR is None or not (REAL_DIR / name).is_file():
        pytest.skip(f"{name} not in the data directory (${data.DATA_ENV})")
    return REAL_DIR / name


def test_real_bitcoin_file():
    real("btc.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = load_bitcoin()
    assert frame.attrs["checksum_ok"] is True and frame.attrs["newest_first"] is True
    assert len(frame) == 1273
    assert frame.index[0] == pd.Timestamp("2014-12-01")
    assert frame.index[-1] == pd.Timestamp("2018-05-26")
    assert (frame.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all()
    assert frame.loc["2014-12-15", "close"] == 350.0
    assert frame["close"].idxmax() == pd.Timestamp("2017-12-16") and frame["close"].max() == 19650.0
    assert frame.loc["2018-01-01", "close"] == pytest.approx(13480.01)
    returns = np.diff(np.log(frame["close"].to_numpy()))
    assert returns.mean() == pytest.approx(data.BITCOIN_LOG_RETURN_MEAN, rel=1e-12)
    assert returns.std(ddof=1) == pytest.approx(data.BITCOIN_LOG_RETURN_STD, rel=1e-12)


def test_real_ibm_file():
    real(data.STOCK_FILES["IBM"])
    frame = load_stock("IBM")
    assert frame.attrs["checksum_ok"] is True and len(frame) == 3020
    assert frame.attrs["missing"] == [
        {"line": 2915, "date": "2017-07-31", "columns": ["open", "low"]}
    ]
    assert frame.loc["2006-01-03", "high"] == pytest.approx(82.55)
    assert frame.loc["2016-12-30", "high"] == pytest.approx(166.70)
    assert (frame.index.year <= 2016).sum() == 2769 and (frame.index.year == 2017).sum() == 251


def test_real_msft_file():
    real(data.STOCK_FILES["MSFT"])
    frame = load_stock("MSFT")
    assert frame.attrs["checksum_ok"] is True and len(frame) == 1324
    assert frame.loc["2018-01-02", "close"] == pytest.approx(85.95, abs=1e-5)
    assert frame.loc["2018-01-02", "adj_close"] == pytest.approx(80.74, abs=5e-3)
    assert frame.loc["2023-03-24", "adj_close"] == pytest.approx(280.57, abs=1e-5)


# ---------------------------------------------------------------- pieces of read_prices


def test_header_after_a_banner_only_when_the_second_line_names_a_date(tmp_path):
    # Neither line names a date column: the first is the header, and the error says so.
    text = "Created on 2020-01-01,somewhere\nOpen,High,Low,Close\n1,2,0.5,1.5\n"
    with pytest.raises(ValueError, match=r"line 1: missing required columns \['date', 'open'"):
        read_prices(write(tmp_path, text))
    assert data._header_position([(1, "banner,x"), (2, '"Date",Open')]) == 1
    assert data._header_position([(1, "Date,Open"), (2, "Date,Open")]) == 0
    assert data._header_position([(1, "banner")]) == 0


def test_header_aliases_and_generic_layout(tmp_path):
    text = "date,OPEN,high,Low,close,Adjusted_Close\n2020-01-01,1,2,0.5,1.5,1.4\n"
    frame = read_prices(write(tmp_path, text))
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close"]
    assert frame.attrs["layout"] == "yahoo" and frame.attrs["symbol"] is None
    generic = read_prices(write(tmp_path, "Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n"))
    assert generic.attrs["layout"] == "generic" and generic.attrs["ignored_columns"] == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Date,Open,High,Low,Close,Close", r"line 1: duplicate columns \['close'\]"),
        ("Date,Symbol,Open,High,Low,Close,Volume A,Volume B,Volume C",
         "line 1: more than two volume columns"),
    ],
)  # fmt: skip
def test_bad_headers_are_named(tmp_path, header, message):
    fields = header.count(",") + 1
    text = f"{header}\n2020-01-01,{','.join(['1'] * (fields - 1))}\n"
    with pytest.raises(ValueError, match=message):
        read_prices(write(tmp_path, text, name="bad.csv"))


def test_negative_volume_is_refused_but_zero_volume_is_not(tmp_path):
    header = "Date,Open,High,Low,Close,Volume\n"
    frame = read_prices(write(tmp_path, header + "2020-01-01,1,2,0.5,1.5,0\n"))
    assert frame["volume"].tolist() == [0.0]
    with pytest.raises(ValueError, match=r"line 2: negative value -1 in column 'volume'"):
        read_prices(write(tmp_path, header + "2020-01-01,1,2,0.5,1.5,-1\n"))


def test_many_rows_with_empty_fields_are_summarised(tmp_path):
    rows = "".join(f"2020-01-{d:02d},1,,0.5,1.5\n" for d in range(1, 8))
    path = write(tmp_path, "Date,Open,High,Low,Close\n" + rows)
    with pytest.raises(ValueError, match=r"line 6 \(2020-01-05\): high and 2 more$"):
        read_prices(path, missing="raise")
    with pytest.warns(MissingFieldsWarning) as record:
        frame = read_prices(path, missing="drop")
    assert frame.empty and len(frame.attrs["missing"]) == 7
    assert record[0].filename == __file__  # the warning points at the caller of read_prices


def test_numeric_column_reports_empty_cells_and_refuses_text():
    numbers, empty = data._numeric_column("high", ["1.5", "", "2"], [2, 3, 4], Path("f.csv"))
    np.testing.assert_allclose(numbers, [1.5, np.nan, 2.0])
    assert empty == [1]
    with pytest.raises(ValueError, match=r"f\.csv: line 3: non-numeric value 'n/a'"):
        data._numeric_column("high", ["1.5", "n/a"], [2, 3], Path("f.csv"))
