import { type Static, Type } from '@sinclair/typebox';
import { IdentityConfigSchema } from '../identity/config.js';
import { SIGNING_ALGORITHMS } from '../policy/bundle-signature.js';
import { oneOf } from '../validation.js';

/** A secret is always a reference, never a value written in the file. */
export const SecretRef = Type.Union(
  [
    Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'a secret reference: { env: NAME } or { file: path }' },
);
export type SecretRef = Static<typeof SecretRef>;

const Listen = Type.String({ pattern: '^[^\\s:]+:\\d{1,5}$', description: 'host:port' });

const BundleSourceSchema = Type.Object(
  {
    path: Type.Optional(
      Type.String({ minLength: 1, description: 'a bundle .tar.gz file or a bundle directory' }),
    ),
    url: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description: 'a bundle server URL (OPA bundle protocol)',
      }),
    ),
    poll_seconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10 }),
    long_poll_seconds: Type.Integer({ minimum: 0, maximum: 3600, default: 60 }),
    auth_token: Type.Optional(SecretRef),
  },
  { additionalProperties: false },
);

const Address = Type.String({ pattern: '^[^\\s]+:\\d{1,5}$', description: 'host:port' });

export const EndpointSchema = Type.Object(
  {
    protocol: Type.String({
      minLength: 1,
      description: 'a registered protocol adapter, e.g. postgres',
    }),
    listen: Listen,
    tls: Type.Optional(
      Type.Object({ cert: SecretRef, key: SecretRef }, { additionalProperties: false }),
    ),
    allow_plaintext_on_loopback: Type.Boolean({
      default: false,
      description: 'accept tokens without TLS from loopback clients (development only)',
    }),
    max_message_bytes: Type.Integer({ minimum: 1024, maximum: 1073741824, default: 67108864 }),
    startup_timeout_seconds: Type.Number({
      minimum: 0.1,
      maximum: 600,
      default: 30,
      description: 'a client must finish TLS and login within this time',
    }),
  },
  { additionalProperties: false },
);
export type EndpointConfig = Static<typeof EndpointSchema>;

export const TargetSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
    protocol: Type.String({ minLength: 1 }),
    address: Address,
    database: Type.Optional(Type.String({ minLength: 1 })),
    labels: Type.Record(Type.String(), Type.String(), { default: {} }),
    allowed_groups: Type.Optional(
      Type.Array(Type.String(), {
        description: 'only identities in one of these groups may open sessions',
      }),
    ),
    tls: Type.Object(
      {
        mode: oneOf(['disable', 'require', 'verify-ca', 'verify-full'], { default: 'verify-full' }),
        ca: Type.Optional(SecretRef),
        servername: Type.Optional(Type.String()),
      },
      { additionalProperties: false, default: {} },
    ),
    credentials: Type.Object(
      { username: Type.String({ minLength: 1 }), password: Type.Optional(SecretRef) },
      { additionalProperties: false },
    ),
    connect_timeout_seconds: Type.Number({ minimum: 0.1, maximum: 300, default: 10 }),
  },
  { additionalProperties: false },
);
export type TargetConfig = Static<typeof TargetSchema>;

export const RecordingSchema = Type.Object(
  {
    directory: Type.String({
      minLength: 1,
      description: 'records root: <directory>/<yyyy-mm-dd>/<session id>/',
    }),
    signing_key: SecretRef,
    fsync_interval_ms: Type.Integer({ minimum: 0, maximum: 60000, default: 1000 }),
    retention_days: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'remove records of sessions older than this; unset keeps them',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RecordingConfig = Static<typeof RecordingSchema>;

export const ConfigSchema = Type.Object(
  {
    gateway: Type.Object(
      {
        id: Type.String({ minLength: 1, default: 'warden' }),
        workers: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 1, maximum: 64 })], {
          default: 'auto',
          description: "gateway processes sharing the endpoints: 'auto' is one per core",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          default: 'info',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    admin: Type.Object(
      {
        listen: Type.Union([Listen, Type.Literal('off')], { default: '127.0.0.1:8181' }),
        token: Type.Optional(SecretRef),
        groups: Type.Array(Type.String(), {
          default: [],
          description: 'identities in these groups (OIDC bearer tokens) may read session records',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    identity: Type.Optional(IdentityConfigSchema),
    recording: Type.Optional(RecordingSchema),
    endpoints: Type.Array(EndpointSchema, { default: [] }),
    targets: Type.Array(TargetSchema, { default: [] }),
    policy: Type.Object(
      {
        entrypoint: Type.String({ default: 'warden/decision' }),
        bundle: BundleSourceSchema,
        verification: Type.Optional(
          Type.Object(
            {
              key: SecretRef,
              algorithm: oneOf(SIGNING_ALGORITHMS, { default: 'RS256' }),
              scope: Type.String({ default: '' }),
            },
            { additionalProperties: false },
          ),
        ),
        decision_logs: Type.Object(
          {
            destination: Type.String({
              minLength: 1,
              default: 'stdout',
              description: "'stdout', 'off' or a file path",
            }),
            erase: Type.Array(Type.String({ pattern: '^/input/' }), { default: [] }),
            upload: Type.Optional(
              Type.Object(
                {
                  url: Type.String({
                    pattern: '^https?://',
                    description: 'collector speaking OPA decision-log upload',
                  }),
                  auth_token: Type.Optional(SecretRef),
                  interval_seconds: Type.Number({ minimum: 0.1, maximum: 3600, default: 5 }),
                  max_buffered: Type.Integer({ minimum: 100, maximum: 10000000, default: 100000 }),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
