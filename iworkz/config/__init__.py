"""Typed, frozen configuration: ``config/common.yaml`` plus one ``config/<environment>.yaml``.

Everything is validated here, once, before any provider is loaded; a bad value stops the
synth with a :class:`~iworkz.errors.ConfigError` naming the file, field, value and rule.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError, field_validator, model_validator

from iworkz.config import catalog
from iworkz.config.ai import AiConfig, ai_problems, ai_rules
from iworkz.config.alarms import AlarmsConfig, alarm_rules, rds_memory_gib, subscriber_alarm_rules
from iworkz.config.backup import BackupConfig
from iworkz.config.base import Model, Templated, rule_error, validate_aws_region
from iworkz.config.data import DataConfig
from iworkz.config.delivery import DeliveryConfig
from iworkz.config.dr_azure import DrAzureConfig, dr_capacity_rules
from iworkz.config.edge import EdgeConfig, edge_rules
from iworkz.config.eks import EksConfig
from iworkz.config.monitoring import MonitoringConfig
from iworkz.config.names import derived_name_problems
from iworkz.config.network import NetworkConfig
from iworkz.config.platform import PlatformConfig, platform_rules
from iworkz.config.security import SecurityConfig
from iworkz.config.source import load_yaml, parse_yaml, read_text
from iworkz.config.versions import version_problems
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


Tags = Annotated[dict[str, Annotated[str, Templated]], AfterValidator(_validate_tags)]


class S3BackendSettings(Model):
    bucket: str = Field("iworkz-terraform-state", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # DynamoDB table names: 3-255 letters, digits, '_', '-' and '.'.
    lock_table: str = Field("terraform-lock", pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    region: AwsRegion = "ap-northeast-1"
    # S3-native locking (Terraform >= 1.11); the DynamoDB table stays for older clients.
    use_lockfile: bool = True


# Terraform Cloud workspace names: letters, digits, '-' and '_', at most 90 characters.
_WORKSPACE_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}[-_]$")


class CloudBackendSettings(Model):
    organization: str = Field(min_length=1)
    hostname: str = "app.terraform.io"
    # Workspace of a stack: <workspace_prefix><stack>, e.g. iworkz-network-production.
    workspace_prefix: str = "iworkz-"

    @field_validator("workspace_prefix")
    @classmethod
    def _workspace_prefix(cls, value: str) -> str:
        if not _WORKSPACE_PREFIX.match(value):
            raise rule_error(
                "the workspace prefix is 2-40 letters, digits, '-' or '_' ending in '-' or '_', so that every "
                "workspace reads <prefix><stack> and no stack's name runs into the prefix ('iworkz-data' + "
                "'network-dev' would read as the stack 'datanetwork-dev'); an empty prefix would share the "
                "organization's namespace with every other team's workspaces",
                "e.g. 'iworkz-'",
            )
        return value


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
    # Where the account-level stacks (state, security) copy what they hold: the state bucket and
    # the audit trail are replicated there (the region of these stacks is backend.s3.region).
    backup_region: AwsRegion = "ap-northeast-3"
    state: StateConfig = StateConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    security: SecurityConfig = SecurityConfig()

    @model_validator(mode="after")
    def _distinct_backup_region(self) -> CommonConfig:
        if self.backup_region == self.backend.s3.region:
            raise rule_error(
                f"backup_region must differ from the account's region ({self.backend.s3.region}): cross-region copies",
                "use ap-northeast-3 for Tokyo",
                field="backup_region",
                value=self.backup_region,
            )
        return self

    @model_validator(mode="after")
    def _cloud_runs_notify(self) -> CommonConfig:
        if self.backend.type == "cloud" and not self.delivery.terraform_cloud.notify_members:
            raise rule_error(
                "with backend type 'cloud', failed runs, runs awaiting approval and drift must reach someone",
                "list the on-call members' Terraform Cloud e-mails in delivery.terraform_cloud.notify_members",
                field="delivery.terraform_cloud.notify_members",
                value=[],
            )
        return self


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
    backup: BackupConfig = BackupConfig()
    dr_azure: DrAzureConfig = DrAzureConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    # Validated with the environment (validate_default): its defaults derive from the environment name.
    platform: PlatformConfig = Field(default_factory=dict, validate_default=True)
    alarms: AlarmsConfig = AlarmsConfig()
    edge: EdgeConfig = EdgeConfig()
    ai: AiConfig
    migrations: MigrationsConfig = MigrationsConfig()

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION

    @model_validator(mode="after")
    def _environment_rules(self) -> EnvironmentConfig:
        region = self.aws.region
        zones_of_region = [f"{region}{letter}" for letter in catalog.values("aws.yaml", "availability_zones")[region]]
        for index, zone in enumerate(self.network.availability_zones):
            if zone not in zones_of_region:
                raise rule_error(
                    f"is not an availability zone of {region} ({', '.join(zones_of_region)})",
                    f"use zones of that list, e.g. {', '.join(zones_of_region[:3])}",
                    field=f"network.availability_zones[{index}]",
                    value=zone,
                )
        zones = len(self.network.availability_zones)
        if zones < 2:
            raise rule_error(
                "EKS (and the Route 53 Resolver of the DR link) needs subnets in at least two availability zones",
                f"list two or more zones of {region}, e.g. {', '.join(zones_of_region[:3])}",
                field="network.availability_zones",
                value=self.network.availability_zones,
            )
        opensearch = self.data.opensearch
        if opensearch.instance_count % min(zones, 3):
            raise rule_error(
                f"OpenSearch data nodes must spread evenly over {min(zones, 3)} availability zones",
                f"use a multiple of {min(zones, 3)}",
                field="data.opensearch.instance_count",
                value=opensearch.instance_count,
            )
        platform_rules(self.platform, self.eks.node_groups)
        self._alarm_rules()
        edge_rules(self.edge, self.platform.domain)
        ai_rules(self.ai, self.aws.region, self.network.interface_endpoints)
        if self.dr_azure.enabled:
            if not self.edge.enabled:
                raise rule_error(
                    "a DR site takes traffic only through the edge's load balancer (its failover pool)",
                    "set edge.enabled: true, or dr_azure.enabled: false",
                    field="edge.enabled",
                    value=False,
                )
            dr_capacity_rules(self.dr_azure, self.platform)
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
        if self.dr_azure.enabled:
            rpo = self.dr_azure.recovery.database_rpo_minutes
            subscriber_alarm_rules(self.alarms, rpo, postgres.allocated_storage_gb)

    def _production_rules(self) -> None:
        if self.network.nat_gateways == "single":
            raise rule_error(
                "production needs one NAT gateway per availability zone (a single NAT is a single point of failure)",
                "set nat_gateways: one_per_az",
                field="network.nat_gateways",
                value=self.network.nat_gateways,
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
    # One line each: accepted values with a consequence to know (an engine in extended support).
    warnings: tuple[str, ...] = ()
    # Every configured environment, whichever are selected: an account-level stack covers them all
    # (the security stack's trail logs the data events of every environment's buckets).
    every_environment: Mapping[str, EnvironmentConfig] = dataclasses.field(default_factory=dict)

    def file_of(self, environment: str) -> Path:
        return self.config_dir / f"{environment}.yaml"


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
    project = (common or CommonConfig()).project
    for name in names:
        templates = {"environment": name, "project": project, "prefix": f"{project}-{name}"}
        env = _load_model(config_dir / f"{name}.yaml", EnvironmentConfig, {"name": name}, problems, templates=templates)
        if env is not None:
            loaded[name] = env
    warnings: list[str] = []
    if not problems:
        assert common is not None
        problems.extend(_cross_environment_problems(config_dir, loaded))
        problems.extend(_account_problems(config_dir, common, loaded))
        for name, env in loaded.items():
            file = _display(config_dir / f"{name}.yaml")
            problems.extend(derived_name_problems(file, common, env))
            problems.extend(_tag_count_problems(file, common, env))
            found, warned = version_problems(file, env, catalog.today())
            problems.extend(found)
            if name in selected:
                warnings.extend(warned)
        files = {name: _display(config_dir / f"{name}.yaml") for name in loaded}
        problems.extend(ai_problems(files, common.project, loaded))
    if problems:
        raise ConfigError(problems)
    assert common is not None
    return Settings(config_dir, common, {name: loaded[name] for name in selected}, tuple(warnings), loaded)


# Tags the constructs set on a resource themselves (Name, Owner, ...) besides the default tags.
RESOURCE_OWN_TAGS = 5


def _tag_count_problems(file: str, common: CommonConfig, env: EnvironmentConfig) -> list[Problem]:
    """Every AWS resource carries the default tags (common + environment + Environment): at most 50 in all."""
    default_tags = {**common.tags, **env.tags, "Environment": env.name}
    limit = catalog.values("aws.yaml", "resource_tags")["max_per_resource"] - RESOURCE_OWN_TAGS
    if len(default_tags) <= limit:
        return []
    return [
        Problem(
            file,
            "tags",
            f"{len(default_tags)} default tags (common.yaml, this file and Environment)",
            f"AWS allows 50 tags per resource; the constructs add up to {RESOURCE_OWN_TAGS} of their own, "
            f"so at most {limit} default tags",
            f"remove {len(default_tags) - limit} tag(s) from tags here or in config/common.yaml",
        )
    ]


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
    templates: Mapping[str, str] | None = None,
) -> Any:
    file = _display(path)
    text: str | None = None
    if not path.exists() and not path.is_symlink() and not required:
        raw: Any = {}
    else:
        read = read_text(path, file)
        if isinstance(read, Problem):
            problems.append(read)
            return None
        text = read
        # The defaults of engine versions depend on the date of the synth.
        cache_key = (model, text, tuple(injected.items()), tuple((templates or {}).items()), catalog.today())
        if (cached := _VALIDATED.get(cache_key)) is not None:
            return cached
        raw = parse_yaml(text, file)
        if isinstance(raw, Problem):
            problems.append(raw)
            return None
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            problems.append(
                Problem(
                    file,
                    "(top level)",
                    raw,
                    "must be a mapping of sections",
                    "write one section per line: network:, eks:, ... (see config/production.yaml)",
                )
            )
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
        validated = model.model_validate(raw, context={"templates": dict(templates or {})})
    except ValidationError as exc:
        problems.extend(_problems_from(file, model, exc))
        return None
    if text is not None:
        if len(_VALIDATED) >= _VALIDATED_LIMIT:
            del _VALIDATED[next(iter(_VALIDATED))]  # the oldest entry
        _VALIDATED[cache_key] = validated
    return validated


# Validated (frozen) models by file text: watch mode re-reads unchanged files on every cycle,
# and the tests load copies of config/ with one file changed ~120 times.
_VALIDATED: dict[tuple[Any, ...], BaseModel] = {}
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
            rule = err["msg"].removeprefix("Value error, ")
            rule = rule[0].lower() + rule[1:]
            fix = _builtin_fix(err["type"], ctx, value)
        problems.append(Problem(file, _dotted(loc), value, rule, fix))
    return problems


def _builtin_fix(kind: str, ctx: Mapping[str, Any], value: Any) -> str:
    """The fix of one of pydantic's own errors (types, ranges, lengths, patterns, choices)."""
    written = getattr(value, "text", value)
    fixes = {
        "int_parsing": "write a whole number, e.g. 3",
        "int_type": "write a whole number, e.g. 3",
        "int_from_float": f"write a whole number instead of {written}",
        "float_parsing": "write a number, e.g. 1.5",
        "float_type": "write a number, e.g. 1.5",
        "bool_parsing": "write true or false",
        "bool_type": "write true or false",
        "string_type": f'quote the value: "{written}"',
        "string_pattern_mismatch": f"use only what the pattern {ctx.get('pattern')} allows",
        "string_too_short": f"use at least {ctx.get('min_length')} characters",
        "string_too_long": f"use at most {ctx.get('max_length')} characters",
        "too_short": f"list at least {ctx.get('min_length')} item(s)",
        "too_long": f"list at most {ctx.get('max_length')} item(s)",
        "greater_than_equal": f"use {ctx.get('ge')} or more",
        "greater_than": f"use a value above {ctx.get('gt')}",
        "less_than_equal": f"use {ctx.get('le')} or less",
        "less_than": f"use a value below {ctx.get('lt')}",
        "literal_error": f"use one of {ctx.get('expected')}",
        "list_type": "write a YAML list, e.g. [a, b]",
        "dict_type": "write a mapping of 'key: value' lines",
        "model_type": "write a mapping of 'key: value' lines",
        "model_attributes_type": "write a mapping of 'key: value' lines",
    }
    return fixes.get(
        kind, "change the value so that it meets the rule (the comments in config/production.yaml show each field)"
    )


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


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def free_vpc_cidr(envs: Mapping[str, EnvironmentConfig]) -> str:
    """The first /16 of 10.0.0.0/8 that overlaps no VPC and no routed DR range of any environment."""
    taken = [ipaddress.ip_network(env.network.vpc_cidr) for env in envs.values()]
    taken += [ipaddress.ip_network(c) for env in envs.values() for c in env.dr_azure.routed_ranges().values()]
    for candidate in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=16):
        if not any(candidate.overlaps(other) for other in taken):
            return str(candidate)
    raise LookupError("no free /16 left in 10.0.0.0/8")


