"""What the Judge0 and Piston layers cost over livecode's own API, measured in the same run.

    .venv/bin/python bench/compat_apis.py [--n 20]

One ``livecode serve`` on the embedded defaults; a Python hello world as medians over ``--n``
interleaved rounds of: livecode's ``POST /submit-code`` then polling ``GET /exec-result`` every
millisecond (the baseline), Judge0's ``POST /judge0/submissions?wait=true``, Judge0's
``POST /judge0/submissions`` then polling ``GET /judge0/submissions/{token}`` every millisecond,
and Piston's ``POST /api/v2/execute``. Prints one JSON line with each figure and its ratio to
the baseline; only the ratios compare between runs.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hello_world import medians_ms  # noqa: E402

from livecode.client import ApiClient  # noqa: E402
from livecode.testing import LivecodeProcess  # noqa: E402

SOURCE = 'print("Hello World")'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "runs").mkdir()
        process = LivecodeProcess(["serve", "--port", "0"],
                                  {"LIVECODE_DATA_DIR": f"{root}/data",
                                   "LIVECODE_WORK_ROOT": f"{root}/runs"},
                                  Path(root) / "serve.log")
        try:
            api = ApiClient(process.url(timeout=60), timeout=60)
            figures = medians_ms(actions(api), args.n)
        finally:
            process.stop()
    baseline = figures["livecode_submit_and_poll"]
    print(json.dumps({**figures, **{f"{name}_ratio": round(value / baseline, 2)
                                    for name, value in figures.items()}}))


def poll(api, path: str, done) -> dict:
    while True:
        answer = api.get(path)
        if done(answer):
            return answer
        time.sleep(0.001)


def actions(api) -> dict:
    def livecode():
        job = api.post("/submit-code", {"code": SOURCE})["jobId"]
        poll(api, f"/exec-result?jobId={job}", lambda a: a["status"] not in ("QUEUED", "RUNNING"))

    def judge0_wait():
        api.post("/judge0/submissions?wait=true", {"source_code": SOURCE, "language_id": 71})

    def judge0_poll():
        token = api.post("/judge0/submissions", {"source_code": SOURCE, "language_id": 71})
        poll(api, f"/judge0/submissions/{token['token']}", lambda a: a["status"]["id"] > 2)

    def piston():
        api.post("/api/v2/execute", {"language": "python", "version": "*",
                                     "files": [{"content": SOURCE}]})

    return {"livecode_submit_and_poll": livecode, "judge0_wait": judge0_wait,
            "judge0_submit_and_poll": judge0_poll, "piston_execute": piston}


if __name__ == "__main__":
    main()
