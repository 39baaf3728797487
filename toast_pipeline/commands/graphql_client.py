"""Launch a Toast backfill and read its outcome through Dagster's GraphQL API.

For programs outside the code location (a scheduler, a report, another team's service): they
need only the webserver's URL, so this module uses the standard library alone and imports
nothing from Dagster. It talks to the same backfill object the UI's backfills page shows.

Every toast asset is partitioned by business date × location, so a partition key names one
location's date: ``"2024-04-04|185129"`` (Dagster's multi-partition key, its dimensions ordered by
name: the date first). The functions take such keys or ``(location_id, date)`` pairs and answer
with keys.

`url` is the webserver's base address (``http://127.0.0.1:3000``) or its GraphQL endpoint
(``.../graphql``); both are accepted.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

GROUP = "toast"
BUSINESS_DAYS_PATH = ["toast", "business_days"]
CLOSURE_CHECK = "closure_detection"
# The partitions' two dimensions; a key joins their values in name order: "<date>|<location>".
DATE_DIMENSION = "date"
LOCATION_DIMENSION = "location"
# Toast names each location's folder by its number: the location dimension's keys are digits.
LOCATION_ID = re.compile(r"[0-9]+")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
KEY_FORM = '"YYYY-MM-DD|<location id>" (e.g. "2024-04-04|185129") or a (location_id, date) pair'
FINISHED_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}
FAILED_RUN_STATUSES = {"FAILURE", "CANCELED"}
# A backfill in one of these is still being worked on (or cancelled); any other status is final.
# Dagster's own names (GraphQL and Python alike); the backfill command reads this list too.
ACTIVE_BACKFILL_STATUSES = frozenset({"REQUESTED", "CANCELING", "FAILING"})
# What a location-date's business_days materialization and closure evaluation say, in the results.
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
              ... on AssetCheckMultiPartitionStatuses {
                primaryDimensionName
                ranges {
                  primaryDimStartKey
                  primaryDimEndKey
                  secondaryDim {
                    __typename
                    ... on AssetCheckDefaultPartitionStatuses {
                      succeededPartitions
                      failedPartitions
                      inProgressPartitions
                      skippedPartitions
                      executionFailedPartitions
                    }
                    ... on AssetCheckTimePartitionStatuses {
                      ranges { startKey endKey status }
                    }
                  }
                }
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

# Only asked for when a ranged run spans several locations: which locations lie between two.
DIMENSION_KEYS_QUERY = """
query ToastPartitionDimensions($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      partitionKeysByDimension { name partitionKeys }
    }
    ... on Error { message }
  }
}
"""

# A location list's field per check status (the secondary dimension when it is the location).
STATUS_LISTS = {
    "succeededPartitions": "SUCCEEDED",
    "failedPartitions": "FAILED",
    "inProgressPartitions": "IN_PROGRESS",
    "skippedPartitions": "SKIPPED",
    "executionFailedPartitions": "EXECUTION_FAILED",
}

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


# A location-date as the functions accept it: its key, or a (location_id, date) pair.
Partition = str | tuple[str, date | str]


def _iso_date(value: date | str, partition: object) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError(f"{partition!r}: {value!r} is not a date (YYYY-MM-DD); expected {KEY_FORM}")


def partition_key(partition: Partition) -> str:
    """The key of a location-date given as a key or a (location_id, date) pair; a malformed one
    raises ValueError naming it and the expected form.

    >>> partition_key(("185129", "2024-04-04"))
    '2024-04-04|185129'
    """
    if isinstance(partition, str):
        day, bar, location_id = partition.partition("|")
        if not bar:
            raise ValueError(f"{partition!r} is not a location-date key: expected {KEY_FORM}")
    elif isinstance(partition, tuple | list) and len(partition) == 2:
        location_id, day = partition
    else:
        raise ValueError(f"{partition!r} is not a location-date: expected {KEY_FORM}")
    if not isinstance(location_id, str) or not LOCATION_ID.fullmatch(location_id):
        raise ValueError(
            f"{partition!r}: {location_id!r} is not a location id (digits); expected {KEY_FORM}"
        )
    return f"{_iso_date(day, partition)}|{location_id}"


def split_key(key: str) -> tuple[str, str]:
    """(location_id, ISO date) of a key such as ``"2024-04-04|185129"``."""
    day, _, location_id = key.partition("|")
    return location_id, day


def _partition_keys(partitions: Iterable[Partition]) -> list[str]:
    """Sorted, deduplicated keys: by date, then location (the keys' own order)."""
    if isinstance(partitions, str):
        # One key is not a collection of them (its characters would be refused one by one).
        raise ValueError(f"{partitions!r}: give a list of location-dates, each {KEY_FORM}")
    return sorted({partition_key(p) for p in partitions})


def launch_backfill(
    url: str,
    partitions: Iterable[Partition],
    *,
    title: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Create an asset backfill of every toast asset for these location-dates; returns its id.

    `partitions` are keys (``"2024-04-04|185129"``) or ``(location_id, date)`` pairs, the date a
    `date` or an ISO string; a malformed one raises ValueError before anything is sent. A location
    the code location does not know (an unlisted one, or one not yet added to the instance's
    `toast_locations`) comes back as a `GraphQLClientError`.

    This only records the backfill: a Dagster daemon (or `toast-pipeline backfill`'s driver)
    turns it into runs, one location's dates per run.
    """
    partition_names = _partition_keys(partitions)
    if not partition_names:
        raise ValueError("no location-dates to backfill")
    params: dict[str, Any] = {
        "partitionNames": partition_names,
        "assetSelection": [{"path": path} for path in toast_asset_keys(url)],
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }
    if title is not None:
        params["title"] = title
    result = execute(url, LAUNCH_MUTATION, {"params": params})["launchPartitionBackfill"]
    return _expect(result, "LaunchBackfillSuccess", "launchPartitionBackfill")["backfillId"]


def _dates_between(first_key: str, last_key: str) -> list[str]:
    first, last = date.fromisoformat(first_key), date.fromisoformat(last_key)
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class _LocationOrder:
    """The location dimension's keys in the dimension's order, asked for once and only if a
    range spans several locations (Dagster's backfill runs each hold one location)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._keys: list[str] | None = None

    def between(self, first: str, last: str) -> list[str]:
        if first == last:
            return [first]
        if self._keys is None:
            variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}}
            node = execute(self._url, DIMENSION_KEYS_QUERY, variables)["assetNodeOrError"]
            dimensions = _expect(node, "AssetNode", "toast/business_days")
            by_name = {
                d["name"]: d["partitionKeys"] for d in dimensions["partitionKeysByDimension"]
            }
            if LOCATION_DIMENSION not in by_name:
                raise GraphQLClientError(
                    f"toast/business_days has no {LOCATION_DIMENSION!r} partition dimension"
                )
            self._keys = by_name[LOCATION_DIMENSION]
        try:
            start, end = self._keys.index(first), self._keys.index(last)
        except ValueError:
            raise GraphQLClientError(
                f"locations {first}..{last}: not both among the partitions' locations"
            ) from None
        return self._keys[start : end + 1]

    def dimension(self, name: str, first: str, last: str) -> list[str]:
        """The keys of one dimension from `first` to `last`, both included."""
        return _dates_between(first, last) if name == DATE_DIMENSION else self.between(first, last)


def _range_keys(start: str, end: str, locations: _LocationOrder) -> list[str]:
    (first_location, first_day), (last_location, last_day) = split_key(start), split_key(end)
    return sorted(
        f"{day}|{location_id}"
        for day in _dates_between(first_day, last_day)
        for location_id in locations.between(first_location, last_location)
    )


def range_keys(url: str, start: str, end: str) -> list[str]:
    """The keys of a partition range, as Dagster expands a ranged run's
    `dagster/asset_partition_range_start` and `_end` tags: the dates from start to end × the
    locations from start to end in the location dimension's order (asked for only when the two
    locations differ), sorted by date then location."""
    return _range_keys(partition_key(start), partition_key(end), _LocationOrder(url))


def _run_keys(tags: Mapping[str, str], locations: _LocationOrder) -> list[str]:
    """Keys a run covers: its `dagster/partition`, or the rectangle its range tags span."""
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        return _range_keys(start, end, locations)
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
    """The backfill's status, counts per asset, its runs, and one outcome per location-date.

    Outcomes (under `partitions`, keyed like ``"2024-04-04|185129"``, sorted by date then
    location) follow `toast/business_days`, written last for each location-date: MATERIALIZED (a
    run of this backfill materialized it; `day_status` and `closure_reason` are its latest
    verdict, `rows_loaded` what its load wrote), FAILED (its run failed or was canceled without
    materializing it), IN_PROGRESS (its run has not finished), NOT_STARTED (no run covers it yet)
    or SKIPPED (its run succeeded without materializing it). Each run lists the keys it covers
    (a ranged run's expanded), and `materialized`, `failed` and `in_progress` list keys.
    """
    result = execute(url, STATUS_QUERY, {"backfillId": backfill_id})["partitionBackfillOrError"]
    backfill = _expect(result, "PartitionBackfill", f"backfill {backfill_id}")
    keys = sorted(backfill["partitionNames"] or [])
    locations = _LocationOrder(url)
    runs = [
        {
            "run_id": run["runId"],
            "status": run["status"],
            "start_time": run["startTime"],
            "end_time": run["endTime"],
            "partitions": _run_keys({t["key"]: t["value"] for t in run["tags"]}, locations),
        }
        for run in backfill["runs"]
    ]
    run_ids = {run["run_id"] for run in runs}
    materialized: dict[str, dict[str, Any]] = {}
    if keys and runs:
        variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}, "partitions": keys}
        node = execute(url, MATERIALIZATIONS_QUERY, variables)["assetNodeOrError"]
        # Newest first: a key's newest event of this backfill gives its verdict. A run re-judges
        # stored dates whose neighbours it wrote, with a new event holding only the verdict: the
        # rows come from the key's load event, found further down.
        for event in _expect(node, "AssetNode", "toast/business_days")["assetMaterializations"]:
            if event["runId"] not in run_ids:
                continue
            metadata = _metadata(event["metadataEntries"])
            found = materialized.setdefault(
                event["partition"], {"run_id": event["runId"], **metadata}
            )
            if "rows_loaded" not in found and "rows_loaded" in metadata:
                found["rows_loaded"] = metadata["rows_loaded"]
    per_key = {}
    for key in keys:
        covering = [run for run in runs if key in run["partitions"]]
        if key in materialized:
            found = materialized[key]
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
        per_key[key] = outcome
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
        "partitions": per_key,
        "materialized": [k for k, o in per_key.items() if o["status"] == "MATERIALIZED"],
        "failed": [k for k, o in per_key.items() if o["status"] == "FAILED"],
        "in_progress": [
            k for k, o in per_key.items() if o["status"] in ("IN_PROGRESS", "NOT_STARTED")
        ],
    }


