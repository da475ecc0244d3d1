"""Decode the few Kubernetes protobuf bodies that clients send us.

client-go (and so helm's release storage) sends typed core objects as protobuf: the
`k8s\\x00` magic, then a runtime.Unknown envelope whose `raw` field holds the object. We
decode Secret, ConfigMap and DeleteOptions (the kinds helm writes), Namespace (what
`kubectl create namespace` sends) and SelfSubjectAccessReview (`kubectl auth can-i`) into
their JSON shape; other kinds get 415.
"""
import base64
import datetime

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data):
    """Yield (field number, value) for each field of a message."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, value


def _map_entry(data):
    key = value = b""
    for number, raw in fields(data):
        if number == 1:
            key = raw
        elif number == 2:
            value = raw
    return key.decode(), value


def _time(data):
    seconds = 0
    for number, value in fields(data):
        if number == 1:
            seconds = value
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_reference(data):
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    flags = {6: "controller", 7: "blockOwnerDeletion"}
    ref = {}
    for number, value in fields(data):
        if number in names:
            ref[names[number]] = value.decode()
        elif number in flags:
            ref[flags[number]] = bool(value)
    return ref


def object_meta(data):
    strings = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    meta = {}
    for number, value in fields(data):
        # Go writes empty strings and zeros too; the JSON shape omits them.
        if number in strings and value:
            meta[strings[number]] = value.decode()
        elif number == 7 and value:
            meta["generation"] = value
        elif number == 8:
            meta["creationTimestamp"] = _time(value)
        elif number in (11, 12):
            key, item = _map_entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = item.decode()
        elif number == 13:
            meta.setdefault("ownerReferences", []).append(_owner_reference(value))
        elif number == 14:
            meta.setdefault("finalizers", []).append(value.decode())
    return meta


def _secret(data):
    obj = {"apiVersion": "v1", "kind": "Secret"}
    for number, value in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(value)
        elif number == 2:
            key, item = _map_entry(value)
            obj.setdefault("data", {})[key] = base64.b64encode(item).decode()
        elif number == 3:
            obj["type"] = value.decode()
        elif number == 4:
            key, item = _map_entry(value)
            obj.setdefault("stringData", {})[key] = item.decode()
        elif number == 5:
            obj["immutable"] = bool(value)
    return obj


def _config_map(data):
    obj = {"apiVersion": "v1", "kind": "ConfigMap"}
    for number, value in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(value)
        elif number == 2:
            key, item = _map_entry(value)
            obj.setdefault("data", {})[key] = item.decode()
        elif number == 3:
            key, item = _map_entry(value)
            obj.setdefault("binaryData", {})[key] = base64.b64encode(item).decode()
        elif number == 4:
            obj["immutable"] = bool(value)
    return obj


def _namespace(data):
    obj = {"apiVersion": "v1", "kind": "Namespace"}
    for number, value in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(value)
        elif number == 2:
            finalizers = [text.decode() for sub, text in fields(value) if sub == 1]
            obj["spec"] = {"finalizers": finalizers} if finalizers else {}
    return obj


def _delete_options(data):
    obj = {"apiVersion": "v1", "kind": "DeleteOptions"}
    for number, value in fields(data):
        if number == 1:
            obj["gracePeriodSeconds"] = value
        elif number == 4:
            obj["propagationPolicy"] = value.decode()
        elif number == 5:
            obj.setdefault("dryRun", []).append(value.decode())
    return obj


def _strings(data, names):
    return {names[number]: value.decode() for number, value in fields(data) if number in names and value}


def _access_review(data):
    """SelfSubjectAccessReview, what `kubectl auth can-i` sends."""
    resource = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
    spec = {}
    for number, value in fields(data):
        if number == 2:
            for sub, attributes in fields(value):
                if sub == 1:
                    spec["resourceAttributes"] = _strings(attributes, resource)
                elif sub == 2:
                    spec["nonResourceAttributes"] = _strings(attributes, {1: "path", 2: "verb"})
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}


DECODERS = {"Secret": _secret, "ConfigMap": _config_map, "Namespace": _namespace,
            "DeleteOptions": _delete_options, "SelfSubjectAccessReview": _access_review}


def decode(body):
    """Return the JSON shape of a protobuf-encoded object, or raise ProtobufError."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing k8s protobuf magic")
    kind = api_version = ""
    raw = b""
    for number, value in fields(body[len(MAGIC):]):
        if number == 1:
            for sub, text in fields(value):
                if sub == 1:
                    api_version = text.decode()
                elif sub == 2:
                    kind = text.decode()
        elif number == 2:
            raw = value
    decoder = DECODERS.get(kind)
    if decoder is None:
        raise ProtobufError(f"cannot decode protobuf kind {kind!r} ({api_version})")
    return decoder(raw)
