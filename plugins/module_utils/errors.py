# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type our modules turn into fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class HubfleetError(Exception):
    """A failure to report to the user; `details` go into the module result as they are."""

    def __init__(self, msg, **details):
        super(HubfleetError, self).__init__(msg)
        self.msg = msg
        self.details = details
