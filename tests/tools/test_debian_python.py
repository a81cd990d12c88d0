"""tools/debian_python: the Debian mirror comes from the machine's own apt sources.

``apt_mirror.sh`` reads one-line ``*.list`` and deb822 ``*.sources`` files as apt does;
``provision.sh --mirror`` shows what provisioning would download from. The hosts here are
made up: the project names no mirror of its own.
"""

from pathlib import Path
import subprocess

import pytest

ROOT = Path(__file__).resolve().parents[2]
APT_MIRROR = ROOT / "tools" / "debian_python" / "apt_mirror.sh"
PROVISION = ROOT / "tools" / "debian_python" / "provision.sh"
MIRROR = "http://mirror.example.net/debian"

DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n'
UBUNTU = "ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n"
SID = 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\n'  # no VERSION_CODENAME

DEB822 = f"""\
Types: deb
URIs: https://deb.thirdparty.example/node_20.x
Suites: nodistro
Components: main
Signed-By: /usr/share/keyrings/thirdparty.gpg

Types: deb
# a comment between fields
URIs: http://security.example.net/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example.net/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://sources-only.example.net/debian
Suites: bookworm
Components: main

types: deb deb-src
uris: {MIRROR}/
suites: bookworm
 bookworm-updates
components: contrib
 main non-free-firmware
signed-by: /usr/share/keyrings/debian-archive-keyring.gpg
"""

ONE_LINE = f"""\
# deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1]/ bookworm main
deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_]/ bookworm main
deb https://packages.thirdparty.example/apt cloud-sdk-bookworm main
deb-src http://sources-only.example.net/debian bookworm main
deb http://security.example.net/debian-security bookworm-security main
deb http://old-security.example.net/ bookworm/updates main
deb http://contrib-only.example.net/debian bookworm contrib
  deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] {MIRROR}/ bookworm main # here
deb http://later.example.net/debian bookworm main
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def apt_mirror(
    *files: Path, os_release: str = DEBIAN_12, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    release = write(tmp_path, "os-release", os_release)
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(APT_MIRROR), "--os-release", str(release), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env=env,
    )


def test_deb822_sources(tmp_path: Path) -> None:
    """Third-party, security, disabled and source-only stanzas are skipped; fields fold."""
    result = apt_mirror(write(tmp_path, "debian.sources", DEB822), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{MIRROR}\n"


def test_one_line_sources(tmp_path: Path) -> None:
    """cdrom, third-party, deb-src, security and contrib-only lines are skipped; options go."""
    result = apt_mirror(write(tmp_path, "sources.list", ONE_LINE), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{MIRROR}\n"


def test_the_first_file_with_an_archive_wins(tmp_path: Path) -> None:
    security_only = write(
        tmp_path,
        "sources.list",
        "deb http://security.example.net/debian-security bookworm-security main\n",
    )
    updates_only = write(
        tmp_path,
        "a.sources",
        f"Types: deb\nURIs: {MIRROR}\nSuites: bookworm-updates\nComponents: main\n",
    )
    later = write(tmp_path, "b.list", "deb http://later.example.net/debian bookworm main\n")
    result = apt_mirror(security_only, updates_only, later, tmp_path=tmp_path)
    assert result.stdout == f"{MIRROR}\n", result.stderr


@pytest.mark.parametrize("suite", ["sid", "unstable", "testing"])
def test_a_debian_suite_name_without_a_codename(tmp_path: Path, suite: str) -> None:
    sources = write(tmp_path, "sources.list", f"deb {MIRROR} {suite} main\n")
    result = apt_mirror(sources, os_release=SID, tmp_path=tmp_path)
    assert result.stdout == f"{MIRROR}\n", result.stderr


def test_another_release_is_not_this_machines_archive(tmp_path: Path) -> None:
    """A bookworm host's sources naming only an unknown release do not qualify."""
    sources = write(tmp_path, "sources.list", f"deb {MIRROR} hamm main\n")
    result = apt_mirror(sources, tmp_path=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no enabled" in result.stderr
    assert "bookworm" in result.stderr


def test_no_sources_at_all(tmp_path: Path) -> None:
    result = apt_mirror(write(tmp_path, "empty.sources", ""), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "no enabled" in result.stderr


def test_not_debian(tmp_path: Path) -> None:
    """Ubuntu's archive has no Debian forky packages: refuse rather than try it."""
    sources = write(tmp_path, "sources.list", "deb http://archive.example.com/ubuntu noble main\n")
    result = apt_mirror(sources, os_release=UBUNTU, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "not Debian" in result.stderr


def apt_config(tmp_path: Path) -> dict[str, str]:
    """An environment whose apt reads its sources from ``tmp_path`` (as apt-get would)."""
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    config = write(
        tmp_path,
        "apt.conf",
        f'Dir::Etc::sourcelist "{tmp_path / "sources.list"}";\nDir::Etc::sourceparts "{parts}";\n',
    )
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "APT_CONFIG": str(config)}


def test_without_files_it_reads_what_apt_reads(tmp_path: Path) -> None:
    """apt's own configuration names the files: sources.list, then the parts in name order."""
    env = apt_config(tmp_path)
    parts = tmp_path / "sources.list.d"
    write(parts, "debian.sources", DEB822)
    write(parts, "also.list", "deb http://first.example.net/debian bookworm main\n")
    write(parts, "ignored.list.disabled", "deb http://disabled.example.net/debian bookworm main\n")
    result = apt_mirror(tmp_path=tmp_path, env=env)
    assert result.stdout == "http://first.example.net/debian\n", result.stderr
    write(tmp_path, "sources.list", ONE_LINE.replace(MIRROR, "http://main.example.net/debian"))
    result = apt_mirror(tmp_path=tmp_path, env=env)
    assert result.stdout == "http://main.example.net/debian\n", result.stderr


def run_script(script: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [str(script), *args], capture_output=True, text=True, check=False, env=env, timeout=30
    )


def test_provision_uses_the_mirror_apt_uses_unless_overridden(tmp_path: Path) -> None:
    """Without the variable, the mirror is apt_mirror.sh's answer for this machine's apt.

    Compared with apt_mirror.sh itself, since the answer depends on the host (CI runs Ubuntu,
    whose archive is refused); the parsing is tested above with both formats.
    """
    env = apt_config(tmp_path)
    write(tmp_path / "sources.list.d", "debian.sources", DEB822)
    provisioned = run_script(PROVISION, "--mirror", env=env)
    direct = run_script(APT_MIRROR, env=env)
    assert (provisioned.returncode, provisioned.stdout) == (direct.returncode, direct.stdout)
    assert direct.stdout in {f"{MIRROR}\n", ""}
    override = {**env, "SEQUENCE_DEBIAN_MIRROR": "http://override.example.org/debian/"}
    result = run_script(PROVISION, "--mirror", env=override)
    assert result.stdout == "http://override.example.org/debian\n", result.stderr


def test_provision_says_how_to_go_on_without_a_mirror(tmp_path: Path) -> None:
    result = run_script(PROVISION, "--mirror", env=apt_config(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "SEQUENCE_DEBIAN_MIRROR" in result.stderr


def test_no_mirror_host_is_named() -> None:
    """What apt uses here is the one mirror; the scripts name none of their own."""
    for script in (APT_MIRROR, PROVISION):
        text = script.read_text(encoding="utf-8")
        assert "debian.org" not in text, script.name
