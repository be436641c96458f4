"""Saving collections: round trips, atomic writes, and never losing text already on disk."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from engine.collection.dumper import dump_collection_file, dump_request
from engine.collection.loader import load_collection, parse_collection_text, parse_request_text
from engine.collection.model import MISSING, CheckDef, RequestDef, ScenarioDef
from engine.collection.saver import (
    FileChangedError,
    atomic_write,
    create_folder,
    create_request,
    delete_folder,
    delete_request,
    duplicate_request,
    move_request,
    rename_request,
    save_collection_file,
    save_request,
)
from engine.errors import CollectionError
from tests.engine.collection_files import SAMPLE, write_collection


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE, tmp_path / "demo", ignore=shutil.ignore_patterns(".*")))


def test_sample_round_trips_through_dump_and_load() -> None:
    c = load_collection(SAMPLE)
    for req in c.requests:
        assert parse_request_text(dump_request(req), req.relpath) == req
    again = parse_collection_text(dump_collection_file(c), c.root)
    assert again.scenarios == c.scenarios
    assert (again.name, again.base_url, again.variables, again.headers, again.timeout_s) == (
        c.name,
        c.base_url,
        c.variables,
        c.headers,
        c.timeout_s,
    )


def test_saving_every_file_loads_back_equal(demo_copy: Path) -> None:
    c = load_collection(demo_copy)
    for req in list(c.requests):
        save_request(c, req)
    save_collection_file(c)
    again = load_collection(demo_copy)
    assert again.requests == c.requests
    assert again.scenarios == c.scenarios
    assert again.variables == c.variables


@pytest.mark.parametrize(
    "body",
    [
        "line one\nline two\n",
        "no newline",
        "yes",
        "123",
        "{{token}}",
        "key: value",
        "",
        {"a": [1, 2, {"b": None}], "flag": True},
        [1, "two", 3.5],
    ],
)
def test_bodies_round_trip(body: object) -> None:
    req = RequestDef(relpath=Path("a.yaml"), name="A", method="POST", url="/a", body=body)  # type: ignore[arg-type]
    assert parse_request_text(dump_request(req), req.relpath) == req


def test_dump_request_is_stable_and_leaves_out_defaults() -> None:
    req = RequestDef(relpath=Path("a.yaml"), name="A", url="/a")
    assert dump_request(req) == "name: A\nmethod: GET\nurl: /a\n"
    full = RequestDef(
        relpath=Path("b.yaml"),
        name="B",
        method="PUT",
        url="/b",
        headers={"X-Id": "1"},
        params={"q": "x y"},
        body="text\nmore\n",
        timeout_s=1.5,
        weight=2.0,
        checks=CheckDef(status=[204], body_contains=["ok"], json=[("$.a", MISSING), ("$.b", None)]),
        insecure=True,
        description="d",
    )
    text = dump_request(full)
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line[0].isspace()]
    assert keys == [
        "name",
        "description",
        "method",
        "url",
        "headers",
        "params",
        "body",
        "timeout",
        "weight",
        "checks",
        "insecure",
    ]
    assert "body: |" in text
    assert "timeout: 1.5s" in text
    assert parse_request_text(text, full.relpath) == full


def test_scenarios_round_trip_with_every_field() -> None:
    s = ScenarioDef(
        name="all",
        model="open",
        profile="stages",
        users=3,
        rate=12.5,
        duration_s=0.1,
        ramp_up_s=1.25,
        spike_to=0,
        stages=[(1.0, 5.0), (0.5, 0.0)],
        think_time="10ms..20ms",
        iterations=4,
        max_in_flight=7,
        flow="weighted",
        workers=2,
        http2=True,
        client="httpx",
        insecure=True,
        timeout_s=3.0,
        graceful_stop_s=1.0,
        thresholds=["p95 < 300ms"],
    )
    c = load_collection(SAMPLE)
    c.scenarios = {"all": s}
    again = parse_collection_text(dump_collection_file(c), c.root)
    assert again.scenarios == {"all": s}


def test_comments_at_the_top_of_a_file_survive_a_save(demo_copy: Path) -> None:
    c = load_collection(demo_copy)
    head = c.collection_file.read_text().splitlines()[0]
    assert head.startswith("#")
    c.scenarios["smoke"].users = 4
    save_collection_file(c)
    assert c.collection_file.read_text().splitlines()[0] == head
    path = demo_copy / "home.yaml"
    path.write_text("# owner: web team\n\n" + path.read_text())
    req = c.find_request("Home")
    assert req is not None
    save_request(c, replace(req, url="/?v=2"))
    assert path.read_text().startswith("# owner: web team\n\nname: Home\n")
    assert load_collection(demo_copy).find_request("Home").url == "/?v=2"  # type: ignore[union-attr]


def test_invalid_request_is_never_written_over_a_good_file(demo_copy: Path) -> None:
    c = load_collection(demo_copy)
    req = c.find_request("Home")
    assert req is not None
    path = demo_copy / "home.yaml"
    before = path.read_bytes()
    for bad in (
        replace(req, url="ftp://nope"),
        replace(req, method="FETCH"),
        replace(req, url=""),
        replace(req, weight=-1.0),
        replace(req, name="Get JSON"),  # used by another request
        replace(req, checks=CheckDef(json=[("no-dollar", MISSING)])),
    ):
        with pytest.raises(CollectionError):
            save_request(c, bad)
        assert path.read_bytes() == before
    assert [p.name for p in demo_copy.iterdir() if p.name.endswith(".tmp")] == []


def test_file_changed_on_disk_is_detected_before_saving(demo_copy: Path) -> None:
    c = load_collection(demo_copy)
    req = c.find_request("Home")
    assert req is not None
    path = demo_copy / "home.yaml"
    opened_at = path.stat().st_mtime_ns
    path.write_text(path.read_text() + "# edited elsewhere\n")
    os.utime(path, ns=(opened_at + 5_000_000, opened_at + 5_000_000))
    theirs = path.read_bytes()
    with pytest.raises(FileChangedError) as info:
        save_request(c, replace(req, url="/mine"), expected_mtime_ns=opened_at)
    assert isinstance(info.value, CollectionError)
    assert info.value.problems[0].path == path
    assert "changed on disk" in info.value.problems[0].message
    assert path.read_bytes() == theirs
    new_mtime = save_request(
        c, replace(req, url="/mine"), expected_mtime_ns=path.stat().st_mtime_ns
    )
    assert new_mtime == path.stat().st_mtime_ns
    assert "url: /mine" in path.read_text()
    path.unlink()
    with pytest.raises(FileChangedError, match="deleted"):
        save_request(c, replace(req, url="/again"), expected_mtime_ns=new_mtime)


def test_collection_file_save_checks_mtime_and_validity(demo_copy: Path) -> None:
    c = load_collection(demo_copy)
    path = c.collection_file
    before = path.read_bytes()
    c.scenarios["smoke"].thresholds.append("p95 < soon")
    with pytest.raises(CollectionError, match="not a latency"):
        save_collection_file(c)
    assert path.read_bytes() == before
    c.scenarios["smoke"].thresholds.pop()
    with pytest.raises(FileChangedError):
        save_collection_file(c, expected_mtime_ns=path.stat().st_mtime_ns - 1)
    assert path.read_bytes() == before
    c.scenarios["smoke"].users = 3
    save_collection_file(c, expected_mtime_ns=path.stat().st_mtime_ns)
    assert load_collection(demo_copy).scenarios["smoke"].users == 3


def test_atomic_write_keeps_the_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("old")
    path.chmod(0o600)
    atomic_write(path, "new text\n")
    assert path.read_text() == "new text\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.yaml"]


def test_atomic_write_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("good\n")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(path, "bad \ud800 surrogate")
    assert path.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


def test_create_rename_duplicate_delete_requests(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://127.0.0.1:1\nscenarios:\n"
                "  s:\n    requests: [Home, other.yaml]\n"
            ),
            "home.yaml": "name: Home\nurl: /\n",
            "other.yaml": "name: Other\nurl: /o\n",
        },
    )
    c = load_collection(root)
    new = create_request(c, "users/get_user", "Get user")
    assert new.relpath == Path("users/get_user.yaml")
    assert (root / "users/get_user.yaml").is_file()
    assert Path("users") in c.folders
    with pytest.raises(CollectionError, match="exists"):
        create_request(c, "users/get_user.yaml", "Another")
    with pytest.raises(CollectionError, match="already used"):
        create_request(c, "x.yaml", "Home")
    home = c.find_request("Home")
    assert home is not None
    renamed = rename_request(c, home, "Start")
    assert renamed.name == "Start"
    assert load_collection(root).scenarios["s"].requests == ["Start", "other.yaml"]
    copy = duplicate_request(c, renamed)
    assert (copy.name, copy.relpath) == ("Start copy", Path("home_copy.yaml"))
    other = c.find_request("Other")
    assert other is not None
    delete_request(c, other)
    assert not (root / "other.yaml").exists()
    again = load_collection(root)
    assert again.scenarios["s"].requests == ["Start"]
    assert sorted(r.name for r in again.requests) == sorted(r.name for r in c.requests)


def test_move_request_keeps_the_text_and_follows_references(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://127.0.0.1:1\nscenarios:\n  s:\n    requests: [a.yaml]\n"
            ),
            "a.yaml": "# keep this comment\nname: A\nurl: /a\n",
        },
    )
    c = load_collection(root)
    text = (root / "a.yaml").read_bytes()
    moved = move_request(c, c.requests[0], "deep/er/")
    assert moved.relpath == Path("deep/er/a.yaml")
    assert (root / "deep/er/a.yaml").read_bytes() == text
    assert not (root / "a.yaml").exists()
    again = load_collection(root)
    assert again.scenarios["s"].requests == ["deep/er/a.yaml"]
    renamed = move_request(c, moved, "b")
    assert renamed.relpath == Path("b.yaml")
    with pytest.raises(CollectionError, match="not a path inside"):
        move_request(c, renamed, "../escape.yaml")


def test_folders_are_created_and_deleted_only_with_confirmation(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path, {"api/a.yaml": "name: A\nurl: /a\n", "b.yaml": "name: B\nurl: /\n"}
    )
    c = load_collection(root)
    assert create_folder(c, "empty/inner") == Path("empty/inner")
    assert {Path("empty"), Path("empty/inner")} <= set(c.folders)
    delete_folder(c, "empty/inner")
    assert not (root / "empty/inner").exists()
    with pytest.raises(CollectionError) as info:
        delete_folder(c, "api")
    assert "not empty (1 requests)" in info.value.problems[0].message
    assert (root / "api/a.yaml").exists()
    delete_folder(c, "api", confirm=True)
    assert not (root / "api").exists()
    assert [r.name for r in c.requests] == ["B"]
    assert [r.name for r in load_collection(root).requests] == ["B"]
    for bad in ("/etc", "..", ".hidden"):
        with pytest.raises(CollectionError):
            create_folder(c, bad)
