# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way our modules start and end: build the module, run, turn failures into fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def execute(run, argument_spec, **module_options):
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True, **module_options)
    try:
        module.exit_json(**run(module))
    except HubfleetError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except Exception as exc:  # pylint: disable=broad-except
        # A defect of ours: still one clear failure (fail_json masks no_log values), not a bare traceback.
        module.fail_json(msg="unexpected error in %s: %s: %s" % (module._name, type(exc).__name__, exc),
                         exception=traceback.format_exc())
