from dataclasses import fields

import pytest

from livecode.core.config import STRUCTURED, Settings
from livecode.core.errors import InvalidInput


def test_defaults_need_nothing_configured(tmp_path):
    settings = Settings.from_env({"HOME": str(tmp_path)})
    assert settings.data_dir == str(tmp_path / ".local" / "share" / "livecode")
    assert settings.store == f"sqlite:///{tmp_path}/.local/share/livecode/livecode.db"
    assert settings.queue == "memory://"
    assert settings.sandbox == "subprocess"
    assert settings.concurrency >= 1
    assert settings.max_source_bytes == 64 * 1024


def test_environment_sets_fields_and_limits():
    settings = Settings.from_env({"LIVECODE_QUEUE": "redis://x:6379/0", "LIVECODE_PORT": "9001",
                                  "LIVECODE_WALL_TIME_LIMIT": "2.5", "LIVECODE_DATA_DIR": "/d"})
    assert settings.queue == "redis://x:6379/0"
    assert settings.port == 9001
    assert settings.limits.wall_time_limit == 2.5
    assert settings.store == "sqlite:////d/livecode.db"


def test_flags_win_over_environment_and_none_means_not_given():
    settings = Settings.from_env({"LIVECODE_PORT": "9001", "LIVECODE_SANDBOX": "docker"},
                                 port=9002, sandbox=None)
    assert settings.port == 9002
    assert settings.sandbox == "docker"


def test_a_malformed_number_is_a_clear_error():
    with pytest.raises(InvalidInput, match="LIVECODE_PORT='eighty' is not a valid int"):
        Settings.from_env({"LIVECODE_PORT": "eighty"})


def test_plugin_options_come_from_the_environment():
    settings = Settings.from_env({"LIVECODE_PYTHON": "/opt/py/bin/python3"})
    assert settings.option("python") == "/opt/py/bin/python3"
    assert settings.option("missing", "fallback") == "fallback"


def test_compile_limits_have_their_own_settings():
    settings = Settings.from_env({"LIVECODE_COMPILE_WALL_TIME_LIMIT": "7",
                                  "LIVECODE_COMPILE_MEMORY_LIMIT": "524288"})
    assert settings.compile_limits.wall_time_limit == 7.0
    assert settings.compile_limits.memory_limit == 524288
    assert settings.limits.wall_time_limit == 5.0  # the run's own limit is untouched
    with pytest.raises(InvalidInput, match="LIVECODE_COMPILE_CPU_TIME_LIMIT='0'"):
        Settings.from_env({"LIVECODE_COMPILE_CPU_TIME_LIMIT": "0"})


def as_environment(settings: Settings) -> dict:
    """Every setting as the ``LIVECODE_*`` variable that sets it."""
    env = {f"LIVECODE_{f.name.upper()}": str(getattr(settings, f.name)) for f in fields(settings)
           if f.name not in STRUCTURED}
    env.update({f"LIVECODE_{k.upper()}": str(v) for k, v in settings.limits.to_dict().items()})
    env.update({f"LIVECODE_CAP_{k.upper()}": str(v)
                for k, v in settings.limit_caps.to_dict().items()})
    env.update({f"LIVECODE_COMPILE_{k.upper()}": str(v)
                for k, v in settings.compile_limits.to_dict().items()})
    return env


def test_every_setting_is_read_back_from_its_environment_variable():
    settings = Settings.from_env({"LIVECODE_QUEUE": "amqp://h//", "LIVECODE_CPU_TIME_LIMIT": "3",
                                  "LIVECODE_COMPILE_WALL_TIME_LIMIT": "9",
                                  "LIVECODE_DATA_DIR": "/d"})
    again = Settings.from_env(as_environment(settings))
    assert again == settings


def test_a_result_store_makes_the_store_a_split_store():
    settings = Settings.from_env({"LIVECODE_STORE": "sqlite:////d/meta.db",
                                  "LIVECODE_RESULT_STORE": "mongodb://h:27017/livecode"})
    assert settings.store == "split:sqlite:////d/meta.db;mongodb://h:27017/livecode"
