#!/usr/bin/env bash
# Installs the Debian packages Kiln and its tests use, when missing (needs root or sudo):
#   bubblewrap - the build sandbox (kiln build's default runner)
#   nginx      - a real Bazel HTTP remote cache for the tests
#   faketime   - varies the clock in the reproducibility test
#   docker-registry, skopeo, apache2-utils (htpasswd) - a real OCI registry and an independent client for the tests
#   git, tar, gzip - present on most machines
#   zip, unzip, python3 - OSV database archives made by independent tools in the tests
#   openssl        - the certificate of the registry's token service in the tests
set -euo pipefail
missing=()
for pair in bwrap:bubblewrap nginx:nginx faketime:faketime docker-registry:docker-registry skopeo:skopeo \
  htpasswd:apache2-utils git:git tar:tar gzip:gzip zip:zip unzip:unzip python3:python3 openssl:openssl; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
