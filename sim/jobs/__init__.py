"""The application core: every job as a library function, and what long jobs share.

:mod:`sim.jobs.control` holds the progress-and-cancellation handle every long
job takes (:class:`~sim.jobs.control.Control`) and :func:`~sim.jobs.control.background`,
which runs a job in a thread and returns its future.
"""

from sim.jobs.control import Cancelled, Control, ProgressEvent, background

__all__ = ["Cancelled", "Control", "ProgressEvent", "background"]
