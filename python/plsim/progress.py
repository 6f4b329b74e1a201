"""Progress bars that never break a run: tqdm's widget bar where a Jupyter frontend can draw it, its
plain text bar everywhere else.

Why not `tqdm.auto`: in any Jupyter kernel it picks the widget bar, and Debian 12's ipywidgets (6.0)
speaks a widget protocol that current frontends do not: nbclient (a notebook executed headless, as
the tests and `jupyter nbconvert --execute` do) fails the whole cell with `KeyError: 'state'`. Widgets
of ipywidgets 7 and later use the protocol every current frontend reads, so they are used when present.
"""
from __future__ import annotations

import os

#: Environment variable forcing the text bar (`PLSIM_PROGRESS=text`), e.g. for a frontend that
#: cannot draw widgets although the kernel has a recent ipywidgets.
ENV = "PLSIM_PROGRESS"


def widgets_usable() -> bool:
    """Whether a widget bar would be drawn: inside a Jupyter kernel, with ipywidgets 7 or later, and
    PLSIM_PROGRESS not set to "text"."""
    if os.environ.get(ENV, "").strip().lower() == "text":
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return False  # plain Python, or IPython in a terminal
    try:
        import ipywidgets
    except ImportError:
        return False
    try:
        major = int(str(ipywidgets.__version__).split(".")[0])
    except ValueError:
        return False
    return major >= 7


def progress_bar(*, total: int, unit: str, desc: str | None = None):
    """A tqdm bar of `total` `unit`s: the widget bar where widgets_usable(), else the text bar."""
    if widgets_usable():
        from tqdm.notebook import tqdm as widget_bar

        return widget_bar(total=total, unit=unit, desc=desc)
    from tqdm.std import tqdm as text_bar

    return text_bar(total=total, unit=unit, desc=desc)
