"""How fast a program's ``print`` shows in the playground page, against the same print reaching
``livecode.client``'s event reader, measured in the same run.

    .venv/bin/python bench/playground_latency.py [--rounds 5] [--prints 10]

Starts ``livecode serve`` and a headless Chromium (``livecode.testing``). Each round runs a
program that prints ``time.time()`` every 0.2 s (the host's clock, which the sandbox shares)
twice, interleaved: once from the page (Run; a MutationObserver notes when each line appears
in the output, by the browser's clock, the same host's), once through
``ApiClient.events`` (when each stdout event arrives). Prints one JSON object: the medians and
p90s in ms, and the ratio page / client.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from livecode.client import ApiClient
from livecode.testing import start_chromium, start_server

PROGRAM = ("import time\nfor _ in range({prints}):\n    print(repr(time.time()), flush=True)\n"
           "    time.sleep(0.2)\n")

WATCH = """
window.seen = [];
new MutationObserver(() => window.seen.push([Date.now() / 1000,
                                             document.getElementById("output").textContent]))
  .observe(document.getElementById("output"), {childList: true, subtree: true,
                                               characterData: true});
"""


def page_round(driver, code: str) -> list[float]:
    driver.execute_script("state.editor.setText(arguments[0]); edited();", code)
    driver.execute_script("return flush()")
    driver.execute_script(WATCH)
    box = driver.find_element("id", "interactive")
    if box.is_selected():
        box.click()
    driver.find_element("id", "run").click()
    status = lambda: driver.find_element("id", "status").get_attribute("data-status")  # noqa
    deadline = time.monotonic() + 60
    while status() not in ("QUEUED", "RUNNING"):  # the last round's status until it starts
        assert time.monotonic() < deadline, "the page's run did not start"
        time.sleep(0.02)
    while status() not in ("COMPLETED", "FAILED", "TIMEOUT"):
        assert time.monotonic() < deadline, "the page's run did not end"
        time.sleep(0.1)
    first_seen = {}
    for at, text in driver.execute_script("return window.seen"):
        for line in text.split():
            first_seen.setdefault(line, at)
    return [(at - float(line)) * 1000 for line, at in first_seen.items()
            if line.replace(".", "").isdigit()]


def client_round(api: ApiClient, code: str) -> list[float]:
    job = api.post("/submit-code", {"code": code})["jobId"]
    delays = []
    for event in api.events(job):
        if event.event == "stdout":
            arrived = time.time()
            delays += [(arrived - float(line)) * 1000 for line in event.data["data"].split()]
    return delays


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prints", type=int, default=10)
    args = parser.parse_args()
    code = PROGRAM.format(prints=args.prints)
    with tempfile.TemporaryDirectory(prefix="livecode-bench-") as root:
        server = start_server(Path(root) / "serve", LIVECODE_WALL_TIME_LIMIT="20")
        driver = start_chromium(Path(root) / "chromium")
        try:
            api = ApiClient(server.process.url(), timeout=30)
            driver.get(api.url + "/")
            deadline = time.monotonic() + 60
            while driver.find_element("id", "save-state").get_attribute("data-state") != "saved":
                assert time.monotonic() < deadline, "the page did not load"
                time.sleep(0.1)
            page, client = [], []
            for _ in range(args.rounds):
                page += page_round(driver, code)
                client += client_round(api, code)
        finally:
            driver.quit()
            server.process.stop()
    result = {"page": summary(page), "client": summary(client)}
    result["ratio_p50_page_to_client"] = round(result["page"]["p50_ms"] /
                                               max(result["client"]["p50_ms"], 0.001), 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
