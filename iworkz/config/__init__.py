"""Typed, frozen configuration: ``config/common.yaml`` plus one ``config/<environment>.yaml``.

Everything is validated here, once, before any provider is loaded; a bad value stops the
synth with a :class:`~iworkz.errors.ConfigError` naming the file, field, value and rule.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from iworkz.config.alarms import AlarmsConfig, alarm_rules, rds_memory_gib
from iworkz.config.base import Model, rule_error, validate_aws_region
from iworkz.config.data import DataConfig
from iworkz.config.dr_azure import DrAzureConfig
from iworkz.config.eks import EksConfig
from iworkz.config.monitoring import MonitoringConfig
from iworkz.config.network import NetworkConfig
from iworkz.config.platform import PlatformConfig, platform_rules
from iworkz.errors import ConfigError, Problem

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
COMMON_FILE = "common.yaml"
PRODUCTION = "production"

AwsRegion = Annotated[str, AfterValidator(validate_aws_region)]

# AWS tag rules: keys up to 128 and values up to 256 characters of letters, digits,
# spaces and _ . : / = + - @; keys must not start with "aws:".
_TAG_CHARS = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)


def _validate_tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if not isinstance(value, str):
            raise rule_error(
                f"tag {key!r} must have a string value",
                f'quote it: {key}: "{value}"',
                field=key,
                value=value,
            )
        if not key or len(key) > 128 or not _TAG_CHARS.match(key) or key.lower().startswith("aws:"):
            raise rule_error(
                "tag keys are 1-128 characters of letters, digits, spaces and _.:/=+-@, not starting with aws:",
                "rename the tag key",
                field=key,
                value=key,
            )
        if len(value) > 256 or not _TAG_CHARS.match(value):
            raise rule_error(
                "tag values are at most 256 characters of letters, digits, spaces and _.:/=+-@",
                "remove the other characters from the value",
                field=key,
                value=value,
            )
    return tags


Tags = Annotated[dict[str, str], AfterValidator(_validate_tags)]


class S3BackendSettings(Model):
    bucket: str = Field("iworkz-terraform-state", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    lock_table: str = "terraform-lock"
    region: AwsRegion = "ap-northeast-1"
    # S3-native locking (Terraform >= 1.11); the DynamoDB table stays for older clients.
    use_lockfile: bool = True


class CloudBackendSettings(Model):
    organization: str = Field(min_length=1)
    hostname: str = "app.terraform.io"
    workspace_prefix: str = "iworkz-"


class BackendSettings(Model):
    type: Literal["s3", "cloud"] = "s3"
    # The state stack creates the bucket: it applies first with local state (state-bootstrap/),
    # then `s3` moves its state into that bucket (README: bootstrapping the state backend).
    state_stack: Literal["local", "s3"] = "local"
    s3: S3BackendSettings = S3BackendSettings()
    cloud: CloudBackendSettings | None = None

    @model_validator(mode="after")
    def _cloud_needs_settings(self) -> BackendSettings:
        if self.type == "cloud" and self.cloud is None:
            raise rule_error(
                "backend type 'cloud' needs a cloud section with the organization",
                "add backend.cloud.organization",
                field="cloud",
                value=None,
            )
        return self


class StateConfig(Model):
    """The once-per-account state stack (bucket and lock table for every other stack)."""

    noncurrent_version_expiration_days: int = Field(90, ge=30)
    access_log_retention_days: int = Field(365, ge=90)


class CommonConfig(Model):
    project: str = Field("iworkz", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    tags: Tags = Field(default_factory=lambda: {"Project": "iWORKZ", "ManagedBy": "Terraform", "Owner": "DevOps"})
    backend: BackendSettings = BackendSettings()
    state: StateConfig = StateConfig()


class AwsConfig(Model):
    region: AwsRegion = "ap-northeast-1"
    backup_region: AwsRegion = "ap-northeast-3"

    @model_validator(mode="after")
    def _distinct(self) -> AwsConfig:
        if self.region == self.backup_region:
            raise rule_error(
                "backup_region must differ from region (cross-region copies)",
                "use ap-northeast-3 for Tokyo",
                field="backup_region",
                value=self.backup_region,
            )
        return self


class MigrationsConfig(Model):
    """State moves of refactors this environment has yet to apply (iworkz/migrations.py).

    ``platform-split``: the environment ran the pre-split platform stack, so workloads-E
    imports the objects platform-E held. A new environment lists nothing.
    """

    pending: list[Literal["platform-split"]] = Field(default_factory=list)


class EnvironmentConfig(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")
    aws: AwsConfig = AwsConfig()
    tags: Tags = Field(default_factory=dict)
    network: NetworkConfig
    eks: EksConfig
    data: DataConfig = DataConfig()
    dr_azure: DrAzureConfig = DrAzureConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    platform: PlatformConfig = PlatformConfig()
    alarms: AlarmsConfig = AlarmsConfig()
    migrations: MigrationsConfig = MigrationsConfig()

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION

    @model_validator(mode="after")
    def _environment_rules(self) -> EnvironmentConfig:
        for index, zone in enumerate(self.network.availability_zones):
            if not (zone.startswith(self.aws.region) and len(zone) == len(self.aws.region) + 1):
                raise rule_error(
                    f"availability zone is not in the region {self.aws.region}",
                    f"use zones such as {self.aws.region}a",
                    field=f"network.availability_zones[{index}]",
                    value=zone,
                )
        zones = len(self.network.availability_zones)
        opensearch = self.data.opensearch
        if opensearch.instance_count % min(zones, 3):
            raise rule_error(
                f"OpenSearch data nodes must spread evenly over {min(zones, 3)} availability zones",
                f"use a multiple of {min(zones, 3)}",
                field="data.opensearch.instance_count",
                value=opensearch.instance_count,
            )
        platform_rules(self.platform, self.eks.node_groups, self.is_production)
        self._alarm_rules()
        if self.is_production:
            self._production_rules()
        return self

    def _alarm_rules(self) -> None:
        postgres = self.data.postgres
        if rds_memory_gib(postgres.instance_class) is None:
            raise rule_error(
                "the instance class has no memory size in iworkz/config/catalog/rds_instance_classes.yaml "
                "(its freeable-memory and connections alarms are fractions of it)",
                "use a listed class, or add the class with its memory (GiB, from the RDS documentation)",
                field="data.postgres.instance_class",
                value=postgres.instance_class,
            )
        capacities = {"postgres": {"allocated_storage_gb": postgres.allocated_storage_gb}}
        alarm_rules(self.alarms, self.monitoring.alert_teams, capacities)

    def _production_rules(self) -> None:
        if len(self.network.availability_zones) < 2:
            raise rule_error(
                "production needs at least two availability zones",
                "list the seed's three zones: ap-northeast-1a, 1c, 1d",
                field="network.availability_zones",
                value=self.network.availability_zones,
            )
        if self.network.nat_gateways == "single":
            raise rule_error(
                "production needs one NAT gateway per availability zone (a single NAT is a single point of failure)",
                "set nat_gateways: one_per_az",
                field="network.nat_gateways",
                value=self.network.nat_gateways,
            )
        open_world = [c for c in self.eks.public_access_cidrs if ipaddress.ip_network(c).prefixlen == 0]
        if self.eks.endpoint_public_access and open_world:
            raise rule_error(
                "the production EKS public endpoint must not be open to the whole internet",
                "list the office/VPN CIDRs, or set endpoint_public_access: false",
                field="eks.public_access_cidrs",
                value=self.eks.public_access_cidrs,
            )
        if not self.data.postgres.multi_az:
            raise rule_error(
                "production PostgreSQL must be Multi-AZ",
                "set multi_az: true",
                field="data.postgres.multi_az",
                value=False,
            )
        if self.data.postgres.backup_retention_days < 7:
            raise rule_error(
                "production keeps PostgreSQL backups at least 7 days",
                "set backup_retention_days: 7 or more",
                field="data.postgres.backup_retention_days",
                value=self.data.postgres.backup_retention_days,
            )


@dataclass(frozen=True)
class Settings:
    """Everything the app reads: the shared settings and the selected environments."""

    config_dir: Path
    common: CommonConfig
    environments: Mapping[str, EnvironmentConfig]

    def file_of(self, environment: str) -> Path:
        return self.config_dir / f"{environment}.yaml"


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml (in PyYAML's wheels) when available: ~8x faster.

    The tests load the configuration ~100 times. On an error the pure-Python parser runs again,
    so the message stays its more precise one (it names the offending character, for example).
    """
    if yaml.__with_libyaml__:
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def available_environments(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in config_dir.glob("*.yaml") if p.name != COMMON_FILE)


