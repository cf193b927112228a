"""Print the wall time of one training epoch of chapter 4's network (LSTM(256), batch 7).

The chapter's default-parameter budget (2 minutes on a 2-core CPU) is set by this figure:
about 130 batches of 7 windows per epoch, and a few seconds of tracing per fresh model.

    .venv/bin/python benchmarks/bitcoin_epoch_time.py [epochs]
"""

from __future__ import annotations

import sys
import time

from tutorials_lib.repro import configure_tensorflow_env

configure_tensorflow_env()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tutorials_lib.repro import set_seed  # noqa: E402

WINDOWS, LOOKBACK, UNITS, BATCH = 916, 7, 256, 7


def main(epochs: int = 3) -> None:
    set_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(WINDOWS, LOOKBACK, 1)).astype("float32")
    y = rng.normal(size=WINDOWS).astype("float32")
    model = keras.Sequential(
        [keras.Input((LOOKBACK, 1)), keras.layers.LSTM(UNITS), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.001, global_clipnorm=4.0), loss="mse")
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)
        label = "first (includes tracing)" if epoch == 1 else "later"
        print(f"epoch {epoch} ({label}): {time.perf_counter() - start:.2f} s wall")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
