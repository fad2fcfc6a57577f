"""Makes moto's TransactWriteItems copy the table once per transaction, not once per item.

moto snapshots the whole table with deepcopy for rollback before *each* item of a
transaction, which makes a 40-item transaction on a table of a few thousand items take
seconds. Copying once per table gives the same rollback semantics. Idempotent; if moto's
code changed, it says so and leaves moto alone (correct, only slower).
"""

import pathlib
import sys

import moto.dynamodb.models as models

path = pathlib.Path(models.__file__)
source = path.read_text()
old = "            if table_name and table_name in self.tables:\n                original_table_state[table_name] = copy.deepcopy("
new = "            if table_name and table_name in self.tables and table_name not in original_table_state:\n                original_table_state[table_name] = copy.deepcopy("
if new in source:
    sys.exit(0)
if old not in source:
    print(f"patch_moto: {path} changed upstream; transactions stay slow but correct", file=sys.stderr)
    sys.exit(0)
path.write_text(source.replace(old, new))
print("patch_moto: transactions snapshot each table once")
