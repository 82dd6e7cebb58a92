"""Schemathesis fuzzes every operation of the OpenAPI document against a live ``livecode
serve``: no answer is a 5xx, and every answer (status, content type, headers, body) is one the
document allows. Bounded by examples per operation and a time budget, with a fixed seed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")


@pytest.mark.slow
def test_schemathesis_finds_nothing(serve, tmp_path):
    process, _ = serve()
    url = process.url()
    # An admin key without quotas: a key the fuzzer's POST /keys cannot lock it out of.
    made = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "keys", "create", "--name", "fuzz", "--scope",
         "admin", "--quota", "writes_per_second=0", "--quota", "runs_per_minute=0",
         "--quota", "active_runs=0"],
        env={**os.environ, "LIVECODE_DATA_DIR": str(tmp_path / "data")},
        capture_output=True, text=True, check=True)
    key = next(word for word in made.stdout.split() if word.startswith("lck_"))
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(schemathesis), "run", f"{url}/openapi.json", "-H", f"Authorization: Bearer {key}",
         "--checks", CHECKS, "--max-examples", "8", "--seed", "1", "--max-time", "100",
         "--generation-database", "none", "--phases", "examples,coverage,fuzzing",
         "--request-timeout", "20"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path)  # its cache stays there
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "23 selected" in result.stdout or "selected /" in result.stdout
