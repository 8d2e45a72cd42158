"""Grading students' labs with the instructor's hidden graders, out of process and failing closed.

The runner (:mod:`studyguide.grading.runner`) grades one lab; class grading, the gradebook and
exports build on it.
"""

from studyguide.grading.runner import (
    GraderError,
    LabResult,
    Limits,
    TestResult,
    grade_lab,
    grader_paths,
)

__all__ = ["GraderError", "LabResult", "Limits", "TestResult", "grade_lab", "grader_paths"]
