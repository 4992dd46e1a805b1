"""An ACM certificate for public host names, validated through DNS records someone else writes.

The certificate is requested here; the records that prove control of the names live with the
DNS (the edge stack writes them into Cloudflare and waits for the issue). ``validation_record``
gives each host's record as Terraform expressions, so no value is ever copied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from constructs import Construct

# ECDSA P-256: what Cloudflare (the only client of the origin) prefers, and smaller handshakes.
KEY_ALGORITHM = "EC_prime256v1"


@dataclass(frozen=True)
class ValidationRecord:
    """The DNS record ACM looks up for one name (a CNAME)."""

    name: str
    type: str
    value: str


@dataclass(frozen=True)
class DnsCertificateProps:
    """Properties of :class:`DnsCertificate`.

    | name | meaning | default |
    |---|---|---|
    | hosts | the names the certificate covers (the first is its subject) | required, at least one |
    | tags | tags of the certificate | none |
    """

    hosts: Sequence[str]
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.hosts:
            raise ValueError("a certificate covers at least one host")
        if any(host.startswith("*") for host in self.hosts):
            raise ValueError(f"certificate hosts {list(self.hosts)}: name each host, no wildcards")


class DnsCertificate(Construct):
    """Attributes: ``certificate`` (the resource), ``arn``; :meth:`validation_record` per host."""

    def __init__(self, scope: Construct, id: str, props: DnsCertificateProps) -> None:
        super().__init__(scope, id)
        self.hosts = list(props.hosts)
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=self.hosts[0],
            subject_alternative_names=self.hosts[1:] or None,
            validation_method="DNS",
            key_algorithm=KEY_ALGORITHM,
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            tags=dict(props.tags) or None,
            # The listener keeps a valid certificate while a replacement is issued.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.arn = self.certificate.arn

    def validation_record(self, host: str) -> ValidationRecord:
        """The record of ``host`` from the certificate's validation options (known after apply)."""
        if host not in self.hosts:
            raise ValueError(f"{host} is not a host of this certificate ({self.hosts})")
        address = f"{self.certificate.terraform_resource_type}.{self.certificate.friendly_unique_id}"

        def option(attribute: str) -> str:
            return (
                f"${{one([for option in {address}.domain_validation_options : "
                f'option.{attribute} if option.domain_name == "{host}"])}}'
            )

        return ValidationRecord(
            option("resource_record_name"), option("resource_record_type"), option("resource_record_value")
        )
