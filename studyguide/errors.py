"""The one base class of the course tool's own errors.

The command line turns a :class:`StudyguideError` into a message and exit status 2; any other
exception is a bug and keeps its traceback.
"""


class StudyguideError(Exception):
    """A problem with the course, its input or its environment that the user can fix."""
