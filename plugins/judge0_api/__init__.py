"""Judge0 CE's API, under ``/judge0``: frontends and the official clients written for Judge0
move to livecode by changing their base URL to ``http://host/judge0``.

A prefix, because livecode's own ``GET /languages`` already answers at the root with another
shape; everything under it is Judge0's (see ``submissions`` for how fields translate and
README, "Moving from Judge0 or Piston", for what is not supported).
"""

from livecode.core.hookspecs import hookimpl

from . import callbacks  # noqa: F401  (registers Judge0's callback shape)
from .resources import About, Languages, Statuses, Submissions

PREFIX = "/judge0"


@hookimpl
def livecode_register_routes(register, api):
    submissions = Submissions(api)
    register(f"{PREFIX}/submissions", submissions)
    register(f"{PREFIX}/submissions/batch", submissions, "batch")
    register(f"{PREFIX}/submissions/{{token}}", submissions, "item")
    languages = Languages(api)
    register(f"{PREFIX}/languages", languages)
    register(f"{PREFIX}/languages/{{language_id}}", languages, "item")
    register(f"{PREFIX}/statuses", Statuses(api))
    about = About(api)
    register(f"{PREFIX}/about", about)
    register(f"{PREFIX}/config_info", about, "config")