def load_settings(config_dir: Path = DEFAULT_CONFIG_DIR, environments: Iterable[str] | None = None) -> Settings:
    """Reads and validates the configuration; raises ConfigError with every problem found.

    All environment files are validated (cross-environment rules need them all); the
    result holds the selected ones.
    """
    config_dir = Path(config_dir)
    names = available_environments(config_dir)
    selected = list(environments) if environments else names
    unknown = [e for e in selected if e not in names]
    if unknown:
        raise ConfigError(
            [
                Problem(
                    "ENVS",
                    "environment",
                    name,
                    f"is not a configured environment (known: {', '.join(names)})",
                    f"pick one of them, or add {_display(config_dir / (name + '.yaml'))} (see README: adding an environment)",
                )
                for name in unknown
            ]
        )
    problems: list[Problem] = []
    common = _load_model(config_dir / COMMON_FILE, CommonConfig, {}, problems, required=False)
    loaded: dict[str, EnvironmentConfig] = {}
    for name in names:
        env = _load_model(config_dir / f"{name}.yaml", EnvironmentConfig, {"name": name}, problems)
        if env is not None:
            loaded[name] = env
    if not problems:
        problems.extend(_cross_environment_problems(config_dir, loaded))
    if problems:
        raise ConfigError(problems)
    assert common is not None
    return Settings(config_dir, common, {name: loaded[name] for name in selected})


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _load_model(
    path: Path,
    model: type[BaseModel],
    injected: dict[str, Any],
    problems: list[Problem],
    required: bool = True,
) -> Any:
    file = _display(path)
    text: str | None = None
    if not path.exists():
        if required:
            problems.append(Problem(file, "(file)", None, "file is missing"))
            return None
        raw: Any = {}
    else:
        text = path.read_text(encoding="utf-8")
        if (cached := _VALIDATED.get((model, text, tuple(injected.items())))) is not None:
            return cached
        try:
            raw = load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
            problems.append(Problem(file, where, None, f"is not valid YAML: {getattr(exc, 'problem', exc)}"))
            return None
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            problems.append(Problem(file, "(top level)", raw, "must be a mapping of sections"))
            return None
    for key, value in injected.items():
        if key in raw and raw[key] != value:
            problems.append(
                Problem(
                    file,
                    key,
                    raw[key],
                    f"must match the file name ({value!r})",
                    f"remove {key}: from the file",
                )
            )
            return None
        raw = {**raw, key: value}
    try:
        validated = model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems_from(file, model, exc))
        return None
    if text is not None:
        if len(_VALIDATED) >= _VALIDATED_LIMIT:
            del _VALIDATED[next(iter(_VALIDATED))]  # the oldest entry
        _VALIDATED[(model, text, tuple(injected.items()))] = validated
    return validated


