"""Launch a Toast backfill and read its outcome through Dagster's GraphQL API.

For programs outside the code location (a scheduler, a report, another team's service): they
need only the webserver's URL, so this module uses the standard library alone and imports
nothing from Dagster. It talks to the same backfill object the UI's backfills page shows.

`url` is the webserver's base address (``http://127.0.0.1:3000``) or its GraphQL endpoint
(``.../graphql``); both are accepted.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

GROUP = "toast"
BUSINESS_DAYS_PATH = ["toast", "business_days"]
CLOSURE_CHECK = "closure_detection"
FINISHED_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}
FAILED_RUN_STATUSES = {"FAILURE", "CANCELED"}
# A backfill in one of these is still being worked on (or cancelled); any other status is final.
# Dagster's own names (GraphQL and Python alike); the backfill command reads this list too.
ACTIVE_BACKFILL_STATUSES = frozenset({"REQUESTED", "CANCELING", "FAILING"})
# What a date's business_days materialization and closure evaluation say, in the results.
DAY_FIELDS = ("day_status", "closure_reason", "rows_loaded")
CLOSURE_FIELDS = ("reason", "explanation", "files_found", "records", "orders", "net_sales")

ASSET_KEYS_QUERY = """
query ToastAssetKeys {
  assetNodes {
    assetKey { path }
    groupName
  }
}
"""

LAUNCH_MUTATION = """
mutation LaunchToastBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

STATUS_QUERY = """
query ToastBackfillStatus($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {
      id
      status
      title
      numPartitions
      partitionNames
      timestamp
      endTimestamp
      tags { key value }
      error { message }
      assetBackfillData {
        assetBackfillStatuses {
          __typename
          ... on AssetPartitionsStatusCounts {
            assetKey { path }
            numPartitionsTargeted
            numPartitionsInProgress
            numPartitionsMaterialized
            numPartitionsFailed
          }
        }
      }
      runs {
        runId
        status
        startTime
        endTime
        tags { key value }
      }
    }
    ... on Error { message }
  }
}
"""

MATERIALIZATIONS_QUERY = """
query ToastBusinessDayMaterializations($assetKey: AssetKeyInput!, $partitions: [String!]) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      assetMaterializations(partitions: $partitions) {
        partition
        runId
        timestamp
        metadataEntries {
          label
          ... on TextMetadataEntry { text }
          ... on IntMetadataEntry { intRepr }
        }
      }
    }
    ... on Error { message }
  }
}
"""

CHECK_STATUSES_QUERY = """
query ToastClosureCheck($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks {
          checks {
            name
            partitionStatuses {
              __typename
              ... on AssetCheckTimePartitionStatuses {
                ranges { startKey endKey status }
              }
            }
          }
        }
        ... on Error { message }
      }
    }
    ... on Error { message }
  }
}
"""

CHECK_EXECUTION_FIELDS = """
    status
    runId
    partition
    evaluation {
      description
      metadataEntries {
        label
        ... on TextMetadataEntry { text }
        ... on IntMetadataEntry { intRepr }
      }
    }
"""


class GraphQLClientError(RuntimeError):
    """The webserver answered with an error, or with a result of an error type."""


