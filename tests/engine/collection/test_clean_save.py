"""A save changes only what the user changed: comments, key order, quoting and flow style of
everything else stay, in ``collection.yaml`` and in request files."""

from __future__ import annotations

import dataclasses
import difflib
import shutil
from pathlib import Path

import pytest

from engine.collection.loader import load_collection
from engine.collection.model import RequestDef, ScenarioDef
from engine.collection.roundtrip import load_document, merged_text
from engine.collection.saver import (
    delete_request,
    rename_request,
    save_collection_file,
    save_request,
)
from tests.engine.collection_files import SAMPLE, write_collection


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE, tmp_path / "demo", ignore=shutil.ignore_patterns(".*")))


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) between two texts."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


COMMENTED = """\
# Shop API: shared by the team. Keep the smoke scenario short.
name: Shop
base_url: http://{{host}}:{{port}}
variables: {host: 127.0.0.1, port: "8089"}   # flow style, quoted port
headers:
  Accept: 'application/json'
scenarios:
  # the one CI runs
  smoke:
    users: 10        # ten is enough
    duration: 20s
    requests: [Home, Get JSON]
    thresholds:
      - p95 < 300ms   # the SLO

  soak:
    model: closed
    profile: constant
    users: 50
    duration: 10m
# end of file
"""
REQUESTS = {
    "home.yaml": "name: Home\nurl: /\n",
    "api/get_json.yaml": "name: Get JSON\nurl: /json\n",
}


