{{/* The chart's name. */}}
{{- define "ferry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, the prefix of every object. */}}
{{- define "ferry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "ferry.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ferry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the release's pods. */}}
{{- define "ferry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount Ferry runs as. */}}
{{- define "ferry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ferry.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference. */}}
{{- define "ferry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The server config as Ferry reads it: empty publicUrl left out, defaulting to the Ingress host. */}}
{{- define "ferry.serverConfig" -}}
{{- $config := deepCopy .Values.config }}
{{- if and (not $config.publicUrl) .Values.ingress.enabled }}
{{- $_ := set $config "publicUrl" (printf "%s://%s" (ternary "https" "http" (ne .Values.ingress.tls.secretName "")) .Values.ingress.host) }}
{{- end }}
{{- if not $config.publicUrl }}
{{- $_ := unset $config "publicUrl" }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* An environment variable from a key of an existing Secret. */}}
{{- define "ferry.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end }}

{{/* Where Redis is: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, with credentials from the Secret. */}}
{{- define "ferry.redisEnv" -}}
{{- $redis := .Values.redis }}
{{- if and $redis.sentinel.nodes $redis.cluster.nodes }}
{{- fail "redis: set sentinel.nodes or cluster.nodes, not both" }}
{{- end }}
{{- if $redis.sentinel.nodes }}
- name: REDIS_SENTINELS
  value: {{ join "," $redis.sentinel.nodes | quote }}
- name: REDIS_SENTINEL_NAME
  value: {{ $redis.sentinel.name | quote }}
{{- else if $redis.cluster.nodes }}
- name: REDIS_CLUSTER_NODES
  value: {{ join "," $redis.cluster.nodes | quote }}
{{- else if $redis.urlKey }}
{{ include "ferry.secretEnv" (dict "name" "REDIS_URL" "secret" (required "redis.existingSecret is required with redis.urlKey" $redis.existingSecret) "key" $redis.urlKey) }}
{{- else }}
- name: REDIS_URL
  value: {{ required "redis: set url, sentinel.nodes or cluster.nodes" $redis.url | quote }}
{{- end }}
{{- if $redis.username }}
- name: REDIS_USERNAME
  value: {{ $redis.username | quote }}
{{- end }}
{{- if $redis.passwordKey }}
{{ include "ferry.secretEnv" (dict "name" "REDIS_PASSWORD" "secret" (required "redis.existingSecret is required with redis.passwordKey" $redis.existingSecret) "key" $redis.passwordKey) }}
{{- end }}
{{- if $redis.sentinelPasswordKey }}
{{ include "ferry.secretEnv" (dict "name" "REDIS_SENTINEL_PASSWORD" "secret" (required "redis.existingSecret is required with redis.sentinelPasswordKey" $redis.existingSecret) "key" $redis.sentinelPasswordKey) }}
{{- end }}
{{- if $redis.tls }}
- name: REDIS_TLS
  value: "true"
{{- end }}
{{- end }}

{{/* The queue dashboard's credentials, for the web role only (the dashboard is served there). */}}
{{- define "ferry.adminEnv" -}}
{{- with .Values.admin }}
{{- if .existingSecret }}
{{ include "ferry.secretEnv" (dict "name" "FERRY_ADMIN_USER" "secret" .existingSecret "key" .userKey) }}
{{ include "ferry.secretEnv" (dict "name" "FERRY_ADMIN_PASSWORD" "secret" .existingSecret "key" .passwordKey) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The environment both roles share: Redis, forges, logging. */}}
{{- define "ferry.env" -}}
- name: PORT
  value: "3000"
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- include "ferry.redisEnv" . }}
{{- with .Values.github }}
{{- if .existingSecret }}
{{ include "ferry.secretEnv" (dict "name" "APP_ID" "secret" .existingSecret "key" .appIdKey) }}
{{ include "ferry.secretEnv" (dict "name" "PRIVATE_KEY" "secret" .existingSecret "key" .privateKeyKey) }}
{{ include "ferry.secretEnv" (dict "name" "WEBHOOK_SECRET" "secret" .existingSecret "key" .webhookSecretKey) }}
{{- end }}
{{- if .enterpriseHost }}
- name: GHE_HOST
  value: {{ .enterpriseHost | quote }}
{{- end }}
{{- end }}
{{- with .Values.gitlab }}
{{- if .url }}
- name: GITLAB_URL
  value: {{ .url | quote }}
{{- end }}
{{- if .existingSecret }}
{{ include "ferry.secretEnv" (dict "name" "GITLAB_TOKEN" "secret" .existingSecret "key" .tokenKey) }}
{{ include "ferry.secretEnv" (dict "name" "GITLAB_WEBHOOK_SECRET" "secret" .existingSecret "key" .webhookSecretKey) }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
One role's Deployment. Call with (dict "root" $ "role" "web"|"worker").
*/}}
{{- define "ferry.deployment" -}}
{{- $root := .root }}
{{- $role := .role }}
{{- $values := index $root.Values $role }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "ferry.fullname" $root }}-{{ $role }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "ferry.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $role }}
spec:
  replicas: {{ $values.replicas }}
  selector:
    matchLabels:
      {{- include "ferry.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ $role }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "ferry.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ $role }}
      annotations:
        # Roll the pods when the server config changes.
        checksum/config: {{ include "ferry.serverConfig" $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "ferry.serviceAccountName" $root }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if eq $role "worker" }}
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: ferry
          image: {{ include "ferry.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ $role | quote }}, "--config", "/etc/ferry/config/server.yml"]
          ports:
            - name: http
              containerPort: 3000
              protocol: TCP
          env:
            {{- include "ferry.env" $root | nindent 12 }}
            {{- if eq $role "web" }}
            {{- with (include "ferry.adminEnv" $root | trim) }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- end }}
            {{- if eq $role "worker" }}
            - name: FERRY_CONCURRENCY
              value: {{ $values.concurrency | quote }}
            {{- end }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 20
            timeoutSeconds: 5
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/ferry/config
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- if $root.Values.kubeconfigs.existingSecret }}
            - name: kubeconfigs
              mountPath: /etc/ferry/kubeconfigs
              readOnly: true
            {{- end }}
            {{- if and $root.Values.sops.existingSecret (eq $role "worker") }}
            - name: sops-age
              mountPath: /etc/ferry/age
              readOnly: true
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "ferry.fullname" $root }}-config
        - name: tmp
          emptyDir:
            {{- if eq $role "worker" }}
            sizeLimit: {{ $values.tmpSizeLimit }}
            {{- else }}
            sizeLimit: 256Mi
            {{- end }}
        {{- if $root.Values.kubeconfigs.existingSecret }}
        - name: kubeconfigs
          secret:
            secretName: {{ $root.Values.kubeconfigs.existingSecret }}
            defaultMode: 0440
        {{- end }}
        {{- if and $root.Values.sops.existingSecret (eq $role "worker") }}
        - name: sops-age
          secret:
            secretName: {{ $root.Values.sops.existingSecret }}
            defaultMode: 0440
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* One role's PodDisruptionBudget. Call with (dict "root" $ "role" "web"|"worker"). */}}
{{- define "ferry.pdb" -}}
{{- $root := .root }}
{{- $values := index $root.Values .role }}
{{- if $values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "ferry.fullname" $root }}-{{ .role }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "ferry.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  maxUnavailable: {{ $values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "ferry.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .role }}
{{- end }}
{{- end }}
