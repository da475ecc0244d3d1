"""Run a module in-process, so a test sees its full result and the emulator's request counts."""
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def run_module(module, kubeconfig, check_mode=False, diff=False, **params):
    """Run a module's `run`; returns its result, or the HubfleetError it raised."""
    args = dict(params, kubeconfig=str(kubeconfig), _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        ansible_module = AnsibleK8SModule(argument_spec=module.argument_spec(), supports_check_mode=True)
        try:
            return module.run(ansible_module)
        except HubfleetError as exc:
            return exc
