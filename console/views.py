"""The console's views. Each is a :class:`View` screen with ``fetch`` (runs on a worker thread,
talks HTTP) and ``show`` (runs on the UI thread, updates widgets in place)."""

import json
from dataclasses import dataclass
from datetime import datetime

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Sparkline, Static

from livecode.client import FINAL_STATUSES, ApiClient, ApiError, Event, EventStream
from livecode.core.models import worker_is_lost
from livecode.core.timestamps import iso

from . import formatting as fmt
from .formatting import Cell
from .query import QueryError, parse

VIEWS = ("overview", "executions", "workers", "failures")
PAGE = 100
STATS_WINDOW = 300  # seconds the overview looks back


class Rows(DataTable, inherit_bindings=False):
    """A table whose ``enter`` is left to its view, so the footer names what enter does there
    (open a run, show a group's runs); a click on a row still selects it."""

    BINDINGS = [binding for binding in DataTable.BINDINGS if binding.key != "enter"]


class View(Screen):
    """A screen the console keeps up to date. A view with a table keeps it sorted by the
    column the operator chose, and keeps the cursor on the same row (the same run, worker or
    group) while rows arrive, leave and move."""

    BINDINGS = [Binding("j", "cursor_down", "Down", show=False),
                Binding("k", "cursor_up", "Up", show=False)]
    ready = False  # set once its widgets are set up; data arriving earlier waits a refresh
    sort: tuple[str, bool]  # (column key, descending): the order of the view's table

    def on_mount(self) -> None:
        self._cache: dict = {}
        self.setup()
        self.ready = True
        self.app.poll(now=True)

    def setup(self) -> None:
        """Add table columns and the like."""

    def on_screen_resume(self) -> None:
        self.app.poll(now=True)

    def fetch(self, client: ApiClient, now: datetime):
        """Get what the view shows (on a worker thread); ``now`` is the console's clock."""
        raise NotImplementedError

    def show(self, data) -> None:
        raise NotImplementedError

    def table(self) -> DataTable | None:
        tables = self.query(DataTable)
        return tables.first() if tables else None

    def selected_key(self) -> str | None:
        """The key of the row under the cursor (an execution id, a worker id…)."""
        table = self.table()
        if table is None or not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def sync_rows(self, table: DataTable, rows: dict[str, tuple]) -> None:
        """Make ``table`` hold ``rows`` (key → cells) in the chosen order, touching only cells
        that changed, with the cursor still on the row it was on."""
        cache = self._cache
        selected = self.selected_key()
        for key in [k for k in cache if k not in rows]:
            table.remove_row(key)
            del cache[key]
        columns = list(table.columns)
        for key, cells in rows.items():
            old = cache.get(key)
            if old is None:
                table.add_row(*cells, key=key)
            else:
                for column, before, after in zip(columns, old, cells):
                    if before != after:
                        table.update_cell(key, column, after)
            cache[key] = cells
        table.sort(self.sort[0], key=fmt.sort_key, reverse=self.sort[1])
        if selected in rows:
            index = table.get_row_index(selected)
            if index != table.cursor_row:
                table.move_cursor(row=index, animate=False)

    @on(DataTable.HeaderSelected)
    def resort(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by that column, by value; a second click reverses."""
        column = event.column_key.value
        descending = not self.sort[1] if self.sort[0] == column else False
        self.sort = (column, descending)
        self.sync_rows(event.data_table, dict(self._cache))
        self.sorted_by_changed()

    def sorted_by_changed(self) -> None:
        """Called after the operator chose another order."""

    def action_cursor_down(self) -> None:
        table = self.table()
        if table is not None:
            table.action_cursor_down()

    def action_cursor_up(self) -> None:
        table = self.table()
        if table is not None:
            table.action_cursor_up()


class OverviewView(View):
    BINDINGS = [Binding("enter", "drill", "Executions")]
    sort = ("name", False)

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="overview"):
            yield Rows(id="queues", cursor_type="row")
            yield Static(id="warning")
            yield Static(id="counts")
            yield Static(id="spark-caption", classes="caption")
            yield Sparkline([], id="spark")
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#queues", DataTable)
        for label, key in (("queue", "name"), ("depth", "depth"), ("oldest", "oldest"),
                           ("running", "running"), ("workers", "consumers"),
                           ("runs/s", "rate"), ("wait p50/95", "wait"),
                           ("run p50/95", "run"), ("failed", "failed"),
                           ("timeout", "timeout")):
            table.add_column(label, key=key)

    def fetch(self, client, now):
        return (client.get("/queues")["queues"],
                client.get("/stats", {"window": STATS_WINDOW, "until": iso(now)}))

    def show(self, data) -> None:
        queues, stats = data
        table = self.query_one("#queues", DataTable)
        rows = {}
        idle_with_work = []
        for queue in queues:
            oldest = fmt.seconds_between(queue["oldest_waiting_since"], self.app.clock())
            rows[queue["name"]] = (
                Cell(queue["name"]), Cell(str(queue["depth"]) if queue["depth"] is not None
                                          else "?", queue["depth"]),
                fmt.duration_cell(oldest), Cell(str(queue["running"]), queue["running"]),
                Cell(f"{queue['consumers']} ({queue['capacity']})", queue["consumers"]),
                Cell(f"{stats['runs_per_second']:.2f}", stats["runs_per_second"]),
                Cell(f"{fmt.ms(stats['wait_ms']['p50'])}/{fmt.ms(stats['wait_ms']['p95'])}",
                     stats["wait_ms"]["p50"]),
                Cell(f"{fmt.ms(stats['run_ms']['p50'])}/{fmt.ms(stats['run_ms']['p95'])}",
                     stats["run_ms"]["p50"]),
                Cell(fmt.percent(stats["failed_rate"]), stats["failed_rate"]),
                Cell(fmt.percent(stats["timeout_rate"]), stats["timeout_rate"]))
            if (queue["depth"] or queue["queued"]) and not queue["consumers"]:
                idle_with_work.append(queue["name"])
        self.sync_rows(table, rows)
        warning = self.query_one("#warning", Static)
        warning.update(Text(f"⚠ {', '.join(idle_with_work)}: runs are waiting and no worker "
                            "consumes", style="bold red") if idle_with_work else "")
        counts = "  ".join(f"{name} {stats['counts'].get(name, 0)}" for name in
                           ("QUEUED", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"))
        self.query_one("#counts", Static).update(f"last 5 min: {counts}")
        bars = stats["sparkline"]
        self.query_one("#spark-caption", Static).update(spark_caption(bars, STATS_WINDOW))
        self.query_one("#spark", Sparkline).data = bars

    @on(DataTable.RowSelected, "#queues")
    def action_drill(self) -> None:
        self.app.switch_mode("executions")
        self.app.screen.drilled_from("overview", "")


def spark_caption(bars: list, window: float) -> str:
    """The sparkline's scale: what one bar counts and the highest bar."""
    if not bars:
        return f"runs finished, last {window / 60:g} min"
    per_bar = window / len(bars)
    return (f"runs finished per {per_bar:g}s, last {window / 60:g} min · "
            f"highest bar {max(bars)} · lowest {min(bars)}")


class ExecutionsView(View):
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "back", "Back", show=False),
        Binding("x", "cancel", "Cancel"),
        Binding("R", "rerun", "Re-run"),
    ]
    filter_text = ""
    filter_params: list[tuple[str, str]] = ()  # replaced, never mutated
    back_to: tuple[str, str] | None = None  # (view, its filter) a drill-down came from
    sort = ("created", True)

    COLUMNS = (("id", "id"), ("created", "created"), ("lang", "language"), ("state", "state"),
               ("wait", "wait"), ("run", "run"), ("exit", "exit"), ("out", "out"),
               ("worker", "worker"), ("sandbox", "sandbox"))

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder='state:FAILED language:python worker:w3 "MemoryError"  '
                                '(! excludes; enter applies, esc leaves)', id="filter")
        yield Rows(id="executions", cursor_type="row", zebra_stripes=True)
        yield Static(id="filter-line")
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#executions", DataTable)
        for label, key in self.COLUMNS:
            table.add_column(label, key=key)
        self.query_one("#filter", Input).display = False
        table.focus()

    def check_action(self, action: str, parameters) -> bool | None:
        # Read-only: cancel and re-run are neither offered in the footer nor run (the app's
        # own x and R then say how to allow them).
        if action in ("cancel", "rerun"):
            return self.app.allow_actions
        return True

    def fetch(self, client, now):
        return client.get("/executions", [("limit", PAGE), *self.filter_params])["executions"]

    def row(self, execution) -> tuple:
        now = self.app.clock()
        created = fmt.parse_time(execution["created_at"])
        run = (execution["execution_time_ms"] / 1000 if execution["execution_time_ms"]
               is not None else fmt.seconds_between(execution["started_at"], now)
               if execution["status"] == "RUNNING" else None)
        waited = fmt.seconds_between(execution["created_at"], execution["started_at"] or (
            now if execution["status"] == "QUEUED" else None))
        exit_code = execution["exit_code"]
        return (
            Cell(fmt.short(execution["execution_id"]), execution["execution_id"]),
            Cell(created.strftime("%H:%M:%S"), execution["created_at"]),
            Cell(execution["language"]), fmt.state(execution["status"]),
            fmt.duration_cell(waited), fmt.duration_cell(run),
            Cell("-" if exit_code is None else str(exit_code), exit_code),
            fmt.size_cell(execution["stdout_bytes"] + execution["stderr_bytes"]),
            Cell(execution["worker_id"] or "-"), Cell(execution["sandbox"] or "-"),
        )

    def show(self, executions) -> None:
        table = self.query_one("#executions", DataTable)
        self.executions = {e["execution_id"]: e for e in executions}
        self.sync_rows(table, {e["execution_id"]: self.row(e) for e in executions})
        self.describe(len(executions))

    def describe(self, count: int | None = None) -> None:
        if not self.ready:
            return  # a drill-down may set the filter before the view is set up
        if count is None:
            count = self.query_one("#executions", DataTable).row_count
        shown = f"filter: {self.filter_text}" if self.filter_text else "no filter"
        order = f"sorted by {self.sort[0]}{' descending' if self.sort[1] else ''}"
        back = f" · esc: back to {self.back_to[0]}" if self.back_to else ""
        self.query_one("#filter-line", Static).update(
            f"{count} newest runs · {shown} · {order}{back}")

    def sorted_by_changed(self) -> None:
        self.describe()

    def selected(self) -> dict | None:
        return getattr(self, "executions", {}).get(self.selected_key())

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    @on(Input.Submitted, "#filter")
    def apply_filter(self, event: Input.Submitted) -> None:
        self.set_filter(event.value.strip())
        event.input.display = False
        self.query_one("#executions", DataTable).focus()

    def set_filter(self, text: str) -> None:
        try:
            self.filter_params = parse(text)
        except QueryError as exc:
            self.notify(str(exc), severity="error")
            return
        self.filter_text = text
        self.describe()
        self.app.poll(now=True)

    def drilled_from(self, view: str, query: str) -> None:
        """Shown from ``view`` with ``query`` as the filter; esc goes back to it."""
        if self.back_to is None:
            self.back_to = (view, self.filter_text)
        self.set_filter(query)

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.query_one("#executions", DataTable).focus()
        elif self.back_to is not None:
            view, previous = self.back_to
            self.back_to = None
            self.set_filter(previous)
            self.app.switch_mode(view)

    @on(DataTable.RowSelected, "#executions")
    def action_open(self) -> None:
        execution = self.selected()
        if execution:
            self.app.push_screen(DetailView(execution["execution_id"]))

    def action_cancel(self) -> None:
        execution = self.selected()
        if execution:
            self.app.confirm_and_act(execution, "cancel")

    def action_rerun(self) -> None:
        execution = self.selected()
        if execution:
            self.app.confirm_and_act(execution, "rerun")


