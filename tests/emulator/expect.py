"""Assertions shared by the contract tests."""
import json

import pytest
from kubernetes.client import ApiException


def failure(call, *args, **kwargs):
    """Call an API method that must fail (typed or dynamic client); return the server's Status body."""
    with pytest.raises(ApiException) as raised:
        call(*args, **kwargs)
    body = json.loads(raised.value.body)
    assert body["kind"] == "Status"
    assert body["status"] == "Failure"
    assert body["code"] == raised.value.status
    return body
