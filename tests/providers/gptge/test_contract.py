"""gpt.ge schemas, examples, catalogue and operation table agree with each other."""
from __future__ import annotations

import json
import re
from pathlib import Path

from mockserver.core.errors import Catalogue
from mockserver.core.operations import load_operations
from mockserver.core.schemas import SchemaRegistry

OPERATIONS = load_operations("gptge")

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = SchemaRegistry()
VENDOR_CODE = ROOT / "mockserver" / "providers" / "gptge"


def test_every_schema_has_a_valid_example_and_every_example_a_schema() -> None:
    names = {n.removeprefix("gptge/") for n in SCHEMAS.names("gptge")} - {"common"}
    examples = {p.name.removesuffix(".example.json")
                for p in (ROOT / "fixtures" / "gptge").glob("*.example.json")}
    assert names == examples
    for name in names:
        doc = json.loads((ROOT / "fixtures" / "gptge" / f"{name}.example.json").read_text())
        assert SCHEMAS.first_error(f"gptge/{name}", doc) is None, name


def test_seed_example_answer_validates_as_succeeded() -> None:
    seed = {"status": 200, "data": {
        "completed_at": 1742670627, "created_at": 1742670626, "download_time": 488,
        "err_info": "", "foreground_rect": {"x": 133, "y": 110, "width": 604, "height": 952},
        "image": "https://wxtechsz.oss-cn-shenzhen.aliyuncs.com/tasks/output/idphoto/x-image.png",
        "image_height": 400, "image_width": 300, "output_type": 2, "processed_at": 1742670626,
        "progress": 100, "result_type": "object", "return_type": 1, "state": 1,
        "state_detail": "Complete", "task_id": "3b950563-e53f-4036-a581-5ac04d0829b3",
        "time_elapsed": 384.54998779296875, "type": "auto"}}
    assert SCHEMAS.first_error("gptge/task-succeeded", seed) is None
    assert SCHEMAS.first_error("gptge/callback", seed) is None


def test_request_schema_matches_the_form_rules() -> None:
    ok = [{"image_url": "https://a/b.jpg"}, {"image_file": "<9 bytes>", "image_url": ""},
          {"image_url": "http://a/b", "size": "2000x100", "sync": "1", "bg_color": "00ff00"}]
    bad = [{}, {"image_file": "<9 bytes>", "image_url": "http://a/b"},
           {"image_url": "http://a/b", "size": "0300x400"}, {"image_url": "ftp://a/b"},
           {"image_url": "http://a/b", "format": "jpeg"}, {"image_url": "http://a/b", "bg_color": ""}]
    for doc in ok:
        assert SCHEMAS.first_error("gptge/idphoto-request", doc) is None, doc
    for doc in bad:
        assert SCHEMAS.first_error("gptge/idphoto-request", doc) is not None, doc


def test_catalogue_has_a_source_for_every_code_and_every_raised_code_exists() -> None:
    catalogue = Catalogue.load(ROOT / "schemas" / "gptge" / "catalogue.json")
    assert all(entry.source for entry in catalogue.entries.values())
    code = "\n".join(p.read_text() for p in VENDOR_CODE.glob("*.py"))
    raised = set(re.findall(r'VendorError\(\s*"([a-z_]+)"', code))
    raised |= set(re.findall(r'_code = "([a-z_]+)"', code))
    raised |= {"too_many_requests"}  # passed to check_rate
    assert raised <= set(catalogue.entries), raised - set(catalogue.entries)


def test_operation_table_names_existing_schemas() -> None:
    known = set(SCHEMAS.names("gptge"))
    for op in OPERATIONS:
        named = {s for group in op.responses.values() for s in group}
        named |= {op.request_schema, op.callback_schema} - {None}
        assert named <= known, (op.operation, named - known)
