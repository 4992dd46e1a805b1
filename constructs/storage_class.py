"""An encrypted EBS gp3 StorageClass (EBS CSI driver) whose volumes outlive their claims.

``volume_tags`` go onto every volume it provisions (``tagSpecification_<n>``): the data stack's
AWS Backup plan selects the volumes by its tag (``DataOutputs.backup_volume_tag``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.storage_class_v1 import StorageClassV1, StorageClassV1Metadata
from constructs import Construct


class EncryptedGp3StorageClass(StorageClassV1):
    """``kubernetes_storage_class_v1``: gp3, encrypted, ``Retain``, bound where the pod runs, expandable."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        name: str,
        volume_tags: Mapping[str, str] | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        tags = {
            f"tagSpecification_{n}": f"{key}={value}" for n, (key, value) in enumerate((volume_tags or {}).items(), 1)
        }
        super().__init__(
            scope,
            id,
            metadata=StorageClassV1Metadata(name=name),
            storage_provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "fsType": "ext4", **tags},
            reclaim_policy="Retain",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            provider=provider,
        )
