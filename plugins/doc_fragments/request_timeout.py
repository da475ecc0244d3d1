# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The option module_utils/client.py adds to kubernetes.core's auth options (TIMEOUT_ARG_SPEC).
    DOCUMENTATION = r"""
options:
  request_timeout:
    description:
      - Seconds each API request may take. A server that stops answering fails the task naming the
        request, instead of hanging.
    type: int
    default: 30
"""
