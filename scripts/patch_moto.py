"""Brings moto's DynamoDB closer to DynamoDB where our tests depend on it. Idempotent.

1. Transactions roll back only what they touched. To be able to roll back, moto deep-copies
   every table a transaction names, so each transaction costs time and memory in proportion
   to the table, and loading N contacts one transaction each is quadratic. The override keeps
   a journal instead: the previous version (or absence) of each item the transaction may write
   and the length of each table's stream, and on failure puts back exactly those: what a
   client then sees (items, indexes, stream records) is what moto's own rollback leaves.
2. Queries read only the partition they name. moto's Query, on the table or an index, walks
   and sorts every item of the table, so its time grows with the table. The override hands
   moto's own query code the items of the partition alone, found through a map from value to
   items kept up to date on every write: what it returns is what moto returns.
3. Writes are serialized: moto's threaded server runs concurrent requests without any
   locking, so two transactions can both pass a condition that only one should (DynamoDB
   transactions are serializable, single-item writes atomic). One lock around the
   backend's write operations restores that.
4. Stream records that have been read are trimmed: moto keeps a table's whole stream in
   memory for ever; the override drops records well behind the position a reader asks for.
5. Stream records are answered as JSON directly: moto's generic response serializer walked
   every attribute of every image, most of the emulator's time under load.
6. An SQS receive checks each message's retention from the queue's own setting: moto counted
   the whole queue for every message it looked at, so a receive cost the backlog squared; and
   the queue's message counts (read on every send too) ask the clock once, not per message.

All are Python appended to moto/dynamodb/models/__init__.py (the last to moto/sqs/models.py),
replacing moto's methods at import. The script rebuilds those files as pip installed them plus
the current overrides, so a second run changes nothing and a changed override replaces the old
one. The journal and the
partition index rely on the details of moto's DynamoDB model: if those files are not the moto
5.2.5 they were written for, the script says so and leaves transactions and queries as moto
made them. docs/local-emulator-patch.md tells more.
"""

import hashlib
import importlib.util
import pathlib
import sys

MODELS = pathlib.Path(importlib.util.find_spec("moto").origin).parent / "dynamodb" / "models"
# sha256 of moto 5.2.5's models/__init__.py (as pip installs it) and models/table.py. For a
# new moto: check that transact_write_items still snapshots with copy.deepcopy(table), that
# every write it makes is at the key of a Put, Update or Delete, and that Table.items and
# StreamShard.items are laid out as the journal expects. For the partition index: that
# Table.query still takes its candidates from one call to self.all_items() and keeps only
# those whose item.hash_key (table) or hash key attributes (index) equal the condition's, and
# that items are still stored and changed only by Table.put_item, Table.delete_item and the
# backend's update_item (grep for `.items[` and `attrs[`). Then update these, and run
# scripts/test_patch_moto.py.
KNOWN = {
    "__init__.py": "deee8b9c59bc8a4be642e9968c1673b6e4be57b989f8fd6777dd29786864ca86",
    "table.py": "3fecc9e51039f5a1ac5e302a21dc7aef48639a185ba01b11f9a6c32cf7853ba8",
}
# sha256 of moto 5.2.5's dynamodbstreams/responses.py: GetRecords still returns
# ActionResult(self.backend.get_records(iterator, limit)) of plain dicts.
STREAMS_RESPONSES = "7e8f45deb66b15f99d4960ba73b69b2073a26be7946c17b7ab1105eb7b5cb201"
# sha256 of moto 5.2.5's dynamodb/responses.py (DynamoHandler.query returns a DynamoResult of
# plain dicts) and dynamodb/models/dynamo_type.py (Item.project merges find_nested_key's
# results over to_regular_json() and serializes them back; Item.__init__ fills a
# LimitedSizeDict, whose __setitem__ alone refuses items over 405,000 bytes).
QUERY_MODULES = (
    "8e3fb141a935b9d3d74154b30f66e449409780ec3b120da077ed7ad7771e00c7",
    "f405bdcb4af8349593933e431a37b284a32ac8d09aca76d6748e7f3c2fe65957",
)
# sha256 of moto 5.2.5's sqs/models.py: is_message_valid_based_on_retention_period still
# reads MessageRetentionPeriod through get_queue_attributes.
SQS_MODELS = "c04224ad14c39581f5c54260911971fabac7c04bc956c34d23e3c1ad3d838f41"
MARKER = "\n\n# ai-bot-contacts: "  # starts every block this script appends