def endpoint(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/graphql") else url + "/graphql"


def execute(
    url: str, query: str, variables: Mapping[str, Any] | None = None, *, timeout: float = 60
) -> dict:
    """POST one GraphQL document; raise on transport errors and on top-level GraphQL errors."""
    body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
    request = urllib.request.Request(
        endpoint(url), data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        # The webserver answers a result of type PythonError with HTTP 500 and a normal body.
        text = exc.read().decode(errors="replace")
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not ("data" in payload or "errors" in payload):
            message = f"HTTP {exc.code} from {endpoint(url)}: {text[:500]}"
            raise GraphQLClientError(message) from None
    except urllib.error.URLError as exc:
        raise GraphQLClientError(f"cannot reach {endpoint(url)}: {exc.reason}") from None
    if payload.get("errors"):
        messages = "; ".join(e.get("message", str(e)) for e in payload["errors"])
        raise GraphQLClientError(f"GraphQL error: {messages}")
    return payload["data"]


def _expect(result: Mapping[str, Any], typename: str, what: str) -> Mapping[str, Any]:
    """Unions answer with an error type instead of raising: turn that into an exception."""
    if result.get("__typename") != typename:
        detail = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
        raise GraphQLClientError(f"{what}: {result.get('__typename')}: {detail or 'no message'}")
    return result


def toast_asset_keys(url: str) -> list[list[str]]:
    """The eight toast asset keys as the running code location defines them."""
    nodes = execute(url, ASSET_KEYS_QUERY)["assetNodes"]
    keys = sorted(n["assetKey"]["path"] for n in nodes if n["groupName"] == GROUP)
    if not keys:
        raise GraphQLClientError(
            f"no assets of group {GROUP!r} on {endpoint(url)}: is the code location loaded?"
        )
    return keys


def _date_keys(dates: Iterable[date | str]) -> list[str]:
    """Partition keys are ISO dates; parsing them first turns a typo into a clear error here."""
    return sorted({(date.fromisoformat(d) if isinstance(d, str) else d).isoformat() for d in dates})


def launch_backfill(
    url: str,
    dates: Iterable[date | str],
    *,
    title: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Create an asset backfill of every toast asset for these dates; returns the backfill id.

    This only records the backfill: a Dagster daemon (or `toast-pipeline backfill`'s driver)
    turns it into runs.
    """
    partition_names = _date_keys(dates)
    if not partition_names:
        raise ValueError("no dates to backfill")
    params: dict[str, Any] = {
        "partitionNames": partition_names,
        "assetSelection": [{"path": path} for path in toast_asset_keys(url)],
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }
    if title is not None:
        params["title"] = title
    result = execute(url, LAUNCH_MUTATION, {"params": params})["launchPartitionBackfill"]
    return _expect(result, "LaunchBackfillSuccess", "launchPartitionBackfill")["backfillId"]


def _run_dates(tags: Mapping[str, str]) -> list[str]:
    """Dates a run covers: one `dagster/partition`, or a daily range from its range tags."""
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    return [tags["dagster/partition"]] if tags.get("dagster/partition") else []


def _metadata(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    values = {}
    for entry in entries:
        if "text" in entry:
            values[entry["label"]] = entry["text"]
        elif "intRepr" in entry:
            values[entry["label"]] = int(entry["intRepr"])
    return values


def backfill_status(url: str, backfill_id: str) -> dict[str, Any]:
    """The backfill's status, counts per asset, its runs, and one outcome per date.

    A date's outcome follows `toast/business_days`, written last for each date:
    MATERIALIZED (a run of this backfill materialized it), FAILED (its run failed or was
    canceled without materializing it), IN_PROGRESS (its run has not finished), NOT_STARTED
    (no run covers it yet) or SKIPPED (its run succeeded without materializing it).
    """
    result = execute(url, STATUS_QUERY, {"backfillId": backfill_id})["partitionBackfillOrError"]
    backfill = _expect(result, "PartitionBackfill", f"backfill {backfill_id}")
    dates = sorted(backfill["partitionNames"] or [])
    runs = [
        {
            "run_id": run["runId"],
            "status": run["status"],
            "start_time": run["startTime"],
            "end_time": run["endTime"],
            "dates": _run_dates({t["key"]: t["value"] for t in run["tags"]}),
        }
        for run in backfill["runs"]
    ]
    run_ids = {run["run_id"] for run in runs}
    materialized: dict[str, dict[str, Any]] = {}
    if dates and runs:
        variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}, "partitions": dates}
        node = execute(url, MATERIALIZATIONS_QUERY, variables)["assetNodeOrError"]
        for event in _expect(node, "AssetNode", "toast/business_days")["assetMaterializations"]:
            if event["runId"] in run_ids and event["partition"] not in materialized:
                metadata = _metadata(event["metadataEntries"])
                materialized[event["partition"]] = {"run_id": event["runId"], **metadata}
    per_date = {}
    for day in dates:
        covering = [run for run in runs if day in run["dates"]]
        if day in materialized:
            found = materialized[day]
            outcome = {"status": "MATERIALIZED", "run_id": found["run_id"]}
            outcome.update({k: found[k] for k in DAY_FIELDS if k in found})
        elif not covering:
            outcome = {"status": "NOT_STARTED"}
        elif any(run["status"] not in FINISHED_RUN_STATUSES for run in covering):
            outcome = {"status": "IN_PROGRESS", "run_id": covering[0]["run_id"]}
        elif any(run["status"] in FAILED_RUN_STATUSES for run in covering):
            failed = next(run for run in covering if run["status"] in FAILED_RUN_STATUSES)
            outcome = {"status": "FAILED", "run_id": failed["run_id"]}
        else:
            outcome = {"status": "SKIPPED", "run_id": covering[0]["run_id"]}
        per_date[day] = outcome
    assets = {
        "/".join(s["assetKey"]["path"]): {
            "targeted": s["numPartitionsTargeted"],
            "materialized": s["numPartitionsMaterialized"],
            "failed": s["numPartitionsFailed"],
            "in_progress": s["numPartitionsInProgress"],
        }
        for s in (backfill["assetBackfillData"] or {}).get("assetBackfillStatuses", [])
        if s["__typename"] == "AssetPartitionsStatusCounts"
    }
    return {
        "id": backfill["id"],
        "status": backfill["status"],
        "finished": backfill["status"] not in ACTIVE_BACKFILL_STATUSES,
        "title": backfill["title"],
        "tags": {t["key"]: t["value"] for t in backfill["tags"]},
        "num_partitions": backfill["numPartitions"],
        "timestamp": backfill["timestamp"],
        "end_timestamp": backfill["endTimestamp"],
        "error": (backfill["error"] or {}).get("message"),
        "assets": assets,
        "runs": runs,
        "dates": per_date,
        "materialized": [d for d, o in per_date.items() if o["status"] == "MATERIALIZED"],
        "failed": [d for d, o in per_date.items() if o["status"] == "FAILED"],
        "in_progress": [
            d for d, o in per_date.items() if o["status"] in ("IN_PROGRESS", "NOT_STARTED")
        ],
    }


def _expand(start_key: str, end_key: str) -> list[str]:
    first, last = date.fromisoformat(start_key), date.fromisoformat(end_key)
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def closure_results(url: str, dates: Iterable[date | str]) -> dict[str, dict[str, Any]]:
    """Per date, the latest `closure_detection` verdict, as the UI's check page shows it.

    status is SUCCEEDED (open), FAILED (closed: a WARN failure), IN_PROGRESS, SKIPPED,
    EXECUTION_FAILED (the run failed before judging the date, e.g. a damaged date) or MISSING
    (never evaluated). Closed dates also carry the reason and explanation from the evaluation.
    """
    wanted = _date_keys(dates)
    variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}}
    node = execute(url, CHECK_STATUSES_QUERY, variables)["assetNodeOrError"]
    checks = _expect(node, "AssetNode", "toast/business_days")["assetChecksOrError"]
    checks = _expect(checks, "AssetChecks", "asset checks of toast/business_days")["checks"]
    check = next((c for c in checks if c["name"] == CLOSURE_CHECK), None)
    if check is None:
        raise GraphQLClientError(f"toast/business_days has no check {CLOSURE_CHECK!r}")
    status_by_date: dict[str, str] = {}
    for status_range in (check["partitionStatuses"] or {}).get("ranges", []):
        for day in _expand(status_range["startKey"], status_range["endKey"]):
            status_by_date[day] = status_range["status"]
    results = {day: {"status": status_by_date.get(day, "MISSING")} for day in wanted}
    closed = [day for day in wanted if results[day]["status"] == "FAILED"]
    if closed:
        # One request for every closed date: an aliased execution lookup per date.
        fields = "\n".join(
            f"d{i}: assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, "
            f"partition: $p{i}, limit: 1) {{{CHECK_EXECUTION_FIELDS}}}"
            for i in range(len(closed))
        )
        declared = "".join(f", $p{i}: String" for i in range(len(closed)))
        query = (
            "query ToastClosureReasons($assetKey: AssetKeyInput!, $checkName: String!"
            f"{declared}) {{\n{fields}\n}}"
        )
        variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}, "checkName": CLOSURE_CHECK}
        variables.update({f"p{i}": day for i, day in enumerate(closed)})
        data = execute(url, query, variables)
        for i, day in enumerate(closed):
            executions = data[f"d{i}"]
            if not executions or not executions[0]["evaluation"]:
                continue
            evaluation = executions[0]["evaluation"]
            metadata = _metadata(evaluation["metadataEntries"])
            results[day].update(
                {
                    "run_id": executions[0]["runId"],
                    "description": evaluation["description"],
                    **{k: metadata.get(k) for k in CLOSURE_FIELDS},
                }
            )
    return results
