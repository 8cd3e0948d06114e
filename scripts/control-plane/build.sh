#!/usr/bin/env bash
# Builds a real Kubernetes control plane for the integration tests from Debian 12's archive only
# (the machine's own apt sources; no other download): etcd 3.4 from the etcd-server package, and
# kube-apiserver + kube-controller-manager v1.20.2 from Debian's "kubernetes" source package,
# compiled with Debian's Go 1.19. About 5 minutes on 2 cores the first time; the binaries are
# cached in $CONTROL_PLANE_HOME (outside the repository), so later runs return at once.
#
# Go 1.18+ crashes the reflect2 v1.0.1 vendored by Kubernetes 1.20 (every create panics in the
# JSON decoder); Debian's reflect2 1.0.2 and json-iterator 1.1.12 replace the vendored copies, the
# same upgrade upstream made for Go 1.18.
set -euo pipefail

HOME_DIR=${CONTROL_PLANE_HOME:-/var/tmp/cilium-cutover-control-plane}
BIN=$HOME_DIR/bin
WORK=$HOME_DIR/work
K8S=v1.20.2
K8S_DEB=1.20.5+really1.20.2-1.1+deb12u1
log() { echo "[control-plane build] $*" >&2; }

have() { "$BIN/$1" --version 2>/dev/null | grep -q "$2"; }
if have kube-apiserver "Kubernetes $K8S" && have kube-controller-manager "Kubernetes $K8S" && have etcd 'etcd Version'; then
  log "already built in $BIN"
  exit 0
fi

if ! command -v dpkg-source >/dev/null || ! command -v rsync >/dev/null || ! command -v make >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends dpkg-dev rsync make >/dev/null
fi

# A private apt state under $WORK, with deb and deb-src lines taken from the machine's own sources,
# so nothing is installed system-wide and /etc/apt is not touched.
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/pkgs" "$BIN"
{
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: print one deb and one deb-src line per URI/suite.
    awk '
      /^URIs:/ { uri = $2 }
      /^Suites:/ { n = split(substr($0, index($0, $2)), suites, " ") }
      /^Components:/ { comps = substr($0, index($0, $2)) }
      /^$/ { flush() }
      END { flush() }
      function flush(  i) {
        if (uri != "" && n > 0) for (i = 1; i <= n; i++) {
          print "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] " uri " " suites[i] " " comps
          print "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] " uri " " suites[i] " " comps
        }
        uri = ""; n = 0
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -E '^deb ' "$f" | sed 'p; s/^deb /deb-src /'
  done
} | sort -u >"$WORK/apt/sources.list"
: >"$WORK/apt/status"
APT=(apt-get -qq -o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache" -o "Dir::State::Status=$WORK/apt/status"
  -o APT::Sandbox::User=root -o Debug::NoLocking=1)
"${APT[@]}" update
cd "$WORK/pkgs"

if ! have etcd 'etcd Version'; then
  "${APT[@]}" download etcd-server
  dpkg-deb -x etcd-server_*.deb etcd-root
  install -m 0755 etcd-root/usr/bin/etcd "$BIN/etcd"
fi
log "$("$BIN/etcd" --version | head -1)"

if [ ! -x go-root/usr/lib/go-1.19/bin/go ]; then
  "${APT[@]}" download golang-1.19-go golang-1.19-src
  for deb in golang-1.19-go_*.deb golang-1.19-src_*.deb; do dpkg-deb -x "$deb" go-root; done
fi
export GOROOT=$WORK/pkgs/go-root/usr/lib/go-1.19 PATH=$WORK/pkgs/go-root/usr/lib/go-1.19/bin:$PATH

if [ ! -d kubernetes ]; then
  "${APT[@]}" source --download-only "kubernetes=$K8S_DEB" || "${APT[@]}" source --download-only kubernetes
  dsc=$(printf '%s\n' kubernetes_*.dsc | sort | tail -n 1)
  dpkg-source -q -x "$dsc" kubernetes 2>/dev/null || true
  "${APT[@]}" download golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev
  for deb in golang-github-modern-go-reflect2-dev_*.deb golang-github-json-iterator-go-dev_*.deb; do dpkg-deb -x "$deb" gocode; done
  for module in github.com/modern-go/reflect2 github.com/json-iterator/go; do
    rsync -a --delete --exclude '*_test.go' --exclude 'test*/' --exclude '.*' "gocode/usr/share/gocode/src/$module/" "kubernetes/vendor/$module/"
  done
fi

cat >"$WORK/version.env" <<VERSION
KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'
KUBE_GIT_TREE_STATE='clean'
KUBE_GIT_VERSION='$K8S'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
VERSION
log "building kube-apiserver and kube-controller-manager (about 5 minutes)"
mkdir -p "$WORK/home"
(
  cd kubernetes
  KUBE_GIT_VERSION_FILE=$WORK/version.env GOPROXY=off GOFLAGS='' GO111MODULE='' CGO_ENABLED=0 HOME=$WORK/home \
    nice make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log" >&2
    exit 1
  }
)
for binary in kube-apiserver kube-controller-manager; do
  install -m 0755 "kubernetes/_output/bin/$binary" "$BIN/$binary"
  log "$("$BIN/$binary" --version)"
done
rm -rf "$WORK"
log "done: $BIN"