JOURNAL = f'''{MARKER}journaled transaction rollback
# moto's transact_write_items snapshots each table it names with copy.deepcopy(table) and on
# failure puts the snapshots back in self.tables. While it runs, a deep copy of a table is the
# table itself, so its snapshot is free and putting it back changes nothing; the journal below
# undoes the writes instead. Indexes: moto computes them from the items, and the partition
# index's maps (next block) refile every key a transaction named once it has run.
# Any exception rolls back (moto forgets to for an entry holding two operations).
import threading as _threading

_transaction = _threading.local()


def _deepcopy_table(table, memo):
    if getattr(_transaction, "running", False):
        return table
    return copy._reconstruct(table, memo, *table.__reduce_ex__(4))  # deepcopy's default


def _journaled(transact_write_items):
    def run(self, transact_items):
        journal = {{}}  # (table name, hash key, range key) -> (table, item before, or None)
        tables = {{}}
        for entry in transact_items:
            for op_type, op in entry.items():
                table = self.tables.get(op.get("TableName"))
                if table is None or op_type == "ConditionCheck":
                    continue  # writes nothing
                tables[table.name] = table
                try:
                    key = op["Item"] if op_type == "Put" else op["Key"]
                    key = {{name: key[name] for name in table.table_key_attrs}}
                    hash_key, range_key = self.get_keys_value(table, key)
                except Exception:
                    continue  # moto fails this operation, and the transaction, before writing
                previous = copy.deepcopy(table.get_item(hash_key, range_key))  # updates edit in place
                journal.setdefault((table.name, hash_key, range_key), (table, previous))
        # Records the transaction adds to a stream go away with it, as with moto's snapshot.
        # (A Lambda event source mapping may swap in a new list: keep the one from before.)
        streams = [(t.stream_shard, t.stream_shard.items, len(t.stream_shard.items))
                   for t in tables.values() if t.stream_shard is not None]
        _transaction.running = True
        try:
            return transact_write_items(self, transact_items)
        except BaseException:
            for (_, hash_key, range_key), (table, previous) in journal.items():
                if range_key is None:
                    where, key = table.items, hash_key
                else:  # table.items[hash key] is a dict by range key
                    where, key = table.items[hash_key], range_key
                if previous is None:
                    where.pop(key, None)
                else:
                    where[key] = previous
            for shard, records, length in streams:
                del records[length:]
                shard.items = records
            raise
        finally:
            _transaction.running = False

    return run


Table.__deepcopy__ = _deepcopy_table
DynamoDBBackend.transact_write_items = _journaled(DynamoDBBackend.transact_write_items)
'''

