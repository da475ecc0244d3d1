"""The naming filters as a playbook sees them."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.filter.naming import FilterModule

FILTERS = FilterModule().filters()


def test_user_slug_uses_the_shared_naming():
    assert FILTERS["user_slug"]("alice") == "alice"
    assert FILTERS["user_slug"]("Alice", "escape") == "-41lice"
    assert FILTERS["user_slug"]("Alice").startswith("alice---")


def test_user_name_renders_kubespawner_templates():
    assert FILTERS["user_name"]("bob", "claim-{user_server}", "gpu") == "claim-bob--gpu"
    assert FILTERS["user_name"]("bob", "{hubnamespace}-{username}", "", "default") == "user-bob"


def test_bad_scheme_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="slug scheme"):
        FILTERS["user_slug"]("alice", "plain")
    with pytest.raises(AnsibleFilterError, match="unknown field"):
        FILTERS["user_name"]("alice", "{nope}")
