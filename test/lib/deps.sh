# Installs the Debian packages a task needs, when they are missing. Source this file, then
# call ensure_packages PKG... As root it runs apt-get; otherwise it uses sudo if it can, or
# prints the command to run and fails.

BUILD_PACKAGES="g++ make pkg-config postgresql-15 postgresql-server-dev-15 libjpeg-dev libpng-dev libdeflate-dev zlib1g-dev"
TEST_PACKAGES="libgtest-dev python3-psycopg2 python3-numpy python3-scipy python3-pil python3-django postgresql-contrib xxd"
FUZZ_PACKAGES="clang-14 libclang-rt-14-dev"
GATE_PACKAGES="debhelper dpkg-dev fakeroot clang-format clang-tidy cppcheck git"

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
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=sudo
        else
            echo "Run as root: apt-get install -y ${missing[*]}" >&2
            return 1
        fi
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Builds and installs the extension into the PostgreSQL found by pg_config.
build_and_install() {
    local werror=${1:-0}
    make -s WERROR="$werror" >/dev/null || return 1
    if [ -w "$(pg_config --pkglibdir)" ]; then
        make -s install >/dev/null
    else
        sudo make -s install >/dev/null
    fi
}
