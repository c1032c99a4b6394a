"""The errors a user can cause, in one place.

Every problem with what a user gave convsim — a scenario, sweep or parameter
file, a command-line option, an output path — is an :class:`InputError` whose
message is one line naming the file, option or key and what is allowed. The
command line turns it into that line on stderr and exit status 2; nothing is
written before such a check has passed.
"""


class InputError(Exception):
    """Something the user gave is wrong; the message is one line for the user."""