def _check_statuses(statuses: Mapping[str, Any] | None, locations: _LocationOrder) -> dict:
    """Each evaluated key's status, from the check's date × location partition statuses: ranges
    of the primary dimension (the date), each with the secondary's keys per status (location
    lists) or ranges of keys sharing a status."""
    if not statuses:
        return {}  # never evaluated
    if statuses.get("__typename") != "AssetCheckMultiPartitionStatuses":
        raise GraphQLClientError(
            f"{CLOSURE_CHECK} statuses are {statuses.get('__typename')}, not date × location "
            "(AssetCheckMultiPartitionStatuses): is the code location current?"
        )
    primary = statuses["primaryDimensionName"]
    secondary = LOCATION_DIMENSION if primary == DATE_DIMENSION else DATE_DIMENSION
    found: dict[str, str] = {}
    for primary_range in statuses["ranges"]:
        by_secondary: dict[str, str] = {}
        inner = primary_range["secondaryDim"]
        for field, status in STATUS_LISTS.items():
            for key in inner.get(field, []):
                by_secondary[key] = status
        for inner_range in inner.get("ranges", []):
            for key in locations.dimension(
                secondary, inner_range["startKey"], inner_range["endKey"]
            ):
                by_secondary[key] = inner_range["status"]
        first, last = primary_range["primaryDimStartKey"], primary_range["primaryDimEndKey"]
        for primary_key in locations.dimension(primary, first, last):
            for secondary_key, status in by_secondary.items():
                values = {primary: primary_key, secondary: secondary_key}
                found[f"{values[DATE_DIMENSION]}|{values[LOCATION_DIMENSION]}"] = status
    return found


