"""The console's views. Each is a :class:`View` screen with ``fetch`` (runs on a worker thread,
talks HTTP) and ``show`` (runs on the UI thread, updates widgets in place)."""

import json
from datetime import datetime

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Sparkline, Static

from livecode.client import ApiClient
from livecode.core.models import worker_is_lost
from livecode.core.timestamps import iso

from . import formatting as fmt
from .query import QueryError, parse

VIEWS = ("overview", "executions", "workers", "failures")
PAGE = 100


class View(Screen):
    """A screen the console keeps up to date."""

    ready = False  # set once its widgets are set up; data arriving earlier waits a refresh
    shown = 0  # refreshes this view has shown

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

    def sync_rows(self, table: DataTable, rows: dict[str, tuple], cache: dict) -> bool:
        """Make ``table`` hold ``rows`` (key → cells), touching only cells that changed;
        returns whether rows were added (so the caller can re-sort)."""
        for key in [k for k in cache if k not in rows]:
            table.remove_row(key)
            del cache[key]
        added = False
        columns = list(table.columns)
        for key, cells in rows.items():
            old = cache.get(key)
            if old is None:
                table.add_row(*cells, key=key)
                added = True
            else:
                for column, before, after in zip(columns, old, cells):
                    if before != after:
                        table.update_cell(key, column, after)
            cache[key] = cells
        return added