# Appended after the journal (its refiling wraps the journal's transact_write_items, so it runs
# after a rollback) and before the lock (so that refiling is inside the lock).
QUERY_INDEX = MARKER + """partition index for Query
# moto's Table.query takes its candidates from one call to self.all_items(): every item of the
# table, sorted by key. From those it keeps the partition queried (item.hash_key == hash_key on
# the table; the index's hash key attributes equal to the condition's values on an index), then
# sorts, pages, filters and projects them. The override hands that one call the items of the
# partition alone, in the order all_items gives them, and moto's query runs unchanged on them:
# what it keeps, and so everything it returns, is the same; its cost is the partition's.
# On the table, the partition is table.items[hash key]. On an index, it is found through a map,
# per table and per attribute, from an attribute's value to the keys of the items holding it,
# built at the first query that needs it and refiled after every write: Table.put_item and
# Table.delete_item (PutItem, BatchWriteItem, transactions, PartiQL, UpdateItem creating an item,
# imports), the backend's update_item (which edits the stored item in place) and, after a
# transaction, every key it named (the journal puts items back directly). When anything is
# unexpected, the query takes moto's own path, and a write whose key cannot be read forgets the
# table's maps (rebuilt at the next query).
import bisect as _bisect
import inspect as _inspect
import threading as _threading
import weakref as _weakref

_moto_query = Table.query  # moto's own, for scripts/test_patch_moto.py to compare with
_moto_all_items = Table.all_items
_query_signature = _inspect.signature(_moto_query)
_partition_indexes = _weakref.WeakKeyDictionary()  # Table -> {attribute name: _AttributeIndex}
_index_lock = _threading.RLock()  # building, refiling and reading the maps
_pending_items = _threading.local()  # what this thread's next all_items() of a table returns
_UNHASHABLE = object()


def _plain(value):
    \"\"\"What a DynamoType equals and hashes as: (type, cast value). Raises TypeError if the
    cast value cannot be hashed (a list, map or set).\"\"\"
    plain = (value.type, value.cast_value)
    hash(plain)
    return plain


_SORTABLE = ("S", "N")  # key types whose DynamoTypes compare as their cast values do


def _key(hash_key, range_key):
    \"\"\"An item's key, in plain values, and its place in all_items' order: None if a key
    attribute is not S or N (then the items are sorted as moto sorts them).\"\"\"
    hash_plain = _plain(hash_key)
    if range_key is None:
        key, types, values = (hash_plain, None), (hash_plain[0], None), (hash_plain[1],)
    else:
        range_plain = _plain(range_key)
        key = (hash_plain, range_plain)
        types, values = (hash_plain[0], range_plain[0]), (hash_plain[1], range_plain[1])
    sortable = types[0] in _SORTABLE and types[1] in _SORTABLE + (None,)
    return key, ((types, values) if sortable else None)


def _in_table_order(entries):
    \"\"\"entries: (order, item), order from _key. The items as all_items sorts them: by (hash
    key, range key) as DynamoTypes compare. With keys all of one type, S or N, sorting by their
    cast values gives the same order, several times faster.\"\"\"
    types = {order and order[0] for order, _ in entries}
    if len(types) == 1 and None not in types:
        return [item for _, item in sorted(entries, key=lambda entry: entry[0][1])]
    items = [item for _, item in entries]
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


class _AttributeIndex:
    \"\"\"A table's items by the value of one top-level attribute, in plain values. Items whose
    value cannot be hashed (a list, map or set) are candidates for any value: moto's query
    filters them.\"\"\"

    def __init__(self, table, attribute):
        self.attribute = attribute
        self.items = table.items  # what it was built from: if moto replaces it, rebuild
        self.by_value = {}  # plain value -> {key: (order, item)}
        self.filed_under = {}  # key -> plain value, or _UNHASHABLE
        self.unhashable = {}  # {key: (order, item)}
        self.in_order = {}  # plain value -> {sort attributes: _SortedPartition}, dropped on a write
        if table.range_key_attr is None:
            stored = ((hash_key, None, item) for hash_key, item in list(table.items.items()))
        else:
            stored = (
                (hash_key, range_key, item)
                for hash_key, partition in list(table.items.items())
                for range_key, item in list(partition.items())
            )
        for hash_key, range_key, item in stored:
            key, order = _key(hash_key, range_key)
            self.file(key, order, item)

    def file(self, key, order, item):
        value = item.attrs.get(self.attribute) if isinstance(item, Item) else None
        if value is None:
            return
        try:
            value = _plain(value)
        except Exception:
            value = _UNHASHABLE
            self.unhashable[key] = (order, item)
        else:
            self.by_value.setdefault(value, {})[key] = (order, item)
            self.in_order.pop(value, None)
        self.filed_under[key] = value

    def unfile(self, key):
        value = self.filed_under.pop(key, None)
        if value is _UNHASHABLE:
            self.unhashable.pop(key, None)
        elif value is not None:
            self.in_order.pop(value, None)
            entries = self.by_value.get(value)
            if entries is not None:
                entries.pop(key, None)
                if not entries:
                    del self.by_value[value]

    def entries(self, value):
        return list(self.by_value.get(_plain(value), {}).values()) + list(self.unhashable.values())

    def page(self, value, sort_attributes, start, forward, limit):
        \"\"\"The items moto's query can reach of a page of `limit` after the start key (a request's
        ExclusiveStartKey, or None), in the query's direction: the limit's items and the one
        after, which tells moto more follow. None when unsure.\"\"\"
        if self.unhashable:
            return None
        plain = _plain(value)
        by_attributes = self.in_order.setdefault(plain, {})
        partition = by_attributes.get(sort_attributes)
        if partition is None:
            entries = self.by_value.get(plain, {}).values()
            partition = by_attributes[sort_attributes] = _SortedPartition(entries, sort_attributes)
        return partition.page(start, forward, limit)


class _SortedPartition:
    \"\"\"A partition of an index in the order moto's query sorts it (by the attributes
    _generate_attr_to_sort_by names), kept until a write files an item under its value. Its
    page is a bisection instead of a walk from the partition's first item: that walk made
    each page of a 1,000,000-item partition cost the partition.\"\"\"

    def __init__(self, entries, sort_attributes):
        self.sort_attributes = sort_attributes
        keyed = []
        types = None
        for _, item in entries:
            values = [item.attrs.get(attribute) for attribute in sort_attributes]
            if any(v is None for v in values):
                continue  # not in the index (moto skips it too)
            row_types = tuple(v.type for v in values)
            if types is None:
                types = row_types
            if row_types != types or any(t not in _SORTABLE for t in row_types):
                self.keys = None  # compared as DynamoTypes: moto's walk decides
                return
            keyed.append((tuple(v.cast_value for v in values), item))
        keyed.sort(key=lambda entry: entry[0])
        self.types = types
        self.keys = [k for k, _ in keyed]
        self.items = [item for _, item in keyed]

    def page(self, start, forward, limit):
        if self.keys is None:
            return None
        if start is None:
            return self.items[: limit + 1] if forward else self.items[-(limit + 1):]
        if not isinstance(start, dict) or any(a not in start for a in self.sort_attributes):
            return None
        start_values = [DynamoType(start[a]) for a in self.sort_attributes]
        if self.types is not None and tuple(v.type for v in start_values) != self.types:
            return None
        position = tuple(v.cast_value for v in start_values)
        if forward:
            first = _bisect.bisect_right(self.keys, position)
            return self.items[first: first + limit + 1]
        end = _bisect.bisect_left(self.keys, position)
        return self.items[max(0, end - limit - 1): end]


def _forget(table):
    with _index_lock:
        _partition_indexes.pop(table, None)


def _refile(table, hash_key, range_key):
    \"\"\"After a write at that key: file the item now there (if any) where its values say.\"\"\"
    with _index_lock:  # a map being built is installed before this runs: no write is missed
        indexes = _partition_indexes.get(table)
        if not indexes:
            return
        try:
            if not isinstance(hash_key, DynamoType):
                raise TypeError(hash_key)
            if table.range_key_attr is None:
                item = table.items.get(hash_key)  # get, not []: table.items is a defaultdict
                key, order = _key(hash_key, None)
            elif isinstance(range_key, DynamoType):
                item = table.items.get(hash_key, {}).get(range_key)
                key, order = _key(hash_key, range_key)
            else:
                raise TypeError(range_key)  # moto would write the whole partition
            for index in indexes.values():
                index.unfile(key)
                index.file(key, order, item)
        except Exception:
            _partition_indexes.pop(table, None)


def _refile_request_key(table, key):
    \"\"\"key: attribute values as in a request, {name: {type: value}}, with the key attributes.\"\"\"
    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = None if table.range_key_attr is None else DynamoType(key[table.range_key_attr])
    except Exception:
        _forget(table)
    else:
        _refile(table, hash_key, range_key)


def _page_of_index(table, index, value, arguments, hash_conditions):
    \"\"\"A page of a plain paged query on an index with one hash and one range key, moto's
    order: no range key condition (each item it walks is then kept), a Limit. None otherwise.\"\"\"
    limit = arguments.get("limit")
    if (
        hash_conditions != 1
        or not isinstance(limit, int)
        or limit <= 0
        or arguments.get("range_comparison")
        or arguments.get("range_key_conditions")
        or arguments.get("filter_kwargs")
    ):
        return None
    schema = table.get_index(arguments["index_name"]).schema
    hashes = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"]
    if hashes != [index.attribute] or len(ranges) != 1:
        return None
    # moto's _generate_attr_to_sort_by for such an index: its keys, then the table's.
    sort_attributes = tuple(a for a in (hashes[0], ranges[0], table.hash_key_attr, table.range_key_attr) if a)
    forward = arguments.get("scan_index_forward") is not False
    return index.page(value, sort_attributes, arguments.get("exclusive_start_key"), forward, limit)


def _partition(table, arguments):
    \"\"\"The items all_items() would give moto's query that it can keep, in the same order, or
    None when unsure.\"\"\"
    if arguments.get("index_name"):
        # moto keeps the items whose attributes equal every hash key condition (a dict: for an
        # attribute named twice, the last value counts): those holding any one of them will do.
        conditions = dict(arguments.get("hash_key_conditions") or ())
        if not conditions:
            return None
        attribute, value = next(iter(conditions.items()))
        if not isinstance(attribute, str) or not isinstance(value, DynamoType):
            return None
        with _index_lock:
            indexes = _partition_indexes.get(table)
            if indexes is None or any(i.items is not table.items for i in indexes.values()):
                indexes = _partition_indexes[table] = {}
            index = indexes.get(attribute)
            if index is None:
                index = indexes[attribute] = _AttributeIndex(table, attribute)
            page = _page_of_index(table, index, value, arguments, len(conditions))
            if page is not None:
                return page
            entries = index.entries(value)
    else:
        # moto keeps the items whose item.hash_key equals hash_key: those of table.items[hash_key].
        hash_key = arguments.get("hash_key")
        if not isinstance(hash_key, DynamoType):
            return None
        partition = table.items.get(hash_key)  # get, not []: table.items is a defaultdict
        if partition is None:
            items = []
        elif table.range_key_attr is None:
            items = [partition]
        else:
            items = list(partition.values())
        entries = [(_key(item.hash_key, item.range_key)[1], item) for item in items]
    return _in_table_order(entries)


def _partition_query(self, *args, **kwargs):
    try:
        items = _partition(self, _query_signature.bind(self, *args, **kwargs).arguments)
    except Exception:
        items = None
    if items is None:
        return _moto_query(self, *args, **kwargs)
    _pending_items.table, _pending_items.items = self, items
    try:
        return _moto_query(self, *args, **kwargs)
    finally:
        _pending_items.table = _pending_items.items = None


def _all_items(self):
    if getattr(_pending_items, "table", None) is self:  # the one call in Table.query
        items = _pending_items.items
        _pending_items.table = _pending_items.items = None
        return items
    return _moto_all_items(self)


def _refiling_put(put_item):
    def run(self, item_attrs, *args, **kwargs):
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        finally:
            _refile_request_key(self, item_attrs)

    return run


def _refiling_delete(delete_item):
    signature = _inspect.signature(delete_item)

    def run(self, *args, **kwargs):
        try:
            return delete_item(self, *args, **kwargs)
        finally:
            try:
                arguments = signature.bind(self, *args, **kwargs).arguments
                _refile(self, arguments["hash_key"], arguments["range_key"])
            except Exception:
                _forget(self)

    return run


def _table_named(backend, name):
    try:
        return backend.get_table(name)  # by name or ARN, as moto finds it
    except Exception:
        return None


def _refiling_update(update_item):
    signature = _inspect.signature(update_item)

    def run(self, *args, **kwargs):
        try:
            return update_item(self, *args, **kwargs)
        finally:  # also after a failure: the item may be half updated, or created
            try:
                arguments = signature.bind(self, *args, **kwargs).arguments
                table = _table_named(self, arguments["table_name"])
            except Exception:
                table = None  # then moto failed before writing
            if table is not None:
                key = arguments["key"]
                if isinstance(key, dict) and table.hash_key_attr in key:
                    _refile_request_key(table, key)  # moto's key, as update_item reads it
                else:
                    _forget(table)

    return run


def _refiling_transaction(transact_write_items):
    def run(self, transact_items, *args, **kwargs):
        try:
            return transact_write_items(self, transact_items, *args, **kwargs)
        finally:  # a rollback puts items back in table.items directly
            for entry in transact_items if isinstance(transact_items, list) else ():
                for op_type, op in entry.items() if isinstance(entry, dict) else ():
                    if op_type == "ConditionCheck" or not isinstance(op, dict):
                        continue
                    table = _table_named(self, op.get("TableName"))
                    if table is None:
                        continue
                    key = op.get("Item") if op_type == "Put" else op.get("Key")
                    if isinstance(key, dict):
                        _refile_request_key(table, key)
                    else:
                        _forget(table)

    return run


Table.query = _partition_query
Table.all_items = _all_items
Table.put_item = _refiling_put(Table.put_item)
Table.delete_item = _refiling_delete(Table.delete_item)
DynamoDBBackend.update_item = _refiling_update(DynamoDBBackend.update_item)
DynamoDBBackend.transact_write_items = _refiling_transaction(DynamoDBBackend.transact_write_items)
"""

