"""The wheel, installed into a fresh venv outside the checkout, makes and runs a site.

The wheel is built from a copy of the source tree (no build backend is fetched: setuptools
comes with the test extras). The fresh venv gets the wheel alone (``--no-deps``); the
dependencies are the checkout venv's, reached through a ``.pth`` line written after the
install, so no network is needed and the checkout's own ``src/`` is never on the path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".git", "var", "build", "dist", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

ARTICLE = """First light at the new site

November 18, 2026

The dome opened at dusk and the first target was the Moon.
"""

# One wheel for the module: under xdist the tests go to one worker (--dist loadgroup),
# or each worker would build its own.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


def _copy_source(target: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIP or n.endswith(".egg-info")}
        return skipped | {"__pycache__", ".hypothesis"} & set(names)

    shutil.copytree(REPO, target, ignore=ignore)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNDICATE_", "PYTHON"))}
    env["HOME"] = str(home)
    env["PATH"] = f"{home.parent / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    _copy_source(work / "source")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), "."],
        cwd=work / "source",
        check=True,
        capture_output=True,
    )
    (wheel,) = (work / "dist").glob("syndicate-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "zz_checkout_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    (work / "home").mkdir()
    return wheel


def sh(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home = cwd
    while not (home / "venv").is_dir():
        home = home.parent
    done = subprocess.run(
        list(args), cwd=cwd, env=_clean_env(home / "home"), capture_output=True, text=True
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def test_wheel_holds_the_package_data(installed: Path) -> None:
    names = set(zipfile.ZipFile(installed).namelist())
    for expected in (
        "syndicate/templates/email/digest.html",
        "syndicate/templates/email/digest.txt",
        "syndicate/templates/email/digest.css",
        "syndicate/web/templates/base.html",
        "syndicate/web/static/site.css",
        "syndicate/store/migrations/env.py",
        "syndicate/store/migrations/script.py.mako",
        "syndicate/store/migrations/versions/0001_initial_schema.py",
        "syndicate/__main__.py",
    ):
        assert expected in names, expected
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_a_site_from_the_wheel_outside_the_checkout(installed: Path) -> None:
    work = installed.parent.parent
    where = sh(work, "python", "-c", "import syndicate.templates as t; print(t.__file__)")
    assert str(work / "venv") in where.stdout and str(REPO) not in where.stdout
    assert "0.1.0" in sh(work, "python", "-m", "syndicate", "--version").stdout
    sh(
        work,
        "syndicate",
        "init",
        "mysite",
        "--url",
        "https://news.example.net/",
        "--from-address",
        "news@example.net",
        "--postal-address",
        "1 Main St, Springfield",
    )
    site = work / "mysite"
    assert (site / "templates" / "email" / "digest.html").is_file()
    (site / "articles" / "first-light.txt").write_text(ARTICLE, encoding="utf-8")
    env_now = "--now=2026-11-23T08:00:00+00:00"  # the Monday send: it covers 2026-W47
    sh(site, "syndicate", env_now, "run", "--once")
    assert (site / "var" / "public" / "rss.xml").is_file()
    sh(site, "syndicate", env_now, "digest", "preview")
    html = (site / "var" / "outbox" / "digest.html").read_text(encoding="utf-8")
    assert "First light at the new site" in html and "1 Main St, Springfield" in html
    assert "head" in sh(site, "syndicate", "db", "current").stdout.lower()


def test_the_package_list_names_every_package() -> None:
    """pyproject.toml lists the packages (the templates mapping needs that): none forgotten."""
    import tomllib

    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    src = REPO / "src"
    found = {
        ".".join(init.parent.relative_to(src).parts)
        for init in src.rglob("__init__.py")
        if "egg-info" not in str(init)
    }
    assert found | {"syndicate.templates"} == listed


def readme_commands() -> list[list[str]]:
    """The commands of the README's "Using it" block, as printed (comments and optional
    ``[…]`` arguments dropped; the PATH line is what the venv's bin/ on PATH stands for)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Using it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        words = line.split("#", 1)[0].split()
        words = [w for w in words if not (w.startswith("[") or w.endswith("]"))]
        if words and words[0] != "export":
            commands.append(words)
    return commands


def test_the_readme_quick_start_works_as_printed(installed: Path) -> None:
    work = installed.parent.parent / "readme"
    work.mkdir()
    (work / "venv").symlink_to(installed.parent.parent / "venv")
    (work / "home").mkdir()
    commands = readme_commands()
    assert commands[0][:2] == ["syndicate", "init"] and ["cd", "mysite"] in commands
    cwd = work
    for words in commands:
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        if words[:2] == ["syndicate", "init"]:
            sh(cwd, *words)
            (cwd / "mysite" / "articles" / "first-light.txt").write_text(ARTICLE)
            continue
        sh(cwd, *words)
    assert (cwd / "var" / "public" / "rss.xml").is_file()
