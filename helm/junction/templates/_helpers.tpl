{{/* Names and labels shared by every template. */}}
{{- define "junction.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "junction.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "junction.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "junction.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "junction.selector" -}}
app.kubernetes.io/name: {{ include "junction.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "junction.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "junction.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "junction.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "junction.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "junction.fullname" .) -}}
{{- end -}}

{{/* The environment every Junction container reads its settings from. */}}
{{- define "junction.envFrom" -}}
- configMapRef:
    name: {{ include "junction.fullname" . }}
- secretRef:
    name: {{ include "junction.secretName" . }}
{{- end -}}

{{/* Writable places under a read-only root filesystem. */}}
{{- define "junction.volumes" -}}
- name: tmp
  emptyDir: {}
- name: var
  emptyDir: {}
{{- end -}}

{{- define "junction.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: var
  mountPath: /var/lib/junction
{{- end -}}

{{- define "junction.pod" -}}
serviceAccountName: {{ include "junction.serviceAccountName" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}
