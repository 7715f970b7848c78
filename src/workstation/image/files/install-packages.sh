#!/bin/sh
# Installs packages.txt with apt on the running system (the Dockerfile's path; `nexora
# image build` reads the list itself and hands it to mmdebstrap).
#   install-packages.sh PACKAGES_TXT
# Names are chosen for this system's distribution (ID in /etc/os-release); see the syntax
# at the top of packages.txt.
set -eu
list=$1
. /etc/os-release
distro=$ID

names() {
  # Prints "apt <name>" or "debian <name>" per package for $distro; skips `-`.
  awk -v distro="$distro" '
    { sub(/#.*/, "") }
    NF == 0 { next }
    {
      name = $1
      for (i = 2; i <= NF; i++) {
        if (index($i, distro ":") == 1) name = substr($i, length(distro) + 2)
      }
      if (name == "-") next
      if (index(name, "debian/") == 1) print "debian", substr(name, 8)
      else print "apt", name
    }' "$list"
}

export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y --no-install-recommends "$@"; }

apt-get update
# shellcheck disable=SC2046
apt_install $(names | awk '$1 == "apt" { print $2 }')

from_debian=$(names | awk '$1 == "debian" { print $2 }')
if [ -n "$from_debian" ]; then
  # These have no usable package here (Ubuntu's chromium is a snap stub): take them from
  # Debian bookworm, pinned so that nothing else is ever taken from it unless it is
  # missing here.
  apt_install debian-archive-keyring
  cat >/etc/apt/sources.list.d/debian-bookworm.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  {
    printf 'Package: *\nPin: origin deb.debian.org\nPin-Priority: 1\n\n'
    for name in $from_debian; do printf 'Package: %s %s-*\nPin: origin deb.debian.org\nPin-Priority: 500\n\n' "$name" "$name"; done
  } >/etc/apt/preferences.d/nexora-debian
  apt-get update
  # shellcheck disable=SC2086
  apt_install $from_debian
fi
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
