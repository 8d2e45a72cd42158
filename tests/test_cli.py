"""The command line: one way to choose modules, one --workers default, errors with exit 2."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_course import make_course

from studyguide import cli
from studyguide.errors import ReleaseError, StudyguideError
from studyguide.manifest import ManifestError, find_course_root
from studyguide.markers import MarkerError

REPO = Path(__file__).resolve().parent.parent
INSTRUCTOR_COMMANDS = [
    "list", "progress", "generate", "check", "mutate", "release", "grade", "gradescope"
]


def subcommands(parser):
    """{name: parser} of every subcommand."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def student_course(tmp_path):
    """The tiny course, marked as a student edition."""
    course = make_course(tmp_path / "course")
    manifest = course.root / "course.toml"
    text = manifest.read_text().replace("[course]\n", '[course]\nedition = "student"\n', 1)
    manifest.write_text(text)
    return course.root


def test_studyguide_alone_lists_every_command_with_one_line_each(capsys):
    assert cli.main(["--root", str(REPO)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert [line.split()[0] for line in lines] == INSTRUCTOR_COMMANDS
    assert all(len(line.split()) > 2 for line in lines), "each command says what it does"
    assert "usage" in out and "--help" in out


def test_student_edition_offers_only_student_commands(tmp_path, capsys):
    root = student_course(tmp_path)
    assert cli.main(["--root", str(root)]) == 0
    out = capsys.readouterr().out
    commands = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert commands == ["list", "progress", "setup"]
    for instructor_only in ("check", "generate", "mutate", "release", "grade"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["--root", str(root), instructor_only])
        assert exit_info.value.code == 2
        assert "invalid choice" in capsys.readouterr().err


def test_every_command_chooses_modules_by_positional_ids():
    for name, parser in subcommands(cli.build_parser()).items():
        options = [o for a in parser._actions for o in a.option_strings]
        assert not [o for o in options if "module" in o], f"{name} has a module option"
        positional = {a.dest for a in parser._actions if not a.option_strings}
        if name in ("progress", "generate", "mutate", "release", "grade"):
            assert "modules" in positional, name


def test_workers_default_is_the_same_everywhere():
    defaults = {
        name: next(a.default for a in parser._actions if a.dest == "workers")
        for name, parser in subcommands(cli.build_parser()).items()
        if any(a.dest == "workers" for a in parser._actions)
    }
    assert set(defaults) == {"progress", "check", "mutate", "grade"}
    assert set(defaults.values()) == {cli.default_workers()}


def test_course_errors_exit_2_with_a_message(capsys):
    assert cli.main(["--root", str(REPO), "progress", "42"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("studyguide: unknown module '42'") and "01-routing" in err
    assert "Traceback" not in err


def test_progress_watch_needs_exactly_one_lab(capsys):
    assert cli.main(["--root", str(REPO), "progress", "--watch"]) == 2
    assert "--watch follows one lab" in capsys.readouterr().err


def test_outside_a_course_every_command_says_so(tmp_path, capsys):
    assert cli.main(["--root", str(tmp_path), "list"]) == 2
    assert "no course.toml" in capsys.readouterr().err
    with pytest.raises(ManifestError):
        find_course_root(tmp_path)


def test_a_bug_keeps_its_traceback(monkeypatch):
    def broken(args):
        raise KeyError("a bug in the course tool")

    monkeypatch.setattr(cli, "cmd_list", broken)
    with pytest.raises(KeyError):
        cli.main(["--root", str(REPO), "list"])


def test_course_errors_share_one_base_class():
    for error in (ManifestError, MarkerError, ReleaseError):
        assert issubclass(error, StudyguideError)


def test_check_and_release_do_not_import_each_other():
    code = (
        "import sys, importlib\n"
        "for name in ('studyguide.release', 'studyguide.check'):\n"
        "    for loaded in [m for m in sys.modules if m.startswith('studyguide')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "    other = {'studyguide.release': 'studyguide.check',\n"
        "             'studyguide.check': 'studyguide.release'}[name]\n"
        "    assert other not in sys.modules, (name, other)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_setup_writes_the_course_jupyter_settings_and_keeps_others(tmp_path, capsys):
    root = student_course(tmp_path)
    config = tmp_path / "jupyter"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"some-other:plugin": True}})
    )
    assert cli.main(["--root", str(root), "setup", "--config-dir", str(config)]) == 0
    page = json.loads((config / "labconfig" / "page_config.json").read_text())
    disabled = page["disabledExtensions"]
    assert disabled["some-other:plugin"] is True
    assert disabled["@jupyterlab/apputils-extension:announcements"] is True
    assert disabled["@jupyter/nbgrader:formgrader"] is True
    assert disabled["@jupyter/nbgrader:create-assignment"] is True
    server = json.loads((config / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert "JupyterLab is set up" in capsys.readouterr().out


def test_setup_outside_a_virtual_environment_says_what_to_do(tmp_path, monkeypatch, capsys):
    root = student_course(tmp_path)
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    assert cli.main(["--root", str(root), "setup"]) == 2
    assert "activate the course's environment" in capsys.readouterr().err


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`studyguide list | head -1`: the pipe closes before the output is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "studyguide.cli", "--root", str(REPO), "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141
