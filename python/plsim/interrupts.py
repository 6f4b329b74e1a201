"""Ctrl-C while a Python hook runs: the run stops after the hook, not inside it.

A hook interrupted half-way may have changed its own Python state (a counter, a random generator, a
cache) before the interrupt; run again on resume, it would not do what the uninterrupted run did. So
while a hook runs, the first Ctrl-C is held until the hook returns and then stops the run between two
hooks, from where run() resumes exactly. A second Ctrl-C interrupts the hook itself (for a hook that
hangs): its writes to the engine are undone, and the Sim then refuses to resume unless told to run the
hook again (Sim.run(rerun_interrupted_hook=True)).
"""
from __future__ import annotations

import signal
import sys
import threading


_MAIN_THREAD = threading.main_thread().ident
_held: list = []  # the HeldInterrupts entered in this thread under a dispatching handler, innermost last
_dispatching = [0]  # RunInterrupts that installed _dispatch and are still inside (saves a getsignal a hook)


def _dispatch(signum, frame) -> None:
    """The SIGINT handler while a run with hooks is in progress (RunInterrupts): KeyboardInterrupt, as
    Python's default handler raises, unless a hook is running, whose HeldInterrupt then decides."""
    if not _held:
        raise KeyboardInterrupt
    _held[-1]._handler(signum, frame)


class RunInterrupts:
    """Context manager around a run with hooks: installs _dispatch once, so that each hook's
    HeldInterrupt only marks itself active instead of swapping the process's SIGINT handler twice
    (two system calls a hook, a tenth of a weekly hook's cost). Changes nothing outside the main thread
    or under a handler other than Python's default."""

    def __init__(self):
        self._previous = None

    def __enter__(self) -> "RunInterrupts":
        if threading.get_ident() == _MAIN_THREAD and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, _dispatch)
            _dispatching[0] += 1
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            _dispatching[0] -= 1


class HeldInterrupt:
    """Context manager: while inside, the first SIGINT is held (`pending`), a second raises
    KeyboardInterrupt. Outside the main thread, or under a SIGINT handler other than Python's default
    (or RunInterrupts' dispatcher), it changes nothing (signals go to the main thread only; a custom
    handler is the user's)."""

    def __init__(self, label: str):
        self.label = label
        self.pending = False  # a Ctrl-C came and waits for the hook to return
        self.forced = False   # a second one interrupted the hook
        self._previous = None
        self._dispatched = False

    def __enter__(self) -> "HeldInterrupt":
        if threading.get_ident() != _MAIN_THREAD:
            return self
        handler = _dispatch if _dispatching[0] else signal.getsignal(signal.SIGINT)
        if handler is _dispatch:
            _held.append(self)
            self._dispatched = True
        elif handler is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        if self.pending:
            self.forced = True
            raise KeyboardInterrupt
        self.pending = True
        print(f"plsim: stopping after {self.label} returns (Ctrl-C again to interrupt it)", file=sys.stderr)

    def __exit__(self, *exc) -> None:
        if self._dispatched:
            _held.remove(self)
        elif self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
