# Installs the Debian packages a task needs, when they are missing. Source this file, then
# call ensure_packages PKG... As root it runs apt-get; otherwise it uses sudo if it can, or
# prints the command to run and fails.

# The toolchain and image libraries; the PostgreSQL server and its headers come with
# pg_config_for, for the version a script uses.
BUILD_PACKAGES="g++ make pkg-config libjpeg-dev libpng-dev libwebp-dev libavif-dev libdeflate-dev zlib1g-dev"
# chromium, chromium-driver and python3-selenium: the browser the display tests drive;
# tesseract-ocr and fonts-dejavu-core: the text that a redaction must leave unreadable.
TEST_PACKAGES="libgtest-dev python3-psycopg2 python3-numpy python3-scipy python3-pil python3-django postgresql-contrib xxd
    chromium chromium-driver python3-selenium libavif-bin tesseract-ocr fonts-dejavu-core"
FUZZ_PACKAGES="clang libclang-rt-dev"
# The Debian package gate: what pg_buildext and dpkg-buildpackage need; LINT_PACKAGES the
# source checks (run once, on the machine itself).
DEB_PACKAGES="build-essential debhelper dpkg-dev fakeroot git postgresql-server-dev-all"
LINT_PACKAGES="clang-format clang-tidy cppcheck"
GATE_PACKAGES="$DEB_PACKAGES $LINT_PACKAGES"
# What building PostgreSQL from Debian's source package needs (test/lib/build-postgres); the
# package it makes depends on the run-time libraries of these (PGRUN_LIBS: the libraries' name
# stems, whose package names differ between Debian releases, libicu72 and libicu76 say).
PGSRC_PACKAGES="gcc make bison flex pkg-config xz-utils dpkg-dev libssl-dev libicu-dev libxml2-dev liblz4-dev libzstd-dev zlib1g-dev"
PGRUN_LIBS="libssl-dev:libssl3 libicu-dev:libicu libxml2-dev:libxml2 liblz4-dev:liblz4 libzstd-dev:libzstd zlib1g-dev:zlib1g"

# What building Citus needs (test/lib/build-citus), besides a PostgreSQL 16 or later.
CITUS_PACKAGES="gcc make liblz4-dev libzstd-dev libkrb5-dev libssl-dev"

# The PostgreSQL major versions every server test runs on: the CI matrix
# (BYTEA_BLUR_PG_VERSIONS overrides the list for one run). Each comes to a machine in one of
# three ways (pg_provider): the machine's own Debian package (15 on Debian 12, 17 on Debian 13);
# built from a Debian source package the archive serves (test/lib/build-postgres: 18 from
# unstable, 15 from Debian 12 on a Debian 13 machine); or, for a version whose source Debian's
# archive does not serve, the Debian release that packages it, in a root of that release made
# with debootstrap (test/lib/release-root: 17 from Debian 13 on a Debian 12 machine), where
# its server tests run whole. Adding a version is adding it here and, if it needs a root, to
# PG_RELEASES.
PG_VERSIONS=${BYTEA_BLUR_PG_VERSIONS:-"15 17 18"}
# The Debian release whose own PostgreSQL each version is, for the versions whose source the
# archive does not serve (binary packages only).
PG_RELEASES="17:trixie"

# This machine's Debian release: bookworm, trixie, ...
debian_codename() {
    sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null
}

