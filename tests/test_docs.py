"""The plugin author guide (docs/plugins.md) keeps up with the code: every hook has its own
section with an example, and every contract is described."""

import re
from pathlib import Path

import pytest

from livecode.core import contracts, hookspecs

GUIDE = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("livecode_"))


def _section(heading: str) -> str:
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^#)", GUIDE, re.S | re.M)
    return match.group(1) if match else ""


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_with_an_example(hook):
    section = _section(hook)
    assert section, f"docs/plugins.md has no '### {hook}' section"
    assert "@hookimpl" in section and f"def {hook}(" in section, f"{hook}: no example"


def test_every_contract_is_described():
    described = re.findall(r"^- \*\*`(\w+)`\*\*|\*\*`(\w+)`\*\*", GUIDE, re.M)
    named = {name for pair in described for name in pair if name}
    public = {name for name, value in vars(contracts).items()
              if isinstance(value, type) and value.__module__ == contracts.__name__}
    assert public - {"SandboxError"} <= named, public - named


def test_the_suites_it_names_exist():
    import livecode.testing

    for name in re.findall(r"\*\*`(\w+)`\*\* \(for a", GUIDE):
        assert isinstance(getattr(livecode.testing, name, None), type), name
