"""Grading students' labs and notebooks: the verdict is computed only where student code never runs.

The runner (:mod:`studyguide.grading.runner`) grades one lab: the hidden graders run in a
trusted pytest process and reach the student's app, sandboxed in another process, through the
channel of :mod:`studyguide.grading.channel`. Class grading (:mod:`~studyguide.grading.classroom`),
the gradebook and the exports build on it. See docs/architecture.md, "Grading and trust".
"""

_EXPORTS = ("GraderError", "GradersMissing", "LabResult", "Limits", "SubmissionError",
            "TestResult", "grade_lab", "grader_paths")


def __getattr__(name):
    """Import the runner only when one of its names is used (it imports the test runner)."""
    if name in _EXPORTS:
        from studyguide.grading import runner

        return getattr(runner, name)
    raise AttributeError(name)


__all__ = list(_EXPORTS)
