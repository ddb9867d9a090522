"""Upload rules: which objects run which operation, and how.

The operator writes them as a JSON list (the stack's ``UploadRules`` parameter, which becomes
``RECOGNITO_UPLOAD_RULES``; ``recognito serve`` reads ``<data dir>/triggers.json`` and
``--trigger``)::

    [{"prefix": "faces/", "action": "IndexFaces", "collection": "staff"},
     {"prefix": "photos/", "action": "DetectLabels", "results_prefix": "results/",
      "params": {"MinConfidence": 80}}]

Members of a rule:

- ``prefix`` (required): keys starting with it match; ``""`` matches every key.
- ``action`` (required): an operation the registry marks ``upload`` (``IndexFaces``,
  ``DetectFaces``, ``DetectLabels``, ``DetectText``, ``DetectModerationLabels``).
- ``collection``: the collection ``IndexFaces`` adds faces to (required for it, refused for others).
  Each face's ``ExternalImageId`` is the object's key, mapped by ``recognito.uploads.external_ids``.
- ``results_prefix``: where the response JSON goes, as ``<results_prefix><key>.<Action>.json``.
  Without it the Detect* actions write next to the image (``<key>.<Action>.json``) and
  ``IndexFaces`` writes none (its outcome is in the uploads table either way).
- ``bucket``: only objects of this bucket (deployed, only the stack's upload bucket notifies;
  ``recognito serve`` requires it, since every bucket there is local).
- ``suffixes``: only keys ending with one of these, compared case-insensitively (``[".jpg", ".png"]``).
- ``params``: further members of the operation's request (``MinConfidence``, ``MaxFaces``,
  ``QualityFilter``, ``Features``...), checked against botocore's model like an API request.

Every rule that matches an object runs, so one prefix can feed several operations. A rule's
identity is its content (``Rule.id``): editing a rule makes it a new one, which runs again on
objects its old form already processed. Result objects (``*.<Action>.json``) never match, so
results written under a rule's own prefix do not trigger it again.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from recognito.errors import RekognitionError
from recognito.registry import registry
from recognito.settings import env_name, settings

RULES_ENV = env_name("upload_rules")
ACTIONS_ENV = env_name("upload_actions")

ACTIONS: dict[str, str] = {name: function.entry for name, function in registry().upload_actions.items()}
"""Each action's service entry point (``module:function``, as its API handler calls it): the
registry's operations marked ``upload``."""

_SET_BY_RULE = {"Image", "CollectionId", "ExternalImageId"}
_MEMBERS = {"prefix", "action", "bucket", "collection", "results_prefix", "suffixes", "params"}

Service = Callable[[dict[str, Any]], dict[str, Any]]


class UploadConfigError(ValueError):
    """The upload rules cannot be used; the message says which rule and why."""


class ActionUnavailable(RuntimeError):
    """The action's service cannot be imported in this deployment (its module or models are missing)."""


@dataclass(frozen=True)
class Rule:
    prefix: str
    action: str
    bucket: str | None = None
    collection: str | None = None
    results_prefix: str | None = None
    suffixes: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The rule as written, without the members left out."""
        full = {
            "prefix": self.prefix,
            "action": self.action,
            "bucket": self.bucket,
            "collection": self.collection,
            "results_prefix": self.results_prefix,
            "suffixes": list(self.suffixes),
            "params": dict(self.params),
        }
        return {name: value for name, value in full.items() if value not in (None, [], {})}

    @property
    def id(self) -> str:
        """A short hash of the rule's content: stable across reordering, new when edited."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def matches(self, bucket: str, key: str) -> bool:
        if self.bucket is not None and bucket != self.bucket:
            return False
        if not key.startswith(self.prefix) or is_result_key(key):
            return False
        return not self.suffixes or key.lower().endswith(tuple(s.lower() for s in self.suffixes))

    def result_key(self, key: str) -> str | None:
        """Where this rule writes the response for ``key``, None when it writes none."""
        if self.results_prefix is None and self.action == "IndexFaces":
            return None
        return f"{self.results_prefix or ''}{key}{result_suffix(self.action)}"

    def request(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any]:
        """The operation's request (JSON form, before validation) for one object."""
        from recognito.uploads.external_ids import external_image_id

        s3_object = {"Bucket": bucket, "Name": key, **({"Version": version_id} if version_id else {})}
        request: dict[str, Any] = {**self.params, "Image": {"S3Object": s3_object}}
        if self.action == "IndexFaces":
            request["CollectionId"] = self.collection
            request["ExternalImageId"] = external_image_id(key)
        return request


def result_suffix(action: str) -> str:
    return f".{action}.json"


