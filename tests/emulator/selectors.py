"""Label selectors (equality and set-based) and field selectors, parsed as the API server does."""
import re


class SelectorError(ValueError):
    pass


def _split_top_level(text):
    """Split on commas that are not inside the parentheses of a set."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(r"^([A-Za-z0-9._/-]+)\s+(in|notin)\s+\((.*)\)$")
_EQ = re.compile(r"^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$")
_EXISTS = re.compile(r"^(!?)([A-Za-z0-9._/-]+)$")


def parse_labels(text):
    """Return a list of (key, operator, values) requirements."""
    requirements = []
    for part in _split_top_level(text or ""):
        if match := _SET.match(part):
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
        elif match := _EQ.match(part):
            operator = "!=" if match.group(2) == "!=" else "="
            requirements.append((match.group(1), operator, {match.group(3)}))
        elif match := _EXISTS.match(part):
            requirements.append((match.group(2), "!" if match.group(1) else "exists", set()))
        else:
            raise SelectorError(f"unable to parse requirement: {part!r}")
    return requirements


def labels_match(requirements, labels):
    labels = labels or {}
    for key, operator, values in requirements:
        present = key in labels
        if operator == "exists" and not present:
            return False
        if operator == "!" and present:
            return False
        if operator in ("=", "in") and (not present or labels[key] not in values):
            return False
        if operator in ("!=", "notin") and present and labels[key] in values:
            return False
    return True


def parse_fields(text):
    requirements = []
    for part in _split_top_level(text or ""):
        match = re.match(r"^([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*)$", part)
        if not match:
            raise SelectorError(f"invalid field selector: {part!r}")
        requirements.append((match.group(1), match.group(2) == "!=", match.group(3)))
    return requirements


def _field_value(obj, path):
    value = obj
    for key in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_match(requirements, obj):
    for path, negate, expected in requirements:
        if (_field_value(obj, path) == expected) == negate:
            return False
    return True
