"""The readable form of embedded documents (scripts/readable.py): what is converted, and that it restores exactly."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from readable import (
    EXPRESSION,
    LINES,
    AmbiguousDocument,
    embedded_json,
    interpolations,
    layout_expression,
    readable,
    restore,
    text_lines,
)

POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"]}]}
# json.dumps around a token whose quotes are not escaped: not valid JSON as it stands
TOKEN = '${replace(aws_eks_cluster.c.identity[0].oidc[0].issuer, "https://", "")}'
TEMPLATE_POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Condition": {"StringEquals": {"'
    + TOKEN
    + ':sub": "system:serviceaccount:kube-system:aws-node"}}}]}'
)
EXPRESSION_TEXT = (
    '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Sid" = "A", "Action" = ["s3:GetObject", '
    '"s3:PutObject"], "Resource" = var.bucket_arn, "Condition" = {}, "Principal" = {"AWS" = "${local.root}"}, '
    '"Note" = "a, [b] {c}"}]})}'
)


def roundtrip(value: Any) -> Any:
    """The value as a snapshot holds it (written and read back as JSON), after checking it restores exactly."""
    shown = json.loads(json.dumps(readable(value), ensure_ascii=False))
    assert restore(shown) == value
    return shown


@pytest.mark.parametrize(
    ("text", "style"),
    [
        (json.dumps(POLICY), "@json"),
        (json.dumps({"title": "概要"}, ensure_ascii=False), "@json unicode"),
        (json.dumps(POLICY, indent=2), "@json indent=2"),
        (json.dumps({"title": "概要"}, indent=2, ensure_ascii=False), "@json indent=2 unicode"),
        (json.dumps(POLICY, separators=(",", ":")), "@json compact"),
        (json.dumps(POLICY) + "\n", "@json +newline"),
    ],
)
def test_a_json_string_becomes_its_parsed_document_under_the_style_that_writes_it(text: str, style: str) -> None:
    shown = roundtrip({"policy": text})
    assert list(shown["policy"]) == [style]
    assert shown["policy"][style] == json.loads(text)


def test_keys_of_the_terraform_document_are_sorted_and_those_inside_a_document_keep_their_order() -> None:
    shown = readable({"b": 1, "a": {"policy": json.dumps({"Version": "1", "Statement": []})}})
    assert list(shown) == ["a", "b"]
    assert list(shown["a"]["policy"]["@json"]) == ["Version", "Statement"]


def test_json_with_an_unescaped_terraform_interpolation_is_parsed_and_the_interpolation_kept_verbatim() -> None:
    with pytest.raises(ValueError):
        json.loads(TEMPLATE_POLICY)
    shown = roundtrip({"assume_role_policy": TEMPLATE_POLICY})
    conditions = shown["assume_role_policy"]["@json"]["Statement"][0]["Condition"]["StringEquals"]
    assert list(conditions) == [f"{TOKEN}:sub"]
    assert embedded_json(TEMPLATE_POLICY)["Statement"][0]["Effect"] == "Allow"


def test_json_that_no_style_writes_again_stays_a_string_or_becomes_lines() -> None:
    irregular = '{"a": 1,"b": 2}'
    assert readable({"x": irregular}) == {"x": irregular}
    multi_line = '{\n    "a": 1\n}'  # indent 4: restoring from the parsed value would change it
    assert roundtrip({"x": multi_line}) == {"x": {LINES: ["{", '    "a": 1', "}"]}}


def test_multi_line_text_becomes_its_lines_with_the_final_newline_kept() -> None:
    values = "controller:\n  replicaCount: 2\n"
    assert roundtrip({"values": [values]}) == {"values": [{LINES: ["controller:", "  replicaCount: 2", ""]}]}


def test_short_single_line_strings_stay_as_they_are() -> None:
    document = {"arn": "${aws_iam_role.r.arn}", "name": "{{ .password }}", "cidr": "10.0.0.0/16"}
    assert readable(document) == document


def test_a_long_expression_is_laid_out_by_its_objects_and_tuples() -> None:
    assert layout_expression(EXPRESSION_TEXT) == [
        "${jsonencode({",
        '  "Version" = "2012-10-17",',
        '  "Statement" = [',
        "    {",
        '      "Sid" = "A",',
        '      "Action" = [',
        '        "s3:GetObject",',
        '        "s3:PutObject"',
        "      ],",
        '      "Resource" = var.bucket_arn,',
        '      "Condition" = {},',
        '      "Principal" = {',
        '        "AWS" = "${local.root}"',
        "      },",
        '      "Note" = "a, [b] {c}"',
        "    }",
        "  ]",
        "})}",
    ]
    assert roundtrip({"secret_string": EXPRESSION_TEXT}) == {
        "secret_string": {EXPRESSION: layout_expression(EXPRESSION_TEXT)}
    }


def test_an_expression_whose_layout_would_not_restore_stays_a_string() -> None:
    spaced = "${jsonencode({ " + ", ".join(f'"key{index}" = {index}' for index in range(12)) + " })}"
    assert readable({"x": spaced}) == {"x": spaced}  # the space after "{" would be lost


def test_interpolations_are_found_at_the_top_level_and_only_when_balanced() -> None:
    text = 'arn:${a.b}:x:${replace(c, "}", "")}'
    assert [text[start:end] for start, end in interpolations(text)] == ["${a.b}", '${replace(c, "}", "")}']
    assert interpolations("$${not.one}") == []
    assert interpolations("${unclosed(") == []


def test_an_object_that_looks_like_a_marker_is_refused() -> None:
    with pytest.raises(AmbiguousDocument):
        readable({"tags": {LINES: ["a"]}})


def test_text_lines_are_what_a_reviewer_reads_for_any_value() -> None:
    assert text_lines("a\nb") == ["a", "b"]
    assert text_lines(EXPRESSION_TEXT)[:2] == ["${jsonencode({", '  "Version" = "2012-10-17",']
    assert text_lines({"b": 1, "a": [2]}) == ["{", '  "a": [', "    2", "  ],", '  "b": 1', "}"]