def closure_results(url: str, partitions: Iterable[Partition]) -> dict[str, dict[str, Any]]:
    """Per location-date, the latest `closure_detection` verdict, as the UI's check page shows it.

    `partitions` are keys or ``(location_id, date)`` pairs, as for `launch_backfill`; the answer
    is keyed by key (``"2024-04-04|185129"``), sorted by date then location. status is SUCCEEDED
    (open), FAILED (closed, or a probable delivery gap), IN_PROGRESS, SKIPPED, EXECUTION_FAILED
    (the run failed before judging it, e.g. a damaged date) or MISSING (never evaluated). Closed
    ones also carry the reason and explanation from their latest evaluation.
    """
    wanted = _partition_keys(partitions)
    variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}}
    node = execute(url, CHECK_STATUSES_QUERY, variables)["assetNodeOrError"]
    checks = _expect(node, "AssetNode", "toast/business_days")["assetChecksOrError"]
    checks = _expect(checks, "AssetChecks", "asset checks of toast/business_days")["checks"]
    check = next((c for c in checks if c["name"] == CLOSURE_CHECK), None)
    if check is None:
        raise GraphQLClientError(f"toast/business_days has no check {CLOSURE_CHECK!r}")
    status_by_key = _check_statuses(check["partitionStatuses"], _LocationOrder(url))
    results = {key: {"status": status_by_key.get(key, "MISSING")} for key in wanted}
    closed = [key for key in wanted if results[key]["status"] == "FAILED"]
    if closed:
        # One request for every closed location-date: an aliased execution lookup for each.
        fields = "\n".join(
            f"k{i}: assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, "
            f"partition: $p{i}, limit: 1) {{{CHECK_EXECUTION_FIELDS}}}"
            for i in range(len(closed))
        )
        declared = "".join(f", $p{i}: String" for i in range(len(closed)))
        query = (
            "query ToastClosureReasons($assetKey: AssetKeyInput!, $checkName: String!"
            f"{declared}) {{\n{fields}\n}}"
        )
        variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}, "checkName": CLOSURE_CHECK}
        variables.update({f"p{i}": key for i, key in enumerate(closed)})
        data = execute(url, query, variables)
        for i, key in enumerate(closed):
            executions = data[f"k{i}"]
            if not executions or not executions[0]["evaluation"]:
                continue
            evaluation = executions[0]["evaluation"]
            metadata = _metadata(evaluation["metadataEntries"])
            results[key].update(
                {
                    "run_id": executions[0]["runId"],
                    "description": evaluation["description"],
                    **{k: metadata.get(k) for k in CLOSURE_FIELDS},
                }
            )
    return results
