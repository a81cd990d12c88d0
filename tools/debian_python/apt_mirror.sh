#!/usr/bin/env bash
# Print the Debian archive mirror this machine's apt already uses, read from its sources
# (one-line *.list and deb822 *.sources), so provision.sh names no mirror host of its own.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: tools/debian_python/apt_mirror.sh [--help] [--os-release FILE] [SOURCES-FILE...]

Prints the URI of the first enabled binary ("deb") source of the Debian archive, as apt reads
them: without SOURCES-FILEs, the files apt-get itself uses (apt-config's Dir::Etc::sourcelist,
then every *.list and *.sources in Dir::Etc::sourceparts, in name order). A source is the
Debian archive when it has the "main" component and its suite is this Debian release
(VERSION_CODENAME in FILE, default /etc/os-release) or one of Debian's suite names (stable,
testing, unstable, sid, ...), possibly with -updates or -backports; security archives
(-security, /updates) and other repositories are skipped. Exits 1, saying why, when the
machine is not Debian or no source qualifies.
USAGE
}

os_release=/etc/os-release
files=()
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --os-release) os_release="$2"; shift 2 ;;
    --) shift; files+=("$@"); break ;;
    -*) printf 'apt_mirror: unknown option: %s\n' "$1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done

os_field() {
  [[ -r "$os_release" ]] || return 0
  sed -n "s/^$1=//p" "$os_release" | tr -d "\"'" | head -n 1
}
distribution="$(os_field ID)"
codename="$(os_field VERSION_CODENAME)"
if [[ "$distribution" != debian ]]; then
  printf 'apt_mirror: this is not Debian (%s says ID=%s)\n' "$os_release" "${distribution:-nothing}" >&2
  exit 1
fi

if ((${#files[@]} == 0)); then
  sourcelist="" sourceparts=""
  eval "$(apt-config shell sourcelist Dir::Etc::sourcelist/f sourceparts Dir::Etc::sourceparts/d)"
  [[ -n "$sourcelist" && -f "$sourcelist" ]] && files+=("$sourcelist")
  if [[ -n "$sourceparts" && -d "$sourceparts" ]]; then
    while IFS= read -r -d '' file; do
      files+=("$file")
    done < <(find "$sourceparts" -maxdepth 1 -type f \( -name '*.list' -o -name '*.sources' \) \
      -print0 | sort -z)
  fi
fi

# One awk run over every file, in order: the name tells the format apart; the first match wins.
mirror="$(
  awk -v suites="$codename stable testing unstable sid oldstable oldoldstable experimental" '
    BEGIN {
      n = split(suites, names, " ")
      for (i = 1; i <= n; i++) debian[names[i]] = 1
    }
    function words(text, into) {
      gsub(/^[ \t]+|[ \t]+$/, "", text)
      return text == "" ? 0 : split(text, into, /[ \t]+/)
    }
    function qualifies(suite_list, components, count, list, i, base, wanted) {
      count = words(components, list)
      for (i = 1; i <= count; i++) wanted = wanted || list[i] == "main"
      if (!wanted) return 0
      count = words(suite_list, list)
      for (i = 1; i <= count; i++) {
        base = list[i]
        sub(/-(updates|backports)$/, "", base)
        if (base in debian) return 1
      }
      return 0
    }
    function found(uri) {
      # A usable archive URI (not cdrom:); apt-get download fetches from it.
      if (uri !~ /^[a-z0-9+]+:\/\// && uri !~ /^file:\//) return 0
      sub(/\/+$/, "", uri)
      print uri
      done = 1
      exit 0
    }
    function end_stanza(count, list, i) {
      if (!in_stanza) return
      in_stanza = 0
      if (tolower(field["enabled"]) == "no") return
      if ((" " field["types"] " ") !~ /[ \t]deb[ \t]/) return
      if (!qualifies(field["suites"], field["components"])) return
      count = words(field["uris"], list)
      for (i = 1; i <= count; i++) found(list[i])
    }
    FNR == 1 { end_stanza(); split("", field); key = "" }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^#/) next
      if ($0 ~ /^[ \t]*$/) { end_stanza(); split("", field); key = ""; next }
      if ($0 ~ /^[ \t]/) { if (key != "") field[key] = field[key] " " $0; next }
      colon = index($0, ":")
      if (!colon) next
      key = tolower(substr($0, 1, colon - 1))
      field[key] = substr($0, colon + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", field[key])
      in_stanza = 1
      next
    }
    {
      line = $0
      sub(/#.*/, "", line)
      gsub(/\[[^]]*\]/, " ", line)
      count = words(line, word)
      if (count < 4 || word[1] != "deb") next
      components = ""
      for (i = 4; i <= count; i++) components = components " " word[i]
      if (qualifies(word[3], components)) found(word[2])
    }
    END { if (!done) end_stanza() }
  ' "${files[@]}" /dev/null
)"
if [[ -z "$mirror" ]]; then
  printf 'apt_mirror: no enabled "deb" source of the Debian archive (main, suite %s) in: %s\n' \
    "${codename:-stable/testing/unstable}" "${files[*]:-no sources files}" >&2
  exit 1
fi
printf '%s\n' "$mirror"
