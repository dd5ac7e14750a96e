#!/usr/bin/env bash
# Installs the Debian packages Kiln and its tests use, when missing (needs root or sudo):
#   bubblewrap - the build sandbox (kiln build's default runner)
#   nginx      - a real Bazel HTTP remote cache for the tests
#   faketime   - varies the clock in the reproducibility test
#   docker-registry, skopeo, apache2-utils (htpasswd) - a real OCI registry and an independent client for the tests
#   git, tar, gzip - present on most machines
#   zip, unzip, python3 - OSV database archives made by independent tools in the tests
#   openssl        - the certificate of the registry's token service in the tests
#   postgresql-15  - throwaway PostgreSQL clusters for the store and queue tests (initdb and pg_ctl only: the
#                    install creates no cluster and starts no server)
#   prometheus, prometheus-alertmanager - promtool and amtool check the generated rules and Alertmanager config
#                    (installing starts no service)
set -euo pipefail
missing=()
for pair in bwrap:bubblewrap nginx:nginx faketime:faketime docker-registry:docker-registry skopeo:skopeo \
  htpasswd:apache2-utils promtool:prometheus amtool:prometheus-alertmanager git:git tar:tar gzip:gzip zip:zip unzip:unzip python3:python3 openssl:openssl; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
  # Without this, the package would create the "main" cluster and start a server on port 5432.
  $sudo mkdir -p /etc/postgresql-common
  [ -e /etc/postgresql-common/createcluster.conf ] ||
    echo 'create_main_cluster = false' | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$sudo apt-get update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold install -y -qq "${missing[@]}"
