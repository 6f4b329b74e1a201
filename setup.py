"""Builds plsim: the pure-Python package in python/plsim plus the compiled module plsim._core, which
CMake builds (in build/python, so rebuilds are incremental). Install without PyPI:
    .venv/bin/pip install --no-index --no-build-isolation --no-deps .
PLSIM_BUILD_DIR and PLSIM_CMAKE_ARGS (space-separated) change the build directory and add CMake
options: scripts/test-sanitizers.sh builds an ASan/UBSan module that way.
"""
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name: str):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        module_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build_dir = Path(os.environ.get("PLSIM_BUILD_DIR", ROOT / "build" / "python"))
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                     "-DPLSIM_BUILD_TESTS=OFF", "-DPLSIM_BUILD_BENCH=OFF", "-DPLSIM_BUILD_PYTHON=ON",
                     f"-DPython_EXECUTABLE={sys.executable}", f"-DPLSIM_MODULE_DIR={module_dir}"]
        configure += shlex.split(os.environ.get("PLSIM_CMAKE_ARGS", ""))
        if shutil.which("ninja") and not (build_dir / "Makefile").exists():
            configure += ["-G", "Ninja"]
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_core", "--parallel"])


class BuildPyWithData(build_py):
    """Ships the scenarios inside the package."""

    def run(self) -> None:
        super().run()
        package = Path(self.build_lib) / "plsim"
        scenarios = package / "_scenarios"
        scenarios.mkdir(parents=True, exist_ok=True)
        for path in (ROOT / "scenarios").rglob("*.json"):
            target = scenarios / path.relative_to(ROOT / "scenarios")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


setup(
    ext_modules=[CMakeExtension("plsim._core")],
    cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithData},
)
