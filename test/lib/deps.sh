# Installs the Debian packages a task needs, when they are missing. Source this file, then
# call ensure_packages PKG... As root it runs apt-get; otherwise it uses sudo if it can, or
# prints the command to run and fails.

BUILD_PACKAGES="g++ make pkg-config postgresql-15 postgresql-server-dev-15 libjpeg-dev libpng-dev libdeflate-dev zlib1g-dev"
TEST_PACKAGES="libgtest-dev python3-psycopg2 python3-numpy python3-scipy python3-pil python3-django postgresql-contrib xxd"
FUZZ_PACKAGES="clang-14 libclang-rt-14-dev"
GATE_PACKAGES="build-essential debhelper dpkg-dev fakeroot clang-format clang-tidy cppcheck git"
# What building PostgreSQL from Debian's source package needs (test/lib/build-postgres).
PGSRC_PACKAGES="gcc make bison flex pkg-config xz-utils dpkg-dev libssl-dev libicu-dev libxml2-dev liblz4-dev libzstd-dev zlib1g-dev"
# What that build needs to run (the Depends of the package it makes).
PGRUN_PACKAGES="libc6 libssl3 libicu72 libxml2 liblz4-1 libzstd1 zlib1g"

# What building Citus needs (test/lib/build-citus), besides a PostgreSQL 16 or later.
CITUS_PACKAGES="gcc make liblz4-dev libzstd-dev libkrb5-dev libssl-dev"

# The PostgreSQL major versions every test runs on: the CI matrix. Debian 12 packages 15; the
# others are built from Debian's source packages (test/lib/build-postgres). Adding a version is
# adding it here (BYTEA_BLUR_PG_VERSIONS overrides the list for one run).
PG_VERSIONS=${BYTEA_BLUR_PG_VERSIONS:-"15 18"}
DEBIAN_PG_VERSION=15

# Prints the pg_config of PostgreSQL MAJOR, installing that version first when it is missing.
pg_config_for() { # MAJOR
    if [ "$1" = "$DEBIAN_PG_VERSION" ]; then
        ensure_packages "postgresql-$1" "postgresql-server-dev-$1" >&2 &&
            echo "/usr/lib/postgresql/$1/bin/pg_config"
    else
        "$(dirname "${BASH_SOURCE[0]}")/build-postgres" "$1"
    fi
}

# The Django versions the application's tests run on: Debian 12's own (3.2), and the LTS
# releases users run today, fetched as pure-Python packages from Debian 13 (4.2) and unstable
# (5.2, with the asgiref it needs) by test/lib/fetch-python-debs; each with psycopg2 (Debian
# 12's), and 5.2 also with psycopg 3 (Debian 13's; Debian 12's 3.1.7 is older than the 3.1.8
# that Django 4.2 and later require).
DJANGO_VERSIONS="3.2 4.2 5.2 5.2+psycopg3"

# Prints the PYTHONPATH that brings Django VERSION[+psycopg3] (empty for Debian 12's own).
django_path_for() { # VERSION
    local fetch path=""
    fetch="$(dirname "${BASH_SOURCE[0]}")/fetch-python-debs"
    case $1 in
        *+psycopg3) path=$("$fetch" trixie python3-psycopg python3-typing-extensions): || return 1 ;;
    esac
    case ${1%+psycopg3} in
        3.2) echo "${path%:}" ;;
        4.2) echo "$path$("$fetch" trixie python3-django)" ;;
        5.2) echo "$path$("$fetch" sid python3-django python3-asgiref)" ;;
        *) echo "no source for Django $1" >&2; return 1 ;;
    esac
}

# The environment of one Django run: PYTHONPATH, and what the tests check it brought.
django_env_for() { # VERSION
    local path
    path=$(django_path_for "$1") || return 1
    echo "PYTHONPATH=$path BB_DJANGO_EXPECT=${1%+psycopg3} BB_DJANGO_DRIVER=$([[ $1 == *+psycopg3 ]] && echo psycopg || echo psycopg2)"
}

# The folder for builds and downloads kept between runs, outside the clone.
bytea_blur_cache() {
    local dir=${BYTEA_BLUR_CACHE:-}
    if [ -z "$dir" ]; then
        if [ "$(id -u)" = 0 ]; then dir=/var/cache/bytea_blur; else dir=${XDG_CACHE_HOME:-$HOME/.cache}/bytea_blur; fi
    fi
    mkdir -p "$dir" && echo "$dir"
}

# The options of a private apt configuration in DIR (its sources.list and lists/ there), for
# apt-get and apt-cache alike, as build-postgres and fetch-python-debs use it: apt knows only
# those archives and leaves the machine's own sources, lists, caches and lock alone. It accepts
# a suite's Release file past its Valid-Until date: unstable's is valid for a week only, and
# an archive mirror or snapshot that lags the machine's clock (this project's CI reaches such
# a one) would otherwise refuse to read the lists at all. The archive's signatures are still
# checked. Sets the array PRIVATE_APT_OPTS.
private_apt_opts() {
    PRIVATE_APT_OPTS=(-o Dir::Etc::sourcelist="$1/sources.list" -o Dir::Etc::sourceparts=/nonexistent
        -o Dir::State::Lists="$1/lists" -o APT::Sandbox::User=root -o Debug::NoLocking=1
        -o Acquire::Check-Valid-Until=false -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="")
}

ensure_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing missing packages: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        # sudo without a password, or one that can ask for it on a terminal
        if command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
            sudo=sudo
        else
            echo "Run as root: apt-get install -y ${missing[*]}" >&2
            return 1
        fi
    fi
    # Quiet, and without debconf's notes about a missing apt-utils or terminal: a clean run
    # prints no warnings.
    local apt=(env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get -qq -o Dpkg::Use-Pty=0)
    # Maintainer scripts talk on stderr (policy-rc.d, dictionaries): kept unless apt fails.
    local log
    log=$(mktemp)
    if $sudo "${apt[@]}" update >"$log" 2>&1 &&
        $sudo "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        rm -f "$log"
    else
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
}

# Builds and installs the extension into the PostgreSQL that PG_CONFIG names (default: the
# pg_config on PATH). The Makefile rebuilds everything when PG_CONFIG changes.
build_and_install() {
    local werror=${1:-0}
    local config=${PG_CONFIG:-pg_config}
    make -s WERROR="$werror" PG_CONFIG="$config" >/dev/null || return 1
    if [ -w "$("$config" --pkglibdir)" ]; then
        make -s install PG_CONFIG="$config" >/dev/null
    else
        sudo make -s install PG_CONFIG="$config" >/dev/null
    fi
}
