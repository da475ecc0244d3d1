"""Run a module in-process through its real entry point (`main()`), as ansible runs it: the
argument spec's checks, `execute` and `exit_json`/`fail_json` all take part. The test sees the
JSON result ansible would see, and the emulator's request counts."""
import contextlib
import io
import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run_module(module, kubeconfig, check_mode=False, diff=False, **params):
    """Run `module.main()` with these arguments; returns the result dict (with `failed` on failure)."""
    args = dict(params, kubeconfig=str(kubeconfig), _ansible_check_mode=check_mode, _ansible_diff=diff,
                _ansible_module_name=module.__name__.rpartition(".")[2])
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        module.main()
    return json.loads(output.getvalue())


def failed(result, *fragments):
    """Whether a result is a failure whose message holds every fragment (the message is shown on mismatch)."""
    assert result.get("failed") is True, result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    return True
