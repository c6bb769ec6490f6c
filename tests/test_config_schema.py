"""The config file's JSON Schema: built from the Settings fields and every vendor's declared
options, published in docs/config.schema.json (kept current here), and the same checks for
the pytest marker's options and for Python callers."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mockserver.config import (
    ConfigError,
    check_config,
    check_options,
    config_schema,
    vendor_specs,
)
from mockserver.providers.options import Options

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "docs" / "config.schema.json"


def test_the_published_schema_is_current() -> None:
    current = json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
    assert PUBLISHED.read_text(encoding="utf-8") == current, (
        "docs/config.schema.json is stale: mockserver config --schema > docs/config.schema.json")


def test_it_is_a_valid_schema_naming_every_vendor_option() -> None:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    vendors = schema["properties"]["vendors"]["properties"]
    for name, spec in vendor_specs().items():
        declared = {o.name for o in spec.all_options()}
        assert declared <= set(vendors[name]["properties"]), name
        assert vendors[name]["additionalProperties"] is False


def toml_blocks() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"^\s*```toml\n(.*?)^\s*```", text, flags=re.S | re.M):
            found.append((path.name, re.sub(r"^  ", "", block, flags=re.M)))
    return found


@pytest.mark.parametrize("name,block", toml_blocks(), ids=[n for n, _ in toml_blocks()])
def test_every_toml_block_of_the_guides_is_a_valid_config(name: str, block: str) -> None:
    check_config(tomllib.loads(block), name)


def test_every_declared_default_passes_its_own_check() -> None:
    """A vendor table that spells out every default must be accepted as written in TOML."""
    for name, spec in vendor_specs().items():
        table = {o.name: list(o.default) if isinstance(o.default, tuple) else o.default
                 for o in spec.all_options() if o.default is not None}
        Options(name, spec.all_options(), table)
        check_config({"vendors": {name: table}}, "defaults.toml")


@pytest.mark.parametrize("options,wanted", [
    ({"time_scael": 5}, "unknown option(s) time_scael (did you mean time_scale?)"),
    ({"vendors": {"dashcope": {}}}, "vendors.dashcope is not a vendor (did you mean dashscope?)"),
    ({"vendors": {"dashscope": {"run_secs": 1}}}, "did you mean run_seconds?"),
    ({"vendors": {"dashscope": {"run_seconds": "five"}}},
     'vendors.dashscope.run_seconds = "five": must be a finite number'),
    ({"time_scale": 0}, "time_scale = 0: must be a finite number greater than 0"),
    ({"faults": [{"vendor": "dashscope", "effect": "boom"}]}, "faults[0].effect"),
    ({"port": 9000}, "port is chosen by the caller"),
])
def test_python_options_get_the_same_checks(options: dict[str, object], wanted: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_options(options, server_chosen={"host", "port"}, extra={"check_schemas"})
    assert wanted in str(raised.value)


def test_python_options_that_are_fine() -> None:
    check_options({"api_keys": "sk-one", "check_schemas": False, "strict_auth": True,
                   "vendors": {"tencent": {"regions": ("ap-beijing",)}}},
                  server_chosen={"host", "port"}, extra={"check_schemas"})


def test_nan_in_a_vendor_table_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[vendors\.dashscope\] run_seconds must be a finite"):
        check_config({"vendors": {"dashscope": {"run_seconds": float("nan")}}}, "x.toml")
