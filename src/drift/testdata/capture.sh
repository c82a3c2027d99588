#!/usr/bin/env bash
# Captures the live objects detect-drift.test.ts reads, with their managedFields, from a real API
# server: each scenario applies a manifest as Ferry does (server-side apply, field manager "ferry"),
# changes it as people and controllers do, and saves `kubectl get -o json`.
#
#   B=$(scripts/control-plane build) && scripts/control-plane up /tmp/drift-cp --clusters 1
#   KUBECONFIG=/tmp/drift-cp/kubeconfig KUBECTL=$B/kubectl src/drift/testdata/capture.sh
#   scripts/control-plane down /tmp/drift-cp
set -euo pipefail
cd "$(dirname "$0")"
: "${KUBECONFIG:?kubeconfig of the control plane}" "${KUBECTL:?path to kubectl}"
k() { "$KUBECTL" "$@"; }
NS=shop
OTHER_INVENTORY=shop/ferry-staging-9876543210

# fresh MANIFEST: deletes the object, applies it again as Ferry does and waits until its controller
# has seen it, so each scenario starts from a clean release.
fresh() {
  k delete -f "$1" --ignore-not-found --wait=true >/dev/null
  k apply --server-side --field-manager=ferry --force-conflicts -f "$1" >/dev/null
  settle "$1"
}

# settle MANIFEST: waits for a Deployment's controller to observe its latest generation.
settle() {
  if [ "$(jq -r .kind "$1")" = Deployment ]; then
    local gen
    gen=$(k get -f "$1" -o jsonpath='{.metadata.generation}')
    k wait -f "$1" --for=jsonpath='{.status.observedGeneration}'="$gen" --timeout=30s >/dev/null
  fi
}

# save MANIFEST NAME: writes the live object to NAME.json.
save() {
  settle "$1"
  k get -f "$1" -o json --show-managed-fields | jq --sort-keys . >"$2.json"
  echo "captured $2.json" >&2
}

