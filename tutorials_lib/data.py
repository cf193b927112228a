"""Daily price files: parse, validate, sort, and say where the numbers came from.

The book's price chapters read three real files from a data directory named by the
environment variable :data:`DATA_ENV` (see the README). :func:`read_prices` turns any of the
sources' layouts into one frame:

* CryptoDataDownload: ``Date,Symbol,Open,High,Low,Close,Volume From,Volume To`` (or
  ``Volume BTC,Volume USD``), ``M/D/YYYY`` or ISO dates, newest first, sometimes a banner
  line before the header;
* Kaggle "DJIA 30": ``Date,Open,High,Low,Close,Volume,Name``;
* Yahoo Finance: ``Date,Open,High,Low,Close,Adj Close,Volume``;

giving an ascending :class:`~pandas.DatetimeIndex` named ``date`` and lower-case columns
(``open high low close`` plus ``adj_close``, ``volume``, ``volume_quote`` where present).
A file's rows must run in date order, oldest first or newest first; any other order is an
error, not silently sorted.
Every frame records its provenance in ``frame.attrs`` and :func:`describe_source` says it in
one line, which every notebook prints.

When a real file is absent, :func:`load_stock` falls back to the same ticker from the
``bokeh_sampledata`` package (real daily prices, 2000-2013, shipped inside the package) and
:func:`load_bitcoin` to :func:`synthetic_bitcoin`, a seeded series labelled synthetic.

Missing fields policy: a row whose date is valid but some price field is empty is kept by
default, with NaN in the empty cells, a :class:`MissingFieldsWarning` naming the file, line and
columns, and the list in ``frame.attrs["missing"]``. ``missing="drop"`` drops such rows (also
with the warning) and ``missing="raise"`` refuses the file. Nothing is filled in or guessed.
"""

from __future__ import annotations

import csv
import hashlib
import os
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from tutorials_lib._checks import check_int

__all__ = [
    "BITCOIN_DAYS",
    "BITCOIN_FILE",
    "BITCOIN_FIRST_CLOSE",
    "BITCOIN_LOG_RETURN_MEAN",
    "BITCOIN_LOG_RETURN_STD",
    "BITCOIN_START",
    "DATA_ENV",
    "DATE_FORMATS",
    "FALLBACK_TICKERS",
    "KNOWN_SHA256",
    "LABEL_COLUMNS",
    "PRICE_COLUMNS",
    "REQUIRED_COLUMNS",
    "STOCK_FILES",
    "VOLUME_COLUMNS",
    "ChecksumWarning",
    "MissingFieldsWarning",
    "bokeh_stock",
    "check_known_file",
    "data_dir",
    "data_file",
    "describe_source",
    "load_bitcoin",
    "load_stock",
    "read_prices",
    "sha256_of",
    "synthetic_bitcoin",
]

#: Environment variable naming the directory that holds the real data files.
DATA_ENV = "RNN_BOOK_DATA_DIR"

#: The book's default files and their sha256 (see ../shared/data/README.md).
KNOWN_SHA256 = {
    "btc.csv": "512c918841fceaafd925bfc2a1798b5783f63ff798adc065a70443a39be57cec",
    "IBM_2006-01-01_to_2018-01-01.csv": (
        "91cbf31153bc397720a79bb4fb516f7ecc2e6440bc6b6591cfff6f02799ab169"
    ),
    "msft_data.csv": "9d91c70627ec382c0fcbf2a4971a7345477b2aeeb50318a9f172d1f10c406950",
}

BITCOIN_FILE = "btc.csv"
#: Ticker -> file name in the data directory.
STOCK_FILES = {"IBM": "IBM_2006-01-01_to_2018-01-01.csv", "MSFT": "msft_data.csv"}
#: Tickers the ``bokeh_sampledata`` fallback ships (daily, 2000-03-01 to 2013-03-01).
FALLBACK_TICKERS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")

PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
REQUIRED_COLUMNS = ("date", "open", "high", "low", "close")
VOLUME_COLUMNS = ("volume", "volume_quote")
#: Text columns that hold one label for the whole file; kept in ``attrs["symbol"]``.
LABEL_COLUMNS = ("symbol", "name")
#: Date formats tried, in order; the one that parses the first row is used for the file.
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S")