# The Debian archive this machine's apt reads (the address of its release's own suite), or
# BYTEA_BLUR_DEBIAN_MIRROR; debian_security_mirror likewise for the security archive
# (BYTEA_BLUR_DEBIAN_SECURITY_MIRROR; empty where the machine has none). Nothing in this
# project names an archive's host: a machine behind a local mirror or proxy works unchanged.
debian_mirror() {
    if [ -n "${BYTEA_BLUR_DEBIAN_MIRROR:-}" ]; then echo "${BYTEA_BLUR_DEBIAN_MIRROR%/}"; return; fi
    _apt_uri_of_suite "$(debian_codename)" && return
    echo "no Debian archive for $(debian_codename) in this machine's apt sources: set BYTEA_BLUR_DEBIAN_MIRROR" >&2
    return 1
}
debian_security_mirror() {
    if [ -n "${BYTEA_BLUR_DEBIAN_SECURITY_MIRROR:-}" ]; then echo "${BYTEA_BLUR_DEBIAN_SECURITY_MIRROR%/}"; return; fi
    _apt_uri_of_suite "$(debian_codename)-security" || true
}
_apt_uri_of_suite() { # SUITE
    # Without the Release files, which a new machine has not read yet: the suites as the
    # sources name them (a source may say "stable" where another says the codename).
    local uri
    uri=$(apt-get indextargets --no-release-info --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null |
        awk -v s="$1" '$1 == "deb" && $2 == s {print $3; exit}')
    if [ -z "$uri" ] && [[ $1 != *-security ]]; then
        uri=$(apt-get indextargets --no-release-info --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null |
            awk '$1 == "deb" && $2 ~ /^(stable|oldstable|testing)$/ {print $3; exit}')
    fi
    [ -n "$uri" ] && echo "${uri%/}"
}

# The PostgreSQL major version this machine's Debian release provides (15 on Debian 12, 17 on
# Debian 13), as postgresql-common tells it.
distro_pg_major() {
    ensure_packages postgresql-common >&2 || return 1
    env -u PG_SUPPORTED_VERSIONS -u DEB_PG_SUPPORTED_VERSIONS /usr/share/postgresql-common/supported-versions |
        tail -n 1
}

# The version a single-server script (the demo, the benchmarks, valgrind) uses: PG_MAJOR when
# set (PG_MAJOR=18 test/run-demo), else the distribution's own.
default_pg_major() {
    if [ -n "${PG_MAJOR:-}" ]; then echo "$PG_MAJOR"; else distro_pg_major; fi
}

# How PostgreSQL MAJOR comes to this machine: "package" (the Debian release's own), "build"
# (built from a Debian source package), or "root RELEASE" (that Debian release's own packages,
# in a root of it: the version's tests run there).
pg_provider() { # MAJOR
    local release
    if [ "$1" = "$(distro_pg_major)" ]; then echo package; return; fi
    release=$(tr ' ' '\n' <<<"$PG_RELEASES" | sed -n "s/^$1://p")
    if [ -n "$release" ] && [ "$release" != "$(debian_codename)" ]; then echo "root $release"; else echo build; fi
}

# The versions of the matrix that this machine runs itself (not in a root).
pg_versions_here() {
    local v
    for v in $PG_VERSIONS; do [[ $(pg_provider "$v") == root\ * ]] || echo "$v"; done | xargs
}

# Prints the pg_config of PostgreSQL MAJOR, installing that version first when it is missing:
# Debian's own packages, or a build of Debian's source package. A version that lives in a root
# of another Debian release has no pg_config here.
pg_config_for() { # MAJOR
    local provider
    provider=$(pg_provider "$1") || return 1
    case $provider in
        package)
            ensure_packages "postgresql-$1" "postgresql-server-dev-$1" >&2 &&
                echo "/usr/lib/postgresql/$1/bin/pg_config" ;;
        build) "$(dirname "${BASH_SOURCE[0]}")/build-postgres" "$1" ;;
        *) echo "PostgreSQL $1 comes from Debian ${provider#root }: its tests run in a root of that release (test/lib/release-root)" >&2
           return 1 ;;
    esac
}

# The Django versions the application's tests run on: the LTS releases users run, each from
# Debian: 3.2 (Debian 12's own), 4.2 (Debian 13's) and 5.2 (unstable's, with the asgiref it
# needs), the ones this machine's Debian does not install fetched as pure-Python packages by
# test/lib/fetch-python-debs; each with psycopg2, and 5.2 also with psycopg 3 (Debian 13's:
# Debian 12's 3.1.7 is older than the 3.1.8 that Django 4.2 and later require). Django 3.2 runs
# on Python up to 3.11 (its request parsing imports the cgi module that Python 3.13 removed):
# Debian 13's Python 3.13 runs 4.2 and 5.2.
# BYTEA_BLUR_DJANGO_VERSIONS overrides the list. Asked when needed: Python may not be installed
# yet when this file is sourced.
django_versions() {
    if [ -n "${BYTEA_BLUR_DJANGO_VERSIONS:-}" ]; then
        echo "$BYTEA_BLUR_DJANGO_VERSIONS"
    elif /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        echo "4.2 5.2 5.2+psycopg3"
    else
        echo "3.2 4.2 5.2 5.2+psycopg3"
    fi
}

