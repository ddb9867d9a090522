"""Project policies: PutProjectPolicy, ListProjectPolicies, DeleteProjectPolicy, and what they allow.

A project policy is an IAM resource policy on a Custom Labels project that lets another account copy
its model versions (CopyProjectVersion). Each write gets a new revision id; replacing or deleting a
policy by a stale one is ``InvalidPolicyRevisionIdException``, so two writers cannot overwrite each
other unseen.

Copies within one account need no policy (AWS's rule), and without policies any copy is allowed.
A project that has policies is governed by them: a copy is allowed when a statement allows
``rekognition:CopyProjectVersion`` on the source version to the destination's account and none
denies it.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError

from recognito.custom_labels.projects import CUSTOM_LABELS, POLICY_ITEM, children, get_project, parse_arn
from recognito.errors import (
    InvalidParameterException,
    InvalidPolicyRevisionIdException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from recognito.pagination import decode_token, encode_token
from recognito.storage.tables import ProjectPolicyRecord, ProjectRecord

MAX_POLICIES = 5  # "You can attach up to five project policies to a project"
COPY_ACTION = "rekognition:CopyProjectVersion"
VERSIONS = ("2012-10-17", "2008-10-17")


# ---- the document ------------------------------------------------------------------------------


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    return None


def _check_statement(statement: Any) -> None:
    if not isinstance(statement, dict):
        raise MalformedPolicyDocumentException("A policy statement must be an object")
    if str(statement.get("Effect", "")).lower() not in ("allow", "deny"):
        raise MalformedPolicyDocumentException("A policy statement's Effect must be Allow or Deny")
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal != "*" and not (isinstance(principal, dict) and principal and all(map(_strings, principal.values()))):
        raise MalformedPolicyDocumentException('A policy statement needs a Principal ("*" or {"AWS": ...})')
    if _strings(statement.get("Action", statement.get("NotAction"))) is None:
        raise MalformedPolicyDocumentException("A policy statement needs an Action")
    resource = statement.get("Resource", statement.get("NotResource"))
    if resource is not None and _strings(resource) is None:
        raise MalformedPolicyDocumentException("A policy statement's Resource must be ARNs")


def parse_document(text: str) -> list[dict[str, Any]]:
    """The statements of a policy document (``MalformedPolicyDocumentException`` when it is not one)."""
    try:
        document = json.loads(text)
    except ValueError:
        raise MalformedPolicyDocumentException("The policy document is not valid JSON") from None
    if not isinstance(document, dict):
        raise MalformedPolicyDocumentException("The policy document must be a JSON object")
    if document.get("Version") not in VERSIONS:
        raise MalformedPolicyDocumentException(f"The policy document's Version must be one of {', '.join(VERSIONS)}")
    statements = document.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicyDocumentException("The policy document needs a Statement")
    for statement in statements:
        _check_statement(statement)
    return statements


def _principal_accounts(statement: dict[str, Any], key: str = "Principal") -> list[str]:
    """The accounts a statement's ``Principal`` (or ``NotPrincipal``) names ("*" for anyone)."""
    principal = statement.get(key)
    if principal == "*":
        return ["*"]
    # "111122223333", "arn:aws:iam::111122223333:root" or any role or user of that account.
    values = _strings((principal or {}).get("AWS")) or []
    return [(value.split(":") + [""] * 5)[4] if value.startswith("arn:") else value for value in values]


def _wildcard(pattern: str, *, case: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, 0 if case else re.IGNORECASE)


def _matches(patterns: list[str] | None, value: str, *, case: bool) -> bool:
    if patterns is None:
        return True
    return any(_wildcard(pattern, case=case).fullmatch(value) for pattern in patterns)


def _applies(statement: dict[str, Any], account: str, resource: str) -> bool:
    """Whether a statement speaks of copying ``resource`` to ``account`` (Principal/Action/Resource forms)."""
    accounts = _principal_accounts(statement)
    if "Principal" in statement and not ("*" in accounts or account in accounts):
        return False
    excluded = _principal_accounts(statement, "NotPrincipal")
    if "NotPrincipal" in statement and ("*" in excluded or account in excluded):
        return False
    if "Action" in statement and not _matches(_strings(statement["Action"]), COPY_ACTION, case=False):
        return False
    if "NotAction" in statement and _matches(_strings(statement["NotAction"]), COPY_ACTION, case=False):
        return False
    if "NotResource" in statement and _matches(_strings(statement["NotResource"]), resource, case=True):
        return False
    return _matches(_strings(statement.get("Resource")), resource, case=True)


