export type { SecurityActor } from './actor.js';
export { currentActor } from './actor.js';
export type {
  ApiKeys,
  ApiKeysOptions,
  IssueApiKeyInput,
  IssuedApiKey,
  ServerSecret,
} from './api-keys.js';
export { createApiKeys } from './api-keys.js';
export type { AuthPartOptions } from './auth-part.js';
export { authPart } from './auth-part.js';
export type { CorsPartOptions, OriginRule } from './cors-part.js';
export { corsPart } from './cors-part.js';
export type { CspDirectives } from './csp.js';
export { API_CSP, cspHash, HTML_CSP } from './csp.js';
export type { ApiKeyError, JwtError, SecurityError, SecurityErrorCode } from './errors.js';
export { SecurityErrors } from './errors.js';
export type { FetchMetadataOptions } from './fetch-metadata-part.js';
export { fetchMetadataPart } from './fetch-metadata-part.js';
export type {
  JwtActor,
  JwtVerifier,
  JwtVerifierOptions,
  VerifiedJwt,
} from './jwt-verifier.js';
export { createJwtVerifier } from './jwt-verifier.js';
export type { ApiKeyInfo, ApiKeyRecord, ApiKeyStore } from './key-store.js';
export { memoryKeyStore } from './memory-key-store.js';
export type { ApiKeyTableOptions, PostgresKeyStoreOptions } from './postgres-key-store.js';
export {
  apiKeyMigrationSql,
  applyApiKeyMigration,
  postgresKeyStore,
} from './postgres-key-store.js';
export type {
  JwksError,
  RemoteJwks,
  RemoteJwksOptions,
  RemoteJwksStatus,
} from './remote-jwks.js';
export { remoteJwks } from './remote-jwks.js';
export type {
  RedisPublisher,
  RedisRevocationChannelOptions,
  RedisSubscriber,
  RevocationChannel,
} from './revocation-channel.js';
export { redisRevocationChannel } from './revocation-channel.js';
export type { ResolvedRouteAuth, RouteAuth } from './route-auth.js';
export { authMeta, routeAuth } from './route-auth.js';
export type {
  HstsOptions,
  RouteSecurityHeaders,
  SecurityHeadersOptions,
  SecurityProfile,
} from './security-headers-part.js';
export {
  cspNonce,
  routeSecurityHeaders,
  securityHeadersMeta,
  securityHeadersPart,
} from './security-headers-part.js';
export type { SqlClient } from './sql-client.js';