@dataclass
class LiveEvent(Message):
    """An event of the run the detail view follows (or why the stream stopped), from the
    thread that reads the stream."""

    event: Event | None
    error: ApiError | None = None


class DetailView(View):
    """One run. While it is QUEUED or RUNNING, its output streams in live over the run's
    event stream (``livecode.client.EventStream``) between the view's refreshes; once it has
    ended, the stored result is what is shown."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back"),
                Binding("x", "cancel", "Cancel"), Binding("R", "rerun", "Re-run")]

    def __init__(self, execution_id: str):
        super().__init__()
        self.execution_id = execution_id
        self.shown: dict | None = None  # the execution as last shown
        self.live = {"stdout": "", "stderr": ""}  # what streamed in while it ran
        self.received = {"stdout": 0, "stderr": 0}  # bytes of each, for resumed chunks
        self.stream: EventStream | None = None

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("cancel", "rerun"):
            return self.app.allow_actions
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            for part in ("timeline", "source", "stdin", "stdout", "stderr", "limits", "raw"):
                yield Static(id=part, classes="section")
        yield Footer()

    def fetch(self, client, now):
        return client.get(f"/executions/{self.execution_id}")

    def show(self, execution) -> None:
        if execution["status"] not in FINAL_STATUSES:
            self.follow()
            execution = {**execution, **{part: text for part, text in self.live.items()
                                         if len(text) > len(execution[part])}}
        now = self.app.clock()
        waited = fmt.seconds_between(execution["created_at"], execution["started_at"] or now)
        ran = fmt.seconds_between(execution["started_at"], execution["finished_at"] or now)
        timeline = Text()
        timeline.append(f"{execution['execution_id']}  ", style="bold")
        timeline.append_text(fmt.state(execution["status"]))
        timeline.append("  ")
        timeline.append(f"  reason {execution['reason'] or '-'}  exit "
                        f"{execution['exit_code'] if execution['exit_code'] is not None else '-'}"
                        f"  attempts {execution['attempts']}")
        if execution.get("rerun_of"):
            timeline.append(f"  re-run of {fmt.short(execution['rerun_of'])}")
        timeline.append(f"\nQUEUED {execution['created_at']}  ─ {fmt.duration(waited)} ─▶  "
                        f"RUNNING {execution['started_at'] or '…'}  ─ {fmt.duration(ran)} ─▶  "
                        f"{execution['status'] if execution['finished_at'] else '…'} "
                        f"{execution['finished_at'] or ''}")
        timeline.append(f"\nworker {execution['worker_id'] or '-'}  sandbox "
                        f"{execution['sandbox'] or '-'}  cpu {fmt.ms(execution['cpu_time_ms'])}"
                        f"  rss {fmt.kib(execution['max_rss_kb'])}")
        self.query_one("#timeline", Static).update(timeline)
        self.query_one("#source", Static).update(Syntax(
            execution["source_code"] or " ", execution["language"], line_numbers=True,
            theme="ansi_dark", word_wrap=True))
        for part in ("stdin", "stdout", "stderr"):
            body = execution[part]
            label = Text(f"{part}{' (truncated)' if part != 'stdin' and execution['truncated'] else ''}"
                         f" — {fmt.size(len(body))}\n", style="bold")
            label.append(body or "(empty)", style="red" if part == "stderr" else "")
            self.query_one(f"#{part}", Static).update(label)
        limits = "  ".join(f"{k} {v}" for k, v in execution["limits"].items())
        self.query_one("#limits", Static).update(Text("limits\n", style="bold") + Text(limits))
        self.query_one("#raw", Static).update(
            Syntax(json.dumps(execution, indent=2), "json", theme="ansi_dark", word_wrap=True))
        self.shown = execution

    def follow(self) -> None:
        if self.stream is None:
            self.stream = self.app.client.events(self.execution_id)
            self.read_events(self.stream)

    @work(thread=True, exclusive=True, group="live-output")
    def read_events(self, stream: EventStream) -> None:
        try:
            for event in stream:
                self.post_message(LiveEvent(event))
        except ApiError as exc:
            self.post_message(LiveEvent(None, exc))

    def on_live_event(self, message: LiveEvent) -> None:
        if message.error is not None:  # the refreshes go on showing what is stored
            self.notify(f"live output stopped: {message.error}", severity="warning")
            return
        event = message.event
        if event.event in ("stdout", "stderr"):
            chunk = event.data["data"].encode("utf-8", "surrogatepass")
            skip = self.received[event.event] - event.data["offset"]  # already seen, if > 0
            if skip >= len(chunk):
                return
            self.live[event.event] += chunk[max(skip, 0):].decode("utf-8", "replace")
            self.received[event.event] = event.data["offset"] + len(chunk)
            if self.shown is not None:
                self.show(self.shown)
        elif event.event == "result":
            self.show(event.data)
        elif event.event == "state":
            self.app.poll(now=True)  # its times and worker come with the stored record

    def on_unmount(self) -> None:
        if self.stream is not None:
            self.stream.close()

    def action_cursor_down(self) -> None:
        self.query_one("#detail", VerticalScroll).scroll_down()

    def action_cursor_up(self) -> None:
        self.query_one("#detail", VerticalScroll).scroll_up()

    def action_cancel(self) -> None:
        if self.shown:
            self.app.confirm_and_act(self.shown, "cancel")

    def action_rerun(self) -> None:
        if self.shown:
            self.app.confirm_and_act(self.shown, "rerun")


class WorkersView(View):
    sort = ("id", False)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Rows(id="workers", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#workers", DataTable)
        for label, key in (("worker", "id"), ("state", "state"), ("running", "current"),
                           ("heartbeat", "age"), ("done", "done"), ("failed", "failed"),
                           ("timeout", "timeout"), ("slots", "slots"), ("sandboxes", "sandboxes")):
            table.add_column(label, key=key)
        self.query_one("#workers", DataTable).focus()

    def fetch(self, client, now):
        return client.get("/workers")

    def show(self, data) -> None:
        now = self.app.clock()
        rows = {}
        for worker in data["workers"]:
            age = fmt.seconds_between(worker["last_heartbeat"], now)
            lost = worker_is_lost(worker["state"], age, data["lost_after_seconds"])
            shown_state = (Cell("LOST", "LOST", "bold red") if lost
                           else Cell(worker["state"]))
            rows[worker["worker_id"]] = (
                Cell(worker["worker_id"]), shown_state,
                Cell(", ".join(fmt.short(i) for i in worker["current"]) or "-",
                     len(worker["current"])),
                fmt.duration_cell(age), Cell(str(worker["completed"]), worker["completed"]),
                Cell(str(worker["failed"]), worker["failed"]),
                Cell(str(worker["timed_out"]), worker["timed_out"]),
                Cell(str(worker["concurrency"]), worker["concurrency"]),
                Cell(", ".join(worker["sandboxes"])))
        self.sync_rows(self.query_one("#workers", DataTable), rows)


class FailuresView(View):
    BINDINGS = [Binding("enter", "drill", "Show runs")]
    sort = ("count", True)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Rows(id="failures", cursor_type="row", zebra_stripes=True)
        yield Static("failures of the last hour, by status, reason and last line of stderr",
                     classes="caption")
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#failures", DataTable)
        for label, key in (("count", "count"), ("state", "state"), ("reason", "reason"),
                           ("signature", "signature"), ("first", "first"), ("last", "last")):
            table.add_column(label, key=key)
        table.focus()
        self.groups = {}

    def fetch(self, client, now):
        return client.get("/failures", {"window": 3600, "until": iso(now)})

    def show(self, data) -> None:
        rows = {}
        self.groups = {}
        for group in data["failures"]:
            key = f"{group['status']}|{group.get('reason')}|{group['signature']}"
            self.groups[key] = group
            rows[key] = (Cell(str(group["count"]), group["count"]), fmt.state(group["status"]),
                         Cell(group.get("reason") or "-"), Cell(group["signature"]),
                         Cell(fmt.parse_time(group["first_seen"]).strftime("%H:%M:%S"),
                              group["first_seen"]),
                         Cell(fmt.parse_time(group["last_seen"]).strftime("%H:%M:%S"),
                              group["last_seen"]))
        self.sync_rows(self.query_one("#failures", DataTable), rows)

    @on(DataTable.RowSelected, "#failures")
    def action_drill(self) -> None:
        group = self.groups.get(self.selected_key())
        if group is None:
            return
        self.app.switch_mode("executions")
        self.app.screen.drilled_from("failures", group_query(group))


def group_query(group: dict) -> str:
    """The executions filter that shows a failures group's runs: its status, its reason and,
    when stderr had a last line, that line."""
    terms = [f"state:{group['status']}"]
    if group.get("reason"):
        terms.append(f"reason:{group['reason']}")
    if group["signature"] and group["signature"] != group.get("reason"):
        terms.append('"' + group["signature"].replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(terms)


class PickView(ModalScreen):
    """``:`` — type the name of a view (or its first letters)."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=f"view: {', '.join(VIEWS)}", id="pick")

    @on(Input.Submitted)
    def pick(self, event: Input.Submitted) -> None:
        wanted = event.value.strip().lower()
        match = next((v for v in VIEWS if wanted and v.startswith(wanted)), None)
        self.dismiss(match)

    def key_escape(self) -> None:
        self.dismiss(None)


