"""Config: TOML + env, and errors that name the key."""

from __future__ import annotations

import pytest

from hl_email.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "hl-email.toml"
    path.write_text(text)
    return path


def test_file_and_env_merge(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        '[agent]\naddress = "Agent@Example.test"\n[smtp]\nhost = "smtp.example.test"\nport = 587\n',
    )
    monkeypatch.setenv("HL_EMAIL_SMTP__PASSWORD", "from-env")
    monkeypatch.setenv("HL_EMAIL_API__API_KEYS", '["k1","k2"]')
    cfg = load_config(path)
    assert cfg.agent.address == "agent@example.test"
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.password) == (
        "smtp.example.test",
        587,
        "from-env",
    )
    assert cfg.api.api_keys == ["k1", "k2"]


def test_env_wins_over_file(tmp_path, monkeypatch):
    path = write(tmp_path, "[smtp]\nport = 587\n")
    monkeypatch.setenv("HL_EMAIL_SMTP__PORT", "2525")
    assert load_config(path).smtp.port == 2525


def test_relative_store_path_is_relative_to_the_file(tmp_path):
    path = write(tmp_path, '[store]\nurl = "sqlite:///data/hl.db"\n')
    assert load_config(path).sqlite_path == str(tmp_path / "data" / "hl.db")


@pytest.mark.parametrize(
    "text, key",
    [
        ('[agent]\naddress = "nope"\n', "agent.address"),
        ("[smtp]\nport = 70000\n", "smtp.port"),
        ('[smtp]\nsecurity = "ssl"\n', "smtp.security"),
        ('[imap]\nfolderr = "INBOX"\n', "imap.folderr"),
        ('[store]\nurl = "mysql://x"\n', "store.url"),
        ('[agent]\nname = "a\\nBcc: x@y"\n', "agent.name"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert key in str(err.value)


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[agent\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_keep_raw_mail_is_a_duration():
    from hl_email.config import ConfigError, load_config

    assert load_config(None, store={"keep_raw_mail": "90d"}).store.keep_raw_mail == 90 * 86400
    assert load_config(None).store.keep_raw_mail is None
    try:
        load_config(None, store={"keep_raw_mail": "soon"})
    except ConfigError as exc:
        assert "store.keep_raw_mail" in str(exc)
    else:
        raise AssertionError("a bad duration must be refused")


def test_json_log_lines():
    import json
    import logging

    from hl_email.logs import JsonFormatter

    record = logging.LogRecord(
        "hl_email.gateway", logging.WARNING, __file__, 1, "x %s", ("y",), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "warning" and entry["logger"] == "hl_email.gateway"
    assert entry["message"] == "x y" and entry["ts"].endswith("+00:00")