def test_changing_one_field_of_one_scenario_changes_that_one_line(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    collection.scenarios["smoke"].users = 12
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    assert changed_lines(COMMENTED, after) == (
        ["    users: 10        # ten is enough"],
        ["    users: 12        # ten is enough"],
    )
    assert load_collection(root).scenarios["smoke"].users == 12


def test_saving_an_unchanged_collection_rewrites_nothing(demo_copy: Path) -> None:
    before = (demo_copy / "collection.yaml").read_text()
    collection = load_collection(demo_copy)
    save_collection_file(collection)
    assert (demo_copy / "collection.yaml").read_text() == before


def test_a_field_set_back_to_its_default_is_removed_and_a_new_one_added_in_place(
    tmp_path: Path,
) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    smoke = collection.scenarios["smoke"]
    smoke.ramp_up_s = 5.0
    collection.scenarios["soak"].duration_s = 1200.0
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    removed, added = changed_lines(COMMENTED, after)
    assert removed == ["    duration: 10m"]
    assert added == ["    ramp_up: 5s", "    duration: 20m"]
    lines = after.splitlines()
    assert lines[lines.index("    ramp_up: 5s") - 1] == "    duration: 20s"
    assert "  # the one CI runs" in lines and "# end of file" in lines
    again = load_collection(root)
    assert again.scenarios == collection.scenarios


def test_removing_the_last_key_of_a_scenario_keeps_the_blank_line_after_it(
    tmp_path: Path,
) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    collection.scenarios["smoke"].thresholds = []
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    removed, added = changed_lines(COMMENTED, after)
    assert removed == ["    thresholds:", "      - p95 < 300ms   # the SLO"]
    assert added == []
    assert "    requests: [Home, Get JSON]\n\n  soak:" in after


def test_a_changed_list_keeps_its_flow_style_and_a_changed_string_its_quotes(
    tmp_path: Path,
) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    collection.scenarios["smoke"].requests = ["Home"]
    collection.variables["port"] = "9090"
    collection.headers["Accept"] = "text/plain"
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    removed, added = changed_lines(COMMENTED, after)
    assert added == [
        'variables: {host: 127.0.0.1, port: "9090"}   # flow style, quoted port',
        "  Accept: 'text/plain'",
        "    requests: [Home]",
    ], removed


def test_a_new_scenario_is_appended_set_apart_like_the_others(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    collection.scenarios["burst"] = ScenarioDef(name="burst", users=3, duration_s=5.0)
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    assert after == COMMENTED.replace(
        "# end of file",
        "\n  burst:\n    model: closed\n    users: 3\n    duration: 5s\n# end of file",
    )
    assert list(load_collection(root).scenarios) == ["smoke", "soak", "burst"]


def test_a_deleted_scenario_leaves_the_others_and_the_last_comment_alone(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    del collection.scenarios["soak"]
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    assert after == COMMENTED.split("  soak:")[0] + "# end of file\n"


def test_a_renamed_scenario_keeps_its_place_its_comments_and_its_text(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    collection.scenarios = {
        ("ci" if name == "smoke" else name): dataclasses.replace(s, name="ci")
        if name == "smoke"
        else s
        for name, s in collection.scenarios.items()
    }
    save_collection_file(collection)
    after = (root / "collection.yaml").read_text()
    assert changed_lines(COMMENTED, after) == (["  smoke:"], ["  ci:"])


REQUEST_WITH_COMMENTS = """\
# Creates a user; the id comes back in $.id
name: Create user
method: POST
url: /users   # relative to base_url
headers:
  # the API wants JSON
  Content-Type: application/json
  X-Trace: "on"
body:
  name: deli      # any name works
  tags: [load, test]
checks:
  status: [200, 201]
timeout: 5s
"""


def test_a_request_keeps_its_inner_comments_when_one_field_changes(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"users/create.yaml": REQUEST_WITH_COMMENTS})
    collection = load_collection(root)
    req = collection.requests[0]
    save_request(collection, dataclasses.replace(req, url="/v2/users"))
    after = (root / "users/create.yaml").read_text()
    assert changed_lines(REQUEST_WITH_COMMENTS, after) == (
        ["url: /users   # relative to base_url"],
        ["url: /v2/users   # relative to base_url"],
    )


def test_a_request_body_edit_changes_only_the_body_value(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"users/create.yaml": REQUEST_WITH_COMMENTS})
    collection = load_collection(root)
    req = collection.requests[0]
    body = {"name": "tui", "tags": ["load", "test"]}
    save_request(collection, dataclasses.replace(req, body=body, description="makes one user"))
    after = (root / "users/create.yaml").read_text()
    removed, added = changed_lines(REQUEST_WITH_COMMENTS, after)
    assert removed == ["  name: deli      # any name works"]
    assert added == ["description: makes one user", "  name: tui      # any name works"]
    assert after.index("description:") < after.index("method:")


def test_renaming_a_request_changes_its_name_line_and_the_scenario_reference(
    tmp_path: Path,
) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    home = collection.find_request("Home")
    assert home is not None
    rename_request(collection, home, "Start page")
    after = (root / "collection.yaml").read_text()
    assert changed_lines(COMMENTED, after) == (
        ["    requests: [Home, Get JSON]"],
        ["    requests: [Start page, Get JSON]"],
    )
    assert (root / "home.yaml").read_text() == "name: Start page\nurl: /\n"


def test_deleting_a_request_drops_only_its_reference(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {"collection.yaml": COMMENTED, **REQUESTS})
    collection = load_collection(root)
    req = collection.find_request("Get JSON")
    assert req is not None
    delete_request(collection, req)
    after = (root / "collection.yaml").read_text()
    assert changed_lines(COMMENTED, after) == (
        ["    requests: [Home, Get JSON]"],
        ["    requests: [Home]"],
    )


def test_every_sample_file_comes_back_byte_for_byte_from_its_document() -> None:
    for path in sorted(SAMPLE.rglob("*.yaml")):
        text = path.read_text()
        loaded = load_document(text)
        assert loaded is not None, path
        assert merged_text(text, {}, {}) == text, path


@pytest.mark.parametrize(
    "text",
    [
        "name: A\nurl: /a\nheaders:\n    X-A: '1'\n",  # four-space indent
        "---\nname: A\nurl: /a\nchecks:\n  status:\n  - 200\n  - 201\n",  # indentless list
    ],
)
def test_other_indentation_styles_are_kept(tmp_path: Path, text: str) -> None:
    root = write_collection(tmp_path / "c", {"a.yaml": text})
    collection = load_collection(root)
    req = collection.requests[0]
    save_request(collection, dataclasses.replace(req, method="POST"))
    after = (root / "a.yaml").read_text()
    removed, added = changed_lines(text, after)
    assert removed == [] and added == ["method: POST"], after


def test_a_file_that_cannot_be_edited_in_place_is_written_whole_and_loads(tmp_path: Path) -> None:
    # YAML merge keys: editing one merged value in place would change its source for others.
    text = (
        "name: Shop\nbase_url: http://127.0.0.1:8089\nscenarios:\n"
        "  base: &base {users: 2, duration: 1s}\n"
        "  other:\n    <<: *base\n    users: 3\n"
    )
    root = write_collection(tmp_path / "shop", {"collection.yaml": text})
    collection = load_collection(root)
    collection.scenarios["base"].users = 4
    save_collection_file(collection)
    again = load_collection(root)
    assert again.scenarios["base"].users == 4
    assert again.scenarios["other"].users == 3
    assert again.scenarios["other"].duration_s == 1.0


def test_editing_an_anchored_list_changes_only_the_scenario_edited(tmp_path: Path) -> None:
    text = (
        "name: Shop\nbase_url: http://127.0.0.1:8089\nscenarios:\n"
        "  smoke:\n    users: 2\n    requests: &plain [Home, Get JSON]  # shared\n"
        "  ramp:\n    users: 5\n    requests: *plain\n"
    )
    root = write_collection(tmp_path / "shop", {"collection.yaml": text, **REQUESTS})
    collection = load_collection(root)
    collection.scenarios["smoke"].requests = ["Get JSON", "Home"]
    save_collection_file(collection)
    again = load_collection(root)
    assert again.scenarios["smoke"].requests == ["Get JSON", "Home"]
    assert again.scenarios["ramp"].requests == ["Home", "Get JSON"]
    assert "# shared" in (root / "collection.yaml").read_text()


def test_a_new_request_file_is_written_by_the_dumper(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "shop", {})
    collection = load_collection(root)
    save_request(collection, RequestDef(relpath=Path("new.yaml"), name="New", url="/n"))
    assert (root / "new.yaml").read_text() == "name: New\nmethod: GET\nurl: /n\n"
