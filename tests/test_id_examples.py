"""The ids shown in the OpenAPI document's examples look like the ids the service mints."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Ids minted with agency.ids.new_id("xyz"): the prefixes the code really uses.
MINTED = {
    match.group(1)
    for path in (ROOT / "agency").rglob("*.py")
    for match in re.finditer(r'new_id\(\s*"([a-z]+)"', path.read_text())
}


def id_examples(node: object, key: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        example = node.get("example")
        if isinstance(example, str) and (key == "id" or key.endswith("_id")):
            found.append((key, example))
        for name, value in node.items():
            found += id_examples(value, name)
    elif isinstance(node, list):
        for value in node:
            found += id_examples(value, key)
    return found


def test_every_id_example_uses_a_prefix_the_service_mints():
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    examples = id_examples(document)
    assert ("entry_id", "jen_5d1c2e0f9a8b7c6d5e4f3a2b") in examples  # journal entries are jen_
    wrong = {
        (key, example)
        for key, example in examples
        if key != "external_id"  # Stripe's ids (acct_, tr_), not ours
        and (prefix := re.match(r"^([a-z]{3})_", example))
        and prefix.group(1) not in MINTED
    }
    assert not wrong, f"examples with prefixes the code never mints: {sorted(wrong)}"
