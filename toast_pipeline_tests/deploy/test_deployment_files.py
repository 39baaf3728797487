"""The deployment files (deploy/docker, deploy/helm) agree with each other and with the code.

No Docker daemon, cluster or Helm is needed: the files are parsed and compared; the Docker
instance file is validated by Dagster's own schema; the deployments' environments are parsed by
the project's own settings and factories, so a renamed or new TOAST_* variable fails here rather
than in a container.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import json
import re
import shutil
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from toast_pipeline.commands.instance import DAGSTER_SWITCHES
from toast_pipeline.defs import dagster_internals
from toast_pipeline.defs.assets import writer_pool
from toast_pipeline.defs.factories import archive_from_env, source_from_env, warehouse_from_env
from toast_pipeline.resources.archive import GCSRawArchive
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.settings import GroupSettings

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "deploy" / "docker"
CODE_DOCKERFILE = DOCKER / "Dockerfile"
DAGSTER_DOCKERFILE = DOCKER / "Dockerfile_dagster"
HELM_VALUES = REPO / "deploy" / "helm" / "values.yaml"
DOCKER_FILES = [
    DOCKER / name
    for name in (
        "Dockerfile",
        "Dockerfile_dagster",
        "docker-compose.yaml",
        "dagster.yaml",
        "workspace.yaml",
        ".env.example",
    )
]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# Names whose values are secrets, wherever they appear (GOOGLE_APPLICATION_CREDENTIALS names a key
# file, not a key).
SECRET_NAME = re.compile(r"PASSWORD|PASSPHRASE|(?<!APPLICATION_)CREDENTIALS|SECRET|TOKEN")
# A compose value that only refers to the environment: ${NAME}, ${NAME:?message}, ${NAME:-default}.
REFERENCE = re.compile(r"^\$\{[A-Z0-9_]+(:?[?-][^}]*)?\}$")
# The variables the deployments set that are Dagster's, Google's or the Postgres image's.
NOT_TOAST = re.compile(
    r"^(DAGSTER_POSTGRES_[A-Z]+|DAGSTER_CURRENT_IMAGE|GOOGLE_APPLICATION_CREDENTIALS|POSTGRES_[A-Z]+)$"
)
# The config keys of dagster-docker 0.29's DockerRunLauncher (the project's environment lacks it).
DOCKER_RUN_LAUNCHER_KEYS = {
    "image",
    "network",
    "networks",
    "env_vars",
    "container_kwargs",
    "registry",
}
# Keys of Dagster's Helm chart (its schema on the 1.13 line) that values.yaml may use, at the top
# and in a user deployment: Helm itself is not available here to validate against the chart.
CHART_TOP_LEVEL_KEYS = {
    "dagsterWebserver",
    "dagsterDaemon",
    "dagster-user-deployments",
    "postgresql",
    "generatePostgresqlPasswordSecret",
    "global",
    "runLauncher",
    "concurrency",
    "telemetry",
    "computeLogManager",
    "serviceAccount",
    "imagePullSecrets",
    "retention",
}
CHART_USER_DEPLOYMENT_KEYS = {
    "name",
    "image",
    "dagsterApiGrpcArgs",
    "codeServerArgs",
    "includeConfigInLaunchedRuns",
    "deploymentNamespace",
    "port",
    "replicaCount",
    "env",
    "envConfigMaps",
    "envSecrets",
    "annotations",
    "nodeSelector",
    "affinity",
    "tolerations",
    "podSecurityContext",
    "securityContext",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "labels",
    "volumeMounts",
    "volumes",
    "schedulerName",
    "initContainers",
    "sidecarContainers",
    "deploymentStrategy",
}


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as Docker Compose reads an env file (no quotes or comments in values)."""
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def instruction(dockerfile: Path, word: str) -> list[str]:
    return [rest for name, rest in instructions(dockerfile) if name == word]


def build_args(dockerfile: Path) -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in instruction(dockerfile, "ARG"))


def option(command: list[str], *flags: str) -> str:
    """The value following the first of `flags` in a command line."""
    for flag in flags:
        if flag in command:
            return command[command.index(flag) + 1]
    raise AssertionError(f"{command} has none of {flags}")


