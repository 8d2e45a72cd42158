"""Flask Study Guide: the course tool behind the `studyguide` command."""

__version__ = "0.1.0"
