#!/usr/bin/env bash
# Starts the control plane that build.sh built, on loopback only: etcd, kube-apiserver (RBAC,
# privileged pods allowed) and kube-controller-manager (Jobs and Deployments get status; there is
# no scheduler and no kubelet, so pods never run; scripts/sim-cluster adds both). The API server
# reaches kubelets at a node's InternalDNS address first: the simulated kubelet's log endpoint.
# Prints the kubeconfig path as its last line.
#
# Environment: CONTROL_PLANE_HOME (as build.sh), CONTROL_PLANE_RUN (runtime dir; default a new
# temporary one), ETCD_PORT (2379), APISERVER_PORT (6443), KCM_PORT (10257).
set -euo pipefail

HOME_DIR=${CONTROL_PLANE_HOME:-/var/tmp/cilium-cutover-control-plane}
BIN=$HOME_DIR/bin
RUN=${CONTROL_PLANE_RUN:-$(mktemp -d /tmp/cilium-cutover-cp.XXXXXX)}
ETCD_PORT=${ETCD_PORT:-2379}
APISERVER_PORT=${APISERVER_PORT:-6443}
KCM_PORT=${KCM_PORT:-10257}
for binary in etcd kube-apiserver kube-controller-manager; do
  [ -x "$BIN/$binary" ] || { echo "$BIN/$binary is missing: run scripts/control-plane/build.sh first" >&2; exit 1; }
done
mkdir -p "$RUN/pki" "$RUN/etcd" "$RUN/log"
cd "$RUN/pki"

# Certificates: a CA, the API server's serving certificate for 127.0.0.1, ServiceAccount keys, and
# an admin token.
if [ ! -f ca.crt ]; then
  quiet() { "$@" 2>/dev/null; }
  quiet openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=cilium-cutover-test-ca -keyout ca.key -out ca.crt
  quiet openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr
  printf 'subjectAltName=IP:127.0.0.1,IP:10.43.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
  quiet openssl x509 -req -days 30 -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -extfile apiserver.ext -out apiserver.crt
  quiet openssl genrsa -out sa.key 2048
  quiet openssl rsa -in sa.key -pubout -out sa.pub
  openssl rand -hex 24 >admin.token
  echo "$(cat admin.token),test-admin,test-admin,system:masters" >tokens.csv
fi
TOKEN=$(cat admin.token)

cat >"$RUN/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: { server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority-data: "$(base64 -w0 <ca.crt)" }
users:
  - name: admin
    user: { token: "$TOKEN" }
contexts:
  - name: test
    context: { cluster: test, user: admin }
current-context: test
KUBECONFIG
chmod 600 "$RUN/kubeconfig"

ready() { # url: until it answers 200, 120 s at most
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null --cacert ca.crt -H "Authorization: Bearer $TOKEN" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

"$BIN/etcd" --name test --data-dir "$RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-cluster "test=http://127.0.0.1:$((ETCD_PORT + 1))" --listen-metrics-urls "" >"$RUN/log/etcd.log" 2>&1 &
echo $! >"$RUN/etcd.pid"
ready "http://127.0.0.1:$ETCD_PORT/health" || { echo "etcd did not start; see $RUN/log/etcd.log" >&2; exit 1; }

"$BIN/kube-apiserver" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" --insecure-port=0 \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" --service-cluster-ip-range=10.43.0.0/16 --allow-privileged=true \
  --cert-dir="$RUN/pki" --tls-cert-file=apiserver.crt --tls-private-key-file=apiserver.key --client-ca-file=ca.crt \
  --token-auth-file=tokens.csv --authorization-mode=RBAC --kubelet-preferred-address-types=InternalDNS,InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file=sa.pub --service-account-signing-key-file=sa.key \
  --api-audiences=https://kubernetes.default.svc >"$RUN/log/kube-apiserver.log" 2>&1 &
echo $! >"$RUN/apiserver.pid"
ready "https://127.0.0.1:$APISERVER_PORT/readyz" || { echo "kube-apiserver did not start; see $RUN/log/kube-apiserver.log" >&2; exit 1; }

"$BIN/kube-controller-manager" --kubeconfig="$RUN/kubeconfig" --authentication-kubeconfig="$RUN/kubeconfig" \
  --authorization-kubeconfig="$RUN/kubeconfig" --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --port=0 --leader-elect=false \
  --service-account-private-key-file=sa.key --root-ca-file=ca.crt \
  --controllers='*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service,-attachdetach,-persistentvolume-binder,-persistentvolume-expander,-ttl,-bootstrapsigner,-tokencleaner' \
  >"$RUN/log/kube-controller-manager.log" 2>&1 &
echo $! >"$RUN/kcm.pid"
# Pods need the namespace's default ServiceAccount, which the controller manager creates.
ready "https://127.0.0.1:$APISERVER_PORT/api/v1/namespaces/default/serviceaccounts/default" ||
  { echo "kube-controller-manager did not start; see $RUN/log/kube-controller-manager.log" >&2; exit 1; }

echo "control plane running in $RUN (stop: scripts/control-plane/stop.sh $RUN)" >&2
echo "$RUN/kubeconfig"
