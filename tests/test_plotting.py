import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tutorials_lib import plotting  # noqa: E402


def test_house_style_is_applied():
    matplotlib.rcParams["axes.grid"] = False
    plotting.use_house_style()
    assert matplotlib.rcParams["axes.grid"] is True
    assert matplotlib.rcParams["axes.spines.top"] is False


def test_new_axes_is_labelled():
    ax = plotting.new_axes("Close price", "date", "price (USD)")
    assert ax.get_title() == "Close price"
    assert ax.get_xlabel() == "date" and ax.get_ylabel() == "price (USD)"
    plt.close(ax.figure)


@pytest.mark.parametrize("missing", ["title", "xlabel", "ylabel"])
def test_label_refuses_missing_text(missing):
    texts = {"title": "t", "xlabel": "x", "ylabel": "y", missing: "  "}
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=f"needs a {missing}"):
        plotting.label(ax, **texts)
    plt.close(fig)


def test_colors_have_distinct_meanings():
    assert len(set(plotting.COLORS.values())) == len(plotting.COLORS)
