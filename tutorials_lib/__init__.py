"""Helpers for the executable book on recurrent networks for time series.

One module per concern; importing the package does not import TensorFlow, so a
chapter can set the TensorFlow environment first (see :mod:`tutorials_lib.repro`).
"""

# The modules are imported one by one (``from tutorials_lib import windows``), never all at once.
__all__ = ["__version__"]

__version__ = "0.1.0"
