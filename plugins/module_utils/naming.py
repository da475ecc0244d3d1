# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names as KubeSpawner 7 computes them, so that every module agrees with the spawner.

Two slug schemes exist: ``safe`` (KubeSpawner 7 default: valid names stay as they are, others
become ``<stripped>---<hash>``) and ``escape`` (the legacy scheme: every character outside
``[a-z0-9]`` becomes ``-XX``, its UTF-8 bytes in hex). PVCs made before an upgrade carry legacy
names, which is why both are kept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import string

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import validation

SCHEMES = ("safe", "escape")
# KubeSpawner's per-field budget for {username}, {servername} and {user_server}.
SLUG_MAX_LENGTH = 48
HASH_LENGTH = 8

_ALPHA_LOWER = tuple(string.ascii_lowercase)
# KubeSpawner matches label values case-insensitively, which in Python 3 also lets four non-ASCII
# letters through inside a value (they fold to i, s or k): is_valid_label keeps that, to agree with it.
_FOLDS_TO_ASCII = {0x130: u"i", 0x131: u"i", 0x17F: u"s", 0x212A: u"k"}
_NON_ALPHANUM = re.compile(r"[^a-z0-9]+")
_ESCAPE_SAFE = frozenset(string.ascii_lowercase + string.digits)


def escape_slug(name):
    """The legacy ``escape`` scheme (escapism with '-' as escape character, hex not zero-padded)."""
    escaped = []
    for char in name:
        if char in _ESCAPE_SAFE:
            escaped.append(char)
        else:
            escaped.extend("-%X" % byte for byte in char.encode("utf-8"))
    return "".join(escaped).lower()


def is_valid_object_name(name):
    """A DNS label under both RFC 1035 and RFC 1123: what KubeSpawner accepts unchanged."""
    return validation.dns_label_error(name) is None and name.startswith(_ALPHA_LOWER)


def is_valid_label(value):
    """A label value KubeSpawner keeps unchanged: the API server's rule, plus the quirk above."""
    if len(value) > 2:
        value = value[0] + value[1:-1].translate(_FOLDS_TO_ASCII) + value[-1]
    return validation.label_value_error(value) is None


def _extract_safe_name(name, max_length):
    safe = _NON_ALPHANUM.sub("-", name.lower()).lstrip("-")[:max_length].rstrip("-")
    if safe and not safe.startswith(_ALPHA_LOWER):
        safe = "x-" + safe[:max_length - 2]
    return safe or "x"


def _short_hash(data):
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def strip_and_hash(name, max_length=32):
    safe = _extract_safe_name(name, max_length - (HASH_LENGTH + 3))
    return "%s---%s" % (safe, _short_hash(name.encode("utf-8")))


def safe_slug(name, is_valid=is_valid_object_name, max_length=None):
    """The ``safe`` scheme: keep a valid name, else strip it and append a hash of the original."""
    if "--" not in name and is_valid(name) and (max_length is None or len(name) <= max_length):
        return name
    return strip_and_hash(name, max_length=max_length or 32)


def multi_slug(names, max_length=SLUG_MAX_LENGTH):
    """Several names joined by '--' with one hash of all of them (for long user--server pairs)."""
    # 0xFF never starts a UTF-8 sequence, so the joined bytes cannot collide across boundaries.
    digest = _short_hash(b"\xff".join(name.encode("utf-8") for name in names))
    per_name = (max_length - (HASH_LENGTH + 1)) // len(names) - 2
    return "%s---%s" % ("--".join(_extract_safe_name(name, per_name) for name in names), digest)


def label_slug(name):
    """The value KubeSpawner puts in the ``hub.jupyter.org/username`` label."""
    return safe_slug(name, is_valid=is_valid_label)


def _user_server(username, servername, scheme):
    if scheme == "escape":
        escaped = escape_slug(username)
        return "%s--%s" % (escaped, escape_slug(servername)) if servername else escaped
    safe_user = safe_slug(username, max_length=SLUG_MAX_LENGTH)
    safe_server = safe_slug(servername, max_length=SLUG_MAX_LENGTH) if servername else ""
    if len(safe_user) + len(safe_server) + 2 > SLUG_MAX_LENGTH:
        return multi_slug([username, servername])
    return "%s--%s" % (safe_user, safe_server) if servername else safe_user


def slug(username, scheme="safe"):
    """The ``{username}`` field of KubeSpawner's templates under a slug scheme."""
    if scheme not in SCHEMES:
        raise ValueError("slug scheme must be one of %s, not %r" % (", ".join(SCHEMES), scheme))
    return escape_slug(username) if scheme == "escape" else safe_slug(username, max_length=SLUG_MAX_LENGTH)


def template_fields(username, servername="", hub_namespace="", scheme="safe"):
    """The fields KubeSpawner offers to name templates (``pvc_name_template`` and friends)."""
    if hub_namespace == "default":
        hub_namespace = "user"
    server_slug = ""
    if servername:
        server_slug = escape_slug(servername) if scheme == "escape" else \
            safe_slug(servername, max_length=SLUG_MAX_LENGTH)
    return {
        "username": slug(username, scheme),
        "servername": server_slug,
        "user_server": _user_server(username, servername, scheme),
        "unescaped_username": username,
        "unescaped_servername": servername,
        "hubnamespace": hub_namespace,
        "safe_username": slug(username, "safe"),
        "escaped_username": escape_slug(username),
        "safe_user_server": _user_server(username, servername, "safe"),
        "escaped_user_server": "%s--%s" % (escape_slug(username), escape_slug(servername)),
    }


# The fields a name template may use, in KubeSpawner's order (validation.template_error checks them).
TEMPLATE_FIELDS = tuple(template_fields("user"))


def expand(template, username, servername="", hub_namespace="", scheme="safe"):
    """Render a KubeSpawner name template, e.g. ``claim-{user_server}`` or ``{username}-workspace``."""
    try:
        rendered = template.format(**template_fields(username, servername, hub_namespace, scheme))
    except (KeyError, IndexError) as exc:
        raise ValueError("unknown field %s in name template %r" % (exc, template))
    # Like KubeSpawner: drop a trailing '-' left by an empty server name, not one the template ends with.
    return rendered if template.endswith("-") else rendered.rstrip("-")
