{{/* Names and labels shared by every template. */}}

{{- define "guild.name" -}}
guild-{{ .Values.region }}
{{- end -}}

{{- define "guild.labels" -}}
app.kubernetes.io/part-of: guild
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
guild.example.com/region: {{ .Values.region }}
{{- end -}}

{{- define "guild.selector" -}}
app.kubernetes.io/name: {{ .service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The settings every container of the region reads (secrets come as files, not here). */}}
{{- define "guild.env" -}}
- name: GUILD_REGION
  value: {{ .Values.region | quote }}
- name: NATS_URL
  value: {{ .Values.nats.url | quote }}
- name: GUILD_PEER_REGIONS
  value: {{ .Values.peerRegions | toJson | quote }}
- name: GUILD_STREAM_REPLICAS
  value: {{ .Values.streamReplicas | quote }}
- name: GUILD_EVENT_RETENTION_DAYS
  value: {{ .Values.eventRetentionDays | quote }}
- name: GUILD_SEALING_KEYS_FILE
  value: /run/secrets/guild/sealing/sealing.keys
{{- if .Values.handoverKeysSecret }}
- name: GUILD_HANDOVER_KEYS_FILE
  value: /run/secrets/guild/handover/handover.keys
{{- end }}
{{- if .Values.nats.tlsSecret }}
- name: GUILD_NATS_TLS_CA
  value: /run/secrets/guild/tls/ca.crt
- name: GUILD_NATS_TLS_CERT
  value: /run/secrets/guild/tls/tls.crt
- name: GUILD_NATS_TLS_KEY
  value: /run/secrets/guild/tls/tls.key
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "guild.tlsVolume" -}}
{{- if .Values.nats.tlsSecret }}
- name: nats-tls
  secret:
    secretName: {{ .Values.nats.tlsSecret }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "guild.tlsMount" -}}
{{- if .Values.nats.tlsSecret }}
- name: nats-tls
  mountPath: /run/secrets/guild/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "guild.handoverVolume" -}}
{{- if .Values.handoverKeysSecret }}
- name: handover-keys
  secret:
    secretName: {{ .Values.handoverKeysSecret }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "guild.handoverMount" -}}
{{- if .Values.handoverKeysSecret }}
- name: handover-keys
  mountPath: /run/secrets/guild/handover
  readOnly: true
{{- end }}
{{- end -}}
