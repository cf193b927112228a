"""Memory of lookback windows: materialised copies, strided views, and a streamed tf.data set.

For a series of ``n`` two-column vectors and a lookback of 100 (chapter 7's setting), three ways
to hand the windows to a model:

* materialised: every window copied into one (n - 100, 100, 2) array, as older tutorials do;
* view: :func:`tutorials_lib.windows.sliding_windows`, a strided read-only view of the series;
* streamed: ``keras.utils.timeseries_dataset_from_array``, which builds each batch on demand.

Peak memory allocated while building (and, for the stream, iterating) is measured with
(for the view, the only allocation is the one-byte-per-value finite check of the input)
``tracemalloc`` for the NumPy paths; TensorFlow allocates outside Python's allocator, so for the
stream the figure is the largest batch it yields (batch x 100 x 2 x 4 bytes) plus nothing
per window. Writes ``benchmarks/results/window_memory.json``.

    .venv/bin/python benchmarks/window_memory.py
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

from tutorials_lib.repro import configure_tensorflow_env  # imports no TensorFlow

configure_tensorflow_env(keep_existing=True, pin_threads=False)  # TensorFlow's own threads
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tutorials_lib.windows import sliding_windows  # noqa: E402

LOOKBACK = 100
BATCH = 450
SIZES = (4_000, 40_000, 400_000)


def peak_bytes(build) -> tuple[int, object]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = build()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, result


def materialised(series: np.ndarray) -> np.ndarray:
    n = len(series) - LOOKBACK
    return np.stack([series[i : i + LOOKBACK] for i in range(n)])


def streamed_peak_batch(series: np.ndarray) -> tuple[int, int]:
    import keras

    data = keras.utils.timeseries_dataset_from_array(
        series[:-1], None, sequence_length=LOOKBACK, batch_size=BATCH, shuffle=False
    )
    largest, windows = 0, 0
    for batch in data:
        largest = max(largest, int(np.prod(batch.shape)) * batch.dtype.size)
        windows += int(batch.shape[0])
    return largest, windows


def main() -> None:
    rows = []
    for n in SIZES:
        series = np.random.default_rng(0).normal(size=(n, 2))
        copy_peak, copy = peak_bytes(lambda s=series: materialised(s))
        view_peak, (view, _) = peak_bytes(lambda s=series: sliding_windows(s, LOOKBACK))
        np.testing.assert_array_equal(copy, view)
        stream_batch, stream_windows = streamed_peak_batch(series.astype(np.float32))
        assert stream_windows == len(view)
        rows.append(
            {
                "n": n,
                "windows": len(view),
                "series_bytes": int(series.nbytes),
                "materialised_bytes": int(copy.nbytes),
                "materialised_peak_bytes": int(copy_peak),
                "view_peak_bytes": int(view_peak),
                "view_shares_series": bool(np.shares_memory(view, series)),
                "streamed_largest_batch_bytes": stream_batch,
            }
        )
        del copy
    out = {"lookback": LOOKBACK, "features": 2, "batch": BATCH, "rows": rows}
    path = ROOT / "benchmarks" / "results" / "window_memory.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{'n':>8} {'materialised MiB':>17} {'view extra KiB':>15} {'stream batch KiB':>17}")
    for r in rows:
        print(f"{r['n']:>8} {r['materialised_peak_bytes'] / 2**20:>17.1f} "
              f"{r['view_peak_bytes'] / 2**10:>15.1f} {r['streamed_largest_batch_bytes'] / 2**10:>17.1f}")  # fmt: skip
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