# edit MANIFEST MANAGER PATCH: a strategic merge patch as `kubectl edit` sends it.
edit() { k patch -f "$1" --field-manager="$2" --type=strategic -p "$3" >/dev/null; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# A namespace left terminating by the last run takes no new objects.
k wait --for=delete "namespace/$NS" --timeout=120s >/dev/null 2>&1 || true
k create namespace "$NS" --dry-run=client -o yaml | k apply --server-side --field-manager=ferry -f - >/dev/null

D=deployment.manifest.json
fresh $D && save $D deployment-in-sync

fresh $D && k scale -f $D --replicas=5 >/dev/null && save $D deployment-scaled

fresh $D && k set env -f $D LOG_LEVEL=debug >/dev/null && save $D deployment-set-env

fresh $D
edit $D kubectl-edit '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.example/shop/web:1.4.3-hotfix","resources":{"requests":{"cpu":"1"}},"env":[{"name":"REGION","$patch":"delete"}]}]}}}}'
save $D deployment-edited

# Edited away and back: the values are Ferry's again though kubectl-edit now owns them.
fresh $D
edit $D kubectl-edit '{"spec":{"replicas":4,"template":{"spec":{"containers":[{"name":"web","resources":{"requests":{"cpu":"2"}}}]}}}}'
edit $D kubectl-edit '{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","resources":{"requests":{"cpu":"500m"}}}]}}}}'
save $D deployment-edited-back

fresh $D
jq '.spec.template.spec.containers[0].image = "registry.example/shop/web:1.5.0-rc1"' $D >$TMP/csa.json
k apply -f $TMP/csa.json >/dev/null
save $D deployment-client-side-applied

# Another applier forces replicas and applies a label with Ferry's own value (shared ownership).
fresh $D
jq -n '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "web", namespace: "shop", labels: {team: "checkout"}}, spec: {replicas: 4}}' |
  k apply --server-side --field-manager=hotfix --force-conflicts -f - >/dev/null
save $D deployment-force-applied

fresh $D && k label -f $D owner=alice >/dev/null && save $D deployment-labelled

fresh $D && k label -f $D --overwrite team=payments >/dev/null && save $D deployment-relabelled

fresh $D && k label -f $D team- >/dev/null && save $D deployment-unlabelled

fresh $D && k annotate -f $D ferry.dev/inventory- >/dev/null && save $D deployment-unannotated

# A mutating webhook's work, done by hand: a sidecar, an env var and a pod annotation Ferry never set.
fresh $D
edit $D sidecar-injector '{"spec":{"template":{"metadata":{"annotations":{"sidecar.example/status":"injected"}},"spec":{"containers":[{"name":"web","env":[{"name":"PROXY_PORT","value":"15001"}]},{"name":"proxy","image":"registry.example/proxy:1.30","ports":[{"containerPort":15001}]}]}}}}'
save $D deployment-sidecar

fresh $D && k rollout restart -f $D >/dev/null && save $D deployment-restarted

# managedFields reset (`[{}]`): the server tracks no owner at all until the next apply.
fresh $D
k patch -f $D --type=merge -p '{"metadata":{"managedFields":[{}]}}' >/dev/null
k scale -f $D --replicas=5 >/dev/null
edit $D kubectl-edit '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.example/shop/web:1.4.3-hotfix"}]}}}}'
save $D deployment-fields-reset

fresh $D && k annotate -f $D ferry.dev/drift=ignore >/dev/null && k scale -f $D --replicas=6 >/dev/null && save $D deployment-ignored

fresh $D
jq --arg inv "$OTHER_INVENTORY" '.metadata.annotations["ferry.dev/inventory"] = $inv' $D |
  k apply --server-side --field-manager=ferry --force-conflicts -f - >/dev/null
save $D deployment-taken-over

# The manifest sets no replicas: an autoscaler sets them through the scale subresource (a PUT, as
# the HPA controller does).
W=deployment-worker.manifest.json
fresh $W
jq -n '{apiVersion: "autoscaling/v1", kind: "Scale", metadata: {name: "worker", namespace: "shop"}, spec: {replicas: 7}}' >$TMP/scale.json
k replace --raw "/apis/apps/v1/namespaces/$NS/deployments/worker/scale?fieldManager=horizontal-pod-autoscaler" -f $TMP/scale.json >/dev/null
save $W deployment-autoscaled

C=configmap.manifest.json
fresh $C
jq '.data.FEATURES = "search" | .data.EXTRA = "added by hand"' $C >$TMP/csa.json
k apply -f $TMP/csa.json >/dev/null
save $C configmap-client-side-applied

fresh $C && k patch -f $C --field-manager=kubectl-edit --type=json -p '[{"op":"remove","path":"/data/LOG_FORMAT"}]' >/dev/null && save $C configmap-key-removed

# Finalizers are a set (`v:` items): another manager adds one, or removes Ferry's.
F=configmap-flags.manifest.json
unfinalize() { k patch -f $F --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true; }
unfinalize && fresh $F
k patch -f $F --field-manager=kubectl-edit --type=json -p '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/backup"}]' >/dev/null
save $F configmap-flags-finalizer-added
unfinalize && fresh $F
k patch -f $F --field-manager=kubectl-edit --type=json -p '[{"op":"remove","path":"/metadata/finalizers/0"}]' >/dev/null
save $F configmap-flags-finalizer-removed
unfinalize

S=secret.manifest.json
fresh $S && save $S secret-in-sync

fresh $S
api_token=$(printf 'tok-2222-bravo' | base64)
db_password=$(printf 'hunter3-wrong-horse' | base64)
new_key=$(printf 'added-by-hand' | base64)
jq -n --arg a "$api_token" --arg d "$db_password" --arg n "$new_key" '{data: {API_TOKEN: $a, DB_PASSWORD: $d, NEW_KEY: $n}}' >$TMP/patch.json
k patch -f $S --field-manager=kubectl-edit --type=merge --patch-file=$TMP/patch.json >/dev/null
save $S secret-edited

fresh $S && k patch -f $S --field-manager=kubectl-edit --type=json -p '[{"op":"remove","path":"/data/API_TOKEN"}]' >/dev/null && save $S secret-key-removed

V=service.manifest.json
fresh $V && save $V service-in-sync
fresh $V && edit $V kubectl-edit '{"spec":{"ports":[{"port":80,"targetPort":8081}]}}' && save $V service-edited

k delete namespace "$NS" --wait=false >/dev/null
