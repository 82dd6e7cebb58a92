"""The whole extension surface of livecode, in one file.

A plugin is a module or object with functions named like the specs below and marked with
``@hookimpl``; a package exposes it through the ``livecode`` entry-point group::

    [options.entry_points]
    livecode =
        ruby = livecode_ruby.plugin

Registration hooks receive a ``register`` callback rather than returning values, so one plugin can
register several things and livecode can name the plugin in any error (two plugins claiming the
same language, for example, stop start-up with both names).
"""

import pluggy

hookspec = pluggy.HookspecMarker("livecode")
hookimpl = pluggy.HookimplMarker("livecode")


# --- What runs ------------------------------------------------------------------------------


@hookspec
def livecode_register_languages(register, settings):
    """Register language runners.

    Call ``register(runner)`` with a :class:`livecode.core.contracts.LanguageRunner` instance for
    each language; ``runner.name`` is what clients send as ``language``. ``settings`` is the
    :class:`livecode.core.config.Settings`; read plugin options with
    ``settings.option("PYTHON", default)`` (environment variable ``LIVECODE_PYTHON``).
    """


@hookspec
def livecode_register_sandboxes(register):
    """Register sandboxes.

    Call ``register(SandboxClass)`` with a subclass of :class:`livecode.core.contracts.Sandbox`;
    ``SandboxClass.name`` is what operators choose with ``LIVECODE_SANDBOX``. The class is
    instantiated once per worker process, with the settings, only if it is chosen.
    """


# --- Where things are kept and carried ------------------------------------------------------


@hookspec
def livecode_register_stores(register):
    """Register store backends by URL scheme.

    Call ``register("sqlite", factory)`` where ``factory(url, settings)`` returns a
    :class:`livecode.core.contracts.Store`. ``LIVECODE_STORE=sqlite:///path`` then picks it.
    """


@hookspec
def livecode_register_queues(register):
    """Register queue backends by URL scheme.

    Call ``register("redis", factory)`` where ``factory(url, settings)`` returns a
    :class:`livecode.core.contracts.Queue`. ``LIVECODE_QUEUE=redis://host:6379/0`` picks it.
    """


# --- Observing ------------------------------------------------------------------------------


@hookspec
def livecode_execution_state_changed(execution, previous):
    """Called after an execution's status changed and the change is stored.

    ``execution`` is the new :class:`livecode.core.models.Execution`, ``previous`` the status it
    left (``None`` when it was just created as QUEUED). Called in the process that made the
    change (API or worker); keep it fast, since it runs inline. An exception is logged and
    otherwise ignored: an observer never breaks a run.
    """
