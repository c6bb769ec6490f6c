from __future__ import annotations

from mockserver.settings import Settings, load_settings


def test_precedence_flags_env_config_defaults(tmp_path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text(
        '[server]\nport = 9001\nhost = "0.0.0.0"\ntime_scale = 2.0\n'
        '[auth]\nkeys = ["sk-a"]\n[auth.tencent]\nAKIDother = "other-secret"\n'
        '[vendors.dashscope]\nrun_seconds = 5\n'
    )
    env = {"MOCKSERVER_PORT": "9002", "MOCKSERVER_TIME_SCALE": "3", "MOCKSERVER_CONFIG": str(config)}
    settings = load_settings({"port": 9003}, env)
    assert settings.port == 9003  # flag beats env
    assert settings.time_scale == 3.0  # env beats config
    assert settings.host == "0.0.0.0"  # config beats default
    assert settings.store == "memory"  # default
    assert settings.api_keys == ("sk-a",)
    assert settings.credentials == {"tencent": {"AKIDother": "other-secret"}}
    assert settings.vendor_option("dashscope", "run_seconds", 30) == 5
    assert settings.vendor_option("dashscope", "queue_seconds", 2) == 2


def test_boolean_env_and_base_url() -> None:
    settings = load_settings({}, {"MOCKSERVER_STRICT_AUTH": "true", "MOCKSERVER_LIMITS_ENABLED": "0"})
    assert settings.strict_auth is True and settings.limits_enabled is False
    assert Settings(port=1234).base_url == "http://127.0.0.1:1234"
    assert Settings(public_url="https://mock.example/").base_url == "https://mock.example"


def test_serve_defaults_to_sqlite() -> None:
    assert load_settings({}, {}, default_store="sqlite:x.db").store == "sqlite:x.db"


def test_the_readme_config_example_loads(tmp_path) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    config = tmp_path / "readme.toml"
    config.write_text(block)
    settings = load_settings({}, {"MOCKSERVER_CONFIG": str(config)})
    assert settings.api_keys == ("sk-team-a", "sk-team-b")
    assert settings.credentials["tencent"]["AKIDteam"] == "team-secret"
    assert settings.vendor_option("dashscope", "submit_qps", None) == 2
    assert settings.fetch_deny_hosts == ("10.0.0.0/8", "*.internal")
    assert settings.fetch_mode == "single"