# Validated (frozen) models by file text: watch mode re-reads unchanged files on every cycle,
# and the tests load copies of config/ with one file changed ~120 times.
_VALIDATED: dict[tuple[type[BaseModel], str, tuple[tuple[str, Any], ...]], BaseModel] = {}
_VALIDATED_LIMIT = 64


def _problems_from(file: str, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        ctx = err.get("ctx") or {}
        value: Any = err.get("input")
        fix = ""
        if err["type"] == "iworkz_rule":
            if "field" in ctx:
                loc.extend(str(ctx["field"]).split("."))
                value = ctx["value"]
            rule, fix = ctx["rule"], ctx.get("fix", "")
        elif err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            rule = f"is not a known key (allowed here: {', '.join(allowed)})"
            fix = f"did you mean {close[0]!r}?" if close else "remove it"
            value = loc[-1]
        elif err["type"] == "missing":
            rule, value, fix = "is required", "(missing)", f"add {loc[-1]}: to the file"
        else:
            rule = err["msg"][0].lower() + err["msg"][1:]
        problems.append(Problem(file, _dotted(loc), value, rule, fix))
    return problems


def _dotted(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.startswith("[")):
            text += f"[{part}]" if isinstance(part, int) else part
        else:
            text += ("." if text else "") + str(part)
    return text


def _allowed_keys(model: type[BaseModel], loc: list[Any]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(k for k in current.model_fields if k != "name")
    return []


def _unwrap(annotation: Any) -> Any:
    """Finds the model inside Optional[...], list[...], dict[..., ...] and Annotated[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is None:
            return annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        annotation = models[0] if models else args[-1] if args else annotation
        if not typing.get_args(annotation):
            return annotation


def _cross_environment_problems(config_dir: Path, envs: Mapping[str, EnvironmentConfig]) -> list[Problem]:
    problems = []
    vpcs = {name: ipaddress.ip_network(env.network.vpc_cidr) for name, env in envs.items()}
    names = sorted(vpcs)
    for i, name in enumerate(names):
        for other in names[i + 1 :]:
            if vpcs[name].overlaps(vpcs[other]):
                problems.append(
                    Problem(
                        _display(config_dir / f"{other}.yaml"),
                        "network.vpc_cidr",
                        str(vpcs[other]),
                        f"overlaps the {name} VPC {vpcs[name]} (environments must not overlap: "
                        "they are peered and routed to the DR site)",
                        "pick a free /16, e.g. 10.1.0.0/16 or 10.2.0.0/16",
                    )
                )
    for name, env in envs.items():
        if not env.dr_azure.enabled:
            continue
        for field, cidr in env.dr_azure.routed_ranges().items():
            vnet = ipaddress.ip_network(cidr)
            for other, vpc in vpcs.items():
                if vnet.overlaps(vpc):
                    problems.append(
                        Problem(
                            _display(config_dir / f"{name}.yaml"),
                            f"dr_azure.{field}",
                            str(vnet),
                            f"overlaps the AWS VPC of {other} ({vpc}); the VPN routes between them",
                            "pick a range outside every AWS VPC, e.g. 10.100.0.0/16",
                        )
                    )
    return problems


__all__ = [
    "CommonConfig",
    "ConfigError",
    "EnvironmentConfig",
    "Settings",
    "available_environments",
    "load_settings",
]
