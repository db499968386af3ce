"""House rules: dependency direction, a torch-free gateway, a complete configuration table."""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.config import MIN_SIGNING_KEY, Settings, UnsafeSettings

ROOT = Path(__file__).parents[2]
FORBIDDEN = {
    "db": {"gateway", "model_server", "torch", "torchvision", "fastapi"},
    "gateway": {"model_server", "torch", "torchvision"},
    "model_server": {"gateway", "db", "fastapi"},
    "core": {"gateway", "db", "model_server", "bench", "tests", "torch", "torchvision", "fastapi"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


def test_the_runtime_ships_alone() -> None:
    """What goes into every .mar imports only itself, core and third-party packages (nothing
    else of the model server's: not its tools, cards, training, nor ``paths``)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m
            for m in imported_modules(path)
            if (m.startswith("model_server.") and not m.startswith("model_server.runtime"))
            or m.split(".")[0] in {"gateway", "db", "bench", "tests"}
        )
        for path in (ROOT / "model_server" / "runtime").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.mark.skipif(
    not LINT_IMPORTS.exists(),
    reason=f"{LINT_IMPORTS} is missing: pip install -r requirements/dev.txt (import-linter)",
)
def test_import_contracts_are_kept() -> None:
    """The same layering as the AST rules above, as import-linter contracts (pyproject.toml):
    it also follows chains (a forbidden module reached through one of ours) and relative imports."""
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gateway_runs_without_torch() -> None:
    code = "import sys, gateway.main; gateway.main.create_app(); print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def requirement_closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements pull in, read from the installed metadata (offline)."""
    seen: set[str] = set()
    todo = [Requirement(line) for line in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        extras = {"", *requirement.extras}
        for line in metadata.distribution(requirement.name).requires or []:
            needed = Requirement(line)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras
            ):
                todo.append(needed)
    return seen


def test_gateway_requirements_pull_in_no_torch() -> None:
    lines = (ROOT / "requirements/gateway.txt").read_text().splitlines()
    names = requirement_closure([ln for ln in lines if ln.strip() and not ln.startswith("#")])
    assert {"fastapi", "uvicorn", "sqlalchemy", "pillow", "aioboto3"} <= names
    assert not {n for n in names if "torch" in n or n.startswith("nvidia")}


LOCK = ROOT / "requirements/lock"
# each lock and the inputs it is compiled from (make lock)
LOCK_INPUTS = {
    "dev.txt": ["gateway.txt", "model.txt", "dev.txt"],
    "gateway.txt": ["gateway.txt"],
    "model.txt": ["model.txt"],
    "model-nodeps.txt": ["model-nodeps.txt"],
}


def lock_entries(name: str) -> dict[str, tuple[Requirement, list[str]]]:
    """A lock's requirements (continuation lines joined) with their hashes, by canonical name."""
    text = (LOCK / name).read_text().replace("\\\n", " ")
    entries = {}
    for line in text.splitlines():
        spec, *hashes = line.split("--hash=")
        if spec.strip() and not spec.lstrip().startswith("#"):
            requirement = Requirement(spec.strip())
            entries[canonicalize_name(requirement.name)] = (
                requirement,
                [h.strip() for h in hashes],
            )
    return entries


def input_names(name: str) -> set[str]:
    lines = (ROOT / "requirements" / name).read_text().splitlines()
    return {
        canonicalize_name(Requirement(ln).name)
        for ln in lines
        if ln.strip() and not ln.startswith("#")
    }


@pytest.mark.parametrize("lock", sorted(LOCK_INPUTS))
def test_locks_pin_every_input_with_hashes(lock: str) -> None:
    """Exact pins with sha256 hashes only (pip --require-hashes), and none of the inputs missing:
    an input added without `make lock` fails here."""
    entries = lock_entries(lock)
    loose = {
        n: str(r.specifier)
        for n, (r, _) in entries.items()
        if len(r.specifier) != 1 or next(iter(r.specifier)).operator != "=="
    }
    unhashed = [
        n
        for n, (_, hashes) in entries.items()
        if not hashes or not all(h.startswith("sha256:") for h in hashes)
    ]
    assert loose == {} and unhashed == []
    wanted = set().union(*(input_names(n) for n in LOCK_INPUTS[lock]))
    assert wanted - set(entries) == set()


def test_gateway_lock_holds_no_torch() -> None:
    names = set(lock_entries("gateway.txt"))
    assert {"fastapi", "uvicorn", "sqlalchemy", "pillow", "aioboto3"} <= names
    assert not {n for n in names if "torch" in n or n.startswith(("nvidia", "triton", "cuda"))}


@pytest.mark.parametrize("lock", ["gateway.txt", "model.txt"])
def test_image_locks_pin_what_development_tests(lock: str) -> None:
    """The images install the versions that `make test` ran (their locks are compiled against
    the development lock)."""
    dev = {n: str(r.specifier) for n, (r, _) in lock_entries("dev.txt").items()}
    image = {n: str(r.specifier) for n, (r, _) in lock_entries(lock).items()}
    assert {n: (v, dev.get(n)) for n, v in image.items() if dev.get(n) != v} == {}


def test_venv_holds_the_locked_versions() -> None:
    """What runs the tests is what the locks say (make venv installs them, hashes checked)."""
    pins = {**lock_entries("dev.txt"), **lock_entries("model-nodeps.txt")}
    stale = {}
    for name, (requirement, _) in pins.items():
        want = next(iter(requirement.specifier)).version
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != want:
            stale[name] = (have, want)
    assert stale == {}, "run make venv"


def test_images_install_from_the_locks() -> None:
    """Every pip install in a Dockerfile reads a lock with its hashes required."""
    for dockerfile in (ROOT / "infra/docker").glob("*.Dockerfile"):
        text = dockerfile.read_text().replace("\\\n", " ")
        installs = [ln for ln in text.splitlines() if "pip install" in ln]
        assert installs, dockerfile.name
        for line in installs:
            for command in line.split("&&"):
                if "pip install" in command:
                    assert "--require-hashes" in command, (dockerfile.name, command)
                    assert "-r requirements/lock/" in command, (dockerfile.name, command)


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [f"ALPHAMALE_{name.upper()}" for name in Settings.model_fields]
    assert [m for m in missing if f"`{m}`" not in readme] == []
    assert "make run" in readme and "make test" in readme


def no_settings_from_outside(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    """Settings read from the test's arguments alone: no ``ALPHAMALE_*`` variable, no .env."""
    for name in [n for n in os.environ if n.startswith("ALPHAMALE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(where)


@pytest.mark.parametrize(
    "deployment",
    [{"database_url": "postgresql+asyncpg://gateway@db/alphamale"}, {"storage_backend": "s3"}],
    ids=["postgresql", "s3"],
)
def test_start_up_refuses_an_unsafe_signing_key_outside_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deployment: dict[str, str]
) -> None:
    """The bug this holds: a PostgreSQL or S3 deployment started with no signing key, a known
    default or a short one, and anyone could forge its signed links and client hashes. The
    embedded default (SQLite and local files) needs none: it keeps one in var/signing.key."""
    no_settings_from_outside(monkeypatch, tmp_path)
    short = "short-key-" + "0" * (MIN_SIGNING_KEY - 11)
    for key, says in (
        (None, "must be set"),
        ("", "must be set"),
        ("change-me", "is a default or too short"),
        ("CHANGEME", "is a default or too short"),
        (short, "is a default or too short"),
    ):
        with pytest.raises(UnsafeSettings, match="ALPHAMALE_SIGNING_KEY") as refused:
            Settings(var_dir=tmp_path, signing_key=key, **deployment)
        assert says in str(refused.value) and str(MIN_SIGNING_KEY) in str(refused.value)
        assert short not in str(refused.value)  # the message never repeats the key
    strong = secrets.token_hex(MIN_SIGNING_KEY // 2)
    settings = Settings(var_dir=tmp_path, signing_key=strong, **deployment)
    assert not settings.embedded and settings.signing_secret == strong.encode()
    assert not (tmp_path / "signing.key").exists()  # no key file outside the embedded default

    embedded = Settings(var_dir=tmp_path)
    assert embedded.embedded and len(embedded.signing_secret) >= MIN_SIGNING_KEY
    assert embedded.signing_secret == (tmp_path / "signing.key").read_bytes().strip()


def test_every_gateway_process_of_one_deployment_signs_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug this holds: each worker made up a random key of its own, so a link signed by
    one process was refused by the next. Settings of one environment, in this process and in
    another, have one key: the environment's, or the one kept in $var_dir/signing.key."""
    no_settings_from_outside(monkeypatch, tmp_path)
    monkeypatch.setenv("ALPHAMALE_VAR_DIR", str(tmp_path / "var"))
    worker_key = "from gateway.config import Settings; print(Settings().signing_secret.decode())"
    other_process = [sys.executable, "-c", worker_key]
    env = os.environ | {"PYTHONPATH": str(ROOT)}

    first, second = Settings(), Settings()
    assert first.embedded and first.signing_secret == second.signing_secret
    worker = subprocess.run(other_process, env=env, capture_output=True, text=True, check=True)
    assert worker.stdout.strip().encode() == first.signing_secret
    assert Settings(var_dir=tmp_path / "elsewhere").signing_secret != first.signing_secret

    key = secrets.token_hex(MIN_SIGNING_KEY // 2)
    monkeypatch.setenv("ALPHAMALE_DATABASE_URL", "postgresql+asyncpg://gateway@db/alphamale")
    monkeypatch.setenv("ALPHAMALE_SIGNING_KEY", key)
    assert Settings().signing_secret == Settings().signing_secret == key.encode()
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    worker = subprocess.run(other_process, env=env, capture_output=True, text=True, check=True)
    assert worker.stdout.strip() == key


def test_compose_file_matches_the_compose_spec() -> None:
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.compose-spec", ROOT / "docker-compose.yml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
DOCKERFILES = sorted((ROOT / "infra/docker").glob("*.Dockerfile"))


def venv_tool(name: str) -> str:
    """A tool of the dev lock, beside this interpreter (make venv installs it)."""
    return str(Path(sys.executable).with_name(name))


def run_tool(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a tool of the dev lock; its output is in ``stdout`` and ``stderr``."""
    return subprocess.run([venv_tool(name), *map(str, args)], capture_output=True, text=True)


def test_workflows_match_the_github_schema() -> None:
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS)
    assert WORKFLOWS and result.returncode == 0, result.stdout + result.stderr


def test_workflows_have_no_zizmor_findings() -> None:
    result = run_tool("zizmor", "--offline", "--quiet", ROOT / ".github/workflows")
    assert result.returncode == 0, result.stdout + result.stderr


def test_third_party_actions_are_pinned_by_commit() -> None:
    """A tag can be moved; a commit cannot. The tag stays beside it, as a comment."""
    pinned = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+# v\d.*")
    loose = [
        f"{workflow.name}: {use}"
        for workflow in WORKFLOWS
        for use in re.findall(r"\buses: (.+)", workflow.read_text())
        if not use.startswith("./") and not pinned.fullmatch(use.strip())
    ]
    assert loose == []


def test_dockerfiles_pass_hadolint() -> None:
    result = run_tool("hadolint", "--failure-threshold", "warning", *DOCKERFILES)
    assert DOCKERFILES and result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_images_run_as_a_numeric_user_with_a_healthcheck(dockerfile: Path) -> None:
    """The final stage: a numeric non-root USER (Kubernetes' runAsNonRoot can check it), a
    HEALTHCHECK and exec-form CMD (signals reach the server, not a shell)."""
    final = dockerfile.read_text().split("\nFROM ")[-1]
    users = re.findall(r"^USER (\S+)", final, re.M)
    assert users and re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]), users
    assert re.search(r"^HEALTHCHECK ", final, re.M)
    assert re.search(r"^CMD \[", final, re.M)


def test_one_python_version() -> None:
    """.python-version is the locks' Python (make lock), the images' base and CI's container."""
    version = (ROOT / ".python-version").read_text().strip()
    for dockerfile in DOCKERFILES:
        assert f"ARG PYTHON_VERSION={version}\n" in dockerfile.read_text(), dockerfile.name
    assert (
        f"container: python:{version}-bookworm\n" in (ROOT / ".github/workflows/ci.yml").read_text()
    )
    assert (
        f'target-version = "py{version.replace(".", "")}"' in (ROOT / "pyproject.toml").read_text()
    )


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_is_formatted() -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", str(ROOT / "infra/terraform")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"not formatted: {result.stdout}"


# --- the Terraform stack, read as text (no providers here: `terraform validate` runs in deploy) ---

TERRAFORM = ROOT / "infra/terraform"


def terraform() -> str:
    """Every .tf file of the stack, as one text."""
    return "\n".join(path.read_text() for path in sorted(TERRAFORM.glob("*.tf")))


def tf_block(header: str) -> str:
    """The body of the block opened by ``header`` (e.g. ``resource "aws_lb" "gateway"``), its
    braces counted (interpolations and objects nest their own)."""
    text = terraform()
    start = text.index(header + " {") + len(header) + 2
    depth = 1
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end]
    raise AssertionError(f"{header}: unclosed block")


def tf_setting(block: str, name: str) -> str:
    """The expression of the first ``name = ...`` line of ``block`` (without a trailing comment)."""
    match = re.search(rf"^\s*{name}\s*=\s*(.+?)\s*(#[^\"]*)?$", block, re.M)
    assert match, f"{name} is not set"
    return match.group(1)


def gateway_container_settings() -> dict[str, str]:
    """The gateway container's environment and secrets: variable -> Terraform expression."""
    block = tf_block('resource "aws_ecs_task_definition" "gateway"')
    return dict(re.findall(r'\{ name = "(\w+)", (?:value|valueFrom) = (.+?) \}', block))


def test_the_gateway_trusts_only_the_load_balancers_subnets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """X-Forwarded-For is believed from the public ALB's own subnets (its nodes' addresses) and
    from nothing else; Terraform's jsonencode of the CIDRs is what the setting reads."""
    assert tf_setting(tf_block('resource "aws_lb" "gateway"'), "subnets") == "var.public_subnet_ids"
    subnets = tf_block('data "aws_subnet" "public"')
    assert tf_setting(subnets, "for_each") == "toset(var.public_subnet_ids)"
    assert tf_setting(terraform(), "trusted_proxies") == (
        "sort([for subnet in data.aws_subnet.public : subnet.cidr_block])"
    )
    assert gateway_container_settings()["ALPHAMALE_TRUSTED_PROXIES"] == (
        "jsonencode(local.trusted_proxies)"
    )
    monkeypatch.setenv("ALPHAMALE_TRUSTED_PROXIES", '["10.0.0.0/24","10.0.1.0/24"]')
    assert Settings().trusted_proxies == ["10.0.0.0/24", "10.0.1.0/24"]


def test_the_purge_runs_daily_as_the_gateways_task() -> None:
    """EventBridge Scheduler runs the gateway's task definition once a day, in a flexible window,
    with the command overridden to the purge, on the service's network; its role may run that
    task definition in this cluster and pass the task's two roles, nothing else."""
    schedule = tf_block('resource "aws_scheduler_schedule" "purge"')
    assert tf_setting(schedule, "schedule_expression") == "var.purge_schedule"
    every_day = tf_setting(tf_block('variable "purge_schedule"'), "default")
    assert re.fullmatch(r'"cron\(\d{1,2} \d{1,2} \* \* \? \*\)"', every_day), every_day
    assert tf_setting(schedule, "mode") == '"FLEXIBLE"'
    assert tf_setting(schedule, "arn") == '"arn:aws:scheduler:::aws-sdk:ecs:runTask"'
    assert tf_setting(schedule, "Cluster") == "aws_ecs_cluster.main.arn"
    assert tf_setting(schedule, "TaskDefinition") == "aws_ecs_task_definition.gateway.arn"
    assert tf_setting(schedule, "LaunchType") == '"FARGATE"'
    overrides = tf_setting(schedule, "ContainerOverrides")
    assert overrides == '[{ Name = "gateway", Command = ["python", "-m", "gateway.cli.purge"] }]'
    service = tf_block('resource "aws_ecs_service" "gateway"')
    for network, same in (("Subnets", "subnets"), ("SecurityGroups", "security_groups")):
        assert tf_setting(schedule, network) == tf_setting(service, same)
    assert tf_setting(schedule, "AssignPublicIp") == '"DISABLED"'

    assert tf_setting(schedule, "role_arn") == "aws_iam_role.purge_scheduler.arn"
    trust = tf_block('resource "aws_iam_role" "purge_scheduler"')
    assert 'Service = "scheduler.amazonaws.com"' in trust
    policy = tf_block('resource "aws_iam_role_policy" "purge_scheduler"')
    assert re.findall(r'Action\s*=\s*"([\w:]+)"', policy) == ["ecs:RunTask", "iam:PassRole"]
    assert re.findall(r"Resource\s*=\s*(.+)", policy) == [
        '"${aws_ecs_task_definition.gateway.arn_without_revision}:*"',
        "[var.task_execution_role_arn, var.gateway_task_role_arn]",
    ]


def test_the_purge_task_gets_both_retentions_and_the_secrets() -> None:
    """The task definition the service and the purge share carries both retentions and takes the
    signing key (with the other secrets) from Secrets Manager; S3 expires photos a week after
    the longer retention, as a backstop."""
    settings = gateway_container_settings()
    assert settings["ALPHAMALE_RETENTION_DAYS"] == "tostring(var.retention_days)"
    assert settings["ALPHAMALE_LEGACY_RETENTION_DAYS"] == "tostring(var.legacy_retention_days)"
    assert tf_setting(tf_block('variable "legacy_retention_days"'), "default") == "1"
    secrets = tf_block('resource "aws_ecs_task_definition" "gateway"').split("secrets = [")[1]
    assert '{ name = "ALPHAMALE_SIGNING_KEY", valueFrom = var.signing_key_secret_arn }' in secrets
    lifecycle = tf_block('resource "aws_s3_bucket_lifecycle_configuration" "objects"')
    assert "expiration { days = var.retention_days + 7 }" in lifecycle


OPS_PATHS = {"/metrics", "/docs", "/redoc", "/openapi.json"}


def test_the_public_listener_answers_ops_paths_itself() -> None:
    """/metrics, the docs and the OpenAPI document get a fixed 404 from the HTTPS listener, ahead
    of its forward (at most three patterns a condition, distinct priorities); HTTP only
    redirects to HTTPS: no listener of the public load balancer forwards anything else."""
    rule = tf_block('resource "aws_lb_listener_rule" "ops_not_public"')
    assert tf_setting(rule, "listener_arn") == "aws_lb_listener.https.arn"
    assert tf_setting(rule, "type") == '"fixed-response"'
    assert tf_setting(rule, "status_code") == '"404"'
    assert "path_pattern { values = each.value.paths }" in rule
    rule_line = r"^\s*\w+\s*=\s*\{ priority = (\d+), paths = (\[.*\]) \}$"
    rules = re.findall(rule_line, terraform(), re.M)
    paths = [json.loads(patterns) for _, patterns in rules]
    assert {path for patterns in paths for path in patterns} >= OPS_PATHS
    assert all(len(patterns) <= 3 for patterns in paths)
    assert len({priority for priority, _ in rules}) == len(rules)

    listeners = re.findall(r'resource "aws_lb_listener" "(\w+)"', terraform())
    public = [
        name
        for name in listeners
        if "aws_lb.gateway.arn" in tf_block(f'resource "aws_lb_listener" "{name}"')
    ]
    assert sorted(public) == ["http", "https"]
    http = tf_block('resource "aws_lb_listener" "http"')
    assert tf_setting(http, "type") == '"redirect"'
    assert (tf_setting(http, "protocol"), tf_setting(http, "port")) == ('"HTTP"', "80")
    redirect = http.split("redirect {")[1]
    assert (tf_setting(redirect, "protocol"), tf_setting(redirect, "port")) == ('"HTTPS"', '"443"')


def test_metrics_are_scraped_on_a_private_path() -> None:
    """The scraper reaches each task on its private address (one A record per task in a private
    DNS namespace of the VPC), through the gateway's security group from its own groups only."""
    service = tf_block('resource "aws_ecs_service" "gateway"')
    assert "registry_arn = aws_service_discovery_service.gateway.arn" in service
    assert tf_setting(service, "subnets") == "var.private_subnet_ids"
    discovery = tf_block('resource "aws_service_discovery_service" "gateway"')
    assert tf_setting(discovery, "type") == '"A"'
    namespace = tf_block('resource "aws_service_discovery_private_dns_namespace" "main"')
    assert tf_setting(namespace, "vpc") == "var.vpc_id"
    scrape = tf_block('resource "aws_security_group_rule" "gateway_metrics_scrape"')
    assert tf_setting(scrape, "for_each") == "toset(var.metrics_scraper_security_group_ids)"
    assert tf_setting(scrape, "source_security_group_id") == "each.value"
    assert (tf_setting(scrape, "from_port"), tf_setting(scrape, "to_port")) == ("8000", "8000")
    assert tf_setting(tf_block('variable "metrics_scraper_security_group_ids"'), "default") == "[]"


MODEL_KEYS = ["ALPHAMALE_MODEL_INFERENCE_KEY", "ALPHAMALE_MODEL_MANAGEMENT_KEY"]


def required(name: str) -> re.Pattern[str]:
    """Compose's interpolation of ``name`` that stops the stack when it is unset or empty."""
    return re.compile(rf"\$\{{{name}:\?[^}}]+\}}")


def test_compose_publishes_the_gateway_alone_and_torchserve_wants_its_keys() -> None:
    """Only the gateway publishes a port (on loopback); TorchServe runs the image's token-auth
    command on the private network with both keys required, which the gateway sends; no secret
    has a default (the signing key was `change-me`)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {name: s["ports"] for name, s in services.items() if "ports" in s} == {
        "gateway": ["127.0.0.1:8000:8000"]
    }
    torchserve, gateway = services["torchserve"], services["gateway"]
    assert torchserve["networks"] == ["backend"] and "command" not in torchserve
    image = (ROOT / "infra/docker/torchserve.Dockerfile").read_text().split("\nFROM ")[-1]
    command = json.loads(re.search(r"^CMD (\[.*?\])$", image.replace("\\\n", ""), re.M)[1])
    assert command[-3:] == ["0.0.0.0", "--token-auth", "--foreground"]
    for name in MODEL_KEYS:
        assert required(name).fullmatch(torchserve["environment"][name])
        assert gateway["environment"][name] == torchserve["environment"][name]
    for service in ("migrate", "gateway"):
        key = services[service]["environment"]["ALPHAMALE_SIGNING_KEY"]
        assert required("ALPHAMALE_SIGNING_KEY").fullmatch(key)
    assert "change-me" not in (ROOT / "docker-compose.yml").read_text()


def test_make_up_generates_the_stacks_secrets_once(tmp_path: Path) -> None:
    """`make up` on a fresh machine: its env file gets the three secrets (64 hex characters
    each, the file readable by its owner alone), and is kept once written."""
    env_file = tmp_path / "compose.env"
    make = ["make", "-s", f"COMPOSE_ENV={env_file}", str(env_file)]
    subprocess.run(make, cwd=ROOT, check=True)
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert sorted(values) == sorted(["ALPHAMALE_SIGNING_KEY", *MODEL_KEYS])
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in values.values())
    assert len(set(values.values())) == 3 and env_file.stat().st_mode & 0o777 == 0o600
    subprocess.run(make, cwd=ROOT, check=True)
    assert dict(line.split("=", 1) for line in env_file.read_text().splitlines()) == values
    makefile = (ROOT / "Makefile").read_text()
    assert "up: $(COMPOSE_ENV)" in makefile and "COMPOSE := docker compose --env-file" in makefile


def test_production_model_servers_take_the_gateways_inference_key() -> None:
    """Each box reads the inference key from Secrets Manager and hands it to the image's guard,
    publishing 8080 alone (no management key: the management API stays in the container); the
    gateway's task gets the same secret."""
    template = tf_block('resource "aws_launch_template" "model_server"')
    assert tf_setting(template, "inference_key_secret_arn") == "var.model_inference_key_secret_arn"
    settings = gateway_container_settings()
    assert settings["ALPHAMALE_MODEL_INFERENCE_KEY"] == "var.model_inference_key_secret_arn"
    assert "ALPHAMALE_MODEL_MANAGEMENT_KEY" not in settings
    boot = (TERRAFORM / "model_server_user_data.sh").read_text()
    assert '--secret-id "${inference_key_secret_arn}"' in boot
    runs = re.findall(r"^docker run .*$", boot, re.M)
    assert runs and all(
        re.findall(r"-p (\S+)", run) == ["8080:8080"]
        and "-e ALPHAMALE_MODEL_INFERENCE_KEY " in run
        and "MANAGEMENT" not in run
        for run in runs
    )