# Appended last, so the lock also covers the journal's snapshot and rollback, and the partition
# index's refiling.
LOCK = f'''{MARKER}serialized writes
import threading as _threading

_write_lock = _threading.RLock()


def _serialized(operation):
    def run(*args, **kwargs):
        with _write_lock:
            return operation(*args, **kwargs)

    return run


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))
'''

# Appended after the lock, whose lock it takes.
STREAM_TRIM = f'''{MARKER}stream records trimmed once read
# moto keeps every stream record for the life of the process (DynamoDB keeps them 24 hours),
# each with both images of its item, so a loaded workspace's stream would hold its whole
# history. When a reader asks for records from a position, those more than _STREAM_KEEP
# before it are dropped and the shard's starting sequence number moves up past them: an
# iterator older than that starts at the trim horizon, as on DynamoDB. Under the write lock,
# so a transaction's journal never sees the list move.
from moto.dynamodb.models.table import StreamShard as _StreamShard

_STREAM_KEEP = 10_000
_moto_stream_get = _StreamShard.get


def _trimming_get(self, start, quantity):
    with _write_lock:
        start = max(start, self.starting_sequence_number)
        surplus = start - self.starting_sequence_number - _STREAM_KEEP
        if surplus > 0:
            del self.items[:surplus]
            self.starting_sequence_number += surplus
        return _moto_stream_get(self, start, quantity)


_StreamShard.get = _trimming_get
'''

