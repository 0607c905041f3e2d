"""The proofreader's typo family compiled with mypyc where a C compiler is at hand.

Everything else is in pyproject.toml. `lexicon.py` and `typos.py` stay plain Python:
mypyc compiles them as they are into one extension each (and the runtime they share),
which Python imports in their place. Without a compiler the build of these extensions
fails, is skipped (`optional`) and the same modules run as Python, slower. Once they are
built, the sources they were compiled from are recorded beside them (`compiled.RECORD`):
a source changed since runs as source (govwx/content/proofread/compiled.py).
"""

import importlib.util
import time
from pathlib import Path

from mypyc.build import mypycify
from setuptools import setup
from setuptools.command.build_ext import build_ext

PACKAGE = Path("govwx") / "content" / "proofread"
PROOFREAD = Path(__file__).resolve().parent / PACKAGE

# compiled.py alone (the package's import would need its dependencies)
spec = importlib.util.spec_from_file_location("compiled", PROOFREAD / "compiled.py")
assert spec is not None and spec.loader is not None
compiled = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compiled)

COMPILED = [str(PACKAGE / f"{name}.py") for name in compiled.MODULES]
# the sources as mypyc reads them now
DIGESTS = compiled.digests(PROOFREAD)

# mypy's own settings (pyproject.toml) load the Django plugin, which the build does not
# need: these modules import no Django.
OPTIONS = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]

extensions = mypycify(
    OPTIONS + COMPILED, opt_level="3", group_name="govwx.content.proofread.native"
)
for extension in extensions:
    extension.optional = True


class BuildExt(build_ext):
    """Records the sources once every compiled module is built, and only then: a
    compiled module left from an earlier build is never taken for this one."""

    def run(self) -> None:
        folders = [PROOFREAD, Path(self.build_lib) / PACKAGE]
        for folder in folders:
            (folder / compiled.RECORD).unlink(missing_ok=True)
        began = time.time() - 1
        super().run()
        outputs = [Path(self.get_ext_fullpath(e.name)) for e in self.extensions]
        if all(p.exists() and p.stat().st_mtime >= began for p in outputs):
            for folder in folders:
                if folder.is_dir():
                    (folder / compiled.RECORD).write_text(DIGESTS, encoding="utf-8")


setup(ext_modules=extensions, cmdclass={"build_ext": BuildExt})
