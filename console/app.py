"""The console application: polls the current view on an interval, one refresh at a time.

The app starts a view's ``fetch`` only when none is in flight, so a slow server never gets a
pile of requests; a refresh asked for meanwhile runs as soon as the current one ends. The
fetch runs in a thread worker, which never touches widgets: it posts a :class:`Fetched`
message that the app hands to the view on the UI thread.
"""

from dataclasses import dataclass

from textual import work
from textual.app import App, ScreenStackError
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from livecode.client import ApiClient, ApiError
from livecode.core import timestamps

from . import formatting as fmt
from .views import (ConfirmView, ExecutionsView, FailuresView, HelpView, OverviewView, PickView,
                    View, WorkersView)

MIN_INTERVAL = 0.5
ACTIONS = {"cancel": ("Cancel", "cancelled"), "rerun": ("Re-run", "re-running")}


@dataclass
class Fetched(Message):
    """A view's data (or the error that stopped it), from the polling thread."""

    view: View
    data: object
    error: ApiError | None


class LivecodeConsole(App):
    CSS_PATH = "console.tcss"
    TITLE = "livecode"
    MODES = {"overview": OverviewView, "executions": ExecutionsView,
             "workers": WorkersView, "failures": FailuresView}
    DEFAULT_MODE = "overview"
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("colon", "pick_view", "View"),
        Binding("p", "pause", "Pause"),
        Binding("q", "quit", "Quit"),
        Binding("1", "switch_mode('overview')", "Overview", show=False),
        Binding("2", "switch_mode('executions')", "Executions", show=False),
        Binding("3", "switch_mode('workers')", "Workers", show=False),
        Binding("4", "switch_mode('failures')", "Failures", show=False),
        # Reached only when the view's own x / R are off (read-only): say how to allow them.
        Binding("x", "read_only", "Cancel a queued run", show=False),
        Binding("R", "read_only", "Re-run", show=False),
    ]

    paused = reactive(False)
    problem: reactive[str | None] = reactive(None)  # why the last refresh failed, if it did

    def __init__(self, client: ApiClient, interval: float = 1.5, allow_actions: bool = False,
                 clock=timestamps.now, label: str | None = None):
        super().__init__()
        self.client = client
        self.label = label or client.url  # what the header calls the deployment
        self.interval = max(interval, MIN_INTERVAL)
        self.allow_actions = allow_actions
        self.clock = clock
        self.in_flight = False
        self.wanted_again = False

    def on_mount(self) -> None:
        self.show_status()
        self.set_interval(self.interval, self.poll)
        self.poll()

    def watch_paused(self) -> None:
        self.show_status()

    def watch_problem(self) -> None:
        self.show_status()

    def show_status(self) -> None:
        """The one writer of the header's subtitle: where, how often, and what went wrong."""
        parts = [self.label]
        if self.problem:
            parts.append(f"⚠ {self.problem}")
        else:
            parts.append("paused" if self.paused else f"every {self.interval:g}s")
        if not self.allow_actions:
            parts.append("read-only")
        self.sub_title = " · ".join(parts)

    def poll(self, now: bool = False) -> None:
        """Start a refresh of the current view, unless one is under way or updates are paused
        (``now`` refreshes even when paused: the operator asked for it)."""
        if self.paused and not now:
            return
        if self.in_flight:
            # One refresh at a time; a view that asked meanwhile gets the next one at once.
            self.wanted_again = self.wanted_again or now
            return
        try:
            screen = self.screen
        except ScreenStackError:
            return  # the console is closing: a last tick of the timer finds no screen
        if not isinstance(screen, View) or not screen.ready:
            return  # a view asks for its first refresh itself once it is set up
        self.in_flight = True
        self.fetch_view(screen)

    @work(thread=True, exclusive=True, group="poll")
    def fetch_view(self, view: View) -> None:
        try:
            data, error = view.fetch(self.client, self.clock()), None
        except ApiError as exc:
            data, error = None, exc
        except (KeyError, TypeError, ValueError) as exc:  # an answer of another shape
            data, error = None, ApiError(f"unexpected answer from the server: {exc!r}")
        self.post_message(Fetched(view, data, error))

    def on_fetched(self, message: Fetched) -> None:
        self.in_flight = False
        if self.wanted_again:
            self.wanted_again = False
            self.call_after_refresh(self.poll, True)
        if message.error is not None:
            self.problem = str(message.error)
            return
        view = message.view
        if view.is_attached and view.ready:
            try:
                view.show(message.data)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.problem = f"unexpected answer from the server: {exc!r}"
                return
        self.problem = None

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.notify("updates paused (p resumes)" if self.paused else "updates resumed")

    def action_help(self) -> None:
        """Help from the bindings themselves: the view's own, then the console's, each with its
        description, leaving out what this console does not allow."""
        screen = self.screen
        keys: dict[str, list[str]] = {}
        for node in (screen, self):
            for cls in reversed(type(node).__mro__):
                if not cls.__module__.startswith("livecode."):
                    continue  # Textual's own keys (the table's arrows…) are not ours to list
                for binding in cls.__dict__.get("BINDINGS", []):
                    action = binding.action.removeprefix("app.")
                    if action == "read_only" or node.check_action(action, ()) is False:
                        continue
                    keys.setdefault(binding.description, []).append(
                        self.get_key_display(binding))
        self.push_screen(HelpView([(" ".join(k), d) for d, k in keys.items()],
                                  read_only=not self.allow_actions))

    def action_pick_view(self) -> None:
        self.push_screen(PickView(), lambda view: view and self.switch_mode(view))

    def action_read_only(self) -> None:
        self.notify("read-only console: start it with --allow-actions to cancel or re-run",
                    severity="warning")

    def confirm_and_act(self, execution: dict, action: str) -> None:
        """Ask, then cancel or re-run exactly this execution (whatever the cursor does
        meanwhile). The views offer it only with ``--allow-actions``."""
        verb, done = ACTIONS[action]
        execution_id = execution["execution_id"]
        question = (f"{verb} run {fmt.short(execution_id)} ({execution['language']}, "
                    f"{execution['status']}, created {execution['created_at']})?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(f"/executions/{execution_id}/{action}",
                         f"{done} {fmt.short(execution_id)}")

        self.push_screen(ConfirmView(question), answered)

    @work(thread=True, group="actions")
    def act(self, path: str, done: str) -> None:
        try:
            self.client.post(path)
            self.call_from_thread(self.notify, done)
        except ApiError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
        self.call_from_thread(self.poll, True)
