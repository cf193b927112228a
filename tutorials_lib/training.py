"""Training a model from a seed, with the epoch count chosen on past data only.

Chapters train the same architecture on several seeds and compare them; these helpers make
each run one call that is reproducible from its seed:

* :func:`fit_seeded` seeds everything, builds a fresh model, compiles and fits it.
* :func:`choose_epochs` holds out the *last* part of the training windows (a chronological
  validation slice), trains on the rest and returns the epoch with the lowest validation
  loss; :func:`fit_with_chosen_epochs` then refits on *all* training windows with that count,
  so no training target is wasted and the test span is never looked at.
* :func:`predict` runs the model in batches through one compiled call (``predict`` itself
  costs tens of milliseconds a call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.repro import set_seed

__all__ = ["FitResult", "choose_epochs", "fit_seeded", "fit_with_chosen_epochs", "predict"]

#: A model builder: takes a seed, returns a fresh, uncompiled Keras model.
Builder = Callable[[int], keras.Model]
#: An optimizer factory: returns a fresh optimizer (optimizers keep state, so never share one).
OptimizerFactory = Callable[[], keras.optimizers.Optimizer]


@dataclass
class FitResult:
    """A trained model and its per-epoch losses (``val_loss`` empty without validation)."""

    model: keras.Model
    loss: np.ndarray
    val_loss: np.ndarray
    epochs: int
    seed: int


def _arrays(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = as_float_array("X", X, ndim=(2, 3)).astype(np.float32)
    y = as_float_array("y", y, ndim=(1, 2)).astype(np.float32)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    return X, y


def fit_seeded(
    build: Builder,
    X,
    y,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    optimizer: OptimizerFactory = lambda: keras.optimizers.Adam(1e-3),
    validation: tuple | None = None,
    shuffle: bool = True,
    loss: str = "mse",
) -> FitResult:
    """Seed Python/NumPy/Keras with ``seed``, build ``build(seed)``, compile and fit it.

    The same seed gives the same weights, batch order and dropout masks, so two
    configurations trained on the same seeds can be compared seed by seed.
    """
    X, y = _arrays(X, y)
    seed = check_int("seed", seed, minimum=0)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    set_seed(seed)
    model = build(seed)
    model.compile(optimizer=optimizer(), loss=loss)
    val = None if validation is None else _arrays(*validation)
    history = model.fit(
        X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, validation_data=val, verbose=0
    )
    return FitResult(
        model=model,
        loss=np.asarray(history.history["loss"], dtype=np.float64),
        val_loss=np.asarray(history.history.get("val_loss", []), dtype=np.float64),
        epochs=epochs,
        seed=seed,
    )


def choose_epochs(
    build: Builder,
    X,
    y,
    *,
    seed: int,
    max_epochs: int,
    batch_size: int,
    validation_fraction: float = 0.1,
    optimizer: OptimizerFactory = lambda: keras.optimizers.Adam(1e-3),
    shuffle: bool = True,
) -> tuple[int, FitResult]:
    """The epoch count (1..max_epochs) with the lowest loss on the last ``validation_fraction``.

    The validation slice is the latest part of the training windows, so the choice uses
    only the past. Returns ``(best_epochs, result_of_the_search_run)``.
    """
    X, y = _arrays(X, y)
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    cut = len(X) - int(round(len(X) * validation_fraction))
    if cut < 1 or cut >= len(X):
        raise ValueError(
            f"validation_fraction {validation_fraction} leaves no training or no validation "
            f"windows out of {len(X)}"
        )
    search = fit_seeded(
        build, X[:cut], y[:cut], seed=seed, epochs=max_epochs, batch_size=batch_size,
        optimizer=optimizer, validation=(X[cut:], y[cut:]), shuffle=shuffle,
    )  # fmt: skip
    return int(np.argmin(search.val_loss)) + 1, search


def fit_with_chosen_epochs(
    build: Builder,
    X,
    y,
    *,
    seed: int,
    max_epochs: int,
    batch_size: int,
    validation_fraction: float = 0.1,
    optimizer: OptimizerFactory = lambda: keras.optimizers.Adam(1e-3),
    shuffle: bool = True,
) -> tuple[FitResult, FitResult]:
    """Choose the epoch count on a chronological validation slice, then refit on all of X, y.

    Returns ``(final, search)``: the model refitted on every training window with the chosen
    count, and the search run (its ``val_loss`` curve shows why that count was chosen).
    """
    best, search = choose_epochs(
        build, X, y, seed=seed, max_epochs=max_epochs, batch_size=batch_size,
        validation_fraction=validation_fraction, optimizer=optimizer, shuffle=shuffle,
    )  # fmt: skip
    final = fit_seeded(
        build, X, y, seed=seed, epochs=best, batch_size=batch_size, optimizer=optimizer,
        shuffle=shuffle,
    )  # fmt: skip
    return final, search


def predict(model: keras.Model, X, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for every window of ``X``, in batches, without ``predict``'s overhead.

    Returns (n,) for a single-output model, else (n, outputs).
    """
    X = as_float_array("X", X, ndim=(2, 3)).astype(np.float32)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    out = np.concatenate(
        [
            np.asarray(model.predict_on_batch(X[i : i + batch_size]))
            for i in range(0, len(X), batch_size)
        ]
    ).astype(np.float64)
    return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out
