#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian, when they are missing:
# PostgreSQL server binaries (the tests start a private cluster on 127.0.0.1).
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing test dependencies from Debian: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