# Prints the PYTHONPATH that brings Django VERSION[+psycopg3] (empty for the machine's own).
django_path_for() { # VERSION
    local fetch path="" own
    fetch="$(dirname "${BASH_SOURCE[0]}")/fetch-python-debs"
    case $1 in
        *+psycopg3) path=$("$fetch" trixie python3-psycopg python3-typing-extensions): || return 1 ;;
    esac
    own=$(dpkg-query -W -f='${Version}' python3-django 2>/dev/null | sed -n 's/^\([0-9]*:\)\{0,1\}\([0-9]*\.[0-9]*\).*/\2/p')
    case ${1%+psycopg3} in
        "$own") echo "${path%:}" ;;
        3.2) echo "$path$("$fetch" bookworm python3-django)" ;;
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

# A private apt configuration in BYTEA_BLUR_CACHE/apt-NAME that knows only the given sources
# (LINE: "deb SUITE" or "deb-src SUITE", read from this machine's Debian archive), for
# apt-get and apt-cache alike, as build-postgres and fetch-python-debs use it: apt knows only
# those archives and leaves the machine's own sources, lists, caches and lock alone. It accepts
# a suite's Release file past its Valid-Until date: unstable's is valid for a week only, and
# an archive mirror or snapshot that lags the machine's clock would otherwise refuse to read
# the lists at all. The archive's signatures are still checked. The lists are read again when
# they are older than a day. Sets PRIVATE_APT_DIR and the array PRIVATE_APT_OPTS.
private_apt() { # NAME LINE...
    local name=$1 mirror line
    shift
    local lines=("$@")
    mirror=$(debian_mirror) || return 1
    PRIVATE_APT_DIR=$(bytea_blur_cache)/apt-$name
    mkdir -p "$PRIVATE_APT_DIR/lists/partial"
    for line in "${lines[@]}"; do
        echo "${line% *} $mirror ${line#* } main"
    done >"$PRIVATE_APT_DIR/sources.list.new"
    PRIVATE_APT_OPTS=(-o Dir::Etc::sourcelist="$PRIVATE_APT_DIR/sources.list" -o Dir::Etc::sourceparts=/nonexistent
        -o Dir::State::Lists="$PRIVATE_APT_DIR/lists" -o APT::Sandbox::User=root -o Debug::NoLocking=1
        -o Acquire::Check-Valid-Until=false -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="")
    if ! cmp -s "$PRIVATE_APT_DIR/sources.list.new" "$PRIVATE_APT_DIR/sources.list" ||
        [ -z "$(find "$PRIVATE_APT_DIR/lists" -maxdepth 1 -name '*_Release' -mtime -1 2>/dev/null)" ]; then
        mv "$PRIVATE_APT_DIR/sources.list.new" "$PRIVATE_APT_DIR/sources.list"
        apt-get "${PRIVATE_APT_OPTS[@]}" update -qq >"$PRIVATE_APT_DIR/update.log" 2>&1 ||
            { cat "$PRIVATE_APT_DIR/update.log" >&2; echo "cannot read the package lists of: ${lines[*]}" >&2; return 1; }
    else
        rm -f "$PRIVATE_APT_DIR/sources.list.new"
    fi
}

# The counts of a runner's closing line "N passed, N failed[, N skipped]", the last line of LOG,
# as "PASSED FAILED SKIPPED" (SKIPPED empty when absent); nothing when the line is not there.
summary_counts() { # LOG
    tail -n 1 "$1" 2>/dev/null |
        sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p'
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
