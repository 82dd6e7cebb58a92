"""The console application: polls the current view on an interval, one refresh at a time.

The app starts a view's ``fetch`` only when none is in flight, so a slow server never gets a
pile of requests; a refresh asked for meanwhile runs as soon as the current one ends.
"""

from textual.app import App
from textual.binding import Binding

from livecode.client import ApiClient, ApiError
from livecode.core import timestamps

from .views import ExecutionsView, FailuresView, HelpView, OverviewView, PickView, View, WorkersView

MIN_INTERVAL = 0.5


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
    ]

    def __init__(self, client: ApiClient, interval: float = 1.5, allow_actions: bool = False,
                 clock=timestamps.now, label: str | None = None):
        super().__init__()
        self.client = client
        self.label = label or client.url  # what the header calls the deployment
        self.interval = max(interval, MIN_INTERVAL)
        self.allow_actions = allow_actions
        self.clock = clock
        self.paused = False
        self.in_flight = False
        self.wanted_again = False
        self.refreshes = 0
        self.last_notice: str | None = None

    def on_mount(self) -> None:
        self.sub_title = self.label + ("" if self.allow_actions else " · read-only")
        self.set_interval(self.interval, self.poll)
        self.poll()

    def poll(self, now: bool = False) -> None:
        """Start a refresh of the current view, unless one is under way or updates are paused
        (``now`` refreshes even when paused: the operator asked for it)."""
        if self.paused and not now:
            return
        if self.in_flight:
            # One refresh at a time; a view that asked meanwhile gets the next one at once.
            self.wanted_again = self.wanted_again or now
            return
        screen = self.screen
        if not isinstance(screen, View) or not screen.ready:
            return  # a view asks for its first refresh itself once it is set up
        self.in_flight = True
        self.run_worker(lambda: self._fetch(screen), thread=True, exclusive=True, group="poll")

    def _fetch(self, screen: View) -> None:
        try:
            data, error = screen.fetch(self.client, self.clock()), None
        except ApiError as exc:
            data, error = None, exc
        except (KeyError, TypeError, ValueError) as exc:  # an answer of another shape
            data, error = None, ApiError(f"unexpected answer from the server: {exc!r}")
        self.call_from_thread(self._deliver, screen, data, error)

    def _deliver(self, screen: View, data, error) -> None:
        self.in_flight = False
        if self.wanted_again:
            self.wanted_again = False
            self.call_after_refresh(self.poll, True)
        if error is not None:
            self.sub_title = f"{self.label} · ⚠ {error}"
            return
        if screen.is_attached and screen.ready:
            screen.show(data)
            screen.shown += 1
        self.refreshes += 1
        state = "paused" if self.paused else f"every {self.interval:g}s"
        mode = "" if self.allow_actions else " · read-only"
        self.sub_title = f"{self.label} · {state}{mode}"

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.tell("updates paused (p resumes)" if self.paused else "updates resumed")

    def action_help(self) -> None:
        self.push_screen(HelpView())

    def action_pick_view(self) -> None:
        self.push_screen(PickView(), lambda view: view and self.switch_mode(view))

    def tell(self, message: str, severity: str = "information") -> None:
        self.last_notice = message
        self.notify(message, severity=severity)

    def act(self, path: str, done: str) -> None:
        """An action on the server; refused without ``--allow-actions``."""
        if not self.allow_actions:
            self.tell("read-only console: start it with --allow-actions to do that", "warning")
            return
        self.run_worker(lambda: self._act(path, done), thread=True, group="actions")

    def _act(self, path: str, done: str) -> None:
        try:
            self.client.post(path)
            self.call_from_thread(self.tell, done)
        except ApiError as exc:
            self.call_from_thread(self.tell, str(exc), "error")
        self.call_from_thread(self.poll, True)
