"""livecode.testing as a stranger meets it: a test file outside this repository, with no
conftest, gets the fixtures and suites from the ``pytest11`` entry point livecode installs."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow


def test_a_stranger_s_test_file_gets_the_fixtures_and_the_suites(tmp_path):
    (tmp_path / "test_python_conforms.py").write_text(textwrap.dedent('''
        from livecode.testing import LanguageConformance

        class TestPython(LanguageConformance):
            language = "python"
            hello_world = 'print("Hello World")'
            runtime_error = ('raise ValueError("boom")', "ValueError: boom")
            sum_stdin = "import sys; print(sum(map(int, sys.stdin.read().split())))"
            endless_loop = "while True: pass"
            several_files = ("main.py", [
                {"name": "main.py", "content": "from greet import hello; print(hello())"},
                {"name": "greet.py", "content": "def hello(): return 'Hello World'"}])
            print_args = "import sys; print(*sys.argv[1:], sep=chr(10))"
    '''))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                             str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed, 1 skipped" in result.stdout, result.stdout
    assert "python has no compile step" in result.stdout


def test_the_fixtures_are_listed_by_pytest(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-p",
                             "no:cacheprovider", str(tmp_path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    for fixture in ("livecode_server", "livecode_serve", "livecode_sandbox", "livecode_env"):
        assert fixture in result.stdout, result.stdout
