"""Our naming agrees with KubeSpawner's own functions, name for name."""
from types import SimpleNamespace

import pytest
from kubespawner import slugs
from kubespawner.spawner import KubeSpawner

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming

NAMES = [
    "alice", "Alice", "ALICE.SMITH", "alice.smith", "alice_smith", "alice-smith", "alice--smith",
    "alice@example.org", "Alice.Smith@Uni-Example.EDU", "jürgen", "Ōtsuka", "李雷", "user😀",
    "0day", "9", "-dash-start", "dash-end-", "x", "a" * 40, "a" * 47, "a" * 48, "a" * 63, "a" * 64,
    "A" * 70, "first.last+tag@example.com", "spaces in name", "tab\tname", "new\nline", "...",
    "", "user:colon", "a--b", "a---b", "UPPER", "mixedCase42", "1234567890" * 5, "é",
]
SERVERS = ["", "gpu", "My Server", "x" * 40, "dev--1"]
TEMPLATES = ["claim-{user_server}", "jupyter-{user_server}", "{username}-workspace",
             "{hubnamespace}-{username}", "claim-{username}--{servername}", "home-{escaped_user_server}"]


def kubespawner_expand(template, username, servername, hub_namespace, scheme):
    """KubeSpawner's own template expansion, run on a stand-in spawner object."""
    fake = SimpleNamespace(name=servername, user=SimpleNamespace(name=username, id=1), slug_scheme=scheme,
                           _namespace_default=lambda: hub_namespace)
    return KubeSpawner._expand_user_properties(fake, template)  # pylint: disable=protected-access


@pytest.mark.parametrize("name", NAMES)
def test_slugs_match_kubespawner(name):
    assert naming.escape_slug(name) == slugs.escape_slug(name)
    assert naming.safe_slug(name) == slugs.safe_slug(name)
    assert naming.safe_slug(name, max_length=48) == slugs.safe_slug(name, max_length=48)
    assert naming.label_slug(name) == slugs.safe_slug(name, is_valid=slugs.is_valid_label)
    assert naming.is_valid_object_name(name) == slugs.is_valid_object_name(name)
    assert naming.is_valid_label(name) == slugs.is_valid_label(name)


@pytest.mark.parametrize("scheme", naming.SCHEMES)
@pytest.mark.parametrize("servername", SERVERS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_match_kubespawner(template, servername, scheme):
    for name in NAMES:
        if not name:
            continue
        for hub_namespace in ("jhub", "default"):
            ours = naming.expand(template, name, servername, hub_namespace, scheme)
            assert ours == kubespawner_expand(template, name, servername, hub_namespace, scheme), (name, servername)


def test_multi_slug_matches_kubespawner():
    for pair in (["a" * 60, "server"], ["Alice", "x" * 50], ["李雷", "gpu"]):
        assert naming.multi_slug(pair) == slugs.multi_slug(pair)


def test_examples_that_users_meet():
    assert naming.slug("alice") == "alice"
    assert naming.slug("Alice.Smith@example.org") == "alice-smith-example-org---" + \
        slugs.safe_slug("Alice.Smith@example.org")[-8:]
    assert naming.slug("Alice.Smith@example.org", "escape") == "-41lice-2e-53mith-40example-2eorg"
    assert naming.expand("{username}-workspace", "alice") == "alice-workspace"


def test_colliding_names_get_distinct_slugs():
    # Names that strip to the same text differ by their hash in the safe scheme.
    first, second = naming.slug("alice.smith"), naming.slug("alice_smith")
    assert first != second
    assert first.split("---")[0] == second.split("---")[0] == "alice-smith"


def test_unknown_scheme_and_field_are_errors():
    with pytest.raises(ValueError, match="slug scheme"):
        naming.slug("alice", "plain")
    with pytest.raises(ValueError, match="unknown field"):
        naming.expand("{user}-workspace", "alice")
