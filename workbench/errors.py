"""One root for every error the workbench raises on purpose: :class:`WorkbenchError`.

The subclasses name the cause, so a caller (the CLI, a scheduled job, a notebook)
can tell bad input from an unreachable server without parsing messages. Errors
about bad input also derive from :class:`ValueError`, as scikit-learn and pandas
callers expect; an unreachable server or a failed run does not.

:class:`DataWarning` is for input the workbench can use but a person should look at (data
left out, an assumption made); it prints as ``Note: ...`` in notebooks and reports.
"""

from __future__ import annotations

import warnings

__all__ = [
    "BusyError",
    "ConfigError",
    "ConflictingSamplesError",
    "DataError",
    "DataWarning",
    "DeliveryError",
    "ForecastError",
    "LabelError",
    "ParameterError",
    "ReportError",
    "ServerError",
    "SourceError",
    "StoreError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Root of the package's errors; the CLI catches this one and exits 2 or 1."""

    #: The CLI's exit status for this cause: 2 = bad input or configuration, 1 = a run failed.
    exit_status = 2


class ConfigError(WorkbenchError, ValueError):
    """A configuration file or value that cannot be used; the message names the key."""


class ParameterError(WorkbenchError, ValueError):
    """A bad argument or notebook parameter: unknown name, wrong type, out of range."""


class DataError(WorkbenchError, ValueError):
    """Input data that breaks a contract: missing columns, bad timestamps, too little history."""


class ConflictingSamplesError(DataError):
    """Two different values for the same service, metric and time (local times across a DST change, often)."""


class DataWarning(UserWarning):
    """Input the workbench can use but a person should look at (data left out, an assumption made)."""


_FORMAT_WARNING = warnings.formatwarning


def _format_warning(message, category, filename, lineno, line=None) -> str:
    # A data warning is for the reader of a notebook or report: the note, not our source path.
    if issubclass(category, DataWarning):
        return f"Note: {message}\n"
    return _FORMAT_WARNING(message, category, filename, lineno, line)


warnings.formatwarning = _format_warning


class LabelError(DataError):
    """An incident-log edit that would break the log (unknown service, overlap, bad times)."""


class ForecastError(DataError):
    """A series that cannot be forecast (too short, empty, all missing)."""


class SourceError(WorkbenchError):
    """A metric source that could not be reached or answered with an error (not bad data)."""

    exit_status = 1


class StoreError(WorkbenchError):
    """The metric store could not be read or written."""

    exit_status = 1


class DeliveryError(WorkbenchError):
    """An alert sink could not deliver an event.

    ``retry`` says whether trying again may help (a timeout, a refused connection, HTTP 429
    or 5xx) or not (any other 4xx: the event goes to the dead letters with ``reason``).
    ``reached`` says the receiver may have taken it all the same (a timeout after sending):
    such a trigger is never held back as a late page, so its resolve follows it.
    """

    exit_status = 1

    def __init__(self, reason: str, *, retry: bool, reached: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.reached = reached


class ReportError(WorkbenchError):
    """A report run that cannot start: unknown notebooks, a bad or taken run id.

    (A notebook that fails during a run is recorded in the run's result, not raised.)
    """


class BusyError(WorkbenchError):
    """Another run holds what this one needs (a retrain of the same service): nothing was changed; try later."""

    exit_status = 1


class ServerError(WorkbenchError):
    """A throwaway test server (:mod:`workbench.testing`) did not start or answer."""

    exit_status = 1
