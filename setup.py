"""Ship the dashboard's ``web/`` folder inside the package as ``tiles_edge/_web``.

The project metadata is in pyproject.toml. This hook exists because setuptools package data
can only name files under a package folder, and ``web/`` sits at the repository root. An
editable install serves ``web/`` from the checkout instead (``tiles_edge.webroot``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithWeb(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "tiles_edge" / "_web"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(ROOT / "web", target)


setup(cmdclass={"build_py": BuildPyWithWeb})
