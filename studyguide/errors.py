"""The one base class of the course tool's own errors.

The command line turns a :class:`StudyguideError` into a message and exit status 2; any other
exception is a bug and keeps its traceback. Subclasses keep the built-in exception they refine
as a second base (``ManifestError`` is also a ``ValueError``), so existing callers still work.
"""


class StudyguideError(Exception):
    """A problem with the course, its input or its environment that the user can fix."""


class CourseFileMissing(StudyguideError, FileNotFoundError):
    """A folder or file the course needs is not there."""


class ReleaseError(StudyguideError, FileExistsError):
    """The student edition cannot be written where or how it was asked for."""