#: Daily log-return statistics of the real btc.csv close (1272 returns, 2014-12-01 to
#: 2018-05-26, sample standard deviation); the synthetic fallback matches them exactly.
BITCOIN_LOG_RETURN_MEAN = 0.0023677817698943525
BITCOIN_LOG_RETURN_STD = 0.047555581454485525
BITCOIN_FIRST_CLOSE = 370.0
BITCOIN_START = "2014-12-01"
BITCOIN_DAYS = 1273


class MissingFieldsWarning(UserWarning):
    """A row of a price file has empty price fields (see the module's missing-fields policy)."""


class ChecksumWarning(UserWarning):
    """A data file's sha256 differs from the one the book's outputs were computed with."""


# --------------------------------------------------------------------------- parsing


def _header_name(raw: str) -> str:
    return " ".join(raw.strip().strip('"').lower().replace("_", " ").split())


def _canonical_columns(raw_header: list[str], path: Path, line: int) -> list[str | None]:
    """Map the file's header to canonical names (None: a column the frame does not keep)."""
    names = [_header_name(h) for h in raw_header]
    crypto = "symbol" in names
    out: list[str | None] = []
    volumes_seen = 0
    for name in names:
        if name in ("date", "open", "high", "low", "close", "symbol", "name"):
            out.append(name)
        elif name in ("adj close", "adjusted close"):
            out.append("adj_close")
        elif name == "volume" and not crypto:
            out.append("volume")
        elif crypto and name.startswith("volume "):
            # CryptoDataDownload: first the base currency (BTC), then the quote (USD).
            out.append(VOLUME_COLUMNS[min(volumes_seen, 1)])
            volumes_seen += 1
        else:
            out.append(None)
    if volumes_seen > 2:
        raise ValueError(f"{path}: line {line}: more than two volume columns in {raw_header}")
    kept = [c for c in out if c is not None]
    duplicated = sorted({c for c in kept if kept.count(c) > 1})
    if duplicated:
        raise ValueError(f"{path}: line {line}: duplicate columns {duplicated} in {raw_header}")
    return out


def _layout(columns: list[str | None]) -> str:
    if "symbol" in columns:
        return "cryptodatadownload"
    if "adj_close" in columns:
        return "yahoo"
    if "name" in columns:
        return "kaggle_djia"
    return "generic"


