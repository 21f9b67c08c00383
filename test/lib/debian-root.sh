# Minimal Debian roots made with debootstrap, and commands run inside them: the fresh machines
# of test/fresh-machine and the release roots of test/lib/release-root. Source after deps.sh;
# everything here needs root.

# Makes DIR a minimal root of Debian RELEASE (debootstrap --variant=minbase, plus the packages
# INCLUDE lists, comma-separated), unless it is one already: a root is complete only with its
# marker, written last. Its apt sources are this machine's Debian archive: the release, its
# updates and its security archive. Package scripts start no services in it (a policy-rc.d, as
# in Debian's container images: the postgresql package would otherwise start a cluster on port
# 5432 of the machine). Downloaded packages are kept in DEBS and reused.
debian_root_make() { # RELEASE DIR INCLUDE DEBS
    local release=$1 dir=$2 include=$3 debs=$4 mirror security
    [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$release $include" ] && return 0
    ensure_packages debootstrap || return 1
    mirror=$(debian_mirror) || return 1
    security=$(debian_security_mirror)
    rm -rf "$dir"
    mkdir -p "$debs" "$(dirname "$dir")"
    echo "debootstrap $release (minbase + $include) into $dir" >&2
    debootstrap --variant=minbase --include="$include" --cache-dir="$debs" "$release" "$dir" "$mirror" \
        >"$dir.log" 2>&1 || { tail -30 "$dir.log" >&2; return 1; }
    {
        echo "deb $mirror $release main"
        echo "deb $mirror $release-updates main"
        [ -z "$security" ] || echo "deb $security $release-security main"
    } >"$dir/etc/apt/sources.list"
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    rm -f "$dir/var/cache/apt/archives/"*.deb
    echo "$release $include" >"$dir/.complete"
}

# Runs COMMAND (a bash command line) in the root DIR as USER from HOME, from a login shell with a
# clean environment (ENV: more NAME=VALUE words), inside a private mount and PID namespace:
# whatever it mounts and every process it starts are gone when it ends, also when it fails or is
# interrupted. The root gets proc, sys, the machine's /dev, its own /dev/shm, DEBS as apt's
# package cache, the machine's name and resolver, and:
#   ROOT_TMP   a folder of the machine mounted as the root's /tmp (default: a new tmpfs)
#   ROOT_BINDS more mounts, "SOURCE:TARGET[:ro]" words (TARGET inside the root, made if missing)
debian_root_run() { # DIR DEBS USER HOME COMMAND [ENV...]
    local dir=$1 debs=$2 user=$3 home=$4 command=$5
    shift 5
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    # What Debian's installer writes and debootstrap does not: the host's name resolves (sudo
    # warns on every call otherwise).
    hostname >"$dir/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        "$(hostname)" >"$dir/etc/hosts"
    # unshare makes every mount of the new namespace private, which needs / to be a mount
    # point; inside a chroot (a release root made within test/fresh-machine's Debian root) it is
    # not, and the mounts are left as they are: private already, as the outer unshare made them.
    local propagation=()
    unshare --mount true 2>/dev/null || propagation=(--propagation unchanged)
    unshare --mount "${propagation[@]}" --pid --fork --kill-child -- bash -c '
        set -e
        dir=$1 debs=$2 user=$3 home=$4 command=$5 tmp=$6 binds=$7
        shift 7
        mount --make-rprivate / 2>/dev/null || true # unshare makes them private too
        # the binds first: one of / must not hold the mounts made below
        for b in $binds; do
            IFS=: read -r src dst mode <<<"$b"
            mkdir -p "$dir$dst"
            mount --rbind "$src" "$dir$dst"
            [ "$mode" != ro ] || mount -o remount,bind,ro "$dir$dst"
        done
        mount -t proc proc "$dir/proc"
        mount -t sysfs sysfs "$dir/sys"
        mount --rbind /dev "$dir/dev"
        mount -t tmpfs -o mode=1777 tmpfs "$dir/dev/shm"
        if [ -n "$tmp" ]; then mount --rbind "$tmp" "$dir/tmp"; else mount -t tmpfs -o mode=1777 tmpfs "$dir/tmp"; fi
        mount --bind "$debs" "$dir/var/cache/apt/archives"
        exec chroot "$dir" /usr/bin/env -i HOME="$home" USER="$user" TERM=dumb LANG=C.UTF-8 \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" \
            runuser -u "$user" -- bash -lc "cd && $command" </dev/null
    ' debian-root "$dir" "$debs" "$user" "$home" "$command" "${ROOT_TMP:-}" "${ROOT_BINDS:-}" "$@"
}
