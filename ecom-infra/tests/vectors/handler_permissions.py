"""Prints, as the Rust table in ecom-infra/src/deployer/handler_permissions.rs, the IAM
permissions CloudFormation needs to create, read, update and delete each resource type the
templates use: the `handlers` of the resource provider schemas that cfn-lint ships (the
CloudFormation registry's own schemas).

    target/py/bin/python ecom-infra/tests/vectors/handler_permissions.py eu-west-1 TYPE...

The test `deployer::the_table_is_the_registry_schemas` runs it and compares.
"""
import importlib.resources
import json
import sys

region, types = sys.argv[1], sys.argv[2:]
data = importlib.resources.files("cfnlint") / "data" / "schemas"
providers = json.loads((data / "providers" / f"{region}.json").read_text())
out = {}
for kind in sorted(types):
    schema = json.loads((data / "resources" / f"{providers[kind]}.json").read_text())
    permissions = set()
    for handler in ("create", "read", "update", "delete"):
        permissions |= set(schema.get("handlers", {}).get(handler, {}).get("permissions", []))
    out[kind] = sorted(permissions)
print(json.dumps(out, indent=1, sort_keys=True))
