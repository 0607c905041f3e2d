"""The proofreader's typo family compiled with mypyc where a C compiler is at hand.

Everything else is in pyproject.toml. `lexicon.py` and `typos.py` stay plain Python:
mypyc compiles them as they are into one extension each (and the runtime they share),
which Python imports in their place. Without a compiler the build of these extensions
fails, is skipped (`optional`) and the same modules run as Python, slower.
"""

from mypyc.build import mypycify
from setuptools import setup

COMPILED = [
    "govwx/content/proofread/lexicon.py",
    "govwx/content/proofread/typos.py",
]

# mypy's own settings (pyproject.toml) load the Django plugin, which the build does not
# need: these modules import no Django.
OPTIONS = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]

extensions = mypycify(
    OPTIONS + COMPILED, opt_level="3", group_name="govwx.content.proofread.native"
)
for extension in extensions:
    extension.optional = True

setup(ext_modules=extensions)
