"""The playground in a real headless Chromium (Debian's, driven by Selenium through
``livecode.testing``'s ``chromium`` fixture) against a real ``livecode serve``: typing autosaves
(checked through the API), a run's output appears, an ``input()`` is answered while the program
waits, a conflicting save is shown and resolved, and with keys the page asks for one.

``LIVECODE_UPDATE_SCREENSHOTS=1`` writes the README's picture (docs/playground.png)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

pytestmark = pytest.mark.slow

FINAL = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"}
SCREENSHOT = Path(__file__).parent.parent / "docs" / "playground.png"


@pytest.fixture(scope="module")
def server(serve_for_module):
    _, url, create_key = serve_for_module(LIVECODE_CONCURRENCY="2")
    return url, create_key


@pytest.fixture
def page(chromium, server):
    """The playground on a session of its own (its "new session" button)."""
    url, _ = server
    chromium.set_window_size(1400, 720)
    chromium.get(url + "/")
    wait_for(chromium, lambda d: state_of(d) == "saved", "the session to load")
    before = session_id(chromium)
    chromium.find_element(By.ID, "new-session").click()
    wait_for(chromium, lambda d: session_id(d) != before and state_of(d) == "saved",
             "a new session")
    return chromium


def wait_for(driver, condition, what, timeout=60):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        condition, message=f"no {what} within {timeout}s")


def state_of(driver) -> str:
    return driver.find_element(By.ID, "save-state").get_attribute("data-state")


def session_id(driver) -> str:
    return driver.execute_script("return location.hash.slice(1)")


def api_get(url, path, key=None):
    from livecode.client import ApiClient
    return ApiClient(url, token=key, timeout=30).get(path)


def type_code(driver, text: str) -> None:
    """Replace the editor's text by typing, key by key, as a person does."""
    editor = driver.find_element(By.CSS_SELECTOR, "#editor .cm-content")
    editor.click()
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(text)


def output_of(driver) -> str:
    return driver.find_element(By.ID, "output").text


def status_of(driver) -> str:
    return driver.find_element(By.ID, "status").get_attribute("data-status")


def ended(driver) -> str:
    """Wait for the run shown to end; its final status."""
    wait_for(driver, lambda d: status_of(d) in FINAL, "the end of the run")
    return status_of(driver)


def set_interactive(driver, on: bool) -> None:
    box = driver.find_element(By.ID, "interactive")
    if box.is_selected() != on:
        box.click()


def test_typing_autosaves_and_a_run_shows_its_output_status_and_history(page, server):
    url, _ = server
    sid = session_id(page)
    assert api_get(url, f"/code-sessions/{sid}")["revision"] == 1
    type_code(page, 'print("hello from the browser")')
    wait_for(page, lambda d: state_of(d) == "saved" and
             api_get(url, f"/code-sessions/{sid}")["source_code"] ==
             'print("hello from the browser")', "autosave")
    saved = api_get(url, f"/code-sessions/{sid}")
    assert saved["revision"] > 1  # saved by typing alone: nothing was clicked
    assert page.find_element(By.ID, "save-state").get_attribute("data-revision") == \
        str(saved["revision"])

    set_interactive(page, False)
    page.find_element(By.ID, "run").click()
    assert ended(page) == "COMPLETED", output_of(page)
    assert "hello from the browser" in output_of(page)
    runs = api_get(url, f"/code-sessions/{sid}/executions")["executions"]
    assert [r["status"] for r in runs] == ["COMPLETED"]
    assert page.find_element(By.CSS_SELECTOR, "#details [data-field=exit_code]").text == "0"
    wait_for(page, lambda d: d.find_elements(
        By.CSS_SELECTOR, f"#runs tr[data-execution-id='{runs[0]['execution_id']}']"),
        "the run in the session's history")


