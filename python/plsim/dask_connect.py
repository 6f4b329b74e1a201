"""Reaching a Dask scheduler: a wrong address fails in a few seconds with one line that says what to do,
instead of Dask's 30 s wait and an OSError traceback. Used by --scheduler (commands.args.dask_client)
and by plsim worker."""
from __future__ import annotations

import asyncio

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_SECONDS = 3.0


class SchedulerUnreachable(OSError):
    """No Dask scheduler answered at an address (or the address is not one)."""


def _explained(address: str, seconds: float, error: Exception) -> SchedulerUnreachable:
    if isinstance(error, ValueError):  # not an address: no scheme or port, an unknown scheme
        reason = f"not a scheduler address ({error}); give it as tcp://HOST:PORT"
    else:
        reason = (f"no answer within {seconds:g} s; start one with `.venv/bin/python -m "
                  f"distributed.cli.dask_scheduler` (or `dask scheduler`) and pass the address it prints, e.g. "
                  f"tcp://HOST:8786")
    return SchedulerUnreachable(f"cannot reach a Dask scheduler at {address}: {reason}")


def check_scheduler(address: str, seconds: float = CONNECT_SECONDS) -> None:
    """Raises SchedulerUnreachable unless a Dask scheduler answers at `address` within `seconds`."""
    from distributed.comm import connect

    async def probe() -> None:
        comm = await connect(address, timeout=seconds)
        await comm.close()

    try:
        asyncio.run(probe())
    except (OSError, ValueError, asyncio.TimeoutError) as error:
        raise _explained(address, seconds, error) from None


def connect_client(address: str, seconds: float = CONNECT_SECONDS):
    """A dask.distributed Client of the scheduler at `address`, or SchedulerUnreachable within `seconds`."""
    from dask.distributed import Client

    try:
        return Client(address, timeout=seconds)
    except (OSError, ValueError, asyncio.TimeoutError) as error:
        raise _explained(address, seconds, error) from None
