{{/* The labels of every object of a service; call with (dict "s" $s "root" $). */}}
{{- define "platform.labels" -}}
app: {{ .s.name }}
app.kubernetes.io/name: {{ .s.name }}
app.kubernetes.io/instance: {{ .s.name }}
app.kubernetes.io/version: {{ .s.tag | quote }}
app.kubernetes.io/part-of: {{ .root.Values.platform }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* metadata: name, namespace and labels of a service's object. */}}
{{- define "platform.metadata" -}}
metadata:
  name: {{ .s.name }}
  namespace: {{ .s.name }}
  labels:
    {{- include "platform.labels" . | nindent 4 }}
{{- end }}

{{/* A probe: gRPC or HTTP GET, with its optional timings. */}}
{{- define "platform.probe" -}}
{{- if eq .type "grpc" }}
grpc:
  port: {{ .port }}
{{- else }}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{- end }}
{{- with .initialDelaySeconds }}
initialDelaySeconds: {{ . }}
{{- end }}
{{- with .periodSeconds }}
periodSeconds: {{ . }}
{{- end }}
{{- end }}

{{/* A peer's pods in their own namespace, for NetworkPolicy rules. */}}
{{- define "platform.peer" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ . }}
  podSelector:
    matchLabels:
      app: {{ . }}
{{- end }}