def permits_copy(project: ProjectRecord, version_arn: str, destination_arn: str) -> bool:
    """Whether ``project``'s policies allow copying ``version_arn`` into the project ``destination_arn``."""
    found = children(ProjectPolicyRecord, project.project, POLICY_ITEM)
    if not found:
        return True
    destination = parse_arn(destination_arn)
    account = destination["account"] if destination is not None else ""
    statements = [statement for policy in found for statement in parse_document(policy.document)]
    relevant = [statement for statement in statements if _applies(statement, account, version_arn)]
    if any(str(statement["Effect"]).lower() == "deny" for statement in relevant):
        return False
    return any(str(statement["Effect"]).lower() == "allow" for statement in relevant)


# ---- the operations ----------------------------------------------------------------------------


def _policy(project: ProjectRecord, name: str) -> ProjectPolicyRecord | None:
    try:
        return ProjectPolicyRecord.get(project.project, POLICY_ITEM + name, consistent_read=True)
    except ProjectPolicyRecord.DoesNotExist:
        return None


def _new_revision() -> str:
    return uuid.uuid4().hex


def put_project_policy(request: dict[str, Any]) -> dict[str, Any]:
    """Attaches a new policy, or replaces one given its current ``PolicyRevisionId``."""
    project = get_project(request["ProjectArn"])
    if project.feature != CUSTOM_LABELS:
        raise InvalidParameterException("Project policies apply only to Custom Labels projects")
    parse_document(request["PolicyDocument"])
    name, revision = request["PolicyName"], request.get("PolicyRevisionId")
    existing = _policy(project, name)
    now = datetime.now(UTC)
    if existing is None:
        if revision:
            raise InvalidPolicyRevisionIdException(f"The project has no policy {name} to revise")
        if len(children(ProjectPolicyRecord, project.project, POLICY_ITEM)) >= MAX_POLICIES:
            raise LimitExceededException(f"A project has at most {MAX_POLICIES} policies")
        condition = ProjectPolicyRecord.item.does_not_exist()
        created = now
    elif not revision:
        raise ResourceAlreadyExistsException(f"The policy {name} exists: give its PolicyRevisionId to replace it")
    elif revision != existing.revision_id:
        raise InvalidPolicyRevisionIdException(f"{revision} is not the current revision of the policy {name}")
    else:
        condition = ProjectPolicyRecord.revision_id == revision
        created = existing.created
    record = ProjectPolicyRecord(
        project.project,
        POLICY_ITEM + name,
        arn=project.arn,
        project_arn=project.arn,
        created=created,
        updated=now,
        revision_id=_new_revision(),
        document=request["PolicyDocument"],
    )
    try:
        record.save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":  # another writer came first
            raise InvalidPolicyRevisionIdException(f"The policy {name} changed meanwhile") from None
        raise
    return {"PolicyRevisionId": record.revision_id}


def list_project_policies(request: dict[str, Any]) -> dict[str, Any]:
    project = get_project(request["ProjectArn"])
    scope = f"ListProjectPolicies:{project.arn}"
    after = decode_token(scope, request["NextToken"]) if request.get("NextToken") else ""
    page_size = request.get("MaxResults") or MAX_POLICIES
    found = [policy for policy in children(ProjectPolicyRecord, project.project, POLICY_ITEM) if policy.item > after]
    page = found[:page_size]
    result: dict[str, Any] = {
        "ProjectPolicies": [
            {
                "ProjectArn": policy.project_arn,
                "PolicyName": policy.item.removeprefix(POLICY_ITEM),
                "PolicyRevisionId": policy.revision_id,
                "PolicyDocument": policy.document,
                "CreationTimestamp": policy.created,
                "LastUpdatedTimestamp": policy.updated,
            }
            for policy in page
        ]
    }
    if len(found) > page_size:
        result["NextToken"] = encode_token(scope, page[-1].item)
    return result


def delete_project_policy(request: dict[str, Any]) -> dict[str, Any]:
    project = get_project(request["ProjectArn"])
    name, revision = request["PolicyName"], request.get("PolicyRevisionId")
    existing = _policy(project, name)
    if existing is None:
        raise ResourceNotFoundException(f"The project has no policy {name}")
    if revision and revision != existing.revision_id:
        raise InvalidPolicyRevisionIdException(f"{revision} is not the current revision of the policy {name}")
    try:
        existing.delete(condition=ProjectPolicyRecord.revision_id == existing.revision_id)
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise InvalidPolicyRevisionIdException(f"The policy {name} changed meanwhile") from None
        raise
    return {}