# Independent of the others: only the streams handler's answer changes.
STREAM_JSON = f'''{MARKER}stream records answered as JSON
# moto answers GetRecords through its generic response serializer, which walks every
# attribute of both images of every record against the API's shapes: under load (two stream
# consumers poll every shard) that was over a third of the emulator's time. The records are
# already in DynamoDB's JSON form, so this dumps them as they are; the one typed field,
# ApproximateCreationDateTime, becomes epoch seconds cut to the millisecond, as the serializer
# writes it, and binary values base64.
import calendar as _calendar
import datetime as _datetime
import json as _json
from base64 import b64encode as _b64encode

from moto.dynamodbstreams.responses import DynamoDBStreamsHandler as _StreamsHandler


def _epoch_seconds(value):
    if not isinstance(value, _datetime.datetime):
        return value
    return (_calendar.timegm(value.utctimetuple()) * 1000 + value.microsecond // 1000) / 1000


def _json_get_records(self):
    limit = self._get_param("Limit")
    result = self.backend.get_records(self._get_param("ShardIterator"), 1000 if limit is None else limit)
    records = []
    for record in result["Records"]:
        dynamodb = dict(record["dynamodb"])
        if "ApproximateCreationDateTime" in dynamodb:
            dynamodb["ApproximateCreationDateTime"] = _epoch_seconds(dynamodb["ApproximateCreationDateTime"])
        records.append(dict(record, dynamodb=dynamodb))
    return _json.dumps(dict(result, Records=records), default=_base64)


def _base64(value):
    # Binary values (B, BS) are held as bytes; the wire carries them in base64.
    if isinstance(value, (bytes, bytearray)):
        return _b64encode(value).decode()
    raise TypeError(f"{{type(value).__name__}} in a stream record")


_moto_get_records = _StreamsHandler.get_records
_StreamsHandler.get_records = _json_get_records
'''

