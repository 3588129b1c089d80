{{/*
The chart's name, or nameOverride.
*/}}
{{- define "asyncjob.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name that prefixes every object: fullnameOverride, else the release
name when it contains the chart name, else <release>-<chart>. Truncated so that
"<fullname>-api-key-generated" still fits in 63 characters.
*/}}
{{- define "asyncjob.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 42 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 42 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 42 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "asyncjob.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "asyncjob.labels" -}}
helm.sh/chart: {{ include "asyncjob.chart" . }}
app.kubernetes.io/name: {{ include "asyncjob.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "asyncjob.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: asyncjob
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels of a component's objects; call with (dict "root" $ "component" "api").
*/}}
{{- define "asyncjob.componentLabels" -}}
{{ include "asyncjob.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Selector labels of a component; call with (dict "root" $ "component" "api").
*/}}
{{- define "asyncjob.selectorLabels" -}}
app.kubernetes.io/name: {{ include "asyncjob.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The image tag: image.tag, else the chart's appVersion.
*/}}
{{- define "asyncjob.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "asyncjob.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "asyncjob.imageTag" .) }}
{{- end }}

{{/*
Object names.
*/}}
{{- define "asyncjob.controller.fullname" -}}
{{- printf "%s-controller" (include "asyncjob.fullname" .) }}
{{- end }}

{{- define "asyncjob.api.fullname" -}}
{{- printf "%s-api" (include "asyncjob.fullname" .) }}
{{- end }}

{{- define "asyncjob.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "asyncjob.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "asyncjob.api.serviceAccountName" -}}
{{- if .Values.api.serviceAccount.create }}
{{- default (include "asyncjob.api.fullname" .) .Values.api.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.api.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret with the API-key hashes: api.auth.apiKeys.existingSecret, else the
one the chart generates.
*/}}
{{- define "asyncjob.api.keysSecretName" -}}
{{- default (printf "%s-api-keys" (include "asyncjob.fullname" .)) .Values.api.auth.apiKeys.existingSecret }}
{{- end }}

{{- define "asyncjob.api.generatedKeySecretName" -}}
{{- printf "%s-api-key-generated" (include "asyncjob.fullname" .) }}
{{- end }}

{{/*
Whether the chart generates an API key: apikey mode without an existing Secret.
*/}}
{{- define "asyncjob.api.generateKey" -}}
{{- if and (eq .Values.api.auth.mode "apikey") (not .Values.api.auth.apiKeys.existingSecret) }}true{{ end }}
{{- end }}

{{/*
The RBAC rules controller-gen generated (files/rbac, copied by `make
manifests`): the rules of the document of the given kind. Call with
(dict "root" $ "file" "files/rbac/api-role.yaml" "kind" "Role").
*/}}
{{- define "asyncjob.rbacRules" -}}
{{- $rules := list }}
{{- $found := false }}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" (.root.Files.Get .file) -1 }}
{{- $obj := fromYaml $doc }}
{{- if and $obj (eq (get $obj "kind") $.kind) }}
{{- $rules = get $obj "rules" }}
{{- $found = true }}
{{- end }}
{{- end }}
{{- if not $found }}
{{- fail (printf "%s has no %s: run `make manifests`" .file .kind) }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/*
Scheduling of a component's pods: the component's nodeSelector, tolerations
and affinity, each falling back to the global one. Call with
(dict "root" $ "values" .Values.api).
*/}}
{{- define "asyncjob.scheduling" -}}
{{- with (default .root.Values.nodeSelector .values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default .root.Values.tolerations .values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default .root.Values.affinity .values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
A PodDisruptionBudget's minAvailable or maxUnavailable. Call with the
component's podDisruptionBudget values.
*/}}
{{- define "asyncjob.pdbBudget" -}}
{{- if ne (toString .minAvailable) "" }}
minAvailable: {{ .minAvailable }}
{{- else }}
maxUnavailable: {{ .maxUnavailable }}
{{- end }}
{{- end }}

{{/*
The Secret with the worker token key: workerToken.existingSecret, else the one
the chart generates. Its entry `key` is mounted into the controller and the API.
*/}}
{{- define "asyncjob.workerToken.secretName" -}}
{{- default (printf "%s-worker-token-key" (include "asyncjob.fullname" .)) .Values.workerToken.existingSecret }}
{{- end }}

{{/*
Where the controller and the API read the worker token key.
*/}}
{{- define "asyncjob.workerToken.dir" -}}
/etc/asyncjob/worker-token
{{- end }}

{{/*
The pod volume and the container mount of the worker token key.
*/}}
{{- define "asyncjob.workerToken.volume" -}}
- name: worker-token-key
  secret:
    secretName: {{ include "asyncjob.workerToken.secretName" . }}
    items:
      - key: key
        path: key
{{- end }}

{{- define "asyncjob.workerToken.volumeMount" -}}
- name: worker-token-key
  mountPath: {{ include "asyncjob.workerToken.dir" . }}
  readOnly: true
{{- end }}

{{/*
The base URL job pods call back: controller.callbackURL, else the API Service.
*/}}
{{- define "asyncjob.callbackURL" -}}
{{- default (printf "http://%s.%s.svc:%v" (include "asyncjob.api.fullname" .) .Release.Namespace .Values.api.service.port) .Values.controller.callbackURL }}
{{- end }}
