"""JupyterLab settings for students: no news pop-up, none of nbgrader's instructor tools.

``studyguide setup`` merges the files under ``templates/edition/jupyter-config/`` into a Jupyter
configuration folder: by default the active virtual environment's ``etc/jupyter``, which every
``jupyter lab`` started from that environment reads.
"""

import json
import sys
from pathlib import Path

from .errors import StudyguideError

SETTINGS = Path(__file__).resolve().parent / "templates" / "edition" / "jupyter-config"


def environment_config_dir():
    """``etc/jupyter`` of the active virtual environment; an error outside one."""
    if sys.prefix == sys.base_prefix:
        raise StudyguideError(
            "no virtual environment is active: activate the course's environment "
            "(. .venv/bin/activate) and run `studyguide setup` again"
        )
    return Path(sys.prefix) / "etc" / "jupyter"


def _merge(into, new):
    """Update the nested dict ``into`` with ``new``, keeping keys ``new`` does not mention."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def install_jupyter_config(config_dir=None):
    """Merge the course's Jupyter settings into ``config_dir``; return the files written."""
    config_dir = Path(config_dir) if config_dir else environment_config_dir()
    written = []
    for source in sorted(SETTINGS.rglob("*.json")):
        target = config_dir / source.relative_to(SETTINGS)
        settings = json.loads(source.read_text(encoding="utf-8"))
        if target.is_file():
            try:
                current = json.loads(target.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                problem = f"{target} is not valid JSON ({exc}); fix or remove it"
                raise StudyguideError(problem) from None
            settings = _merge(current, settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    return written
