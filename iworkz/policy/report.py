"""What a policy check found: violations (which fail the synth) and suppressions (which are reported)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iworkz.errors import Problem, UserError
from iworkz.policy.rules import RULES, Finding

REPORT_FILE = "policy-report.json"


@dataclass(frozen=True)
class Suppression:
    """``suppress(construct, rule, reason, include_children=...)``, as recorded on the construct's stack."""

    stack: str
    path: str
    rule: str
    reason: str
    include_children: bool = False

    def covers(self, item: Finding) -> bool:
        if item.rule != self.rule:
            return False
        return item.path == self.path or (self.include_children and item.path.startswith(f"{self.path}/"))


@dataclass(frozen=True)
class Waiver:
    """A security control a stack leaves off, with the reason its configuration gives."""

    stack: str
    control: str
    reason: str


@dataclass
class PolicyReport:
    stacks: list[str]
    violations: list[Finding] = field(default_factory=list)
    suppressed: list[tuple[Suppression, Finding]] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)

    @property
    def suppression_count(self) -> int:
        return len(self.suppressions)

    def as_dict(self) -> dict[str, Any]:
        entries = []
        for suppression in self.suppressions:
            covered = [item.address for s, item in self.suppressed if s is suppression]
            entries.append(
                {
                    "stack": suppression.stack,
                    "path": suppression.path,
                    "rule": suppression.rule,
                    "reason": suppression.reason,
                    "include_children": suppression.include_children,
                    "suppressed_findings": covered,
                }
            )
        return {
            "stacks": self.stacks,
            "rules": RULES,
            "violations": [item.as_dict() for item in self.violations],
            "suppression_count": self.suppression_count,
            "suppressions": entries,
            "waivers": [{"stack": w.stack, "control": w.control, "reason": w.reason} for w in self.waivers],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=False, default=str) + "\n")
        temporary.replace(path)

    def summary(self, written_to: Path | None = None) -> str:
        where = f" (listed in {written_to})" if written_to is not None else ""
        rules = sorted({s.rule for s in self.suppressions})
        by_rule = f": {', '.join(rules)}" if rules else ""
        off = (
            f", {len(self.waivers)} controls off: {', '.join(w.control for w in self.waivers)}" if self.waivers else ""
        )
        return (
            f"policy: {len(self.stacks)} stacks checked, {len(self.violations)} violations, "
            f"{self.suppression_count} suppressions{by_rule}{off}{where}"
        )

    def raise_for_violations(self) -> None:
        if self.violations:
            raise PolicyError(self.violations)


class PolicyError(UserError):
    """The synthesised stacks break guardrail rules; nothing is published."""

    def __init__(self, violations: list[Finding]) -> None:
        self.violations = violations
        super().__init__(
            [
                Problem(
                    file=f"{item.path} ({item.address})",
                    field=item.attribute,
                    value=item.value,
                    rule=f"{item.rule}: {item.problem}",
                    fix=f"{item.fix}; or, if this is intended, iworkz.policy.suppress(resource, "
                    f'iworkz.policy.rules.{item.rule}, "<reason>") next to the resource',
                )
                for item in violations
            ]
        )

    def render(self) -> str:
        noun = "violation" if len(self.problems) == 1 else "violations"
        body = "\n".join(p.render() for p in self.problems)
        return f"policy check failed ({len(self.problems)} {noun}):\n{body}"