def _other_environment_problems(config_dir: Path, envs: Mapping[str, EnvironmentConfig]) -> list[Problem]:
    """A value that names another environment is a copy left unchanged (e.g. a cluster-admin role ARN)."""
    problems = []
    for name, env in envs.items():
        others = [other for other in envs if other != name]
        for field, value in _strings(env.model_dump(exclude={"name"})):
            named = [o for o in others if re.search(rf"(?<![a-z0-9]){re.escape(o)}(?![a-z0-9])", value)]
            if named:
                problems.append(
                    Problem(
                        _display(config_dir / f"{name}.yaml"),
                        field,
                        value,
                        f"names the environment {named[0]!r} in the configuration of {name!r} (a copied value?)",
                        "derive it from this environment: write {environment} for its name or {prefix} for "
                        "<project>-<environment>, e.g. role/{prefix}-cluster-admin",
                    )
                )
    return problems


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [item for key, child in value.items() for item in _strings(child, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list | tuple):
        return [item for i, child in enumerate(value) for item in _strings(child, f"{path}[{i}]")]
    return []


def _account_problems(
    config_dir: Path, common: CommonConfig | None, envs: Mapping[str, EnvironmentConfig]
) -> list[Problem]:
    """Account-level settings that name environments must name configured ones."""
    if common is None:
        return []
    return [
        Problem(
            _display(config_dir / COMMON_FILE),
            f"security.findings.environments[{index}]",
            name,
            f"is not a configured environment (known: {', '.join(sorted(envs))}); the findings reach the critical "
            "receivers of the environments listed here",
            "name an environment of config/ (e.g. production)",
        )
        for index, name in enumerate(common.security.findings.environments)
        if name not in envs
    ]


def _cross_environment_problems(config_dir: Path, envs: Mapping[str, EnvironmentConfig]) -> list[Problem]:
    problems = _other_environment_problems(config_dir, envs)
    vpcs = {name: ipaddress.ip_network(env.network.vpc_cidr) for name, env in envs.items()}
    names = sorted(vpcs)
    for i, name in enumerate(names):
        for other in names[i + 1 :]:
            if vpcs[name].overlaps(vpcs[other]):
                # The newer file is the one just added or edited: it gets the message.
                kept, changed = sorted((name, other), key=lambda n: _modified(config_dir / f"{n}.yaml"))
                problems.append(
                    Problem(
                        _display(config_dir / f"{changed}.yaml"),
                        "network.vpc_cidr",
                        str(vpcs[changed]),
                        f"overlaps the {kept} VPC {vpcs[kept]} (environments must not overlap: "
                        "they are peered and routed to the DR site)",
                        f"pick a free /16, e.g. {free_vpc_cidr(envs)}",
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
    problems.extend(_zone_owner_problems(config_dir, envs))
    return problems


def _zone_owner_problems(config_dir: Path, envs: Mapping[str, EnvironmentConfig]) -> list[Problem]:
    """A Cloudflare zone's settings and rulesets have one owner: at most one environment manages it."""
    owners: dict[str, list[str]] = {}
    for name, env in envs.items():
        if env.edge.cloudflare.manage_zone:
            owners.setdefault(env.edge.cloudflare.zone, []).append(name)
    problems = []
    for zone, names in owners.items():
        for name in names[1:]:
            problems.append(
                Problem(
                    _display(config_dir / f"{name}.yaml"),
                    "edge.cloudflare.manage_zone",
                    True,
                    f"the zone {zone} is already managed by {names[0]} (its TLS settings and rulesets exist once "
                    "per zone)",
                    f"set manage_zone: false here; {names[0]}'s zone rules cover every environment's hosts in {zone}",
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
    "load_yaml",
]
