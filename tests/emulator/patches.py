"""Patch semantics: JSON patch, JSON merge patch, strategic merge patch and server-side apply."""
import copy
import json


class PatchError(ValueError):
    pass


class ApplyConflict(Exception):
    def __init__(self, conflicts):
        super().__init__(conflicts)
        self.conflicts = conflicts


# Lists that the strategic merge and apply schemas merge by a key; all other lists are atomic.
# "ports" is keyed by containerPort in containers and by port in services.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "volumeMounts": "mountPath", "imagePullSecrets": "name",
    "ownerReferences": "uid", "conditions": "type", "volumeDevices": "devicePath",
    "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
}
# Primitive lists that strategic merge treats as sets.
SET_LISTS = {"finalizers"}


def merge_key(field, items):
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


def json_merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field, []) if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key) or [], value)
        else:
            result[key] = value
    return result


def _merge_list(field, live, patch):
    if field in SET_LISTS:
        return live + [v for v in patch if v not in live]
    key = merge_key(field, live + patch)
    if not key or not all(isinstance(i, dict) for i in patch):
        return copy.deepcopy(patch)
    if any(i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if i.get("$patch") != "replace"]
    result = copy.deepcopy(live)
    for item in patch:
        index = next((n for n, cur in enumerate(result) if cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    for part in parts:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def json_patch(target, operations):
    doc = copy.deepcopy(target)
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    for op in operations:
        try:
            doc = _json_patch_op(doc, op)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchError(f"JSON patch operation {op!r} failed: {exc}") from exc
    return doc


def _json_patch_op(doc, op):
    kind, parts = op["op"], _pointer(op["path"])
    if kind == "test":
        if _walk(doc, parts) != op["value"]:
            raise ValueError("test failed")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
        if kind == "move":
            doc = _json_patch_op(doc, {"op": "remove", "path": op["from"]})
        return _json_patch_op(doc, {"op": "add", "path": op["path"], "value": value})
    if not parts:
        return copy.deepcopy(op["value"]) if kind in ("add", "replace") else None
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if kind == "add":
            parent.insert(index, copy.deepcopy(op["value"]))
        elif kind == "remove":
            parent.pop(index)
        elif kind == "replace":
            parent[index] = copy.deepcopy(op["value"])
    elif kind == "add" or kind == "replace":
        if kind == "replace" and last not in parent:
            raise KeyError(last)
        parent[last] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del parent[last]
    else:
        raise ValueError(f"unknown op {kind!r}")
    return doc


# --- server-side apply -------------------------------------------------------------------
# Field sets use the real FieldsV1 shape: {"f:metadata": {"f:labels": {"f:app": {}}}} with
# "k:{...}" entries for items of keyed lists and "." for an item itself.

IGNORED_FOR_OWNERSHIP = {"apiVersion", "kind"}
IGNORED_METADATA = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                    "managedFields", "deletionTimestamp", "selfLink"}


def field_set(obj, field=None, top=True):
    fields = {}
    if not isinstance(obj, dict):
        return fields
    for key, value in obj.items():
        if top and key in IGNORED_FOR_OWNERSHIP:
            continue
        if top and key == "status":
            continue
        if field == "metadata" and key in IGNORED_METADATA:
            continue
        name = f"f:{key}"
        if isinstance(value, dict) and value:
            # metadata holding only its name has no field to own
            sub = field_set(value, key, False)
            if sub:
                fields[name] = sub
        elif isinstance(value, list) and merge_key(key, value) and all(isinstance(i, dict) for i in value):
            mkey = merge_key(key, value)
            fields[name] = {}
            for item in value:
                entry = field_set(item, key, False)
                entry["."] = {}
                fields[name][f"k:{json.dumps({mkey: item.get(mkey)}, separators=(',', ':'))}"] = entry
        else:
            fields[name] = {}
    return fields


def path_text(path):
    """A field path as the server prints it: .spec.containers[name="main"].image"""
    text = ""
    for step in path:
        kind, _colon, name = step.partition(":")
        if kind == "k":
            keys = json.loads(name)
            text += "[" + ",".join(f"{key}={json.dumps(value)}" for key, value in keys.items()) + "]"
        else:
            text += f".{name}"
    return text


def _leaves(fields, prefix=()):
    for key, sub in fields.items():
        path = prefix + (key,)
        if sub and set(sub) != {"."}:
            yield from _leaves({k: v for k, v in sub.items() if k != "."}, path)
        else:
            yield path


def _lookup(obj, path):
    for step in path:
        kind, _colon, name = step.partition(":")
        if kind == "f" and isinstance(obj, dict) and name in obj:
            obj = obj[name]
        elif kind == "k" and isinstance(obj, list):
            key = json.loads(name)
            obj = next((i for i in obj if all(i.get(k) == v for k, v in key.items())), _MISSING)
            if obj is _MISSING:
                return _MISSING
        else:
            return _MISSING
    return obj


_MISSING = object()


def _remove(obj, path):
    parent = _lookup(obj, path[:-1]) if len(path) > 1 else obj
    kind, _colon, name = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(name, None)
    elif kind == "k" and isinstance(parent, list):
        key = json.loads(name)
        parent[:] = [i for i in parent if not all(i.get(k) == v for k, v in key.items())]


def _prune_empty(obj, path):
    """After removing a leaf, drop the maps and keyed items it leaves empty."""
    for depth in range(len(path) - 1, 0, -1):
        holder = _lookup(obj, path[:depth])
        if holder is _MISSING:
            continue
        is_empty_item = isinstance(holder, dict) and path[depth - 1].startswith("k:") and \
            set(holder) <= set(json.loads(path[depth - 1][2:]))
        if holder in ({}, []) or is_empty_item:
            _remove(obj, path[:depth])


def _owned_elsewhere(path, managed, manager):
    for entry in managed:
        if entry.get("manager") == manager:
            continue
        if _lookup_fields(entry.get("fieldsV1", {}), path):
            return True
    return False


def _lookup_fields(fields, path):
    for step in path:
        if step not in fields:
            return False
        fields = fields[step]
    return True


def server_side_apply(live, applied, manager, force, now):
    """Apply `applied` as `manager`; return the merged object with managedFields updated."""
    live = copy.deepcopy(live or {})
    managed = live.get("metadata", {}).get("managedFields", [])
    previous = next((e for e in managed if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    new_fields = field_set(applied)

    conflicts = []
    for path in _leaves(new_fields):
        current = _lookup(live, path)
        wanted = _lookup(applied, path)
        if current is _MISSING or current == wanted or isinstance(current, (dict, list)):
            continue
        for entry in managed:
            if entry.get("manager") != manager and _lookup_fields(entry.get("fieldsV1", {}), path):
                conflicts.append((entry["manager"], path_text(path)))
    if conflicts and not force:
        raise ApplyConflict(conflicts)

    merged = strategic_merge_patch(live, applied)
    if previous:
        for path in _leaves(previous.get("fieldsV1", {})):
            if not _lookup_fields(new_fields, path) and not _owned_elsewhere(path, managed, manager):
                _remove(merged, path)
                _prune_empty(merged, path)

    # A no-op apply keeps the old timestamp and position, so that it does not count as a change.
    unchanged = previous is not None and previous.get("fieldsV1") == new_fields
    entry = {"manager": manager, "operation": "Apply", "apiVersion": applied.get("apiVersion", ""),
             "time": previous["time"] if unchanged else now, "fieldsType": "FieldsV1", "fieldsV1": new_fields}
    result = []
    for existing in managed:
        if existing is previous:
            result.append(entry)
            continue
        if force:
            existing = copy.deepcopy(existing)
            for path in _leaves(new_fields):
                _drop_field(existing.get("fieldsV1", {}), path)
        result.append(existing)
    if previous is None:
        result.append(entry)
    merged.setdefault("metadata", {})["managedFields"] = result
    return merged


def _drop_field(fields, path):
    for step in path[:-1]:
        fields = fields.get(step)
        if fields is None:
            return
    fields.pop(path[-1], None)
