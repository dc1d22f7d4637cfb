"""Settings: one default each, overridden by its environment variable, and the README's configuration
table says the same."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from client.settings import ClientSettings
from server.settings import ROOT, ServerSettings, WebSettings

SETTINGS = (ClientSettings, ServerSettings, WebSettings)
TRAINING_ONLY = {"POET_TRAIN_THREADS"}  # model.train's, not a serving process's
README_ROW = re.compile(r"^\| `(POET_\w+)`[^|]*\| `([^`]*)` \|", re.MULTILINE)


def defaults_by_variable() -> dict[str, object]:
    return {f.metadata["env"]: f.default for kind in SETTINGS for f in fields(kind)}


def test_every_variable_is_read_once_by_one_setting() -> None:
    names = [f.metadata["env"] for kind in SETTINGS for f in fields(kind)]
    assert len(names) == len(set(names))


def test_the_environment_overrides_a_default_in_its_type() -> None:
    settings = ServerSettings.from_env({"POET_GRPC_PORT": "6000", "POET_MODEL": "/tmp/w", "POET_GRACE": "2.5"})
    assert (settings.port, settings.model, settings.grace) == (6000, Path("/tmp/w"), 2.5)
    assert settings.max_batch == ServerSettings().max_batch == 64  # unset: the default


def test_a_value_of_the_wrong_type_names_its_variable() -> None:
    with pytest.raises(ValueError, match="POET_RETRIES='many' is not int"):
        ClientSettings.from_env({"POET_RETRIES": "many"})


def test_the_client_looks_where_the_server_listens_by_default() -> None:
    server = ServerSettings()
    assert ClientSettings().server == f"{server.host}:{server.port}"


def test_the_readme_table_lists_every_setting_with_its_default() -> None:
    readme = dict(README_ROW.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    defaults = defaults_by_variable()
    assert set(readme) - TRAINING_ONLY == set(defaults)
    for name, default in defaults.items():
        written = readme[name]
        if isinstance(default, Path):
            assert ROOT / written == default, name
        elif isinstance(default, (int, float)):
            assert float(written) == default, name
        else:
            assert written == default, name