@functools.cache
def names_the_code_reads() -> frozenset[str]:
    """Every TOAST_* name written as a string in the product's code: the variables it reads."""
    names = set()
    for path in (REPO / "toast_pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"TOAST_[A-Z0-9_]+", node.value):
                    names.add(node.value)
    return frozenset(names)


def compose() -> dict:
    return read_yaml(DOCKER / "docker-compose.yaml")


def service_built_from(dockerfile: Path) -> tuple[str, dict]:
    """The compose service that builds `dockerfile` and runs without a command of its own."""
    for name, service in compose()["services"].items():
        build = service.get("build")
        if build and (DOCKER / build["context"] / build["dockerfile"]).resolve() == dockerfile:
            if "command" not in service:
                return name, service
    raise AssertionError(f"no compose service builds {dockerfile.relative_to(REPO)}")


def docker_instance() -> dict:
    return read_yaml(DOCKER / "dagster.yaml")


def helm_deployment() -> dict:
    [deployment] = read_yaml(HELM_VALUES)["dagster-user-deployments"]["deployments"]
    return deployment


def code_location_port() -> int:
    [exposed] = instruction(CODE_DOCKERFILE, "EXPOSE")
    return int(exposed)


def dockerignore_admits(path: str) -> bool:
    """Whether the repository root's .dockerignore lets `path` into the build context: the last
    pattern matching the path or one of its folders decides."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    admitted = True
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        glob = line.removeprefix("!").rstrip("/")
        globs = {glob, glob.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(prefix, g) for prefix in prefixes for g in globs):
            admitted = line.startswith("!")
    return admitted


def environment(dockerfile: Path) -> dict[str, str]:
    """The image's ENV settings (NAME=value forms)."""
    return dict(
        pair.split("=", 1) for line in instruction(dockerfile, "ENV") for pair in line.split()
    )


def test_the_image_serves_the_code_location_pyproject_names_on_the_port_it_exposes():
    [base] = instruction(CODE_DOCKERFILE, "FROM")
    assert base == "python:3.11-slim"
    [cmd] = instruction(CODE_DOCKERFILE, "CMD")
    command = json.loads(cmd)
    assert command[:3] in (["dagster", "code-server", "start"], ["dagster", "api", "grpc"])
    assert option(command, "-h", "--host") == "0.0.0.0"
    assert int(option(command, "-p", "--port")) == code_location_port() == 4000
    assert option(command, "-m", "--module-name") == PYPROJECT["tool"]["dagster"]["module_name"]
    assert option(command, "--location-name") == PYPROJECT["tool"]["dagster"]["code_location_name"]


@pytest.mark.parametrize("dockerfile", [CODE_DOCKERFILE, DAGSTER_DOCKERFILE], ids=lambda p: p.name)
def test_what_each_image_copies_is_in_the_repository_and_let_into_the_build_context(dockerfile):
    contexts = {
        (DOCKER / service["build"]["context"]).resolve()
        for service in compose()["services"].values()
        if "build" in service
    }
    assert contexts == {REPO}
    for copy in instruction(dockerfile, "COPY"):
        *sources, _ = copy.split()
        for source in sources:
            assert (REPO / source).exists(), (
                f"{dockerfile.name} copies {source}: not in the repository"
            )
            assert dockerignore_admits(source), (
                f".dockerignore keeps out {source} ({dockerfile.name})"
            )
    for kept_out in (
        ".env",
        "deploy/docker/.env",
        "data/toast.duckdb",
        "dagster_home/dagster.yaml",
    ):
        assert not dockerignore_admits(kept_out), kept_out


def test_both_images_run_the_dagster_the_project_allows_and_the_chart_runs():
    code, dagster = build_args(CODE_DOCKERFILE), build_args(DAGSTER_DOCKERFILE)
    libraries = code["DAGSTER_LIBRARIES_VERSION"]
    assert dagster["DAGSTER_LIBRARIES_VERSION"] == libraries
    allowed = {
        requirement.name: requirement.specifier
        for requirement in map(Requirement, PYPROJECT["project"]["dependencies"])
    }
    assert Version(dagster["DAGSTER_VERSION"]) in allowed["dagster"]
    assert Version(libraries) in allowed["dagster-gcp"]
    installed = " ".join(instruction(CODE_DOCKERFILE, "RUN"))
    for library in ("dagster-postgres", "dagster-docker", "dagster-k8s", "dagster-gcp"):
        assert f'"{library}==${{DAGSTER_LIBRARIES_VERSION}}"' in installed, library
    installed = " ".join(instruction(DAGSTER_DOCKERFILE, "RUN"))
    for library in ("dagster", "dagster-webserver"):
        assert f'"{library}==${{DAGSTER_VERSION}}"' in installed, library
    for library in ("dagster-postgres", "dagster-docker"):
        assert f'"{library}==${{DAGSTER_LIBRARIES_VERSION}}"' in installed, library
    values = read_yaml(HELM_VALUES)
    assert values["dagsterWebserver"]["image"]["tag"] == dagster["DAGSTER_VERSION"]
    assert values["dagsterDaemon"]["image"]["tag"] == dagster["DAGSTER_VERSION"]


def test_compose_workspace_and_launcher_point_at_the_same_server_image_network_and_files():
    services = compose()["services"]
    name, code = service_built_from(CODE_DOCKERFILE)
    port = code_location_port()
    [server] = read_yaml(DOCKER / "workspace.yaml")["load_from"]
    assert server["grpc_server"] == {
        "host": name,
        "port": port,
        "location_name": PYPROJECT["tool"]["dagster"]["code_location_name"],
    }
    assert str(port) in code["expose"]
    assert code["environment"]["DAGSTER_CURRENT_IMAGE"] == code["image"]
    launcher = docker_instance()["run_launcher"]["config"]
    [network] = compose()["networks"].values()
    assert launcher["network"] == network["name"]
    for service_name, service in services.items():
        assert service["networks"] == list(compose()["networks"]), service_name
    # The key files: the code server and every run container mount the same host folder, and the
    # deployment's paths point inside it.
    [mount] = [volume for volume in code["volumes"] if volume.startswith("/etc/")]
    assert launcher["container_kwargs"]["volumes"] == [mount]
    target = PurePosixPath(mount.split(":")[1])
    env = env_file(DOCKER / ".env.example")
    for path_name in (
        "TOAST_SFTP_PRIVATE_KEY_PATH",
        "TOAST_SFTP_KNOWN_HOSTS",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        assert target in PurePosixPath(env[path_name]).parents, path_name
    assert env["DAGSTER_POSTGRES_HOST"] in services
    postgres = services[env["DAGSTER_POSTGRES_HOST"]]
    assert postgres["image"] == "postgres:15" and postgres["healthcheck"]["test"]
    assert env["DAGSTER_POSTGRES_PORT"] == "5432"


def test_compose_webserver_and_daemon_read_the_image_s_workspace_and_the_ui_stays_on_loopback():
    assert environment(DAGSTER_DOCKERFILE)["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert instruction(DAGSTER_DOCKERFILE, "WORKDIR") == ["${DAGSTER_HOME}"]
    [copy] = instruction(DAGSTER_DOCKERFILE, "COPY")
    assert copy.split()[:-1] == ["deploy/docker/dagster.yaml", "deploy/docker/workspace.yaml"]
    assert copy.split()[-1] == "${DAGSTER_HOME}/"
    services = compose()["services"]
    commands = {
        name: service["command"]
        for name, service in services.items()
        if service.get("build", {}).get("dockerfile") == "deploy/docker/Dockerfile_dagster"
    }
    assert sorted(command[0] for command in commands.values()) == [
        "dagster-daemon",
        "dagster-webserver",
    ]
    for command in commands.values():
        assert option(command, "-w", "--workspace") == "workspace.yaml"
    for name, service in services.items():
        for published in service.get("ports", []):
            assert published.startswith("127.0.0.1:"), (
                f"{name} publishes {published} beyond loopback"
            )
    [webserver] = [n for n, c in commands.items() if c[0] == "dagster-webserver"]
    assert services[webserver]["ports"] == ["127.0.0.1:3000:3000"]


def test_the_docker_instance_passes_dagster_s_schema_with_postgres_over_psycopg2_and_no_pool(
    tmp_path,
):
    # Dagster has no public way to validate an instance file without opening its storage (here a
    # Postgres server): its own loader's validation step is used.
    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    dagster_internals.dagster_instance_config(str(tmp_path))
    instance = docker_instance()
    database = instance["storage"]["postgres"]["postgres_db"]
    assert database.pop("scheme") == "postgresql+psycopg2"
    assert database == {
        field: {"env": f"DAGSTER_POSTGRES_{suffix}"}
        for field, suffix in (
            ("hostname", "HOST"),
            ("port", "PORT"),
            ("username", "USER"),
            ("password", "PASSWORD"),
            ("db_name", "DB"),
        )
    }
    runs = instance["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] > 0 and runs["tag_concurrency_limits"]
    assert "pools" not in instance["concurrency"]
    assert "run_coordinator" not in instance  # the queued coordinator, configured by `concurrency`
    launcher = instance["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    assert set(launcher["config"]) <= DOCKER_RUN_LAUNCHER_KEYS


def test_every_toast_variable_the_files_set_is_one_the_code_reads():
    compose_names = {
        name
        for service in compose()["services"].values()
        for name in service.get("environment", {})
    }
    sources = {
        ".env.example": set(env_file(DOCKER / ".env.example")),
        "docker-compose.yaml": compose_names,
        "dagster.yaml env_vars": set(docker_instance()["run_launcher"]["config"]["env_vars"]),
        "helm values env": set(helm_deployment()["env"]),
    }
    read = names_the_code_reads()
    assert len(read) > 20, "the scan of the code found too few TOAST_* names"
    for where, names in sources.items():
        toast = {name for name in names if name.startswith("TOAST_")}
        assert toast <= read, f"{where} sets variables the code never reads: {sorted(toast - read)}"
        others = {
            name for name in names - toast if not NOT_TOAST.match(name)
        } - DAGSTER_SWITCHES.keys()
        assert not others, f"{where} sets unexpected variables: {sorted(others)}"


def test_the_env_file_sets_every_variable_the_code_reads_and_the_launcher_copies_all_of_it():
    env = env_file(DOCKER / ".env.example")
    missing = names_the_code_reads() - set(env)
    assert not missing, f".env.example lacks {sorted(missing)}"
    copied = docker_instance()["run_launcher"]["config"]["env_vars"]
    assert len(copied) == len(set(copied))
    assert set(copied) == set(env), "runs must get exactly the .env the code server gets"
    services = compose()["services"]
    _, code = service_built_from(CODE_DOCKERFILE)
    [daemon] = [s for s in services.values() if s.get("command", [None])[0] == "dagster-daemon"]
    assert code["env_file"] == daemon["env_file"] == ".env"


@pytest.mark.parametrize("where", [".env.example", "helm values"])
def test_the_deployment_environment_builds_bigquery_gcs_and_sftp_with_no_pool(where):
    """Parsed by the code location's own settings and factories: every variable the BigQuery and
    GCS deployment needs is present and well-formed (secrets may stay unset)."""
    if where == ".env.example":
        env = env_file(DOCKER / ".env.example")
    else:
        env = helm_deployment()["env"]
        assert all(isinstance(value, str) for value in env.values()), "the chart takes strings"
    assert env["TOAST_WAREHOUSE"] == "bigquery" and env["TOAST_ARCHIVE_BUCKET"]
    settings = GroupSettings.from_env(env)
    archive = archive_from_env(env)
    assert isinstance(archive, GCSRawArchive)
    assert isinstance(warehouse_from_env(settings, env), BigQueryWarehouse)
    assert isinstance(source_from_env(settings, env, archive), SFTPExportSource)
    assert writer_pool(settings) is None
    assert settings.watches_server


def test_secrets_appear_only_as_references_never_as_values():
    env = env_file(DOCKER / ".env.example")
    secrets = {name for name in env if SECRET_NAME.search(name)}
    assert {"DAGSTER_POSTGRES_PASSWORD", "TOAST_SFTP_PASSWORD", "TOAST_GCP_CREDENTIALS"} <= secrets
    assert {name: env[name] for name in secrets} == dict.fromkeys(secrets, "")
    for name, service in compose()["services"].items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_NAME.search(variable):
                assert REFERENCE.match(str(value)), f"{name} sets {variable} to a literal"
    assert docker_instance()["storage"]["postgres"]["postgres_db"]["password"] == {
        "env": "DAGSTER_POSTGRES_PASSWORD"
    }
    values = read_yaml(HELM_VALUES)
    deployment = helm_deployment()
    assert not [name for name in deployment["env"] if SECRET_NAME.search(name)]
    assert deployment["envSecrets"]
    assert values["postgresql"]["postgresqlPassword"] == ""
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    for path in (*DOCKER_FILES, HELM_VALUES, REPO / "docs" / "deployment.md"):
        text = path.read_text()
        assert "PRIVATE KEY-----" not in text and '"private_key"' not in text, path.name


def test_the_secrets_the_files_name_are_the_ones_the_code_binds_with_envvar():
    """The code binds secrets by name (`dagster.EnvVar`) so their values never enter a run's config;
    each TOAST_* secret the deployments leave to the environment is one of them."""
    factories = (REPO / "toast_pipeline" / "defs" / "factories.py").read_text()
    bound = {
        node.args[-1].value
        for node in ast.walk(ast.parse(factories))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) in {"named", "_named"}
        and isinstance(node.args[-1], ast.Constant)
    }
    secrets = {name for name in names_the_code_reads() if SECRET_NAME.search(name)}
    assert secrets and secrets <= bound


def test_the_helm_values_use_the_chart_s_keys_and_agree_with_the_image_and_compose():
    values = read_yaml(HELM_VALUES)
    assert set(values) <= CHART_TOP_LEVEL_KEYS
    deployment = helm_deployment()
    assert set(deployment) <= CHART_USER_DEPLOYMENT_KEYS
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", deployment["name"])
    assert deployment["port"] == code_location_port()
    args = deployment.get("codeServerArgs") or deployment["dagsterApiGrpcArgs"]
    assert option(args, "-m", "--module-name") == PYPROJECT["tool"]["dagster"]["module_name"]
    _, code = service_built_from(CODE_DOCKERFILE)
    image_name = code["image"].split(":")[0]
    assert deployment["image"]["repository"].rsplit("/", 1)[-1] == image_name
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    [mount] = deployment["volumeMounts"]
    [volume] = deployment["volumes"]
    assert mount["name"] == volume["name"] and mount["readOnly"] is True
    compose_mount = next(v for v in code["volumes"] if v.startswith("/etc/"))
    assert mount["mountPath"] == compose_mount.split(":")[1]
    [user] = instruction(CODE_DOCKERFILE, "USER")
    uid = deployment["podSecurityContext"]["runAsUser"]
    assert re.search(
        rf"useradd --uid {uid} [^&]*\b{user}\b", " ".join(instruction(CODE_DOCKERFILE, "RUN"))
    )
    assert deployment["podSecurityContext"]["fsGroup"] == uid
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    concurrency = values["concurrency"]
    assert concurrency["enabled"] is True and "pools" not in concurrency
    assert concurrency["runs"]["maxConcurrentRuns"] > 0
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert "maxConcurrentRuns" not in queued, "the chart refuses both places at once"


def test_the_processes_that_create_runs_get_the_project_s_dagster_switches():
    """The webserver and the daemon create runs; Dagster reads its switches from their
    environment, as the backfill command sets them for itself."""
    services = compose()["services"]
    creators = [
        s
        for s in services.values()
        if s.get("command", [None])[0] in ("dagster-webserver", "dagster-daemon")
    ]
    assert len(creators) == 2
    values = read_yaml(HELM_VALUES)
    for name, value in DAGSTER_SWITCHES.items():
        for service in creators:
            assert service["environment"][name] == value, (service["command"], name)
        for part in ("dagsterWebserver", "dagsterDaemon"):
            assert values[part]["env"][name] == value, (part, name)