# In moto's SQS model, not its DynamoDB one.
SQS_RETENTION = f'''{MARKER}retention read from the queue
# moto checks each message a receive may hand out against the queue's retention period by
# asking for the queue's attributes, which counts every message of the queue three times
# (the ApproximateNumberOf* attributes): a receive from a queue holding n messages costs n²,
# and a backlog of a few thousand captured events stalls the emulator. The period is the
# queue's own field.
def _retained(self, queue_name, message):
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = _retained


# A queue's attributes are also read on every send (ContentBasedDeduplication), and they
# include three counts of its messages, each asking the clock once per message (most of a
# send's time with a backlog). The counts, and the list a receive walks, read the clock once;
# a message's state is what Message.visible and Message.delayed say at that instant.
def _counted(keep):
    def count(self):
        now = unix_time_millis()
        return sum(1 for message in self._messages if keep(message, now))

    return property(count)


def _visible(message, now):
    return now > message.visible_at


def _delayed(message, now):
    return now < message.delayed_until


Queue.approximate_number_of_messages_delayed = _counted(_delayed)
Queue.approximate_number_of_messages_not_visible = _counted(lambda m, now: not _visible(m, now))
Queue.approximate_number_of_messages = _counted(lambda m, now: _visible(m, now) and not _delayed(m, now))


# The messages a receive may hand out, which it lists once per call: the same, one clock read.
def _receivable(self):
    now = unix_time_millis()
    return [message for message in self._messages if _visible(message, now) and not _delayed(message, now)]


Queue.messages = property(_receivable)
'''