class ConfirmView(ModalScreen[bool]):
    """Asks before an action on the server: y does it, n or esc does not."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n", "answer(False)", "No"),
                Binding("escape", "answer(False)", "No", show=False)]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(Text(self.question + "\n\n", style="bold") + Text("y: yes   n / esc: no"),
                     id="confirm")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class HelpView(ModalScreen):
    """``?`` — the keys of the view below, read from its bindings, so it is never out of date."""

    BINDINGS = [Binding("escape", "dismiss", "Close"),
                Binding("question_mark", "dismiss", "Close", show=False)]
    NOTES = ('Filter: state:FAILED language:python reason:nonzero_exit worker:w3 "MemoryError"\n'
             "        (! before a term excludes it)")

    def __init__(self, keys: list[tuple[str, str]], read_only: bool):
        super().__init__()
        self.keys = keys
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        text = Text("livecode console — keys\n\n", style="bold")
        half = (len(self.keys) + 1) // 2  # two columns, so it fits 80x24
        for left, right in zip(self.keys[:half], [*self.keys[half:], None]):
            for entry in (left, right):
                if entry:
                    text.append(f"  {entry[0]:<6}", style="bold")
                    text.append(f"{entry[1]:<22}")
            text.append("\n")
        text.append("\n" + self.NOTES)
        if self.read_only:
            text.append("\nRead-only: start with --allow-actions to cancel and re-run runs.")
        text.append("\n(esc closes)")
        yield Static(text, id="help")

    def action_dismiss(self) -> None:
        self.dismiss()
