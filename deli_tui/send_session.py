"""The session of single sends: values extracted from responses, kept for the next sends.

Sending Login (ctrl+r) puts the token its ``extract:`` finds here, and a request sent later
that uses ``{{token}}`` gets it, as in Postman or Posting. A single send also gets the first
row of a scenario's data file for ``{{user.name}}``-style columns and fresh dynamic values
(``{{$guid}}``). No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collection.datafile import read_data_file
from engine.collection.model import Collection, RequestDef
from engine.dynamic import DYNAMIC_VALUES
from engine.errors import CollectionError
from engine.load.extract import compile_extractions
from engine.plan.flows import extraction_of


@dataclass(frozen=True, slots=True)
class Extracted:
    """One extraction's outcome on a response: its value, or why there is none."""

    name: str
    value: str | None
    message: str = ""


@dataclass(slots=True)
class SendSession:
    """Variables set by the responses of single sends, by name."""

    values: dict[str, str] = field(default_factory=dict)

    def fixed_values(self, collection: Collection) -> dict[str, str]:
        """What a single send resolves beyond the collection's variables: data columns
        (first row of each scenario's data file), dynamic values (new ones), and the
        session's own values, which win."""
        out: dict[str, str] = {}
        for scenario in collection.scenarios.values():
            data = scenario.data
            if data is None or any(k.startswith(f"{data.as_name}.") for k in out):
                continue
            try:
                table = read_data_file(
                    collection.root, data, collection.collection_file, max_rows=1
                )
            except CollectionError:
                continue
            for column, value in zip(table.columns, table.rows[0], strict=True):
                out[f"{data.as_name}.{column}"] = value
        out.update({name: generate() for name, generate in DYNAMIC_VALUES.items()})
        out.update(self.values)
        return out

    def apply(
        self, req: RequestDef, body: bytes, headers: list[tuple[str, str]]
    ) -> list[Extracted]:
        """Run ``req``'s extractions on its response; found values join the session."""
        raw = [(n.encode("latin-1"), v.encode("latin-1", "replace")) for n, v in headers]
        outcomes: list[Extracted] = []
        for e in req.extract:
            run = compile_extractions((extraction_of(e, 0),))
            assert run is not None
            slot = [""]
            problem = run(body, raw, slot)
            if problem is None:
                self.values[e.name] = slot[0]
                outcomes.append(Extracted(e.name, slot[0]))
            else:
                outcomes.append(Extracted(e.name, None, problem))
        return outcomes

    def clear(self, name: str | None = None) -> None:
        """Forget ``name`` (every value when None)."""
        if name is None:
            self.values.clear()
        else:
            self.values.pop(name, None)