def test_output_streams_in_while_the_run_is_running(page, server):
    # It prints after a while: what a stream opened late missed comes only with the result.
    type_code(page, 'import time\ntime.sleep(1)\nprint("first", flush=True)\ntime.sleep(2)\n'
                    'print("second")')
    set_interactive(page, False)
    page.find_element(By.ID, "run").click()
    wait_for(page, lambda d: "first" in output_of(d), "live output")
    assert status_of(page) == "RUNNING" and "second" not in output_of(page)
    assert ended(page) == "COMPLETED", output_of(page)
    assert output_of(page).split() == ["first", "second"]


def test_an_input_prompt_is_answered_while_the_program_waits(page, server):
    url, _ = server
    type_code(page, 'name = input("name? ")\nprint("hello", name)')
    wait_for(page, lambda d: state_of(d) == "saved" and "input(" in
             api_get(url, f"/code-sessions/{session_id(d)}")["source_code"], "autosave")
    set_interactive(page, True)
    page.find_element(By.ID, "run").click()
    wait_for(page, lambda d: "name?" in output_of(d), "the prompt")
    assert status_of(page) == "RUNNING"
    answer = page.find_element(By.ID, "io-input")
    answer.send_keys("Ada", Keys.ENTER)
    assert ended(page) == "COMPLETED", output_of(page)
    assert "hello Ada" in output_of(page)
    if os.environ.get("LIVECODE_UPDATE_SCREENSHOTS") == "1":
        page.save_screenshot(str(SCREENSHOT))
    assert page.get_screenshot_as_png().startswith(b"\x89PNG")


def test_a_save_from_elsewhere_is_a_conflict_until_the_user_chooses(page, server):
    url, _ = server
    from livecode.client import ApiClient
    sid = session_id(page)
    other = ApiClient(url, timeout=30)
    other.patch(f"/code-sessions/{sid}", {"source_code": "print('other tab')", "revision": 1})
    type_code(page, "print('this tab')")
    wait_for(page, lambda d: state_of(d) == "conflict", "the conflict")
    assert "revision 2" in page.find_element(By.ID, "save-state").text
    assert api_get(url, f"/code-sessions/{sid}")["source_code"] == "print('other tab')"
    page.find_element(By.ID, "conflict-keep").click()
    wait_for(page, lambda d: state_of(d) == "saved", "the save after choosing")
    assert api_get(url, f"/code-sessions/{sid}")["source_code"] == "print('this tab')"


def test_with_keys_the_page_asks_for_one_and_works_with_it(chromium, serve, tmp_path):
    process, api = serve()
    key = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "keys", "create", "--name", "browser"],
        env={**os.environ, "LIVECODE_DATA_DIR": str(tmp_path / "data")},
        capture_output=True, text=True, check=True).stdout.strip()
    chromium.get(api.url + "/")
    wait_for(chromium, lambda d: d.find_element(By.ID, "key-panel").is_displayed(),
             "the key field")
    chromium.find_element(By.ID, "key").send_keys(key, Keys.ENTER)
    wait_for(chromium, lambda d: state_of(d) == "saved", "the session, with the key")
    sid = session_id(chromium)
    owned = api_get(api.url, f"/code-sessions/{sid}", key)
    assert owned["owner"] == key.split("_")[1]
    # The WebSocket cannot carry the header: the page sends the key as ?access_token=.
    type_code(chromium, 'print("hi", input())')
    wait_for(chromium, lambda d: state_of(d) == "saved" and "input" in
             api_get(api.url, f"/code-sessions/{sid}", key)["source_code"], "autosave")
    set_interactive(chromium, True)
    chromium.find_element(By.ID, "run").click()
    wait_for(chromium, lambda d: status_of(d) == "RUNNING", "the run")
    chromium.find_element(By.ID, "io-input").send_keys("Grace", Keys.ENTER)
    assert ended(chromium) == "COMPLETED", output_of(chromium)
    assert "hi Grace" in output_of(chromium)
