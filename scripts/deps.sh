#!/usr/bin/env bash
# Installs the Debian packages ckube builds and tests with, when any is missing.
set -euo pipefail
packages=(
  build-essential clang pkg-config
  libgnutls28-dev libjansson-dev libyaml-dev libsqlite3-dev
  libcurl4-openssl-dev libssl-dev libcmocka-dev libclang-rt-14-dev
  etcd-server etcd-client curl openssl tzdata
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "ckube: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v kubectl >/dev/null; then
  echo "ckube: kubectl is not installed; the end-to-end tests need it" >&2
fi