def is_result_key(key: str) -> bool:
    """True for the response objects the rules write, which must never trigger a rule again."""
    return key.endswith(tuple(result_suffix(action) for action in ACTIONS))


def resolve_service(action: str) -> Service:
    """The service behind ``action``, imported on first use so that a deployment without an
    operation's code or models fails only the records that need it, each saying why."""
    module_name, _, function_name = ACTIONS[action].partition(":")
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError, OSError) as error:
        raise ActionUnavailable(
            f"{action} is not available here: {ACTIONS[action]} cannot be loaded ({error})"
        ) from None


def parse_rules(config: str | list[Any]) -> list[Rule]:
    """Rules from their JSON text (or the decoded list); ``UploadConfigError`` says what is wrong."""
    if isinstance(config, str):
        try:
            config = json.loads(config) if config.strip() else []
        except ValueError as error:
            raise UploadConfigError(f"upload rules are not valid JSON: {error}") from None
    if not isinstance(config, list):
        raise UploadConfigError("upload rules must be a JSON list of objects")
    return [_rule(position, item) for position, item in enumerate(config)]


def _rule(position: int, item: Any) -> Rule:
    where = f"upload rule {position}"
    if not isinstance(item, dict):
        raise UploadConfigError(f"{where} must be an object, not {type(item).__name__}")
    unknown = set(item) - _MEMBERS
    if unknown:
        raise UploadConfigError(f"{where}: unknown member(s) {sorted(unknown)}; allowed: {sorted(_MEMBERS)}")
    action = item.get("action")
    if action not in ACTIONS:
        raise UploadConfigError(f"{where}: action must be one of {sorted(ACTIONS)}, not {action!r}")
    where = f"{where} ({action})"
    for name in ("prefix", "bucket", "collection", "results_prefix"):
        if name in item and not isinstance(item[name], str):
            raise UploadConfigError(f"{where}: {name} must be a string")
    if "prefix" not in item:
        raise UploadConfigError(f'{where}: prefix is required ("" for every key)')
    if (action == "IndexFaces") != ("collection" in item):
        need = "needs a collection" if action == "IndexFaces" else "takes no collection"
        raise UploadConfigError(f"{where} {need}")
    suffixes = item.get("suffixes", [])
    if not isinstance(suffixes, list) or not all(isinstance(s, str) and s for s in suffixes):
        raise UploadConfigError(f"{where}: suffixes must be a list of non-empty strings")
    params = item.get("params", {})
    if not isinstance(params, dict):
        raise UploadConfigError(f"{where}: params must be an object")
    rule = Rule(
        prefix=item["prefix"],
        action=action,
        bucket=item.get("bucket"),
        collection=item.get("collection"),
        results_prefix=item.get("results_prefix"),
        suffixes=tuple(suffixes),
        params=params,
    )
    _check_request(where, rule)
    return rule


def _check_request(where: str, rule: Rule) -> None:
    """Validate the request the rule would make, as the API would, before any object arrives."""
    from recognito.protocol import operation_model
    from recognito.protocol.validation import parse_input

    shape = operation_model(rule.action).input_shape
    unknown = set(rule.params) - set(shape.members)
    reserved = set(rule.params) & _SET_BY_RULE
    if unknown or reserved:
        raise UploadConfigError(
            f"{where}: params {sorted(unknown | reserved)} are not request members the rule may set; "
            f"allowed: {sorted(set(shape.members) - _SET_BY_RULE)}"
        )
    try:
        parse_input(shape, rule.request("example-bucket", "example.jpg"))
    except RekognitionError as error:
        raise UploadConfigError(f"{where}: {error.message}") from None


def rules_from_environment() -> tuple[Rule, ...]:
    """The rules this function runs: ``RECOGNITO_UPLOAD_RULES`` (parsed once per distinct value,
    since ``recognito serve`` may change it and clear the settings), less those whose action another function runs.

    Deployed, one function cannot carry every model within Lambda's 250 MB, so each upload
    function names the actions it has models for in ``RECOGNITO_UPLOAD_ACTIONS`` and every upload
    reaches each of them (S3 -> SNS -> one queue each); unset, as locally, it runs them all.
    """
    return _parsed(settings().upload_rules, settings().upload_actions)


@cache
def _parsed(config: str, actions: str) -> tuple[Rule, ...]:
    here = {name.strip() for name in actions.split(",") if name.strip()} or set(ACTIONS)
    unknown = here - set(ACTIONS)
    if unknown:
        raise UploadConfigError(f"{ACTIONS_ENV} names unknown actions {sorted(unknown)}; known: {sorted(ACTIONS)}")
    return tuple(rule for rule in parse_rules(config) if rule.action in here)
