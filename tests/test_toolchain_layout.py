"""The host paths a run's minimal root holds (plugins/subprocess_sandbox/toolchain.py): found
afresh for a command after FRESH_FOR seconds, the same list in between, on a real directory
tree of links."""

import os
import time

from livecode.plugins.subprocess_sandbox import toolchain


def test_a_recent_layout_is_the_layout_and_sees_a_relinked_toolchain_once_stale(tmp_path,
                                                                              monkeypatch):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "tool").write_text("#!/bin/sh\n")
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "one")
    declared = [str(link / "tool")]
    first = toolchain.recent_layout(declared)
    assert first == tuple(toolchain.layout(declared))
    assert ("bind", str(tmp_path / "one" / "tool"), "") in first
    link.unlink()
    link.symlink_to(tmp_path / "two")
    assert toolchain.recent_layout(declared) == first  # within FRESH_FOR: as found
    monkeypatch.setattr(toolchain, "FRESH_FOR", 0.01)
    time.sleep(0.02)
    again = toolchain.recent_layout(declared)
    assert again == tuple(toolchain.layout(declared)) != first
    assert not any(entry[1].startswith(str(tmp_path / "one")) for entry in again)
    assert os.path.realpath(link) == str(tmp_path / "two")
