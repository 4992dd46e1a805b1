"""An encrypted EBS gp3 StorageClass (EBS CSI driver) whose volumes outlive their claims."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.storage_class_v1 import StorageClassV1, StorageClassV1Metadata
from constructs import Construct


class EncryptedGp3StorageClass(StorageClassV1):
    """``kubernetes_storage_class_v1``: gp3, encrypted, ``Retain``, bound where the pod runs, expandable."""

    def __init__(self, scope: Construct, id: str, name: str, provider: TerraformProvider | None = None) -> None:
        super().__init__(
            scope,
            id,
            metadata=StorageClassV1Metadata(name=name),
            storage_provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "fsType": "ext4"},
            reclaim_policy="Retain",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            provider=provider,
        )