# Independent of the others: how an item is built.
ITEM_SIZE = MARKER + '''items sized once
# Item.__init__ puts each attribute into a LimitedSizeDict, whose __setitem__ sizes every
# attribute already there to refuse an item over the limit: building an item of n attributes
# sizes n²/2 of them. A contact's profile has about 30, and that was half of every write's time
# and of every projected row's (a projection builds a new Item). The override sizes the
# attributes once and refuses the same items with the same error: the sizes are not negative,
# so the total of all of them is the largest of the running totals moto checks one by one.
from moto.dynamodb.exceptions import ItemSizeTooLarge as _ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import LimitedSizeDict as _LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize as _bytesize

_ITEM_SIZE_LIMIT = 405000  # moto's, in LimitedSizeDict.__setitem__
_moto_item_init = Item.__init__


def _item_init(self, hash_key, range_key, attrs):
    self.hash_key = hash_key
    self.range_key = range_key
    values = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(_bytesize(key) + value.size() for key, value in values.items()) > _ITEM_SIZE_LIMIT:
        raise _ItemSizeTooLarge
    self.attrs = _LimitedSizeDict.__new__(_LimitedSizeDict)
    dict.update(self.attrs, values)


Item.__init__ = _item_init
'''

# Independent of the others: how an item is projected, and the Query handler's answer.
QUERY_JSON = MARKER + '''query pages projected once per item and answered as JSON
# A page read from an index projected INCLUDE or KEYS_ONLY cost moto, for each item, one
# conversion of the whole item to Python values per attribute projected (Item.project), then
# the generic response serializer, which walks every attribute against the API's shapes: about
# 3 ms for a contact's profile, an export of 20,000 contacts read under 300 rows a second.
# Projecting top-level attributes (as every index does) converts those attributes alone, to the
# same values moto's own loop would keep; other projections stay moto's. The page is not deep
# copied before such a projection, which copies it anyway (_CopyUnlessProjected). Query answers with its
# result dumped as JSON: it is in DynamoDB's JSON form already (dynamo_to_dict), and binary
# values go base64, as the serializer writes them.
import json as _json
from base64 import b64encode as _b64encode

import moto.dynamodb.models.table as _table_module
from moto.dynamodb.models.dynamo_type import deserializer as _deserializer, serializer as _serializer
from moto.dynamodb.responses import DynamoHandler as _DynamoHandler

_moto_project = Item.project


def _project(self, projection_expressions):
    names = [expression[0] for expression in projection_expressions if len(expression) == 1]
    if len(names) != len(projection_expressions) or any("[" in name for name in names):
        return _moto_project(self, projection_expressions)
    # What self.to_regular_json() holds of each name kept, converted alone.
    kept = {name: _deserializer.deserialize(self.attrs[name].to_regular_json()) for name in names if name in self.attrs}
    return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=_serializer.serialize(kept)["M"])


class _CopyUnlessProjected:
    """table.py's `copy`. Table.query deep-copies its page, then an index that projects
    KEYS_ONLY or INCLUDE builds a new item from each copy (through Python values): for such a
    query the copy is the list of the same items, since each projection is new all the same."""

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, value, memo=None):
        if getattr(_projecting, "page", False) and isinstance(value, list):
            return list(value)
        return copy.deepcopy(value, memo)


_projecting = _threading.local()
_query_before_projection = Table.query


def _query_projecting_new_items(self, *args, **kwargs):
    try:
        index_name = _query_signature.bind(self, *args, **kwargs).arguments.get("index_name")
        projection = (self.get_index(index_name).projection or {}).get("ProjectionType") if index_name else None
    except Exception:
        projection = None  # moto's query raises what it raises
    _projecting.page = projection in ("KEYS_ONLY", "INCLUDE")
    try:
        return _query_before_projection(self, *args, **kwargs)
    finally:
        _projecting.page = False


def _wire_bytes(value):
    if isinstance(value, (bytes, bytearray)):
        return _b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} in a query's answer")


_moto_query_response = _DynamoHandler.query


def _json_query(self):
    answer = _moto_query_response(self)
    return _json.dumps(answer.result, default=_wire_bytes)


Item.project = _project
_table_module.copy = _CopyUnlessProjected()
Table.query = _query_projecting_new_items
_DynamoHandler.query = _json_query
'''

