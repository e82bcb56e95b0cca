# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The cluster option of the modules that manage or describe something of an EKS cluster.
    DOCUMENTATION = r"""
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    required: true
    type: str
"""
