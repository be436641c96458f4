"""A shop collection for flow tests: login with a data file, list items, get one by id."""

from __future__ import annotations

from pathlib import Path

from tests.engine.collection_files import write_collection

LOGIN = """\
name: Login
method: POST
url: /login
body: {user: "{{user.name}}", password: "{{user.password}}"}
checks: {status: 200}
extract:
  token: {json: $.token}
  session: {header: Set-Cookie, regex: 'sid=([^;]+)'}
"""
LIST_ITEMS = """\
name: List items
url: /items
headers: {Authorization: "Bearer {{token}}", X-Request-Id: "{{$guid}}"}
checks: {status: 200}
extract:
  item_id: {json: "$.items[1].id"}
"""
GET_ITEM = """\
name: Get item
url: /items/{{item_id}}
headers: {Authorization: "Bearer {{token}}", X-Request-Id: "{{$guid}}"}
checks: {status: 200}
"""
WHOAMI = """\
name: Who am I
url: /whoami
headers: {Authorization: "Bearer {{token}}"}
"""


def shop_collection(root: Path, base_url: str, scenario: str, users: int = 5) -> Path:
    """The shop collection against ``base_url`` with ``scenario`` (YAML of one scenario,
    indented by 4) as scenario ``shop``, and a users.csv of ``users`` rows."""
    rows = "".join(f"u{i},pw-u{i}\n" for i in range(users))
    return write_collection(
        root,
        {
            "collection.yaml": f"name: Shop\nbase_url: {base_url}\nscenarios:\n  shop:\n"
            + scenario,
            "auth/login.yaml": LOGIN,
            "items/list.yaml": LIST_ITEMS,
            "items/get.yaml": GET_ITEM,
            "whoami.yaml": WHOAMI,
            "users.csv": "name,password\n" + rows,
        },
    )
