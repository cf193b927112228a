import numpy as np
import pytest

from tutorials_lib.tasks import delayed_recall


@pytest.mark.parametrize(
    "length,min_delay,max_delay", [(1, 0, None), (10, 0, None), (12, 3, 7), (12, 7, 7)]
)
def test_recall_target_is_the_marked_value(length, min_delay, max_delay):
    x, y, delay = delayed_recall(300, length, min_delay, max_delay, seed=1)
    assert x.shape == (300, length, 2) and y.shape == (300,) and delay.shape == (300,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    top = length - 1 if max_delay is None else max_delay
    assert delay.min() >= min_delay and delay.max() <= top
    marker = x[:, :, 1]
    np.testing.assert_array_equal(marker.sum(axis=1), 1.0)  # exactly one marked step
    np.testing.assert_array_equal(marker.argmax(axis=1), length - 1 - delay)
    np.testing.assert_array_equal(x[np.arange(300), length - 1 - delay, 0], y)
    if min_delay == max_delay:  # a fixed delay: the marker is on the same step everywhere
        np.testing.assert_array_equal(delay, min_delay)


def test_recall_covers_every_delay_and_baseline_is_one_third():
    x, y, delay = delayed_recall(6000, 10, seed=0)
    np.testing.assert_array_equal(np.unique(delay), np.arange(10))
    assert np.all((x[:, :, 0] >= -1) & (x[:, :, 0] < 1))
    assert abs(np.mean(y**2) - 1 / 3) < 0.02  # the constant forecast 0
    # the last value gives the answer only at delay 0
    last = x[:, -1, 0]
    np.testing.assert_array_equal(last[delay == 0], y[delay == 0])
    assert np.mean(last[delay > 0] == y[delay > 0]) == 0.0


def test_same_seed_same_data():
    a = delayed_recall(10, 4, seed=3)
    b = delayed_recall(10, 4, seed=3)
    c = delayed_recall(10, 4, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: delayed_recall(0, 3), "n must be >= 1"),
        (lambda: delayed_recall(5, 0), "length must be >= 1"),
        (lambda: delayed_recall(5, 4, min_delay=-1), "min_delay must be >= 0"),
        (lambda: delayed_recall(5, 4, max_delay=2.5), "max_delay must be an integer"),
        (lambda: delayed_recall(5, 4, max_delay=4), "max_delay <= length - 1"),
        (lambda: delayed_recall(5, 4, min_delay=3, max_delay=2), "min_delay <= max_delay"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
