"""Object storage with resourceVersions and an event log that watches read from."""
import collections
import copy
import threading

EVENT_LOG_SIZE = 20000


class Store:
    """Objects keyed by (group, plural, namespace, name); every write gets a new resourceVersion."""

    def __init__(self):
        self.objects = {}
        self.resource_version = 0
        self.events = collections.deque(maxlen=EVENT_LOG_SIZE)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)

    def next_version(self):
        self.resource_version += 1
        return str(self.resource_version)

    def get(self, res, namespace, name):
        return self.objects.get((res.group, res.plural, namespace or "", name))

    def items(self, res, namespace=None):
        found = [obj for (group, plural, ns, _name), obj in self.objects.items()
                 if group == res.group and plural == res.plural and (namespace is None or ns == namespace)]
        return sorted(found, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def in_namespace(self, namespace):
        return [(key, obj) for key, obj in self.objects.items() if key[2] == namespace]

    def put(self, res, obj, event_type):
        meta = obj["metadata"]
        key = (res.group, res.plural, meta.get("namespace", ""), meta["name"])
        previous = self.objects.get(key)
        meta["resourceVersion"] = self.next_version()
        self.objects[key] = obj
        self._record(res, event_type, obj, previous)

    def remove(self, res, obj):
        meta = obj["metadata"]
        self.objects.pop((res.group, res.plural, meta.get("namespace", ""), meta["name"]), None)
        obj["metadata"]["resourceVersion"] = self.next_version()
        self._record(res, "DELETED", obj, obj)

    def _record(self, res, event_type, obj, previous):
        """Log an event with the object before it, which selector-filtered watches need."""
        self.events.append((int(obj["metadata"]["resourceVersion"]), res.group, res.plural, event_type,
                            copy.deepcopy(obj), copy.deepcopy(previous)))
        self.changed.notify_all()

    def dump(self):
        """The objects and the resourceVersion counter as JSON data; the event log is not kept."""
        return {"resourceVersion": self.resource_version,
                "objects": [{"group": group, "plural": plural, "object": obj}
                            for (group, plural, _namespace, _name), obj in self.objects.items()]}

    def load(self, saved):
        """Take back what dump() gave. Watches start afresh: one from an older resourceVersion gets 410."""
        self.objects = {}
        for entry in saved["objects"]:
            meta = entry["object"]["metadata"]
            self.objects[(entry["group"], entry["plural"], meta.get("namespace", ""), meta["name"])] = entry["object"]
        self.resource_version = int(saved["resourceVersion"])
        self.events.clear()

    def events_since(self, version):
        return [event for event in self.events if event[0] > version]

    def oldest_event(self):
        # No event yet (a loaded store): the next write is the oldest a watch can still be told about.
        return self.events[0][0] if self.events else self.resource_version + 1