def sha256_of(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _parse_dates(values: list[str], lines: list[int], path: Path) -> pd.DatetimeIndex:
    series = pd.Series(values, dtype="string")
    first = values[0].strip()
    for fmt in DATE_FORMATS:
        if not pd.isna(pd.to_datetime(first, format=fmt, errors="coerce")):
            break
    else:
        raise ValueError(
            f"{path}: line {lines[0]}: unparseable date {first!r} "
            f"(expected one of the formats {', '.join(DATE_FORMATS)})"
        )
    parsed = pd.to_datetime(series.str.strip(), format=fmt, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{path}: line {lines[i]}: unparseable date {values[i]!r} "
            f"(the file's dates are in the format {fmt})"
        )
    return pd.DatetimeIndex(parsed, name="date")


def _numbered_lines(path: Path) -> tuple[bytes, list[tuple[int, str]]]:
    """The file's bytes and its non-blank lines with their 1-based numbers."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    # splitlines() accepts \n, \r\n and \r, also mixed in one file; numbering is 1-based.
    numbered = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not numbered:
        raise ValueError(f"{path}: the file is empty")
    return raw, numbered


def _names_a_date_column(line: str) -> bool:
    return any(_header_name(field) == "date" for field in next(csv.reader([line])))


def _header_position(numbered: list[tuple[int, str]]) -> int:
    """Index in ``numbered`` of the header: 0, or 1 after a banner line without a date column.

    A banner such as ``Created on ...,https://www.CryptoDataDownload.com`` precedes the header
    of some CryptoDataDownload files. When neither line names a date column the first line is
    taken as the header, so the error names its missing columns.
    """
    if len(numbered) > 1 and not _names_a_date_column(numbered[0][1]):
        if _names_a_date_column(numbered[1][1]):
            return 1
    return 0


def _read_header(line_no: int, text: str, path: Path) -> tuple[list[str], list[str | None]]:
    """The raw header fields and their canonical names; all required columns must be there."""
    raw_header = next(csv.reader([text]))
    columns = _canonical_columns(raw_header, path, line_no)
    absent = [c for c in REQUIRED_COLUMNS if c not in columns]
    if absent:
        raise ValueError(
            f"{path}: line {line_no}: missing required columns {absent} "
            f"(header: {', '.join(raw_header)})"
        )
    return raw_header, columns


def _read_rows(
    body: list[tuple[int, str]], columns: list[str | None], path: Path
) -> tuple[list[int], dict[str, list[str]]]:
    """Split the data rows into stripped text cells per kept column, with their line numbers."""
    if not body:
        raise ValueError(f"{path}: the file has a header but no data rows")
    lines: list[int] = []
    cells: dict[str, list[str]] = {c: [] for c in columns if c is not None}
    for line_no, text_line in body:
        row = next(csv.reader([text_line]))
        if len(row) != len(columns):
            raise ValueError(
                f"{path}: line {line_no}: {len(row)} fields, the header has {len(columns)}"
            )
        lines.append(line_no)
        for name, value in zip(columns, row, strict=True):
            if name is not None:
                cells[name].append(value.strip())
    return lines, cells


def _single_label(labels: dict[str, list[str]], path: Path) -> str | None:
    """The one value of the label columns (``symbol``, ``name``); several values are an error."""
    symbol = None
    for name, values in labels.items():
        distinct = sorted(set(values))
        if len(distinct) > 1:
            raise ValueError(f"{path}: column {name!r} holds several values {distinct[:5]}")
        symbol = distinct[0] if distinct else symbol
    return symbol


def _numeric_column(
    name: str, values: list[str], lines: list[int], path: Path
) -> tuple[np.ndarray, list[int]]:
    """Parse one column: floats with NaN for empty cells, and the row indices of those cells.

    Non-numeric text is an error, so are infinite values (``inf``, ``Infinity``, or a number
    too large for a float such as ``1e400``), negative values and, in price columns, zero.
    """
    numbers = pd.to_numeric(pd.Series(values, dtype="string"), errors="coerce").to_numpy(
        dtype=float
    )
    empty: list[int] = []
    for i in np.flatnonzero(np.isnan(numbers)):
        if values[i] != "":
            raise ValueError(
                f"{path}: line {lines[i]}: non-numeric value {values[i]!r} in column {name!r}"
            )
        empty.append(int(i))
    infinite = np.flatnonzero(np.isinf(numbers))
    if infinite.size:
        i = int(infinite[0])
        raise ValueError(
            f"{path}: line {lines[i]}: infinite value {values[i]!r} in column {name!r}"
        )
    finite = ~np.isnan(numbers)
    if name in PRICE_COLUMNS:
        bad = np.flatnonzero(finite & (numbers <= 0))
        if bad.size:
            what = "negative" if numbers[bad[0]] < 0 else "zero"
            raise ValueError(
                f"{path}: line {lines[bad[0]]}: {what} price {values[bad[0]]} in column "
                f"{name!r} (prices must be positive)"
            )
    else:
        bad = np.flatnonzero(finite & (numbers < 0))
        if bad.size:
            raise ValueError(
                f"{path}: line {lines[bad[0]]}: negative value {values[bad[0]]} in column {name!r}"
            )
    return numbers, empty


def _check_unique_dates(index: pd.DatetimeIndex, lines: list[int], path: Path) -> None:
    dup = index.duplicated(keep=False)
    if dup.any():
        where = np.flatnonzero(dup)
        first_date = index[where[0]]
        same = [lines[i] for i in where if index[i] == first_date]
        raise ValueError(
            f"{path}: duplicate date {first_date.date()} on lines {', '.join(map(str, same))}"
        )


def _newest_first(index: pd.DatetimeIndex, dates: list[str], lines: list[int], path: Path) -> bool:
    """Whether the file's dates run newest first; they must run one way, strictly.

    The first two rows set the direction (a single row counts as oldest first). Run after
    :func:`_check_unique_dates`, so no two dates are equal. A date that goes the other way is
    an error naming its line: a file whose rows are shuffled is not silently sorted.
    """
    steps = np.diff(index.to_numpy())
    descending = bool(steps.size and steps[0] < np.timedelta64(0))
    wrong = np.flatnonzero(steps > np.timedelta64(0) if descending else steps < np.timedelta64(0))
    if wrong.size:
        i = int(wrong[0]) + 1
        raise ValueError(
            f"{path}: line {lines[i]}: date {dates[i]!r} is out of order: the dates run "
            f"{'newest' if descending else 'oldest'} first from line {lines[0]}, and line "
            f"{lines[i - 1]} has {dates[i - 1]!r}"
        )
    return descending


def _apply_missing_policy(
    frame: pd.DataFrame,
    empty_rows: dict[int, list[str]],
    lines: list[int],
    missing: str,
    path: Path,
) -> tuple[pd.DataFrame, list[dict]]:
    """Keep, drop or refuse the rows with empty price fields; warn when keeping or dropping.

    Returns the frame and the list of those rows (line, date, empty columns), in file order.
    """
    index = frame.index
    missing_list = [
        {"line": lines[i], "date": str(index[i].date()), "columns": cols}
        for i, cols in sorted(empty_rows.items())
    ]
    if not missing_list:
        return frame, missing_list
    described = "; ".join(
        f"line {m['line']} ({m['date']}): {', '.join(m['columns'])}" for m in missing_list[:5]
    )
    more = f" and {len(missing_list) - 5} more" if len(missing_list) > 5 else ""
    if missing == "raise":
        raise ValueError(f"{path}: empty price fields on {described}{more}")
    action = "dropped those rows" if missing == "drop" else "kept the rows with NaN in those cells"
    # The file name only (not the directory), so the message is the same on every machine.
    # stacklevel 3: the warning points at the code that called read_prices.
    warnings.warn(
        f"{path.name}: empty fields on {described}{more}; {action}",
        MissingFieldsWarning,
        stacklevel=3,
    )
    if missing == "drop":
        frame = frame.drop(index=[index[i] for i in sorted(empty_rows)])
    return frame, missing_list


def read_prices(
    path: str | os.PathLike,
    missing: Literal["keep", "drop", "raise"] = "keep",
) -> pd.DataFrame:
    """Read a daily price CSV in any of the sources' layouts into one validated frame.

    Returns a frame with an ascending DatetimeIndex ``date`` and float columns ``open high low
    close`` (plus ``adj_close``, ``volume``, ``volume_quote`` when the file has them).
    ``attrs`` holds ``path``, ``file``, ``sha256``, ``layout``, ``symbol``, ``newest_first``,
    ``missing`` (rows with empty fields), ``ignored_columns`` (header names of columns not
    kept, e.g. a Unix timestamp) and ``source``. The rows must be in date order, oldest first
    or newest first (``newest_first``); the frame is sorted oldest first. Raises ValueError
    naming the file and line for: an empty file, missing required columns, unparseable or
    duplicate dates, dates out of order, non-numeric or infinite values, negative values,
    non-positive prices. ``missing`` is the policy for empty price fields (see the module
    docstring).
    """
    if missing not in ("keep", "drop", "raise"):
        raise ValueError(f"missing must be 'keep', 'drop' or 'raise', got {missing!r}")
    path = Path(path)
    raw, numbered = _numbered_lines(path)
    header_at = _header_position(numbered)
    raw_header, columns = _read_header(*numbered[header_at], path)
    lines, cells = _read_rows(numbered[header_at + 1 :], columns, path)

    dates = cells.pop("date")
    index = _parse_dates(dates, lines, path)
    symbol = _single_label({c: cells.pop(c) for c in LABEL_COLUMNS if c in cells}, path)
    frame = pd.DataFrame(index=index)
    empty_rows: dict[int, list[str]] = {}
    for name in (c for c in (*PRICE_COLUMNS, *VOLUME_COLUMNS) if c in cells):
        frame[name], empty = _numeric_column(name, cells[name], lines, path)
        for i in empty:
            empty_rows.setdefault(i, []).append(name)
    _check_unique_dates(index, lines, path)
    newest_first = _newest_first(index, dates, lines, path)
    frame, missing_list = _apply_missing_policy(frame, empty_rows, lines, missing, path)
    frame = frame.sort_index()
    frame.attrs.update(
        {
            "path": str(path),
            "file": path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "layout": _layout(columns),
            "ignored_columns": [h for h, c in zip(raw_header, columns, strict=True) if c is None],
            "symbol": symbol,
            "newest_first": newest_first,
            "missing": missing_list,
            "missing_policy": missing,
            "synthetic": False,
            "source": f"file {path.name}",
        }
    )
    return frame


# --------------------------------------------------------------------------- data directory


def data_dir() -> Path | None:
    """The directory named by :data:`DATA_ENV`, or None when the variable is unset or empty."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def data_file(name: str) -> Path | None:
    """``name`` inside :func:`data_dir`, or None when the directory or the file is absent."""
    root = data_dir()
    if root is None:
        return None
    path = root / name
    return path if path.is_file() else None


def _absence_reason(name: str) -> str:
    root = data_dir()
    if root is None:
        return f"${DATA_ENV} is not set"
    return f"{name} not found in {root}"


def check_known_file(path: str | os.PathLike, sha256: str | None = None) -> bool:
    """Compare a file's sha256 with :data:`KNOWN_SHA256`; warn with both hashes on a mismatch.

    Returns True when the hash is the known one, False otherwise (also for unknown names).
    """
    path = Path(path)
    known = KNOWN_SHA256.get(path.name)
    actual = sha256 or sha256_of(path)
    if known is None:
        return False
    if actual != known:
        warnings.warn(
            f"{path.name}: sha256 {actual} differs from the book's {known}; results will "
            "differ from the published ones",
            ChecksumWarning,
            stacklevel=2,
        )
        return False
    return True


def _read_known(path: Path, missing: str) -> pd.DataFrame:
    # Empty fields are reported through describe_source(), which every notebook prints,
    # rather than as a warning on stderr (whose text carries machine-specific paths).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_prices(path, missing=missing)
    for w in caught:
        if not issubclass(w.category, MissingFieldsWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    verified = check_known_file(path, frame.attrs["sha256"])
    frame.attrs["checksum_ok"] = verified
    return frame


def describe_source(frame: pd.DataFrame) -> str:
    """One line saying which data a frame holds: file or fallback, span and length."""
    if len(frame.index) == 0:
        raise ValueError("frame is empty")
    span = f"{frame.index[0].date()} to {frame.index[-1].date()}, {len(frame)} rows"
    source = frame.attrs.get("source", "unknown source")
    note = ""
    if "checksum_ok" in frame.attrs:
        note = ", sha256 verified" if frame.attrs["checksum_ok"] else ", sha256 DIFFERS"
    gaps = frame.attrs.get("missing") or []
    if gaps:
        action = "dropped" if frame.attrs.get("missing_policy") == "drop" else "kept as NaN"
        shown = "; ".join(f"{m['date']} ({', '.join(m['columns'])})" for m in gaps[:3])
        more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
        note += f"; {len(gaps)} row(s) with empty fields, {action}: {shown}{more}"
    if frame.attrs.get("fallback_reason"):
        note += f" (real file not used: {frame.attrs['fallback_reason']})"
    return f"Data: {source}, {span}{note}"


# --------------------------------------------------------------------------- loaders


def synthetic_bitcoin(
    n_days: int = BITCOIN_DAYS,
    seed: int = 0,
    start: str = BITCOIN_START,
    first_close: float = BITCOIN_FIRST_CLOSE,
    tail_df: float = 3.0,
) -> pd.DataFrame:
    """A seeded synthetic daily price series shaped like Bitcoin 2014-2018. Not real data.

    The close is a geometric random walk whose daily log returns have exactly the sample mean
    and standard deviation of the real file's (:data:`BITCOIN_LOG_RETURN_MEAN`,
    :data:`BITCOIN_LOG_RETURN_STD`); the returns are Student-t with ``tail_df`` degrees of
    freedom for heavy tails (the real kurtosis, driven by the January 2015 crash, is not
    matched). Open is the previous close; high and low widen the open-close range by a random
    fraction. Columns ``open high low close``; ``attrs["synthetic"]`` is True.
    """
    n_days = check_int("n_days", n_days, minimum=3)
    seed = check_int("seed", seed, minimum=0)
    if not first_close > 0:
        raise ValueError(f"first_close must be positive, got {first_close}")
    if not tail_df > 2:
        raise ValueError(f"tail_df must be > 2 (finite variance), got {tail_df}")
    rng = np.random.default_rng(seed)
    z = rng.standard_t(tail_df, size=n_days - 1)
    z = (z - z.mean()) / z.std(ddof=1)
    log_returns = BITCOIN_LOG_RETURN_MEAN + BITCOIN_LOG_RETURN_STD * z
    close = first_close * np.exp(np.concatenate([[0.0], np.cumsum(log_returns)]))
    open_ = np.concatenate([[first_close], close[:-1]])
    spread = np.abs(rng.normal(0.0, BITCOIN_LOG_RETURN_STD / 2, size=(2, n_days)))
    high = np.maximum(open_, close) * np.exp(spread[0])
    low = np.minimum(open_, close) * np.exp(-spread[1])
    index = pd.date_range(start, periods=n_days, freq="D", name="date")
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index)
    frame.attrs.update(
        {
            "synthetic": True,
            "symbol": "SYNTHETIC-BTCUSD",
            "seed": seed,
            "source": f"SYNTHETIC Bitcoin-like series (seed {seed}), not real prices",
        }
    )
    return frame


def load_bitcoin(missing: Literal["keep", "drop", "raise"] = "keep", seed: int = 0):
    """Bitcoin/USD daily from ``btc.csv`` in the data directory, else a synthetic stand-in.

    The fallback is :func:`synthetic_bitcoin` with ``seed``, clearly marked: ``attrs
    ["synthetic"]`` is True and ``attrs["fallback_reason"]`` says why the file was not used.
    """
    path = data_file(BITCOIN_FILE)
    if path is not None:
        frame = _read_known(path, missing)
        frame.attrs["source"] = (
            f"real file {BITCOIN_FILE} (Coinbase BTC/USD via CryptoDataDownload)"
        )
        return frame
    frame = synthetic_bitcoin(seed=seed)
    frame.attrs["fallback_reason"] = _absence_reason(BITCOIN_FILE)
    return frame


def bokeh_stock(ticker: str) -> pd.DataFrame:
    """Daily prices of ``ticker`` from the ``bokeh_sampledata`` package (no download).

    Real, public-domain Quandl WIKI prices from 2000-03-01 to 2013-03-01 shipped inside the
    package; open, high, low, close and volume unadjusted, ``adj_close`` adjusted.
    """
    ticker = str(ticker).upper()
    if ticker not in FALLBACK_TICKERS:
        raise ValueError(f"ticker must be one of {list(FALLBACK_TICKERS)}, got {ticker!r}")
    import bokeh_sampledata
    from bokeh_sampledata import stocks

    raw = getattr(stocks, ticker)
    index = pd.DatetimeIndex(pd.to_datetime(raw["date"], format="%Y-%m-%d"), name="date")
    frame = pd.DataFrame(
        {c: np.asarray(raw[c], dtype=float) for c in ("open", "high", "low", "close", "adj_close")},
        index=index,
    )
    frame["volume"] = np.asarray(raw["volume"], dtype=float)
    if frame.index.has_duplicates or not frame.index.is_monotonic_increasing:
        raise ValueError(f"bokeh_sampledata {ticker}: dates are not strictly increasing")
    if frame.isna().to_numpy().any() or (frame[["open", "high", "low", "close"]] <= 0).any().any():
        raise ValueError(f"bokeh_sampledata {ticker}: missing or non-positive prices")
    frame.attrs.update(
        {
            "synthetic": False,
            "symbol": ticker,
            "source": (
                f"bokeh_sampledata {bokeh_sampledata.__version__} stocks.{ticker} "
                "(Quandl WIKI, public domain)"
            ),
        }
    )
    return frame


def load_stock(ticker: str, missing: Literal["keep", "drop", "raise"] = "keep") -> pd.DataFrame:
    """Daily prices of ``ticker`` (IBM, MSFT) from the data directory, else ``bokeh_sampledata``.

    The real files: IBM from Kaggle's "DJIA 30" set (2006-2017), MSFT from a Yahoo export
    (2018-2023). The fallback has the same ticker's real prices for 2000-2013, so the
    dates and levels differ from the book's (``attrs["fallback_reason"]`` says why).
    """
    ticker = str(ticker).upper()
    if ticker not in STOCK_FILES:
        raise ValueError(f"ticker must be one of {sorted(STOCK_FILES)}, got {ticker!r}")
    name = STOCK_FILES[ticker]
    path = data_file(name)
    if path is not None:
        frame = _read_known(path, missing)
        frame.attrs["source"] = f"real file {name}"
        return frame
    frame = bokeh_stock(ticker)
    frame.attrs["fallback_reason"] = _absence_reason(name)
    return frame