path = MODELS / "__init__.py"
source = path.read_text()
# The file as pip installed it: without our blocks, and without the text edit an earlier
# version of this script made (snapshot each table once per transaction, not once per item).
pristine = source.split(MARKER, 1)[0].replace(
    "if table_name and table_name in self.tables and table_name not in original_table_state:",
    "if table_name and table_name in self.tables:",
)

texts = {"__init__.py": pristine, "table.py": (MODELS / "table.py").read_text()}
patched, done = pristine, []
if all(hashlib.sha256(texts[name].encode()).hexdigest() == digest for name, digest in KNOWN.items()):
    patched += JOURNAL + QUERY_INDEX
    done.append("transactions roll back through a journal")
    done.append("queries read only the partition they name")
else:
    print(
        f"patch_moto: moto's DynamoDB model ({MODELS}) is not moto 5.2.5's; transactions keep "
        "moto's rollback, which copies whole tables, and queries read the whole table (slow on "
        "big tables, but correct)",
        file=sys.stderr,
    )
if "class DynamoDBBackend(" in pristine:
    patched += LOCK + STREAM_TRIM
    done.append("writes are serialized")
    done.append("read stream records are trimmed")
else:
    print(f"patch_moto: {path} has no DynamoDBBackend; writes stay unserialized", file=sys.stderr)

if hashlib.sha256((MODELS / "dynamo_type.py").read_bytes()).hexdigest() == QUERY_MODULES[1]:
    patched += ITEM_SIZE
    done.append("items are sized once")
else:
    print(f"patch_moto: {MODELS / 'dynamo_type.py'} is not moto 5.2.5's; items are sized per attribute", file=sys.stderr)

responses = MODELS.parent / "responses.py"
query_modules = (hashlib.sha256(responses.read_bytes()).hexdigest(), hashlib.sha256((MODELS / "dynamo_type.py").read_bytes()).hexdigest())
if query_modules == QUERY_MODULES and QUERY_INDEX in patched:  # it wraps that block's Table.query
    patched += QUERY_JSON
    done.append("query pages are projected once per item and answered as JSON")
else:
    print(f"patch_moto: {responses} or dynamo_type.py is not moto 5.2.5's; queries keep moto's projection and serializer", file=sys.stderr)

streams = MODELS.parent.parent / "dynamodbstreams" / "responses.py"
if hashlib.sha256(streams.read_bytes()).hexdigest() == STREAMS_RESPONSES:
    patched += STREAM_JSON
    done.append("stream records are answered as JSON")
else:
    print(f"patch_moto: {streams} is not moto 5.2.5's; GetRecords keeps moto's serializer", file=sys.stderr)

sqs_path = MODELS.parent.parent / "sqs" / "models.py"
sqs_source = sqs_path.read_text()
sqs_patched = sqs_source.split(MARKER, 1)[0]
if hashlib.sha256(sqs_patched.encode()).hexdigest() == SQS_MODELS:
    sqs_patched += SQS_RETENTION
    done.append("SQS receives and sends count the queue once, not per message")
else:
    print(f"patch_moto: {sqs_path} is not moto 5.2.5's; receives count the queue per message", file=sys.stderr)

if patched != source or sqs_patched != sqs_source:
    path.write_text(patched)
    sqs_path.write_text(sqs_patched)
    print(f"patch_moto: {'; '.join(done) or 'patches removed'}")