class OverviewView(View):
    BINDINGS = [Binding("enter", "drill", "Executions")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="overview"):
            yield DataTable(id="queues", cursor_type="row")
            yield Static(id="warning")
            yield Static(id="counts")
            yield Static("runs finished, last 5 minutes", classes="caption")
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
                client.get("/stats", {"window": 300, "until": iso(now)}))

    def show(self, data) -> None:
        queues, stats = data
        table = self.query_one("#queues", DataTable)
        rows = {}
        idle_with_work = []
        for queue in queues:
            rows[queue["name"]] = (
                queue["name"], str(queue["depth"] if queue["depth"] is not None else "?"),
                fmt.duration(fmt.seconds_between(queue["oldest_waiting_since"],
                                                 self.app.clock())),
                str(queue["running"]),
                f"{queue['consumers']} ({queue['capacity']})",
                f"{stats['runs_per_second']:.2f}",
                f"{fmt.ms(stats['wait_ms']['p50'])}/{fmt.ms(stats['wait_ms']['p95'])}",
                f"{fmt.ms(stats['run_ms']['p50'])}/{fmt.ms(stats['run_ms']['p95'])}",
                fmt.percent(stats["failed_rate"]), fmt.percent(stats["timeout_rate"]))
            if (queue["depth"] or queue["queued"]) and not queue["consumers"]:
                idle_with_work.append(queue["name"])
        self.sync_rows(table, rows, self._cache)
        warning = self.query_one("#warning", Static)
        warning.update(Text(f"⚠ {', '.join(idle_with_work)}: runs are waiting and no worker "
                            "consumes", style="bold red") if idle_with_work else "")
        counts = "  ".join(f"{name} {stats['counts'].get(name, 0)}" for name in
                           ("QUEUED", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"))
        self.query_one("#counts", Static).update(f"last 5 min: {counts}")
        self.query_one("#spark", Sparkline).data = stats["sparkline"]

    @on(DataTable.RowSelected, "#queues")
    def action_drill(self) -> None:
        self.app.switch_mode("executions")


class ExecutionsView(View):
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("slash", "filter", "Filter"),
        Binding("x", "cancel", "Cancel"),
        Binding("R", "rerun", "Re-run"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    filter_text = ""
    filter_params: list[tuple[str, str]] = ()  # replaced, never mutated

    COLUMNS = (("id", "id"), ("created", "created"), ("lang", "language"), ("state", "state"),
               ("wait", "wait"), ("run", "run"), ("exit", "exit"), ("out", "out"),
               ("worker", "worker"), ("sandbox", "sandbox"))

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder='state:FAILED language:python worker:w3 "MemoryError"  '
                                '(! excludes; enter applies, esc leaves)', id="filter")
        yield DataTable(id="executions", cursor_type="row", zebra_stripes=True)
        yield Static(id="filter-line")
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#executions", DataTable)
        for label, key in self.COLUMNS:
            table.add_column(label, key=key)
        self.sort = ("created", True)
        self.query_one("#filter", Input).display = False
        table.focus()

    def fetch(self, client, now):
        return client.get("/executions", [("limit", PAGE), *self.filter_params])["executions"]

    def row(self, execution) -> tuple:
        now = self.app.clock()
        created = fmt.parse_time(execution["created_at"])
        run = (execution["execution_time_ms"] / 1000 if execution["execution_time_ms"]
               is not None else fmt.seconds_between(execution["started_at"], now)
               if execution["status"] == "RUNNING" else None)
        worker = execution["worker_id"] or "-"
        return (
            fmt.short(execution["execution_id"]), created.strftime("%H:%M:%S"),
            execution["language"], fmt.state(execution["status"]),
            fmt.duration(fmt.seconds_between(execution["created_at"],
                                              execution["started_at"] or (
                                                  now if execution["status"] == "QUEUED"
                                                  else None))),
            fmt.duration(run),
            "-" if execution["exit_code"] is None else str(execution["exit_code"]),
            fmt.size(len(execution["stdout"]) + len(execution["stderr"])),
            ":".join(worker.split(":")[:2])[:16], execution["sandbox"] or "-",
        )

    def show(self, executions) -> None:
        table = self.query_one("#executions", DataTable)
        self.executions = {e["execution_id"]: e for e in executions}
        rows = {e["execution_id"]: self.row(e) for e in executions}
        if self.sync_rows(table, rows, self._cache):
            table.sort(self.sort[0], reverse=self.sort[1])
        shown = f"filter: {self.filter_text}" if self.filter_text else "no filter"
        self.query_one("#filter-line", Static).update(
            f"{len(executions)} newest runs · {shown} · sorted by {self.sort[0]}")

    def selected(self) -> dict | None:
        table = self.query_one("#executions", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.executions.get(key)

    @on(DataTable.HeaderSelected)
    def resort(self, event: DataTable.HeaderSelected) -> None:
        column = event.column_key.value
        reverse = not self.sort[1] if self.sort[0] == column else False
        self.sort = (column, reverse)
        event.data_table.sort(column, reverse=reverse)

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
            self.app.tell(str(exc), "error")
            return
        self.filter_text = text
        self.app.poll(now=True)

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.query_one("#executions", DataTable).focus()

    @on(DataTable.RowSelected, "#executions")
    def action_open(self) -> None:
        execution = self.selected()
        if execution:
            self.app.push_screen(DetailView(execution["execution_id"]))

    def action_cursor_down(self) -> None:
        self.query_one("#executions", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#executions", DataTable).action_cursor_up()

    def action_cancel(self) -> None:
        execution = self.selected()
        if execution:
            self.app.act(f"/executions/{execution['execution_id']}/cancel",
                         f"cancelled {fmt.short(execution['execution_id'])}")

    def action_rerun(self) -> None:
        execution = self.selected()
        if execution:
            self.app.act(f"/executions/{execution['execution_id']}/rerun",
                         f"re-running {fmt.short(execution['execution_id'])}")


class DetailView(View):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"),
                Binding("x", "cancel", "Cancel"), Binding("R", "rerun", "Re-run")]

    def __init__(self, execution_id: str):
        super().__init__()
        self.execution_id = execution_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            for part in ("timeline", "source", "stdin", "stdout", "stderr", "limits", "raw"):
                yield Static(id=part, classes="section")
        yield Footer()

    def fetch(self, client, now):
        return client.get(f"/executions/{self.execution_id}")

    def show(self, execution) -> None:
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
                        f"  rss {execution['max_rss_kb'] or '-'}K")
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
        self.execution = execution

    def action_cancel(self) -> None:
        self.app.act(f"/executions/{self.execution_id}/cancel", "cancelled")

    def action_rerun(self) -> None:
        self.app.act(f"/executions/{self.execution_id}/rerun", "re-running")


class WorkersView(View):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="workers", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#workers", DataTable)
        for label, key in (("worker", "id"), ("state", "state"), ("running", "current"),
                           ("heartbeat", "age"), ("done", "done"), ("failed", "failed"),
                           ("timeout", "timeout"), ("slots", "slots"), ("sandboxes", "sandboxes")):
            table.add_column(label, key=key)

    def fetch(self, client, now):
        return client.get("/workers")

    def show(self, data) -> None:
        now = self.app.clock()
        rows = {}
        for worker in data["workers"]:
            age = fmt.seconds_between(worker["last_heartbeat"], now)
            lost = worker_is_lost(worker["state"], age, data["lost_after_seconds"])
            shown_state = fmt.state("LOST") if lost else Text(worker["state"])
            if lost:
                shown_state.stylize("bold red")
            rows[worker["worker_id"]] = (
                worker["worker_id"][:28], shown_state,
                ", ".join(fmt.short(i) for i in worker["current"]) or "-", fmt.duration(age),
                str(worker["completed"]), str(worker["failed"]), str(worker["timed_out"]),
                str(worker["concurrency"]), ", ".join(worker["sandboxes"]))
        self.sync_rows(self.query_one("#workers", DataTable), rows, self._cache)


class FailuresView(View):
    BINDINGS = [Binding("enter", "drill", "Show runs")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="failures", cursor_type="row", zebra_stripes=True)
        yield Static("failures of the last hour, by status and last line of stderr",
                     classes="caption")
        yield Footer()

    def setup(self) -> None:
        table = self.query_one("#failures", DataTable)
        for label, key in (("count", "count"), ("state", "state"), ("signature", "signature"),
                           ("first", "first"), ("last", "last")):
            table.add_column(label, key=key)
        self.groups = {}

    def fetch(self, client, now):
        return client.get("/failures", {"window": 3600, "until": iso(now)})

    def show(self, data) -> None:
        rows = {}
        self.groups = {}
        for group in data["failures"]:
            key = f"{group['status']}|{group['signature']}"
            self.groups[key] = group
            rows[key] = (str(group["count"]), fmt.state(group["status"]), group["signature"],
                         fmt.parse_time(group["first_seen"]).strftime("%H:%M:%S"),
                         fmt.parse_time(group["last_seen"]).strftime("%H:%M:%S"))
        self.sync_rows(self.query_one("#failures", DataTable), rows, self._cache)

    @on(DataTable.RowSelected, "#failures")
    def action_drill(self) -> None:
        table = self.query_one("#failures", DataTable)
        if not table.row_count:
            return
        group = self.groups[table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value]
        signature = group["signature"].replace('"', "")
        query = f'state:{group["status"]}' + (f' "{signature}"' if signature and group[
            "signature"] != group.get("reason") else "")
        self.app.switch_mode("executions")
        self.app.screen.set_filter(query)


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


class HelpView(ModalScreen):
    TEXT = """livecode console — keys

  ?        this help              :        switch view (overview, executions, workers,
  1 2 3 4  overview, executions,           failures)
           workers, failures      /        filter executions
  enter    drill down             esc      back
  j / k    down / up              p        pause / resume updates
  x        cancel a queued run    R        re-run (a new run linked to the old one)
  q        quit

Filter: state:FAILED language:python worker:w3 "MemoryError"  (! before a term excludes it)
x and R need --allow-actions; the console is read-only without it.   (esc closes)"""

    def compose(self) -> ComposeResult:
        yield Static(self.TEXT, id="help")

    def key_escape(self) -> None:
        self.dismiss()

    def key_question_mark(self) -> None:
        self.dismiss()


