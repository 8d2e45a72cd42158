"""The results of class grading: one graded item, one part (lab or notebook), one row, the class."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from studyguide.testrun import TestOutcome

#: Errors that say the grading machinery failed (not the student): never cached.
INFRASTRUCTURE_ERROR = "grading failed: "


#: One graded item: a grader test of a lab or a graded cell of a notebook.
ItemResult = TestOutcome


@dataclass
class PartResult:
    """The lab or the notebook of one student for one module."""

    kind: str  # "lab" or "notebook"
    student: str
    module_id: str
    score: float = 0.0
    max_score: float = 0.0
    items: list[ItemResult] = field(default_factory=list)
    error: str | None = None
    duration: float = 0.0
    cached: bool = False
    #: False when the student did not hand this part in (missing, or an unusable zip).
    submitted: bool = True
    #: Notebook only: where the autograded notebook was kept (under the cache).
    artifact: str | None = None

    def to_json(self) -> dict:
        """A plain dict for the cache (``cached`` is a property of a run, not of the result)."""
        data = asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_json(cls, data: dict, *, cached: bool = False, student: str | None = None):
        """Rebuild a result stored with :meth:`to_json`, for ``student`` when given.

        Two students who hand in identical files share one cache entry, so the entry's own
        student id is only a default.
        """
        items = [ItemResult(**item) for item in data.get("items", [])]
        return cls(**{**data, "items": items, "cached": cached,
                      "student": student or data["student"]})


@dataclass
class ModuleResult:
    """One row of the class report: a student's lab and notebook for one module."""

    student: str
    module_id: str
    lab: PartResult
    notebook: PartResult

    @property
    def total(self) -> float:
        """Lab plus notebook points."""
        return self.lab.score + self.notebook.score

    @property
    def total_max(self) -> float:
        """Lab plus notebook points available."""
        return self.lab.max_score + self.notebook.max_score


@dataclass
class ClassReport:
    """What ``grade_class`` did and where it wrote the results."""

    students: list[str]
    module_ids: list[str]
    results: list[ModuleResult]
    problems: dict[str, str]
    labs_graded: int = 0
    notebooks_graded: int = 0
    cache_hits: int = 0
    duration: float = 0.0
    out_dir: Path | None = None
    gradebook: Path | None = None
    csv: Path | None = None
    gradescope: dict[str, Path] = field(default_factory=dict)
    feedback: dict[tuple[str, str], Path] = field(default_factory=dict)

    @property
    def work_done(self) -> int:
        """Labs and notebooks actually graded in this run (cache hits excluded)."""
        return self.labs_graded + self.notebooks_graded

    def result(self, student: str, module_id: str) -> ModuleResult:
        """The row of one student and module."""
        for row in self.results:
            if row.student == student and row.module_id == module_id:
                return row
        raise KeyError((student, module_id))


