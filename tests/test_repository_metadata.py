"""Offline equivalents of hassfest and the HACS action (GitHub runs the real ones).

These check what those validators would reject: manifest keys, order and values, hacs.json keys,
strings.json and translations/en.json agreeing, icons.json and services.yaml shapes, brand images.
"""

import ast
from importlib import metadata
import json
from pathlib import Path
import re
import sys
from typing import Any

from PIL import Image
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "sequence"

MANIFEST_REQUIRED = {
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "requirements",
    "version",
}
MANIFEST_ALLOWED = MANIFEST_REQUIRED | {
    "after_dependencies",
    "dependencies",
    "loggers",
    "single_config_entry",
}
HACS_ALLOWED = {
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "name",
    "persistent_directory",
    "render_readme",
    "zip_release",
}
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
CALVER_HA = re.compile(r"^20\d\d\.(1[0-2]|[1-9])\.\d+$")
MDI = re.compile(r"^mdi:[a-z0-9-]+$")
URL = re.compile(r"https?://")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Map every leaf of a nested dict to its dotted key."""
    leaves: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            leaves |= flatten(value, f"{dotted}.")
        else:
            leaves[dotted] = value
    return leaves


@pytest.fixture(name="manifest")
def manifest_fixture() -> dict[str, Any]:
    return load_json(INTEGRATION / "manifest.json")


def test_manifest_keys(manifest: dict[str, Any]) -> None:
    assert manifest.keys() >= MANIFEST_REQUIRED
    assert manifest.keys() <= MANIFEST_ALLOWED, manifest.keys() - MANIFEST_ALLOWED


def test_manifest_order_domain_name_then_alphabetical(manifest: dict[str, Any]) -> None:
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_values(manifest: dict[str, Any]) -> None:
    assert manifest["domain"] == INTEGRATION.name
    assert SEMVER.match(manifest["version"])
    assert manifest["iot_class"] == "cloud_polling"
    assert manifest["integration_type"] == "service"
    assert manifest["config_flow"] is True
    assert manifest["codeowners"]
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://")
        assert "home-assistant.io" not in manifest[key]
    assert all("==" in requirement for requirement in manifest["requirements"])
    assert (INTEGRATION / "config_flow.py").is_file()


def _distribution(requirement: str) -> str:
    """The normalized distribution name of a requirement ("orjson==3.11.9" -> "orjson")."""
    name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_import_is_declared_or_home_assistants(manifest: dict[str, Any]) -> None:
    """Dependency transparency: a third-party import is in requirements or Home Assistant's own.

    orjson and aiohttp are Home Assistant's requirements (pinned differently by 2026.10 and
    2026.11); declaring them would pin them against Home Assistant's own constraints.
    """
    provided = {_distribution(r) for r in metadata.requires("homeassistant") or ()}
    declared = {_distribution(r) for r in manifest["requirements"]}
    distributions = metadata.packages_distributions()
    imported: set[str] = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.partition(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"homeassistant", "__future__"}
    assert {"aiohttp", "orjson"} <= third_party
    for module in sorted(third_party):
        owners = {_distribution(name) for name in distributions.get(module, [module])}
        assert owners & (provided | declared), f"{module} is neither declared nor Home Assistant's"


def test_manifest_version_matches_pyproject(manifest: dict[str, Any]) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{manifest["version"]}"' in pyproject


def test_hacs_json() -> None:
    hacs = load_json(ROOT / "hacs.json")
    assert hacs.keys() <= HACS_ALLOWED, hacs.keys() - HACS_ALLOWED
    assert isinstance(hacs["name"], str)
    assert hacs["name"]
    if "homeassistant" in hacs:
        assert CALVER_HA.match(hacs["homeassistant"])
    if "country" in hacs:
        assert hacs["country"] in ("US", ["US"])


def test_hacs_minimum_is_the_tested_home_assistant() -> None:
    """``homeassistant`` in hacs.json is the oldest release the suite runs on: the pinned one."""
    hacs = load_json(ROOT / "hacs.json")
    pins = (ROOT / "requirements_test.txt").read_text(encoding="utf-8")
    pinned = re.search(r"^homeassistant==(\S+)$", pins, re.MULTILINE)
    assert pinned
    assert hacs["homeassistant"] == pinned.group(1)
    assert hacs["render_readme"] is True
    assert hacs["country"] == "US"


def test_strings_and_english_translation_are_identical() -> None:
    strings = load_json(INTEGRATION / "strings.json")
    english = load_json(INTEGRATION / "translations" / "en.json")
    assert flatten(strings).keys() == flatten(english).keys()
    assert strings == english


def test_strings_have_no_raw_urls_or_empty_values() -> None:
    for key, value in flatten(load_json(INTEGRATION / "strings.json")).items():
        assert isinstance(value, str), key
        assert value.strip(), key
        assert not URL.search(value), f"{key}: use a placeholder for URLs"


def test_icons_json_shape() -> None:
    path = INTEGRATION / "icons.json"
    platforms = {"binary_sensor.py", "button.py", "sensor.py"} & {
        p.name for p in INTEGRATION.iterdir()
    }
    if not path.exists():
        assert not platforms, "entity platforms need icons.json for their icon translations"
        return
    icons = load_json(path)
    assert icons.keys() <= {"entity", "services"}
    for platform, entities in icons.get("entity", {}).items():
        for key, spec in entities.items():
            assert spec.keys() <= {"default", "state", "range"}, (platform, key)
            assert MDI.match(spec["default"]), (platform, key)
            for state_icon in spec.get("state", {}).values():
                assert MDI.match(state_icon), (platform, key)
    for service, spec in icons.get("services", {}).items():
        assert MDI.match(spec["service"]), service


def test_services_yaml_shape() -> None:
    path = INTEGRATION / "services.yaml"
    registers = any(
        re.search(r"async_register(_admin_service)?\(", module.read_text(encoding="utf-8"))
        for module in INTEGRATION.rglob("*.py")
    )
    if not path.exists():
        assert not registers, "actions must be described in services.yaml"
        return
    services = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert registers, "services.yaml describes actions the integration registers"
    assert isinstance(services, dict)
    for name, spec in services.items():
        assert re.match(r"^[a-z_]+$", name)
        assert (spec or {}).keys() <= {"fields", "target"}


@pytest.mark.parametrize(
    ("name", "size", "required"),
    [
        ("icon.png", (256, 256), True),
        ("icon@2x.png", (512, 512), True),
        ("dark_icon.png", (256, 256), False),
        ("dark_icon@2x.png", (512, 512), False),
        ("logo.png", None, False),
        ("logo@2x.png", None, False),
    ],
)
def test_brand_images(name: str, size: tuple[int, int] | None, required: bool) -> None:
    path = INTEGRATION / "brand" / name
    assert path.exists() or not required, f"{name} is required"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA", "brand images need a transparent background"
        assert image.getpixel((0, 0))[3] == 0, "corners should be transparent"
        if size is not None:
            assert image.size == size
