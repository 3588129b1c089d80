{{/*
The artifact store (docs/artifacts.md, "Operating the store"): the
gocloud.dev/blob URL both commands get as --artifact-store-url, and what the
pods need to reach it (a volume, or credentials from a Secret).
*/}}

{{- define "asyncjob.artifacts.enabled" -}}
{{- if ne .Values.artifacts.store.type "none" }}true{{ end }}
{{- end }}

{{/*
The store's URL. filesystem: file://MOUNTPATH?no_tmp_dir=true (no_tmp_dir
keeps partial writes on the volume; in os.TempDir the final rename would
cross filesystems). s3: s3://BUCKET?region=...[&endpoint=...][&use_path_style=true];
credentials never appear in it, they come from the environment.
*/}}
{{- define "asyncjob.artifacts.url" -}}
{{- $st := .Values.artifacts.store }}
{{- if eq $st.type "filesystem" -}}
file://{{ $st.filesystem.mountPath }}?no_tmp_dir=true
{{- else if eq $st.type "s3" -}}
{{- $q := list (printf "region=%s" (urlquery $st.s3.region)) }}
{{- with $st.s3.endpoint }}{{ $q = append $q (printf "endpoint=%s" (urlquery .)) }}{{ end }}
{{- if $st.s3.pathStyle }}{{ $q = append $q "use_path_style=true" }}{{ end -}}
s3://{{ required "artifacts.store.s3.bucket is required with artifacts.store.type=s3" $st.s3.bucket }}?{{ join "&" $q }}
{{- end }}
{{- end }}

{{- define "asyncjob.artifacts.claimName" -}}
{{- default (printf "%s-artifacts" (include "asyncjob.fullname" .)) .Values.artifacts.store.filesystem.existingClaim }}
{{- end }}

{{/*
The pod security context of both components: podSecurityContext, plus, with
the filesystem store, an fsGroup (the image's group unless one is set) so
the non-root pods may write to a freshly provisioned volume.
*/}}
{{- define "asyncjob.podSecurityContext" -}}
{{- $psc := deepCopy .Values.podSecurityContext }}
{{- if eq .Values.artifacts.store.type "filesystem" }}
{{- if not (hasKey $psc "fsGroup") }}
{{- $_ := set $psc "fsGroup" (default 65532 $psc.runAsGroup) }}
{{- end }}
{{- if not (hasKey $psc "fsGroupChangePolicy") }}
{{- $_ := set $psc "fsGroupChangePolicy" "OnRootMismatch" }}
{{- end }}
{{- end }}
{{- toYaml $psc }}
{{- end }}

{{/* Container args of both commands. */}}
{{- define "asyncjob.artifacts.args" -}}
{{- if include "asyncjob.artifacts.enabled" . -}}
- {{ printf "--artifact-store-url=%s" (include "asyncjob.artifacts.url" .) | quote }}
{{- end }}
{{- end }}

{{/* The API's own artifact flags: limits and downloads. */}}
{{- define "asyncjob.artifacts.apiArgs" -}}
{{- if include "asyncjob.artifacts.enabled" . }}
{{- $a := .Values.artifacts -}}
- --artifact-max-file-bytes={{ int64 $a.maxFileBytes }}
- --artifact-max-request-bytes={{ int64 $a.maxRequestBytes }}
- --artifact-max-output-bytes={{ int64 $a.maxOutputBytes }}
- --artifact-redirect={{ $a.redirect }}
- --artifact-url-expiry={{ $a.urlExpiry }}
{{- end }}
{{- end }}

{{/* Credentials of the S3 store, from the Secret's entries. */}}
{{- define "asyncjob.artifacts.env" -}}
{{- $st := .Values.artifacts.store }}
{{- if and (eq $st.type "s3") $st.s3.credentials.existingSecret -}}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $st.s3.credentials.existingSecret }}
      key: {{ $st.s3.credentials.accessKeyIDKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $st.s3.credentials.existingSecret }}
      key: {{ $st.s3.credentials.secretAccessKeyKey }}
{{- end }}
{{- end }}

{{- define "asyncjob.artifacts.volume" -}}
{{- if eq .Values.artifacts.store.type "filesystem" -}}
- name: artifacts
  persistentVolumeClaim:
    claimName: {{ include "asyncjob.artifacts.claimName" . }}
{{- end }}
{{- end }}

{{- define "asyncjob.artifacts.volumeMount" -}}
{{- if eq .Values.artifacts.store.type "filesystem" -}}
- name: artifacts
  mountPath: {{ .Values.artifacts.store.filesystem.mountPath }}
{{- end }}
{{- end }}
