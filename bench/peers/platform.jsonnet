// The peer setup in Jsonnet: for each service, the eight objects a platform team writes by
// hand (Namespace, ServiceAccount, Deployment with a hardened container, Service,
// HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy, Istio AuthorizationPolicy),
// as one YAML stream for `kubectl apply -f -`.
//
//   jrsonnet -S --tla-code-file values=services.json bench/peers/platform.jsonnet
//
// `values` is what bench/peers/services.py writes: { platform, services: [...] }.
function(values)
  local platform = values.platform;

  local labels(s) = {
    app: s.name,
    'app.kubernetes.io/name': s.name,
    'app.kubernetes.io/instance': s.name,
    'app.kubernetes.io/version': s.tag,
    'app.kubernetes.io/part-of': platform,
    'app.kubernetes.io/managed-by': 'jsonnet',
  };
  local meta(s) = { name: s.name, namespace: s.name, labels: labels(s) };
  local selector(s) = { app: s.name };
  local peer(name) = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
    podSelector: { matchLabels: { app: name } },
  };

  local probe(p) =
    (if p.type == 'grpc' then { grpc: { port: p.port } }
     else { httpGet: { path: p.path, port: p.port } })
    + { [k]: p[k] for k in ['initialDelaySeconds', 'periodSeconds'] if std.objectHas(p, k) };

  local objects(s) = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: s.name,
        labels: {
          'istio-injection': 'enabled',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'app.kubernetes.io/part-of': platform,
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(s),
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(s),
      spec: {
        selector: { matchLabels: selector(s) },
        template: {
          metadata: { labels: labels(s) },
          spec: {
            serviceAccountName: s.name,
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              fsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [{
              name: s.name,
              image: '%s:%s' % [s.image, s.tag],
              imagePullPolicy: 'Always',
              ports: [
                { name: p.name, containerPort: p.targetPort, protocol: 'TCP' }
                for p in s.ports
              ],
              env: [{ name: k, value: s.env[k] } for k in std.objectFields(s.env)] + [
                {
                  name: c.env,
                  value: '%s.%s.svc.cluster.local:%d' % [c.service, c.service, c.port],
                }
                for c in s.calls
              ],
              readinessProbe: probe(s.probes.readiness),
              livenessProbe: probe(s.probes.liveness),
              resources: s.resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(s),
      spec: {
        type: 'ClusterIP',
        selector: selector(s),
        ports: [
          {
            name: p.name,
            port: p.port,
            targetPort: p.targetPort,
            protocol: 'TCP',
            appProtocol: p.protocol,
          }
          for p in s.ports
        ],
      },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(s),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name },
        minReplicas: s.autoscaling.minReplicas,
        maxReplicas: s.autoscaling.maxReplicas,
        metrics: [{
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: {
              type: 'Utilization',
              averageUtilization: s.autoscaling.targetCPUUtilizationPercentage,
            },
          },
        }],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(s),
      spec: { maxUnavailable: 1, selector: { matchLabels: selector(s) } },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(s),
      spec: {
        podSelector: { matchLabels: selector(s) },
        policyTypes: ['Ingress', 'Egress'],
        [if s.callers != [] then 'ingress']: [
          { from: [peer(c.service)], ports: [{ port: c.port, protocol: 'TCP' }] }
          for c in s.callers
        ],
        egress: [
          {
            to: [{
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            }],
            ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
          },
        ] + [
          { to: [peer(c.service)], ports: [{ port: c.targetPort, protocol: 'TCP' }] }
          for c in s.calls
        ],
      },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: meta(s),
      spec: {
        selector: { matchLabels: selector(s) },
        action: 'ALLOW',
        [if s.callers != [] then 'rules']: [
          {
            from: [{ source: { principals: ['cluster.local/ns/%s/sa/%s' % [c.service, c.service]] } }],
            to: [{ operation: { ports: [std.toString(c.port)] } }],
          }
          for c in s.callers
        ],
      },
    },
  ];

  std.manifestYamlStream(std.flatMap(objects, values.services), quote_keys=false)
